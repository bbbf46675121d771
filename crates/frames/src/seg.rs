//! Segments: how a [`crate::FrameSet`] stores its frames.
//!
//! A segment is "the first `len` frames of a periodic pattern": from `start`, walking in
//! direction `dir`, the frames at distances `k * period + o` for `k = 0, 1, …` and each offset
//! `o` in `offs` (sorted, `offs[0] == 0`, all below `period`). A plain run `a-bxN` is the pattern
//! with one offset; `a-byN` (and what is left of a run after removing a differently stepped one)
//! needs several. Every operation is arithmetic on these numbers, so a billion frames cost the
//! same as ten.

use std::sync::Arc;

use crate::TooComplex;

/// Most offsets one pattern may hold (what `y65537` or a stagger's common period may need).
pub(crate) const PATTERN_CAP: u64 = 1 << 16;
/// Segments this short are removed frame by frame (exact, and immune to unrelated steps).
const SMALL: u64 = 64;
/// Most frames listed one by one when two runs share no common period below [`PATTERN_CAP`].
pub(crate) const MATERIALISE_CAP: u64 = 10_000_000;

/// The offsets of a pattern; `One` is the plain run (`[0]`) and allocates nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Offs {
    One,
    Many(Arc<[u64]>),
}

impl Offs {
    pub(crate) fn as_slice(&self) -> &[u64] {
        match self {
            Offs::One => &[0],
            Offs::Many(v) => v,
        }
    }

    fn from_vec(v: Vec<u64>) -> Offs {
        if v.len() == 1 {
            Offs::One
        } else {
            Offs::Many(v.into())
        }
    }
}

/// One stored piece of a frame set; see the module documentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Seg {
    pub start: i64,
    pub dir: i64,
    pub period: u64,
    pub offs: Offs,
    pub len: u64,
}

impl Seg {
    /// One frame.
    pub fn single(f: i64) -> Seg {
        Seg {
            start: f,
            dir: 1,
            period: 1,
            offs: Offs::One,
            len: 1,
        }
    }

    /// `len` frames from `start` in steps of `step` (non-zero). The caller guarantees every
    /// frame fits in `i64`.
    pub fn run(start: i64, step: i128, len: u64) -> Seg {
        if len <= 1 {
            return Seg::single(start);
        }
        Seg {
            start,
            dir: if step < 0 { -1 } else { 1 },
            period: step.unsigned_abs() as u64,
            offs: Offs::One,
            len,
        }
    }

    /// Offsets per period.
    pub fn m(&self) -> u64 {
        self.offs.as_slice().len() as u64
    }

    /// True for an arithmetic run (one offset).
    pub fn is_run(&self) -> bool {
        matches!(self.offs, Offs::One)
    }

    /// Signed step of a run.
    pub fn step(&self) -> i128 {
        self.dir as i128 * self.period as i128
    }

    /// Distance from `start` of the `i`-th frame.
    fn d_of(&self, i: u64) -> i128 {
        let o = self.offs.as_slice();
        let m = o.len() as u64;
        (i / m) as i128 * self.period as i128 + o[(i % m) as usize] as i128
    }

    /// The `i`-th frame (`i < len`).
    pub fn nth(&self, i: u64) -> i64 {
        (self.start as i128 + self.dir as i128 * self.d_of(i)) as i64
    }

    pub fn last(&self) -> i64 {
        self.nth(self.len - 1)
    }

    pub fn min(&self) -> i64 {
        if self.dir > 0 {
            self.start
        } else {
            self.last()
        }
    }

    pub fn max(&self) -> i64 {
        if self.dir > 0 {
            self.last()
        } else {
            self.start
        }
    }

    fn d(&self, f: i128) -> i128 {
        (f - self.start as i128) * self.dir as i128
    }

    /// How many frames lie at a distance below `d`.
    fn count_below(&self, d: i128) -> u64 {
        if d <= 0 {
            return 0;
        }
        let p = self.period as i128;
        let (k, r) = (d / p, d % p);
        let o = self.offs.as_slice();
        let c = k * o.len() as i128 + o.partition_point(|&x| (x as i128) < r) as i128;
        c.min(self.len as i128) as u64
    }

    pub fn contains(&self, f: i64) -> bool {
        self.index_of(f).is_some()
    }

    /// Membership in the endless pattern, ignoring `len` (exact between `min` and `max`).
    fn pattern_contains(&self, f: i128) -> bool {
        let r = self.d(f).rem_euclid(self.period as i128) as u64;
        self.offs.as_slice().binary_search(&r).is_ok()
    }

    /// Frames `i0..i1` as a segment anchored at its first frame (not simplified).
    fn slice_raw(&self, i0: u64, i1: u64) -> Seg {
        let o = self.offs.as_slice();
        let r0 = (i0 % o.len() as u64) as usize;
        let offs = if o.len() == 1 {
            Offs::One
        } else {
            let base = o[r0];
            let wrap = self.period - base;
            let v: Vec<u64> = o[r0..]
                .iter()
                .map(|x| x - base)
                .chain(o[..r0].iter().map(|x| wrap + x))
                .collect();
            Offs::Many(v.into())
        };
        Seg {
            start: self.nth(i0),
            dir: self.dir,
            period: self.period,
            offs,
            len: i1 - i0,
        }
    }

    /// The smallest period that describes the same pattern.
    fn reduce_period(self) -> Seg {
        let o = self.offs.as_slice();
        let m = o.len();
        for t in (2..=m).rev() {
            if m % t != 0 || self.period % t as u64 != 0 {
                continue;
            }
            let (p2, m2) = (self.period / t as u64, m / t);
            if (m2..m).all(|i| o[i] == o[i - m2] + p2) {
                let offs = Offs::from_vec(o[..m2].to_vec());
                return Seg {
                    period: p2,
                    offs,
                    ..self
                };
            }
        }
        self
    }

    /// Appends the canonical form of this segment: a single frame, a run, a pattern of at least
    /// two whole periods, or (for shorter patterns) the runs it consists of.
    pub fn finish(self, out: &mut Vec<Seg>) {
        if self.len == 1 {
            out.push(Seg::single(self.start));
            return;
        }
        if self.is_run() {
            out.push(self);
            return;
        }
        let seg = self.reduce_period();
        if seg.is_run() || seg.len > 2 * seg.m() {
            out.push(seg);
            return;
        }
        let mut tmp = Vec::new();
        for i in 0..seg.len {
            push_merge(&mut tmp, Seg::single(seg.nth(i)));
        }
        out.extend(tmp);
    }

    /// Appends, in this segment's order, its frames that are not in `b`.
    pub fn minus(&self, b: &Seg, out: &mut Vec<Seg>) -> Result<(), TooComplex> {
        let (lo, hi) = (b.min() as i128, b.max() as i128);
        if (self.max() as i128) < lo || (self.min() as i128) > hi {
            out.push(self.clone());
            return Ok(());
        }
        let s = self.start as i128;
        let (i0, i1) = if self.dir > 0 {
            (self.count_below(lo - s), self.count_below(hi - s + 1))
        } else {
            (self.count_below(s - hi), self.count_below(s - lo + 1))
        };
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

    /// Index of frame `f`, if present.
    fn index_of(&self, f: i64) -> Option<u64> {
        let d = self.d(f as i128);
        if d < 0 {
            return None;
        }
        let p = self.period as i128;
        let o = self.offs.as_slice();
        let idx = o.binary_search(&((d % p) as u64)).ok()?;
        let i = (d / p) * o.len() as i128 + idx as i128;
        (i < self.len as i128).then_some(i as u64)
    }

    /// `self` minus the few frames of `b`, cutting around each one.
    fn minus_frames(&self, b: &Seg, out: &mut Vec<Seg>) {
        let mut cuts: Vec<u64> = (0..b.len).filter_map(|i| self.index_of(b.nth(i))).collect();
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
        if self.is_run() && b.len <= MATERIALISE_CAP && b.len <= self.len {
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

    /// For a `y` fill (offsets `0..period-1`): the `a-byN` spelling's `(a, b, N)`.
    pub fn as_fill(&self) -> Option<(i64, i64, u64)> {
        let o = self.offs.as_slice();
        if o.len() < 2 || o.len() as u64 != self.period - 1 {
            return None;
        }
        if !o.iter().enumerate().all(|(i, &x)| x == i as u64) {
            return None;
        }
        let a = i64::try_from(self.start as i128 - self.dir as i128).ok()?;
        Some((a, self.last(), self.period))
    }

    /// The pattern's offsets cut into arithmetic groups `(first offset, gap, count)`.
    pub fn groups(&self) -> Vec<(u64, u64, u64)> {
        let o = self.offs.as_slice();
        let mut g = Vec::new();
        let mut i = 0;
        while i < o.len() {
            if i + 1 == o.len() {
                g.push((o[i], 1, 1));
                break;
            }
            let gap = o[i + 1] - o[i];
            let mut j = i + 1;
            while j + 1 < o.len() && o[j + 1] - o[j] == gap {
                j += 1;
            }
            g.push((o[i], gap, (j - i + 1) as u64));
            i = j + 1;
        }
        g
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

/// Appends `s` after `segs`, folding it into the last run when the frames continue that run,
/// the way a person compresses a list by eye: `1,2,3` is `1-3`, and `2-8x2` followed by `10-19`
/// becomes `2-10x2,11-19`. Only the last element of `segs` is ever changed.
pub(crate) fn push_merge(segs: &mut Vec<Seg>, s: Seg) {
    let Some(last) = segs.last_mut() else {
        segs.push(s);
        return;
    };
    if !(last.is_run() && s.is_run()) {
        segs.push(s);
        return;
    }
    if last.len == 1 {
        let step = s.start as i128 - last.start as i128;
        if s.len == 1 || s.step() == step {
            *last = Seg::run(last.start, step, s.len + 1);
            return;
        }
        segs.push(s);
        return;
    }
    let st = last.step();
    if last.last() as i128 + st == s.start as i128 {
        if s.len == 1 || s.step() == st {
            last.len += s.len;
            return;
        }
        last.len += 1;
        let rest = if s.len == 2 {
            Seg::single(s.nth(1))
        } else {
            s.slice_raw(1, s.len)
        };
        push_merge(segs, rest);
        return;
    }
    // A two-frame run with a gap prints as `a,b` anyway, so its second frame may start a new
    // run instead (`1,3,4,5` → `1,3-5`); a unit pair `a-b` stays.
    if last.len == 2 && last.period != 1 {
        let second = last.last();
        let step = s.start as i128 - second as i128;
        if s.len == 1 || s.step() == step {
            *last = Seg::single(last.start);
            segs.push(Seg::run(second, step, s.len + 1));
            return;
        }
    }
    segs.push(s);
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
    fn reduce_period_finds_the_smallest() {
        let s = Seg {
            start: 0,
            dir: 1,
            period: 6,
            offs: Offs::from_vec(vec![0, 2, 4]),
            len: 30,
        };
        let r = s.reduce_period();
        assert_eq!((r.period, r.m()), (2, 1));
    }

    #[test]
    fn lcm_overflow_is_none() {
        assert_eq!(lcm(4, 6), Some(12));
        assert_eq!(lcm(u64::MAX, u64::MAX - 1), None);
    }
}
