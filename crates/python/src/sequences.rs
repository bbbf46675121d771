//! `shotline.find_sequences`, `Sequence` and `FileSequence`: the grouping `shotline ls` uses,
//! so a script and the CLI always agree on what a sequence is.

use std::ffi::OsString;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use shotline_sequences::{
    find_on_disk, parse_pattern, walk, PadStyle, RangeIn, Sequence, SequencePattern, WalkEvent,
    WalkOptions,
};

use crate::frames::PyFrameSet;

/// A path as a Python `str` (undecodable bytes as surrogate escapes, like `os.fsdecode`).
fn path_str<'py>(py: Python<'py>, path: PathBuf) -> PyResult<Bound<'py, PyAny>> {
    Ok(path.into_os_string().into_pyobject(py)?.into_any())
}

/// A name part as a Python `str`.
fn os_str<'py>(py: Python<'py>, s: &OsString) -> PyResult<Bound<'py, PyAny>> {
    Ok(s.as_os_str().into_pyobject(py)?.into_any())
}

/// Parses the `style` argument (`hash`, `nuke`, `printf`, `houdini`, `rv`).
fn pad_style(style: &str) -> PyResult<PadStyle> {
    style.parse::<PadStyle>().map_err(PyValueError::new_err)
}

/// Parses the `range` argument (`frames`, `span`, `none`).
fn range_in(range: &str) -> PyResult<RangeIn> {
    match range {
        "frames" => Ok(RangeIn::Frames),
        "span" => Ok(RangeIn::Span),
        "none" => Ok(RangeIn::None),
        other => Err(PyValueError::new_err(format!(
            "unknown range {other:?}: expected frames, span or none"
        ))),
    }
}

/// An image sequence found on disk: frames sharing directory, name, padding and extension.
#[pyclass(name = "Sequence", module = "shotline", frozen)]
pub struct PySequence {
    seq: Sequence,
}

#[pymethods]
impl PySequence {
    /// The directory the frames are in.
    #[getter]
    fn dirname<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        path_str(py, self.seq.dir.clone())
    }

    /// The name before the frame number (`plate.`).
    #[getter]
    fn basename<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        os_str(py, &self.seq.head)
    }

    /// The name after the frame number (`.exr`).
    #[getter]
    fn extension<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        os_str(py, &self.seq.tail)
    }

    /// Digits the frame is padded to, the sign included; 1 means unpadded.
    #[getter]
    fn padding(&self) -> usize {
        self.seq.padding
    }

    /// The frames present, ascending.
    #[getter]
    fn frame_set(&self) -> PyFrameSet {
        PyFrameSet::wrap(self.seq.frames.clone())
    }

    /// The frames absent between the first and last.
    #[getter]
    fn missing(&self) -> PyFrameSet {
        PyFrameSet::wrap(self.seq.missing.clone())
    }

    /// First frame present; None when empty.
    fn start(&self) -> Option<i64> {
        self.seq.frames.first()
    }

    /// Last frame present; None when empty.
    fn end(&self) -> Option<i64> {
        self.seq.frames.last()
    }

    /// The path of `frame` (whether or not it exists).
    fn frame<'py>(&self, py: Python<'py>, frame: i64) -> PyResult<Bound<'py, PyAny>> {
        path_str(py, self.seq.frame_path(frame))
    }

    /// The pattern in `style` (hash, nuke, printf, houdini, rv) with `range` (frames, span,
    /// none): `seq.format("printf", "none")` is `plate.%04d.exr`. The directory is not included.
    #[pyo3(signature = (style = "hash", range = "frames"))]
    fn format(&self, style: &str, range: &str) -> PyResult<String> {
        Ok(self.seq.format(pad_style(style)?, range_in(range)?))
    }

    /// The full path in fileseq style (`/show/sh010/plate.1001-1100#.exr`).
    fn __str__(&self) -> String {
        let name = self.seq.format(PadStyle::Hash, RangeIn::Frames);
        self.seq.dir.join(name).to_string_lossy().into_owned()
    }

    fn __repr__(&self) -> String {
        format!("<Sequence {:?}>", self.__str__())
    }

    fn __len__(&self) -> PyResult<usize> {
        usize::try_from(self.seq.len())
            .map_err(|_| pyo3::exceptions::PyOverflowError::new_err("too many frames"))
    }

    /// The path of every present frame, ascending.
    fn __iter__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let paths = self
            .seq
            .frame_paths()
            .map(|(_, p)| path_str(py, p))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(pyo3::types::PyList::new(py, paths)?
            .try_iter()?
            .into_any()
            .unbind())
    }
}

/// Every sequence under `path` (one directory, or the tree with `recursive=True`), in the
/// order `shotline ls` prints them. Files that are not frames are left out. Raises OSError when
/// a directory cannot be read.
#[pyfunction]
#[pyo3(signature = (path, recursive = false, hidden = false))]
pub fn find_sequences(
    py: Python<'_>,
    path: PathBuf,
    recursive: bool,
    hidden: bool,
) -> PyResult<Vec<PySequence>> {
    let opts = WalkOptions {
        recursive,
        hidden,
        // The media file-kind registry, as `shotline ls`/`probe` use: numbered movies are
        // single files, never one-frame sequences.
        classify: Some(&shotline_media::kinds::Registry),
        ..WalkOptions::default()
    };
    let found = py.detach(|| walk_sequences(&path, &opts));
    found
        .map(|seqs| seqs.into_iter().map(|seq| PySequence { seq }).collect())
        .map_err(PyOSError::new_err)
}

/// Walks `root` and collects its sequences; the first error (unreadable directory) wins.
fn walk_sequences(root: &Path, opts: &WalkOptions) -> Result<Vec<Sequence>, String> {
    if !root.is_dir() {
        return Err(format!("{}: not a directory", root.display()));
    }
    let mut seqs = Vec::new();
    let mut first_error = None;
    walk(&[root.to_path_buf()], opts, |ev| {
        match ev {
            WalkEvent::Dir(listing) => seqs.extend(listing.grouping.sequences),
            WalkEvent::Error(e) => {
                first_error.get_or_insert_with(|| e.to_string());
            }
            WalkEvent::Cycle { .. } => {}
        }
        ControlFlow::Continue(())
    });
    match first_error {
        Some(e) => Err(e),
        None => Ok(seqs),
    }
}

/// Finds the frames of one pattern (`plate.####.exr`, `plate.%04d.exr`, `plate.$F4.exr`,
/// `plate.1001-1100#.exr`) on disk.
#[pyfunction]
pub fn find_sequence(py: Python<'_>, pattern: &str) -> PyResult<PySequence> {
    let p = parse(pattern)?;
    let seq = py
        .detach(|| find_on_disk(&p))
        .map_err(|e| PyOSError::new_err(e.to_string()))?;
    Ok(PySequence { seq })
}

fn parse(pattern: &str) -> PyResult<SequencePattern> {
    parse_pattern(pattern).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// A sequence pattern string, fileseq-style: `FileSequence("/show/plate.1001-1100#.exr")`.
#[pyclass(name = "FileSequence", module = "shotline", frozen)]
pub struct PyFileSequence {
    pattern: SequencePattern,
    text: String,
}

#[pymethods]
impl PyFileSequence {
    /// Parses a pattern in any style; ValueError when it has no frame token.
    #[new]
    fn new(pattern: &str) -> PyResult<PyFileSequence> {
        Ok(PyFileSequence {
            pattern: parse(pattern)?,
            text: pattern.to_string(),
        })
    }

    /// The directory part.
    fn dirname<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        path_str(py, self.pattern.dir.clone())
    }

    /// The name before the frame token.
    fn basename<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        os_str(py, &self.pattern.head)
    }

    /// The name after the frame token.
    fn extension<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        os_str(py, &self.pattern.tail)
    }

    /// Digits of padding the token asks for.
    fn padding(&self) -> usize {
        self.pattern.padding
    }

    /// The range written in the pattern, or None.
    #[allow(non_snake_case)]
    fn frameSet(&self) -> Option<PyFrameSet> {
        self.pattern.range.clone().map(PyFrameSet::wrap)
    }

    /// The path of `frame`.
    fn frame<'py>(&self, py: Python<'py>, frame: i64) -> PyResult<Bound<'py, PyAny>> {
        path_str(py, self.pattern.frame_path(frame))
    }

    /// The pattern without a range in `style` (`plate.%04d.exr`).
    #[pyo3(signature = (style = "hash"))]
    fn pattern(&self, style: &str) -> PyResult<String> {
        Ok(self.pattern.pattern(pad_style(style)?))
    }

    /// The frames on disk that match, as a Sequence (missing frames within the pattern's range).
    fn find(&self, py: Python<'_>) -> PyResult<PySequence> {
        let p = self.pattern.clone();
        let seq = py
            .detach(|| find_on_disk(&p))
            .map_err(|e| PyOSError::new_err(e.to_string()))?;
        Ok(PySequence { seq })
    }

    fn __str__(&self) -> String {
        self.text.clone()
    }

    fn __repr__(&self) -> String {
        format!("FileSequence({:?})", self.text)
    }
}
