//! Lazy iterators over a frame set: its frames, and its arithmetic runs.

use std::iter::FusedIterator;

use crate::merge::push_merge;
use crate::seg::{Seg, StaggerFrames};
use crate::Run;

/// The frames of a [`crate::FrameSet`] in set order, computed one at a time.
#[derive(Debug, Clone)]
pub struct Iter<'a> {
    segs: &'a [Seg],
    i: u64,
    left: u64,
    /// The frames of `segs[0]` when it is a stagger, made when the iteration reaches it.
    stagger: Option<StaggerFrames>,
}

impl<'a> Iter<'a> {
    pub(crate) fn new(segs: &'a [Seg], len: u64) -> Iter<'a> {
        Iter {
            segs,
            i: 0,
            left: len,
            stagger: None,
        }
    }
}

impl Iterator for Iter<'_> {
    type Item = i64;

    fn next(&mut self) -> Option<i64> {
        let seg = self.segs.first()?;
        let f = match seg.stagger_passes() {
            Some(_) => {
                let frames = self.stagger.get_or_insert_with(|| StaggerFrames::new(seg));
                // A stagger yields exactly `len` frames; the fallback is never used.
                frames.next().unwrap_or(seg.start)
            }
            None => seg.nth(self.i),
        };
        self.i += 1;
        self.left -= 1;
        if self.i == seg.len {
            self.segs = &self.segs[1..];
            self.i = 0;
            self.stagger = None;
        }
        Some(f)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = usize::try_from(self.left).unwrap_or(usize::MAX);
        (n, usize::try_from(self.left).ok())
    }
}

impl FusedIterator for Iter<'_> {}

/// Runs straight from the segments, patterns cut period by period.
#[derive(Debug, Clone)]
struct RawRuns<'a> {
    segs: &'a [Seg],
    groups: Vec<(u64, u64, u64)>,
    /// Index of the next frame of `segs[0]` to emit.
    i: u64,
    g: usize,
    /// The frames of `segs[0]` when it is a stagger (given one by one; `Runs` merges them).
    stagger: Option<StaggerFrames>,
}

impl RawRuns<'_> {
    fn next_seg(&mut self) -> Option<Seg> {
        let seg = self.segs.first()?;
        if seg.is_run() {
            self.segs = &self.segs[1..];
            return Some(seg.clone());
        }
        if seg.stagger_passes().is_some() {
            let frames = self.stagger.get_or_insert_with(|| StaggerFrames::new(seg));
            if let Some(f) = frames.next() {
                return Some(Seg::single(f));
            }
            self.segs = &self.segs[1..];
            self.stagger = None;
            return self.next_seg();
        }
        if self.i == 0 && self.g == 0 {
            self.groups = seg.groups();
        }
        let (_, gap, count) = self.groups[self.g];
        let n = count.min(seg.len - self.i);
        let run = Seg::run(seg.nth(self.i), seg.dir as i128 * gap as i128, n);
        self.i += n;
        self.g = (self.g + 1) % self.groups.len();
        if self.i == seg.len {
            self.segs = &self.segs[1..];
            self.i = 0;
            self.g = 0;
        }
        Some(run)
    }
}

/// The frames of a [`crate::FrameSet`] as arithmetic [`Run`]s in set order, lazily (a
/// `y` fill over a billion frames yields its runs one by one, never all at once).
#[derive(Debug, Clone)]
pub struct Runs<'a> {
    raw: RawRuns<'a>,
    buf: Vec<Seg>,
    done: bool,
    /// Second frame of a two-frame run whose step does not fit in `i64`.
    pending: Option<Run>,
}

impl<'a> Runs<'a> {
    pub(crate) fn new(segs: &'a [Seg]) -> Runs<'a> {
        Runs {
            raw: RawRuns {
                segs,
                groups: Vec::new(),
                i: 0,
                g: 0,
                stagger: None,
            },
            buf: Vec::new(),
            done: false,
            pending: None,
        }
    }

    /// The next merged run as a segment (used by `Display` as well).
    pub(crate) fn next_seg(&mut self) -> Option<Seg> {
        // Only the last two buffered runs can still change, so anything before them is final.
        while self.buf.len() < 3 && !self.done {
            match self.raw.next_seg() {
                Some(s) => push_merge(&mut self.buf, s),
                None => self.done = true,
            }
        }
        if self.buf.is_empty() {
            None
        } else {
            Some(self.buf.remove(0))
        }
    }
}

impl Iterator for Runs<'_> {
    type Item = Run;

    fn next(&mut self) -> Option<Run> {
        if let Some(r) = self.pending.take() {
            return Some(r);
        }
        let s = self.next_seg()?;
        if s.len == 1 {
            return Some(Run::single(s.start));
        }
        match i64::try_from(s.step()) {
            Ok(step) => Some(Run {
                start: s.start,
                end: s.last(),
                step,
            }),
            // Only two frames at opposite ends of the i64 range get here.
            Err(_) => {
                self.pending = Some(Run::single(s.last()));
                Some(Run::single(s.start))
            }
        }
    }
}

impl FusedIterator for Runs<'_> {}
