//! `shotline.probe`: header probing with the CLI's JSON schema (`docs/probe.md`), so a script
//! reads the same fields `shotline probe --json` prints.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use pyo3::exceptions::{PyFileNotFoundError, PyOSError, PyValueError};
use pyo3::prelude::*;
use serde::Serialize;
use shotline_media::sequence::probe_sequence;
use shotline_media::{
    probe_batch, walk_media, DirMedia, MediaEvent, MediaInfo, ProbeOptions, ProbeTarget,
    TargetError,
};
use shotline_sequences::Sequence;

use crate::config::Settings;

/// Why a probe could not run (the files themselves never fail: their status says what is wrong).
enum ProbeError {
    NotFound(String),
    Io(String),
    Encode(String),
}

impl From<TargetError> for ProbeError {
    fn from(e: TargetError) -> Self {
        match e {
            TargetError::NotFound { .. } | TargetError::NoFrames { .. } => {
                ProbeError::NotFound(e.to_string())
            }
            TargetError::SymlinkLoop { .. } | TargetError::Find(_) => ProbeError::Io(e.to_string()),
        }
    }
}

impl From<ProbeError> for PyErr {
    fn from(e: ProbeError) -> PyErr {
        match e {
            ProbeError::NotFound(m) => PyFileNotFoundError::new_err(m),
            ProbeError::Io(m) => PyOSError::new_err(m),
            ProbeError::Encode(m) => PyValueError::new_err(m),
        }
    }
}

/// Records as JSON text, one per file and per sequence summary, in the CLI's order.
struct Records {
    lines: Vec<String>,
}

impl Records {
    fn push(&mut self, value: &impl Serialize) -> Result<(), ProbeError> {
        let line = serde_json::to_string(value).map_err(|e| ProbeError::Encode(e.to_string()))?;
        self.lines.push(line);
        Ok(())
    }
}

/// Probes a file, a directory (its media files and sequences; the tree with `recursive=True`)
/// or a sequence pattern (`plate.####.exr`, `plate.1001-1100#.exr`) and returns one dict per
/// file (`"kind": "file"`) and per sequence (`"kind": "sequence_summary"`), exactly the objects
/// `shotline probe --json` prints. Broken files are reported in their `status`, not raised;
/// FileNotFoundError when `path` is neither a path nor a pattern with frames on disk.
#[pyfunction]
#[pyo3(signature = (path, recursive = false, hidden = false))]
pub fn probe(
    py: Python<'_>,
    path: PathBuf,
    recursive: bool,
    hidden: bool,
) -> PyResult<Vec<Py<PyAny>>> {
    let settings = Settings::load(py, &path)?;
    let lines = py.detach(|| {
        let mut out = Records { lines: Vec::new() };
        probe_path(&path, &settings, recursive, hidden, &mut out).map(|()| out.lines)
    })?;
    let loads = py.import("json")?.getattr("loads")?;
    lines
        .into_iter()
        .map(|l| Ok(loads.call1((l,))?.unbind()))
        .collect()
}

fn probe_path(
    path: &Path,
    s: &Settings,
    recursive: bool,
    hidden: bool,
    out: &mut Records,
) -> Result<(), ProbeError> {
    match ProbeTarget::resolve(path)? {
        ProbeTarget::Dir(dir) => probe_dir(&dir, s, recursive, hidden, out),
        ProbeTarget::File(file) => probe_files(vec![file], &s.probe, out),
        ProbeTarget::Sequence(seq) => probe_sequence_at(&seq, s, out),
    }
}

fn probe_files(
    paths: Vec<PathBuf>,
    opts: &ProbeOptions,
    out: &mut Records,
) -> Result<(), ProbeError> {
    if paths.is_empty() {
        return Ok(());
    }
    probe_batch(paths, opts, |info: MediaInfo| out.push(&info))
}

fn probe_sequence_at(seq: &Sequence, s: &Settings, out: &mut Records) -> Result<(), ProbeError> {
    let summary = probe_sequence(seq, &s.probe, s.fps, |info| out.push(&info))?;
    out.push(&summary)
}

/// A directory through the walk `shotline probe` uses: each directory's media files, then its
/// image sequences; an unreadable directory stops the probe with OSError.
fn probe_dir(
    dir: &Path,
    s: &Settings,
    recursive: bool,
    hidden: bool,
    out: &mut Records,
) -> Result<(), ProbeError> {
    let mut result = Ok(());
    walk_media(dir, recursive, hidden, |ev| {
        let r = match ev {
            MediaEvent::Dir(media) => probe_media(media, s, out),
            MediaEvent::Error(e) => Err(ProbeError::Io(e.to_string())),
            MediaEvent::Cycle { .. } => Ok(()),
        };
        match r {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => {
                result = Err(e);
                ControlFlow::Break(())
            }
        }
    });
    result
}

/// One directory: its media files, then its image sequences.
fn probe_media(media: DirMedia, s: &Settings, out: &mut Records) -> Result<(), ProbeError> {
    probe_files(media.files, &s.probe, out)?;
    for seq in &media.sequences {
        probe_sequence_at(seq, s, out)?;
    }
    Ok(())
}
