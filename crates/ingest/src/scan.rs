//! Finding clips in a delivery: image sequences, movies and other files.
//!
//! A delivery is walked by `shotline_sequences::walk_entries`, the walker every command uses,
//! without following links to directories (they could loop); a symbolic link to a file inside
//! the delivery (a held frame) is ingested as its target's content, one leaving the delivery is
//! refused and reported as a problem. Image files are grouped per directory by
//! `shotline_sequences` (the frame number is the digit run directly before the extension, so
//! `SQ010_SH020_plate_v003.1001.exr` is frame 1001 of one clip), the same rules every other
//! shotline command uses.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;
use shotline_frames::FrameSet;
use shotline_media::FileKind;
use shotline_sequences::{walk_entries, EntryKind, EntryListing, EntryOptions};

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
    #[serde(serialize_with = "crate::names::ser_path")]
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
    #[serde(serialize_with = "crate::names::ser_path")]
    pub rel_dir: PathBuf,
    /// The delivery root this clip was found in.
    #[serde(serialize_with = "crate::names::ser_path")]
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

    /// Frames missing between first and last, as runs: one gap is one run whatever its
    /// length, so frames 1001 and 100000000 cost one run, not 100 million frames.
    pub fn missing_frames(&self) -> FrameSet {
        FrameSet::from_frames(self.files.iter().filter_map(|f| f.frame)).gaps()
    }

    /// Key identifying the clip within a delivery (used by `--override` and resume).
    pub fn key(&self) -> String {
        let dir = crate::names::escape_path(&self.rel_dir);
        if dir.is_empty() {
            self.name.clone()
        } else {
            format!("{dir}/{}", self.name)
        }
    }
}

/// The target of the symbolic link `link` and its metadata, when it is a regular file inside
/// the delivery `root`; else why the link is refused.
fn link_inside(root: &Path, link: &Path) -> Result<(PathBuf, std::fs::Metadata), String> {
    let shown = crate::names::escape_path(link);
    let target = std::fs::canonicalize(link)
        .map_err(|e| format!("symbolic link {shown} cannot be followed ({e}): refused"))?;
    let target_shown = crate::names::escape_path(&target);
    if !target.starts_with(root) {
        return Err(format!(
            "symbolic link {shown} points outside the delivery, to {target_shown}: refused (copy the file into the delivery)"
        ));
    }
    let meta = std::fs::metadata(&target)
        .map_err(|e| format!("symbolic link {shown}: cannot read {target_shown}: {e}"))?;
    if !meta.is_file() {
        return Err(format!(
            "symbolic link {shown} points to {target_shown}, which is not a regular file: refused"
        ));
    }
    Ok((target, meta))
}

/// What a scan note is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoteKind {
    /// Skipped and harmless (an unreadable directory, a device file, a duplicate padding).
    Skipped,
    /// A symbolic link inside the delivery, ingested as its target's content.
    Linked,
    /// Refused: a symbolic link leaving the delivery, dangling, or to something other than a
    /// file. The ingest reports it as a problem (exit 1).
    Refused,
    /// A delivery holding nothing to ingest (no files, or only checksum manifests and
    /// entries noted above). Reported as a problem (exit 1): an empty folder is far more
    /// often a wrong path or a transfer that never arrived than a delivery.
    Empty,
}

/// Something found while scanning that is not ingested as found; reported, never silently
/// dropped.
#[derive(Debug, Clone, Serialize)]
pub struct ScanNote {
    /// What the note is about.
    pub kind: NoteKind,
    /// The path.
    #[serde(serialize_with = "crate::names::ser_path")]
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
    // Links are taken as themselves (each one is checked against the delivery below);
    // hidden folders are walked; `ascmhl` folders hold the delivery's checksums, never media.
    let opts = EntryOptions {
        stat: true,
        parallel: true,
        prune: Some(Arc::new(|p: &Path| {
            p.file_name() != Some(OsStr::new(MHL_DIR))
        })),
        ..EntryOptions::default()
    };
    let walked = walk_entries(root, &opts);
    let mut scan = Scan::default();
    for e in walked.errors {
        scan.notes.push(ScanNote {
            kind: NoteKind::Skipped,
            path: e.path,
            message: format!("unreadable directory: {}", e.source),
        });
    }
    for listing in &walked.listings {
        scan_dir(root, listing, &mut scan);
    }
    if scan.clips.is_empty() {
        scan.notes.push(ScanNote {
            kind: NoteKind::Empty,
            path: root.clone(),
            message: "nothing to ingest: the delivery holds no files".into(),
        });
    }
    scan.clips.sort_by_key(|c| c.key());
    Ok(scan)
}

/// The folder of a delivery's ASC MHL manifests.
const MHL_DIR: &str = "ascmhl";

/// One listed directory of the delivery: its clips, and a note for every entry not ingested as
/// found (unreadable, linked, refused, not a regular file).
fn scan_dir(root: &Path, listing: &EntryListing, scan: &mut Scan) {
    let dir = &listing.dir;
    for e in &listing.errors {
        let what = if &e.path == dir {
            "unreadable entry"
        } else {
            "cannot stat"
        };
        scan.notes.push(ScanNote {
            kind: NoteKind::Skipped,
            path: e.path.clone(),
            message: format!("{what}: {}", e.source),
        });
    }
    let rel = dir.strip_prefix(root).unwrap_or(Path::new(""));
    let mut files: Vec<(String, u64)> = Vec::new();
    for entry in &listing.files {
        // Without a stat the entry could not be read: the listing's errors reported it.
        let Some(stat) = entry.stat else { continue };
        let path = dir.join(&entry.name);
        let size = match entry.kind {
            EntryKind::File => stat.size,
            EntryKind::Symlink => match link_inside(root, &path) {
                Ok((target, target_meta)) => {
                    scan.notes.push(ScanNote {
                        path,
                        kind: NoteKind::Linked,
                        message: format!(
                            "symbolic link to {} inside the delivery: copied as its target's content",
                            crate::names::escape_path(&target)
                        ),
                    });
                    target_meta.len()
                }
                Err(why) => {
                    scan.notes.push(ScanNote {
                        path,
                        kind: NoteKind::Refused,
                        message: why,
                    });
                    continue;
                }
            },
            EntryKind::BrokenLink | EntryKind::Other => {
                scan.notes.push(ScanNote {
                    kind: NoteKind::Skipped,
                    path,
                    message: "not a regular file; skipped".into(),
                });
                continue;
            }
        };
        // A name that is not UTF-8 is one clip of its own (never part of a sequence) under its
        // escaped name; see `crate::names`.
        match entry.name_str() {
            // `._name` files are macOS AppleDouble metadata: system clutter, never media.
            Some(name) if JUNK.contains(&name) || name.starts_with("._") => {}
            Some(name) => files.push((name.to_string(), size)),
            None => scan
                .clips
                .push(single_file(root, dir, rel, &entry.name, size)),
        }
    }
    scan.clips
        .extend(group_dir(root, dir, rel, files, &mut scan.notes));
}

/// Groups the files of one directory into clips. Image files are grouped into sequences by
/// `shotline_sequences`, so ingest agrees with `ls`, validate and publish on what a sequence is
/// (padding, signs, long digit runs, the same frame at two paddings); everything else is one
/// clip per file. Warnings of the grouping (duplicate paddings) become scan notes.
fn group_dir(
    root: &Path,
    dir: &Path,
    rel: &Path,
    files: Vec<(String, u64)>,
    notes: &mut Vec<ScanNote>,
) -> Vec<Clip> {
    let mut clips = Vec::new();
    let mut images: HashMap<String, u64> = HashMap::new();
    for (name, size) in files {
        // Image frames by the media file-kind registry, the list every command shares.
        if FileKind::of_path(Path::new(&name)).is_image_frame() {
            images.insert(name, size);
        } else {
            clips.push(single_file(root, dir, rel, OsStr::new(&name), size));
        }
    }
    let grouping = shotline_sequences::group(dir, images.keys().cloned());
    for w in &grouping.warnings {
        notes.push(ScanNote {
            kind: NoteKind::Skipped,
            path: dir.to_path_buf(),
            message: format!("kept as separate clips: {w}"),
        });
    }
    for plain in grouping.files {
        // Only UTF-8 names were grouped, so the name converts back; an image without a frame
        // number is a clip of its own.
        if let Some((name, size)) = plain.name.to_str().and_then(|n| images.get_key_value(n)) {
            clips.push(single_file(root, dir, rel, OsStr::new(name), *size));
        }
    }
    for seq in grouping.sequences {
        let (head, tail) = (seq.head_str().into_owned(), seq.tail_str().into_owned());
        let mut members = Vec::with_capacity(usize::try_from(seq.len()).unwrap_or(0));
        for (frame, name) in seq.frame_names() {
            let Some((name, size)) = name.to_str().and_then(|n| images.get_key_value(n)) else {
                notes.push(ScanNote {
                    kind: NoteKind::Skipped,
                    path: seq.frame_path(frame),
                    message: "frame listed by the grouping but not found in the directory; skipped"
                        .into(),
                });
                continue;
            };
            let text = name
                .get(head.len()..name.len().saturating_sub(tail.len()))
                .map(str::to_string);
            members.push(SourceFile {
                path: dir.join(name),
                frame: Some(frame),
                frame_text: text,
                size: *size,
            });
        }
        clips.push(Clip {
            name: format!("{head}{}{tail}", "#".repeat(seq.padding)),
            base: head.trim_end_matches(['.', '_', '-', ' ']).to_string(),
            ext: tail.strip_prefix('.').unwrap_or(&tail).to_string(),
            rel_dir: rel.to_path_buf(),
            delivery: root.to_path_buf(),
            kind: ClipKind::Sequence,
            files: members,
        });
    }
    clips
}

/// A clip of one file: a movie, or any other file (audio, LUT, an image without a frame). A name
/// that is not UTF-8 is shown (and matched) in its escaped form.
fn single_file(root: &Path, dir: &Path, rel: &Path, os_name: &OsStr, size: u64) -> Clip {
    let name = crate::names::escape_os(os_name);
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => (s.to_string(), e.to_string()),
        _ => (name.clone(), String::new()),
    };
    let kind = if FileKind::from_extension(&ext).is_movie() {
        ClipKind::Movie
    } else {
        ClipKind::File
    };
    Clip {
        name: name.clone(),
        base: stem,
        ext,
        rel_dir: rel.to_path_buf(),
        delivery: root.to_path_buf(),
        kind,
        files: vec![SourceFile {
            path: dir.join(os_name),
            frame: None,
            frame_text: None,
            size,
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clip_of_frames(frames: &[i64]) -> Clip {
        let files = frames
            .iter()
            .map(|&f| SourceFile {
                path: PathBuf::from(format!("x.{f}.exr")),
                frame: Some(f),
                frame_text: Some(f.to_string()),
                size: 1,
            })
            .collect();
        Clip {
            name: "x.####.exr".into(),
            base: "x".into(),
            ext: "exr".into(),
            rel_dir: PathBuf::new(),
            delivery: PathBuf::new(),
            kind: ClipKind::Sequence,
            files,
        }
    }

    #[test]
    fn missing_frames_are_runs_even_for_huge_gaps() {
        let m = clip_of_frames(&[1001, 1002, 1005, 100_000_000]).missing_frames();
        assert_eq!(m.len(), 2 + (100_000_000 - 1006));
        assert_eq!(m.runs().count(), 2);
        assert_eq!(m.to_string(), "1003-1004,1006-99999999");
        assert!(clip_of_frames(&[1, 2, 3]).missing_frames().is_empty());
        assert!(clip_of_frames(&[]).missing_frames().is_empty());
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
        assert_eq!(seq.missing_frames(), FrameSet::parse("1003").unwrap());
        assert_eq!(s.clips[0].kind, ClipKind::Movie);
        assert_eq!(s.notes.len(), 1, "symlink reported");
        assert_eq!(s.notes[0].kind, NoteKind::Refused);
    }

    #[test]
    fn links_inside_are_files_links_outside_are_refused_and_odd_names_are_kept() {
        use std::os::unix::ffi::OsStrExt;
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.exr"), b"s").unwrap();
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("SH010_bg01.1001.exr"), b"frame").unwrap();
        std::os::unix::fs::symlink("SH010_bg01.1001.exr", d.path().join("SH010_bg01.1002.exr"))
            .unwrap();
        std::os::unix::fs::symlink(
            outside.path().join("secret.exr"),
            d.path().join("SH010_bg01.1003.exr"),
        )
        .unwrap();
        std::fs::write(d.path().join(OsStr::from_bytes(b"notes\xff.txt")), b"n").unwrap();
        let s = scan_delivery(d.path()).unwrap();
        let keys: Vec<_> = s.clips.iter().map(|c| c.key()).collect();
        assert_eq!(keys, vec!["SH010_bg01.####.exr", "notes\\xFF.txt"]);
        assert_eq!(s.clips[0].files.len(), 2, "the held frame is kept");
        assert_eq!(s.clips[0].files[1].size, 5, "the target's size");
        assert_eq!(
            s.clips[1].files[0].path.file_name().unwrap().as_bytes(),
            b"notes\xff.txt"
        );
        let kinds: Vec<_> = s.notes.iter().map(|n| n.kind).collect();
        assert!(
            kinds.contains(&NoteKind::Linked) && kinds.contains(&NoteKind::Refused),
            "{s:?}"
        );
    }

    fn scan_names(names: &[&str]) -> Scan {
        let d = tempfile::tempdir().unwrap();
        for n in names {
            std::fs::write(d.path().join(n), n.as_bytes()).unwrap();
        }
        let s = scan_delivery(d.path()).unwrap();
        drop(d);
        s
    }

    fn frames(c: &Clip) -> Vec<(i64, String)> {
        c.files
            .iter()
            .map(|f| (f.frame.unwrap(), f.frame_text.clone().unwrap()))
            .collect()
    }

    #[test]
    fn same_frame_at_two_paddings_is_two_clips_and_reported() {
        let s = scan_names(&["c.1001.exr", "c.01001.exr", "c.1002.exr"]);
        let names: Vec<_> = s.clips.iter().map(|c| c.name.as_str()).collect();
        // Sorted by key: `#` sorts before `.`.
        assert_eq!(names, ["c.#####.exr", "c.####.exr"]);
        assert_eq!(frames(&s.clips[0]), [(1001, "01001".into())]);
        assert_eq!(
            frames(&s.clips[1]),
            [(1001, "1001".into()), (1002, "1002".into())]
        );
        // The old grouping kept them apart silently; now the clash is a note naming the frame.
        assert_eq!(s.notes.len(), 1, "{:?}", s.notes);
        let m = &s.notes[0].message;
        assert!(
            m.contains("c.%04d.exr") && m.contains("c.%05d.exr") && m.contains("1001"),
            "{m}"
        );
    }

    #[test]
    fn unpadded_frames_join_the_widest_padding_that_fits() {
        // `10000` fits padding 4 (`0999`); `100` fits none and is its own clip. The old
        // grouping put `100` and `10000` together as a three-digit clip.
        let s = scan_names(&["x.0999.exr", "x.100.exr", "x.10000.exr", "x.-001.exr"]);
        let got: Vec<_> = s
            .clips
            .iter()
            .map(|c| (c.name.clone(), frames(c)))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "x.####.exr".to_string(),
                    vec![
                        (-1, "-001".to_string()),
                        (999, "0999".to_string()),
                        (10000, "10000".to_string())
                    ]
                ),
                ("x.###.exr".to_string(), vec![(100, "100".to_string())]),
            ]
        );
        assert!(s.notes.is_empty(), "{:?}", s.notes);
        assert_eq!(s.clips[0].base, "x");
        assert_eq!(s.clips[0].ext, "exr");
    }

    #[test]
    fn mhl_folders_are_skipped_hidden_and_odd_folders_walked() {
        use std::os::unix::ffi::OsStrExt;
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        for dir in ["ascmhl", "A/ascmhl", ".extras"] {
            std::fs::create_dir_all(r.join(dir)).unwrap();
        }
        std::fs::write(r.join("ascmhl/0001_x.mhl"), b"m").unwrap();
        std::fs::write(r.join("A/ascmhl/ascmhl_chain.xml"), b"c").unwrap();
        std::fs::write(r.join(".extras/lut.cube"), b"l").unwrap();
        let odd = r.join(OsStr::from_bytes(b"r\xe9f"));
        std::fs::create_dir(&odd).unwrap();
        for f in [1, 2] {
            std::fs::write(odd.join(format!("ref.{f:04}.jpg")), b"j").unwrap();
        }
        let s = scan_delivery(r).unwrap();
        let keys: Vec<_> = s.clips.iter().map(|c| c.key()).collect();
        assert_eq!(keys, [".extras/lut.cube", "r\\xE9f/ref.####.jpg"], "{s:?}");
        assert_eq!(s.clips[1].files[1].path, odd.join("ref.0002.jpg"));
        assert!(s.notes.is_empty(), "{:?}", s.notes);
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
