//! File names → frame numbers, and a directory's names → sequences.
//!
//! The rules follow what users trip over in existing tools (see REFERENCE.md): the frame is the
//! last digit run directly before the extension; a `-` is a sign only after `.`/`_` or at the
//! start; `c.1001` and `c.01001` are two sequences; `b.9998`…`b.10001` is one; huge digit runs are
//! plain names. Kept here (rather than borrowed) so QC and disk work on exactly the grouping they
//! report, with sizes attached.

use std::collections::BTreeMap;

/// Digit runs longer than this are ids, not frames (and would overflow an `i64`).
const MAX_FRAME_DIGITS: usize = 12;

/// A file name split around its frame number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameName<'a> {
    /// Everything before the frame digits (and sign), e.g. `shot_v002.`.
    pub prefix: &'a str,
    /// The frame digits as written, sign included (`-001`).
    pub digits: &'a str,
    /// Everything after the digits: the extension with its dot, e.g. `.exr`.
    pub suffix: &'a str,
    /// The frame number.
    pub frame: i64,
}

impl FrameName<'_> {
    /// True when the digits pin the padding exactly (a leading zero: `0042` is padded to 4),
    /// false when the number merely fills its width (`1001` fits any padding up to 4).
    pub fn padding_is_exact(&self) -> bool {
        let d = self.digits.trim_start_matches('-');
        d.len() > 1 && d.starts_with('0')
    }

    /// Width of the frame as written, sign included.
    pub fn width(&self) -> usize {
        self.digits.len()
    }
}

/// Splits `name` into prefix, frame and suffix, or `None` for a plain (non-frame) file.
pub fn parse_frame_name(name: &str) -> Option<FrameName<'_>> {
    let mut dot = name.rfind('.').filter(|&i| i > 0).unwrap_or(name.len());
    // `frame.0001` (no extension): the digits after the last dot are the frame.
    if dot < name.len() && name[dot + 1..].bytes().all(|b| b.is_ascii_digit()) {
        dot = name.len();
    }
    let stem = &name[..dot];
    let bytes = stem.as_bytes();
    let mut start = bytes.len();
    while start > 0 && bytes[start - 1].is_ascii_digit() {
        start -= 1;
    }
    let ndigits = bytes.len() - start;
    if ndigits == 0 || ndigits > MAX_FRAME_DIGITS {
        return None;
    }
    if start > 0
        && bytes[start - 1] == b'-'
        && (start == 1 || matches!(bytes[start - 2], b'.' | b'_'))
    {
        start -= 1;
    }
    let digits = &stem[start..];
    let frame: i64 = digits.parse().ok()?;
    Some(FrameName {
        prefix: &name[..start],
        digits,
        suffix: &name[dot..],
        frame,
    })
}

/// One numbered file of a sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The frame number.
    pub frame: i64,
    /// The file name (no directory).
    pub name: String,
    /// Size in bytes.
    pub size: u64,
}

/// Files of one directory sharing prefix, padding and suffix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sequence {
    /// Text before the frame number.
    pub prefix: String,
    /// Frame width; 1 means unpadded.
    pub padding: usize,
    /// Text after the frame number (the extension).
    pub suffix: String,
    /// Frames sorted by number.
    pub frames: Vec<Frame>,
}

impl Sequence {
    /// The printf-style pattern (`shot.%04d.exr`), unambiguous in every tool (unlike `#`).
    pub fn pattern(&self) -> String {
        format_pattern(&self.prefix, self.padding, &self.suffix)
    }

    /// Total bytes of all frames.
    pub fn bytes(&self) -> u64 {
        self.frames.iter().map(|f| f.size).sum()
    }
}

/// `prefix%0Nd suffix`, or `%d` for unpadded frames.
pub fn format_pattern(prefix: &str, padding: usize, suffix: &str) -> String {
    if padding <= 1 {
        format!("{prefix}%d{suffix}")
    } else {
        format!("{prefix}%0{padding}d{suffix}")
    }
}

/// A directory's files sorted into sequences and plain files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grouped {
    /// Sequences, sorted by prefix, suffix, padding.
    pub sequences: Vec<Sequence>,
    /// Names that carry no frame number, with sizes.
    pub singles: Vec<(String, u64)>,
}

/// One sequence as [`group_index`] finds it: borrowed name parts and, per frame, its number and
/// the index of its name in the input (so callers attach sizes or paths without copies).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedSequence<'a> {
    /// Text before the frame number.
    pub prefix: &'a str,
    /// Frame width; 1 means unpadded.
    pub padding: usize,
    /// Text after the frame number.
    pub suffix: &'a str,
    /// (frame, input index), sorted by frame.
    pub members: Vec<(i64, usize)>,
}

/// The grouping itself, allocation-light: sequences by index, and the indices of plain names.
/// `disk` uses it directly (it needs counts and sizes, not owned names).
pub fn group_index<'a>(
    names: impl IntoIterator<Item = &'a str>,
) -> (Vec<IndexedSequence<'a>>, Vec<usize>) {
    // (prefix, suffix) -> list of (frame, width, exact, input index)
    type Entry = (i64, usize, bool, usize);
    let mut by_key: BTreeMap<(&str, &str), Vec<Entry>> = BTreeMap::new();
    let mut singles = Vec::new();
    for (i, name) in names.into_iter().enumerate() {
        match parse_frame_name(name) {
            Some(f) => by_key.entry((f.prefix, f.suffix)).or_default().push((
                f.frame,
                f.width(),
                f.padding_is_exact(),
                i,
            )),
            None => singles.push(i),
        }
    }
    let mut sequences = Vec::new();
    for ((prefix, suffix), entries) in by_key {
        let mut exact: Vec<usize> = entries.iter().filter(|e| e.2).map(|e| e.1).collect();
        exact.sort_unstable();
        exact.dedup();
        let mut groups: BTreeMap<usize, Vec<(i64, usize)>> = BTreeMap::new();
        let mut loose: Vec<Entry> = Vec::new();
        for e in entries {
            let pad = if e.2 {
                Some(e.1)
            } else {
                exact.iter().copied().filter(|&p| p <= e.1).max()
            };
            match pad {
                Some(p) => groups.entry(p).or_default().push((e.0, e.3)),
                None => loose.push(e),
            }
        }
        if let Some(min_w) = loose.iter().map(|e| e.1).min() {
            let g = groups.entry(min_w).or_default();
            g.extend(loose.into_iter().map(|e| (e.0, e.3)));
        }
        for (padding, mut members) in groups {
            members.sort_unstable();
            sequences.push(IndexedSequence {
                prefix,
                padding,
                suffix,
                members,
            });
        }
    }
    (sequences, singles)
}

/// Groups one directory's files (name, size) into sequences and singles, with owned names.
pub fn group<'a>(files: impl IntoIterator<Item = (&'a str, u64)>) -> Grouped {
    let files: Vec<(&str, u64)> = files.into_iter().collect();
    let (indexed, single_idx) = group_index(files.iter().map(|f| f.0));
    let sequences = indexed
        .into_iter()
        .map(|s| Sequence {
            prefix: s.prefix.to_string(),
            padding: s.padding,
            suffix: s.suffix.to_string(),
            frames: s
                .members
                .iter()
                .map(|&(frame, i)| Frame {
                    frame,
                    name: files[i].0.to_string(),
                    size: files[i].1,
                })
                .collect(),
        })
        .collect();
    let mut singles: Vec<(String, u64)> = single_idx
        .iter()
        .map(|&i| (files[i].0.to_string(), files[i].1))
        .collect();
    singles.sort();
    Grouped { sequences, singles }
}

/// Compact ascending range text for a sorted list of frames: `1001-1003,1007,1010-1012`.
pub fn format_frames(frames: &[i64]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < frames.len() {
        let start = frames[i];
        let mut j = i;
        while j + 1 < frames.len() && frames[j + 1] == frames[j] + 1 {
            j += 1;
        }
        if !out.is_empty() {
            out.push(',');
        }
        if j == i {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}-{}", frames[j]));
        }
        i = j + 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(g: &Grouped) -> Vec<(String, Vec<i64>)> {
        g.sequences
            .iter()
            .map(|s| (s.pattern(), s.frames.iter().map(|f| f.frame).collect()))
            .collect()
    }

    #[test]
    fn frame_is_last_digit_run_before_extension() {
        let f = parse_frame_name("shot_v002.1001.exr").unwrap();
        assert_eq!((f.prefix, f.frame, f.suffix), ("shot_v002.", 1001, ".exr"));
        assert!(parse_frame_name("foo_0001_extra.exr").is_none());
        assert_eq!(
            parse_frame_name("gettyimages-1364769281-2048x2048.jpg")
                .unwrap()
                .frame,
            2048
        );
        assert!(parse_frame_name("gettyimages-13647692812345678.jpg").is_none());
        let neg = parse_frame_name("a.-001.exr").unwrap();
        assert_eq!((neg.frame, neg.width()), (-1, 4));
        assert_eq!(parse_frame_name("file4-4.exr").unwrap().frame, 4);
        assert_eq!(parse_frame_name("434-0000.exr").unwrap().prefix, "434-");
        assert_eq!(parse_frame_name("frame.0001").unwrap().suffix, "");
    }

    #[test]
    fn paddings_split_and_overflow_joins() {
        let g = group(
            [
                "c.1001.exr",
                "c.01001.exr",
                "b.9998.exr",
                "b.9999.exr",
                "b.10000.exr",
                "n.txt",
            ]
            .map(|n| (n, 1)),
        );
        assert_eq!(
            names(&g),
            vec![
                ("b.%04d.exr".into(), vec![9998, 9999, 10000]),
                ("c.%04d.exr".into(), vec![1001]),
                ("c.%05d.exr".into(), vec![1001]),
            ]
        );
        assert_eq!(g.singles, vec![("n.txt".to_string(), 1)]);
    }

    #[test]
    fn duplicates_at_two_paddings_stay_apart() {
        let g = group(["a.1.exr", "a.01.exr", "a.2.exr"].map(|n| (n, 1)));
        assert_eq!(
            names(&g),
            vec![
                ("a.%d.exr".into(), vec![1, 2]),
                ("a.%02d.exr".into(), vec![1])
            ]
        );
    }

    #[test]
    fn ranges_format_compactly() {
        assert_eq!(format_frames(&[1, 2, 3, 5, 7, 8]), "1-3,5,7-8");
        assert_eq!(format_frames(&[]), "");
    }
}
