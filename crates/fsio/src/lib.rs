//! shotline-fsio: the one implementation of the project's atomic-write rule.
//!
//! Every write to a production path goes to a uniquely named temp file in the target's folder,
//! is fsynced, renamed over (or, for published files, next to) the final name, and then the
//! folder is fsynced. A reader, another machine on the share, or a crash sees the old state or
//! the complete new file, never half of one. Published files are never replaced: the no-clobber
//! rename refuses atomically instead of checking first and racing another writer.
//!
//! The store, the render queue and ingest used to carry three copies of this logic with
//! different temp naming, permissions and clean-up; this crate is the single place to get it
//! right.

#![warn(missing_docs)]

mod host;

pub use host::host_name;

use std::io::Write;
use std::path::{Path, PathBuf};

/// Prefix of the temp files [`write_atomic`] creates, so a leftover from a killed process is
/// recognisable as ours (and never mistaken for a deliverable).
pub const TEMP_PREFIX: &str = ".shotline-tmp-";

/// Whether a write may replace an existing file. An enum rather than a `bool` so every call
/// site says which rule it follows: published files must never be overwritten.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overwrite {
    /// Fail with [`FsioError::Exists`] if the target exists (published versions, manifests,
    /// MHL hash lists, `init`'s config). The check and the rename are one atomic step.
    Never,
    /// Atomically replace the target if it exists (state files, reports, sidecars).
    Replace,
}

/// Why an atomic write failed. Every variant names the path, so messages are actionable as
/// they are.
#[derive(Debug, thiserror::Error)]
pub enum FsioError {
    /// The target exists and [`Overwrite::Never`] was asked for; nothing was changed.
    #[error("{path} already exists; refusing to overwrite it")]
    Exists {
        /// The target that already exists.
        path: PathBuf,
    },
    /// An OS call failed.
    #[error("cannot {op} {path}: {source}")]
    Io {
        /// What was being done ("write", "fsync", "rename into place", ...).
        op: &'static str,
        /// The file or folder it was done to.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

impl FsioError {
    /// The path the error is about, for callers that build their own messages.
    pub fn path(&self) -> &Path {
        match self {
            FsioError::Exists { path } | FsioError::Io { path, .. } => path,
        }
    }
}

/// Lets crates whose errors wrap `std::io::Error` use `?`; the kind is kept
/// (`AlreadyExists` for [`FsioError::Exists`]) so callers can still match on it, and the
/// message keeps the path.
impl From<FsioError> for std::io::Error {
    fn from(e: FsioError) -> Self {
        let kind = match &e {
            FsioError::Exists { .. } => std::io::ErrorKind::AlreadyExists,
            FsioError::Io { source, .. } => source.kind(),
        };
        std::io::Error::new(kind, e)
    }
}

/// Result alias for this crate.
pub type Result<T, E = FsioError> = std::result::Result<T, E>;

fn io_err<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> FsioError + 'a {
    move |source| FsioError::Io {
        op,
        path: path.to_path_buf(),
        source,
    }
}

/// The folder a file lives in (`.` for a bare file name), where its temp file must be created
/// so that the rename never crosses filesystems. Public so every "folder beside this file"
/// (backups, safety dumps) is computed one way.
pub fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// A temp-file builder with `prefix` whose files get the ordinary mode (0666 less the umask)
/// rather than tempfile's private 0600: manifests, configs and reports must be readable by the
/// rest of the studio. Public for writers that fill a temp file themselves (database backups).
pub fn temp_builder(prefix: &str) -> tempfile::Builder<'_, '_> {
    let mut b = tempfile::Builder::new();
    b.prefix(prefix);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        b.permissions(std::fs::Permissions::from_mode(0o666));
    }
    b
}

/// Writes `bytes` to `path` atomically and durably (see the crate docs). The temp file is
/// removed on every error path; the target's folder must exist.
pub fn write_atomic(path: &Path, bytes: &[u8], overwrite: Overwrite) -> Result<()> {
    write_atomic_with(path, bytes, overwrite, || {})
}

/// [`write_atomic`] calling `before_rename` once the temp file is complete and fsynced, just
/// before it is renamed into place: crash tests pause there to prove a kill at that moment
/// leaves no half-written or misnamed file.
pub fn write_atomic_with(
    path: &Path,
    bytes: &[u8],
    overwrite: Overwrite,
    before_rename: impl FnOnce(),
) -> Result<()> {
    fill_atomic(
        path,
        overwrite,
        |file, tmp_path| file.write_all(bytes).map_err(io_err("write", tmp_path)),
        before_rename,
    )
}

/// The one atomic write: a temp file in the target's folder filled by `fill`, fsynced,
/// `before_rename` called, renamed into place (refusing an existing target for
/// [`Overwrite::Never`]) and the folder fsynced. `fill` streams into the file, so a large copy
/// never has to sit in memory.
fn fill_atomic(
    path: &Path,
    overwrite: Overwrite,
    fill: impl FnOnce(&mut std::fs::File, &Path) -> Result<()>,
    before_rename: impl FnOnce(),
) -> Result<()> {
    let dir = parent_dir(path);
    let mut tmp = temp_builder(TEMP_PREFIX)
        .tempfile_in(dir)
        .map_err(io_err("create a temp file in", dir))?;
    let tmp_path = tmp.path().to_path_buf();
    fill(tmp.as_file_mut(), &tmp_path)?;
    tmp.as_file()
        .sync_all()
        .map_err(io_err("fsync", tmp.path()))?;
    before_rename();
    // From here the temp file is tracked by its path alone; dropping it on an error removes it.
    let tmp = tmp.into_temp_path();
    let renamed = match overwrite {
        Overwrite::Replace => std::fs::rename(&tmp, path),
        Overwrite::Never => rename_noreplace(&tmp, path),
    };
    match renamed {
        Ok(()) => {
            // The temp name no longer exists; disarm the clean-up so it never touches the path.
            let _ = tmp.keep();
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(FsioError::Exists {
                path: path.to_path_buf(),
            })
        }
        Err(e) => return Err(io_err("rename into place", path)(e)),
    }
    sync_dir(dir)
}

/// Copies `from` to `to` atomically (scene snapshots): readers of `to` never see a partial
/// copy. The content is streamed, never held in memory whole.
pub fn copy_atomic(from: &Path, to: &Path, overwrite: Overwrite) -> Result<()> {
    let mut source = std::fs::File::open(from).map_err(io_err("read", from))?;
    fill_atomic(
        to,
        overwrite,
        |file, _| {
            std::io::copy(&mut source, file)
                .map(drop)
                .map_err(io_err("copy", from))
        },
        || {},
    )
}

/// Renames `from` to `to`, failing with `AlreadyExists` instead of replacing `to`, in one
/// atomic step (`renameat2(RENAME_NOREPLACE)` on Linux; a hard link, which never replaces,
/// then unlinking `from` where the kernel or filesystem lacks it). Checking for `to` first
/// and then renaming would race another writer and could overwrite a published file.
pub fn rename_noreplace(from: &Path, to: &Path) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{renameat_with, RenameFlags, CWD};
        use rustix::io::Errno;
        match renameat_with(CWD, from, CWD, to, RenameFlags::NOREPLACE) {
            Ok(()) => return Ok(()),
            Err(e) if e == Errno::INVAL || e == Errno::NOSYS || e == Errno::OPNOTSUPP => {}
            Err(e) => return Err(e.into()),
        }
    }
    std::fs::hard_link(from, to)?;
    std::fs::remove_file(from)
}

/// fsyncs a folder so that the renames and creations inside it survive a power cut (an fsync
/// of the file alone does not make its new name durable).
pub fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io_err("fsync folder", dir))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn never_refuses_to_replace_and_keeps_old_content() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("a.json");
        write_atomic(&p, b"one", Overwrite::Never).unwrap();
        let e = write_atomic(&p, b"two", Overwrite::Never).unwrap_err();
        assert!(
            matches!(&e, FsioError::Exists { path } if path == &p),
            "{e}"
        );
        assert!(e.to_string().contains("refusing to overwrite"), "{e}");
        assert_eq!(std::fs::read(&p).unwrap(), b"one");
        let io: std::io::Error = e.into();
        assert_eq!(io.kind(), std::io::ErrorKind::AlreadyExists);
        // No temp file left behind by the refused write.
        assert_eq!(names(d.path()), ["a.json"]);
    }

    #[test]
    fn replace_replaces() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("a.json");
        write_atomic(&p, b"one", Overwrite::Replace).unwrap();
        write_atomic(&p, b"two", Overwrite::Replace).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(names(d.path()), ["a.json"]);
    }

    #[test]
    fn no_temp_left_when_the_rename_fails() {
        let d = tempfile::tempdir().unwrap();
        // A non-empty folder under the target name: rename(2) cannot replace it.
        let p = d.path().join("busy");
        std::fs::create_dir(&p).unwrap();
        std::fs::write(p.join("x"), b"x").unwrap();
        let e = write_atomic(&p, b"data", Overwrite::Replace).unwrap_err();
        assert!(
            matches!(&e, FsioError::Io { path, .. } if path == &p),
            "{e}"
        );
        assert_eq!(names(d.path()), ["busy"]);
    }

    #[test]
    fn missing_folder_is_an_error_naming_it() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("missing");
        let e = write_atomic(&dir.join("f"), b"x", Overwrite::Replace).unwrap_err();
        assert_eq!(e.path(), dir);
        assert!(e.to_string().contains("missing"), "{e}");
    }

    #[test]
    fn hook_runs_before_the_target_exists() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("m.json");
        let mut seen = None;
        write_atomic_with(&p, b"m", Overwrite::Never, || {
            seen = Some((p.exists(), names(d.path()).len()));
        })
        .unwrap();
        assert_eq!(seen, Some((false, 1)), "only the temp file existed");
        assert_eq!(std::fs::read(&p).unwrap(), b"m");
    }

    #[cfg(unix)]
    #[test]
    fn files_are_readable_by_others() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("r");
        write_atomic(&p, b"r", Overwrite::Never).unwrap();
        let mode = std::fs::metadata(&p).unwrap().permissions().mode();
        assert_ne!(mode & 0o044, 0, "readable by others: {mode:o}");
    }

    #[test]
    fn copy_atomic_copies_and_respects_never() {
        let d = tempfile::tempdir().unwrap();
        let a = d.path().join("a");
        let b = d.path().join("b");
        std::fs::write(&a, b"scene").unwrap();
        copy_atomic(&a, &b, Overwrite::Never).unwrap();
        assert_eq!(std::fs::read(&b).unwrap(), b"scene");
        assert!(copy_atomic(&a, &b, Overwrite::Never).is_err());
        let e = copy_atomic(&d.path().join("nope"), &b, Overwrite::Replace).unwrap_err();
        assert!(e.to_string().contains("nope"), "{e}");
    }

    #[test]
    fn rename_noreplace_refuses_existing() {
        let d = tempfile::tempdir().unwrap();
        let a = d.path().join("a");
        let b = d.path().join("b");
        std::fs::write(&a, b"a").unwrap();
        std::fs::write(&b, b"b").unwrap();
        let e = rename_noreplace(&a, &b).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&b).unwrap(), b"b");
        assert!(a.exists());
        std::fs::remove_file(&b).unwrap();
        rename_noreplace(&a, &b).unwrap();
        assert!(!a.exists());
        assert_eq!(std::fs::read(&b).unwrap(), b"a");
    }
}
