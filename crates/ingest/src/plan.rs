//! Planning and checking an ingest before anything is written.
//!
//! The plan says, for every clip, where it would go and what is wrong with it, so `--dry-run`
//! shows exactly what a real run would do. Clips that map to the same shot/step/resource form
//! one version; two clips writing the same file name there are a collision.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

use crate::destination::{Destinations, VersionNames};
use crate::hash::{hash_file, HashAlgo};
use crate::ledger::{self, LedgerEntry};
use crate::matching::{MatchOutcome, Matcher, ShotId};
use crate::resume::{JobState, Reserved};
use crate::scan::{Clip, ClipKind, ScanNote};
use shotline_frames::FrameSet;
use shotline_layout::{version_label, Fields, VersionNumber};
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
    /// The frames of a sequence (empty for a movie or a file). The report shows them as
    /// `frame_range`: `[first, last]`, or `null` when there are none (schema
    /// `shotline.ingest/1`, unchanged).
    #[serde(rename = "frame_range", serialize_with = "ser_frame_span")]
    pub frames: FrameSet,
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
    /// Template fields (without version, frame and extension).
    #[serde(skip)]
    pub fields: Fields,
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
    /// Where versions and files go.
    #[serde(skip)]
    pub destinations: Destinations,
}

impl Plan {
    /// True when any error stops the ingest as a whole.
    pub fn blocked(&self) -> bool {
        self.issues.iter().any(|i| i.severity == Severity::Error)
    }
}

/// `frame_range` in the report: `[first, last]` of a sequence's frames, `null` for none.
fn ser_frame_span<S: serde::Serializer>(frames: &FrameSet, s: S) -> Result<S::Ok, S::Error> {
    frames.min().zip(frames.max()).serialize(s)
}

/// Fingerprint of a clip: names and sizes (cheap, no reads).
pub fn fingerprint(clip: &PlannedClip, algo: HashAlgo) -> String {
    let mut h = algo.hasher();
    for f in &clip.files {
        let name = crate::names::escape_file_name(&f.source);
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

/// Renders the leaf folder name for a version; it must be one safe path component.
pub fn leaf_name(
    dest: &Destinations,
    group: &VersionGroup,
    version: u32,
) -> Result<String, String> {
    dest.leaf_name(&group.fields, version)
}

/// Highest version present under `parent` for this group (0 when none). Planning only shows
/// this number; the number actually taken comes from the store's allocator ([`GroupFolders`]).
pub fn highest_version(dest: &Destinations, group: &VersionGroup) -> u32 {
    let names = dest.folders(&group.fields);
    let Ok(entries) = std::fs::read_dir(&group.parent) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| names.number_of(&e.file_name().to_string_lossy()))
        .map(VersionNumber::get)
        .max()
        .unwrap_or(0)
}

/// A version group's folders as the store's one allocator sees them: the allocator scans
/// [`VersionGroup::parent`] for this group's version folders and claims the next one, so ingest
/// numbers versions by the same rule as publish and every other writer.
pub struct GroupFolders<'a> {
    group: &'a VersionGroup,
    dest: &'a Destinations,
    names: VersionNames,
}

impl<'a> GroupFolders<'a> {
    /// The folders of `group`, named by `dest`.
    pub fn new(dest: &'a Destinations, group: &'a VersionGroup) -> GroupFolders<'a> {
        GroupFolders {
            group,
            dest,
            names: dest.folders(&group.fields),
        }
    }
}

impl VersionLayout for GroupFolders<'_> {
    fn parent(&self) -> &Path {
        &self.group.parent
    }
    /// An unrenderable name comes back empty, which the allocator refuses as a path component.
    fn entry_name(&self, n: VersionNumber) -> String {
        leaf_name(self.dest, self.group, n.get()).unwrap_or_default()
    }
    fn number_of(&self, name: &str) -> Option<VersionNumber> {
        self.names.number_of(name)
    }
}

/// Destination file name of `file` in `group` at `version`; it must be one safe path component
/// (so the file stays in the version folder).
pub fn dest_name(
    dest: &Destinations,
    group: &VersionGroup,
    version: u32,
    file: &PlannedFile,
    ext: &str,
) -> Result<String, String> {
    dest.file_name(&group.fields, version, file.frame.as_deref(), ext)
}

/// Where `file` goes: the one function that builds a destination path (the version folder
/// joined with [`dest_name`]).
pub fn dest_path(
    dest: &Destinations,
    group: &VersionGroup,
    file: &PlannedFile,
    ext: &str,
) -> Result<PathBuf, String> {
    Ok(group
        .dir
        .join(dest_name(dest, group, group.version, file, ext)?))
}

/// The project's picture format, which delivered media is compared with.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProjectFormat {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Frames per second.
    pub fps: f64,
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
    /// Where versions and files go.
    pub destinations: Destinations,
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
    pub project_format: ProjectFormat,
}

/// Builds and checks the plan: each clip matched and checked, grouped into versions, checked
/// for collisions and against the ledger, then the destination as a whole.
pub fn make_plan(input: PlanInput<'_>) -> Result<Plan, String> {
    let mut clips: Vec<PlannedClip> = input.clips.iter().map(|c| plan_clip(&input, c)).collect();
    let mut versions = group_versions(&input, &mut clips);
    mark_collisions(&input.destinations, &versions, &mut clips);
    find_already_ingested(&input, &versions, &mut clips)?;
    show_existing_versions(&mut versions, &clips);
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
        destinations: input.destinations,
    })
}

/// Phase "clip": one scanned clip matched to a shot, with its files and frame checks.
fn plan_clip(input: &PlanInput<'_>, clip: &Clip) -> PlannedClip {
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
        frames: FrameSet::from_frames(clip.files.iter().filter_map(|f| f.frame)),
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
    pc
}

/// `SEQ/SHOT/STEP[/RESOURCE]`: the shot/step/resource a version belongs to.
fn version_key(id: &ShotId) -> String {
    format!(
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
    )
}

/// The template fields of a version of `id` (the project code from the config wins over one
/// found in the name; the state is `ingest.state`).
fn group_fields(input: &PlanInput<'_>, id: &ShotId) -> Fields {
    let project = if input.project_code.is_empty() {
        id.project.clone().unwrap_or_default()
    } else {
        input.project_code.clone()
    };
    Fields {
        project: Some(project),
        sequence: id.sequence.clone(),
        shot: Some(id.shot.clone()),
        step: Some(id.step.clone()),
        resource: id.resource.clone(),
        state: Some(input.state.clone()),
        ..Fields::default()
    }
}

/// A warning when the name's project code is not the project's.
fn warn_project_mismatch(pc: &mut PlannedClip, id: &ShotId, project_code: &str) {
    if let Some(p) = &id.project {
        if !project_code.is_empty() && !p.eq_ignore_ascii_case(project_code) {
            pc.issues.push(Issue::warning(
                "project_mismatch",
                format!("name says project {p} but project.code is {project_code}"),
            ));
        }
    }
}

/// Versions being formed while grouping: their index by job key, and the next number each
/// shot/step/resource would take in this plan.
#[derive(Default)]
struct Grouping {
    versions: Vec<VersionGroup>,
    by_job_key: HashMap<String, usize>,
    next_in_plan: HashMap<String, u32>,
}

/// Phase "group": every matched clip gets its version (one per clip: a version records one
/// file set — pattern, frame range, file count — so two clips of one shot/step/resource, an EXR
/// plate and a DPX of it, become two consecutive versions). A clip whose destination cannot be
/// built is blocked.
fn group_versions(input: &PlanInput<'_>, clips: &mut [PlannedClip]) -> Vec<VersionGroup> {
    let mut grouping = Grouping::default();
    for (ci, pc) in clips.iter_mut().enumerate() {
        let MatchOutcome::Matched { id, .. } = &pc.matched else {
            continue;
        };
        let id = id.clone();
        warn_project_mismatch(pc, &id, &input.project_code);
        match grouping.group_for(input, &id, &pc.key) {
            Ok(gi) => {
                grouping.versions[gi].clips.push(ci);
                pc.version_group = Some(gi);
            }
            Err(issue) => {
                pc.issues.push(issue);
                pc.status = ClipStatus::Blocked;
            }
        }
    }
    grouping.versions
}

impl Grouping {
    /// The version of clip `clip_key` matched to `id`: made on first use, in the folder the
    /// interrupted run took or numbered past the versions on disk and in this plan.
    fn group_for(
        &mut self,
        input: &PlanInput<'_>,
        id: &ShotId,
        clip_key: &str,
    ) -> Result<usize, Issue> {
        let key = version_key(id);
        let job_key = format!("{key}\t{clip_key}");
        if let Some(&gi) = self.by_job_key.get(&job_key) {
            return Ok(gi);
        }
        let fields = group_fields(input, id);
        let parent = input
            .destinations
            .version_parent(&input.root, &fields)
            .map_err(|e| Issue::error("unsafe_path", e))?;
        let mut g = VersionGroup {
            key: key.clone(),
            job_key: job_key.clone(),
            id: id.clone(),
            parent,
            version: 0,
            dir: PathBuf::new(),
            clips: Vec::new(),
            fields,
        };
        match reserved_folder(input.resumed, &job_key) {
            Some(r) => {
                g.version = r.version;
                g.dir = r.dir.clone();
            }
            None => {
                let next = self.next_in_plan.get(&key).copied().unwrap_or(0);
                g.version = (highest_version(&input.destinations, &g) + 1).max(next);
                self.next_in_plan.insert(key, g.version.saturating_add(1));
                let leaf = leaf_name(&input.destinations, &g, g.version)
                    .map_err(|e| Issue::error("template", e))?;
                g.dir = g.parent.join(leaf);
            }
        }
        self.versions.push(g);
        self.by_job_key.insert(job_key, self.versions.len() - 1);
        Ok(self.versions.len() - 1)
    }
}

/// The folder an interrupted run of this job took for `job_key`, while it still exists.
fn reserved_folder<'a>(resumed: Option<&'a JobState>, job_key: &str) -> Option<&'a Reserved> {
    resumed
        .and_then(|s| s.versions.get(job_key))
        .filter(|r| r.dir.is_dir())
}

/// Phase "collisions": two clips writing one file name in one version are both blocked.
fn mark_collisions(dest: &Destinations, versions: &[VersionGroup], clips: &mut [PlannedClip]) {
    for g in versions {
        let mut seen: HashMap<String, usize> = HashMap::new();
        for &ci in &g.clips {
            let pc = &clips[ci];
            for f in &pc.files {
                let Ok(name) = dest_name(dest, g, g.version, f, &pc.ext) else {
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
                        mark_collision(clips, other, &msg);
                        mark_collision(clips, ci, &msg);
                        break;
                    }
                } else {
                    seen.insert(name, ci);
                }
            }
        }
    }
}

/// A clip an earlier ingest recorded in the ledger: its line and content checksum.
struct KnownClip<'a> {
    entry: &'a LedgerEntry,
    content: &'a str,
}

/// Phase "already ingested": a fingerprint hit in the ledger, confirmed by the content
/// checksum of the source, marks the clip as ingested before (into a folder still there).
fn find_already_ingested(
    input: &PlanInput<'_>,
    versions: &[VersionGroup],
    clips: &mut [PlannedClip],
) -> Result<(), String> {
    let entries = ledger::read(&input.ledger)?;
    let unregistered = ledger::unregistered_dirs(&entries);
    let mut known: HashMap<&str, Vec<KnownClip<'_>>> = HashMap::new();
    for entry in &entries {
        for c in &entry.clips {
            known
                .entry(c.fingerprint.as_str())
                .or_default()
                .push(KnownClip {
                    entry,
                    content: c.content.as_str(),
                });
        }
    }
    let suspects = ledger_suspects(input.resumed, versions, clips, &known);
    let contents: Vec<(usize, Result<SourceContent, String>)> = suspects
        .par_iter()
        .map(|&i| (i, source_content(&clips[i], input.algo, input.buf_size)))
        .collect();
    for (i, content) in contents {
        let c = &mut clips[i];
        match content {
            Ok(content) => {
                let earlier = &known[c.fingerprint.as_str()];
                apply_ledger(c, earlier, &content.content, &unregistered);
                c.content = Some(content.content);
                c.hashes = content.hashes;
            }
            Err(e) => {
                c.issues.push(Issue::error("unreadable", e));
                c.status = ClipStatus::Blocked;
            }
        }
    }
    Ok(())
}

/// Planned clips whose fingerprint the ledger knows, except those of versions an interrupted
/// run of this job took (their copies are this job's own).
fn ledger_suspects(
    resumed: Option<&JobState>,
    versions: &[VersionGroup],
    clips: &[PlannedClip],
    known: &HashMap<&str, Vec<KnownClip<'_>>>,
) -> Vec<usize> {
    let resumed_keys: Vec<&String> = resumed
        .map(|s| s.versions.keys().collect())
        .unwrap_or_default();
    clips
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
        .collect()
}

/// What the ledger says about a clip whose source checksum is `content`: already ingested into
/// a folder still present, or (a warning) ingested into one that is gone.
fn apply_ledger(
    c: &mut PlannedClip,
    earlier: &[KnownClip<'_>],
    content: &str,
    unregistered: &HashSet<&str>,
) {
    let (present, gone): (Vec<&LedgerEntry>, Vec<&LedgerEntry>) = earlier
        .iter()
        .filter(|k| k.content == content)
        .map(|k| k.entry)
        .partition(|e| Path::new(&e.dir).is_dir());
    if let (None, Some(e)) = (present.first(), gone.first()) {
        c.issues.push(Issue::warning(
            "ingested_folder_gone",
            format!(
                "the ledger says this content was ingested into {} on {}, but that folder is gone: ingesting it again",
                e.dir, e.time
            ),
        ));
    }
    if let Some(e) = present.first() {
        let msg = format!(
            "same content already ingested as {} {} ({}) on {}",
            e.shot,
            version_label(e.version),
            e.dir,
            e.time
        );
        c.issues.push(Issue::warning("already_ingested", msg));
        c.status = ClipStatus::AlreadyIngested;
        c.ingested_as = Some(IngestedAs {
            version: e.version,
            dir: PathBuf::from(&e.dir),
            registered: !unregistered.contains(e.dir.as_str()),
            entry: (*e).clone(),
        });
    }
}

/// A version whose clips were all ingested before is shown as the folder they went into, not
/// as the next free number it will never take.
fn show_existing_versions(versions: &mut [VersionGroup], clips: &[PlannedClip]) {
    for g in versions {
        let mut dirs = g.clips.iter().map(|&c| clips[c].ingested_as.as_ref());
        if let Some(Some(first)) = dirs.next() {
            if dirs.all(|d| d.is_some_and(|d| d.dir == first.dir)) {
                g.version = first.version;
                g.dir = first.dir.clone();
            }
        }
    }
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

/// A clip's source checksums: the content checksum compared with the ledger, and each file's
/// (in `files` order), which a later registration of the existing version records.
struct SourceContent {
    content: String,
    hashes: Vec<String>,
}

/// Hashes a clip's source files.
fn source_content(c: &PlannedClip, algo: HashAlgo, buf: usize) -> Result<SourceContent, String> {
    let hashes: Result<Vec<(String, String)>, String> = c
        .files
        .par_iter()
        .map(|f| {
            let name = crate::names::escape_file_name(&f.source);
            hash_file(&f.source, algo, buf)
                .map(|(h, _)| (name, h))
                .map_err(|e| format!("cannot read {}: {e}", f.source.display()))
        })
        .collect();
    let hashes = hashes?;
    let content = content_hash(hashes.iter().map(|(n, h)| (n.as_str(), h.as_str())), algo);
    Ok(SourceContent {
        content,
        hashes: hashes.into_iter().map(|(_, h)| h).collect(),
    })
}

/// Frame checks: missing frames (warning); truncated/damaged frames (error) from the media check
/// and, in any case, frames under half the median size of their sequence; resolution and fps
/// different from the project (warnings).
fn check_frames(
    clip: &Clip,
    pc: &mut PlannedClip,
    frame_check: Option<&crate::FrameCheck>,
    format: ProjectFormat,
) {
    let missing = pc.frames.gaps();
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
    let mut bad = match frame_check {
        Some(check) => probe_frames(clip, pc, check, format),
        None => Vec::new(),
    };
    short_frames(clip, &mut bad);
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

/// Runs the media check on every file (in parallel): returns the damaged ones, and compares the
/// first good file's resolution and fps with the project's (warnings) and keeps its values.
fn probe_frames(
    clip: &Clip,
    pc: &mut PlannedClip,
    check: &crate::FrameCheck,
    format: ProjectFormat,
) -> Vec<String> {
    let infos: Vec<(PathBuf, crate::FrameInfo)> = clip
        .files
        .par_iter()
        .map(|f| (f.path.clone(), check(&f.path)))
        .collect();
    let bad = infos
        .iter()
        .filter_map(|(p, info)| {
            info.problem
                .as_ref()
                .map(|problem| format!("{}: {problem}", p.display()))
        })
        .collect();
    if let Some((_, first)) = infos.iter().find(|(_, i)| i.problem.is_none()) {
        compare_format(pc, first, format);
        pc.media = Some(crate::FrameInfo {
            problem: None,
            ..first.clone()
        });
    }
    bad
}

/// Warnings when the media's resolution or fps differ from the project's.
fn compare_format(pc: &mut PlannedClip, info: &crate::FrameInfo, format: ProjectFormat) {
    let ProjectFormat {
        width: pw,
        height: ph,
        fps: pfps,
    } = format;
    if let (Some(w), Some(h)) = (info.width, info.height) {
        if (w, h) != (u64::from(pw), u64::from(ph)) {
            pc.issues.push(Issue::warning(
                "resolution",
                format!("resolution {w}x{h} differs from the project's {pw}x{ph}"),
            ));
        }
    }
    if let Some(fps) = info.fps {
        if (fps - pfps).abs() > 0.01 {
            pc.issues.push(Issue::warning(
                "fps",
                format!("{fps} fps differs from the project's {pfps}"),
            ));
        }
    }
}

/// Frames of a sequence (of three or more) under half its median size, added to `bad` unless
/// the media check already named them.
fn short_frames(clip: &Clip, bad: &mut Vec<String>) {
    if clip.kind != ClipKind::Sequence || clip.files.len() < 3 {
        return;
    }
    let mut sizes: Vec<u64> = clip.files.iter().map(|f| f.size).collect();
    sizes.sort_unstable();
    let median = sizes[sizes.len() / 2];
    for f in &clip.files {
        if f.size < median / 2 {
            let shown = f.path.display().to_string();
            if !bad.iter().any(|b| b.starts_with(&shown)) {
                bad.push(format!(
                    "{shown}: {} bytes, under half the sequence's median {median}",
                    f.size
                ));
            }
        }
    }
}

/// A frame set in range syntax for a message, cut short when it has no short spelling.
pub(crate) fn frames_text(frames: &FrameSet) -> String {
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
    fn the_report_shows_a_sequences_first_and_last_frame() {
        let span = |frames: FrameSet| {
            ser_frame_span(&frames, serde_json::value::Serializer)
                .unwrap()
                .to_string()
        };
        assert_eq!(
            span(FrameSet::from_frames([1001, 1002, 1005])),
            "[1001,1005]"
        );
        assert_eq!(
            span(FrameSet::from_frames([1001, 100_000_000])),
            "[1001,100000000]"
        );
        assert_eq!(span(FrameSet::default()), "null");
    }
}
