//! Normalisation: the shortest ordinary spelling of a set that parses back to the same frames
//! in the same order (`1,2,3,5,7,9,10` → `1-3,5-9x2,10`).

use std::fmt::{self, Write};

use crate::iter::Runs;
use crate::seg::Seg;
use crate::{FrameSet, TooComplex};

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

/// Staggers of at most this many frames are also spelled as runs, and the strictly shorter
/// spelling wins (`1-2:2` is `1-2`, `1-10:10` is `1,10-2`). Larger ones always print as
/// `a-b:N`, so that printing never lists frames; the runs could only be shorter when `N` is
/// close to the number of frames.
const STAGGER_AS_RUNS_MAX: u64 = 4096;

/// True for what prints on its own (a fill or a stagger), never merged with neighbours.
fn stands_alone(s: &Seg) -> bool {
    s.as_fill().is_some() || s.stagger_passes().is_some()
}

/// Writes a stagger segment as `a-b:N`, or as its runs when that is shorter.
fn write_stagger<W: Write>(w: &mut W, s: &Seg, passes: u64) -> fmt::Result {
    let stagger = format!("{}-{}:{passes}", s.start, s.range_end());
    if s.len <= STAGGER_AS_RUNS_MAX {
        let mut runs = Capped {
            out: String::new(),
            cap: stagger.len() - 1,
        };
        if write_runs(&mut runs, std::slice::from_ref(s), "").is_ok() {
            return w.write_str(&runs.out);
        }
    }
    w.write_str(&stagger)
}

/// Writes `segs` as merged runs, each preceded by a comma except the first when `sep` is
/// empty.
fn write_runs<W: Write>(w: &mut W, segs: &[Seg], mut sep: &str) -> fmt::Result {
    let mut runs = Runs::new(segs);
    while let Some(s) = runs.next_seg() {
        w.write_str(sep)?;
        write_run(w, &s)?;
        sep = ",";
    }
    Ok(())
}

/// The normalised spelling, written piece by piece so a capped writer can stop early.
fn write_normalised<W: Write>(set: &FrameSet, w: &mut W) -> fmt::Result {
    let segs = &set.segs;
    let mut sep = "";
    let mut i = 0;
    while i < segs.len() {
        if let Some((a, b, n)) = segs[i].as_fill() {
            write!(w, "{sep}{a}-{b}y{n}")?;
        } else if let Some(passes) = segs[i].stagger_passes() {
            w.write_str(sep)?;
            write_stagger(w, &segs[i], passes)?;
        } else {
            // Plain runs up to the next fill or stagger, merged across pattern periods.
            let mut j = i + 1;
            while j < segs.len() && !stands_alone(&segs[j]) {
                j += 1;
            }
            write_runs(w, &segs[i..j], sep)?;
            sep = ",";
            i = j;
            continue;
        }
        sep = ",";
        i += 1;
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

/// Ascending range text for a sorted list of frames, joining only consecutive frames:
/// `1001-1003,1007,1010-1012`.
///
/// Why not [`FrameSet`]'s spelling: reports listing particular frames (empty, damaged, out of
/// range) use this plain form so that anyone reading a finding, or a script splitting on `,`
/// and `-`, needs no step syntax (`1-9x2`). It is for lists already held in memory; a set of
/// missing frames, which may be huge, prints as a [`FrameSet`].
pub fn plain_list(frames: &[i64]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < frames.len() {
        let mut j = i;
        while j + 1 < frames.len() && frames[j].checked_add(1) == Some(frames[j + 1]) {
            j += 1;
        }
        if !out.is_empty() {
            out.push(',');
        }
        out.push_str(&crate::Run::span(frames[i], frames[j]).to_string());
        i = j + 1;
    }
    out
}
