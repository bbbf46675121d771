//! Sequence patterns as people type them (`plate.####.exr`, `plate.%04d.exr 1001-1100`,
//! `plate.1001-1100#.exr`, `plate.$F4.exr`, `plate.@@@@.exr`) and finding one on disk.
//!
//! Padding tokens (REFERENCE.md): a lone `#` is 4 digits (fileseq, RV, Katana); a run of two or
//! more `#` counts one digit each (Nuke, and how people write padding by hand); `@` is one digit
//! each; `%04d` / `%d`; Houdini `$F4` / `$F` / `${F4}`; `<UDIM>` is 4 digits. When a name holds
//! several tokens the last one is the frame. A frame range may sit right before a `#`/`@` token
//! (`plate.1001-1100#.exr`) or follow the pattern after a space (`plate.%04d.exr 1001-1100`).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use shotline_frames::FrameSet;

use crate::name::{self, MAX_DIGITS};
use crate::os;
use crate::sequence::{self, frames_from_sorted, PadStyle, Sequence};

/// A parsed sequence pattern: where and what to look for, and optionally which frames.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SequencePattern {
    /// Directory part (`.` when the pattern has none).
    pub dir: PathBuf,
    /// Name before the frame.
    pub head: OsString,
    /// Name after the frame.
    pub tail: OsString,
    /// Digits the frame is padded to (1 = unpadded).
    pub padding: usize,
    /// The frames expected, when the pattern named them.
    pub range: Option<FrameSet>,
}

/// A pattern that cannot be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid sequence pattern {pattern:?}: {message}")]
pub struct PatternError {
    /// The pattern as given.
    pub pattern: String,
    /// What was wrong and what was expected.
    pub message: String,
}

/// The directory of a pattern could not be listed.
#[derive(Debug, thiserror::Error)]
#[error("cannot read directory {}: {source}", dir.display())]
pub struct FindError {
    /// The directory.
    pub dir: PathBuf,
    /// The OS error.
    #[source]
    pub source: std::io::Error,
}

/// A padding token found in a file name: byte span, padding, and whether a frame range may
/// stand right before it.
struct Token {
    start: usize,
    end: usize,
    padding: Result<usize, String>,
    hashy: bool,
    /// A `%0Nd` token: `%%` elsewhere in the name is a literal `%`.
    printf: bool,
}

/// Scans `name` for padding tokens and returns the last one.
fn last_token(name: &str) -> Option<Token> {
    let b = name.as_bytes();
    let mut found = None;
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"%%") {
            i += 2; // a literal `%` in printf syntax
            continue;
        }
        let tok = match b[i] {
            b'#' | b'@' => {
                let end = i + b[i..]
                    .iter()
                    .take_while(|c| matches!(c, b'#' | b'@'))
                    .count();
                let run = &b[i..end];
                let padding = if run == b"#" {
                    Ok(4)
                } else if run.iter().all(|&c| c == run[0]) {
                    Ok(run.len())
                } else {
                    Err(format!(
                        "mixed padding characters {:?}: use `#` (4 digits), `####` or `@@@@` (one digit each)",
                        &name[i..end]
                    ))
                };
                Some(Token {
                    start: i,
                    end,
                    padding,
                    hashy: true,
                    printf: false,
                })
            }
            b'%' => {
                let digits = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
                let end = i + 1 + digits;
                if b.get(end) == Some(&b'd') {
                    let spec = &name[i + 1..end];
                    let padding = if spec.is_empty() {
                        Ok(1)
                    } else if spec.starts_with('0') && spec.len() > 1 {
                        spec[1..].parse::<usize>().map_err(|e| e.to_string())
                    } else {
                        Err(format!(
                            "%{spec}d pads with spaces; expected %0{spec}d or %d"
                        ))
                    };
                    Some(Token {
                        start: i,
                        end: end + 1,
                        padding,
                        hashy: false,
                        printf: true,
                    })
                } else {
                    None
                }
            }
            b'$' if b.get(i + 1) == Some(&b'F') => {
                let digits = b[i + 2..].iter().take_while(|c| c.is_ascii_digit()).count();
                let spec = &name[i + 2..i + 2 + digits];
                let padding = if spec.is_empty() {
                    Ok(1)
                } else {
                    spec.parse()
                        .map_err(|e: std::num::ParseIntError| e.to_string())
                };
                Some(Token {
                    start: i,
                    end: i + 2 + digits,
                    padding,
                    hashy: false,
                    printf: false,
                })
            }
            b'$' if b[i..].starts_with(b"${F") => {
                let digits = b[i + 3..].iter().take_while(|c| c.is_ascii_digit()).count();
                if b.get(i + 3 + digits) == Some(&b'}') {
                    let spec = &name[i + 3..i + 3 + digits];
                    let padding = if spec.is_empty() {
                        Ok(1)
                    } else {
                        spec.parse()
                            .map_err(|e: std::num::ParseIntError| e.to_string())
                    };
                    Some(Token {
                        start: i,
                        end: i + 4 + digits,
                        padding,
                        hashy: false,
                        printf: false,
                    })
                } else {
                    None
                }
            }
            b'<' if b[i..].starts_with(b"<UDIM>") => Some(Token {
                start: i,
                end: i + 6,
                padding: Ok(4),
                hashy: false,
                printf: false,
            }),
            _ => None,
        };
        match tok {
            Some(t) => {
                i = t.end;
                found = Some(t);
            }
            None => i += 1,
        }
    }
    found
}

/// The frame range written right before a `#`/`@` token ending at `end` in `head`, as
/// `(range start, range)`. Takes the longest suffix that parses as a frame range, so a head
/// such as `shot_v2x` is not mistaken for one.
fn embedded_range(head: &str) -> Option<(usize, FrameSet)> {
    let b = head.as_bytes();
    let scan = b
        .iter()
        .rev()
        .take_while(|c| c.is_ascii_digit() || matches!(c, b',' | b'-' | b'x' | b'y' | b':'))
        .count();
    let first = b.len() - scan;
    (first..b.len())
        .filter(|&s| b[s].is_ascii_digit() || (b[s] == b'-' && name::minus_is_sign(b, s)))
        .find_map(|s| FrameSet::parse(&head[s..]).ok().map(|set| (s, set)))
}

/// Parses a sequence pattern in any of the styles in the module docs.
pub fn parse_pattern(pattern: &str) -> Result<SequencePattern, PatternError> {
    let err = |message: String| PatternError {
        pattern: pattern.to_string(),
        message,
    };
    let text = pattern.trim();
    let (path_text, mut range) = match text.rsplit_once(' ') {
        Some((before, after)) if last_token(file_part(before)).is_some() => {
            match FrameSet::parse(after) {
                Ok(set) => (before.trim_end(), Some(set)),
                Err(_) => (text, None),
            }
        }
        _ => (text, None),
    };
    let file = file_part(path_text);
    let dir_text = &path_text[..path_text.len() - file.len()];
    let tok = last_token(file).ok_or_else(|| {
        err("no frame token: expected #, @@@@, %04d, $F4 or <UDIM> in the file name".into())
    })?;
    let padding = tok.padding.map_err(&err)?;
    if padding == 0 || padding > MAX_DIGITS {
        return Err(err(format!(
            "padding {padding} is out of range: expected 1 to {MAX_DIGITS} digits"
        )));
    }
    let mut head_end = tok.start;
    if tok.hashy {
        if let Some((start, set)) = embedded_range(&file[..tok.start]) {
            if range.is_some() {
                return Err(err(
                    "two frame ranges: give it inside the name or after it, not both".into(),
                ));
            }
            range = Some(set);
            head_end = start;
        }
    }
    let tail = &file[tok.end..];
    if last_token(tail).is_some() {
        return Err(err("more than one frame token".into()));
    }
    let dir = if dir_text.is_empty() {
        PathBuf::from(".")
    } else {
        PathBuf::from(dir_text)
    };
    let literal = |t: &str| {
        if tok.printf {
            t.replace("%%", "%")
        } else {
            t.to_string()
        }
    };
    Ok(SequencePattern {
        dir,
        head: OsString::from(literal(&file[..head_end])),
        tail: OsString::from(literal(tail)),
        padding,
        range,
    })
}

/// The file-name part of a path written with `/` (or `\` on Windows).
fn file_part(path: &str) -> &str {
    let cut = path
        .rfind(|c| c == '/' || (cfg!(windows) && c == '\\'))
        .map_or(0, |i| i + 1);
    &path[cut..]
}

impl SequencePattern {
    /// Whether `file_name` is a frame of this pattern, and which.
    pub fn match_name(&self, file_name: &std::ffi::OsStr) -> Option<i64> {
        let name = os::bytes(file_name)?;
        let head = os::bytes(&self.head)?;
        let tail = os::bytes(&self.tail)?;
        if name.len() <= head.len() + tail.len() || !name.starts_with(head) || !name.ends_with(tail)
        {
            return None;
        }
        let text = &name[head.len()..name.len() - tail.len()];
        let (frame, width, exact) = name::parse_frame_text(head, text)?;
        name::fits(width, exact, self.padding).then_some(frame)
    }

    /// The pattern's sequence holding the frames `present` (any order, repeats allowed): missing
    /// frames are counted within the pattern's range when it has one, else between first and
    /// last. [`find_on_disk`] builds its result with it; callers that list the directory
    /// themselves (to stat each frame, say) use it to get the same [`Sequence`].
    pub fn sequence_of(&self, mut present: Vec<i64>) -> Sequence {
        present.sort_unstable();
        present.dedup();
        let frames = frames_from_sorted(&present);
        let missing = match &self.range {
            Some(range) => range.missing_from(&frames),
            None => frames.invert(),
        };
        Sequence {
            dir: self.dir.clone(),
            head: self.head.clone(),
            tail: self.tail.clone(),
            padding: self.padding,
            frames,
            missing,
            stat: None,
        }
    }

    /// The pattern without a range in `style` (`plate.%04d.exr`), no directory: how to hand the
    /// same pattern to a tool that reads only its own dialect (a renderer's output argument).
    pub fn pattern(&self, style: PadStyle) -> String {
        self.sequence_of(Vec::new()).pattern(style)
    }

    /// File name of `frame` under this pattern (`plate.1001.exr`), spelled as a [`Sequence`]
    /// spells it, so a frame a renderer writes is the frame `find_on_disk` finds.
    pub fn frame_name(&self, frame: i64) -> OsString {
        sequence::frame_name(&self.head, self.padding, &self.tail, frame)
    }

    /// Path of `frame` under this pattern: `dir` joined with [`SequencePattern::frame_name`],
    /// except that an implicit `.` directory is left off (`plate.1001.exr`, not `./plate…`).
    pub fn frame_path(&self, frame: i64) -> PathBuf {
        let name = self.frame_name(frame);
        if self.dir == Path::new(".") {
            PathBuf::from(name)
        } else {
            self.dir.join(name)
        }
    }
}

/// Lists the pattern's directory once and returns its sequence: the frames present and the
/// frames missing (within the pattern's range when it has one, else between first and last).
/// Directories are never frames. An empty sequence means nothing matched.
pub fn find_on_disk(pattern: &SequencePattern) -> Result<Sequence, FindError> {
    let io = |source| FindError {
        dir: pattern.dir.clone(),
        source,
    };
    // The one directory reader: names and `d_type` only, links taken as themselves (a link
    // named like a frame is a frame, whatever it points to).
    let opts = crate::read::ReadOptions {
        hidden_files: true,
        ..Default::default()
    };
    let listed = crate::read::read_dir(&pattern.dir, &opts).map_err(|e| io(e.source))?;
    if let Some(e) = listed.errors.into_iter().next() {
        return Err(io(e.source));
    }
    let present = listed
        .entries
        .iter()
        .filter_map(|e| pattern.match_name(&e.name))
        .collect();
    Ok(pattern.sequence_of(present))
}

/// Convenience for callers holding a path: parses `path` (lossily, patterns are typed text).
pub fn parse_pattern_path(path: &Path) -> Result<SequencePattern, PatternError> {
    parse_pattern(&path.to_string_lossy())
}

#[cfg(test)]
mod tests;
