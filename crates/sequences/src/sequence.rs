//! A sequence found on disk and the ways studios write its name.

use std::borrow::Cow;
use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::time::SystemTime;

use shotline_frames::{pad_frame, FrameSet, Run};

/// A frame set from ascending, distinct frames, handed to the frames crate as contiguous runs
/// (one hash insert per frame in `from_frames` was a visible cost of listing 200,000 files).
pub(crate) fn frames_from_sorted(frames: &[i64]) -> FrameSet {
    let mut runs = Vec::new();
    let mut it = frames.iter().copied();
    if let Some(first) = it.next() {
        let (mut start, mut end) = (first, first);
        for f in it {
            if Some(f) == end.checked_add(1) {
                end = f;
            } else {
                runs.push(Run {
                    start,
                    end,
                    step: 1,
                });
                (start, end) = (f, f);
            }
        }
        runs.push(Run {
            start,
            end,
            step: 1,
        });
    }
    FrameSet::from_runs(runs).unwrap_or_else(|_| FrameSet::from_frames(frames.iter().copied()))
}

/// `head`, `frame` padded to `padding`, `tail`: the one spelling of a frame's file name, shared
/// by [`Sequence`] and [`crate::SequencePattern`] so both always name the same file.
pub(crate) fn frame_name(head: &OsStr, padding: usize, tail: &OsStr, frame: i64) -> OsString {
    let mut name = head.to_os_string();
    name.push(pad_frame(frame, padding));
    name.push(tail);
    name
}

/// Size and modification time of a file, or totals for a sequence (sum of sizes, newest mtime).
/// Only gathered when asked for (`ls -l`), since it costs one `stat` per file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FileStat {
    /// Bytes (for a sequence: all its frames together).
    pub bytes: u64,
    /// Modification time (for a sequence: the newest frame's). `None` where the OS gives none.
    pub mtime: Option<SystemTime>,
}

impl FileStat {
    /// Folds another file into a total: sizes add up, the newest mtime wins.
    pub fn add(&mut self, other: &FileStat) {
        self.bytes = self.bytes.saturating_add(other.bytes);
        self.mtime = match (self.mtime, other.mtime) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }
}

/// How the padding of a sequence is written. Each tool downstream reads only its own dialect,
/// so the same sequence must be printable for all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PadStyle {
    /// fileseq/Katana: `#` for 4 digits, otherwise `@` per digit; range inside
    /// (`plate.1001-1100#.exr`).
    #[default]
    Hash,
    /// Nuke: `#` per digit; range after (`plate.####.exr 1001-1100`).
    Nuke,
    /// printf: `%04d` (`%d` unpadded); range after (`plate.%04d.exr 1001-1100`).
    Printf,
    /// Houdini: `$F4` (`$F` unpadded); range after (`plate.$F4.exr 1001-1100`).
    Houdini,
    /// RV: `@` per digit, which RV reads unambiguously; range inside
    /// (`plate.1001-1100@@@@.exr`).
    Rv,
}

impl PadStyle {
    /// Every style, for help texts and tests.
    pub const ALL: [PadStyle; 5] = [
        PadStyle::Hash,
        PadStyle::Nuke,
        PadStyle::Printf,
        PadStyle::Houdini,
        PadStyle::Rv,
    ];

    /// The padding token for `padding` digits in this style (`#`, `####`, `%04d`, `$F4`, `@@@@`).
    pub fn token(self, padding: usize) -> String {
        let p = padding.max(1);
        match self {
            PadStyle::Hash if p == 4 => "#".to_string(),
            PadStyle::Hash | PadStyle::Rv => "@".repeat(p),
            PadStyle::Nuke => "#".repeat(p),
            PadStyle::Printf if p == 1 => "%d".to_string(),
            PadStyle::Printf => format!("%0{p}d"),
            PadStyle::Houdini if p == 1 => "$F".to_string(),
            PadStyle::Houdini => format!("$F{p}"),
        }
    }

    /// True when the range is written inside the name (`1001-1100#`) rather than after it.
    pub fn range_inside(self) -> bool {
        matches!(self, PadStyle::Hash | PadStyle::Rv)
    }

    /// The style's name as accepted by `--format`.
    pub fn name(self) -> &'static str {
        match self {
            PadStyle::Hash => "hash",
            PadStyle::Nuke => "nuke",
            PadStyle::Printf => "printf",
            PadStyle::Houdini => "houdini",
            PadStyle::Rv => "rv",
        }
    }
}

impl std::str::FromStr for PadStyle {
    type Err = String;

    fn from_str(s: &str) -> Result<PadStyle, String> {
        PadStyle::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| {
                format!("unknown pattern style {s:?}: expected hash, nuke, printf, houdini or rv")
            })
    }
}

/// Which frames to write into a formatted pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeIn {
    /// No range (`plate.%04d.exr`), as JSON and templates want it.
    None,
    /// First to last (`1001-1100`), gaps reported separately.
    Span,
    /// The exact frame set (`1001-1049,1051-1100`), as fileseq prints it.
    Frames,
}

/// Image sequence: frames that share directory, head, tail and padding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sequence {
    /// Directory the frames are in (never grouped across directories).
    pub dir: PathBuf,
    /// Name before the frame number (`plate.`).
    pub head: OsString,
    /// Name after the frame number (`.exr`).
    pub tail: OsString,
    /// Digits the frame is zero-padded to, the sign included; 1 means unpadded.
    pub padding: usize,
    /// The frames present, ascending.
    pub frames: FrameSet,
    /// The frames absent between the first and last (or within a pattern's range).
    pub missing: FrameSet,
    /// Total bytes and newest mtime, when the caller asked for stats.
    pub stat: Option<FileStat>,
}

impl Sequence {
    /// The head as text (non-UTF-8 bytes shown as U+FFFD), for display and JSON.
    pub fn head_str(&self) -> Cow<'_, str> {
        self.head.to_string_lossy()
    }

    /// The tail as text (non-UTF-8 bytes shown as U+FFFD), for display and JSON.
    pub fn tail_str(&self) -> Cow<'_, str> {
        self.tail.to_string_lossy()
    }

    /// Number of frames present.
    pub fn len(&self) -> u64 {
        self.frames.len()
    }

    /// True when no frame is present (possible for a pattern found nowhere on disk).
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// The pattern in `style`, with the frames chosen by `range`
    /// (`plate.1001-1100#.exr`, `plate.%04d.exr 1001-1100`, `plate.%04d.exr`).
    pub fn format(&self, style: PadStyle, range: RangeIn) -> String {
        let r = match range {
            RangeIn::None => String::new(),
            RangeIn::Span => self
                .frames
                .span()
                .map(|span| span.to_string())
                .unwrap_or_default(),
            RangeIn::Frames => self.frames.to_string(),
        };
        let token = style.token(self.padding);
        let (mut head, mut tail) = (self.head_str(), self.tail_str());
        if style == PadStyle::Printf {
            // printf readers take `%` as a directive: a literal one is written `%%`.
            head = head.replace('%', "%%").into();
            tail = tail.replace('%', "%%").into();
        }
        if style.range_inside() {
            format!("{head}{r}{token}{tail}")
        } else if r.is_empty() {
            format!("{head}{token}{tail}")
        } else {
            format!("{head}{token}{tail} {r}")
        }
    }

    /// The pattern without a range in `style` (`plate.%04d.exr`).
    pub fn pattern(&self, style: PadStyle) -> String {
        self.format(style, RangeIn::None)
    }

    /// File name of `frame` in this sequence (`plate.1001.exr`), exact even for non-UTF-8 names.
    /// It is the name the frame was listed under: grouping only admits a frame written with a
    /// leading zero at exactly the padding, and otherwise its plain digits, so callers can look a
    /// frame up in their own listing (sizes, inodes) by this name.
    pub fn frame_name(&self, frame: i64) -> OsString {
        frame_name(&self.head, self.padding, &self.tail, frame)
    }

    /// Every present frame with its file name, ascending, lazily: for callers that keep their
    /// own per-file facts (sizes, inodes) keyed by name and need them per frame.
    pub fn frame_names(&self) -> impl Iterator<Item = (i64, OsString)> + '_ {
        self.frames.iter().map(|f| (f, self.frame_name(f)))
    }

    /// Path of `frame` in this sequence.
    pub fn frame_path(&self, frame: i64) -> PathBuf {
        self.dir.join(self.frame_name(frame))
    }

    /// Every present frame with its path, ascending, lazily (for probing each file).
    pub fn frame_paths(&self) -> impl Iterator<Item = (i64, PathBuf)> + '_ {
        self.frames.iter().map(|f| (f, self.frame_path(f)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_from_sorted_runs() {
        for frames in [
            vec![],
            vec![5],
            vec![1, 2, 3, 7, 9, 10],
            vec![-2, -1, 0, i64::MAX],
        ] {
            assert_eq!(
                frames_from_sorted(&frames),
                FrameSet::from_frames(frames.clone())
            );
        }
    }

    #[test]
    fn tokens_per_style() {
        assert_eq!(PadStyle::Hash.token(4), "#");
        assert_eq!(PadStyle::Hash.token(3), "@@@");
        assert_eq!(PadStyle::Hash.token(8), "@@@@@@@@");
        assert_eq!(PadStyle::Hash.token(1), "@");
        assert_eq!(PadStyle::Nuke.token(4), "####");
        assert_eq!(PadStyle::Nuke.token(1), "#");
        assert_eq!(PadStyle::Printf.token(4), "%04d");
        assert_eq!(PadStyle::Printf.token(1), "%d");
        assert_eq!(PadStyle::Houdini.token(4), "$F4");
        assert_eq!(PadStyle::Houdini.token(1), "$F");
        assert_eq!(PadStyle::Rv.token(4), "@@@@");
    }

    #[test]
    fn style_names_round_trip() {
        for s in PadStyle::ALL {
            assert_eq!(s.name().parse::<PadStyle>().unwrap(), s);
        }
        assert!("sharp".parse::<PadStyle>().unwrap_err().contains("sharp"));
    }

    #[test]
    fn stat_totals_keep_newest() {
        let t0 = SystemTime::UNIX_EPOCH;
        let t1 = t0 + std::time::Duration::from_secs(5);
        let mut a = FileStat {
            bytes: 3,
            mtime: Some(t1),
        };
        a.add(&FileStat {
            bytes: 4,
            mtime: Some(t0),
        });
        assert_eq!(
            a,
            FileStat {
                bytes: 7,
                mtime: Some(t1)
            }
        );
        let mut b = FileStat {
            bytes: 0,
            mtime: None,
        };
        b.add(&FileStat {
            bytes: 1,
            mtime: Some(t0),
        });
        assert_eq!(b.mtime, Some(t0));
    }
}
