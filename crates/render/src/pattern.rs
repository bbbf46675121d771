//! Expected output patterns (`renders/sh010.%04d.exr`): where each frame of a task must land, so
//! the worker can verify it, and how to spell the same pattern for renderers with their own syntax.
//!
//! Parsing is `shotline_sequences::parse_pattern`'s, so a job's output is read exactly as `ls`,
//! validate and ingest read the frames it produces.

use std::path::{Path, PathBuf};

use shotline_sequences::{parse_pattern, PadStyle, SequencePattern};

use crate::error::{RenderError, Result};

/// A path with one frame-number token, as `shotline-sequences` parses it: `%04d`/`%d` (printf),
/// `$F4`/`$F` (Houdini), a run of `@` (one digit each), a lone `#` (4 digits, as fileseq) or a
/// run of two or more `#` (one digit each, as Blender and Nuke write it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputPattern(SequencePattern);

impl OutputPattern {
    /// Parses a pattern; the last token in the file name wins. A frame range is refused: the
    /// frames rendered are the job's `frames`, and a second source for them could disagree.
    /// Errors name the pattern.
    pub fn parse(text: &str) -> Result<OutputPattern> {
        let p = parse_pattern(text)
            .map_err(|e| RenderError::Invalid(format!("output pattern: {e}")))?;
        if p.range.is_some() {
            return Err(RenderError::Invalid(format!(
                "output pattern {text:?} names frames: give them in the job's `frames`, not here"
            )));
        }
        Ok(OutputPattern(p))
    }

    /// The pattern made absolute against `base`.
    pub fn absolute(&self, base: &Path) -> OutputPattern {
        let mut p = self.clone();
        if !p.0.dir.is_absolute() {
            p.0.dir = if p.0.dir == Path::new(".") {
                base.to_path_buf()
            } else {
                base.join(&p.0.dir)
            };
        }
        p
    }

    /// The file a frame lands in.
    pub fn path(&self, frame: i64) -> PathBuf {
        self.0.frame_path(frame)
    }

    /// Digits in the frame number.
    pub fn width(&self) -> usize {
        self.0.padding
    }

    /// The file extension without the dot (`exr`), lowercased.
    pub fn extension(&self) -> Option<String> {
        let tail = self.0.tail.to_string_lossy();
        tail.rfind('.')
            .map(|i| tail[i + 1..].to_ascii_lowercase())
            .filter(|e| !e.is_empty())
    }

    /// Blender's `-o` argument: one `#` per digit and no extension (Blender adds it).
    pub fn blender(&self) -> String {
        let tail = self.0.tail.to_string_lossy();
        let tail = tail.rfind('.').map_or(&*tail, |dot| &tail[..dot]);
        let name = format!(
            "{}{}{tail}",
            self.0.head.to_string_lossy(),
            PadStyle::Nuke.token(self.0.padding)
        );
        self.in_dir(&name)
    }

    /// The file name with one `#` per digit (`sh010.####.exr`), as Deadline's output viewer
    /// and Blender spell padding.
    pub fn file_name_hashes(&self) -> String {
        format!(
            "{}{}{}",
            self.0.head.to_string_lossy(),
            PadStyle::Nuke.token(self.0.padding),
            self.0.tail.to_string_lossy()
        )
    }

    /// Houdini's spelling (`$F4`).
    pub fn houdini(&self) -> String {
        self.in_dir(&self.0.pattern(PadStyle::Houdini))
    }

    /// The directory the frames land in, without the trailing `/` the pattern's text keeps
    /// (renderers get it as an argument, e.g. `-rd /proj/out`).
    pub fn dir(&self) -> PathBuf {
        self.0.dir.components().collect()
    }

    /// `name` in the pattern's directory, as text; an implicit `.` is left off as the user
    /// left it off.
    fn in_dir(&self, name: &str) -> String {
        if self.0.dir == Path::new(".") {
            name.to_string()
        } else {
            self.0.dir.join(name).to_string_lossy().into_owned()
        }
    }
}

impl std::fmt::Display for OutputPattern {
    /// The printf spelling (`/renders/sh010.%04d.exr`), which every tool reads the same way.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.in_dir(&self.0.pattern(PadStyle::Printf)))
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
        assert!(OutputPattern::parse("a.%04d.exr 1-10").is_err());
    }

    #[test]
    fn absolute_joins_base() {
        let p = OutputPattern::parse("out/a.%04d.exr").unwrap();
        assert_eq!(
            p.absolute(Path::new("/proj")).to_string(),
            "/proj/out/a.%04d.exr"
        );
        let bare = OutputPattern::parse("a.%04d.exr").unwrap();
        assert_eq!(bare.path(7), PathBuf::from("a.0007.exr"));
        let abs = bare.absolute(Path::new("/proj"));
        assert_eq!(abs.to_string(), "/proj/a.%04d.exr");
        assert_eq!(abs.path(7), PathBuf::from("/proj/a.0007.exr"));
        assert_eq!(abs.dir().to_string_lossy(), "/proj");
        let out = p.absolute(Path::new("/proj")).dir();
        assert_eq!(out.to_string_lossy(), "/proj/out");
        assert_eq!(abs.extension().as_deref(), Some("exr"));
    }
}
