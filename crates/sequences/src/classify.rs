//! The seam through which a caller decides which file kinds may form frame sequences.
//!
//! Why: a numbered movie (`SH030_review_v001.mov`) or a camera clip split into spans is one file,
//! not frame 1 of a sequence. This crate cannot know file formats (the media registry depends on
//! it, not the other way round), so grouping asks a [`Classify`] and the caller passes the
//! registry (`shotline_media::kinds::Registry`). [`GroupAll`] keeps the format-blind behaviour.

use std::ffi::OsString;
use std::path::Path;

use crate::group::{Grouping, PlainFile};
use crate::sequence::FileStat;

/// Decides, from a file's extension, whether numbered files of that kind group into sequences.
pub trait Classify: Sync {
    /// `ext` is the last extension of the name without its dot, as written (any case; empty
    /// when the name has none). Must be cheap: it runs once per distinct head and tail.
    fn groups_as_frames(&self, ext: &str) -> bool;
}

/// Groups every numbered name, whatever its extension (what [`crate::group`] does).
#[derive(Debug, Clone, Copy, Default)]
pub struct GroupAll;

impl Classify for GroupAll {
    fn groups_as_frames(&self, _ext: &str) -> bool {
        true
    }
}

/// The last extension of a sequence tail (`.exr` → `exr`, `.bgeo.sc` → `sc`, `` → ``).
/// A non-UTF-8 extension comes back as `None` and is grouped (no registry names one).
pub(crate) fn tail_ext(tail: &[u8]) -> Option<&str> {
    let ext = match tail.iter().rposition(|&b| b == b'.') {
        Some(dot) => &tail[dot + 1..],
        None => &[][..],
    };
    std::str::from_utf8(ext).ok()
}

/// True when frames ending in `tail` may form a sequence under `classify`.
pub(crate) fn tail_groups(classify: &dyn Classify, tail: &[u8]) -> bool {
    tail_ext(tail).is_none_or(|e| classify.groups_as_frames(e))
}

impl Grouping {
    /// Turns the sequences whose kind must not group (per `classify`) back into plain files, one
    /// per frame, for groupings made format-blind (the walker's). When the sequence carried a
    /// stat, each file is stat'ed again (a movie directory holds few of them); a file that
    /// vanished meanwhile keeps no stat.
    pub fn ungroup_with(&mut self, classify: &dyn Classify) {
        let before = self.files.len();
        let mut kept = Vec::with_capacity(self.sequences.len());
        for seq in std::mem::take(&mut self.sequences) {
            let bytes = crate::os::bytes(&seq.tail);
            if bytes.is_none_or(|t| tail_groups(classify, t)) {
                kept.push(seq);
                continue;
            }
            let want_stat = seq.stat.is_some();
            for (_, name) in seq.frame_names() {
                let stat = want_stat.then(|| stat_of(&self.dir.join(&name))).flatten();
                self.files.push(PlainFile { name, stat });
            }
        }
        self.sequences = kept;
        if self.files.len() != before {
            self.files.sort_by(|a, b| a.name.cmp(&b.name));
            self.files.dedup_by(|a, b| a.name == b.name);
            let names: std::collections::HashSet<(&OsString, &OsString, usize)> = self
                .sequences
                .iter()
                .map(|s| (&s.head, &s.tail, s.padding))
                .collect();
            let keep: Vec<bool> = self
                .warnings
                .iter()
                .map(|w| match w {
                    crate::group::Warning::DuplicatePadding {
                        head,
                        tail,
                        paddings,
                        ..
                    } => names.contains(&(head, tail, paddings.0)),
                })
                .collect();
            let mut it = keep.into_iter();
            self.warnings.retain(|_| it.next().unwrap_or(true));
        }
    }
}

/// Size and mtime of one file (following a link; a dangling link gives its own).
fn stat_of(path: &Path) -> Option<FileStat> {
    let md = std::fs::metadata(path)
        .or_else(|_| std::fs::symlink_metadata(path))
        .ok()?;
    Some(FileStat {
        bytes: md.len(),
        mtime: md.modified().ok(),
    })
}
