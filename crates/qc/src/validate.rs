//! `validate`: every unit the layout finds, every sequence and file in it, checked.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::ffi::OsStr;
use std::path::Path;

use rayon::prelude::*;
use serde::Serialize;
use shotline_frames::FrameSet;
use shotline_sequences::{
    walk_entries, EntryKind, EntryListing, EntryOptions, PadStyle, Sequence, Warning,
};

use crate::checks::VerifyOptions;
use crate::finding::{Code, Finding, Severity};
use crate::layout::{field_map, DirError, Layout, Unit};
use crate::naming::{is_image_suffix, Naming};
use crate::verify::{check_sequence, sort_findings, FrameFile, SequenceReport};
use crate::QcError;

/// Settings of one validate run.
#[derive(Debug, Clone, Default)]
pub struct ValidateOptions {
    /// Sequence checks (fps, outliers, headers).
    pub verify: VerifyOptions,
    /// Expected frames for every sequence (`--range`), over `layout.frame_ranges`.
    pub range: Option<FrameSet>,
}

/// Progress events, so the caller can draw a bar without the library printing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// The number of frames that will be checked is now known.
    Frames(u64),
    /// `n` more frames checked.
    Checked(u64),
}

/// One unit's results: its sequences and the findings about loose files.
#[derive(Debug, Clone, Serialize)]
pub struct UnitReport {
    /// The show (`-` when the layout gives none).
    pub show: String,
    /// The shot or asset (`-` when the layout gives none).
    pub item: String,
    /// The template that matched (`-` for a folder checked without one).
    pub template: String,
    /// The unit's directory.
    pub dir: String,
    /// All fields parsed from the directory (`show` repeats `project`).
    pub fields: BTreeMap<String, String>,
    /// The expected range applied, when one was known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_range: Option<String>,
    /// Every sequence found below the unit.
    pub sequences: Vec<SequenceReport>,
    /// Files that are not frames of a sequence.
    pub other_files: usize,
    /// Findings that are about files and names rather than one sequence.
    pub findings: Vec<Finding>,
}

impl UnitReport {
    /// Every finding of the unit, sequences' included.
    pub fn all_findings(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .chain(self.sequences.iter().flat_map(|s| s.findings.iter()))
    }
}

/// Totals for the summary line and the exit code.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Units checked.
    pub units: usize,
    /// Distinct shows.
    pub shows: usize,
    /// Distinct show/shot (or asset) pairs.
    pub items: usize,
    /// Sequences checked.
    pub sequences: usize,
    /// Frames checked.
    pub frames: usize,
    /// Bytes of those frames.
    pub bytes: u64,
    /// Findings of severity error.
    pub errors: usize,
    /// Findings of severity warning.
    pub warnings: usize,
    /// Findings per code.
    pub by_code: BTreeMap<String, usize>,
}

/// The whole run.
#[derive(Debug, Clone, Serialize)]
pub struct ValidateReport {
    /// The directory checked.
    pub root: String,
    /// Units in directory order.
    pub units: Vec<UnitReport>,
    /// Problems outside any unit: directories the layout walk could not list.
    pub findings: Vec<Finding>,
    /// Totals.
    pub summary: Summary,
}

/// Validates everything the layout finds at or below `start`.
pub fn validate(
    layout: &Layout,
    naming: &Naming,
    start: &Path,
    opts: &ValidateOptions,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<ValidateReport, QcError> {
    let meta = std::fs::metadata(start).map_err(|source| QcError::Io {
        path: start.to_path_buf(),
        source,
    })?;
    if !meta.is_dir() {
        return Err(QcError::Io {
            path: start.to_path_buf(),
            source: std::io::Error::other("expected a directory"),
        });
    }
    let found = layout.discover(start);
    let unit_dirs: HashSet<_> = found.units.iter().map(|u| u.dir.clone()).collect();
    // Nested units are walked as units of their own; frames are read through links;
    // `.snapshot` and `.thumbs` are not frames.
    let walk_opts = EntryOptions {
        stat: true,
        follow_file_links: true,
        skip_hidden_dirs: true,
        skip_dirs: Some(&unit_dirs),
        parallel: true,
        ..EntryOptions::default()
    };
    // List and group every unit (in parallel), then check all frames of all units in one
    // parallel pass; grouping first makes the progress total exactly the frames checked.
    let listed: Vec<(&Unit, Vec<EntryListing>, Vec<DirError>)> = found
        .units
        .par_iter()
        .map(|u| {
            let walked = walk_entries(&u.dir, &walk_opts);
            let errs = walked
                .errors
                .into_iter()
                .map(|e| (e.path, e.source.to_string()))
                .collect();
            (u, walked.listings, errs)
        })
        .collect();
    let grouped: Vec<(&Unit, Vec<DirGroups<'_>>, &[DirError])> = listed
        .par_iter()
        .map(|(u, listings, errs)| {
            let groups = listings.iter().map(|l| group_dir(l, naming)).collect();
            (*u, groups, errs.as_slice())
        })
        .collect();
    let total: u64 = grouped
        .iter()
        .flat_map(|(_, g, _)| g.iter())
        .flat_map(|g| g.sequences.iter())
        .map(|(_, frames)| frames.len() as u64)
        .sum();
    progress(Progress::Frames(total));
    let mut units: Vec<UnitReport> = grouped
        .into_par_iter()
        .map(|(u, groups, errs)| check_unit(layout, naming, u, groups, errs, opts, progress))
        .collect();
    let findings: Vec<Finding> = found
        .errors
        .iter()
        .map(|(dir, err)| {
            Finding::new(
                Code::UnreadableDir,
                dir.display().to_string(),
                format!("cannot list directory: {err}"),
            )
        })
        .collect();
    let summary = summarize(&units, &findings);
    for u in &mut units {
        sort_findings(&mut u.findings);
    }
    Ok(ValidateReport {
        root: start.display().to_string(),
        units,
        findings,
        summary,
    })
}

/// One listed directory, filtered and grouped by `shotline-sequences`, with the sizes QC's own
/// listing stat'ed attached to each frame (the grouping itself only knows names).
struct DirGroups<'a> {
    /// The directory.
    dir: &'a Path,
    /// Findings about single entries (non-UTF-8 names, unexpected files, broken links).
    findings: Vec<Finding>,
    /// Image sequences with their frame files, sorted by head, tail, padding.
    sequences: Vec<(Sequence, Vec<FrameFile>)>,
    /// Names that are no frame of an image sequence, sorted.
    others: Vec<String>,
    /// The grouping's warnings about image sequences (the same frame at two paddings).
    warnings: Vec<Warning>,
}

/// Filters `listing` by the naming settings and groups what is left.
fn group_dir<'a>(listing: &'a EntryListing, naming: &Naming) -> DirGroups<'a> {
    let mut findings = unreadable_entries(listing);
    let mut sizes: HashMap<&str, u64> = HashMap::with_capacity(listing.files.len());
    for f in &listing.files {
        if naming.ignored(&f.name.to_string_lossy()) {
            continue;
        }
        let path = listing.dir.join(&f.name);
        let Some(name) = f.name_str() else {
            findings.push(Finding::new(
                Code::BadName,
                path.display().to_string(),
                "file name is not valid UTF-8; most pipeline tools cannot open it",
            ));
            continue;
        };
        if let Some(why) = naming.unexpected(name) {
            findings.push(Finding::new(
                Code::UnexpectedFile,
                path.display().to_string(),
                why,
            ));
        }
        if f.kind == EntryKind::BrokenLink {
            findings.push(Finding::new(
                Code::Unreadable,
                path.display().to_string(),
                "symlink whose target cannot be read",
            ));
            continue;
        }
        // An entry without a stat could not be read: `unreadable_entries` reported it.
        if let Some(st) = f.stat {
            sizes.insert(name, st.size);
        }
    }
    let grouping = shotline_sequences::group(&listing.dir, sizes.keys().copied());
    let mut others: Vec<String> = grouping
        .files
        .iter()
        .map(|f| f.name.to_string_lossy().into_owned())
        .collect();
    let mut sequences = Vec::new();
    for s in grouping.sequences {
        if !is_image_suffix(&s.tail_str()) {
            others.extend(
                s.frame_names()
                    .map(|(_, n)| n.to_string_lossy().into_owned()),
            );
            continue;
        }
        // `frame_name` is the name the frame was listed under, so every lookup hits.
        let frames = s
            .frame_names()
            .map(|(frame, name)| FrameFile {
                frame,
                size: name
                    .to_str()
                    .and_then(|n| sizes.get(n))
                    .copied()
                    .unwrap_or(0),
                name,
            })
            .collect();
        sequences.push((s, frames));
    }
    let warnings = grouping
        .warnings
        .into_iter()
        .filter(|w| {
            let Warning::DuplicatePadding { tail, .. } = w;
            is_image_suffix(&tail.to_string_lossy())
        })
        .collect();
    DirGroups {
        dir: &listing.dir,
        findings,
        sequences,
        others,
        warnings,
    }
}

/// The listing's own errors: a listing cut short, or files that could not be stat'ed.
fn unreadable_entries(listing: &EntryListing) -> Vec<Finding> {
    listing
        .errors
        .iter()
        .map(|e| {
            let path = e.path.display().to_string();
            if e.path == listing.dir {
                Finding::new(
                    Code::UnreadableDir,
                    path,
                    format!("cannot list directory: {}", e.source),
                )
            } else {
                Finding::new(Code::Unreadable, path, format!("cannot read: {}", e.source))
            }
        })
        .collect()
}

fn check_unit(
    layout: &Layout,
    naming: &Naming,
    unit: &Unit,
    groups: Vec<DirGroups<'_>>,
    errs: &[DirError],
    opts: &ValidateOptions,
    progress: &(dyn Fn(Progress) + Sync),
) -> UnitReport {
    let (show, item) = unit.group();
    let range = opts.range.clone().or_else(|| layout.range_for(unit));
    let fields = field_map(&unit.fields);
    let rules = naming.for_unit(&fields);
    let mut findings = Vec::new();
    let mut sequences = Vec::new();
    let mut other_files = 0;
    for (dir, e) in errs {
        findings.push(Finding::new(
            Code::UnreadableDir,
            dir.display().to_string(),
            format!("cannot list directory: {e}"),
        ));
    }
    for group in groups {
        findings.extend(group.findings);
        for name in &group.others {
            other_files += 1;
            if let Some((kind, rule)) = rules.broken(name, false) {
                findings.push(Finding::new(
                    Code::BadName,
                    group.dir.join(name).display().to_string(),
                    format!("does not match naming rule {kind:?} ({rule})"),
                ));
            }
        }
        padding_findings(group.dir, &group.sequences, &group.warnings, &mut findings);
        for (s, frames) in &group.sequences {
            let tick = |n| progress(Progress::Checked(n));
            let mut report = check_sequence(s, frames, range.as_ref(), &opts.verify, &tick);
            let broken = |f: &FrameFile| rules.broken(&f.name.to_string_lossy(), true);
            let bad: Vec<i64> = frames
                .iter()
                .filter(|f| broken(f).is_some())
                .map(|f| f.frame)
                .collect();
            if let Some((kind, rule)) = frames.iter().find_map(broken) {
                report.findings.push(
                    Finding::new(
                        Code::BadName,
                        &report.pattern,
                        format!(
                            "{} not matching naming rule {kind:?} ({rule})",
                            crate::checks::frames_word(bad.len())
                        ),
                    )
                    .with_frames(&bad),
                );
                sort_findings(&mut report.findings);
            }
            sequences.push(report);
        }
    }
    UnitReport {
        show,
        item,
        template: unit.template.clone(),
        dir: unit.dir.display().to_string(),
        fields,
        expected_range: range.map(|r| r.to_string()),
        sequences,
        other_files,
        findings,
    }
}

/// Frames of one name at several paddings, and frame numbers present at two of them (the
/// grouping's [`Warning::DuplicatePadding`]s, one finding per name).
fn padding_findings(
    dir: &Path,
    seqs: &[(Sequence, Vec<FrameFile>)],
    warnings: &[Warning],
    out: &mut Vec<Finding>,
) {
    let mut by_name: BTreeMap<(&OsStr, &OsStr), Vec<&Sequence>> = BTreeMap::new();
    for (s, _) in seqs {
        by_name.entry((&s.head, &s.tail)).or_default().push(s);
    }
    for ((head, tail), group) in by_name.iter().filter(|(_, g)| g.len() > 1) {
        let pats: Vec<String> = group.iter().map(|s| s.pattern(PadStyle::Printf)).collect();
        out.push(Finding::new(
            Code::PaddingMismatch,
            dir.join(&pats[0]).display().to_string(),
            format!("one name at {} paddings: {}", group.len(), pats.join(", ")),
        ));
        let dupes: BTreeSet<i64> = warnings
            .iter()
            .flat_map(|w| {
                let Warning::DuplicatePadding {
                    head: h,
                    tail: t,
                    frames,
                    ..
                } = w;
                (h == head && t == tail)
                    .then(|| frames.iter())
                    .into_iter()
                    .flatten()
            })
            .collect();
        if !dupes.is_empty() {
            let dupes: Vec<i64> = dupes.into_iter().collect();
            out.push(
                Finding::new(
                    Code::DuplicateFrame,
                    dir.join(&pats[0]).display().to_string(),
                    format!(
                        "{} frame numbers exist at two paddings ({})",
                        dupes.len(),
                        pats.join(", ")
                    ),
                )
                .with_frames(&dupes),
            );
        }
    }
}

fn summarize(units: &[UnitReport], top: &[Finding]) -> Summary {
    let mut s = Summary {
        units: units.len(),
        ..Summary::default()
    };
    let shows: HashSet<&str> = units.iter().map(|u| u.show.as_str()).collect();
    let items: HashSet<(&str, &str)> = units
        .iter()
        .map(|u| (u.show.as_str(), u.item.as_str()))
        .collect();
    s.shows = shows.len();
    s.items = items.len();
    let count = |f: &Finding, s: &mut Summary| {
        match f.severity {
            Severity::Error => s.errors += 1,
            Severity::Warning => s.warnings += 1,
        }
        *s.by_code.entry(f.code.as_str().to_string()).or_default() += 1;
    };
    for f in top {
        count(f, &mut s);
    }
    for u in units {
        s.sequences += u.sequences.len();
        s.frames += u.sequences.iter().map(|q| q.count).sum::<usize>();
        s.bytes += u.sequences.iter().map(|q| q.bytes).sum::<u64>();
        for f in u.all_findings() {
            count(f, &mut s);
        }
    }
    s
}
