//! Expected output patterns (`renders/sh010.%04d.exr`): where each frame of a task must land, so
//! the worker can verify it, and how to spell the same pattern for renderers with their own syntax.

use std::path::{Path, PathBuf};

use crate::error::{RenderError, Result};

/// A path with one frame-number token. Accepted tokens: `%04d`/`%d` (printf), `$F4`/`$F`
/// (Houdini), a run of `@` (one digit each), a lone `#` (4 digits, as fileseq) or a run of two or
/// more `#` (one digit each, as Blender and Nuke write it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputPattern {
    prefix: String,
    width: usize,
    suffix: String,
}

impl OutputPattern {
    /// Parses a pattern; the last token in the file name wins. Errors name the pattern.
    pub fn parse(text: &str) -> Result<OutputPattern> {
        let name_start = text.rfind('/').map(|i| i + 1).unwrap_or(0);
        let name = &text[name_start..];
        let b = name.as_bytes();
        let mut found: Option<(usize, usize, usize)> = None; // start, end, width
        let mut i = 0;
        while i < b.len() {
            let c = b[i];
            if c == b'#' || c == b'@' {
                let mut j = i;
                while j < b.len() && b[j] == c {
                    j += 1;
                }
                let n = j - i;
                let width = if c == b'#' && n == 1 { 4 } else { n };
                found = Some((i, j, width));
                i = j;
            } else if c == b'%' {
                let mut j = i + 1;
                while j < b.len() && b[j].is_ascii_digit() {
                    j += 1;
                }
                if j < b.len() && b[j] == b'd' {
                    let digits = &name[i + 1..j];
                    let width = digits.trim_start_matches('0').parse().unwrap_or(1);
                    found = Some((i, j + 1, width));
                    i = j + 1;
                } else {
                    i += 1;
                }
            } else if c == b'$' && b.get(i + 1) == Some(&b'F') {
                let mut j = i + 2;
                while j < b.len() && b[j].is_ascii_digit() {
                    j += 1;
                }
                let width = name[i + 2..j].parse().unwrap_or(1);
                found = Some((i, j, width));
                i = j;
            } else {
                i += 1;
            }
        }
        let Some((s, e, width)) = found else {
            return Err(RenderError::Invalid(format!(
                "output pattern {text:?} has no frame token: expected %04d, $F4, @@@@ or ####"
            )));
        };
        Ok(OutputPattern {
            prefix: text[..name_start + s].to_string(),
            width,
            suffix: name[e..].to_string(),
        })
    }

    /// The pattern made absolute against `base`.
    pub fn absolute(&self, base: &Path) -> OutputPattern {
        let mut p = self.clone();
        if !Path::new(&self.prefix).is_absolute() {
            let joined = base.join(&self.prefix);
            let mut s = joined.to_string_lossy().into_owned();
            if (self.prefix.is_empty() || self.prefix.ends_with('/')) && !s.ends_with('/') {
                s.push('/');
            }
            p.prefix = s;
        }
        p
    }

    /// The file a frame lands in.
    pub fn path(&self, frame: i64) -> PathBuf {
        PathBuf::from(format!(
            "{}{}{}",
            self.prefix,
            shotline_frames::pad_frame(frame, self.width),
            self.suffix
        ))
    }

    /// Digits in the frame number.
    pub fn width(&self) -> usize {
        self.width
    }

    /// The file extension without the dot (`exr`), lowercased.
    pub fn extension(&self) -> Option<String> {
        // `.exr` alone is a "hidden file" to `Path::extension`, so split by hand.
        self.suffix
            .rfind('.')
            .map(|i| self.suffix[i + 1..].to_ascii_lowercase())
            .filter(|e| !e.is_empty() && !e.contains('/'))
    }

    /// Blender's `-o` argument: one `#` per digit and no extension (Blender adds it).
    pub fn blender(&self) -> String {
        let suffix = match self.suffix.rfind('.') {
            Some(dot) => &self.suffix[..dot],
            None => &self.suffix,
        };
        format!("{}{}{}", self.prefix, "#".repeat(self.width), suffix)
    }

    /// Houdini's spelling (`$F4`).
    pub fn houdini(&self) -> String {
        format!("{}$F{}{}", self.prefix, self.width, self.suffix)
    }

    /// The directory the frames land in.
    pub fn dir(&self) -> PathBuf {
        Path::new(&self.path(0))
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    }
}

impl std::fmt::Display for OutputPattern {
    /// The printf spelling (`/renders/sh010.%04d.exr`), which every tool reads the same way.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}%0{}d{}", self.prefix, self.width, self.suffix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        let p = OutputPattern::parse("/r/sh.%04d.exr").unwrap();
        assert_eq!(p.width(), 4);
        assert_eq!(p.blender(), "/r/sh.####");
        assert_eq!(p.houdini(), "/r/sh.$F4.exr");
        assert_eq!(OutputPattern::parse("a.#.exr").unwrap().width(), 4);
        assert_eq!(OutputPattern::parse("a.###.exr").unwrap().width(), 3);
        assert_eq!(OutputPattern::parse("a.@@.exr").unwrap().width(), 2);
        assert_eq!(OutputPattern::parse("a.$F5.exr").unwrap().width(), 5);
        assert_eq!(
            OutputPattern::parse("v2/a_#_b.png").unwrap().blender(),
            "v2/a_####_b"
        );
        assert!(OutputPattern::parse("a.exr").is_err());
    }

    #[test]
    fn absolute_joins_base() {
        let p = OutputPattern::parse("out/a.%04d.exr").unwrap();
        assert_eq!(
            p.absolute(Path::new("/proj")).to_string(),
            "/proj/out/a.%04d.exr"
        );
    }
}
