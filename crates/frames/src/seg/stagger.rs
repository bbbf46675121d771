//! Staggers (`a-b:N`) stored as one segment.
//!
//! Why a segment of its own: pass `s` adds the frames `a + k·s` that no pass `t` in `s+1..=N`
//! already added, a pattern whose period is the lcm of `s..=N` (for `:20` already 232,792,560).
//! Building it from per-pass patterns fell back to listing frames and merging them, quadratic
//! in the number of frames. But as a *set* a stagger is simply every frame from `a` to `b` (pass
//! 1 adds whatever is left), so count, bounds, membership, removal from other segments and
//! inversion are O(1); only the order needs the passes, and it is computed lazily while
//! listing.

use super::{Offs, Seg};
use crate::merge::push_merge;
use crate::TooComplex;

use super::minus::MATERIALISE_CAP;

/// Spans up to this many frames are listed with a bitmap of the frames already given (at most
/// 8 MiB); longer ones test each candidate against the earlier passes' steps.
const BITMAP_MAX: u64 = 1 << 26;

impl Seg {
    /// `a-b:passes` where `passes >= 2` and `1 <= span < u64::MAX`; `dir` is the direction from
    /// `a` to `b`. The caller has capped `passes` at `span + 1`.
    pub(crate) fn stagger(start: i64, dir: i64, span: u64, passes: u64) -> Seg {
        Seg {
            start,
            dir,
            period: 1,
            offs: Offs::Stagger(passes),
            len: span + 1,
        }
    }

    /// The number of passes of a stagger segment.
    pub(crate) fn stagger_passes(&self) -> Option<u64> {
        match self.offs {
            Offs::Stagger(p) => Some(p),
            _ => None,
        }
    }

    /// The end of the range (`b` of `a-b:N`): the stagger holds every frame in between.
    pub(crate) fn range_end(&self) -> i64 {
        (self.start as i128 + self.dir as i128 * (self.len as i128 - 1)) as i64
    }

    /// The same frames as one ascending unit-step run: what a stagger removes from others.
    pub(crate) fn as_range(&self) -> Seg {
        let lo = self.start.min(self.range_end());
        Seg::run(lo, 1, self.len)
    }

    /// The last frame in set order: the farthest distance with no divisor among the steps
    /// `2..=passes`, which pass 1 adds last (1 always qualifies, so the search ends quickly:
    /// such numbers are dense).
    pub(crate) fn stagger_last(&self, passes: u64) -> i64 {
        let span = self.len - 1;
        let mut d = span;
        while d > 1 && (2..=passes).any(|t| d.is_multiple_of(t)) {
            d -= 1;
        }
        (self.start as i128 + self.dir as i128 * d as i128) as i64
    }

    /// `self` (a stagger) minus `b`, keeping the order: lists the frames, refusing more than
    /// [`MATERIALISE_CAP`]. Only a stagger that overlaps earlier parts (`5,1-10:2`) gets here.
    pub(crate) fn stagger_minus(&self, b: &Seg, out: &mut Vec<Seg>) -> Result<(), TooComplex> {
        if self.len > MATERIALISE_CAP {
            return Err(TooComplex {
                reason: format!(
                    "the stagger {}-{}:{} ({} frames) overlaps frames {} to {}; removing the \
                     repeats would list more than {MATERIALISE_CAP} frames one by one",
                    self.start,
                    self.range_end(),
                    self.stagger_passes().unwrap_or(1),
                    self.len,
                    b.min(),
                    b.max()
                ),
            });
        }
        let mut tmp = Vec::new();
        for f in StaggerFrames::new(self) {
            if !b.contains(f) {
                push_merge(&mut tmp, Seg::single(f));
            }
        }
        out.extend(tmp);
        Ok(())
    }
}

/// The frames of a stagger segment in set order, computed pass by pass.
#[derive(Debug, Clone)]
pub(crate) struct StaggerFrames {
    start: i64,
    dir: i64,
    span: u64,
    passes: u64,
    /// Current pass (its step), counting down to 1; 0 when done.
    step: u64,
    /// Next distance to consider in the current pass.
    d: u64,
    /// Distances already given, for spans up to [`BITMAP_MAX`].
    seen: Option<Vec<u64>>,
}

impl StaggerFrames {
    pub(crate) fn new(seg: &Seg) -> StaggerFrames {
        let passes = seg.stagger_passes().unwrap_or(1);
        let span = seg.len - 1;
        let seen = (seg.len <= BITMAP_MAX).then(|| vec![0u64; seg.len.div_ceil(64) as usize]);
        StaggerFrames {
            start: seg.start,
            dir: seg.dir,
            span,
            passes,
            step: passes,
            d: 0,
            seen,
        }
    }

    /// True (and remembered) when distance `d` of pass `step` was not given by an earlier pass.
    fn is_new(&mut self, d: u64) -> bool {
        match &mut self.seen {
            Some(bits) => {
                let (w, b) = ((d / 64) as usize, d % 64);
                let fresh = bits[w] & (1 << b) == 0;
                bits[w] |= 1 << b;
                fresh
            }
            None => {
                let step = self.step;
                (step + 1..=self.passes).all(|t| !d.is_multiple_of(t))
            }
        }
    }
}

impl Iterator for StaggerFrames {
    type Item = i64;

    fn next(&mut self) -> Option<i64> {
        while self.step > 0 {
            if self.d > self.span {
                self.step -= 1;
                self.d = 0;
                continue;
            }
            let d = self.d;
            // Saturating is enough: span < u64::MAX, so a saturated distance ends the pass.
            self.d = d.saturating_add(self.step);
            if self.is_new(d) {
                return Some((self.start as i128 + self.dir as i128 * d as i128) as i64);
            }
        }
        None
    }
}
