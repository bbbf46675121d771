//! The raw-entries walk: every directory under a root with its files as the OS listed them,
//! with their stat (size, blocks, device, inode, links, mtime) when asked, and no grouping.
//!
//! For the commands whose cost is the listing itself (`disk`, validate's discovery of frames,
//! ingest's scan of a delivery): directories are read on rayon's pool as they are found and
//! collected unordered, then sorted by path once, so nothing waits on an order. The reader is
//! the one [`walk`](crate::walk) uses (`getdents` plus one `fstatat` per entry).
//!
//! Symlinked directories are never descended (no cycles, no double counting); they appear in
//! [`EntryListing::subdirs`] with `link: true` when links are followed.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rayon::prelude::*;

use crate::read::{read_dir, Entry, Links, ReadOptions};
use crate::walk::{Prune, SubDir, WalkError};

/// What the raw-entries walk descends into and gathers.
#[derive(Clone, Default)]
pub struct EntryOptions<'a> {
    /// `fstatat` every entry ([`Entry::stat`]); without it only names and kinds are read.
    pub stat: bool,
    /// Take symbolic links to files as those files (their stat is the target's; a dangling
    /// link is an [`EntryKind::BrokenLink`](crate::EntryKind::BrokenLink)); otherwise a link is
    /// an entry of its own, counted as itself (what `du` does).
    pub follow_file_links: bool,
    /// Neither list nor descend into directories whose name starts with `.` (`.snapshot`,
    /// `.thumbs`); files starting with `.` are always listed.
    pub skip_hidden_dirs: bool,
    /// Directories not to enter (walked separately, e.g. nested units).
    pub skip_dirs: Option<&'a HashSet<PathBuf>>,
    /// Decides per subdirectory (its path) whether it is walked: `false` never descends.
    pub prune: Option<Prune>,
    /// Read directories in parallel on rayon's pool.
    pub parallel: bool,
}

impl std::fmt::Debug for EntryOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EntryOptions")
            .field("stat", &self.stat)
            .field("follow_file_links", &self.follow_file_links)
            .field("skip_hidden_dirs", &self.skip_hidden_dirs)
            .field("skip_dirs", &self.skip_dirs.map(HashSet::len))
            .field("prune", &self.prune.as_ref().map(|_| "custom"))
            .field("parallel", &self.parallel)
            .finish()
    }
}

/// One directory of a raw-entries walk.
#[derive(Debug)]
pub struct EntryListing {
    /// Its path (the root joined with the names below it).
    pub dir: PathBuf,
    /// 0 for the root, 1 for its children, …
    pub depth: usize,
    /// Its non-directory entries, in the order the OS listed them.
    pub files: Vec<Entry>,
    /// Its subdirectories, walked or not (skipped, pruned, links), in listing order.
    pub subdirs: Vec<SubDir>,
    /// Entries of this directory that could not be stat'ed (they are in `files` without a
    /// stat), or a listing cut short by a read error.
    pub errors: Vec<WalkError>,
}

/// Everything a raw-entries walk found.
#[derive(Debug, Default)]
pub struct EntryWalk {
    /// Every directory listed, sorted by path.
    pub listings: Vec<EntryListing>,
    /// Directories that could not be opened (the root included), sorted by path; the walk went
    /// on without them.
    pub errors: Vec<WalkError>,
}

struct Sink {
    listings: Mutex<Vec<EntryListing>>,
    errors: Mutex<Vec<WalkError>>,
}

/// Walks `root` and returns every directory's entries. Never fails as a whole: a directory
/// that cannot be read (the root included) is in [`EntryWalk::errors`], an entry that cannot
/// be stat'ed in its listing's `errors`.
pub fn walk_entries(root: &Path, opts: &EntryOptions<'_>) -> EntryWalk {
    let read = ReadOptions {
        stat: opts.stat,
        links: if opts.follow_file_links {
            Links::Follow
        } else {
            Links::Own
        },
        hidden_files: true,
        hidden_dirs: !opts.skip_hidden_dirs,
        parallel_stat: false,
    };
    let sink = Sink {
        listings: Mutex::new(Vec::new()),
        errors: Mutex::new(Vec::new()),
    };
    visit(root.to_path_buf(), 0, opts, &read, &sink);
    let mut listings = sink
        .listings
        .into_inner()
        .unwrap_or_else(|p| p.into_inner());
    let mut errors = sink.errors.into_inner().unwrap_or_else(|p| p.into_inner());
    listings.par_sort_unstable_by(|a, b| a.dir.cmp(&b.dir));
    errors.sort_by(|a, b| a.path.cmp(&b.path));
    EntryWalk { listings, errors }
}

/// Lists `dir`, then its subdirectories (fanned out over rayon with `parallel`). The directory
/// is closed before descending, so open descriptors stay bounded by the pool size.
fn visit(dir: PathBuf, depth: usize, opts: &EntryOptions<'_>, read: &ReadOptions, sink: &Sink) {
    let listed = match read_dir(&dir, read) {
        Ok(l) => l,
        Err(e) => {
            sink.errors
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(e);
            return;
        }
    };
    let children: Vec<PathBuf> = listed
        .subdirs
        .iter()
        .filter(|s| !s.link)
        .map(|s| dir.join(&s.name))
        .filter(|p| opts.skip_dirs.is_none_or(|skip| !skip.contains(p)))
        .filter(|p| opts.prune.as_ref().is_none_or(|keep| keep(p)))
        .collect();
    if opts.parallel {
        children
            .into_par_iter()
            .for_each(|d| visit(d, depth + 1, opts, read, sink));
    } else {
        for d in children {
            visit(d, depth + 1, opts, read, sink);
        }
    }
    sink.listings
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(EntryListing {
            dir,
            depth,
            files: listed.entries,
            subdirs: listed.subdirs,
            errors: listed.errors,
        });
}

#[cfg(test)]
mod tests;
