//! The per-sequence checks, shared by [`crate::verify_sequence`] and `validate`: frame coverage,
//! empty and damaged files, size outliers, and header changes inside a sequence.

use shotline_frames::FrameSet;
use std::collections::BTreeMap;

use crate::finding::{Code, Finding};
use crate::probe::Header;

/// Settings of the sequence checks. `Default` is what ingest and the render queue want: headers
/// read, outliers at half the neighbours' median, no fps expectation.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// The project frame rate; headers that record another rate give `fps-mismatch`.
    pub expected_fps: Option<f64>,
    /// A frame smaller than this fraction of its neighbours' median is a `size-outlier`.
    pub outlier_ratio: f64,
    /// Neighbours on each side forming that median.
    pub outlier_window: usize,
    /// Read each frame's header (truncation, corruption, resolution/channel/compression/fps).
    /// Off, only names and sizes are checked (cheap, for huge trees).
    pub check_headers: bool,
    /// How files are probed (ffprobe location, for movies). Built once: resolving it per frame
    /// would cost a `PATH` search each time.
    pub probe: shotline_media::ProbeOptions,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            expected_fps: None,
            outlier_ratio: 0.5,
            outlier_window: 3,
            check_headers: true,
            probe: shotline_media::ProbeOptions::default(),
        }
    }
}

/// One frame as the checks see it: number, size, and header (when read).
#[derive(Debug, Clone)]
pub(crate) struct FrameFacts {
    pub frame: i64,
    pub size: u64,
    pub header: Option<Header>,
}

/// `1 frame`, `3 frames`.
pub(crate) fn frames_word(n: usize) -> String {
    if n == 1 {
        "1 frame".into()
    } else {
        format!("{n} frames")
    }
}

/// Runs every check on one sequence's frames (sorted by number) and returns the findings.
/// `path` names the sequence in the findings.
pub(crate) fn check_frames(
    path: &str,
    frames: &[FrameFacts],
    expected: Option<&FrameSet>,
    opts: &VerifyOptions,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let numbers: Vec<i64> = frames.iter().map(|f| f.frame).collect();
    match expected {
        Some(set) => expected_findings(path, &numbers, set, &mut out),
        None if numbers.is_empty() => {
            out.push(Finding::new(Code::NoFrames, path, "no frames found"));
            return out;
        }
        None => gap_findings(path, &numbers, &mut out),
    }
    if numbers.is_empty() {
        return out;
    }
    let zero: Vec<i64> = frames
        .iter()
        .filter(|f| f.size == 0)
        .map(|f| f.frame)
        .collect();
    if !zero.is_empty() {
        out.push(
            Finding::new(
                Code::ZeroByte,
                path,
                format!("{} empty (0 bytes)", frames_word(zero.len())),
            )
            .with_frames(&zero),
        );
    }
    let damaged = status_findings(path, frames, &mut out);
    size_outliers(path, frames, &damaged, opts, &mut out);
    header_changes(path, frames, opts, &mut out);
    out
}

/// Frames missing between the first and last present (no expected frames known).
fn gap_findings(path: &str, numbers: &[i64], out: &mut Vec<Finding>) {
    let present = FrameSet::from_frames(numbers.iter().copied());
    let (Some(span), missing) = (present.span(), present.gaps()) else {
        return;
    };
    if !missing.is_empty() {
        let mut f = Finding::new(
            Code::MissingFrames,
            path,
            format!(
                "{} of {} frames missing in {span}",
                missing.len(),
                i128::from(span.end) - i128::from(span.start) + 1
            ),
        );
        f.frames = Some(missing.to_string());
        out.push(f);
    }
}

/// Frames of `expected` that are missing, and frames present outside it. `expected` may be
/// any frame set (`1001-1100x2`); it is never listed frame by frame.
fn expected_findings(path: &str, numbers: &[i64], expected: &FrameSet, out: &mut Vec<Finding>) {
    if numbers.is_empty() {
        let mut f = Finding::new(
            Code::NoFrames,
            path,
            format!("no frames found; expected {expected}"),
        );
        f.frames = Some(expected.to_string());
        out.push(f);
        return;
    }
    let present = FrameSet::from_frames(numbers.iter().copied());
    let missing = expected.missing_from(&present);
    if !missing.is_empty() {
        let mut f = Finding::new(
            Code::MissingFrames,
            path,
            format!(
                "{} of {} frames missing in {expected}",
                missing.len(),
                expected.len()
            ),
        );
        f.frames = Some(missing.to_string());
        out.push(f);
    }
    let outside: Vec<i64> = numbers
        .iter()
        .copied()
        .filter(|f| !expected.contains(*f))
        .collect();
    if !outside.is_empty() {
        out.push(
            Finding::new(
                Code::OutOfRange,
                path,
                format!(
                    "{} outside the expected {expected}",
                    frames_word(outside.len())
                ),
            )
            .with_frames(&outside),
        );
    }
}

/// Truncated / corrupt / unreadable frames, one finding per status. Returns the damaged frames.
fn status_findings(path: &str, frames: &[FrameFacts], out: &mut Vec<Finding>) -> Vec<i64> {
    let mut by_code: BTreeMap<Code, Vec<(i64, &str)>> = BTreeMap::new();
    for f in frames.iter().filter(|f| f.size > 0) {
        if let Some(h) = &f.header {
            if let Some(code) = h.problem {
                by_code
                    .entry(code)
                    .or_default()
                    .push((f.frame, h.reason.as_str()));
            }
        }
    }
    let mut damaged = Vec::new();
    for (code, list) in by_code {
        let nums: Vec<i64> = list.iter().map(|x| x.0).collect();
        let first = list[0];
        let detail = if list.len() == 1 {
            format!("frame {}: {}", first.0, first.1)
        } else {
            format!(
                "{} {code}; first, frame {}: {}",
                frames_word(list.len()),
                first.0,
                first.1
            )
        };
        out.push(Finding::new(code, path, detail).with_frames(&nums));
        damaged.extend(nums);
    }
    damaged
}

/// Frames far smaller than the median of their neighbours (half-written or black frames).
fn size_outliers(
    path: &str,
    frames: &[FrameFacts],
    damaged: &[i64],
    opts: &VerifyOptions,
    out: &mut Vec<Finding>,
) {
    let sized: Vec<&FrameFacts> = frames.iter().filter(|f| f.size > 0).collect();
    if sized.len() < 3 || opts.outlier_window == 0 {
        return;
    }
    let w = opts.outlier_window;
    let mut hits = Vec::new();
    let mut worst: Option<(i64, u64, u64, f64)> = None;
    for (i, f) in sized.iter().enumerate() {
        if damaged.contains(&f.frame) {
            continue;
        }
        let lo = i.saturating_sub(w);
        let hi = (i + w + 1).min(sized.len());
        let mut neigh: Vec<u64> = (lo..hi)
            .filter(|&j| j != i)
            .map(|j| sized[j].size)
            .collect();
        if neigh.len() < 2 {
            continue;
        }
        neigh.sort_unstable();
        let median = neigh[neigh.len() / 2];
        let ratio = f.size as f64 / median as f64;
        if ratio < opts.outlier_ratio {
            hits.push(f.frame);
            if worst.is_none_or(|w| ratio < w.3) {
                worst = Some((f.frame, f.size, median, ratio));
            }
        }
    }
    if let Some((frame, size, median, _)) = worst {
        out.push(
            Finding::new(
                Code::SizeOutlier,
                path,
                format!(
                    "{} much smaller than their neighbours; frame {frame} is {size} bytes against a median of {median}",
                    frames_word(hits.len())
                ),
            )
            .with_frames(&hits),
        );
    }
}

/// Reads one compared value out of a header.
type HeaderField = fn(&Header) -> Option<&str>;

/// Resolution, channel, compression and fps consistency across frames whose header was read.
fn header_changes(path: &str, frames: &[FrameFacts], opts: &VerifyOptions, out: &mut Vec<Finding>) {
    let ok: Vec<(i64, &Header)> = frames
        .iter()
        .filter_map(|f| {
            f.header
                .as_ref()
                .filter(|h| h.problem.is_none())
                .map(|h| (f.frame, h))
        })
        .collect();
    let fields: [(Code, &str, HeaderField); 3] = [
        (Code::ResolutionChange, "resolution", |h| {
            h.resolution.as_deref()
        }),
        (Code::ChannelChange, "channels", |h| h.channels.as_deref()),
        (Code::CompressionChange, "compression", |h| {
            h.compression.as_deref()
        }),
    ];
    for (code, what, get) in fields {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for (_, h) in &ok {
            if let Some(v) = get(h) {
                *counts.entry(v).or_default() += 1;
            }
        }
        if counts.len() < 2 {
            continue;
        }
        // The majority value is the sequence's; earliest frame breaks ties.
        let major = counts
            .iter()
            .max_by_key(|(v, n)| {
                (
                    **n,
                    std::cmp::Reverse(ok.iter().position(|(_, h)| get(h) == Some(**v))),
                )
            })
            .map(|(v, _)| *v)
            .unwrap_or_default();
        let odd: Vec<(i64, &str)> = ok
            .iter()
            .filter_map(|(f, h)| get(h).filter(|v| *v != major).map(|v| (*f, v)))
            .collect();
        let nums: Vec<i64> = odd.iter().map(|x| x.0).collect();
        let others: Vec<&str> = counts.keys().copied().filter(|v| *v != major).collect();
        out.push(
            Finding::new(
                code,
                path,
                format!(
                    "{} with {what} {} while the sequence is {major}",
                    frames_word(odd.len()),
                    others.join(" / ")
                ),
            )
            .with_frames(&nums),
        );
    }
    if let Some(fps) = opts.expected_fps {
        let off: Vec<(i64, f64)> = ok
            .iter()
            .filter_map(|(f, h)| h.fps.filter(|r| (r - fps).abs() > 0.005).map(|r| (*f, r)))
            .collect();
        if let Some(&(_, r)) = off.first() {
            let nums: Vec<i64> = off.iter().map(|x| x.0).collect();
            out.push(
                Finding::new(
                    Code::FpsMismatch,
                    path,
                    format!(
                        "{} at {r:.3} fps; the project is {fps:.3}",
                        frames_word(off.len())
                    ),
                )
                .with_frames(&nums),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(sizes: &[(i64, u64)]) -> Vec<FrameFacts> {
        sizes
            .iter()
            .map(|&(frame, size)| FrameFacts {
                frame,
                size,
                header: None,
            })
            .collect()
    }

    fn codes(f: &[Finding]) -> Vec<Code> {
        f.iter().map(|f| f.code).collect()
    }

    #[test]
    fn missing_frames_against_range_without_materialising() {
        let out = check_frames(
            "s",
            &facts(&[(2, 1), (3, 1), (7, 1), (9, 1)]),
            None,
            &VerifyOptions::default(),
        );
        assert_eq!(out[0].code, Code::MissingFrames);
        assert_eq!(out[0].frames.as_deref(), Some("4-6,8"));
        assert!(
            out[0].detail.starts_with("4 of 8 frames missing in 2-9"),
            "{}",
            out[0].detail
        );
        // Extreme ranges neither overflow nor panic.
        let out = check_frames(
            "s",
            &facts(&[(i64::MIN, 1), (i64::MAX, 1)]),
            None,
            &VerifyOptions::default(),
        );
        assert_eq!(out[0].code, Code::MissingFrames);
        let f = facts(&[(5, 1)]);
        let big = FrameSet::parse("1-1000000000").unwrap();
        let out = check_frames("s", &f, Some(&big), &VerifyOptions::default());
        assert_eq!(out[0].code, Code::MissingFrames);
        assert_eq!(out[0].frames.as_deref(), Some("1-4,6-1000000000"));
    }

    #[test]
    fn gaps_zero_bytes_and_outliers() {
        let f = facts(&[
            (1, 100),
            (2, 100),
            (3, 0),
            (4, 10),
            (5, 100),
            (7, 100),
            (8, 100),
        ]);
        let out = check_frames("s", &f, None, &VerifyOptions::default());
        assert_eq!(
            codes(&out),
            vec![Code::MissingFrames, Code::ZeroByte, Code::SizeOutlier]
        );
        assert_eq!(out[0].frames.as_deref(), Some("6"));
        assert_eq!(out[1].frames.as_deref(), Some("3"));
        assert_eq!(out[2].frames.as_deref(), Some("4"));
    }

    #[test]
    fn expected_range_reports_edges_and_extras() {
        let f = facts(&[(1002, 5), (1003, 5), (1200, 5)]);
        let r = FrameSet::parse("1001-1004").unwrap();
        let out = check_frames("s", &f, Some(&r), &VerifyOptions::default());
        assert_eq!(codes(&out), vec![Code::MissingFrames, Code::OutOfRange]);
        assert_eq!(out[0].frames.as_deref(), Some("1001,1004"));
        // A stepped range expects every other frame only.
        let f = facts(&[(1001, 5), (1003, 5), (1004, 5)]);
        let r = FrameSet::parse("1001-1007x2").unwrap();
        let out = check_frames("s", &f, Some(&r), &VerifyOptions::default());
        assert_eq!(codes(&out), vec![Code::MissingFrames, Code::OutOfRange]);
        assert_eq!(out[0].frames.as_deref(), Some("1005,1007"));
        assert_eq!(out[1].frames.as_deref(), Some("1004"));
        let r = FrameSet::parse("1-3").unwrap();
        let none = check_frames("s", &[], Some(&r), &VerifyOptions::default());
        assert_eq!(codes(&none), vec![Code::NoFrames]);
    }

    #[test]
    fn header_changes_name_the_odd_frames() {
        let mut f = facts(&[(1, 9), (2, 9), (3, 9), (4, 9)]);
        for (i, x) in f.iter_mut().enumerate() {
            x.header = Some(Header {
                resolution: Some(if i == 2 { "960x540" } else { "1920x1080" }.into()),
                fps: Some(25.0),
                ..Header::default()
            });
        }
        let opts = VerifyOptions {
            expected_fps: Some(24.0),
            ..VerifyOptions::default()
        };
        let out = check_frames("s", &f, None, &opts);
        assert_eq!(codes(&out), vec![Code::ResolutionChange, Code::FpsMismatch]);
        assert_eq!(out[0].frames.as_deref(), Some("3"));
        assert!(out[0].detail.contains("960x540"), "{}", out[0].detail);
    }
}
