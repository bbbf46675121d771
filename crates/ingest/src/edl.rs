//! CMX3600 EDL parsing: which shot each source clip belongs to.
//!
//! Editorial hands over an EDL rather than renaming camera originals, so `--edl` maps a clip
//! (the `* FROM CLIP NAME:` / `* SOURCE FILE:` line, or the reel) to a shot named by the event's
//! `* COMMENT:` or `* LOC:` marker.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A clip → shot table read from an EDL.
#[derive(Debug, Clone, Default)]
pub struct EdlMap {
    /// Lower-cased clip name (with and without extension) → (shot, EDL line).
    entries: BTreeMap<String, Vec<(String, usize)>>,
    /// The file read.
    pub path: PathBuf,
    /// Number of events read.
    pub events: usize,
}

/// What the EDL says about a clip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EdlLookup {
    /// Not in the EDL.
    Absent,
    /// One shot.
    Shot {
        /// The shot name as written.
        shot: String,
        /// Line of the event.
        line: usize,
    },
    /// Used in several shots: refusing to guess.
    Ambiguous(Vec<(String, usize)>),
}

/// An EDL that cannot be read; names the file and line.
#[derive(Debug, thiserror::Error)]
pub enum EdlError {
    /// The file could not be read.
    #[error("cannot read EDL {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A malformed event line.
    #[error("EDL {path} line {line}: {message}: {text:?}")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What was expected.
        message: String,
        /// The line.
        text: String,
    },
}

#[derive(Default)]
struct Event {
    line: usize,
    reel: String,
    clip: Option<String>,
    shot: Option<String>,
}

fn is_tc(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 11
        && b.iter().enumerate().all(|(i, c)| match i {
            2 | 5 => *c == b':',
            8 => *c == b':' || *c == b';' || *c == b'.',
            _ => c.is_ascii_digit(),
        })
}

/// Refuses binary data: an EDL is text, so a control character (other than tab, form feed
/// and line ends) or a replaced invalid byte means the file is something else.
fn check_is_text(text: &str, path: &Path) -> Result<(), EdlError> {
    for (i, line) in text.lines().enumerate() {
        let bad = line.chars().position(|c| {
            (c.is_control() && !matches!(c, '\t' | '\r' | '\x0c')) || c == '\u{FFFD}'
        });
        if let Some(col) = bad {
            return Err(EdlError::Syntax {
                path: path.to_path_buf(),
                line: i + 1,
                message: format!(
                    "not a text EDL (a binary or non-text character at column {})",
                    col + 1
                ),
                text: line.chars().take(40).collect(),
            });
        }
    }
    Ok(())
}

impl EdlMap {
    /// Reads an EDL file.
    pub fn read(path: &Path) -> Result<EdlMap, EdlError> {
        let bytes = std::fs::read(path).map_err(|source| EdlError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let text = String::from_utf8_lossy(&bytes);
        EdlMap::parse(&text, path)
    }

    /// Parses EDL text; `path` is only used in messages. Text that is not an EDL (binary
    /// bytes, or no event line at all) is an error, never an empty map that matches nothing.
    pub fn parse(text: &str, path: &Path) -> Result<EdlMap, EdlError> {
        check_is_text(text, path)?;
        let mut events: Vec<Event> = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line_no = i + 1;
            let line = raw.trim();
            if line.is_empty() {
                continue;
            }
            let upper = line.to_ascii_uppercase();
            if upper.starts_with("TITLE:") || upper.starts_with("FCM:") {
                continue;
            }
            if let Some(rest) = line.strip_prefix('*') {
                let rest = rest.trim();
                let Some(ev) = events.last_mut() else {
                    continue;
                };
                let (key, value) = match rest.split_once(':') {
                    Some((k, v)) => (k.trim().to_ascii_uppercase(), v.trim()),
                    None => continue,
                };
                match key.as_str() {
                    "FROM CLIP NAME" | "SOURCE FILE" | "FROM FILE"
                        if ev.clip.is_none() && !value.is_empty() =>
                    {
                        let name = Path::new(value)
                            .file_name()
                            .map(|n| n.to_string_lossy().into_owned())
                            .unwrap_or_else(|| value.to_string());
                        ev.clip = Some(name);
                    }
                    "COMMENT" => {
                        if let Some(tok) = value.split_whitespace().next() {
                            ev.shot.get_or_insert_with(|| tok.to_string());
                        }
                    }
                    "LOC" => {
                        // `* LOC: 01:00:02:00 RED SH010`: the marker name is the last token.
                        let toks: Vec<&str> = value.split_whitespace().collect();
                        if toks.len() >= 2 && is_tc(toks[0]) {
                            if let Some(last) = toks.last() {
                                ev.shot.get_or_insert_with(|| last.to_string());
                            }
                        }
                    }
                    _ => {}
                }
                continue;
            }
            let first = line.split_whitespace().next().unwrap_or("");
            if first.chars().all(|c| c.is_ascii_digit()) {
                let toks: Vec<&str> = line.split_whitespace().collect();
                let syntax = |message: &str| EdlError::Syntax {
                    path: path.to_path_buf(),
                    line: line_no,
                    message: message.to_string(),
                    text: raw.to_string(),
                };
                if toks.len() < 8 {
                    return Err(syntax(
                        "expected an event: NUM REEL TRACK TRANSITION SRC_IN SRC_OUT REC_IN REC_OUT",
                    ));
                }
                let tcs = &toks[toks.len() - 4..];
                if !tcs.iter().all(|t| is_tc(t)) {
                    return Err(syntax("expected four timecodes HH:MM:SS:FF at the end"));
                }
                events.push(Event {
                    line: line_no,
                    reel: toks[1].to_string(),
                    ..Event::default()
                });
                continue;
            }
            if upper.starts_with("M2") || upper.starts_with("SPLIT") || upper.starts_with(">>>") {
                continue;
            }
        }
        if events.is_empty() {
            return Err(EdlError::Syntax {
                path: path.to_path_buf(),
                line: text.lines().count().max(1),
                message: "no event found: expected CMX 3600 event lines (NUM REEL TRACK TRANSITION SRC_IN SRC_OUT REC_IN REC_OUT)".into(),
                text: String::new(),
            });
        }
        let mut map = EdlMap {
            entries: BTreeMap::new(),
            path: path.to_path_buf(),
            events: events.len(),
        };
        for ev in events {
            let Some(shot) = ev.shot else { continue };
            let clip = ev.clip.unwrap_or(ev.reel);
            if clip.eq_ignore_ascii_case("BL") || clip.eq_ignore_ascii_case("AX") {
                continue;
            }
            let mut keys = vec![clip.to_ascii_lowercase()];
            if let Some((stem, _)) = clip.rsplit_once('.') {
                keys.push(stem.to_ascii_lowercase());
            }
            for k in keys {
                let list = map.entries.entry(k).or_default();
                if !list.iter().any(|(s, _)| s == &shot) {
                    list.push((shot.clone(), ev.line));
                }
            }
        }
        Ok(map)
    }

    /// The shot for a clip, tried by each of `names` (file name, base name) in turn.
    pub fn lookup(&self, names: &[&str]) -> EdlLookup {
        for n in names {
            if let Some(list) = self.entries.get(&n.to_ascii_lowercase()) {
                return match list.as_slice() {
                    [(shot, line)] => EdlLookup::Shot {
                        shot: shot.clone(),
                        line: *line,
                    },
                    _ => EdlLookup::Ambiguous(list.clone()),
                };
            }
        }
        EdlLookup::Absent
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EDL: &str = "TITLE: CUT_V3\nFCM: NON-DROP FRAME\n\n\
001  A001C003 V     C        01:00:00:00 01:00:05:00 01:00:00:00 01:00:05:00\n\
* FROM CLIP NAME: A001C003_230101_R1AB.mov\n\
* COMMENT: SH010 plate\n\
002  B002C001 V     C        02:00:00:00 02:00:02:00 01:00:05:00 01:00:07:00\n\
* LOC: 01:00:05:12 RED SH020\n\
003  A001C003 V     D 012    01:00:06:00 01:00:07:00 01:00:07:00 01:00:08:00\n\
* FROM CLIP NAME: A001C003_230101_R1AB.mov\n\
* COMMENT: SH030\n";

    #[test]
    fn maps_clip_names_and_reels_to_shots() {
        let m = EdlMap::parse(EDL, Path::new("cut.edl")).unwrap();
        assert_eq!(m.events, 3);
        assert_eq!(
            m.lookup(&["B002C001"]),
            EdlLookup::Shot {
                shot: "SH020".into(),
                line: 7
            }
        );
        assert!(matches!(
            m.lookup(&["a001c003_230101_r1ab.mov"]),
            EdlLookup::Ambiguous(v) if v.len() == 2
        ));
        assert_eq!(m.lookup(&["nothing"]), EdlLookup::Absent);
    }

    #[test]
    fn bad_event_names_line() {
        let e = EdlMap::parse("001  A001 V C 01:00:00:00\n", Path::new("x.edl")).unwrap_err();
        let s = e.to_string();
        assert!(s.contains("x.edl line 1"), "{s}");
    }

    #[test]
    fn binary_or_eventless_files_are_errors_naming_the_line() {
        let p = Path::new("cut.edl");
        let e = EdlMap::parse("TITLE: x\n\u{1}\u{2}garbage\n", p).unwrap_err();
        assert!(
            e.to_string().contains("line 2") && e.to_string().contains("not a text EDL"),
            "{e}"
        );
        let lossy = String::from_utf8_lossy(&[0x54, 0xff, 0xfe, 0x0a]).into_owned();
        assert!(EdlMap::parse(&lossy, p).is_err());
        let e = EdlMap::parse("TITLE: only a title\n", p).unwrap_err();
        assert!(e.to_string().contains("no event found"), "{e}");
    }
}
