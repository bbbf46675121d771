//! Parallel directory listing shared by validate and disk: one `read_dir` per directory, one
//! `lstat` per entry, subdirectories fanned out over rayon. Symlinked directories are never
//! followed (no cycles, no double counting); hidden directories (`.snapshot`, `.thumbs`) are
//! skipped by validate but counted by disk.

use std::collections::HashSet;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rayon::prelude::*;

/// One non-directory entry with the stat fields reports need.
#[derive(Debug, Clone)]
pub(crate) struct FileEntry {
    pub name: String,
    /// Apparent size (for a symlink: the target's size when `follow_file_links`, else the link's).
    pub size: u64,
    /// 512-byte blocks allocated.
    pub blocks: u64,
    pub dev: u64,
    pub ino: u64,
    pub nlink: u64,
    /// A symlink whose target could not be read (dangling, permission).
    pub broken_link: bool,
    /// The name is not valid UTF-8 (`name` is a lossy rendering and cannot be opened).
    pub non_utf8: bool,
}

/// One directory's files.
#[derive(Debug, Clone)]
pub(crate) struct Listing {
    pub dir: PathBuf,
    pub files: Vec<FileEntry>,
}

/// What to walk and how.
pub(crate) struct WalkSpec<'a> {
    /// Directories not to enter (walked separately, e.g. nested units).
    pub skip: &'a HashSet<PathBuf>,
    /// Skip directories whose name starts with `.`.
    pub skip_hidden: bool,
    /// Stat symlinked files through the link (validate reads frames through links).
    pub follow_file_links: bool,
}

/// Lists every directory under `root` in parallel. Returns listings (unordered) and
/// (directory, error) pairs for directories that could not be read.
pub(crate) fn walk(root: &Path, spec: &WalkSpec) -> (Vec<Listing>, Vec<(PathBuf, String)>) {
    let out = Mutex::new(Vec::new());
    let errs = Mutex::new(Vec::new());
    walk_dir(root.to_path_buf(), spec, &out, &errs);
    (
        out.into_inner().unwrap_or_else(|p| p.into_inner()),
        errs.into_inner().unwrap_or_else(|p| p.into_inner()),
    )
}

fn walk_dir(
    dir: PathBuf,
    spec: &WalkSpec,
    out: &Mutex<Vec<Listing>>,
    errs: &Mutex<Vec<(PathBuf, String)>>,
) {
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) => {
            errs.lock()
                .unwrap_or_else(|p| p.into_inner())
                .push((dir, e.to_string()));
            return;
        }
    };
    let mut files = Vec::new();
    let mut subdirs = Vec::new();
    for entry in entries {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                errs.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push((dir.clone(), e.to_string()));
                continue;
            }
        };
        let Ok(ft) = entry.file_type() else { continue };
        let os_name = entry.file_name();
        let non_utf8 = os_name.to_str().is_none();
        let name = os_name.to_string_lossy().into_owned();
        if ft.is_dir() {
            if !(spec.skip_hidden && name.starts_with('.')) {
                let p = entry.path();
                if !spec.skip.contains(&p) {
                    subdirs.push(p);
                }
            }
            continue;
        }
        let meta = if ft.is_symlink() && spec.follow_file_links {
            match std::fs::metadata(entry.path()) {
                Ok(m) if m.is_dir() => continue,
                Ok(m) => Ok(m),
                Err(_) => Err(()),
            }
        } else {
            entry.metadata().map_err(|_| ())
        };
        match meta {
            Ok(m) => files.push(FileEntry {
                name,
                size: m.len(),
                blocks: m.blocks(),
                dev: m.dev(),
                ino: m.ino(),
                nlink: m.nlink(),
                broken_link: false,
                non_utf8,
            }),
            Err(()) => files.push(FileEntry {
                name,
                size: 0,
                blocks: 0,
                dev: 0,
                ino: 0,
                nlink: 1,
                broken_link: true,
                non_utf8,
            }),
        }
    }
    subdirs
        .into_par_iter()
        .for_each(|d| walk_dir(d, spec, out, errs));
    out.lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(Listing { dir, files });
}
