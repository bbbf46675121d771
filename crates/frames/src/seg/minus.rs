//! Set difference between two segments, the one operation that drops repeats: adding a part to
//! a set, inverting and `difference` all come down to it. Overlaps are resolved by arithmetic
//! on the common period of the two patterns; only steps whose common period is too long fall
//! back to cutting around a sparse segment's frames or, last, to listing frames under a cap.

use super::{Offs, Seg, PATTERN_CAP};
use crate::merge::push_merge;
use crate::TooComplex;

/// Segments this short are removed frame by frame (exact, and immune to unrelated steps).
const SMALL: u64 = 64;
/// Most frames listed one by one when two runs share no common period below [`PATTERN_CAP`].
pub(crate) const MATERIALISE_CAP: u64 = 10_000_000;
/// Most frames of a sparse segment a long run is cut around (each cut stores one more run).
const CUT_CAP: u64 = 2_000_000;

impl Seg {
    /// Appends, in this segment's order, its frames that are not in `b`.
    pub fn minus(&self, b: &Seg, out: &mut Vec<Seg>) -> Result<(), TooComplex> {
        let (lo, hi) = (b.min() as i128, b.max() as i128);
        if (self.max() as i128) < lo || (self.min() as i128) > hi {
            out.push(self.clone());
            return Ok(());
        }
        if b.stagger_passes().is_some() {
            return self.minus(&b.as_range(), out);
        }
        if self.stagger_passes().is_some() {
            return self.stagger_minus(b, out);
        }
        let (i0, i1) = self.index_span(lo, hi);
        if i0 >= i1 {
            out.push(self.clone());
            return Ok(());
        }
        if b.len <= SMALL {
            self.minus_frames(b, out);
            return Ok(());
        }
        if i0 > 0 {
            self.slice_raw(0, i0).finish(out);
        }
        self.slice_raw(i0, i1).minus_pattern(b, out)?;
        if i1 < self.len {
            self.slice_raw(i1, self.len).finish(out);
        }
        Ok(())
    }

    /// Indices `i0..i1` of the frames lying between `lo` and `hi` (a pattern or run is
    /// monotone, so they are contiguous).
    fn index_span(&self, lo: i128, hi: i128) -> (u64, u64) {
        let s = self.start as i128;
        if self.dir > 0 {
            (self.count_below(lo - s), self.count_below(hi - s + 1))
        } else {
            (self.count_below(s - hi), self.count_below(s - lo + 1))
        }
    }

    /// `self` minus the frames of `b`, cutting around each one. Only `b`'s frames within
    /// `self`'s bounds are looked at, so cutting many small pieces by one long sparse run
    /// costs the overlap, not pieces × frames.
    fn minus_frames(&self, b: &Seg, out: &mut Vec<Seg>) {
        let (j0, j1) = b.index_span(self.min() as i128, self.max() as i128);
        let mut cuts: Vec<u64> = (j0..j1).filter_map(|i| self.index_of(b.nth(i))).collect();
        cuts.sort_unstable();
        let mut from = 0;
        for c in cuts {
            if c > from {
                self.slice_raw(from, c).finish(out);
            }
            from = c + 1;
        }
        if from == 0 {
            out.push(self.clone());
        } else if from < self.len {
            self.slice_raw(from, self.len).finish(out);
        }
    }

    /// `self` minus `b`'s endless pattern; `self` lies within `b`'s bounds.
    fn minus_pattern(self, b: &Seg, out: &mut Vec<Seg>) -> Result<(), TooComplex> {
        if b.is_run() && b.period == 1 {
            return Ok(());
        }
        let m = self.m();
        let l = lcm(self.period, b.period);
        let cyc = l.and_then(|l| (l / self.period).checked_mul(m));
        if let (Some(l), Some(cyc)) = (l, cyc) {
            if cyc <= PATTERN_CAP {
                let rem = self.len % cyc;
                let mut kept = Vec::new();
                let mut kept_in_rem = 0u64;
                for j in 0..cyc {
                    let d = self.d_of(j);
                    if !b.pattern_contains(self.start as i128 + self.dir as i128 * d) {
                        kept_in_rem += u64::from(j < rem);
                        kept.push(d as u64);
                    }
                }
                let len = (self.len / cyc) * kept.len() as u64 + kept_in_rem;
                if len == 0 {
                    return Ok(());
                }
                let base = kept[0];
                let start = (self.start as i128 + self.dir as i128 * base as i128) as i64;
                let offs = Offs::from_vec(kept.iter().map(|k| k - base).collect());
                Seg {
                    start,
                    dir: self.dir,
                    period: l,
                    offs,
                    len,
                }
                .finish(out);
                return Ok(());
            }
        }
        if self.is_run() && b.len <= CUT_CAP && b.len <= self.len {
            // A long run minus a sparse one: cut around each frame of `b`.
            self.minus_frames(b, out);
            return Ok(());
        }
        if self.len > MATERIALISE_CAP {
            return Err(TooComplex {
                reason: format!(
                    "frames {} to {} ({} frames) overlap frames {} to {} with an unrelated step; \
                     removing the repeats would list more than {MATERIALISE_CAP} frames one by one",
                    self.start,
                    self.last(),
                    self.len,
                    b.start,
                    b.last()
                ),
            });
        }
        let mut tmp = Vec::new();
        for i in 0..self.len {
            let f = self.nth(i);
            if !b.pattern_contains(f as i128) {
                push_merge(&mut tmp, Seg::single(f));
            }
        }
        out.extend(tmp);
        Ok(())
    }
}

/// Least common multiple, `None` past `u64`.
fn lcm(a: u64, b: u64) -> Option<u64> {
    let (mut x, mut y) = (a, b);
    while y != 0 {
        (x, y) = (y, x % y);
    }
    u64::try_from(a as u128 / x as u128 * b as u128).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(s: &Seg) -> Vec<i64> {
        (0..s.len).map(|i| s.nth(i)).collect()
    }

    #[test]
    fn minus_equal_steps_keeps_order() {
        let a = Seg::run(1, 1, 10);
        let b = Seg::run(3, 1, 4);
        let mut out = Vec::new();
        a.minus(&b, &mut out).unwrap();
        let got: Vec<i64> = out.iter().flat_map(frames).collect();
        assert_eq!(got, vec![1, 2, 7, 8, 9, 10]);
    }

    #[test]
    fn minus_unrelated_steps_gives_pattern() {
        let a = Seg::run(1, 2, 1000);
        let b = Seg::run(1, 3, 1000);
        let mut out = Vec::new();
        a.minus(&b, &mut out).unwrap();
        let got: Vec<i64> = out.iter().flat_map(frames).collect();
        let want: Vec<i64> = (0..1000)
            .map(|i| 1 + 2 * i)
            .filter(|f| (f - 1) % 3 != 0 || *f > 1 + 3 * 999)
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn lcm_overflow_is_none() {
        assert_eq!(lcm(4, 6), Some(12));
        assert_eq!(lcm(u64::MAX, u64::MAX - 1), None);
    }
}
