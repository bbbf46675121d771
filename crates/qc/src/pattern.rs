//! Sequence patterns as pipelines write them: `name.%04d.exr`, `name.####.exr`, `name.@@@@.exr`,
//! `name.$F4.exr`. Parsed into the prefix, padding and suffix [`crate::verify_sequence`] looks for.

use std::path::{Path, PathBuf};

use crate::QcError;

/// A parsed pattern: directory, prefix, padding, suffix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    /// Directory holding the frames.
    pub dir: PathBuf,
    /// File-name text before the frame.
    pub prefix: String,
    /// Frame width (1 = unpadded).
    pub padding: usize,
    /// File-name text after the frame.
    pub suffix: String,
}

impl Pattern {
    /// Parses a pattern path. Padding tokens: `%0Nd`/`%d`; `$FN`/`$F` (Houdini); a run of `@`
    /// (one digit each); a run of `#`: one digit each, except a single `#` which is 4 digits
    /// (fileseq). Render outputs (`name_####`) mean four digits by `####`, so that is honoured.
    pub fn parse(path: &Path) -> Result<Pattern, QcError> {
        let bad = |why: &str| QcError::Pattern {
            pattern: path.display().to_string(),
            message: why.to_string(),
        };
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| bad("expected a file name such as name.%04d.exr"))?;
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let (start, end, padding) = find_token(name).ok_or_else(|| {
            bad("expected one frame token: %04d, ####, @@@@ or $F4 in the file name")
        })?;
        let (prefix, suffix) = (&name[..start], &name[end..]);
        if find_token(suffix).is_some() {
            return Err(bad("more than one frame token in the file name"));
        }
        Ok(Pattern {
            dir,
            prefix: prefix.to_string(),
            padding,
            suffix: suffix.to_string(),
        })
    }

    /// The pattern in printf form, with its directory.
    pub fn display(&self) -> String {
        self.dir
            .join(crate::names::format_pattern(
                &self.prefix,
                self.padding,
                &self.suffix,
            ))
            .display()
            .to_string()
    }
}

/// Finds the first padding token: (byte start, byte end, padding).
fn find_token(name: &str) -> Option<(usize, usize, usize)> {
    let b = name.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let mut j = i + 1;
                while j < b.len() && b[j].is_ascii_digit() {
                    j += 1;
                }
                if j < b.len() && b[j] == b'd' {
                    let pad = name[i + 1..j].parse::<usize>().unwrap_or(1).max(1);
                    return Some((i, j + 1, pad));
                }
            }
            b'$' if b.get(i + 1) == Some(&b'F') => {
                let mut j = i + 2;
                while j < b.len() && b[j].is_ascii_digit() {
                    j += 1;
                }
                let pad = name[i + 2..j].parse::<usize>().unwrap_or(1).max(1);
                return Some((i, j, pad));
            }
            c @ (b'#' | b'@') => {
                let mut j = i;
                while j < b.len() && b[j] == c {
                    j += 1;
                }
                let n = j - i;
                let pad = if c == b'#' && n == 1 { 4 } else { n };
                return Some((i, j, pad));
            }
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> (String, usize, String) {
        let p = Pattern::parse(Path::new(s)).unwrap();
        (p.prefix, p.padding, p.suffix)
    }

    #[test]
    fn tokens() {
        assert_eq!(p("/r/a.%04d.exr"), ("a.".into(), 4, ".exr".into()));
        assert_eq!(p("a.%d.exr").1, 1);
        assert_eq!(p("a.####.exr").1, 4);
        assert_eq!(p("a.#.exr").1, 4);
        assert_eq!(p("a_@@@.dpx").1, 3);
        assert_eq!(p("a.$F4.exr"), ("a.".into(), 4, ".exr".into()));
        assert!(Pattern::parse(Path::new("a.exr")).is_err());
        assert!(Pattern::parse(Path::new("a.%04d.%04d.exr")).is_err());
        assert_eq!(
            Pattern::parse(Path::new("a.%04d.exr")).unwrap().dir,
            Path::new(".")
        );
    }
}
