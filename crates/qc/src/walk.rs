//! Parallel directory listing shared by validate and disk: one `getdents` pass per directory and
//! one `fstatat` per entry relative to the directory's descriptor (no path re-resolution, no
//! per-entry allocation besides the name), subdirectories fanned out over rayon. This is the
//! whole cost of `disk`, so it is written against the syscalls (through rustix's safe API)
//! rather than `std::fs::read_dir`, which allocates twice per entry.
//! Symlinked directories are never followed (no cycles, no double counting); hidden directories
//! (`.snapshot`, `.thumbs`) are skipped by validate but counted by disk.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rayon::prelude::*;
use rustix::fs::{AtFlags, FileType, Mode, OFlags, RawDir, Stat, CWD};

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

type Errors = Mutex<Vec<(PathBuf, String)>>;

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

/// Converts a stat field of whatever width the platform uses.
fn n<T: TryInto<u64>>(v: T) -> u64 {
    v.try_into().unwrap_or(0)
}

fn entry_of(name: String, non_utf8: bool, st: &Stat) -> FileEntry {
    FileEntry {
        name,
        size: n(st.st_size),
        blocks: n(st.st_blocks),
        dev: n(st.st_dev),
        ino: n(st.st_ino),
        nlink: n(st.st_nlink),
        broken_link: false,
        non_utf8,
    }
}

fn push_err(errs: &Errors, dir: &Path, e: impl std::fmt::Display) {
    errs.lock()
        .unwrap_or_else(|p| p.into_inner())
        .push((dir.to_path_buf(), e.to_string()));
}

fn walk_dir(dir: PathBuf, spec: &WalkSpec, out: &Mutex<Vec<Listing>>, errs: &Errors) {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let fd = match rustix::fs::openat(CWD, &dir, flags, Mode::empty()) {
        Ok(fd) => fd,
        Err(e) => return push_err(errs, &dir, std::io::Error::from(e)),
    };
    // getdents64 into one buffer, entries borrowed from it: no allocation per entry.
    let mut buf: Vec<u8> = Vec::with_capacity(64 * 1024);
    let mut reader = RawDir::new(&fd, buf.spare_capacity_mut());
    let mut files = Vec::new();
    let mut subdirs = Vec::new();
    while let Some(entry) = reader.next() {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                push_err(errs, &dir, std::io::Error::from(e));
                break;
            }
        };
        let cname = entry.file_name();
        let bytes = cname.to_bytes();
        if bytes == b"." || bytes == b".." {
            continue;
        }
        let (name, non_utf8) = match cname.to_str() {
            Ok(s) => (s.to_string(), false),
            Err(_) => (cname.to_string_lossy().into_owned(), true),
        };
        let mut ftype = entry.file_type();
        let mut lstat = None;
        if ftype == FileType::Unknown {
            // Filesystems without d_type: ask the inode.
            match rustix::fs::statat(&fd, cname, AtFlags::SYMLINK_NOFOLLOW) {
                Ok(st) => {
                    ftype = FileType::from_raw_mode(st.st_mode);
                    lstat = Some(st);
                }
                Err(_) => continue,
            }
        }
        if ftype == FileType::Directory {
            if !(spec.skip_hidden && name.starts_with('.')) {
                let p = dir.join(&name);
                if !spec.skip.contains(&p) {
                    subdirs.push(p);
                }
            }
            continue;
        }
        let follow = ftype == FileType::Symlink && spec.follow_file_links;
        let flags = if follow {
            AtFlags::empty()
        } else {
            AtFlags::SYMLINK_NOFOLLOW
        };
        let st = match lstat.filter(|_| !follow) {
            Some(st) => Ok(st),
            None => rustix::fs::statat(&fd, cname, flags),
        };
        match st {
            Ok(st) if follow && FileType::from_raw_mode(st.st_mode) == FileType::Directory => {}
            Ok(st) => files.push(entry_of(name, non_utf8, &st)),
            Err(_) => files.push(FileEntry {
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
    // Close the directory before descending, so open descriptors stay bounded by the depth.
    drop(buf);
    drop(fd);
    subdirs
        .into_par_iter()
        .for_each(|d| walk_dir(d, spec, out, errs));
    out.lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(Listing { dir, files });
}
