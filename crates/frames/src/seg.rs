//! Segments: how a [`crate::FrameSet`] stores its frames.
//!
//! A segment is "the first `len` frames of a periodic pattern": from `start`, walking in
//! direction `dir`, the frames at distances `k * period + o` for `k = 0, 1, …` and each offset
//! `o` in `offs` (sorted, `offs[0] == 0`, all below `period`). A plain run `a-bxN` is the pattern
//! with one offset; `a-byN` (and what is left of a run after removing a differently stepped one)
//! needs several. Every operation is arithmetic on these numbers, so a billion frames cost the
//! same as ten.

mod minus;
mod stagger;

pub(crate) use stagger::StaggerFrames;

use std::sync::Arc;

use crate::merge::push_merge;

/// Most offsets one pattern may hold (what `y65537` or a stagger's common period may need).
pub(crate) const PATTERN_CAP: u64 = 1 << 16;

/// The offsets of a pattern; `One` is the plain run (`[0]`) and allocates nothing.
/// `Stagger(passes)` is not a periodic pattern but a whole `a-b:N` (see `seg/stagger.rs`):
/// every frame from `start` over `len` frames, in stagger order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Offs {
    One,
    Many(Arc<[u64]>),
    Stagger(u64),
}

impl Offs {
    pub(crate) fn as_slice(&self) -> &[u64] {
        match self {
            Offs::One => &[0],
            Offs::Many(v) => v,
            // Callers test `stagger_passes` first; an empty slice keeps any slip harmless.
            Offs::Stagger(_) => &[],
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
        if self.stagger_passes().is_some() {
            // Slow (lists frames up to `i`), and only reached by the few-frame paths.
            let i = usize::try_from(i).unwrap_or(usize::MAX);
            return StaggerFrames::new(self).nth(i).unwrap_or(self.start);
        }
        (self.start as i128 + self.dir as i128 * self.d_of(i)) as i64
    }

    pub fn last(&self) -> i64 {
        match self.stagger_passes() {
            Some(p) => self.stagger_last(p),
            None => self.nth(self.len - 1),
        }
    }

    /// The frame farthest from `start` (`last` except for a stagger, which ends mid-range).
    fn far_end(&self) -> i64 {
        match self.stagger_passes() {
            Some(_) => self.range_end(),
            None => self.last(),
        }
    }

    pub fn min(&self) -> i64 {
        if self.dir > 0 {
            self.start
        } else {
            self.far_end()
        }
    }

    pub fn max(&self) -> i64 {
        if self.dir > 0 {
            self.far_end()
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
        if self.stagger_passes().is_some() {
            return (self.min()..=self.max()).contains(&f);
        }
        self.index_of(f).is_some()
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

    /// Membership in the endless pattern, ignoring `len` (exact between `min` and `max`).
    fn pattern_contains(&self, f: i128) -> bool {
        let r = self.d(f).rem_euclid(self.period as i128) as u64;
        self.offs.as_slice().binary_search(&r).is_ok()
    }

    /// Frames `i0..i1` as a segment anchored at its first frame (not simplified).
    pub(crate) fn slice_raw(&self, i0: u64, i1: u64) -> Seg {
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
            if !m.is_multiple_of(t) || !self.period.is_multiple_of(t as u64) {
                continue;
            }
            let (p2, m2) = (self.period / t as u64, m / t);
            if (m2..m).all(|i| o[i - m2].checked_add(p2) == Some(o[i])) {
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
        if self.stagger_passes().is_some() {
            out.push(self);
            return;
        }
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
