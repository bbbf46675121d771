//! What a probe of a PATH looks at: the PATH resolved to a file, a directory or a sequence
//! pattern, and a directory walked into its media files and image sequences.
//!
//! One implementation for `shotline probe` and the Python module's `probe()`, so both see the
//! same files: the walk is `shotline_sequences::walk` grouping with the file-kind registry
//! (numbered movies stay single files), a sequence is probed when its frames are images.

use std::ffi::OsString;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use shotline_frames::FrameSet;
use shotline_sequences::{
    find_on_disk, is_symlink_loop, parse_pattern_path, walk, FindError, Grouping, Sequence,
    WalkError, WalkEvent, WalkOptions,
};

use crate::kinds::{FileKind, Registry};

/// One PATH to probe, resolved before anything is probed so a bad PATH fails first.
#[derive(Debug)]
pub enum ProbeTarget {
    /// A file (or a dangling link: its probe says it cannot be read).
    File(PathBuf),
    /// A directory: its media files and sequences ([`walk_media`]).
    Dir(PathBuf),
    /// A sequence pattern, with only the frames on disk (within its range when it has one).
    Sequence(Box<Sequence>),
}

/// Why a PATH cannot be probed.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// The path runs through a symlink loop.
    #[error("{}: a symlink loop (a link that leads back to itself): {source}", path.display())]
    SymlinkLoop {
        /// The path as given.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Neither a path on disk nor a sequence pattern.
    #[error("{}: no such file or directory (and not a sequence pattern such as plate.####.exr)", path.display())]
    NotFound {
        /// The path as given.
        path: PathBuf,
    },
    /// A sequence pattern with no frame on disk.
    #[error("{}: no frames on disk match this sequence pattern", path.display())]
    NoFrames {
        /// The pattern as given.
        path: PathBuf,
    },
    /// The pattern's directory cannot be listed.
    #[error(transparent)]
    Find(#[from] FindError),
}

impl ProbeTarget {
    /// Resolves `path`: an existing file or directory, else a sequence pattern with frames on
    /// disk (`plate.####.exr`, `plate.1001-1100#.exr`: only the frames of the range).
    pub fn resolve(path: &Path) -> Result<ProbeTarget, TargetError> {
        match std::fs::metadata(path) {
            Ok(md) if md.is_dir() => return Ok(ProbeTarget::Dir(path.to_path_buf())),
            Ok(_) => return Ok(ProbeTarget::File(path.to_path_buf())),
            Err(source) if is_symlink_loop(&source) => {
                return Err(TargetError::SymlinkLoop {
                    path: path.to_path_buf(),
                    source,
                })
            }
            // A dangling link is a file that cannot be read: the probe says so per file.
            Err(_) if std::fs::symlink_metadata(path).is_ok() => {
                return Ok(ProbeTarget::File(path.to_path_buf()))
            }
            Err(_) => {}
        }
        let pattern = parse_pattern_path(path).map_err(|_| TargetError::NotFound {
            path: path.to_path_buf(),
        })?;
        let mut seq = find_on_disk(&pattern)?;
        if let Some(range) = &pattern.range {
            // Only the frames on disk are probed: those the range names.
            seq.frames = FrameSet::from_frames(seq.frames.iter().filter(|f| range.contains(*f)));
        }
        if seq.is_empty() {
            return Err(TargetError::NoFrames {
                path: path.to_path_buf(),
            });
        }
        Ok(ProbeTarget::Sequence(Box::new(seq)))
    }
}

/// One item of a directory probe, in the walk's order (depth-first, names sorted).
#[derive(Debug)]
pub enum MediaEvent {
    /// One directory's media.
    Dir(DirMedia),
    /// A directory could not be read; the walk went on without it.
    Error(WalkError),
    /// A followed symlink leads back to one of its ancestors; it was not descended.
    Cycle {
        /// The symlink.
        link: PathBuf,
        /// The ancestor it resolves to.
        target: PathBuf,
    },
}

/// What a directory probe looks at in one directory.
#[derive(Debug)]
pub struct DirMedia {
    /// Image and movie files that are no frame of a sequence, in name order.
    pub files: Vec<PathBuf>,
    /// Image sequences.
    pub sequences: Vec<Sequence>,
    /// Files that are not media (and frames of non-image sequences), not probed.
    pub skipped: u64,
}

/// Walks `dir` (its subdirectories with `recursive`, names starting with `.` with `hidden`)
/// and calls `on_event` per directory with its media, per unreadable directory and per symlink
/// cycle. Return `ControlFlow::Break` to stop.
pub fn walk_media<F>(dir: &Path, recursive: bool, hidden: bool, mut on_event: F)
where
    F: FnMut(MediaEvent) -> ControlFlow<()> + Send,
{
    let opts = WalkOptions {
        recursive,
        hidden,
        // Movies are one file each, never frames of a sequence.
        classify: Some(&Registry),
        ..WalkOptions::default()
    };
    walk(&[dir.to_path_buf()], &opts, |ev| {
        on_event(match ev {
            WalkEvent::Dir(listing) => MediaEvent::Dir(media_of(listing.grouping)),
            WalkEvent::Error(e) => MediaEvent::Error(e),
            WalkEvent::Cycle { link, target } => MediaEvent::Cycle { link, target },
        })
    });
}

/// The media files and image sequences of one grouped directory.
fn media_of(g: Grouping) -> DirMedia {
    let mut skipped = 0;
    let mut files = Vec::new();
    for f in &g.files {
        let p = g.dir.join(&f.name);
        if FileKind::of_path(&p).is_media() {
            files.push(p);
        } else {
            skipped += 1;
        }
    }
    let mut sequences = Vec::new();
    for s in g.sequences {
        if tail_kind(&s.tail).is_image_frame() {
            sequences.push(s);
        } else {
            skipped += s.len();
        }
    }
    DirMedia {
        files,
        sequences,
        skipped,
    }
}

/// The kind of the frames of a sequence ending in `tail` (`.exr`).
fn tail_kind(tail: &std::ffi::OsStr) -> FileKind {
    let mut sample = OsString::from("frame");
    sample.push(tail);
    FileKind::of_path(Path::new(&sample))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_paths_patterns_and_ranges() {
        let t = tempfile::tempdir().unwrap();
        for f in 1..=5 {
            std::fs::write(t.path().join(format!("p.{f:04}.exr")), b"x").unwrap();
        }
        assert!(matches!(
            ProbeTarget::resolve(t.path()),
            Ok(ProbeTarget::Dir(_))
        ));
        assert!(matches!(
            ProbeTarget::resolve(&t.path().join("p.0001.exr")),
            Ok(ProbeTarget::File(_))
        ));
        let Ok(ProbeTarget::Sequence(s)) = ProbeTarget::resolve(&t.path().join("p.2-3#.exr"))
        else {
            panic!("a ranged pattern is a sequence")
        };
        assert_eq!(s.frames.to_string(), "2-3");
        let e = ProbeTarget::resolve(&t.path().join("q.####.exr")).unwrap_err();
        assert!(matches!(e, TargetError::NoFrames { .. }), "{e}");
        let e = ProbeTarget::resolve(&t.path().join("nothing")).unwrap_err();
        assert!(e.to_string().contains("no such file"), "{e}");
    }

    #[test]
    fn a_directory_is_its_media_files_and_image_sequences() {
        let t = tempfile::tempdir().unwrap();
        for name in [
            "a.1001.exr",
            "a.1002.exr",
            "take.0001.mov",
            "notes.txt",
            "n.1.txt",
            "n.2.txt",
        ] {
            std::fs::write(t.path().join(name), b"x").unwrap();
        }
        let mut got = Vec::new();
        walk_media(t.path(), false, false, |ev| {
            if let MediaEvent::Dir(d) = ev {
                got.push(d);
            }
            ControlFlow::Continue(())
        });
        assert_eq!(got.len(), 1);
        let names: Vec<_> = got[0]
            .files
            .iter()
            .map(|p| p.file_name().unwrap())
            .collect();
        assert_eq!(names, ["take.0001.mov"], "a numbered movie is one file");
        assert_eq!(got[0].sequences.len(), 1);
        assert_eq!(got[0].skipped, 3, "notes.txt and the two n.#.txt frames");
    }
}
