//! Planning and checking an ingest before anything is written.
//!
//! The plan says, for every clip, where it would go and what is wrong with it, so `--dry-run`
//! shows exactly what a real run would do. Clips that map to the same shot/step/resource form
//! one version; two clips writing the same file name there are a collision.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

use crate::hash::{hash_file, HashAlgo};
use crate::ledger;
use crate::matching::{MatchOutcome, Matcher, ShotId};
use crate::resume::JobState;
use crate::scan::{Clip, ClipKind, ScanNote};
use crate::template::{render, Templates};
use shotline_layout::{check_component, check_inside, VersionNumber};
use shotline_store::VersionLayout;

/// How bad an issue is: errors stop the clip, warnings are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The clip (or the whole ingest, for global issues) is not copied.
    Error,
    /// Reported; the copy goes ahead.
    Warning,
}

/// One finding.
#[derive(Debug, Clone, Serialize)]
pub struct Issue {
    /// Error or warning.
    pub severity: Severity,
    /// Stable machine-readable code (`unmatched`, `collision`, `truncated`, …).
    pub code: String,
    /// Human explanation naming the file/value.
    pub message: String,
}

impl Issue {
    pub(crate) fn error(code: &str, message: impl Into<String>) -> Issue {
        Issue {
            severity: Severity::Error,
            code: code.into(),
            message: message.into(),
        }
    }
    pub(crate) fn warning(code: &str, message: impl Into<String>) -> Issue {
        Issue {
            severity: Severity::Warning,
            code: code.into(),
            message: message.into(),
        }
    }
}

/// Where a clip stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClipStatus {
    /// Will be (or would be, in a dry run) copied.
    Planned,
    /// Not matched to a shot.
    Unmatched,
    /// Has errors; not copied.
    Blocked,
    /// Same content already ingested (per the ledger); skipped.
    AlreadyIngested,
    /// Same content already ingested into a version folder that was not registered (its
    /// registration had failed, or there was no database); this run registered that folder.
    Registered,
    /// Copied, verified and recorded.
    Ingested,
    /// A copy failed; re-run to resume.
    Failed,
    /// Copied, verified and recorded on disk, but the tracking database refused or failed the
    /// registration of its version (see the clip's issues).
    NotRegistered,
}

/// One file of a planned clip.
#[derive(Debug, Clone, Serialize)]
pub struct PlannedFile {
    /// Source path.
    #[serde(serialize_with = "crate::names::ser_path")]
    pub source: PathBuf,
    /// Bytes.
    pub size: u64,
    /// Frame digits as in the source (kept in the destination name).
    pub frame: Option<String>,
}

/// A clip with its match, checks and destination.
#[derive(Debug, Clone, Serialize)]
pub struct PlannedClip {
    /// Clip key (`dir/name.####.exr`).
    pub key: String,
    /// Delivery it came from.
    #[serde(serialize_with = "crate::names::ser_path")]
    pub delivery: PathBuf,
    /// Sequence, movie or file.
    pub kind: ClipKind,
    /// First and last frame.
    pub frame_range: Option<(i64, i64)>,
    /// Number of files.
    pub files_count: usize,
    /// Bytes.
    pub size: u64,
    /// Matching result.
    #[serde(rename = "match")]
    pub matched: MatchOutcome,
    /// Index into [`Plan::versions`].
    pub version_group: Option<usize>,
    /// Status.
    pub status: ClipStatus,
    /// Findings.
    pub issues: Vec<Issue>,
    /// Media values of the first file (when a media check ran).
    pub media: Option<crate::FrameInfo>,
    /// The files.
    #[serde(skip)]
    pub files: Vec<PlannedFile>,
    /// Base name of the source (for the sidecar comment).
    #[serde(skip)]
    pub base: String,
    /// Lower-case extension.
    #[serde(skip)]
    pub ext: String,
    /// Fingerprint for the ledger.
    #[serde(skip)]
    pub fingerprint: String,
    /// Content checksum, once known.
    #[serde(skip)]
    pub content: Option<String>,
    /// Checksum of each source file (same order as `files`), when the source was hashed for the
    /// already-ingested check: a later registration of the existing version needs them.
    #[serde(skip)]
    pub hashes: Vec<String>,
    /// For content already ingested: the version it went into (shown instead of the next free
    /// version, which this clip does not take).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ingested_as: Option<IngestedAs>,
}

/// The existing version an already-ingested clip went into.
#[derive(Debug, Clone, Serialize)]
pub struct IngestedAs {
    /// Version number of the folder.
    pub version: u32,
    /// The version folder.
    #[serde(serialize_with = "crate::names::ser_path")]
    pub dir: PathBuf,
    /// Whether the ledger records it as registered in the tracking database.
    pub registered: bool,
    /// The ledger line that recorded the version.
    #[serde(skip)]
    pub entry: ledger::LedgerEntry,
}

/// One version to create: all clips of this ingest for one shot/step/resource.
#[derive(Debug, Clone, Serialize)]
pub struct VersionGroup {
    /// `SEQ/SHOT/STEP[/RESOURCE]`.
    pub key: String,
    /// Key of this version in the job state: the shot key and the clip's key (one version per
    /// clip).
    #[serde(skip)]
    pub job_key: String,
    /// The IDs.
    pub id: ShotId,
    /// Folder holding the version folders.
    #[serde(serialize_with = "crate::names::ser_path")]
    pub parent: PathBuf,
    /// Version number: the next free one when planning, the one taken when copying.
    pub version: u32,
    /// The version folder.
    #[serde(serialize_with = "crate::names::ser_path")]
    pub dir: PathBuf,
    /// Clips (indices into [`Plan::clips`]).
    pub clips: Vec<usize>,
    /// Template fields (without version/frame/ext).
    #[serde(skip)]
    pub fields: BTreeMap<&'static str, String>,
    /// Last component of the dir template.
    #[serde(skip)]
    pub dir_leaf_template: String,
}

/// The checked plan.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// Job ID (stable for the same deliveries and destination: resume key).
    pub job: String,
    /// Checksum algorithm.
    pub hash: HashAlgo,
    /// Ingest root.
    #[serde(serialize_with = "crate::names::ser_path")]
    pub root: PathBuf,
    /// Deliveries.
    #[serde(serialize_with = "crate::names::ser_paths")]
    pub deliveries: Vec<PathBuf>,
    /// Clips.
    pub clips: Vec<PlannedClip>,
    /// Versions.
    pub versions: Vec<VersionGroup>,
    /// Global findings (free space, permissions); an error stops everything.
    pub issues: Vec<Issue>,
    /// Entries skipped while scanning.
    pub notes: Vec<ScanNote>,
    /// Bytes to copy.
    pub bytes_to_copy: u64,
    /// File templates.
    #[serde(skip)]
    pub templates: Option<Templates>,
}

impl Plan {
    /// True when any error stops the ingest as a whole.
    pub fn blocked(&self) -> bool {
        self.issues.iter().any(|i| i.severity == Severity::Error)
    }
}

/// Fingerprint of a clip: names and sizes (cheap, no reads).
pub fn fingerprint(clip: &PlannedClip, algo: HashAlgo) -> String {
    let mut h = algo.hasher();
    for f in &clip.files {
        let name = f
            .source
            .file_name()
            .map(crate::names::escape_os)
            .unwrap_or_default();
        h.update(format!("{name}\t{}\n", f.size).as_bytes());
    }
    h.finish()
}

/// Content checksum of a clip from its files' checksums, in frame order.
pub fn content_hash<'a>(
    names_hashes: impl Iterator<Item = (&'a str, &'a str)>,
    algo: HashAlgo,
) -> String {
    let mut h = algo.hasher();
    for (n, x) in names_hashes {
        h.update(format!("{n}\t{x}\n").as_bytes());
    }
    h.finish()
}

/// The version number found in a version folder name, given the leaf template's text before
/// `{version}` (rendered).
fn version_of(name: &str, prefix: &str) -> Option<u32> {
    let rest = name.strip_prefix(prefix)?;
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    let after = &rest[digits.len()..];
    if digits.is_empty() || after.chars().next().is_some_and(|c| c.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The digits a version number is written with in names (`001`): only through
/// [`VersionNumber`], the one place versions are formatted.
fn version_digits(version: u32) -> Result<String, String> {
    VersionNumber::new(version)
        .map(VersionNumber::digits)
        .ok_or_else(|| format!("version {version} is out of range"))
}

/// Renders the leaf folder name for a version; it must be one safe path component.
pub fn leaf_name(group: &VersionGroup, version: u32) -> Result<String, String> {
    let mut f = group.fields.clone();
    f.insert("version", version_digits(version)?);
    let leaf = render(&group.dir_leaf_template, &f).map_err(|e| e.to_string())?;
    check_component("version folder name", &leaf).map_err(|e| e.to_string())?;
    Ok(leaf)
}

/// The rendered text of the group's version folder name before the version digits.
fn leaf_prefix(group: &VersionGroup) -> Option<String> {
    let mut f = group.fields.clone();
    f.insert("version", "\u{1}".into());
    let rendered = render(&group.dir_leaf_template, &f).ok()?;
    Some(rendered.split('\u{1}').next().unwrap_or("").to_string())
}

/// Highest version present under `parent` for this group (0 when none). Planning only shows
/// this number; the number actually taken comes from the store's allocator ([`GroupFolders`]).
pub fn highest_version(group: &VersionGroup) -> u32 {
    let Some(prefix) = leaf_prefix(group) else {
        return 0;
    };
    let Ok(entries) = std::fs::read_dir(&group.parent) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| version_of(&e.file_name().to_string_lossy(), &prefix))
        .max()
        .unwrap_or(0)
}

/// A version group's folders as the store's one allocator sees them: the allocator scans
/// [`VersionGroup::parent`] for this group's version folders and claims the next one, so ingest
/// numbers versions by the same rule as publish and every other writer.
pub struct GroupFolders<'a> {
    group: &'a VersionGroup,
    prefix: Option<String>,
}

impl<'a> GroupFolders<'a> {
    /// The folders of `group`.
    pub fn new(group: &'a VersionGroup) -> GroupFolders<'a> {
        GroupFolders {
            group,
            prefix: leaf_prefix(group),
        }
    }
}

impl VersionLayout for GroupFolders<'_> {
    fn parent(&self) -> &Path {
        &self.group.parent
    }
    /// An unrenderable name comes back empty, which the allocator refuses as a path component.
    fn entry_name(&self, n: VersionNumber) -> String {
        leaf_name(self.group, n.get()).unwrap_or_default()
    }
    fn number_of(&self, name: &str) -> Option<VersionNumber> {
        version_of(name, self.prefix.as_deref()?).and_then(VersionNumber::new)
    }
}

/// Destination file name of `file` in `group` at `version`; it must be one safe path component
/// (so the file stays in the version folder).
pub fn dest_name(
    templates: &Templates,
    group: &VersionGroup,
    version: u32,
    file: &PlannedFile,
    ext: &str,
) -> Result<String, String> {
    let mut f = group.fields.clone();
    f.insert("version", version_digits(version)?);
    f.insert("ext", ext.to_string());
    if let Some(fr) = &file.frame {
        f.insert("frame", fr.clone());
    }
    let name = render(&templates.file, &f).map_err(|e| e.to_string())?;
    check_component("destination file name", &name).map_err(|e| e.to_string())?;
    Ok(name)
}

/// Where `file` goes: the one function that builds a destination path (the version folder
/// joined with [`dest_name`]).
pub fn dest_path(
    templates: &Templates,
    group: &VersionGroup,
    file: &PlannedFile,
    ext: &str,
) -> Result<PathBuf, String> {
    Ok(group
        .dir
        .join(dest_name(templates, group, group.version, file, ext)?))
}

/// Checks every value substituted into the destination path (`project.code`, shot, step, …,
/// whether from the config, a file name, an EDL or an override) as one safe path component.
/// Empty values are left out by the templates and pass.
fn check_fields(fields: &BTreeMap<&'static str, String>) -> Result<(), String> {
    for (field, value) in fields {
        if value.is_empty() {
            continue;
        }
        let name = match *field {
            "project" => "project code",
            "state" => "ingest.state",
            other => other,
        };
        check_component(name, value).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// The folder holding a group's version folders: `root` joined with the rendered parent
/// template, refused when it would leave `root`.
fn version_parent(
    root: &Path,
    parent_template: &str,
    fields: &BTreeMap<&'static str, String>,
) -> Result<PathBuf, String> {
    check_fields(fields)?;
    let rel = if parent_template.is_empty() {
        String::new()
    } else {
        render(parent_template, fields).map_err(|e| e.to_string())?
    };
    let parent = root.join(rel);
    check_inside(root, &parent).map_err(|e| e.to_string())?;
    Ok(parent)
}

/// Inputs for planning.
pub struct PlanInput<'a> {
    /// Job ID.
    pub job: String,
    /// Clips found.
    pub clips: Vec<Clip>,
    /// Scan notes.
    pub notes: Vec<ScanNote>,
    /// Deliveries.
    pub deliveries: Vec<PathBuf>,
    /// Ingest root.
    pub root: PathBuf,
    /// Ledger file.
    pub ledger: PathBuf,
    /// Matcher.
    pub matcher: &'a Matcher,
    /// Templates.
    pub templates: Templates,
    /// Algorithm.
    pub algo: HashAlgo,
    /// Project code (for Ramses names and mismatch warnings).
    pub project_code: String,
    /// Ramses state.
    pub state: String,
    /// Free space to keep, bytes.
    pub reserve_bytes: u64,
    /// Buffer size for hashing sources.
    pub buf_size: usize,
    /// State of an interrupted run of this job, if any.
    pub resumed: Option<&'a JobState>,
    /// Optional per-file media check.
    pub frame_check: Option<&'a crate::FrameCheck>,
    /// Project resolution and fps the media is compared with.
    pub project_format: (u32, u32, f64),
}

/// Builds and checks the plan.
pub fn make_plan(input: PlanInput<'_>) -> Result<Plan, String> {
    let mut clips = Vec::new();
    for clip in &input.clips {
        let matched = input.matcher.match_clip(clip);
        let mut issues = Vec::new();
        let mut status = ClipStatus::Planned;
        if let MatchOutcome::Unmatched { reason } = &matched {
            issues.push(Issue::error("unmatched", reason.clone()));
            status = ClipStatus::Unmatched;
        }
        let files: Vec<PlannedFile> = clip
            .files
            .iter()
            .map(|f| PlannedFile {
                source: f.path.clone(),
                size: f.size,
                frame: f.frame_text.clone(),
            })
            .collect();
        let mut pc = PlannedClip {
            key: clip.key(),
            delivery: clip.delivery.clone(),
            kind: clip.kind,
            frame_range: clip.frame_range(),
            files_count: files.len(),
            size: clip.size(),
            matched,
            version_group: None,
            status,
            issues,
            media: None,
            files,
            base: clip.base.clone(),
            ext: clip.ext.clone(),
            fingerprint: String::new(),
            content: None,
            hashes: Vec::new(),
            ingested_as: None,
        };
        pc.fingerprint = fingerprint(&pc, input.algo);
        check_frames(clip, &mut pc, input.frame_check, input.project_format);
        clips.push(pc);
    }

    // Group matched clips into versions.
    let mut versions: Vec<VersionGroup> = Vec::new();
    let mut by_key: HashMap<String, usize> = HashMap::new();
    // The next number a version of each shot/step/resource would take in this plan.
    let mut next_in_plan: HashMap<String, u32> = HashMap::new();
    let (dir_parent_tpl, leaf_tpl) = match input.templates.dir.rsplit_once('/') {
        Some((p, l)) => (p.to_string(), l.to_string()),
        None => (String::new(), input.templates.dir.clone()),
    };
    for (ci, pc) in clips.iter_mut().enumerate() {
        let MatchOutcome::Matched { id, .. } = &pc.matched else {
            continue;
        };
        if let Some(p) = &id.project {
            if !input.project_code.is_empty() && !p.eq_ignore_ascii_case(&input.project_code) {
                pc.issues.push(Issue::warning(
                    "project_mismatch",
                    format!(
                        "name says project {p} but project.code is {}",
                        input.project_code
                    ),
                ));
            }
        }
        let key = format!(
            "{}{}/{}{}",
            id.sequence
                .as_deref()
                .map(|s| format!("{s}/"))
                .unwrap_or_default(),
            id.shot,
            id.step,
            id.resource
                .as_deref()
                .map(|r| format!("/{r}"))
                .unwrap_or_default()
        );
        // One version per clip: a version records one file set (pattern, frame range, file
        // count), so two clips of one shot/step/resource (an EXR plate and a DPX of it) become
        // two consecutive versions, never one version registered with the other's pattern.
        let job_key = format!("{key}\t{}", pc.key);
        let gi = match by_key.get(&job_key) {
            Some(&gi) => gi,
            None => {
                let mut fields: BTreeMap<&'static str, String> = BTreeMap::new();
                let project = if input.project_code.is_empty() {
                    id.project.clone().unwrap_or_default()
                } else {
                    input.project_code.clone()
                };
                fields.insert("project", project);
                fields.insert("sequence", id.sequence.clone().unwrap_or_default());
                fields.insert("shot", id.shot.clone());
                fields.insert("step", id.step.clone());
                fields.insert("resource", id.resource.clone().unwrap_or_default());
                fields.insert("state", input.state.clone());
                let parent = match version_parent(&input.root, &dir_parent_tpl, &fields) {
                    Ok(p) => p,
                    Err(e) => {
                        pc.issues.push(Issue::error("unsafe_path", e));
                        pc.status = ClipStatus::Blocked;
                        continue;
                    }
                };
                let mut g = VersionGroup {
                    key: key.clone(),
                    job_key: job_key.clone(),
                    id: id.clone(),
                    parent,
                    version: 0,
                    dir: PathBuf::new(),
                    clips: Vec::new(),
                    fields,
                    dir_leaf_template: leaf_tpl.clone(),
                };
                let reserved = input
                    .resumed
                    .and_then(|s| s.versions.get(&job_key))
                    .filter(|r| r.dir.is_dir());
                match reserved {
                    Some(r) => {
                        g.version = r.version;
                        g.dir = r.dir.clone();
                    }
                    None => {
                        let next = next_in_plan.get(&key).copied().unwrap_or(0);
                        g.version = (highest_version(&g) + 1).max(next);
                        next_in_plan.insert(key.clone(), g.version.saturating_add(1));
                        match leaf_name(&g, g.version) {
                            Ok(leaf) => g.dir = g.parent.join(leaf),
                            Err(e) => {
                                pc.issues.push(Issue::error("template", e));
                                pc.status = ClipStatus::Blocked;
                                continue;
                            }
                        }
                    }
                }
                versions.push(g);
                by_key.insert(job_key, versions.len() - 1);
                versions.len() - 1
            }
        };
        versions[gi].clips.push(ci);
        pc.version_group = Some(gi);
    }

    // Collisions: two clips writing one file name in one version.
    for g in &versions {
        let mut seen: HashMap<String, usize> = HashMap::new();
        for &ci in &g.clips {
            let pc = &clips[ci];
            for f in &pc.files {
                let Ok(name) = dest_name(&input.templates, g, g.version, f, &pc.ext) else {
                    continue;
                };
                if let Some(&other) = seen.get(&name) {
                    if other != ci {
                        let msg = format!(
                            "{} and {} both map to {}/{name}",
                            clips[other].key,
                            pc.key,
                            g.dir.display()
                        );
                        seen.insert(name.clone(), ci);
                        mark_collision(&mut clips, other, &msg);
                        mark_collision(&mut clips, ci, &msg);
                        break;
                    }
                } else {
                    seen.insert(name, ci);
                }
            }
        }
    }

    // Already ingested: fingerprint hit in the ledger, confirmed by content checksum.
    let entries = ledger::read(&input.ledger)?;
    let unregistered = ledger::unregistered_dirs(&entries);
    let mut known: HashMap<&str, Vec<(&ledger::LedgerEntry, &str)>> = HashMap::new();
    for e in &entries {
        for c in &e.clips {
            known
                .entry(c.fingerprint.as_str())
                .or_default()
                .push((e, c.content.as_str()));
        }
    }
    let resumed_keys: Vec<&String> = input
        .resumed
        .map(|s| s.versions.keys().collect())
        .unwrap_or_default();
    let suspects: Vec<usize> = clips
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            c.status == ClipStatus::Planned && known.contains_key(c.fingerprint.as_str())
        })
        .filter(|(_, c)| {
            c.version_group
                .is_none_or(|g| !resumed_keys.contains(&&versions[g].job_key))
        })
        .map(|(i, _)| i)
        .collect();
    let contents: Vec<(usize, Result<SourceContent, String>)> = suspects
        .par_iter()
        .map(|&i| (i, source_content(&clips[i], input.algo, input.buf_size)))
        .collect();
    for (i, content) in contents {
        match content {
            Ok((content, hashes)) => {
                let earlier = known[clips[i].fingerprint.as_str()]
                    .iter()
                    .filter(|(_, c)| *c == content)
                    .map(|(e, _)| *e);
                let (present, gone): (Vec<_>, Vec<_>) =
                    earlier.partition(|e| Path::new(&e.dir).is_dir());
                if present.is_empty() {
                    if let Some(e) = gone.first() {
                        clips[i].issues.push(Issue::warning(
                            "ingested_folder_gone",
                            format!(
                                "the ledger says this content was ingested into {} on {}, but that folder is gone: ingesting it again",
                                e.dir, e.time
                            ),
                        ));
                    }
                }
                if let Some(e) = present.first() {
                    let msg = format!(
                        "same content already ingested as {} v{:03} ({}) on {}",
                        e.shot, e.version, e.dir, e.time
                    );
                    clips[i]
                        .issues
                        .push(Issue::warning("already_ingested", msg));
                    clips[i].status = ClipStatus::AlreadyIngested;
                    clips[i].ingested_as = Some(IngestedAs {
                        version: e.version,
                        dir: PathBuf::from(&e.dir),
                        registered: !unregistered.contains(e.dir.as_str()),
                        entry: (*e).clone(),
                    });
                }
                clips[i].content = Some(content);
                clips[i].hashes = hashes;
            }
            Err(e) => {
                clips[i].issues.push(Issue::error("unreadable", e));
                clips[i].status = ClipStatus::Blocked;
            }
        }
    }

    // A version whose clips were all ingested before is shown as the folder they went into,
    // not as the next free number it will never take.
    for g in &mut versions {
        let mut dirs = g.clips.iter().map(|&c| clips[c].ingested_as.as_ref());
        if let Some(Some(first)) = dirs.next() {
            if dirs.all(|d| d.is_some_and(|d| d.dir == first.dir)) {
                g.version = first.version;
                g.dir = first.dir.clone();
            }
        }
    }

    let bytes_to_copy: u64 = clips
        .iter()
        .filter(|c| c.status == ClipStatus::Planned)
        .map(|c| c.size)
        .sum();
    let issues = global_checks(&input.root, bytes_to_copy, input.reserve_bytes);
    Ok(Plan {
        job: input.job,
        hash: input.algo,
        root: input.root,
        deliveries: input.deliveries,
        clips,
        versions,
        issues,
        notes: input.notes,
        bytes_to_copy,
        templates: Some(input.templates),
    })
}

fn mark_collision(clips: &mut [PlannedClip], ci: usize, msg: &str) {
    let c = &mut clips[ci];
    if !c.issues.iter().any(|i| i.code == "collision") {
        c.issues.push(Issue::error(
            "collision",
            format!("{msg}; use --override or ingest them separately"),
        ));
    }
    if c.status == ClipStatus::Planned {
        c.status = ClipStatus::Blocked;
    }
}

/// A clip's content checksum and each of its files' checksums (in `files` order).
type SourceContent = (String, Vec<String>);

/// Hashes a clip's source files: the content checksum compared with the ledger, and the
/// per-file checksums a later registration of the existing version records.
fn source_content(c: &PlannedClip, algo: HashAlgo, buf: usize) -> Result<SourceContent, String> {
    let hashes: Result<Vec<(String, String)>, String> = c
        .files
        .par_iter()
        .map(|f| {
            let name = f
                .source
                .file_name()
                .map(crate::names::escape_os)
                .unwrap_or_default();
            hash_file(&f.source, algo, buf)
                .map(|(h, _)| (name, h))
                .map_err(|e| format!("cannot read {}: {e}", f.source.display()))
        })
        .collect();
    let hashes = hashes?;
    let content = content_hash(hashes.iter().map(|(n, h)| (n.as_str(), h.as_str())), algo);
    Ok((content, hashes.into_iter().map(|(_, h)| h).collect()))
}

/// Frame checks: missing frames (warning); truncated/damaged frames (error) from the media check
/// and, in any case, frames under half the median size of their sequence; resolution and fps
/// different from the project (warnings).
fn check_frames(
    clip: &Clip,
    pc: &mut PlannedClip,
    frame_check: Option<&crate::FrameCheck>,
    (pw, ph, pfps): (u32, u32, f64),
) {
    let missing = clip.missing_frames();
    if !missing.is_empty() {
        pc.issues.push(Issue::warning(
            "missing_frames",
            format!(
                "{} missing frame(s): {}",
                missing.len(),
                frames_text(&missing)
            ),
        ));
    }
    let mut bad: Vec<String> = Vec::new();
    if let Some(check) = frame_check {
        let infos: Vec<(PathBuf, crate::FrameInfo)> = clip
            .files
            .par_iter()
            .map(|f| (f.path.clone(), check(&f.path)))
            .collect();
        for (p, info) in &infos {
            if let Some(problem) = &info.problem {
                bad.push(format!("{}: {problem}", p.display()));
            }
        }
        if let Some((_, first)) = infos.iter().find(|(_, i)| i.problem.is_none()) {
            if let (Some(w), Some(h)) = (first.width, first.height) {
                if (w, h) != (u64::from(pw), u64::from(ph)) {
                    pc.issues.push(Issue::warning(
                        "resolution",
                        format!("resolution {w}x{h} differs from the project's {pw}x{ph}"),
                    ));
                }
            }
            if let Some(fps) = first.fps {
                if (fps - pfps).abs() > 0.01 {
                    pc.issues.push(Issue::warning(
                        "fps",
                        format!("{fps} fps differs from the project's {pfps}"),
                    ));
                }
            }
            pc.media = Some(crate::FrameInfo {
                problem: None,
                ..first.clone()
            });
        }
    }
    if clip.kind == ClipKind::Sequence && clip.files.len() >= 3 {
        let mut sizes: Vec<u64> = clip.files.iter().map(|f| f.size).collect();
        sizes.sort_unstable();
        let median = sizes[sizes.len() / 2];
        for f in &clip.files {
            if f.size < median / 2 {
                let msg = format!(
                    "{}: {} bytes, under half the sequence's median {median}",
                    f.path.display(),
                    f.size
                );
                if !bad
                    .iter()
                    .any(|b| b.starts_with(&f.path.display().to_string()))
                {
                    bad.push(msg);
                }
            }
        }
    }
    if !bad.is_empty() {
        pc.issues.push(Issue::error(
            "truncated",
            format!(
                "{} damaged or truncated frame(s): {}",
                bad.len(),
                bad.join("; ")
            ),
        ));
        if pc.status == ClipStatus::Planned {
            pc.status = ClipStatus::Blocked;
        }
    }
}

/// A frame set in range syntax for a message, cut short when it has no short spelling.
pub(crate) fn frames_text(frames: &shotline_frames::FrameSet) -> String {
    frames.to_string_capped(200).unwrap_or_else(|_| {
        let first: Vec<String> = frames.iter().take(20).map(|f| f.to_string()).collect();
        format!("{},…", first.join(","))
    })
}

/// Nearest existing ancestor of `p` (the destination may not exist yet).
fn existing_ancestor(p: &Path) -> PathBuf {
    p.ancestors()
        .find(|a| a.exists())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("/"))
}

fn global_checks(root: &Path, bytes: u64, reserve: u64) -> Vec<Issue> {
    let mut issues = Vec::new();
    let at = existing_ancestor(root);
    if let Some(free) = free_bytes(&at) {
        if bytes > 0 && free < bytes.saturating_add(reserve) {
            issues.push(Issue::error(
                "no_space",
                format!(
                    "not enough free space on {}: {bytes} bytes to copy plus {reserve} reserve, {free} free",
                    at.display()
                ),
            ));
        }
    }
    if !writable(&at) {
        issues.push(Issue::error(
            "no_permission",
            format!("no write permission on {}", at.display()),
        ));
    }
    issues
}

fn free_bytes(p: &Path) -> Option<u64> {
    let s = rustix::fs::statvfs(p).ok()?;
    Some(s.f_bavail.saturating_mul(s.f_frsize))
}

fn writable(p: &Path) -> bool {
    rustix::fs::access(p, rustix::fs::Access::WRITE_OK).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_numbers_from_folder_names() {
        assert_eq!(version_of("v003", "v"), Some(3));
        assert_eq!(version_of("012_WIP", ""), Some(12));
        assert_eq!(version_of("bg01_004", "bg01_"), Some(4));
        assert_eq!(version_of("bg01_004", ""), None);
        assert_eq!(version_of("vx", "v"), None);
    }
}
