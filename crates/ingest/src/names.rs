//! File names that are not valid UTF-8 (a delivery from another system can hold
//! `notes\xff.txt`): they are ingested like any other, and shown in reports, keys and messages
//! in one lossless escaped form.
//!
//! The form: valid UTF-8 as it is, every byte that is not part of valid UTF-8 as `\xNN`
//! (upper-case hex), and a backslash as `\\`, so two different names never print the same.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// The lossless escaped text of `s` (see the module docs).
pub fn escape_os(s: &OsStr) -> String {
    let mut out = String::with_capacity(s.len());
    for chunk in s.as_bytes().utf8_chunks() {
        for c in chunk.valid().chars() {
            if c == '\\' {
                out.push_str("\\\\");
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02X}"));
        }
    }
    out
}

/// The lossless escaped text of a path.
pub fn escape_path(p: &Path) -> String {
    escape_os(p.as_os_str())
}

/// The escaped text of a path's file name (empty when it has none): what checksums of a clip's
/// content are keyed by.
pub fn escape_file_name(p: &Path) -> String {
    p.file_name().map(escape_os).unwrap_or_default()
}

/// Serializes a path in its escaped form (serde `serialize_with`): JSON can only hold text, and a
/// path that is not UTF-8 must not make the whole report unwritable.
pub fn ser_path<S: serde::Serializer>(p: &Path, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&escape_path(p))
}

/// [`ser_path`] for an optional path.
pub fn ser_opt_path<S: serde::Serializer>(p: &Option<PathBuf>, s: S) -> Result<S::Ok, S::Error> {
    match p {
        Some(p) => s.serialize_some(&escape_path(p)),
        None => s.serialize_none(),
    }
}

/// [`ser_path`] for a list of paths.
pub fn ser_paths<S: serde::Serializer>(ps: &[PathBuf], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(ps.iter().map(|p| escape_path(p)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_losslessly() {
        let raw = OsStr::from_bytes(b"notes\xff\\x.t\xc3\xa9xt");
        assert_eq!(escape_os(raw), "notes\\xFF\\\\x.t\u{e9}xt");
        assert_ne!(
            escape_os(OsStr::from_bytes(b"a\xff")),
            escape_os(OsStr::from_bytes(b"a\\xFF"))
        );
        assert_eq!(escape_os(OsStr::new("plain.exr")), "plain.exr");
    }
}
