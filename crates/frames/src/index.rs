//! A lookup of stored segments by value, so that adding the 20,000th part of a list compares it
//! only with the parts it can overlap instead of with all of them.

use std::collections::BTreeSet;

use crate::seg::Seg;

/// Segments of at most this many frames are indexed frame by frame: two unrelated frames
/// folded into one run (`5,900000`) must not count as a wide segment.
const FEW: u64 = 4;
/// Longer segments spanning at most this many frame numbers are found by their smallest
/// frame; wider ones (few in practice: the big ranges) are checked one by one.
const NARROW: i64 = 1 << 12;

/// Segment positions by value; see the module documentation.
#[derive(Debug, Clone, Default)]
pub(crate) struct Index {
    /// `(frame, position)` for every frame of segments of at most [`FEW`] frames.
    points: BTreeSet<(i64, usize)>,
    /// `(smallest frame, position)` for longer segments spanning at most [`NARROW`].
    narrow: BTreeSet<(i64, usize)>,
    /// Everything else.
    wide: Vec<usize>,
}

/// Where a segment is kept.
enum Slot {
    Points,
    Narrow,
    Wide,
}

fn slot(s: &Seg) -> Slot {
    if s.stagger_passes().is_some() {
        // Listing a stagger's frames is what the index must not do; its bounds are enough.
        Slot::Wide
    } else if s.len <= FEW {
        Slot::Points
    } else if (s.max() as i128 - s.min() as i128) <= NARROW as i128 {
        Slot::Narrow
    } else {
        Slot::Wide
    }
}

impl Index {
    pub fn new(segs: &[Seg]) -> Index {
        let mut ix = Index::default();
        for (i, s) in segs.iter().enumerate() {
            ix.add(i, s);
        }
        ix
    }

    pub fn add(&mut self, i: usize, s: &Seg) {
        match slot(s) {
            Slot::Points => self.points.extend((0..s.len).map(|k| (s.nth(k), i))),
            Slot::Narrow => {
                self.narrow.insert((s.min(), i));
            }
            Slot::Wide => self.wide.push(i),
        }
    }

    /// Forgets segment `i`, which must be indexed as `s`.
    pub fn remove(&mut self, i: usize, s: &Seg) {
        match slot(s) {
            Slot::Points => {
                for k in 0..s.len {
                    self.points.remove(&(s.nth(k), i));
                }
            }
            Slot::Narrow => {
                self.narrow.remove(&(s.min(), i));
            }
            Slot::Wide => {
                if let Some(p) = self.wide.iter().rposition(|&j| j == i) {
                    self.wide.remove(p);
                }
            }
        }
    }

    /// Positions, ascending, of the segments that may hold frames in `lo..=hi` (a superset:
    /// callers test the frames themselves).
    pub fn query(&self, segs: &[Seg], lo: i64, hi: i64) -> Vec<usize> {
        let meets = |i: &usize| segs[*i].max() >= lo && segs[*i].min() <= hi;
        let mut out: Vec<usize> = self
            .points
            .range((lo, 0)..=(hi, usize::MAX))
            .map(|&(_, i)| i)
            .collect();
        out.extend(
            self.narrow
                .range((lo.saturating_sub(NARROW), 0)..=(hi, usize::MAX))
                .map(|&(_, i)| i)
                .filter(meets),
        );
        out.extend(self.wide.iter().copied().filter(meets));
        out.sort_unstable();
        out.dedup();
        out
    }
}
