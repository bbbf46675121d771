//! A parallel recursive walk that streams one grouped result per directory.
//!
//! Directories are read in parallel on a rayon pool (listing is I/O-bound: on NFS many
//! requests in flight is what makes it fast), but results are delivered to the caller's
//! callback one at a time in a fixed order: depth-first, subdirectories by name. So output is
//! deterministic and the callback needs no locking, while only directories that finished ahead
//! of the consumer are held in memory, never the whole tree. The callback runs on a pool
//! thread (hence `Send`), which also lists directories while it waits.
//!
//! Cost per directory: one `getdents` pass using the entry type it returns (no `stat`), plus one
//! `fstatat` per symlink (to learn whether it points at a directory), one `stat` per directory
//! with `follow_links` (device and inode for cycle detection), and one `fstatat` per file with
//! `stat`. The reader is [`crate::read`], shared with the raw-entries walk
//! ([`crate::walk_entries`]).

use std::ffi::OsString;
use std::fs;
use std::io;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::sync::Arc;
use std::time::Duration;

use crate::classify::{Classify, GroupAll};
use crate::group::{group_entries_with, Grouping};
use crate::read::{read_dir, DirRead, Links, ReadOptions};
use crate::sequence::FileStat;

/// What to walk and what to gather.
#[derive(Clone, Default)]
pub struct WalkOptions {
    /// Descend into subdirectories (`ls -R`).
    pub recursive: bool,
    /// Descend into symlinked directories too (`ls -L`); cycles are detected and reported.
    pub follow_links: bool,
    /// Include names starting with `.` (`ls -a`).
    pub hidden: bool,
    /// Stat every file for size and mtime (`ls -l`).
    pub stat: bool,
    /// Worker threads; `None` uses rayon's global pool (one per CPU).
    pub threads: Option<usize>,
    /// Which file kinds may form frame sequences (the media file-kind registry,
    /// `&shotline_media::kinds::Registry`, keeps numbered movies as single files); `None`
    /// groups every numbered name. Applied while grouping, so no listing needs regrouping.
    pub classify: Option<&'static dyn Classify>,
    /// Decides per subdirectory (its path) whether it is part of the walk, like `ignore`'s
    /// `filter_entry`: `false` drops it from `subdirs` and never descends (QC's layout
    /// discovery and validate's skip set prune nested units and snapshots this way).
    pub prune: Option<Prune>,
}

/// A subdirectory filter for [`WalkOptions::prune`]: `true` keeps the directory.
pub type Prune = Arc<dyn Fn(&Path) -> bool + Send + Sync>;

impl std::fmt::Debug for WalkOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WalkOptions")
            .field("recursive", &self.recursive)
            .field("follow_links", &self.follow_links)
            .field("hidden", &self.hidden)
            .field("stat", &self.stat)
            .field("threads", &self.threads)
            .field("classify", &self.classify.map(|_| "custom"))
            .field("prune", &self.prune.as_ref().map(|_| "custom"))
            .finish()
    }
}

/// A subdirectory seen in a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubDir {
    /// Its name.
    pub name: OsString,
    /// True when it is a symlink to a directory (descended only with `follow_links`).
    pub link: bool,
}

/// One directory's result.
#[derive(Debug, Clone)]
pub struct DirListing {
    /// Sequences, files and warnings of the directory (`grouping.dir` is its path).
    pub grouping: Grouping,
    /// Subdirectories, sorted by name (hidden ones only with `hidden`).
    pub subdirs: Vec<SubDir>,
    /// 0 for a root, 1 for its children, …
    pub depth: usize,
}

/// Something could not be read; the walk went on without it.
#[derive(Debug, thiserror::Error)]
#[error("cannot read {}: {source}", path.display())]
pub struct WalkError {
    /// The directory or file.
    pub path: PathBuf,
    /// The OS error.
    #[source]
    pub source: io::Error,
}

/// One item of the stream, in depth-first order.
#[derive(Debug)]
pub enum WalkEvent {
    /// A directory was listed.
    Dir(DirListing),
    /// A directory or file could not be read; it was skipped.
    Error(WalkError),
    /// A followed symlink leads back to one of its own ancestors; it was not descended.
    Cycle {
        /// The symlink.
        link: PathBuf,
        /// The ancestor directory it resolves to.
        target: PathBuf,
    },
}

/// Counts for a finished walk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WalkSummary {
    /// Directories listed.
    pub dirs: u64,
    /// Files seen (in sequences or not).
    pub files: u64,
    /// Errors reported.
    pub errors: u64,
    /// True when the callback stopped the walk early.
    pub stopped: bool,
}

#[cfg(unix)]
type DirId = (u64, u64);
#[cfg(not(unix))]
type DirId = PathBuf;

/// Device and inode of the directory at `path` (following links), the identity cycles are
/// detected by.
#[cfg(unix)]
fn dir_id(path: &Path) -> io::Result<DirId> {
    use std::os::unix::fs::MetadataExt;
    let md = fs::metadata(path)?;
    Ok((md.dev(), md.ino()))
}

/// The canonical path of `path`, the identity cycles are detected by where there are no inodes.
#[cfg(not(unix))]
fn dir_id(path: &Path) -> io::Result<DirId> {
    fs::canonicalize(path)
}

/// The directories from a root down to the current one, for cycle checks with `follow_links`.
struct Chain {
    id: DirId,
    path: PathBuf,
    parent: Option<Arc<Chain>>,
}

impl Chain {
    fn find(self: &Arc<Self>, id: &DirId) -> Option<&Path> {
        let mut cur = Some(self);
        while let Some(c) = cur {
            if &c.id == id {
                return Some(&c.path);
            }
            cur = c.parent.as_ref();
        }
        None
    }
}

/// A finished directory and the slots its children will report into, in order.
struct Node {
    events: Vec<WalkEvent>,
    children: Vec<Receiver<Node>>,
}

struct Shared<'a> {
    opts: &'a WalkOptions,
    cancel: AtomicBool,
}

/// Walks `roots` (directories) and calls `on_event` for each directory listed, each error and
/// each symlink cycle, depth-first, subdirectories by name, roots in the order given. Return
/// `ControlFlow::Break` from the callback to stop early (e.g. on a closed pipe).
pub fn walk<F>(roots: &[PathBuf], opts: &WalkOptions, mut on_event: F) -> WalkSummary
where
    F: FnMut(WalkEvent) -> ControlFlow<()> + Send,
{
    let shared = Shared {
        opts,
        cancel: AtomicBool::new(false),
    };
    let pool = opts.threads.and_then(|n| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build()
            .ok()
    });
    let mut summary = WalkSummary::default();
    let mut stack: Vec<Receiver<Node>> = Vec::with_capacity(roots.len());
    let mut starts = Vec::with_capacity(roots.len());
    for root in roots {
        let (tx, rx) = channel();
        stack.push(rx);
        starts.push((root.clone(), tx));
    }
    stack.reverse();
    let shared = &shared;
    // The consumer runs on a pool worker (rayon::scope executes its body there), so while the
    // next directory in order is not ready it lists directories itself instead of sleeping.
    let run = || {
        rayon::scope(|s| {
            for (root, tx) in starts {
                s.spawn(move |s| {
                    let chain = chain_for(shared, &root, None);
                    visit(s, shared, root, 0, chain, tx);
                });
            }
            while let Some(rx) = stack.pop() {
                let Some(node) = next_node(&rx) else { continue };
                for ev in node.events {
                    summary.count(&ev);
                    if on_event(ev).is_break() {
                        shared.cancel.store(true, Ordering::Relaxed);
                        summary.stopped = true;
                        stack.clear();
                        return;
                    }
                }
                stack.extend(node.children.into_iter().rev());
            }
        })
    };
    match &pool {
        Some(p) => p.install(run),
        None => run(),
    }
    summary
}

/// Waits for a directory's result, running other pending walk tasks meanwhile. `None` when its
/// producer gave up (the walk was cancelled).
fn next_node(rx: &Receiver<Node>) -> Option<Node> {
    loop {
        match rx.try_recv() {
            Ok(node) => return Some(node),
            Err(TryRecvError::Disconnected) => return None,
            Err(TryRecvError::Empty) => {}
        }
        if let Some(rayon::Yield::Executed) = rayon::yield_now() {
            continue;
        }
        match rx.recv_timeout(Duration::from_micros(500)) {
            Ok(node) => return Some(node),
            Err(RecvTimeoutError::Disconnected) => return None,
            Err(RecvTimeoutError::Timeout) => {}
        }
    }
}

impl WalkSummary {
    /// Adds one event to the counts.
    fn count(&mut self, ev: &WalkEvent) {
        match ev {
            WalkEvent::Dir(d) => {
                self.dirs += 1;
                let in_seqs: u64 = d.grouping.sequences.iter().map(|s| s.frames.len()).sum();
                self.files += d.grouping.files.len() as u64 + in_seqs;
            }
            WalkEvent::Error(_) => self.errors += 1,
            WalkEvent::Cycle { .. } => {}
        }
    }
}

/// The ancestor chain extended by `dir`, when following links (otherwise no cycles can form).
fn chain_for(shared: &Shared<'_>, dir: &Path, parent: Option<Arc<Chain>>) -> Option<Arc<Chain>> {
    if !shared.opts.follow_links {
        return None;
    }
    let id = dir_id(dir).ok()?;
    Some(Arc::new(Chain {
        id,
        path: dir.to_path_buf(),
        parent,
    }))
}

/// Lists `dir`, reports it into `tx`, then spawns its subdirectories.
fn visit<'s>(
    scope: &rayon::Scope<'s>,
    shared: &'s Shared<'s>,
    dir: PathBuf,
    depth: usize,
    chain: Option<Arc<Chain>>,
    tx: Sender<Node>,
) {
    if shared.cancel.load(Ordering::Relaxed) {
        return;
    }
    let opts = shared.opts;
    let mut events = Vec::new();
    let mut children = Vec::new();
    let mut spawns = Vec::new();
    match list_dir(&dir, opts) {
        Err(e) => events.push(WalkEvent::Error(e)),
        Ok((grouping, subdirs, errors)) => {
            if opts.recursive {
                for sub in subdirs.iter().filter(|s| !s.link || opts.follow_links) {
                    let path = dir.join(&sub.name);
                    let mut child_chain = None;
                    if let Some(c) = &chain {
                        match dir_id(&path) {
                            Ok(id) => {
                                if let Some(target) = c.find(&id) {
                                    events.push(WalkEvent::Cycle {
                                        link: path,
                                        target: target.to_path_buf(),
                                    });
                                    continue;
                                }
                                child_chain = Some(Arc::new(Chain {
                                    id,
                                    path: path.clone(),
                                    parent: Some(c.clone()),
                                }));
                            }
                            Err(source) => {
                                events.push(WalkEvent::Error(WalkError { path, source }));
                                continue;
                            }
                        }
                    }
                    let (ctx, crx) = channel();
                    children.push(crx);
                    spawns.push((path, child_chain, ctx));
                }
            }
            let cycles: Vec<WalkEvent> = std::mem::take(&mut events);
            events.push(WalkEvent::Dir(DirListing {
                grouping,
                subdirs,
                depth,
            }));
            events.extend(errors.into_iter().map(WalkEvent::Error));
            events.extend(cycles);
        }
    }
    if tx.send(Node { events, children }).is_err() {
        return;
    }
    // Spawned last-first: rayon runs a worker's own newest task first, so the first child
    // (the one the consumer waits for next) starts first.
    for (path, chain, ctx) in spawns.into_iter().rev() {
        scope.spawn(move |s| visit(s, shared, path, depth + 1, chain, ctx));
    }
}

/// One directory: its grouping, subdirectories (sorted) and per-entry errors, read by the one
/// reader ([`crate::read`]) with links followed.
fn list_dir(
    dir: &Path,
    opts: &WalkOptions,
) -> Result<(Grouping, Vec<SubDir>, Vec<WalkError>), WalkError> {
    let read = ReadOptions {
        stat: opts.stat,
        links: Links::Follow,
        hidden_files: opts.hidden,
        hidden_dirs: opts.hidden,
        parallel_stat: true,
    };
    let DirRead {
        entries,
        mut subdirs,
        errors,
    } = read_dir(dir, &read)?;
    let files = entries.into_iter().map(|e| {
        let stat = e.stat.map(|s| FileStat {
            bytes: s.size,
            mtime: s.mtime,
        });
        (e.name, stat)
    });
    if let Some(keep) = &opts.prune {
        subdirs.retain(|s| keep(&dir.join(&s.name)));
    }
    subdirs.sort_by(|a, b| a.name.cmp(&b.name));
    let classify = opts.classify.unwrap_or(&GroupAll);
    Ok((group_entries_with(dir, files, classify), subdirs, errors))
}

#[cfg(test)]
mod tests;
