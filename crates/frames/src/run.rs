//! [`Run`]: one arithmetic progression of frames, the unit the render queue cuts chunks from.

use std::fmt;

use crate::RunError;

/// An inclusive arithmetic progression `start, start + step, …, end`.
///
/// Why public: schedulers cut chunks (`1001-1100x2` into ten-frame tasks) by arithmetic on runs,
/// never by listing frames. `step` is signed and non-zero, and `end` is reachable from `start`
/// (`(end - start) % step == 0` with the sign of `step` matching the direction); a single frame
/// is `start == end` with any non-zero step ([`Run::single`] uses 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Run {
    /// First frame.
    pub start: i64,
    /// Last frame (inclusive).
    pub end: i64,
    /// Distance between consecutive frames; negative for descending runs.
    pub step: i64,
}

impl Run {
    /// A checked run: refuses a zero step or an `end` the step never reaches.
    pub fn new(start: i64, end: i64, step: i64) -> Result<Run, RunError> {
        let run = Run { start, end, step };
        run.check()?;
        Ok(run)
    }

    /// The run holding one frame.
    pub fn single(frame: i64) -> Run {
        Run {
            start: frame,
            end: frame,
            step: 1,
        }
    }

    /// Every frame from `first` to `last` by one, in that direction: the span of a sequence on
    /// disk or of a shot's cut, gaps included, spelled `1001-1100` (or `7`) when printed.
    pub fn span(first: i64, last: i64) -> Run {
        Run {
            start: first,
            end: last,
            step: if last < first { -1 } else { 1 },
        }
    }

    /// Validates a run built from its public fields.
    pub fn check(&self) -> Result<(), RunError> {
        if self.step == 0 {
            return Err(RunError::ZeroStep(*self));
        }
        let span = self.end as i128 - self.start as i128;
        if span % self.step as i128 != 0 || span / (self.step as i128) < 0 {
            return Err(RunError::Unreachable(*self));
        }
        if span / self.step as i128 >= u64::MAX as i128 {
            return Err(RunError::TooLong(*self));
        }
        Ok(())
    }

    /// Number of frames (at least 1 for a valid run).
    pub fn len(&self) -> u64 {
        if self.step == 0 {
            return 0;
        }
        let k = (self.end as i128 - self.start as i128) / self.step as i128;
        u64::try_from(k + 1).unwrap_or(0)
    }

    /// Always false for a valid run; present because `len` is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `i`-th frame (0-based), if the run has that many.
    pub fn nth(&self, i: u64) -> Option<i64> {
        (i < self.len()).then(|| (self.start as i128 + i as i128 * self.step as i128) as i64)
    }

    /// The frames in run order.
    pub fn iter(&self) -> impl Iterator<Item = i64> + '_ {
        (0..self.len()).map(|i| (self.start as i128 + i as i128 * self.step as i128) as i64)
    }
}

impl fmt::Display for Run {
    /// `start-endxstep`, the fileseq spelling (`1-10x2`, `20-5x-5`, `7` for one frame).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.start == self.end {
            write!(f, "{}", self.start)
        } else if self.step == 1 || self.step == -1 {
            write!(f, "{}-{}", self.start, self.end)
        } else {
            write!(f, "{}-{}x{}", self.start, self.end, self.step)
        }
    }
}
