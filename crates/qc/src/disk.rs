//! `disk`: usage per show and shot (and deeper levels), from one parallel walk of the tree.
//!
//! Every directory is listed once and every entry stat'ed once (`lstat`: symlinks are counted
//! as links, never followed). Files with several hard links are counted once per (device,
//! inode). Sizes are apparent bytes (what `ls -l` shows) with the allocated bytes (what `du`
//! shows) alongside; thresholds compare apparent bytes.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

use shotline_layout::{Field, Fields, Variant};
use shotline_sequences::{
    group_entries, walk_entries, EntryListing, EntryOptions, EntryStat, FileStat, PadStyle,
};

use crate::finding::format_frames;
use crate::layout::{field_map, level_name, Layout};
use crate::naming::is_image_suffix;
use crate::QcError;

/// How entries are ordered among their siblings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortBy {
    /// Biggest first.
    #[default]
    Size,
    /// Alphabetical.
    Name,
}

/// Settings of one disk run.
#[derive(Debug, Clone)]
pub struct DiskOptions {
    /// How many layout levels to break usage down by (1 = shows, 2 = shots, 3 = steps…).
    pub depth: usize,
    /// Biggest sequences kept per entry and overall.
    pub top: usize,
    /// Sibling order.
    pub sort: SortBy,
    /// Level name (`show`, `shot`, `step`, …, or `dir`) → bytes above which an entry is flagged.
    pub thresholds: BTreeMap<String, u64>,
}

impl Default for DiskOptions {
    fn default() -> Self {
        DiskOptions {
            depth: 2,
            top: 5,
            sort: SortBy::Size,
            thresholds: BTreeMap::new(),
        }
    }
}

/// Totals for a directory tree.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Usage {
    /// Apparent size in bytes, hard links counted once.
    pub bytes: u64,
    /// Bytes allocated on disk (512-byte blocks, as `du`), hard links counted once.
    pub disk_bytes: u64,
    /// Files (symlinks included, directories not).
    pub files: u64,
    /// Image sequences.
    pub sequences: u64,
}

impl Usage {
    fn add(&mut self, o: &Usage) {
        self.bytes += o.bytes;
        self.disk_bytes += o.disk_bytes;
        self.files += o.files;
        self.sequences += o.sequences;
    }
}

/// One image sequence and its size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SequenceUsage {
    /// Directory and printf pattern.
    pub pattern: String,
    /// Frames present as a range string.
    pub frames: String,
    /// Number of frames.
    pub count: u64,
    /// Apparent bytes.
    pub bytes: u64,
}

/// One show / shot / step / version (or plain directory) with its usage.
#[derive(Debug, Clone, Serialize)]
pub struct DiskEntry {
    /// The level: the layout field this entry is named by (`show`, `shot`, …) or `dir`.
    pub level: String,
    /// The field's value (`sh010`) or the directory name.
    pub name: String,
    /// The directory.
    pub path: String,
    /// Fields parsed from the path (`show` repeats `project`).
    pub fields: BTreeMap<String, String>,
    /// Totals of everything below it.
    pub usage: Usage,
    /// The threshold for this level, when configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<u64>,
    /// True when `usage.bytes` exceeds the threshold.
    pub over_threshold: bool,
    /// The biggest sequences below it.
    pub biggest_sequences: Vec<SequenceUsage>,
    /// Entries of the next level.
    pub children: Vec<DiskEntry>,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct DiskReport {
    /// The directory measured.
    pub root: String,
    /// Totals of the whole root.
    pub total: Usage,
    /// Level names in depth order.
    pub levels: Vec<String>,
    /// Top-level entries (shows), each with its children.
    pub entries: Vec<DiskEntry>,
    /// The biggest sequences under the root.
    pub biggest_sequences: Vec<SequenceUsage>,
    /// Entries over their threshold, as paths.
    pub over_threshold: Vec<String>,
    /// Hard-linked files seen more than once and counted once.
    pub hardlinks_deduplicated: u64,
    /// Directories that could not be listed: (path, error).
    pub unreadable: Vec<(String, String)>,
}

/// Measures `start` and breaks the usage down by the layout's levels.
pub fn disk_usage(
    layout: &Layout,
    start: &Path,
    opts: &DiskOptions,
) -> Result<DiskReport, QcError> {
    let meta = std::fs::symlink_metadata(start).map_err(|source| QcError::Io {
        path: start.to_path_buf(),
        source,
    })?;
    if !meta.is_dir() {
        return Err(QcError::Io {
            path: start.to_path_buf(),
            source: std::io::Error::other("expected a directory"),
        });
    }
    // Links counted as themselves, hidden directories counted: what `du` measures.
    let walk_opts = EntryOptions {
        stat: true,
        parallel: true,
        ..EntryOptions::default()
    };
    let walked = walk_entries(start, &walk_opts);
    let listings = walked.listings;
    let (targets, levels) = level_dirs(layout, start, opts.depth.max(1), &listings);
    let unreadable = walked
        .errors
        .iter()
        .chain(listings.iter().flat_map(|l| l.errors.iter()))
        .map(|e| (e.path.display().to_string(), e.source.to_string()))
        .collect();
    // Per-directory totals and sequences, in parallel.
    let per_dir: Vec<(Usage, Vec<SequenceUsage>)> = listings.par_iter().map(dir_usage).collect();
    // Hard links: the first (in path order) occurrence of a (dev, ino) keeps the bytes.
    let mut seen: HashSet<(u64, u64)> = HashSet::new();
    let mut deduped = 0u64;
    let mut totals: HashMap<&Path, Usage> = targets
        .keys()
        .map(|p| (p.as_path(), Usage::default()))
        .collect();
    let mut seqs: HashMap<&Path, Vec<SequenceUsage>> = HashMap::new();
    let mut total = Usage::default();
    let mut all_seqs = Vec::new();
    for (listing, (usage, dir_seqs)) in listings.iter().zip(per_dir) {
        let mut u = usage;
        for f in listing
            .files
            .iter()
            .filter_map(|f| f.stat)
            .filter(|f| f.nlink > 1)
        {
            if !seen.insert((f.dev, f.ino)) {
                deduped += 1;
                u.bytes -= f.size;
                u.disk_bytes -= allocated(&f);
            }
        }
        total.add(&u);
        for anc in listing.dir.ancestors() {
            if let Some(t) = totals.get_mut(anc) {
                t.add(&u);
                seqs.entry(anc)
                    .or_default()
                    .extend(dir_seqs.iter().cloned());
            }
            if anc == start {
                break;
            }
        }
        all_seqs.extend(dir_seqs);
    }
    let biggest = top(all_seqs, opts.top);
    let mut flat: Vec<DiskEntry> = targets
        .iter()
        .map(|(path, (level, name, fields))| {
            let usage = totals.get(path.as_path()).copied().unwrap_or_default();
            let threshold = opts.thresholds.get(level).copied();
            DiskEntry {
                level: level.clone(),
                name: name.clone(),
                path: path.display().to_string(),
                fields: fields.clone(),
                usage,
                threshold,
                over_threshold: threshold.is_some_and(|t| usage.bytes > t),
                biggest_sequences: top(seqs.remove(path.as_path()).unwrap_or_default(), opts.top),
                children: Vec::new(),
            }
        })
        .collect();
    let over: Vec<String> = flat
        .iter()
        .filter(|e| e.over_threshold)
        .map(|e| e.path.clone())
        .collect();
    flat.sort_by(|a, b| a.path.cmp(&b.path));
    let entries = nest(flat, opts.sort);
    Ok(DiskReport {
        root: start.display().to_string(),
        total,
        levels,
        entries,
        biggest_sequences: biggest,
        over_threshold: over,
        hardlinks_deduplicated: deduped,
        unreadable,
    })
}

/// Bytes allocated on disk (512-byte blocks, as `du` counts them).
fn allocated(st: &EntryStat) -> u64 {
    st.blocks.saturating_mul(512)
}

/// Own files of one directory: totals (before hard-link dedup) and its image sequences. An
/// entry whose stat failed counts as a file of no bytes (the failure is in `unreadable`).
fn dir_usage(l: &EntryListing) -> (Usage, Vec<SequenceUsage>) {
    let mut u = Usage::default();
    for st in l.files.iter().map(|f| f.stat) {
        u.files += 1;
        if let Some(st) = st {
            u.bytes += st.size;
            u.disk_bytes += allocated(&st);
        }
    }
    // Sizes ride along as stats, so the grouping totals each sequence's bytes.
    let entries = l.files.iter().map(|f| {
        let stat = FileStat {
            bytes: f.stat.map_or(0, |s| s.size),
            mtime: None,
        };
        (f.name.clone(), Some(stat))
    });
    let grouping = group_entries(&l.dir, entries);
    let seqs: Vec<SequenceUsage> = grouping
        .sequences
        .iter()
        .filter(|s| is_image_suffix(&s.tail_str()))
        .map(|s| {
            let frames: Vec<i64> = s.frames.iter().collect();
            SequenceUsage {
                pattern: l
                    .dir
                    .join(s.pattern(PadStyle::Printf))
                    .display()
                    .to_string(),
                frames: format_frames(&frames),
                count: s.len(),
                bytes: s.stat.map_or(0, |st| st.bytes),
            }
        })
        .collect();
    u.sequences = seqs.len() as u64;
    (u, seqs)
}

fn top(mut v: Vec<SequenceUsage>, n: usize) -> Vec<SequenceUsage> {
    v.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.pattern.cmp(&b.pattern)));
    v.truncate(n);
    v
}

type Targets = BTreeMap<PathBuf, (String, String, BTreeMap<String, String>)>;

/// The directories to report: for each template, the directory of each of its first `depth`
/// fields; without any template match, plain directories `depth` levels deep (the walk's
/// subdirectories, symlinked ones left out as the walk leaves them).
fn level_dirs(
    layout: &Layout,
    start: &Path,
    depth: usize,
    listings: &[EntryListing],
) -> (Targets, Vec<String>) {
    let mut out = Targets::new();
    let mut levels: Vec<String> = Vec::new();
    for t in layout.model.folder_templates() {
        for v in t.variants() {
            // Levels come from complete matches only: `shots/SH010` is a shot folder because
            // `shots/SH010/comp/v001` is a version folder, not because a sequence could be
            // named `SH010` in the variant with sequences.
            let (full, _) = layout.match_variant(t, v, start, v.depth());
            let named: Vec<(usize, Field)> = (0..v.depth())
                .filter_map(|i| v.naming_field(i).map(|f| (i + 1, f)))
                .take(depth)
                .collect();
            for (dir, fields) in &full {
                for &(d, field) in &named {
                    let Some(at) = ancestor(dir, v.depth() - d) else {
                        continue;
                    };
                    if !at.starts_with(start) {
                        continue;
                    }
                    let level = level_name(field);
                    let name = fields.get(field).unwrap_or_default();
                    let mut upto = fields_upto(v, fields, d);
                    upto.fill_from(layout.model.defaults());
                    out.entry(at)
                        .or_insert_with(|| (level.to_string(), name, field_map(&upto)));
                    if !levels.iter().any(|l| l == level) {
                        levels.push(level.to_string());
                    }
                }
            }
        }
    }
    partial_level_dirs(layout, start, depth, &mut out, &mut levels);
    if out.is_empty() {
        levels = vec!["dir".into()];
        for l in listings.iter().filter(|l| l.depth < depth) {
            for sub in l.subdirs.iter().filter(|s| !s.link) {
                let name = sub.name.to_string_lossy().into_owned();
                out.insert(l.dir.join(&sub.name), ("dir".into(), name, BTreeMap::new()));
            }
        }
    }
    (out, levels)
}

/// Folders of a level with nothing complete below them yet (a shot without versions), from
/// the shortest variant of each template first; folders already placed keep their level.
fn partial_level_dirs(
    layout: &Layout,
    start: &Path,
    depth: usize,
    out: &mut Targets,
    levels: &mut Vec<String>,
) {
    for t in layout.model.folder_templates() {
        let mut variants: Vec<&Variant> = t.variants().iter().collect();
        variants.sort_by_key(|v| v.depth());
        for v in variants {
            let named = (0..v.depth()).filter_map(|i| v.naming_field(i).map(|f| (i + 1, f)));
            for (d, field) in named.take(depth) {
                let (dirs, _) = layout.match_variant(t, v, start, d);
                let level = level_name(field);
                for (dir, mut fields) in dirs {
                    if !dir.starts_with(start) || out.contains_key(&dir) {
                        continue;
                    }
                    let name = fields.get(field).unwrap_or_default();
                    fields.fill_from(layout.model.defaults());
                    out.insert(dir, (level.to_string(), name, field_map(&fields)));
                    if !levels.iter().any(|l| l == level) {
                        levels.push(level.to_string());
                    }
                }
            }
        }
    }
}

/// `dir` with its last `up` components removed.
fn ancestor(dir: &Path, up: usize) -> Option<PathBuf> {
    let mut p = dir;
    for _ in 0..up {
        p = p.parent()?;
    }
    Some(p.to_path_buf())
}

/// The fields named in the first `d` components of `v`.
fn fields_upto(v: &Variant, fields: &Fields, d: usize) -> Fields {
    let mut out = Fields::default();
    for f in Field::ALL {
        if v.field_depth(f).is_some_and(|fd| fd <= d) {
            if let Some(val) = fields.get(f) {
                // Values read back from a template always set cleanly.
                let _ = out.set(f, &val);
            }
        }
    }
    out
}

/// Nests entries (sorted by path) under their nearest ancestor entry and sorts siblings.
fn nest(flat: Vec<DiskEntry>, sort: SortBy) -> Vec<DiskEntry> {
    let mut roots: Vec<DiskEntry> = Vec::new();
    let mut stack: Vec<DiskEntry> = Vec::new();
    for e in flat {
        while let Some(top) = stack.last() {
            if Path::new(&e.path).starts_with(&top.path) {
                break;
            }
            pop_into(&mut stack, &mut roots);
        }
        stack.push(e);
    }
    while !stack.is_empty() {
        pop_into(&mut stack, &mut roots);
    }
    sort_tree(&mut roots, sort);
    roots
}

fn pop_into(stack: &mut Vec<DiskEntry>, roots: &mut Vec<DiskEntry>) {
    if let Some(done) = stack.pop() {
        match stack.last_mut() {
            Some(parent) => parent.children.push(done),
            None => roots.push(done),
        }
    }
}

fn sort_tree(v: &mut [DiskEntry], sort: SortBy) {
    match sort {
        SortBy::Size => {
            v.sort_by(|a, b| b.usage.bytes.cmp(&a.usage.bytes).then(a.name.cmp(&b.name)))
        }
        SortBy::Name => v.sort_by(|a, b| a.name.cmp(&b.name).then(a.path.cmp(&b.path))),
    }
    for e in v {
        sort_tree(&mut e.children, sort);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shotline_config::LayoutConfig;

    fn write(root: &Path, rel: &str, len: usize) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, vec![7u8; len]).unwrap();
    }

    #[test]
    fn usage_per_show_and_shot_with_hardlinks_once() {
        let tmp = tempfile::tempdir().unwrap();
        let r = tmp.path();
        for f in 1..=3 {
            write(r, &format!("demo/shots/sh010/renders/a.{f:04}.exr"), 100);
        }
        write(r, "demo/shots/sh020/renders/b.0001.exr", 10);
        write(r, "demo/notes.txt", 5);
        std::fs::hard_link(r.join("demo/notes.txt"), r.join("demo/notes_link.txt")).unwrap();
        std::os::unix::fs::symlink(r.join("demo/shots"), r.join("demo/loop")).unwrap();
        let cfg = LayoutConfig {
            preset: Some(shotline_config::LayoutPreset::ShowRenders),
            ..LayoutConfig::default()
        };
        let layout = Layout::from_config(&cfg, "", r).unwrap();
        let opts = DiskOptions {
            thresholds: [("shot".to_string(), 200u64)].into(),
            ..DiskOptions::default()
        };
        let rep = disk_usage(&layout, r, &opts).unwrap();
        // The symlink counts as itself (its target path's length), never as the tree it points to.
        let link = std::fs::symlink_metadata(r.join("demo/loop"))
            .unwrap()
            .len();
        assert_eq!(rep.total.bytes, 315 + link);
        assert_eq!(rep.total.files, 7);
        assert_eq!(rep.hardlinks_deduplicated, 1);
        let show = &rep.entries[0];
        assert_eq!((show.level.as_str(), show.name.as_str()), ("show", "demo"));
        assert_eq!(show.children[0].name, "sh010");
        assert_eq!(show.children[0].usage.bytes, 300);
        assert_eq!(show.children[0].usage.sequences, 1);
        assert!(show.children[0].over_threshold);
        assert!(!show.children[1].over_threshold);
        assert_eq!(rep.biggest_sequences[0].count, 3);
        assert_eq!(rep.over_threshold.len(), 1);
    }
}
