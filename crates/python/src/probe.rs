//! `shotline.probe`: header probing with the CLI's JSON schema (`docs/probe.md`), so a script
//! reads the same fields `shotline probe --json` prints.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use pyo3::exceptions::{PyFileNotFoundError, PyOSError, PyValueError};
use pyo3::prelude::*;
use serde::Serialize;
use shotline_media::sequence::probe_sequence;
use shotline_media::{is_media_path, probe_batch, MediaInfo, ProbeOptions};
use shotline_sequences::{find_on_disk, parse_pattern_path, Sequence, WalkEvent, WalkOptions};

use crate::config::Settings;

/// Why a probe could not run (the files themselves never fail: their status says what is wrong).
enum ProbeError {
    NotFound(String),
    Io(String),
    Encode(String),
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
    match std::fs::metadata(path) {
        Ok(md) if md.is_dir() => probe_dir(path, s, recursive, hidden, out),
        Ok(_) => probe_files(vec![path.to_path_buf()], &s.probe, out),
        Err(_) => probe_sequence_at(&find_pattern(path)?, s, out),
    }
}

/// The sequence a pattern names, refusing one with no frame on disk as the CLI does.
fn find_pattern(path: &Path) -> Result<Sequence, ProbeError> {
    let pattern = parse_pattern_path(path).map_err(|_| {
        ProbeError::NotFound(format!(
            "{}: no such file or directory (and not a sequence pattern such as plate.####.exr)",
            path.display()
        ))
    })?;
    let seq = find_on_disk(&pattern).map_err(|e| ProbeError::Io(e.to_string()))?;
    if seq.is_empty() {
        return Err(ProbeError::NotFound(format!(
            "{}: no frames on disk match this sequence pattern",
            path.display()
        )));
    }
    Ok(seq)
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

fn probe_dir(
    dir: &Path,
    s: &Settings,
    recursive: bool,
    hidden: bool,
    out: &mut Records,
) -> Result<(), ProbeError> {
    let wopts = WalkOptions {
        recursive,
        hidden,
        // The media file-kind registry, as `shotline ls`/`probe` use: numbered movies are
        // single files, never one-frame sequences.
        classify: Some(&shotline_media::kinds::Registry),
        ..WalkOptions::default()
    };
    let mut result = Ok(());
    shotline_sequences::walk(&[dir.to_path_buf()], &wopts, |ev| {
        let r = match ev {
            WalkEvent::Dir(listing) => probe_listing(&listing.grouping, s, out),
            WalkEvent::Error(e) => Err(ProbeError::Io(e.to_string())),
            WalkEvent::Cycle { .. } => Ok(()),
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

/// One directory: its media files, then its media sequences (other files are skipped).
fn probe_listing(
    g: &shotline_sequences::Grouping,
    s: &Settings,
    out: &mut Records,
) -> Result<(), ProbeError> {
    let files = g
        .files
        .iter()
        .map(|f| g.dir.join(&f.name))
        .filter(|p| is_media_path(p))
        .collect();
    probe_files(files, &s.probe, out)?;
    for seq in &g.sequences {
        let mut sample = std::ffi::OsString::from("frame");
        sample.push(&seq.tail);
        if is_media_path(Path::new(&sample)) {
            probe_sequence_at(seq, s, out)?;
        }
    }
    Ok(())
}
