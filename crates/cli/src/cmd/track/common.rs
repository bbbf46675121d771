//! What every tracking command needs: the database path, an open store, the acting user.

use std::path::PathBuf;

use anyhow::{Context as _, Result};
use shotline_frames::FrameSet;
use shotline_store::{Actor, Store};

use crate::context::Ctx;

/// The database file: `$SHOTLINE_DB`, else `store.path`, else `<root>/.shotline/shotline.db`.
pub fn db_path(ctx: &Ctx) -> PathBuf {
    shotline_store::default_db_path(&ctx.project_root(), &ctx.config.config.store)
}

fn timeout(ctx: &Ctx) -> u64 {
    ctx.config.config.store.busy_timeout_ms
}

/// Opens the project database for a command that writes (migrating an older schema).
pub fn open_rw(ctx: &Ctx) -> Result<Store> {
    let path = db_path(ctx);
    tracing::info!(db = %path.display(), "opening tracking database");
    Ok(Store::open(&path, timeout(ctx))?)
}

/// Opens the project database for a command that only reads (writes nothing).
pub fn open_ro(ctx: &Ctx) -> Result<Store> {
    let path = db_path(ctx);
    tracing::info!(db = %path.display(), "opening tracking database read-only");
    Ok(Store::open_read_only(&path, timeout(ctx))?)
}

/// The acting user (`$SHOTLINE_USER` or the login), this host and process.
pub fn actor() -> Actor {
    let a = Actor::from_env();
    tracing::debug!(user = %a.user, host = %a.host, "acting user");
    a
}

/// Parses a state name, with the accepted list in the error.
pub fn state(text: &str) -> Result<shotline_store::State> {
    text.parse::<shotline_store::State>()
        .with_context(|| format!("--state {text}"))
}

/// The span verification expects for `publish --range`.
///
/// Why only contiguous sets: `shotline_qc::verify_sequence_with` takes `FIRST..=LAST` and
/// reports every frame in between that is absent, so a stepped set such as `1001-1100x2` would
/// have its skipped frames reported missing. It is refused with the reason instead.
pub fn expected_span(range: &FrameSet) -> Result<std::ops::RangeInclusive<i64>> {
    let (Some(first), Some(last)) = (range.min(), range.max()) else {
        anyhow::bail!("invalid --range: no frames");
    };
    let span = (last as i128 - first as i128 + 1) as u128;
    if u128::from(range.len()) != span {
        anyhow::bail!(
            "invalid --range {range}: publish verifies a contiguous span of frames \
             (like {first}-{last}); {} of the {span} frames in between are not in the set",
            span - u128::from(range.len())
        );
    }
    Ok(first..=last)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(text: &str) -> Result<(i64, i64)> {
        let set: FrameSet = text.parse()?;
        let r = expected_span(&set)?;
        Ok((*r.start(), *r.end()))
    }

    #[test]
    fn ranges() {
        assert_eq!(span("1001-1100").unwrap(), (1001, 1100));
        assert_eq!(span("-5--1").unwrap(), (-5, -1));
        assert_eq!(span("7").unwrap(), (7, 7));
        assert_eq!(span("1100-1001").unwrap(), (1001, 1100));
        assert_eq!(span("1001-1050,1051-1100").unwrap(), (1001, 1100));
        assert_eq!(span("1-10:3").unwrap(), (1, 10));
        let err = span("1001-1100x2").unwrap_err().to_string();
        assert!(
            err.contains("contiguous") && err.contains("49 of the 99"),
            "{err}"
        );
        assert!(span("a-b").is_err());
    }
}
