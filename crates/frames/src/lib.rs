//! Frame sets and the fileseq-compatible frame-range syntax.
//!
//! Every pipeline tool speaks frame ranges (`1001-1100`, `1-100x2`, `1-10:2`); this crate is the
//! one place shotline parses, stores, prints and inverts them. A [`FrameSet`] keeps frames in
//! *set order* (first seen first, repeats dropped) and stores arithmetic runs and periodic
//! patterns instead of one integer per frame, so `1-1000000000` parses, counts, normalises and
//! inverts in microseconds. Nothing here prints or panics on user input: bad expressions come
//! back as a [`ParseError`] that names the offending character.
//!
//! ```
//! use shotline_frames::{pad_frame, FrameSet};
//!
//! let set = FrameSet::parse("1,2,3,5,7,9,10").unwrap();
//! assert_eq!(set.to_string(), "1-3,5-9x2,10");
//! assert_eq!(set.invert().to_string(), "4-8x2");
//!
//! let big = FrameSet::parse("1-1000000000x3").unwrap();
//! assert_eq!((big.len(), big.last()), (333_333_334, Some(1_000_000_000)));
//! assert_eq!(big.invert().to_string(), "1-999999999y3");
//!
//! let err = FrameSet::parse("1-20x0").unwrap_err();
//! assert_eq!(err.column, 5);
//! assert_eq!(pad_frame(-1, 4), "-001");
//! ```

#![warn(missing_docs)]

mod display;
mod error;
mod index;
mod iter;
mod merge;
mod parse;
mod run;
mod seg;

use std::sync::OnceLock;

pub use display::plain_list;
pub use error::{ParseError, RunError, TooComplex, TooManyFrames};
pub use iter::{Iter, Runs};
pub use run::Run;

use index::Index;
use merge::push_merge;
use seg::Seg;

/// An ordered set of frame numbers: set order is first-seen order, repeats dropped.
/// Stored as arithmetic runs, never as one integer per frame, so `1-1000000000` is cheap.
#[derive(Debug, Clone, Default)]
pub struct FrameSet {
    segs: Vec<Seg>,
    len: u64,
    min: i64,
    max: i64,
    /// Built on the first lookup, kept up to date by [`FrameSet::append`].
    index: OnceLock<Index>,
}

impl FrameSet {
    /// Parses fileseq syntax (`1-10`, `10-1`, `1-10x2`, `1-10y3`, `1-10:2`, `1,5,-3`); see
    /// `docs/frames.md`. Spaces are ignored between tokens.
    pub fn parse(expr: &str) -> Result<FrameSet, ParseError> {
        parse::parse(expr)
    }

    /// Like [`FrameSet::parse`], also giving the end frame written in each `a-b…` part, in
    /// order: a stepped range may not reach the end it names (`1-10x4` holds 1, 5 and 9), and
    /// a render's "include the last frame" option wants that frame too.
    pub fn parse_with_ends(expr: &str) -> Result<(FrameSet, Vec<i64>), ParseError> {
        parse::parse_with_ends(expr)
    }

    /// Builds a set from frames in order (repeats dropped), compressing runs as they come.
    ///
    /// Memory is proportional to the runs, not the frames: a stream of file names holding
    /// frames 1001 and 100000000 makes one two-frame run. Sorted input (what a directory
    /// listing gives after sorting) costs O(1) per frame; a frame inside the span seen so far
    /// is looked up in the runs.
    pub fn from_frames<I: IntoIterator<Item = i64>>(frames: I) -> FrameSet {
        let mut set = FrameSet::default();
        for f in frames {
            let new = set.is_empty() || f > set.max || f < set.min || !set.contains(f);
            if new {
                // Distinct i64 values never reach 2^64, so the count cannot overflow.
                let _ = set.append(Seg::single(f));
            }
        }
        set
    }

    /// Builds a set from runs in order, dropping frames already present, without listing
    /// frames: the render queue and the sequence grouper hand over ranges, not lists.
    pub fn from_runs<I: IntoIterator<Item = Run>>(runs: I) -> Result<FrameSet, RunError> {
        let mut set = FrameSet::default();
        for r in runs {
            r.check()?;
            set.insert(Seg::run(r.start, r.step as i128, r.len()))?;
        }
        Ok(set)
    }

    /// Number of frames.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// First frame in set order.
    pub fn first(&self) -> Option<i64> {
        self.segs.first().map(|s| s.start)
    }

    /// Last frame in set order.
    pub fn last(&self) -> Option<i64> {
        self.segs.last().map(Seg::last)
    }

    /// Smallest frame.
    pub fn min(&self) -> Option<i64> {
        (self.len > 0).then_some(self.min)
    }

    /// Largest frame.
    pub fn max(&self) -> Option<i64> {
        (self.len > 0).then_some(self.max)
    }

    /// The run from the smallest to the largest frame: the span the set covers, gaps included
    /// (`1001,1003` spans `1001-1003`). `None` for an empty set.
    pub fn span(&self) -> Option<Run> {
        (self.len > 0).then(|| Run::span(self.min, self.max))
    }

    /// Membership, without listing frames.
    pub fn contains(&self, frame: i64) -> bool {
        self.len > 0
            && (self.min..=self.max).contains(&frame)
            && self
                .overlapping(frame, frame)
                .into_iter()
                .any(|i| self.segs[i].contains(frame))
    }

    /// Positions of the stored segments whose bounds meet `lo..=hi`, ascending.
    fn overlapping(&self, lo: i64, hi: i64) -> Vec<usize> {
        if self.segs.len() <= 8 {
            return (0..self.segs.len())
                .filter(|&i| self.segs[i].max() >= lo && self.segs[i].min() <= hi)
                .collect();
        }
        self.index
            .get_or_init(|| Index::new(&self.segs))
            .query(&self.segs, lo, hi)
    }

    /// Frames in set order, lazily.
    pub fn iter(&self) -> Iter<'_> {
        Iter::new(&self.segs, self.len)
    }

    /// The set as arithmetic runs in set order, lazily: what a scheduler needs to cut chunks
    /// (`1-100x2` is one run, never fifty frames). A `y` fill comes out period by period.
    pub fn runs(&self) -> Runs<'_> {
        Runs::new(&self.segs)
    }

    /// All frames, refusing more than `cap`.
    pub fn to_vec_capped(&self, cap: u64) -> Result<Vec<i64>, TooManyFrames> {
        if self.len > cap {
            return Err(TooManyFrames {
                count: self.len,
                cap,
            });
        }
        Ok(self.iter().collect())
    }

    /// The frames missing between `min` and `max`, ascending.
    ///
    /// Computed on runs and patterns (`1-1000000000x2` inverts instantly). Only sets whose
    /// runs interleave with steps sharing no period below 65536 fall back to sorting every
    /// frame; use [`FrameSet::try_invert`] to bound that.
    pub fn invert(&self) -> FrameSet {
        self.invert_capped(u64::MAX).unwrap_or_default()
    }

    /// Like [`FrameSet::invert`], but bounds the work by `cap`: refuses to list more than `cap`
    /// frames in the rare case where the arithmetic path cannot be used, and to build an
    /// inverse of more than `cap` stored runs.
    pub fn try_invert(&self, cap: u64) -> Result<FrameSet, TooManyFrames> {
        self.invert_capped(cap)
    }

    /// The holes between the smallest and largest frame, ascending: the same as
    /// [`FrameSet::invert`], named for what a delivery check asks ("which frames are missing").
    pub fn gaps(&self) -> FrameSet {
        self.invert()
    }

    /// The frames from `first` to `last` (inclusive, either order) that the set lacks,
    /// ascending.
    ///
    /// Computed on runs: a set of frames 1001 and 100000000 checked against 1001-100000000
    /// answers `1002-99999999` at once. Frames of the set outside `first..=last` are ignored.
    pub fn missing_within(&self, first: i64, last: i64) -> FrameSet {
        let (lo, hi) = (first.min(last), first.max(last));
        self.gaps_between(lo, hi, u64::MAX).unwrap_or_default()
    }

    /// The frames of `self` that are not in `other`, in `self`'s order (`expected - found`
    /// gives missing frames).
    pub fn difference(&self, other: &FrameSet) -> Result<FrameSet, TooComplex> {
        let mut out = FrameSet::default();
        for seg in &self.segs {
            let mut pieces = vec![seg.clone()];
            for e in other.overlapping(seg.min(), seg.max()) {
                let mut next = Vec::with_capacity(pieces.len());
                for p in &pieces {
                    p.minus(&other.segs[e], &mut next)?;
                }
                pieces = next;
            }
            for p in pieces {
                out.append(p)?;
            }
        }
        Ok(out)
    }

    /// `self` followed by the frames of `other` that `self` lacks.
    pub fn union(&self, other: &FrameSet) -> Result<FrameSet, TooComplex> {
        let mut out = self.clone();
        for s in &other.segs {
            out.insert(s.clone())?;
        }
        Ok(out)
    }

    fn invert_capped(&self, cap: u64) -> Result<FrameSet, TooManyFrames> {
        if self.len == 0 {
            return Ok(FrameSet::default());
        }
        self.gaps_between(self.min, self.max, cap)
    }

    /// The frames in `lo..=hi` (`lo <= hi`) not in the set, ascending, computed on runs. `cap`
    /// bounds the pieces built and the frames listed by the fallback.
    fn gaps_between(&self, lo: i64, hi: i64, cap: u64) -> Result<FrameSet, TooManyFrames> {
        match self.cut_out(full_range(lo, hi), lo, hi, cap) {
            Ok(pieces) => Ok(from_disjoint(pieces)),
            Err(Cut::Complex) => self.invert_by_sorting(lo, hi, cap),
            Err(Cut::TooMany(e)) => Err(e),
        }
    }

    /// `pieces` (ascending, disjoint bounds, all within `lo..=hi`) less the set's frames: each
    /// stored segment is removed from the window of pieces its bounds meet, so the cost is the
    /// segments plus the pieces made, never pieces times segments. Cutting keeps pieces inside
    /// their own bounds, so they stay ascending with disjoint bounds.
    fn cut_out(&self, mut pieces: Vec<Seg>, lo: i64, hi: i64, cap: u64) -> Result<Vec<Seg>, Cut> {
        let mut order: Vec<&Seg> = self
            .segs
            .iter()
            .filter(|s| s.max() >= lo && s.min() <= hi)
            .collect();
        order.sort_by_key(|s| s.min());
        for e in order {
            // Only a window of the ascending, disjoint `pieces` can overlap `e`.
            let a = pieces.partition_point(|p| p.max() < e.min());
            let b = pieces.partition_point(|p| p.min() <= e.max());
            if a >= b {
                continue;
            }
            let mut repl = Vec::new();
            for p in &pieces[a..b] {
                p.minus(e, &mut repl).map_err(|_| Cut::Complex)?;
            }
            pieces.splice(a..b, repl);
            if pieces.len() as u64 > cap {
                return Err(Cut::TooMany(TooManyFrames {
                    count: pieces.len() as u64,
                    cap,
                }));
            }
        }
        Ok(pieces)
    }

    /// The frames of `self` (what is expected: a shot's range, a job's frames) that `present`
    /// (what is on disk) lacks; each of `self`'s runs gives its missing frames ascending.
    ///
    /// Why here: every command that reports missing frames asks this, and it must cost the
    /// runs, not the frames: `1-1000000000` with three frames present answers in a few steps
    /// and a few stored runs, whatever the size of the gaps. Only runs cut by `present`'s
    /// runs with an unrelated step and no compact difference fall back to listing, at most
    /// [`MAX_LISTED_MISSING`] frames of such a run.
    pub fn missing_from(&self, present: &FrameSet) -> FrameSet {
        let mut out = FrameSet::default();
        for run in self.runs() {
            for piece in present.missing_in_run(&run) {
                // `self`'s runs share no frame, so neither do their pieces; and there are no
                // more frames than `self` holds, so the count cannot overflow.
                let _ = out.append(piece);
            }
        }
        out
    }

    /// The frames of `run` that the set lacks, as ascending pieces.
    fn missing_in_run(&self, run: &Run) -> Vec<Seg> {
        let (lo, hi) = (run.start.min(run.end), run.start.max(run.end));
        let ascending = Seg::run(lo, i128::from(run.step).abs(), run.len());
        match self.cut_out(vec![ascending], lo, hi, u64::MAX) {
            Ok(pieces) => pieces,
            Err(_) => self.missing_by_listing(run),
        }
    }

    /// The slow path of [`FrameSet::missing_from`]: the first [`MAX_LISTED_MISSING`] frames of
    /// `run` that the set lacks, so no run can exhaust memory.
    fn missing_by_listing(&self, run: &Run) -> Vec<Seg> {
        let mut missing: Vec<i64> = run
            .iter()
            .take(MAX_LISTED_MISSING)
            .filter(|&f| !self.contains(f))
            .collect();
        missing.sort_unstable();
        missing.into_iter().map(Seg::single).collect()
    }

    /// The slow, exact path of [`FrameSet::invert`]: sort every frame and collect the gaps.
    fn invert_by_sorting(&self, lo: i64, hi: i64, cap: u64) -> Result<FrameSet, TooManyFrames> {
        let mut all = self.to_vec_capped(cap)?;
        all.retain(|f| (lo..=hi).contains(f));
        all.sort_unstable();
        let mut out = FrameSet::default();
        let Some(&first) = all.first() else {
            for p in full_range(lo, hi) {
                let _ = out.append(p);
            }
            return Ok(out);
        };
        let first_gap = first as i128 - lo as i128;
        if first_gap > 0 {
            let _ = out.append(Seg::run(lo, 1, first_gap as u64));
        }
        for w in all.windows(2) {
            let gap = w[1] as i128 - w[0] as i128 - 1;
            if gap > 0 {
                let _ = out.append(Seg::run(w[0] + 1, 1, gap as u64));
            }
        }
        if let Some(&f) = all.last() {
            let tail = hi as i128 - f as i128;
            if tail > 0 {
                let _ = out.append(Seg::run(f + 1, 1, tail as u64));
            }
        }
        Ok(out)
    }

    /// Adds `seg`'s frames that are not yet present, after the existing ones.
    fn insert(&mut self, seg: Seg) -> Result<(), TooComplex> {
        self.insert_all(vec![seg])
    }

    /// Adds segments that share no frame among themselves (one parsed part), dropping frames
    /// already present. They are compared with the set as it was, never with each other, so a
    /// part is stored exactly as it was built.
    pub(crate) fn insert_all(&mut self, segs: Vec<Seg>) -> Result<(), TooComplex> {
        if self.segs.is_empty() {
            // Already canonical: keep the part's own structure.
            for seg in segs {
                self.push_unmerged(seg)?;
            }
            return Ok(());
        }
        let mut all = Vec::with_capacity(segs.len());
        for seg in segs {
            let (lo, hi) = (seg.min(), seg.max());
            let mut pieces = vec![seg];
            if self.len > 0 && hi >= self.min && lo <= self.max {
                for e in self.overlapping(lo, hi) {
                    let mut next = Vec::with_capacity(pieces.len());
                    for p in &pieces {
                        p.minus(&self.segs[e], &mut next)?;
                    }
                    pieces = next;
                    if pieces.is_empty() {
                        break;
                    }
                }
            }
            all.extend(pieces);
        }
        for p in all {
            self.append(p)?;
        }
        Ok(())
    }

    /// Appends a segment known to share no frame with the set.
    fn append(&mut self, seg: Seg) -> Result<(), TooComplex> {
        self.count(&seg)?;
        // `push_merge` may rewrite the last two segments and add up to two: re-index those.
        let from = self.segs.len().saturating_sub(2);
        if let Some(ix) = self.index.get_mut() {
            for (i, s) in self.segs.iter().enumerate().skip(from) {
                ix.remove(i, s);
            }
        }
        push_merge(&mut self.segs, seg);
        if let Some(ix) = self.index.get_mut() {
            for (i, s) in self.segs.iter().enumerate().skip(from) {
                ix.add(i, s);
            }
        }
        Ok(())
    }

    /// Appends a segment known to share no frame with the set, without folding it into the
    /// last run.
    fn push_unmerged(&mut self, seg: Seg) -> Result<(), TooComplex> {
        self.count(&seg)?;
        if let Some(ix) = self.index.get_mut() {
            ix.add(self.segs.len(), &seg);
        }
        self.segs.push(seg);
        Ok(())
    }

    /// Adds `seg` to the count and the bounds.
    fn count(&mut self, seg: &Seg) -> Result<(), TooComplex> {
        self.len = self.len.checked_add(seg.len).ok_or_else(too_many)?;
        if self.segs.is_empty() {
            (self.min, self.max) = (seg.min(), seg.max());
        } else {
            self.min = self.min.min(seg.min());
            self.max = self.max.max(seg.max());
        }
        Ok(())
    }
}

/// Why cutting pieces out of a window stopped: [`FrameSet::cut_out`].
enum Cut {
    /// Two segments with unrelated steps have no compact difference.
    Complex,
    /// More pieces than the caller allowed.
    TooMany(TooManyFrames),
}

/// Most frames the slow path of [`FrameSet::missing_from`] lists for one run.
pub const MAX_LISTED_MISSING: usize = 1 << 20;

/// A set of ascending segments known to share no frame.
fn from_disjoint(pieces: Vec<Seg>) -> FrameSet {
    let mut out = FrameSet::default();
    for p in pieces {
        // Fewer frames than the span of an i64 set: cannot overflow.
        let _ = out.append(p);
    }
    out
}

/// The error for a set that would hold every one of the 2^64 frame numbers.
fn too_many() -> TooComplex {
    TooComplex {
        reason: "the set would hold all 2^64 frame numbers, one more than can be counted".into(),
    }
}

/// Every frame from `min` to `max` ascending, split in two when that is all 2^64 numbers.
fn full_range(min: i64, max: i64) -> Vec<Seg> {
    let span = max as i128 - min as i128 + 1;
    if span > u64::MAX as i128 {
        vec![
            Seg::run(min, 1, (-1i128 - min as i128 + 1) as u64),
            Seg::run(0, 1, max as u64 + 1),
        ]
    } else {
        vec![Seg::run(min, 1, span as u64)]
    }
}

impl PartialEq for FrameSet {
    /// Same frames in the same order. Equal storage or equal runs answer quickly; otherwise
    /// the frames are compared one by one.
    fn eq(&self, other: &FrameSet) -> bool {
        self.len == other.len
            && (self.segs == other.segs
                || self.runs().eq(other.runs())
                || self.iter().eq(other.iter()))
    }
}

impl Eq for FrameSet {}

impl std::str::FromStr for FrameSet {
    type Err = ParseError;

    /// Same as [`FrameSet::parse`], for `"1-10x2".parse::<FrameSet>()` and clap value parsers.
    fn from_str(s: &str) -> Result<FrameSet, ParseError> {
        FrameSet::parse(s)
    }
}

impl<'a> IntoIterator for &'a FrameSet {
    type Item = i64;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

/// Widest padding [`pad_frame`] applies: an `i64` prints in at most 20 characters, so wider
/// padding only adds zeros, and commands refuse more.
pub const MAX_PAD: usize = 32;

/// Formats a frame zero-padded to `width` (at most [`MAX_PAD`]; wider counts as `MAX_PAD`),
/// the sign counting toward the width (`-001` is 4).
pub fn pad_frame(frame: i64, width: usize) -> String {
    let width = width.min(MAX_PAD);
    format!("{frame:0width$}")
}

#[cfg(test)]
mod tests;
