//! `shotline.FrameSet`: fileseq's `FrameSet` API over `shotline_frames::FrameSet`, so a TD's
//! existing code keeps working while parsing, counting and inverting run on stored runs.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use pyo3::exceptions::{PyIndexError, PyOverflowError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PySlice, PyString};
use shotline_frames::{pad_frame, FrameSet, Run};

/// Most bytes a printed range may take; a pathological set that needs more is an error, not an
/// allocation the size of memory.
const MAX_RANGE_BYTES: usize = 16 << 20;

/// Most frames a slice may list (a slice is the only operation that lists frames).
const MAX_SLICE_FRAMES: u64 = 10_000_000;

/// An ordered set of frames, parsed from fileseq syntax (`1-10x2,20`) or built from frames.
#[pyclass(name = "FrameSet", module = "shotline", frozen, skip_from_py_object)]
#[derive(Clone)]
pub struct PyFrameSet {
    /// The frames.
    pub set: FrameSet,
    /// The text it was parsed from, kept because fileseq's `frange` and `str()` return it.
    text: Option<String>,
}

impl PyFrameSet {
    /// Wraps a computed set (its `frange` is the normalised spelling).
    pub fn wrap(set: FrameSet) -> PyFrameSet {
        PyFrameSet { set, text: None }
    }

    /// Parses `text`, turning the parse error (which names the character) into `ValueError`.
    pub fn parse(text: &str) -> PyResult<PyFrameSet> {
        let set = FrameSet::parse(text).map_err(|e| PyValueError::new_err(e.to_string()))?;
        Ok(PyFrameSet {
            set,
            text: Some(text.to_string()),
        })
    }

    /// The normalised spelling, refusing one longer than [`MAX_RANGE_BYTES`].
    fn spelled(set: &FrameSet) -> PyResult<String> {
        set.to_string_capped(MAX_RANGE_BYTES)
            .map_err(|e| PyValueError::new_err(e.to_string()))
    }
}

/// A `FrameSet` from anything fileseq accepts: another set, a range string, one frame or an
/// iterable of frames.
pub fn coerce(obj: &Bound<'_, PyAny>) -> PyResult<PyFrameSet> {
    if let Ok(fs) = obj.cast::<PyFrameSet>() {
        return Ok(fs.get().clone());
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return PyFrameSet::parse(&s.to_cow()?);
    }
    if let Ok(frame) = obj.extract::<i64>() {
        return Ok(PyFrameSet::wrap(FrameSet::from_frames([frame])));
    }
    let mut frames = Vec::new();
    for item in obj.try_iter()? {
        frames.push(item?.extract::<i64>()?);
    }
    Ok(PyFrameSet::wrap(FrameSet::from_frames(frames)))
}

/// Value error for a set that cannot be stored compactly.
fn too_complex(e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// The same frames in ascending order: the full span minus the gaps, computed on runs.
fn ascending(set: &FrameSet) -> PyResult<FrameSet> {
    let (Some(lo), Some(hi)) = (set.min(), set.max()) else {
        return Ok(FrameSet::default());
    };
    let span = FrameSet::from_runs([Run {
        start: lo,
        end: hi,
        step: 1,
    }])
    .map_err(too_complex)?;
    span.difference(&set.invert()).map_err(too_complex)
}

/// The frame at position `i` in set order, walking runs rather than frames.
fn nth(set: &FrameSet, mut i: u64) -> Option<i64> {
    for run in set.runs() {
        let n = run.len();
        if i < n {
            return run.nth(i);
        }
        i -= n;
    }
    None
}

/// fileseq's `isConsecutive` over runs: unit steps, each run adjacent to the covered span,
/// which may grow downwards or upwards but not both.
fn consecutive(set: &FrameSet) -> bool {
    let mut span: Option<(i64, i64)> = None;
    let (mut grew_lo, mut grew_hi) = (false, false);
    for run in set.runs() {
        if run.len() > 1 && run.step.unsigned_abs() != 1 {
            return false;
        }
        let (lo, hi) = (run.start.min(run.end), run.start.max(run.end));
        let Some((a, b)) = span else {
            span = Some((lo, hi));
            continue;
        };
        if lo as i128 > b as i128 + 1 || (hi as i128) < a as i128 - 1 {
            return false;
        }
        if lo < a {
            if grew_hi {
                return false;
            }
            grew_lo = true;
        }
        if hi > b {
            if grew_lo {
                return false;
            }
            grew_hi = true;
        }
        span = Some((a.min(lo), b.max(hi)));
    }
    span.is_some()
}

/// Rewrites every number in a normalised range zero-padded to `width` (`2-8x2` → `0002-0008x2`),
/// leaving step counts after `x`, `y` and `:` alone, as fileseq's `zfill` does.
fn pad_range(range: &str, width: usize) -> String {
    if width == 0 {
        return range.to_string();
    }
    let mut out = String::with_capacity(range.len() * 2);
    let mut number = String::new();
    let mut after_modifier = false;
    let flush = |number: &mut String, out: &mut String, after_modifier: bool| {
        if number.is_empty() {
            return;
        }
        match number.parse::<i64>() {
            Ok(n) if !after_modifier => out.push_str(&pad_frame(n, width)),
            _ => out.push_str(number),
        }
        number.clear();
    };
    let mut prev: Option<char> = None;
    for c in range.chars() {
        let sign = c == '-' && matches!(prev, None | Some(',') | Some('-'));
        if c.is_ascii_digit() || (sign && number.is_empty()) {
            number.push(c);
        } else {
            flush(&mut number, &mut out, after_modifier);
            after_modifier = matches!(c, 'x' | 'y' | ':');
            if c == ',' {
                after_modifier = false;
            }
            out.push(c);
        }
        prev = Some(c);
    }
    flush(&mut number, &mut out, after_modifier);
    out
}

#[pymethods]
impl PyFrameSet {
    /// FrameSet(frange) — `frange` is a range string (`"1001-1100x2"`), one frame, an iterable
    /// of frames or another FrameSet. A malformed string raises ValueError naming the character.
    #[new]
    fn new(frange: &Bound<'_, PyAny>) -> PyResult<PyFrameSet> {
        coerce(frange)
    }

    /// The range as given (a computed set gives its normalised spelling).
    #[getter]
    fn frange(&self) -> PyResult<String> {
        match &self.text {
            Some(t) => Ok(t.clone()),
            None => PyFrameSet::spelled(&self.set),
        }
    }

    fn __str__(&self) -> PyResult<String> {
        self.frange()
    }

    fn __repr__(&self) -> PyResult<String> {
        Ok(format!("FrameSet({:?})", self.frange()?))
    }

    fn __getnewargs__(&self) -> PyResult<(String,)> {
        Ok((self.frange()?,))
    }

    fn __len__(&self) -> PyResult<usize> {
        usize::try_from(self.set.len())
            .ok()
            .filter(|&n| n <= isize::MAX as usize)
            .ok_or_else(|| PyOverflowError::new_err("more frames than a Python length can hold"))
    }

    fn __bool__(&self) -> bool {
        !self.set.is_empty()
    }

    fn __contains__(&self, frame: &Bound<'_, PyAny>) -> bool {
        frame.extract::<i64>().is_ok_and(|f| self.set.contains(f))
    }

    fn __iter__(&self) -> FrameIter {
        FrameIter {
            runs: self.set.runs().collect(),
            run: 0,
            pos: 0,
        }
    }

    /// `fs[i]` (negative from the end) or `fs[a:b:c]` (a new FrameSet).
    fn __getitem__(&self, py: Python<'_>, index: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        if let Ok(slice) = index.cast::<PySlice>() {
            return Ok(self.slice(slice)?.into_pyobject(py)?.into_any().unbind());
        }
        let i: i128 = index.extract::<i64>()?.into();
        let len = i128::from(self.set.len());
        let pos = if i < 0 { i + len } else { i };
        if pos < 0 || pos >= len {
            return Err(PyIndexError::new_err(format!(
                "frame index {i} out of range for a set of {len} frames"
            )));
        }
        let frame = nth(&self.set, pos as u64)
            .ok_or_else(|| PyIndexError::new_err("frame index out of range"))?;
        Ok(frame.into_pyobject(py)?.into_any().unbind())
    }

    /// The first frame in set order; IndexError when empty.
    fn start(&self) -> PyResult<i64> {
        self.set
            .first()
            .ok_or_else(|| PyIndexError::new_err("FrameSet is empty"))
    }

    /// The last frame in set order; IndexError when empty.
    fn end(&self) -> PyResult<i64> {
        self.set
            .last()
            .ok_or_else(|| PyIndexError::new_err("FrameSet is empty"))
    }

    /// The smallest frame; IndexError when empty.
    fn min(&self) -> PyResult<i64> {
        self.set
            .min()
            .ok_or_else(|| PyIndexError::new_err("FrameSet is empty"))
    }

    /// The largest frame; IndexError when empty.
    fn max(&self) -> PyResult<i64> {
        self.set
            .max()
            .ok_or_else(|| PyIndexError::new_err("FrameSet is empty"))
    }

    /// The same frames, ascending (repeats were already dropped at parse time).
    fn normalize(&self) -> PyResult<PyFrameSet> {
        Ok(PyFrameSet::wrap(ascending(&self.set)?))
    }

    /// The range as given (`frange`), numbers zero-padded to `zfill` characters.
    #[pyo3(signature = (zfill = 0))]
    #[allow(non_snake_case)]
    fn frameRange(&self, zfill: usize) -> PyResult<String> {
        Ok(pad_range(&self.frange()?, zfill))
    }

    /// The frames missing between the smallest and largest frame, as a range string
    /// (`FrameSet("1-10x2").invertedFrameRange()` is `"2-8x2"`).
    #[pyo3(signature = (zfill = 0))]
    #[allow(non_snake_case)]
    fn invertedFrameRange(&self, zfill: usize) -> PyResult<String> {
        Ok(pad_range(&PyFrameSet::spelled(&self.set.invert())?, zfill))
    }

    /// The missing frames as a FrameSet.
    fn inverted(&self) -> PyFrameSet {
        PyFrameSet::wrap(self.set.invert())
    }

    /// True when the frames are consecutive in set order, as fileseq decides it: every run steps
    /// by one and touches the frames before it, growing the span in one direction only
    /// (`1-5` and `5-1` are, `1-10x2` and `1-10:2` are not).
    #[allow(non_snake_case)]
    fn isConsecutive(&self) -> bool {
        consecutive(&self.set)
    }

    /// Always False: frames are integers.
    #[allow(non_snake_case)]
    fn hasSubFrames(&self) -> bool {
        false
    }

    fn copy(&self) -> PyFrameSet {
        self.clone()
    }

    /// Frames of `self`, then the frames of `other` it lacks.
    fn union(&self, other: &Bound<'_, PyAny>) -> PyResult<PyFrameSet> {
        let o = coerce(other)?;
        Ok(PyFrameSet::wrap(
            self.set.union(&o.set).map_err(too_complex)?,
        ))
    }

    /// Frames of `self` also in `other`, in `self`'s order.
    fn intersection(&self, other: &Bound<'_, PyAny>) -> PyResult<PyFrameSet> {
        let o = coerce(other)?;
        let only_self = self.set.difference(&o.set).map_err(too_complex)?;
        Ok(PyFrameSet::wrap(
            self.set.difference(&only_self).map_err(too_complex)?,
        ))
    }

    /// Frames of `self` not in `other`, in `self`'s order.
    fn difference(&self, other: &Bound<'_, PyAny>) -> PyResult<PyFrameSet> {
        let o = coerce(other)?;
        Ok(PyFrameSet::wrap(
            self.set.difference(&o.set).map_err(too_complex)?,
        ))
    }

    /// Frames in exactly one of the two sets.
    fn symmetric_difference(&self, other: &Bound<'_, PyAny>) -> PyResult<PyFrameSet> {
        let o = coerce(other)?;
        let a = self.set.difference(&o.set).map_err(too_complex)?;
        let b = o.set.difference(&self.set).map_err(too_complex)?;
        Ok(PyFrameSet::wrap(a.union(&b).map_err(too_complex)?))
    }

    fn issubset(&self, other: &Bound<'_, PyAny>) -> PyResult<bool> {
        let o = coerce(other)?;
        Ok(self.set.difference(&o.set).map_err(too_complex)?.is_empty())
    }

    fn issuperset(&self, other: &Bound<'_, PyAny>) -> PyResult<bool> {
        let o = coerce(other)?;
        Ok(o.set.difference(&self.set).map_err(too_complex)?.is_empty())
    }

    fn isdisjoint(&self, other: &Bound<'_, PyAny>) -> PyResult<bool> {
        Ok(self.intersection(other)?.set.is_empty())
    }

    fn __or__(&self, other: &Bound<'_, PyAny>) -> PyResult<PyFrameSet> {
        self.union(other)
    }

    fn __and__(&self, other: &Bound<'_, PyAny>) -> PyResult<PyFrameSet> {
        self.intersection(other)
    }

    fn __sub__(&self, other: &Bound<'_, PyAny>) -> PyResult<PyFrameSet> {
        self.difference(other)
    }

    fn __xor__(&self, other: &Bound<'_, PyAny>) -> PyResult<PyFrameSet> {
        self.symmetric_difference(other)
    }

    /// Equal when they hold the same frames, in any order (as fileseq compares).
    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        let Ok(o) = coerce(other) else { return false };
        self.set.len() == o.set.len()
            && matches!((ascending(&self.set), ascending(&o.set)), (Ok(a), Ok(b)) if a == b)
    }

    fn __ne__(&self, other: &Bound<'_, PyAny>) -> bool {
        !self.__eq__(other)
    }

    fn __hash__(&self) -> PyResult<u64> {
        let mut h = DefaultHasher::new();
        for run in ascending(&self.set)?.runs() {
            run.hash(&mut h);
        }
        Ok(h.finish())
    }
}

impl PyFrameSet {
    fn slice(&self, slice: &Bound<'_, PySlice>) -> PyResult<PyFrameSet> {
        let len = isize::try_from(self.set.len())
            .map_err(|_| PyOverflowError::new_err("set too large to slice"))?;
        let ix = slice.indices(len)?;
        if ix.slicelength as u64 > MAX_SLICE_FRAMES {
            return Err(PyValueError::new_err(format!(
                "a slice of {} frames is more than the limit of {MAX_SLICE_FRAMES}",
                ix.slicelength
            )));
        }
        let positions = (0..ix.slicelength as isize)
            .filter_map(|k| k.checked_mul(ix.step)?.checked_add(ix.start))
            .filter_map(|i| u64::try_from(i).ok());
        // A small set is listed once; a big one is looked up run by run, never listed.
        let picked: Vec<i64> = match self.set.to_vec_capped(MAX_SLICE_FRAMES) {
            Ok(frames) => positions
                .filter_map(|i| frames.get(i as usize).copied())
                .collect(),
            Err(_) => positions.filter_map(|i| nth(&self.set, i)).collect(),
        };
        Ok(PyFrameSet::wrap(FrameSet::from_frames(picked)))
    }
}

/// Lazy iteration over a FrameSet's frames, run by run.
#[pyclass(module = "shotline")]
pub struct FrameIter {
    runs: Vec<Run>,
    run: usize,
    pos: u64,
}

#[pymethods]
impl FrameIter {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&mut self) -> Option<i64> {
        loop {
            let run = self.runs.get(self.run)?;
            if let Some(f) = run.nth(self.pos).filter(|_| self.pos < run.len()) {
                self.pos += 1;
                return Some(f);
            }
            self.run += 1;
            self.pos = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_frames_but_not_steps() {
        assert_eq!(pad_range("2-8x2", 4), "0002-0008x2");
        assert_eq!(pad_range("-5--1,3", 3), "-05--01,003");
        assert_eq!(pad_range("1-10:2", 2), "01-10:2");
        assert_eq!(pad_range("1-9x2,20", 0), "1-9x2,20");
    }

    #[test]
    fn ascending_and_nth_work_on_runs() {
        let s = FrameSet::parse("10-1x3,5").unwrap();
        assert_eq!(ascending(&s).unwrap().to_string(), "1,4-5,7,10");
        let s = FrameSet::parse("5-1").unwrap();
        assert_eq!(ascending(&s).unwrap().to_string(), "1-5");
        assert_eq!(nth(&s, 0), Some(5));
        assert_eq!(nth(&s, 4), Some(1));
        assert_eq!(nth(&s, 5), None);
    }
}
