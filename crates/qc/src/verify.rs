//! [`verify_sequence`]: one sequence checked against an expected range, for ingest, publish and
//! the render queue (and for each sequence `validate` finds).

use std::ffi::OsString;
use std::path::Path;

use rayon::prelude::*;
use serde::Serialize;
use shotline_frames::{FrameSet, Run};
use shotline_sequences::{parse_pattern_path, PadStyle, Sequence};

use crate::checks::{check_frames, FrameFacts, VerifyOptions};
use crate::finding::{format_frames, Code, Finding, Severity};
use crate::QcError;

/// The result of checking one sequence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SequenceReport {
    /// The sequence as a printf pattern with its directory (`/r/sh010.%04d.exr`).
    pub pattern: String,
    /// Frames present, as a range string (`1001-1048,1050-1100`).
    pub frames: String,
    /// Number of frames present.
    pub count: usize,
    /// The range checked against: the expected one, else first-last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub range: Option<String>,
    /// Total bytes of the frames.
    pub bytes: u64,
    /// The resolution most frames have, when headers were read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolution: Option<String>,
    /// Every problem found, errors first.
    pub findings: Vec<Finding>,
}

impl SequenceReport {
    /// True when no finding is an error (warnings allowed).
    pub fn is_ok(&self) -> bool {
        self.errors() == 0
    }

    /// Number of error findings.
    pub fn errors(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count()
    }

    /// Number of warning findings.
    pub fn warnings(&self) -> usize {
        self.findings.len() - self.errors()
    }
}

/// One frame file of a sequence with the size QC's own listing stat'ed. The grouping
/// (`shotline-sequences`) says which frames exist; the zero-byte, truncation and size-outlier
/// checks need each file's size, which only the caller's `stat` knows.
#[derive(Debug, Clone)]
pub(crate) struct FrameFile {
    /// The frame number.
    pub frame: i64,
    /// The file name, in the sequence's directory.
    pub name: OsString,
    /// Size in bytes.
    pub size: u64,
}

/// Checks the sequence named by `pattern` (`/renders/sh010_comp.%04d.exr`, `####`, `@@@@`, `$F4`)
/// against `expected` (only frames in the set are expected, so a stepped set such as
/// `1001-1100x2` does not report its skipped frames; without one, its own first..last): missing, zero-byte, truncated, corrupt and
/// unreadable frames, size outliers, resolution/channel/compression changes, and frames of the
/// same name at another padding. Frames are probed in parallel, headers only.
///
/// An `Err` means the question could not be asked (bad pattern, unlistable directory); a
/// sequence with no frames at all is a report with a `no-frames` error.
pub fn verify_sequence(
    pattern: &Path,
    expected: Option<&FrameSet>,
) -> Result<SequenceReport, QcError> {
    verify_sequence_with(pattern, expected, &VerifyOptions::default())
}

/// [`verify_sequence`] with explicit options (project fps, outlier thresholds, header checks).
/// The pattern is read by `shotline_sequences::parse_pattern` and frames are matched with its
/// `match_name`, so QC accepts exactly the patterns and frames `ls` and ingest do.
pub fn verify_sequence_with(
    pattern: &Path,
    expected: Option<&FrameSet>,
    opts: &VerifyOptions,
) -> Result<SequenceReport, QcError> {
    let pat = parse_pattern_path(pattern)?;
    let entries = std::fs::read_dir(&pat.dir).map_err(|source| QcError::Io {
        path: pat.dir.clone(),
        source,
    })?;
    let (head, tail) = (pat.head.as_encoded_bytes(), pat.tail.as_encoded_bytes());
    let mut frames: Vec<FrameFile> = Vec::new();
    // Names of this head and tail that are no frame of the pattern: grouped below to find the
    // same name at another padding.
    let mut unmatched: Vec<OsString> = Vec::new();
    let mut dangling: Vec<i64> = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(frame) = pat.match_name(&name) else {
            let b = name.as_encoded_bytes();
            if b.starts_with(head) && b.ends_with(tail) {
                unmatched.push(name);
            }
            continue;
        };
        // Frames are read through symlinks (published versions often link to renders).
        match std::fs::metadata(entry.path()) {
            Ok(m) if m.is_file() => frames.push(FrameFile {
                frame,
                name,
                size: m.len(),
            }),
            Ok(_) => {}
            Err(_) => dangling.push(frame),
        }
    }
    frames.sort_by_key(|f| f.frame);
    let seq = pat.sequence_of(frames.iter().map(|f| f.frame).collect());
    let mut report = check_sequence(&seq, &frames, expected, opts, &|_| {});
    if !dangling.is_empty() {
        dangling.sort_unstable();
        report.findings.push(
            Finding::new(
                Code::Unreadable,
                &report.pattern,
                format!(
                    "{} cannot be read (dangling symlink or no permission)",
                    crate::checks::frames_word(dangling.len())
                ),
            )
            .with_frames(&dangling),
        );
        sort_findings(&mut report.findings);
    }
    let grouped = shotline_sequences::group(&pat.dir, unmatched);
    let mut other_padding: Vec<(i64, usize)> = grouped
        .sequences
        .iter()
        .filter(|s| s.head == pat.head && s.tail == pat.tail)
        .flat_map(|s| s.frames.iter().map(move |f| (f, s.padding)))
        .collect();
    if !other_padding.is_empty() {
        other_padding.sort_unstable();
        let nums: Vec<i64> = other_padding.iter().map(|x| x.0).collect();
        let dupes: Vec<i64> = nums
            .iter()
            .copied()
            .filter(|n| frames.binary_search_by_key(n, |f| f.frame).is_ok())
            .collect();
        report.findings.push(
            Finding::new(
                Code::PaddingMismatch,
                &report.pattern,
                format!(
                    "{} files of this name use another padding ({} digits)",
                    nums.len(),
                    other_padding[0].1
                ),
            )
            .with_frames(&nums),
        );
        if !dupes.is_empty() {
            report.findings.push(
                Finding::new(
                    Code::DuplicateFrame,
                    &report.pattern,
                    format!("{} frame numbers exist at two paddings", dupes.len()),
                )
                .with_frames(&dupes),
            );
        }
        sort_findings(&mut report.findings);
    }
    Ok(report)
}

/// Every frame from `first` to `last` as a frame set (a shot's cut range, the expected frames
/// when none were given); a reversed or unrepresentable range is an error naming it.
pub fn frame_span(first: i64, last: i64) -> Result<FrameSet, QcError> {
    let err = |message: String| QcError::Range {
        range: Run::span(first, last).to_string(),
        message,
    };
    if first > last {
        return Err(err("the first frame is after the last".into()));
    }
    let run = Run::new(first, last, 1).map_err(|e| err(e.to_string()))?;
    FrameSet::from_runs([run]).map_err(|e| err(e.to_string()))
}

/// Checks one grouped sequence, whose files (sorted by frame, sizes attached) are `frames`;
/// `tick` is called once per frame probed.
pub(crate) fn check_sequence(
    seq: &Sequence,
    frames: &[FrameFile],
    expected: Option<&FrameSet>,
    opts: &VerifyOptions,
    tick: &(dyn Fn(u64) + Sync),
) -> SequenceReport {
    let pattern = seq
        .dir
        .join(seq.pattern(PadStyle::Printf))
        .display()
        .to_string();
    let facts: Vec<FrameFacts> = frames
        .par_iter()
        .map(|f| {
            let header = if opts.check_headers && f.size > 0 {
                Some(crate::probe::read_header(
                    &seq.dir.join(&f.name),
                    &opts.probe,
                ))
            } else {
                None
            };
            tick(1);
            FrameFacts {
                frame: f.frame,
                size: f.size,
                header,
            }
        })
        .collect();
    let mut findings = check_frames(&pattern, &facts, expected, opts);
    sort_findings(&mut findings);
    let numbers: Vec<i64> = frames.iter().map(|f| f.frame).collect();
    let range = match (expected, numbers.first(), numbers.last()) {
        (Some(r), _, _) => Some(r.to_string()),
        (None, Some(&a), Some(&b)) => Some(Run::span(a, b).to_string()),
        _ => None,
    };
    SequenceReport {
        pattern,
        frames: format_frames(&numbers),
        count: numbers.len(),
        range,
        bytes: frames.iter().map(|f| f.size).sum(),
        resolution: majority(
            facts
                .iter()
                .filter_map(|f| f.header.as_ref()?.resolution.clone()),
        ),
        findings,
    }
}

/// Errors first, then by code.
pub(crate) fn sort_findings(f: &mut [Finding]) {
    f.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.code.cmp(&b.code)));
}

fn majority(values: impl Iterator<Item = String>) -> Option<String> {
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for v in values {
        *counts.entry(v).or_default() += 1;
    }
    counts.into_iter().max_by_key(|(_, n)| *n).map(|(v, _)| v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shotline_media::testdata::{truncate_file, write_exr, write_exr_sequence, ExrSpec};

    #[test]
    fn verify_sequence_on_real_exrs() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        let spec = ExrSpec::rgb(32, 16);
        let paths = write_exr_sequence(d, "sh010.", 4, 1001..=1008, &spec).unwrap();
        std::fs::remove_file(&paths[2]).unwrap(); // 1003 missing
        let len = std::fs::metadata(&paths[4]).unwrap().len();
        truncate_file(&paths[4], len / 2).unwrap(); // 1005 truncated
        write_exr(&paths[6], &ExrSpec::rgb(64, 16)).unwrap(); // 1007 wider
        std::fs::write(d.join("sh010.01001.exr"), b"").unwrap(); // other padding, duplicate
        std::fs::remove_file(&paths[7]).unwrap(); // 1008 a link to a good frame
        std::os::unix::fs::symlink(&paths[0], &paths[7]).unwrap();
        std::os::unix::fs::symlink(d.join("gone.exr"), d.join("sh010.1009.exr")).unwrap();
        let rep = verify_sequence(
            &d.join("sh010.####.exr"),
            Some(&frame_span(1001, 1010).unwrap()),
        )
        .unwrap();
        let codes: Vec<(Code, Option<&str>)> = rep
            .findings
            .iter()
            .map(|f| (f.code, f.frames.as_deref()))
            .collect();
        assert_eq!(
            codes,
            vec![
                (Code::MissingFrames, Some("1003,1009-1010")),
                (Code::Truncated, Some("1005")),
                (Code::Unreadable, Some("1009")),
                (Code::ResolutionChange, Some("1007")),
                (Code::PaddingMismatch, Some("1001")),
                (Code::DuplicateFrame, Some("1001")),
            ],
            "{:#?}",
            rep.findings
        );
        assert_eq!(rep.count, 7);
        assert_eq!(rep.resolution.as_deref(), Some("32x16"));
        assert!(!rep.is_ok());
        let clean = verify_sequence(
            &d.join("sh010.%04d.exr"),
            Some(&frame_span(1001, 1002).unwrap()),
        )
        .unwrap();
        assert!(clean.findings.iter().all(|f| f.code != Code::MissingFrames));
        assert!(verify_sequence(&d.join("nope/a.####.exr"), None).is_err());
        let empty = verify_sequence(&d.join("other.####.exr"), None).unwrap();
        assert_eq!(empty.findings[0].code, Code::NoFrames);
    }

    /// A stepped expected set: only its frames are expected, the skipped ones are not missing.
    #[test]
    fn stepped_expected_set() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        let spec = ExrSpec::rgb(8, 8);
        for f in [1001, 1003, 1005, 1009] {
            write_exr(&d.join(format!("sh.{f}.exr")), &spec).unwrap();
        }
        let set: FrameSet = "1001-1010x2".parse().unwrap();
        let rep = verify_sequence(&d.join("sh.####.exr"), Some(&set)).unwrap();
        let codes: Vec<(Code, Option<&str>)> = rep
            .findings
            .iter()
            .map(|f| (f.code, f.frames.as_deref()))
            .collect();
        assert_eq!(codes, vec![(Code::MissingFrames, Some("1007"))]);
        assert_eq!(rep.range.as_deref(), Some("1001-1009x2"));
        assert!(frame_span(5, 1).is_err());
    }

    /// The pattern spellings `verify_sequence` accepts (parsed by `shotline-sequences`).
    #[test]
    fn pattern_tokens() {
        let p = |s: &str| {
            let p = parse_pattern_path(Path::new(s)).unwrap();
            let text = |o: &OsString| o.to_string_lossy().into_owned();
            (text(&p.head), p.padding, text(&p.tail))
        };
        assert_eq!(p("/r/a.%04d.exr"), ("a.".into(), 4, ".exr".into()));
        assert_eq!(p("a.%d.exr").1, 1);
        assert_eq!(p("a.####.exr").1, 4);
        assert_eq!(p("a.#.exr").1, 4);
        assert_eq!(p("a_@@@.dpx").1, 3);
        assert_eq!(p("a.$F4.exr"), ("a.".into(), 4, ".exr".into()));
        assert!(parse_pattern_path(Path::new("a.exr")).is_err());
        assert!(matches!(
            verify_sequence(Path::new("a.exr"), None),
            Err(QcError::Pattern { .. })
        ));
        // Two tokens: the last one is the frame (shotline-sequences' rule, shared by `ls` and
        // ingest); QC's own parser used to reject this name.
        assert_eq!(p("a.%04d.%04d.exr"), ("a.%04d.".into(), 4, ".exr".into()));
        assert_eq!(
            parse_pattern_path(Path::new("a.%04d.exr")).unwrap().dir,
            Path::new(".")
        );
    }
}
