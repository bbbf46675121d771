//! Frame ranges as the store keeps them: the normalised `FrameSet` spelling, whatever wrote
//! them (publish, ingest, an older shotline), so that two spellings of the same frames compare
//! equal and every reader can parse them back.

use std::path::Path;

use crate::sql::params;
use shotline_frames::FrameSet;

use crate::error::{Result, SqlContext, StoreError};

/// Frame numbers the store accepts (shot in/out, first/last frame): wide enough for any real
/// timeline (frame 1001 at 24 fps for 1,000 years is under 10^12), small enough that a length
/// or a sum of two frames can never overflow an `i64`.
pub const MAX_FRAME_ABS: i64 = 1_000_000_000_000;

/// Checks that `frame` (named `what` in the error) is within ±[`MAX_FRAME_ABS`].
pub(crate) fn check_frame(what: &'static str, frame: i64) -> Result<()> {
    if (-MAX_FRAME_ABS..=MAX_FRAME_ABS).contains(&frame) {
        Ok(())
    } else {
        Err(StoreError::Invalid {
            what,
            value: frame.to_string(),
            expected: format!("a frame number from -{MAX_FRAME_ABS} to {MAX_FRAME_ABS}"),
        })
    }
}

/// The normalised spelling of a frame-range text (`""` stays `""`: no frames); an invalid text
/// is an error naming `what`.
pub(crate) fn normalise(what: &'static str, text: &str) -> Result<String> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(String::new());
    }
    FrameSet::parse(t)
        .map(|s| s.to_string())
        .map_err(|e| StoreError::Invalid {
            what,
            value: text.to_string(),
            expected: format!("a frame range such as 1001-1100 or 1001-1003,1005 ({e})"),
        })
}

/// Migration step: rewrites every stored `frame_range` and `missing_frames` in the normalised
/// spelling. A text that does not parse is left as it is (it is history; `db check` still shows
/// it) rather than failing the whole migration.
pub(crate) fn normalise_stored_ranges(tx: &crate::sql::Conn, path: &Path) -> Result<()> {
    let rows: Vec<(i64, String, String)> = {
        let mut st = tx
            .prepare("SELECT id, frame_range, missing_frames FROM versions")
            .db(path)?;
        let rows = st
            .query_map(params![], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .db(path)?;
        rows.collect::<crate::sql::Result<_>>().db(path)?
    };
    for (id, range, missing) in rows {
        let new_range = normalise("frame range", &range).unwrap_or_else(|_| range.clone());
        let new_missing = normalise("missing frames", &missing).unwrap_or_else(|_| missing.clone());
        if new_range != range || new_missing != missing {
            tx.execute(
                "UPDATE versions SET frame_range = ?2, missing_frames = ?3 WHERE id = ?1",
                params![id, new_range, new_missing],
            )
            .db(path)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_are_normalised() {
        assert_eq!(normalise("r", "1001-1100").unwrap(), "1001-1100");
        assert_eq!(normalise("r", "").unwrap(), "");
        assert_eq!(
            normalise("r", "1001,1002,1003,1005").unwrap(),
            normalise("r", "1001-1003,1005").unwrap()
        );
        let e = normalise("frame range", "10-x").unwrap_err();
        assert!(e.to_string().contains("frame range"), "{e}");
        assert!(check_frame("in", i64::MIN).is_err());
        assert!(check_frame("in", 1001).is_ok());
    }
}
