//! Frame sets and the fileseq-compatible frame-range syntax.
//!
//! (API contract written by the integrator; bodies to be implemented.)

/// An ordered set of frame numbers: set order is first-seen order, repeats dropped.
/// Stored as arithmetic runs, never as one integer per frame, so `1-1000000000` is cheap.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FrameSet {
    _private: (),
}

/// A malformed frame-range expression.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid frame range {expr:?} at character {}: {message}", column + 1)]
pub struct ParseError {
    /// The expression as given.
    pub expr: String,
    /// 0-based character index of the offending character.
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

impl FrameSet {
    /// Parses fileseq syntax.
    pub fn parse(expr: &str) -> Result<FrameSet, ParseError> {
        todo!("{expr}")
    }
    /// Builds a set from frames in order (repeats dropped), compressing runs.
    pub fn from_frames<I: IntoIterator<Item = i64>>(frames: I) -> FrameSet {
        let _ = frames.into_iter();
        todo!()
    }
    /// Number of frames.
    pub fn len(&self) -> u64 {
        todo!()
    }
    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// First frame in set order.
    pub fn first(&self) -> Option<i64> {
        todo!()
    }
    /// Last frame in set order.
    pub fn last(&self) -> Option<i64> {
        todo!()
    }
    /// Smallest frame.
    pub fn min(&self) -> Option<i64> {
        todo!()
    }
    /// Largest frame.
    pub fn max(&self) -> Option<i64> {
        todo!()
    }
    /// Membership.
    pub fn contains(&self, frame: i64) -> bool {
        todo!("{frame}")
    }
    /// Frames in set order, lazily.
    pub fn iter(&self) -> Box<dyn Iterator<Item = i64> + '_> {
        todo!()
    }
    /// All frames, refusing more than `cap`.
    pub fn to_vec_capped(&self, cap: u64) -> Result<Vec<i64>, TooManyFrames> {
        todo!("{cap}")
    }
    /// The frames missing between `min` and `max`, ascending.
    pub fn invert(&self) -> FrameSet {
        todo!()
    }
}

impl std::fmt::Display for FrameSet {
    /// The normalised range string (`1-3,5-9x2,10`); empty set is `""`.
    fn fmt(&self, _f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        todo!()
    }
}

/// Formats a frame zero-padded to `width`, the sign counting toward the width (`-001` is 4).
pub fn pad_frame(frame: i64, width: usize) -> String {
    todo!("{frame}{width}")
}
