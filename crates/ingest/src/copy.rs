//! The atomic, verified file copy.
//!
//! A copy is written under a temp name in the destination directory, hashed while it is written,
//! fsynced, read back from storage and compared, given the source's mtime and only then renamed
//! to its final name without ever replacing an existing file. So a file under a final name is
//! always complete and verified, whatever happens to the process; leftovers are temp files that
//! [`clean_temp_leftovers`] removes.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use shotline_fsio::rename_noreplace;

use crate::hash::{hash_file, HashAlgo};

/// Prefix of every temp file the copy engine creates; nothing else ever starts with it.
pub const TEMP_PREFIX: &str = ".shotline-partial.";

/// How copies are made.
#[derive(Debug, Clone)]
pub struct CopyOptions {
    /// Checksum computed while copying and compared on read-back.
    pub algo: HashAlgo,
    /// Read/write buffer size; large buffers keep disks and networks streaming.
    pub buf_size: usize,
    /// Re-read each copy and compare checksums before renaming it.
    pub verify: bool,
    /// Drop the copy's cached pages after fsync so the re-read comes from storage (proves what
    /// the disk holds, at the cost of a second pass over the disk); `false` re-reads through the
    /// page cache.
    pub from_storage: bool,
    /// Testing aid: pause this long after every 64 KiB written, so a test can kill a copy in the
    /// middle. `None` in production.
    pub throttle: Option<Duration>,
}

impl Default for CopyOptions {
    fn default() -> Self {
        CopyOptions {
            algo: HashAlgo::Xxh128,
            buf_size: 8 << 20,
            verify: true,
            from_storage: true,
            throttle: None,
        }
    }
}

/// What a copy did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copied {
    /// Checksum of the content (source and destination agree).
    pub hash: String,
    /// Bytes in the file.
    pub size: u64,
    /// True when the destination already held identical content and nothing was written.
    pub already_present: bool,
}

/// Why a copy failed. Every variant names the file involved.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    /// Reading the source, writing the temp file, fsync or rename failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The read-back checksum differs from the one computed while copying.
    #[error("verification failed for {path}: wrote {expected} ({algo}) but read back {actual}")]
    VerifyFailed {
        /// The copy (temp file, removed).
        path: PathBuf,
        /// Checksum computed while copying.
        expected: String,
        /// Checksum read back.
        actual: String,
        /// The algorithm.
        algo: HashAlgo,
    },
    /// The source changed while it was being copied (size, modification or change time, or the
    /// file under its name): the copy matches neither version, so it is discarded.
    #[error("source {path} changed while it was being copied ({what}); the copy was discarded: copy it again once the delivery is complete")]
    SourceChanged {
        /// The source file.
        path: PathBuf,
        /// What differs (`size 10 -> 12 bytes`, `modification time`, …).
        what: String,
    },
    /// A different file already exists under the destination name; it is never replaced.
    #[error("destination {path} already exists with different content ({existing} vs source {source_hash}); not overwritten")]
    Exists {
        /// The destination.
        path: PathBuf,
        /// Checksum of the existing file.
        existing: String,
        /// Checksum of the source.
        source_hash: String,
    },
}

fn io<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> CopyError + 'a {
    move |source| CopyError::Io {
        op,
        path: path.to_path_buf(),
        source,
    }
}

/// The temp name used for `dst` by this process.
pub fn temp_path(dst: &Path) -> PathBuf {
    let name = dst
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    dst.with_file_name(format!("{TEMP_PREFIX}{name}.{}", std::process::id()))
}

/// A copy written under its temp name, hashed, with the source mtime, not yet synced or renamed.
#[derive(Debug)]
pub struct Staged {
    /// The temp file.
    pub tmp: PathBuf,
    /// Checksum computed while copying.
    pub hash: String,
    /// Bytes written.
    pub size: u64,
}

/// The result of [`stage`]: either a temp file to [`commit`], or nothing to do.
#[derive(Debug)]
pub enum StageResult {
    /// Written to a temp file; sync it (or its filesystem), then [`commit`].
    Pending(Staged),
    /// The destination already holds identical content.
    Done(Copied),
}

/// First half of a copy: writes `src` to a temp name beside `dst` while hashing it, gives it the
/// source mtime and starts writeback, but neither waits for the disk nor renames. Splitting the
/// copy lets the caller sync many files with one `syncfs` (one journal commit instead of one per
/// file) before verifying and renaming them with [`commit`].
pub fn stage(
    src: &Path,
    dst: &Path,
    opts: &CopyOptions,
    on_bytes: &(dyn Fn(u64) + Sync),
) -> Result<StageResult, CopyError> {
    if dst.symlink_metadata().is_ok() {
        return compare_existing(src, dst, opts).map(StageResult::Done);
    }
    let mut input = File::open(src).map_err(io("cannot open source", src))?;
    let meta = input.metadata().map_err(io("cannot stat source", src))?;
    let before = SourceStamp::of(&meta);
    let tmp = temp_path(dst);
    let mut out = match OpenOptions::new().write(true).create_new(true).open(&tmp) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            std::fs::remove_file(&tmp).map_err(io("cannot remove stale temp file", &tmp))?;
            OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&tmp)
                .map_err(io("cannot create temp file", &tmp))?
        }
        Err(e) => return Err(io("cannot create temp file", &tmp)(e)),
    };
    let result = (|| {
        let chunk = if opts.throttle.is_some() {
            64 << 10
        } else {
            opts.buf_size.max(64 << 10)
        };
        let mut buf = vec![0u8; chunk];
        let mut hasher = opts.algo.hasher();
        let mut total = 0u64;
        loop {
            let n = read_full(&mut input, &mut buf).map_err(io("cannot read source", src))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n])
                .map_err(io("cannot write temp file", &tmp))?;
            start_writeback(&out, total, n as u64);
            total += n as u64;
            on_bytes(n as u64);
            if let Some(d) = opts.throttle {
                std::thread::sleep(d);
            }
        }
        check_source_unchanged(src, &input, &before, total)?;
        // The source mtime is set before any sync so that it is durable with the data.
        let mtime = filetime::FileTime::from_last_modification_time(&meta);
        filetime::set_file_handle_times(&out, None, Some(mtime))
            .map_err(io("cannot set mtime on", &tmp))?;
        Ok((hasher.finish(), total))
    })();
    drop(out);
    match result {
        Ok((hash, size)) => Ok(StageResult::Pending(Staged { tmp, hash, size })),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Second half of a copy, once the temp file is durable (fsynced, or its filesystem synced):
/// re-reads it (from storage when `opts.from_storage`: its clean cached pages are dropped
/// first), compares checksums, and renames it to `dst` without replacing anything. The temp file
/// is removed on any failure.
pub fn commit(
    staged: Staged,
    src: &Path,
    dst: &Path,
    opts: &CopyOptions,
) -> Result<Copied, CopyError> {
    let Staged { tmp, hash, size } = staged;
    if opts.verify {
        let verify = || -> Result<(), CopyError> {
            let f = File::open(&tmp).map_err(io("cannot open temp file", &tmp))?;
            if opts.from_storage {
                drop_cache(&f);
            }
            let (back, _) = hash_file(&tmp, opts.algo, opts.buf_size)
                .map_err(io("cannot read back temp file", &tmp))?;
            if opts.from_storage {
                drop_cache(&f);
            }
            if back != hash {
                return Err(CopyError::VerifyFailed {
                    path: tmp.clone(),
                    expected: hash.clone(),
                    actual: back,
                    algo: opts.algo,
                });
            }
            Ok(())
        };
        if let Err(e) = verify() {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
    }
    match rename_noreplace(&tmp, dst) {
        Ok(()) => Ok(Copied {
            hash,
            size,
            already_present: false,
        }),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let _ = std::fs::remove_file(&tmp);
            compare_existing(src, dst, opts)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(io("cannot rename temp file to", dst)(e))
        }
    }
}

/// Copies `src` to `dst` atomically and verified (see the module docs): [`stage`], fsync the
/// temp file, [`commit`]. `on_bytes` is called with the number of bytes written after every
/// chunk (for progress bars).
///
/// When `dst` already exists its content is compared with the source: identical content is
/// reported as `already_present`, anything else is [`CopyError::Exists`].
pub fn copy_verified(
    src: &Path,
    dst: &Path,
    opts: &CopyOptions,
    on_bytes: &(dyn Fn(u64) + Sync),
) -> Result<Copied, CopyError> {
    let staged = match stage(src, dst, opts, on_bytes)? {
        StageResult::Done(c) => return Ok(c),
        StageResult::Pending(s) => s,
    };
    let synced = OpenOptions::new()
        .write(true)
        .open(&staged.tmp)
        .and_then(|f| f.sync_all());
    if let Err(e) = synced {
        let _ = std::fs::remove_file(&staged.tmp);
        return Err(io("cannot fsync temp file", &staged.tmp)(e));
    }
    commit(staged, src, dst, opts)
}

/// Flushes the whole filesystem holding `dir` to storage (`syncfs`): one journal commit for a
/// batch of staged copies.
pub fn sync_filesystem(dir: &Path) -> std::io::Result<()> {
    let f = File::open(dir)?;
    #[cfg(target_os = "linux")]
    {
        rustix::fs::syncfs(&f)?;
        Ok(())
    }
    #[cfg(not(target_os = "linux"))]
    f.sync_all()
}

/// What identifies the state of a source file: a rewrite (even at the same size) changes its
/// change time, a replacement by rename changes the inode under its name.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SourceStamp {
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
    dev: u64,
    ino: u64,
}

impl SourceStamp {
    fn of(m: &std::fs::Metadata) -> SourceStamp {
        use std::os::unix::fs::MetadataExt;
        SourceStamp {
            size: m.len(),
            mtime: (m.mtime(), m.mtime_nsec()),
            ctime: (m.ctime(), m.ctime_nsec()),
            dev: m.dev(),
            ino: m.ino(),
        }
    }

    /// What differs from `self` in `now`, in words; `None` when nothing does.
    fn difference(&self, now: &SourceStamp) -> Option<String> {
        if self.size != now.size {
            Some(format!("size {} -> {} bytes", self.size, now.size))
        } else if (self.dev, self.ino) != (now.dev, now.ino) {
            Some("another file was put under its name".into())
        } else if self.mtime != now.mtime {
            Some("its modification time changed".into())
        } else if self.ctime != now.ctime {
            Some("it was written to or its attributes changed".into())
        } else {
            None
        }
    }
}

/// Fails when the source changed during the copy: the bytes read differ from its size at the
/// start, or the open file or the file now under its name has another stamp.
fn check_source_unchanged(
    src: &Path,
    input: &File,
    before: &SourceStamp,
    read: u64,
) -> Result<(), CopyError> {
    let changed = |what: String| CopyError::SourceChanged {
        path: src.to_path_buf(),
        what,
    };
    if read != before.size {
        return Err(changed(format!(
            "{} bytes at the start, {read} read",
            before.size
        )));
    }
    let open_now = SourceStamp::of(&input.metadata().map_err(io("cannot stat source", src))?);
    if let Some(what) = before.difference(&open_now) {
        return Err(changed(what));
    }
    let named_now =
        SourceStamp::of(&std::fs::metadata(src).map_err(io("cannot stat source", src))?);
    if let Some(what) = before.difference(&named_now) {
        return Err(changed(what));
    }
    Ok(())
}

fn compare_existing(src: &Path, dst: &Path, opts: &CopyOptions) -> Result<Copied, CopyError> {
    let (existing, size) =
        hash_file(dst, opts.algo, opts.buf_size).map_err(io("cannot read existing", dst))?;
    let (source_hash, _) =
        hash_file(src, opts.algo, opts.buf_size).map_err(io("cannot read source", src))?;
    if existing == source_hash {
        Ok(Copied {
            hash: existing,
            size,
            already_present: true,
        })
    } else {
        Err(CopyError::Exists {
            path: dst.to_path_buf(),
            existing,
            source_hash,
        })
    }
}

fn read_full(f: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match f.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Starts (without waiting for) writeback of the bytes just written, so dirty pages never pile
/// up and the final fsync has little left to do.
#[allow(unsafe_code)] // the one syscall rustix lacks; see the SAFETY note
fn start_writeback(f: &File, offset: u64, len: u64) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        // rustix has no sync_file_range, hence the one raw call left.
        // SAFETY: plain syscall on a valid, open descriptor; a hint, errors are harmless.
        unsafe {
            libc::sync_file_range(
                f.as_raw_fd(),
                offset as libc::off64_t,
                len as libc::off64_t,
                libc::SYNC_FILE_RANGE_WRITE,
            );
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (f, offset, len);
}

/// Asks the kernel to drop clean cached pages of `f`, so the verification read comes from storage.
fn drop_cache(f: &File) {
    #[cfg(target_os = "linux")]
    {
        // Advice only: when it is not taken the read-back comes from the cache, as with
        // `verify: cache`.
        let _ = rustix::fs::fadvise(f, 0, None, rustix::fs::Advice::DontNeed);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = f;
}

/// Removes temp files left in `dir` by interrupted copies and by interrupted atomic writes
/// (sidecar, reports: `shotline_fsio`'s temp names); returns what was removed. Only names
/// starting with [`TEMP_PREFIX`] or [`shotline_fsio::TEMP_PREFIX`] are touched.
pub fn clean_temp_leftovers(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(removed),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if (name.starts_with(TEMP_PREFIX) || name.starts_with(shotline_fsio::TEMP_PREFIX))
            && entry.file_type()?.is_file()
        {
            std::fs::remove_file(entry.path())?;
            removed.push(entry.path());
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup(content: &[u8]) -> (tempfile::TempDir, PathBuf, PathBuf) {
        let d = tempfile::tempdir().unwrap();
        let src = d.path().join("src.bin");
        std::fs::write(&src, content).unwrap();
        let past = filetime::FileTime::from_unix_time(1_600_000_000, 0);
        filetime::set_file_mtime(&src, past).unwrap();
        let dst_dir = d.path().join("out");
        std::fs::create_dir(&dst_dir).unwrap();
        let dst = dst_dir.join("dst.bin");
        (d, src, dst)
    }

    #[test]
    fn copies_hashes_and_keeps_mtime() {
        let data: Vec<u8> = (0..300_000u32).map(|i| (i * 7) as u8).collect();
        let (_d, src, dst) = setup(&data);
        let counted = std::sync::atomic::AtomicU64::new(0);
        let c = copy_verified(&src, &dst, &CopyOptions::default(), &|n| {
            counted.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
        })
        .unwrap();
        assert_eq!(std::fs::read(&dst).unwrap(), data);
        assert_eq!(c.hash, crate::hash::hash_bytes(&data, HashAlgo::Xxh128));
        assert_eq!(counted.into_inner(), data.len() as u64);
        let m = filetime::FileTime::from_last_modification_time(&dst.metadata().unwrap());
        assert_eq!(m.unix_seconds(), 1_600_000_000);
        assert!(clean_temp_leftovers(dst.parent().unwrap())
            .unwrap()
            .is_empty());
    }

    #[test]
    fn every_mode_and_algorithm_copies_exactly() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 253) as u8).collect();
        for from_storage in [true, false] {
            for algo in HashAlgo::ALL {
                let (_d, src, dst) = setup(&data);
                let opts = CopyOptions {
                    algo,
                    from_storage,
                    buf_size: 64 << 10,
                    ..CopyOptions::default()
                };
                let c = copy_verified(&src, &dst, &opts, &|_| {}).unwrap();
                assert_eq!(c.hash, crate::hash::hash_bytes(&data, algo));
                assert_eq!(std::fs::read(&dst).unwrap(), data);
            }
        }
    }

    #[test]
    fn never_overwrites_different_content() {
        let (_d, src, dst) = setup(b"new content");
        std::fs::write(&dst, b"published, precious").unwrap();
        let e = copy_verified(&src, &dst, &CopyOptions::default(), &|_| {}).unwrap_err();
        assert!(matches!(e, CopyError::Exists { .. }), "{e}");
        assert_eq!(std::fs::read(&dst).unwrap(), b"published, precious");
    }

    #[test]
    fn identical_existing_file_is_already_present() {
        let (_d, src, dst) = setup(b"same");
        std::fs::write(&dst, b"same").unwrap();
        let c = copy_verified(&src, &dst, &CopyOptions::default(), &|_| {}).unwrap();
        assert!(c.already_present);
    }

    #[test]
    fn a_source_rewritten_at_the_same_size_during_the_copy_fails() {
        let data = vec![7u8; 200_000];
        let (_d, src, dst) = setup(&data);
        let opts = CopyOptions {
            buf_size: 64 << 10,
            ..CopyOptions::default()
        };
        let rewritten = std::sync::atomic::AtomicBool::new(false);
        let e = copy_verified(&src, &dst, &opts, &|_| {
            if !rewritten.swap(true, std::sync::atomic::Ordering::Relaxed) {
                use std::os::unix::fs::FileExt;
                let f = OpenOptions::new().write(true).open(&src).unwrap();
                f.write_all_at(&[9u8; 100_000], 100_000).unwrap();
            }
        })
        .unwrap_err();
        assert!(matches!(e, CopyError::SourceChanged { .. }), "{e}");
        assert!(!dst.exists());
        assert!(clean_temp_leftovers(dst.parent().unwrap())
            .unwrap()
            .is_empty());
    }

    #[test]
    fn cleans_only_temp_files() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join(format!("{TEMP_PREFIX}x.exr.123")), b"p").unwrap();
        std::fs::write(d.path().join(".shotline-tmp-Ab12Cd"), b"p").unwrap();
        std::fs::write(d.path().join("keep.exr"), b"k").unwrap();
        let removed = clean_temp_leftovers(d.path()).unwrap();
        assert_eq!(removed.len(), 2);
        assert!(d.path().join("keep.exr").exists());
    }
}
