//! Finding clips in a delivery: image sequences, movies and other files.
//!
//! A delivery is walked without following symlinks (a link could point out of the delivery or
//! loop), and files are grouped per directory: the frame number is the last digit run directly
//! before the extension, so `SQ010_SH020_plate_v003.1001.exr` is frame 1001 of one clip.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// Extensions grouped into image sequences even when only one frame is present.
pub const IMAGE_EXTS: &[&str] = &[
    "exr", "dpx", "cin", "tif", "tiff", "png", "jpg", "jpeg", "tga", "hdr", "bmp",
];
/// Extensions treated as movies.
pub const MOVIE_EXTS: &[&str] = &[
    "mov", "mp4", "mxf", "avi", "mkv", "m4v", "webm", "r3d", "braw",
];
/// System clutter never ingested.
const JUNK: &[&str] = &[".DS_Store", "Thumbs.db", "desktop.ini"];

/// What kind of clip this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ClipKind {
    /// Numbered image frames.
    Sequence,
    /// One movie file.
    Movie,
    /// Any other single file (audio, LUTs, documents).
    File,
}

/// One file of a clip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceFile {
    /// Absolute path in the delivery.
    pub path: PathBuf,
    /// Frame number for sequence frames.
    pub frame: Option<i64>,
    /// The frame digits as written (keeps padding).
    pub frame_text: Option<String>,
    /// Size in bytes.
    pub size: u64,
}

/// A unit of ingest: a sequence, a movie or a single file.
#[derive(Debug, Clone, Serialize)]
pub struct Clip {
    /// Display name: `name.####.exr`-style pattern for sequences, file name otherwise.
    pub name: String,
    /// Name without frame number, separator and extension (what rules match).
    pub base: String,
    /// Extension, lower case, without dot.
    pub ext: String,
    /// Directory in the delivery, relative to the delivery root.
    pub rel_dir: PathBuf,
    /// The delivery root this clip was found in.
    pub delivery: PathBuf,
    /// Sequence, movie or file.
    pub kind: ClipKind,
    /// Files, ordered by frame.
    pub files: Vec<SourceFile>,
}

impl Clip {
    /// Total bytes.
    pub fn size(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }

    /// First and last frame for sequences.
    pub fn frame_range(&self) -> Option<(i64, i64)> {
        let first = self.files.first()?.frame?;
        let last = self.files.last()?.frame?;
        Some((first, last))
    }

    /// Frames missing between first and last.
    pub fn missing_frames(&self) -> Vec<i64> {
        let mut missing = Vec::new();
        for w in self.files.windows(2) {
            if let (Some(a), Some(b)) = (w[0].frame, w[1].frame) {
                missing.extend(a + 1..b);
            }
        }
        missing
    }

    /// Key identifying the clip within a delivery (used by `--override` and resume).
    pub fn key(&self) -> String {
        let dir = self.rel_dir.to_string_lossy();
        if dir.is_empty() {
            self.name.clone()
        } else {
            format!("{dir}/{}", self.name)
        }
    }
}

/// Something found while scanning that is not ingested; reported, never silently dropped.
#[derive(Debug, Clone, Serialize)]
pub struct ScanNote {
    /// The path.
    pub path: PathBuf,
    /// Why it was skipped.
    pub message: String,
}

/// The result of scanning deliveries.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Scan {
    /// Clips found, sorted by delivery and key.
    pub clips: Vec<Clip>,
    /// Skipped entries (symlinks, unreadable directories).
    pub notes: Vec<ScanNote>,
}

/// Why a delivery could not be scanned.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// The delivery root is missing or unreadable.
    #[error("cannot read delivery {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The delivery is not a directory.
    #[error("delivery {0} is not a directory")]
    NotDir(PathBuf),
}

/// Scans one delivery directory.
pub fn scan_delivery(root: &Path) -> Result<Scan, ScanError> {
    // Resolve `..` and symlinks in the given path once, so every clip path is a real path
    // inside the delivery.
    let root = &std::fs::canonicalize(root).map_err(|source| ScanError::Io {
        path: root.to_path_buf(),
        source,
    })?;
    let meta = std::fs::metadata(root).map_err(|source| ScanError::Io {
        path: root.to_path_buf(),
        source,
    })?;
    if !meta.is_dir() {
        return Err(ScanError::NotDir(root.to_path_buf()));
    }
    let mut scan = Scan::default();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) => {
                scan.notes.push(ScanNote {
                    path: dir.clone(),
                    message: format!("unreadable directory: {e}"),
                });
                continue;
            }
        };
        let mut files: Vec<(String, u64)> = Vec::new();
        for entry in entries {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    scan.notes.push(ScanNote {
                        path: dir.clone(),
                        message: format!("unreadable entry: {e}"),
                    });
                    continue;
                }
            };
            let path = entry.path();
            let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                scan.notes.push(ScanNote {
                    path,
                    message: "file name is not valid UTF-8; skipped".into(),
                });
                continue;
            };
            let meta = match std::fs::symlink_metadata(&path) {
                Ok(m) => m,
                Err(e) => {
                    scan.notes.push(ScanNote {
                        path,
                        message: format!("cannot stat: {e}"),
                    });
                    continue;
                }
            };
            if meta.file_type().is_symlink() {
                scan.notes.push(ScanNote {
                    path,
                    message: "symbolic link not followed (could leave the delivery)".into(),
                });
            } else if meta.is_dir() {
                if name != "ascmhl" {
                    stack.push(path);
                }
            } else if meta.is_file() {
                // `._name` files are macOS AppleDouble metadata, never media.
                if !JUNK.contains(&name.as_str()) && !name.starts_with("._") {
                    files.push((name, meta.len()));
                }
            } else {
                scan.notes.push(ScanNote {
                    path,
                    message: "not a regular file; skipped".into(),
                });
            }
        }
        let rel = dir
            .strip_prefix(root)
            .unwrap_or(Path::new(""))
            .to_path_buf();
        scan.clips.extend(group_dir(root, &dir, &rel, files));
    }
    scan.clips.sort_by_key(|c| c.key());
    Ok(scan)
}

/// Splits `name` into (prefix including separator, frame digits with sign, extension).
fn split_frame(name: &str) -> Option<(&str, &str, &str)> {
    let dot = name.rfind('.')?;
    let (stem, ext) = (&name[..dot], &name[dot + 1..]);
    if ext.is_empty() {
        return None;
    }
    let digits_start = stem
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_ascii_digit())
        .last()
        .map(|(i, _)| i)?;
    let mut start = digits_start;
    // A '-' is a sign only at the start or right after a separator.
    if start > 0 && stem.as_bytes()[start - 1] == b'-' {
        let before = if start >= 2 {
            Some(stem.as_bytes()[start - 2])
        } else {
            None
        };
        if matches!(before, None | Some(b'.') | Some(b'_')) {
            start -= 1;
        }
    }
    let digits = &stem[start..];
    if digits.trim_start_matches('-').len() > 18 {
        return None;
    }
    Some((&stem[..start], digits, ext))
}

fn group_dir(root: &Path, dir: &Path, rel: &Path, files: Vec<(String, u64)>) -> Vec<Clip> {
    let mut groups: BTreeMap<(String, String, usize), Vec<SourceFile>> = BTreeMap::new();
    let mut clips = Vec::new();
    for (name, size) in files {
        let ext_lower = name
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase())
            .unwrap_or_default();
        let seq = if IMAGE_EXTS.contains(&ext_lower.as_str()) {
            split_frame(&name)
        } else {
            None
        };
        match seq.and_then(|(p, d, e)| d.parse::<i64>().ok().map(|f| (p, d, e, f))) {
            Some((prefix, digits, ext, frame)) => {
                let width = digits.trim_start_matches('-').len();
                let pad = if digits.trim_start_matches('-').starts_with('0') {
                    width
                } else {
                    0
                };
                groups
                    .entry((prefix.to_string(), ext.to_string(), pad))
                    .or_default()
                    .push(SourceFile {
                        path: dir.join(&name),
                        frame: Some(frame),
                        frame_text: Some(digits.to_string()),
                        size,
                    });
            }
            None => {
                let (stem, ext) = match name.rsplit_once('.') {
                    Some((s, e)) if !s.is_empty() => (s.to_string(), e.to_string()),
                    _ => (name.clone(), String::new()),
                };
                let kind = if MOVIE_EXTS.contains(&ext_lower.as_str()) {
                    ClipKind::Movie
                } else {
                    ClipKind::File
                };
                clips.push(Clip {
                    name: name.clone(),
                    base: stem,
                    ext,
                    rel_dir: rel.to_path_buf(),
                    delivery: root.to_path_buf(),
                    kind,
                    files: vec![SourceFile {
                        path: dir.join(&name),
                        frame: None,
                        frame_text: None,
                        size,
                    }],
                });
            }
        }
    }
    // Unpadded frames (pad 0) join the padded group of the same width when one exists, so
    // `b.9998 … b.10001` stays one clip.
    let keys: Vec<_> = groups.keys().cloned().collect();
    for (prefix, ext, pad) in keys {
        if pad != 0 {
            continue;
        }
        let Some(files) = groups.get(&(prefix.clone(), ext.clone(), 0)) else {
            continue;
        };
        let min_width = files
            .iter()
            .filter_map(|f| f.frame_text.as_deref())
            .map(|t| t.trim_start_matches('-').len())
            .min()
            .unwrap_or(0);
        if groups.contains_key(&(prefix.clone(), ext.clone(), min_width)) {
            if let Some(moved) = groups.remove(&(prefix.clone(), ext.clone(), 0)) {
                if let Some(target) = groups.get_mut(&(prefix, ext, min_width)) {
                    target.extend(moved);
                }
            }
        }
    }
    for ((prefix, ext, pad), mut files) in groups {
        files.sort_by_key(|f| f.frame);
        let width = if pad > 0 {
            pad
        } else {
            files
                .iter()
                .filter_map(|f| f.frame_text.as_deref())
                .map(|t| t.trim_start_matches('-').len())
                .min()
                .unwrap_or(1)
        };
        let base = prefix.trim_end_matches(['.', '_', '-', ' ']).to_string();
        clips.push(Clip {
            name: format!("{prefix}{}.{ext}", "#".repeat(width)),
            base,
            ext,
            rel_dir: rel.to_path_buf(),
            delivery: root.to_path_buf(),
            kind: ClipKind::Sequence,
            files,
        });
    }
    clips
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_split_rules() {
        assert_eq!(
            split_frame("SQ010_SH020_plate_v003.1001.exr"),
            Some(("SQ010_SH020_plate_v003.", "1001", "exr"))
        );
        assert_eq!(split_frame("a.-0001.exr"), Some(("a.", "-0001", "exr")));
        assert_eq!(split_frame("file4-4.exr"), Some(("file4-", "4", "exr")));
        assert_eq!(split_frame("noframe.exr"), None);
    }

    #[test]
    fn groups_sequences_movies_and_files_per_directory() {
        let d = tempfile::tempdir().unwrap();
        let a = d.path().join("SQ010");
        std::fs::create_dir(&a).unwrap();
        for f in [1001, 1002, 1004] {
            std::fs::write(a.join(format!("SH020_bg01.{f}.dpx")), b"x").unwrap();
        }
        std::fs::write(d.path().join("A001C003_230101_R1AB.mov"), b"m").unwrap();
        std::fs::write(d.path().join("notes.txt"), b"n").unwrap();
        std::fs::write(d.path().join(".DS_Store"), b"n").unwrap();
        std::fs::write(d.path().join("._notes.txt"), b"n").unwrap();
        std::os::unix::fs::symlink("/etc", d.path().join("link")).unwrap();
        let s = scan_delivery(d.path()).unwrap();
        let names: Vec<_> = s.clips.iter().map(|c| c.key()).collect();
        assert_eq!(
            names,
            vec![
                "A001C003_230101_R1AB.mov",
                "SQ010/SH020_bg01.####.dpx",
                "notes.txt"
            ]
        );
        let seq = &s.clips[1];
        assert_eq!(seq.base, "SH020_bg01");
        assert_eq!(seq.frame_range(), Some((1001, 1004)));
        assert_eq!(seq.missing_frames(), vec![1003]);
        assert_eq!(s.clips[0].kind, ClipKind::Movie);
        assert_eq!(s.notes.len(), 1, "symlink reported");
    }

    #[test]
    fn resolves_dotdot_and_reports_missing() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("a")).unwrap();
        std::fs::write(d.path().join("a/x.mov"), b"m").unwrap();
        let s = scan_delivery(&d.path().join("a/../a")).unwrap();
        assert!(!s.clips[0].files[0].path.to_string_lossy().contains(".."));
        let e = scan_delivery(&d.path().join("missing")).unwrap_err();
        assert!(e.to_string().contains("missing"), "{e}");
    }
}
