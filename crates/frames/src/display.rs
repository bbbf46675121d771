//! Normalisation: the shortest ordinary spelling of a set that parses back to the same frames
//! in the same order (`1,2,3,5,7,9,10` → `1-3,5-9x2,10`).

use std::fmt::{self, Write};

use crate::iter::Runs;
use crate::merge::push_merge;
use crate::parse::stagger_segs;
use crate::seg::Seg;
use crate::{FrameSet, TooComplex};

/// Largest stagger count the normaliser tries to recognise.
const STAGGER_RECOGNISE_MAX: u64 = 64;

/// Writes one run in fileseq syntax.
fn write_run<W: Write>(w: &mut W, s: &Seg) -> fmt::Result {
    if s.len == 1 {
        write!(w, "{}", s.start)
    } else if s.len == 2 && s.period != 1 {
        write!(w, "{},{}", s.start, s.last())
    } else if s.period == 1 {
        write!(w, "{}-{}", s.start, s.last())
    } else {
        write!(w, "{}-{}x{}", s.start, s.last(), s.period)
    }
}

/// If `segs` starts with what `a-b:n` stores, returns `(a, b, n, segments used)`. Only tried
/// where the alternative is long: a stepped run followed by a periodic pattern.
fn stagger_at(segs: &[Seg]) -> Option<(i64, i64, u64, usize)> {
    let (s, next) = (segs.first()?, segs.get(1)?);
    if !s.is_run() || next.is_run() || s.len < 2 {
        return None;
    }
    if !(3..=STAGGER_RECOGNISE_MAX).contains(&s.period) {
        return None;
    }
    for r in 0..s.period as i64 {
        let Some(b) = s.last().checked_add(s.dir * r) else {
            break;
        };
        let Ok(cand) = stagger_segs(s.start, b, s.period as i64) else {
            continue;
        };
        if segs.len() >= cand.len() && segs[..cand.len()] == cand[..] {
            return Some((s.start, b, s.period, cand.len()));
        }
        // After an earlier part, the stagger's pieces were appended one by one.
        let mut again = Vec::with_capacity(cand.len());
        for seg in cand {
            push_merge(&mut again, seg);
        }
        if segs.len() >= again.len() && segs[..again.len()] == again[..] {
            return Some((s.start, b, s.period, again.len()));
        }
    }
    None
}

/// The normalised spelling, written piece by piece so a capped writer can stop early.
fn write_normalised<W: Write>(set: &FrameSet, w: &mut W) -> fmt::Result {
    let segs = &set.segs;
    let mut sep = "";
    let mut i = 0;
    while i < segs.len() {
        if let Some((a, b, n)) = segs[i].as_fill() {
            write!(w, "{sep}{a}-{b}y{n}")?;
            sep = ",";
            i += 1;
            continue;
        }
        if let Some((a, b, n, used)) = stagger_at(&segs[i..]) {
            write!(w, "{sep}{a}-{b}:{n}")?;
            sep = ",";
            i += used;
            continue;
        }
        // Plain runs up to the next fill or stagger, merged across pattern periods.
        let mut j = i + 1;
        while j < segs.len() && segs[j].as_fill().is_none() && stagger_at(&segs[j..]).is_none() {
            j += 1;
        }
        let mut runs = Runs::new(&segs[i..j]);
        while let Some(s) = runs.next_seg() {
            w.write_str(sep)?;
            write_run(w, &s)?;
            sep = ",";
        }
        i = j;
    }
    Ok(())
}

/// A `String` that refuses to grow past `cap` bytes.
struct Capped {
    out: String,
    cap: usize,
}

impl Write for Capped {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if self.out.len() + s.len() > self.cap {
            return Err(fmt::Error);
        }
        self.out.push_str(s);
        Ok(())
    }
}

impl FrameSet {
    /// The normalised spelling, refusing to build one longer than `max_bytes`.
    ///
    /// Why: runs, fills and staggers print in a few bytes, but a set left over from removing
    /// one stepped range from another with an unrelated step (the inverse of
    /// `1-1000000000x2,1-1000000000x3`, say) has no short fileseq spelling; printing it would
    /// take gigabytes. Commands use this to fail with a clear message instead.
    pub fn to_string_capped(&self, max_bytes: usize) -> Result<String, TooComplex> {
        let mut w = Capped {
            out: String::new(),
            cap: max_bytes,
        };
        write_normalised(self, &mut w).map_err(|_| TooComplex {
            reason: format!(
                "the normalised range of these {} frames is longer than {max_bytes} bytes: \
                 the set has no short spelling in frame-range syntax",
                self.len
            ),
        })?;
        Ok(w.out)
    }
}

impl fmt::Display for FrameSet {
    /// The normalised range string (`1-3,5-9x2,10`); empty set is `""`. Runs come out as
    /// `a-b` or `a-bxN`, fills as `a-byN`, staggers as `a-b:N`; parsing the result gives the
    /// same frames in the same order.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_normalised(self, f)
    }
}
