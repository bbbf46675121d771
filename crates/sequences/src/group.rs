//! Grouping the names of one directory into sequences and plain files.
//!
//! Padding rule: a frame written with a leading zero (`0998`, `-001`) fixes its sequence's
//! padding to its width; one without (`1001`, `10001`) fits any padding up to its width. Per
//! head and tail, each exact width makes one sequence; a free frame joins the widest of those
//! that fits it (so `0999`, `1000`, `10000` stay one padded sequence), and free frames that fit
//! none form one sequence padded to the narrowest of them (`b.9998` … `b.10001` is padding 4,
//! `a.1` … `a.100` is unpadded). The same frame at two paddings gives two sequences and a
//! [`Warning`], never a silent merge.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::ffi::OsString;
use std::hash::{BuildHasherDefault, Hasher};
use std::path::{Path, PathBuf};

use shotline_frames::FrameSet;

use crate::classify::{tail_groups, Classify, GroupAll};
use crate::name::{self, FrameName};
use crate::os;
use crate::sequence::{frames_from_sorted, FileStat, PadStyle, Sequence};

/// A file that is not part of any sequence (no frame number, or an unusable one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlainFile {
    /// The file name.
    pub name: OsString,
    /// Size and mtime, when the caller asked for stats.
    pub stat: Option<FileStat>,
}

/// Something in a directory that deserves a human's attention but is not an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// The same frame numbers exist at two paddings (`a.1.exr` and `a.01.exr`): two renders
    /// mixed in one folder, or a renamed copy. They stay two sequences.
    DuplicatePadding {
        /// The directory.
        dir: PathBuf,
        /// Shared head.
        head: OsString,
        /// Shared tail.
        tail: OsString,
        /// The two paddings, narrower first.
        paddings: (usize, usize),
        /// The frames present at both.
        frames: FrameSet,
    },
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Warning::DuplicatePadding {
                dir,
                head,
                tail,
                paddings,
                frames,
            } => {
                let seq = |padding| Sequence {
                    dir: dir.clone(),
                    head: head.clone(),
                    tail: tail.clone(),
                    padding,
                    frames: FrameSet::default(),
                    missing: FrameSet::default(),
                    stat: None,
                };
                let (a, b) = (seq(paddings.0), seq(paddings.1));
                write!(
                    f,
                    "{}: {} and {} both have frame{} {} (padding {} and {})",
                    dir.display(),
                    a.pattern(PadStyle::Printf),
                    b.pattern(PadStyle::Printf),
                    if frames.len() == 1 { "" } else { "s" },
                    frames,
                    paddings.0,
                    paddings.1
                )
            }
        }
    }
}

/// What one directory holds: its sequences, plain files and warnings, each sorted by name.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Grouping {
    /// The directory the names came from.
    pub dir: PathBuf,
    /// Sequences, sorted by head, tail, padding.
    pub sequences: Vec<Sequence>,
    /// Plain files, sorted by name.
    pub files: Vec<PlainFile>,
    /// Duplicate paddings and the like.
    pub warnings: Vec<Warning>,
}

/// Frames sharing a head and tail: index into the entries, and the split name.
type Members<'a> = Vec<(usize, FrameName<'a>)>;

/// Groups the entry names of ONE directory (`dir` is recorded, not read). Names from different
/// directories must be grouped separately (see [`group_paths`]): same-named frames in two
/// folders are two sequences.
pub fn group<I, S>(dir: impl Into<PathBuf>, names: I) -> Grouping
where
    I: IntoIterator<Item = S>,
    S: Into<OsString>,
{
    group_entries(dir, names.into_iter().map(|n| (n.into(), None)))
}

/// Like [`group`], with a size and mtime per name that are totalled per sequence. Names are
/// expected to be unique, as in a directory listing; a repeated name is listed once but its
/// stat counts twice.
pub fn group_entries<I>(dir: impl Into<PathBuf>, entries: I) -> Grouping
where
    I: IntoIterator<Item = (OsString, Option<FileStat>)>,
{
    group_entries_with(dir, entries, &GroupAll)
}

/// Like [`group_entries`], but numbered names whose extension `classify` says must not group
/// (movies, for the media registry) stay plain files: `review_v001.mov` is one movie, not a
/// one-frame sequence.
pub fn group_entries_with<I>(
    dir: impl Into<PathBuf>,
    entries: I,
    classify: &dyn Classify,
) -> Grouping
where
    I: IntoIterator<Item = (OsString, Option<FileStat>)>,
{
    let dir = dir.into();
    let entries: Vec<(OsString, Option<FileStat>)> = entries.into_iter().collect();
    let mut keyed: HashMap<(&[u8], &[u8]), Members<'_>, BuildHasherDefault<FastHasher>> =
        HashMap::default();
    let mut files = Vec::new();
    for (i, (n, stat)) in entries.iter().enumerate() {
        match os::bytes(n).and_then(name::split) {
            Some(f) => keyed.entry((f.head, f.tail)).or_default().push((i, f)),
            None => files.push(PlainFile {
                name: n.clone(),
                stat: *stat,
            }),
        }
    }
    let mut sequences = Vec::new();
    let mut warnings = Vec::new();
    for ((head, tail), frames) in keyed {
        if !tail_groups(classify, tail) {
            files.extend(frames.iter().map(|(i, _)| PlainFile {
                name: entries[*i].0.clone(),
                stat: entries[*i].1,
            }));
            continue;
        }
        let buckets = split_by_padding(frames);
        let built: Vec<Sequence> = buckets
            .into_iter()
            .map(|(padding, members)| {
                let mut nums: Vec<i64> = members.iter().map(|(_, f)| f.frame).collect();
                nums.sort_unstable();
                nums.dedup();
                let mut stat: Option<FileStat> = None;
                for (i, _) in &members {
                    if let Some(s) = &entries[*i].1 {
                        stat.get_or_insert_with(FileStat::default).add(s);
                    }
                }
                let frames = frames_from_sorted(&nums);
                let missing = frames.invert();
                Sequence {
                    dir: dir.clone(),
                    head: os::from_bytes(head),
                    tail: os::from_bytes(tail),
                    padding,
                    frames,
                    missing,
                    stat,
                }
            })
            .collect();
        warnings.extend(duplicates(&built));
        sequences.extend(built);
    }
    sequences.sort_by(|a, b| (&a.head, &a.tail, a.padding).cmp(&(&b.head, &b.tail, b.padding)));
    files.sort_by(|a, b| a.name.cmp(&b.name));
    files.dedup_by(|a, b| a.name == b.name);
    warnings.sort_by_key(|w| match w {
        Warning::DuplicatePadding {
            head,
            tail,
            paddings,
            ..
        } => (head.clone(), tail.clone(), *paddings),
    });
    Grouping {
        dir,
        sequences,
        files,
        warnings,
    }
}

/// FxHash-style hasher for the head/tail map: names come from the local file system, not an
/// adversary, and SipHash was a measurable share of listing 200,000 names.
#[derive(Default)]
struct FastHasher(u64);

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Assigns frames sharing head and tail to paddings (the rule in the module docs).
fn split_by_padding(frames: Members<'_>) -> BTreeMap<usize, Members<'_>> {
    let exact: Vec<usize> = {
        let mut w: Vec<usize> = frames
            .iter()
            .filter(|(_, f)| f.exact)
            .map(|(_, f)| f.width)
            .collect();
        w.sort_unstable();
        w.dedup();
        w
    };
    let mut buckets: BTreeMap<usize, Members<'_>> = BTreeMap::new();
    let mut free = Vec::new();
    for (i, f) in frames {
        let target = if f.exact {
            Some(f.width)
        } else {
            exact
                .iter()
                .rev()
                .copied()
                .find(|&w| name::fits(f.width, false, w))
        };
        match target {
            Some(p) => buckets.entry(p).or_default().push((i, f)),
            None => free.push((i, f)),
        }
    }
    if let Some(p) = free.iter().map(|(_, f)| f.width).min() {
        buckets.entry(p).or_default().extend(free);
    }
    buckets
}

/// Warnings for frames present in two sequences of the same head and tail.
fn duplicates(seqs: &[Sequence]) -> Vec<Warning> {
    let mut out = Vec::new();
    if seqs.len() < 2 {
        return out;
    }
    let sets: Vec<HashSet<i64>> = seqs.iter().map(|s| s.frames.iter().collect()).collect();
    for a in 0..seqs.len() {
        for b in a + 1..seqs.len() {
            let mut both: Vec<i64> = sets[a].intersection(&sets[b]).copied().collect();
            if both.is_empty() {
                continue;
            }
            both.sort_unstable();
            let (pa, pb) = (seqs[a].padding, seqs[b].padding);
            out.push(Warning::DuplicatePadding {
                dir: seqs[a].dir.clone(),
                head: seqs[a].head.clone(),
                tail: seqs[a].tail.clone(),
                paddings: (pa.min(pb), pa.max(pb)),
                frames: frames_from_sorted(&both),
            });
        }
    }
    out
}

/// Groups file paths from anywhere: bucketed by parent directory first, so each directory is
/// grouped on its own (keyed on the name alone, one folder's sequence would overwrite another's).
/// A path without a parent is taken as relative to `.`. Groupings come sorted by directory.
pub fn group_paths<I, P>(paths: I) -> Vec<Grouping>
where
    I: IntoIterator<Item = P>,
    P: Into<PathBuf>,
{
    let mut by_dir: BTreeMap<PathBuf, BTreeSet<OsString>> = BTreeMap::new();
    for p in paths {
        let p: PathBuf = p.into();
        let Some(name) = p.file_name() else { continue };
        let dir = match p.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => Path::new(".").to_path_buf(),
        };
        by_dir.entry(dir).or_default().insert(name.to_os_string());
    }
    by_dir
        .into_iter()
        .map(|(d, names)| group(d, names))
        .collect()
}

#[cfg(test)]
mod tests;
