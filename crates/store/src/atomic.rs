//! Atomic file writes: a temp file in the target's folder, fsync, rename, fsync the folder. A
//! reader (or a crash) sees the old state or the complete new file, never half of one.

use std::io::Write;
use std::path::Path;

use crate::error::{IoContext, Result, StoreError};

/// Writes `bytes` to `path` atomically. With `clobber` false an existing file is never replaced
/// (the rename is a hard link + unlink, which fails if the target exists): published manifests
/// and `init`'s config must not overwrite anything.
pub fn write_atomic(path: &Path, bytes: &[u8], clobber: bool) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = temp_builder(".shotline-tmp-").tempfile_in(dir).io(dir)?;
    tmp.write_all(bytes).io(tmp.path())?;
    tmp.as_file().sync_all().io(tmp.path())?;
    crate::hooks::pause_at("manifest-written");
    if clobber {
        tmp.persist(path).map_err(|e| StoreError::Io {
            path: path.to_path_buf(),
            source: e.error,
        })?;
    } else {
        tmp.persist_noclobber(path).map_err(|e| {
            let source = if e.error.kind() == std::io::ErrorKind::AlreadyExists {
                std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    "already exists; refusing to overwrite it",
                )
            } else {
                e.error
            };
            StoreError::Io {
                path: path.to_path_buf(),
                source,
            }
        })?;
    }
    sync_dir(dir)
}

/// A temp-file builder whose files get the ordinary mode (0666 less the umask) rather than
/// tempfile's private 0600: a manifest or config must be readable by the rest of the studio.
pub(crate) fn temp_builder(prefix: &str) -> tempfile::Builder<'_, '_> {
    let mut b = tempfile::Builder::new();
    b.prefix(prefix);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        b.permissions(std::fs::Permissions::from_mode(0o666));
    }
    b
}

/// Makes a rename in `dir` durable.
pub fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .io(dir)?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noclobber_refuses_and_keeps_old() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.json");
        write_atomic(&p, b"one", false).unwrap();
        let e = write_atomic(&p, b"two", false).unwrap_err();
        assert!(e.to_string().contains("refusing to overwrite"), "{e}");
        assert_eq!(std::fs::read(&p).unwrap(), b"one");
        write_atomic(&p, b"three", true).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"three");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode();
            assert_ne!(mode & 0o044, 0, "readable by others: {mode:o}");
        }
        // No temp files left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
