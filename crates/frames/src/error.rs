//! Error types. Each names the value at fault and what was expected, so a command can print it
//! as-is and a user can fix the input without reading the source.

use crate::Run;

/// A malformed frame-range expression.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid frame range {expr:?} at character {}: {message}", column + 1)]
pub struct ParseError {
    /// The expression as given.
    pub expr: String,
    /// 0-based character index of the offending character (the expression's length when the
    /// problem is that it ended too early).
    pub column: usize,
    /// What was expected.
    pub message: String,
}

/// Materialising the set would exceed the caller's cap.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{count} frames is more than the limit of {cap}")]
pub struct TooManyFrames {
    /// Frames in the set.
    pub count: u64,
    /// The limit asked for.
    pub cap: u64,
}

/// The set cannot be stored compactly: removing repeats between runs whose steps share no
/// common period would need more than the materialisation limit of frames. Real frame lists
/// never get here; it exists so that a hostile expression fails cleanly instead of exhausting
/// memory.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct TooComplex {
    /// What could not be represented, in words.
    pub reason: String,
}

/// A [`Run`] handed to [`crate::FrameSet::from_runs`] that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    /// The step is zero.
    #[error("run {0} has a zero step")]
    ZeroStep(Run),
    /// `end` is not `start + k * step` for some `k >= 0`.
    #[error("run {0}: end {end} is not reachable from start {start} in steps of {step}", end = .0.end, start = .0.start, step = .0.step)]
    Unreachable(Run),
    /// The run covers every 64-bit frame number, one more than a set can count.
    #[error("run {0} has 2^64 frames, more than a frame set can count")]
    TooLong(Run),
    /// The set built from the runs could not be stored compactly.
    #[error(transparent)]
    TooComplex(#[from] TooComplex),
}
