//! Byte views of OS strings, so grouping works on names that are not valid UTF-8.
//!
//! On Unix a file name is any byte string; studios do meet Latin-1 names from old Windows
//! shares. We split names only at ASCII bytes (`.`, `_`, `-`, digits), which keeps every piece a
//! valid OS string. On other platforms a name that is not valid Unicode is treated as a plain
//! file (it is never split).

use std::ffi::{OsStr, OsString};

/// The bytes of `s`, or `None` when this platform cannot split it safely.
#[cfg(unix)]
pub(crate) fn bytes(s: &OsStr) -> Option<&[u8]> {
    use std::os::unix::ffi::OsStrExt;
    Some(s.as_bytes())
}

/// The bytes of `s`, or `None` when this platform cannot split it safely.
#[cfg(not(unix))]
pub(crate) fn bytes(s: &OsStr) -> Option<&[u8]> {
    s.to_str().map(str::as_bytes)
}

/// An OS string from bytes produced by splitting [`bytes`] at ASCII boundaries.
#[cfg(unix)]
pub(crate) fn from_bytes(b: &[u8]) -> OsString {
    use std::os::unix::ffi::OsStrExt;
    OsStr::from_bytes(b).to_os_string()
}

/// An OS string from bytes produced by splitting [`bytes`] at ASCII boundaries.
#[cfg(not(unix))]
pub(crate) fn from_bytes(b: &[u8]) -> OsString {
    String::from_utf8_lossy(b).into_owned().into()
}

/// The OS error number for "too many levels of symbolic links" (`ELOOP`).
#[cfg(any(target_os = "linux", target_os = "android"))]
const ELOOP: i32 = 40;
/// The OS error number for "too many levels of symbolic links" (`ELOOP`).
#[cfg(all(unix, not(any(target_os = "linux", target_os = "android"))))]
const ELOOP: i32 = 62;

/// True when `e` means a path runs through a symlink loop (`a -> b -> a`, `self -> self`), so
/// callers can say "symlink loop" rather than the OS's "too many levels of symbolic links" or,
/// worse, "no such file".
pub fn is_symlink_loop(e: &std::io::Error) -> bool {
    #[cfg(unix)]
    {
        e.raw_os_error() == Some(ELOOP)
    }
    #[cfg(not(unix))]
    {
        let _ = e;
        false
    }
}
