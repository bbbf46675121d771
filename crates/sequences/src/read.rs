//! The one directory reader under every walk: one `getdents` pass per directory (the entry type
//! it returns spares a `stat` for every directory and, without `stat`, for every file) and one
//! `fstatat` per entry that needs it, relative to the directory's descriptor (no path
//! re-resolution). Names are kept as the OS gave them (`OsString`), so a name that is not UTF-8
//! is still a name the caller can open, report and group.
//!
//! Written against the syscalls through rustix's safe API rather than `std::fs::read_dir`,
//! which allocates twice per entry and stats through a path: listing is the whole cost of
//! `disk` and of validate's discovery.

use std::ffi::{CStr, CString, OsStr, OsString};
use std::io;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;
use std::time::{Duration, SystemTime};

use rayon::prelude::*;
use rustix::fd::OwnedFd;
use rustix::fs::{AtFlags, FileType, Mode, OFlags, Stat, CWD};

use crate::walk::{SubDir, WalkError};

/// What an entry is, as the walk saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file (reached through a symlink when [`Entry::link`]).
    File,
    /// A symbolic link taken as itself (links not followed): its stat is the link's own.
    Symlink,
    /// A symbolic link whose target cannot be read (dangling, a loop, no permission), links
    /// followed: its stat, when asked, is the link's own.
    BrokenLink,
    /// A FIFO, socket or device (or a followed link to one).
    Other,
}

/// The stat fields reports need, from one `fstatat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryStat {
    /// Apparent size in bytes (`ls -l`).
    pub size: u64,
    /// 512-byte blocks allocated (`du`).
    pub blocks: u64,
    /// Device of the inode (hard links are one file per device and inode).
    pub dev: u64,
    /// Inode number.
    pub ino: u64,
    /// Hard links to the inode.
    pub nlink: u64,
    /// Modification time; `None` where it does not fit a `SystemTime`.
    pub mtime: Option<SystemTime>,
}

/// One non-directory entry of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The name as the OS gave it (not necessarily UTF-8).
    pub name: OsString,
    /// What it is.
    pub kind: EntryKind,
    /// True when the entry is a symbolic link that was followed to a file.
    pub link: bool,
    /// Its stat, when asked for; `None` also when the `stat` failed (the listing's errors say
    /// why).
    pub stat: Option<EntryStat>,
}

impl Entry {
    /// The name when it is valid UTF-8.
    pub fn name_str(&self) -> Option<&str> {
        self.name.to_str()
    }
}

/// How symbolic links found in a directory are taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Links {
    /// As themselves: one entry of kind `Symlink`, never followed (what `du` counts).
    #[default]
    Own,
    /// Through: a link to a directory is a subdirectory with `link: true`, a link to a file is
    /// that file, a dangling one is a `BrokenLink`.
    Follow,
}

/// What one directory read gathers.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ReadOptions {
    /// `fstatat` every file for its size, blocks, device, inode, links and mtime.
    pub stat: bool,
    /// How symbolic links are taken.
    pub links: Links,
    /// Keep files whose name starts with `.`.
    pub hidden_files: bool,
    /// Keep directories whose name starts with `.`.
    pub hidden_dirs: bool,
    /// Stat the files of a big directory in parallel (on NFS, many requests in flight is what
    /// makes it fast); the unordered walk already reads directories in parallel and skips this.
    pub parallel_stat: bool,
}

/// One directory's entries, in the order the OS listed them.
#[derive(Debug, Default)]
pub(crate) struct DirRead {
    /// Files, links and other non-directories.
    pub entries: Vec<Entry>,
    /// Subdirectories (and, links followed, links to directories).
    pub subdirs: Vec<SubDir>,
    /// Entries that could not be stat'ed, or a listing cut short by a read error.
    pub errors: Vec<WalkError>,
}

/// Directories with at least this many entries to stat are stat'ed in parallel (with
/// `parallel_stat`).
const PAR_STAT_MIN: usize = 64;

/// An entry whose type needs a `stat` to settle (or whose stat was asked for). The name is
/// copied out of the `getdents` buffer once, NUL-terminated, so the `fstatat` takes it as is
/// and the entry then owns the same allocation ([`into_os`]).
struct Pending {
    name: CString,
    ftype: FileType,
}

/// The name of a pending entry as an `OsString`, reusing its allocation.
fn into_os(name: CString) -> OsString {
    OsString::from_vec(name.into_bytes())
}

/// What a pending entry turned out to be.
enum Resolved {
    Entry(Entry),
    SubDir(SubDir),
    /// The stat failed: the entry (without stat) and why.
    Failed(Entry, io::Error),
    /// Hidden, or gone between listing and stat: not part of the listing.
    Dropped,
}

/// Lists `dir`. Only a directory that cannot be opened is an `Err`; entries that cannot be
/// stat'ed are kept (without stat) and reported in [`DirRead::errors`].
pub(crate) fn read_dir(dir: &Path, opts: &ReadOptions) -> Result<DirRead, WalkError> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let fd = rustix::fs::openat(CWD, dir, flags, Mode::empty()).map_err(|e| WalkError {
        path: dir.to_path_buf(),
        source: e.into(),
    })?;
    let mut out = DirRead::default();
    let mut pending = Vec::new();
    let listed = for_each_name(&fd, |name, ftype| {
        sort_entry(name, ftype, opts, &mut out, &mut pending)
    });
    if let Err(e) = listed {
        out.errors.push(WalkError {
            path: dir.to_path_buf(),
            source: e.into(),
        });
    }
    out.entries.reserve(pending.len());
    let resolve = |p: Pending| resolve(&fd, p, opts);
    if opts.parallel_stat && pending.len() >= PAR_STAT_MIN {
        let resolved: Vec<Resolved> = pending.into_par_iter().map(resolve).collect();
        for r in resolved {
            out.add(dir, r);
        }
    } else {
        for p in pending {
            out.add(dir, resolve(p));
        }
    }
    Ok(out)
}

impl DirRead {
    /// Files a resolved entry where it belongs.
    fn add(&mut self, dir: &Path, r: Resolved) {
        match r {
            Resolved::Entry(e) => self.entries.push(e),
            Resolved::SubDir(s) => self.subdirs.push(s),
            Resolved::Failed(e, source) => {
                self.errors.push(WalkError {
                    path: dir.join(&e.name),
                    source,
                });
                self.entries.push(e);
            }
            Resolved::Dropped => {}
        }
    }
}

/// Calls `f` with the name and `d_type` of every entry but `.` and `..`: `getdents64` into one
/// buffer, names borrowed from it (no allocation per entry).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn for_each_name(
    fd: &OwnedFd,
    mut f: impl FnMut(&CStr, FileType),
) -> Result<(), rustix::io::Errno> {
    use rustix::fs::RawDir;
    let mut buf: Vec<u8> = Vec::with_capacity(64 * 1024);
    let mut reader = RawDir::new(fd, buf.spare_capacity_mut());
    while let Some(entry) = reader.next() {
        let entry = entry?;
        let name = entry.file_name();
        if !is_dot(name) {
            f(name, entry.file_type());
        }
    }
    Ok(())
}

/// Calls `f` with the name and `d_type` of every entry but `.` and `..` (`readdir`).
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn for_each_name(
    fd: &OwnedFd,
    mut f: impl FnMut(&CStr, FileType),
) -> Result<(), rustix::io::Errno> {
    let mut dir = rustix::fs::Dir::read_from(fd)?;
    while let Some(entry) = dir.read() {
        let entry = entry?;
        let name = entry.file_name();
        if !is_dot(name) {
            f(name, entry.file_type());
        }
    }
    Ok(())
}

fn is_dot(name: &CStr) -> bool {
    matches!(name.to_bytes(), b"." | b"..")
}

fn is_hidden(name: &OsStr) -> bool {
    name.as_bytes().first() == Some(&b'.')
}

/// Files what `getdents` said about one entry: a directory or a file needing no stat is done,
/// anything else waits for [`resolve`].
fn sort_entry(
    cname: &CStr,
    ftype: FileType,
    opts: &ReadOptions,
    out: &mut DirRead,
    pending: &mut Vec<Pending>,
) {
    let name = OsStr::from_bytes(cname.to_bytes());
    let hidden = is_hidden(name);
    if hidden && !opts.hidden_files && !opts.hidden_dirs {
        return;
    }
    match ftype {
        FileType::Directory => {
            if !hidden || opts.hidden_dirs {
                out.subdirs.push(SubDir {
                    name: name.to_os_string(),
                    link: false,
                });
            }
            return;
        }
        FileType::Unknown => {}
        _ if hidden && !opts.hidden_files => return,
        FileType::Symlink if opts.links == Links::Follow => {}
        _ if !opts.stat => {
            out.entries.push(Entry {
                name: name.to_os_string(),
                kind: kind_of(ftype),
                link: false,
                stat: None,
            });
            return;
        }
        _ => {}
    }
    pending.push(Pending {
        name: cname.to_owned(),
        ftype,
    });
}

/// The kind of a non-directory entry taken as itself.
fn kind_of(ftype: FileType) -> EntryKind {
    match ftype {
        FileType::RegularFile => EntryKind::File,
        FileType::Symlink => EntryKind::Symlink,
        _ => EntryKind::Other,
    }
}

/// Stats one pending entry (relative to the directory's descriptor) and settles what it is.
fn resolve(fd: &OwnedFd, p: Pending, opts: &ReadOptions) -> Resolved {
    let mut ftype = p.ftype;
    let mut own = None;
    if ftype == FileType::Unknown {
        // Filesystems without `d_type`: ask the inode.
        match rustix::fs::statat(fd, p.name.as_c_str(), AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => {
                ftype = FileType::from_raw_mode(st.st_mode);
                own = Some(st);
            }
            Err(rustix::io::Errno::NOENT) => return Resolved::Dropped,
            Err(e) => return failed(p, EntryKind::Other, e),
        }
        let hidden = p.name.to_bytes().first() == Some(&b'.');
        if ftype == FileType::Directory {
            return match !hidden || opts.hidden_dirs {
                true => Resolved::SubDir(SubDir {
                    name: into_os(p.name),
                    link: false,
                }),
                false => Resolved::Dropped,
            };
        }
        if hidden && !opts.hidden_files {
            return Resolved::Dropped;
        }
    }
    if ftype == FileType::Symlink && opts.links == Links::Follow {
        return follow(fd, p, opts);
    }
    let kind = kind_of(ftype);
    if !opts.stat {
        return Resolved::Entry(entry(p, kind, false, None));
    }
    match own {
        Some(st) => Resolved::Entry(entry(p, kind, false, Some(&st))),
        None => match rustix::fs::statat(fd, p.name.as_c_str(), AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => Resolved::Entry(entry(p, kind, false, Some(&st))),
            Err(e) => failed(p, kind, e),
        },
    }
}

/// A symbolic link taken through: a directory, a file, or broken.
fn follow(fd: &OwnedFd, p: Pending, opts: &ReadOptions) -> Resolved {
    match rustix::fs::statat(fd, p.name.as_c_str(), AtFlags::empty()) {
        Ok(st) if FileType::from_raw_mode(st.st_mode) == FileType::Directory => {
            Resolved::SubDir(SubDir {
                name: into_os(p.name),
                link: true,
            })
        }
        Ok(st) => {
            let kind = match FileType::from_raw_mode(st.st_mode) {
                FileType::RegularFile => EntryKind::File,
                _ => EntryKind::Other,
            };
            Resolved::Entry(entry(p, kind, true, opts.stat.then_some(&st)))
        }
        // A dangling link is still a name in the folder: listed, with its own stat.
        Err(_) if !opts.stat => Resolved::Entry(entry(p, EntryKind::BrokenLink, false, None)),
        Err(_) => match rustix::fs::statat(fd, p.name.as_c_str(), AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => Resolved::Entry(entry(p, EntryKind::BrokenLink, false, Some(&st))),
            Err(e) => failed(p, EntryKind::BrokenLink, e),
        },
    }
}

fn failed(p: Pending, kind: EntryKind, e: rustix::io::Errno) -> Resolved {
    Resolved::Failed(entry(p, kind, false, None), e.into())
}

fn entry(p: Pending, kind: EntryKind, link: bool, st: Option<&Stat>) -> Entry {
    Entry {
        name: into_os(p.name),
        kind,
        link,
        stat: st.map(entry_stat),
    }
}

/// Converts a stat field of whatever width the platform uses (all are non-negative).
fn n<T: TryInto<u64>>(v: T) -> u64 {
    v.try_into().unwrap_or(0)
}

fn entry_stat(st: &Stat) -> EntryStat {
    EntryStat {
        size: n(st.st_size),
        blocks: n(st.st_blocks),
        dev: n(st.st_dev),
        ino: n(st.st_ino),
        nlink: n(st.st_nlink),
        mtime: mtime(st),
    }
}

/// Converts a signed stat field of whatever width the platform uses (`time_t`).
fn signed<T: TryInto<i64>>(v: T) -> Option<i64> {
    v.try_into().ok()
}

/// The modification time, as `std::fs::Metadata::modified` gives it.
fn mtime(st: &Stat) -> Option<SystemTime> {
    let secs = signed(st.st_mtime)?;
    let nanos = u32::try_from(n(st.st_mtime_nsec)).ok()?;
    let whole = Duration::from_secs(secs.unsigned_abs());
    let t = if secs >= 0 {
        SystemTime::UNIX_EPOCH.checked_add(whole)?
    } else {
        SystemTime::UNIX_EPOCH.checked_sub(whole)?
    };
    t.checked_add(Duration::from_nanos(u64::from(nanos)))
}
