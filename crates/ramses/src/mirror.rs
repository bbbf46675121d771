//! The mirror: with `ramses.sync: true`, publishes, ingest registrations and status changes are
//! also pushed to Ramses (state, version, published flag, comment, completion). The local
//! change is committed first and then recorded in the store's outbox; a push that fails because
//! the daemon is down, slow or garbled leaves the row pending for `shotline ramses sync`, so
//! Ramses never fails or blocks the local operation. A refusal (unknown shot, step or state in
//! Ramses) is final and reported.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{json, Map, Value};
use shotline_layout::{
    format_ramses_name, format_ramses_published, RamsesKind, RamsesName, RamsesPublished,
    VersionNumber,
};
use shotline_store::{
    ItemKind, OutboxEntry, OutboxKind, OutboxOutcome, State, Status, Store, Version,
};

use crate::client::Client;
use crate::error::{RamsesError, Result};
use crate::ids::uuid_v5;
use crate::metadata;
use crate::objects::{ObjectType, RamObject};

/// How long a sync holds the rows it claimed before another process may take them over.
pub const LEASE_SECS: i64 = 300;

/// What a change to push says (the outbox payload).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Change {
    /// `shot` or `asset`.
    pub item_kind: String,
    /// Item code (the Ramses short name).
    pub item: String,
    /// Step code.
    pub step: String,
    /// shotline state (`WIP`).
    pub state: Option<String>,
    /// Completion 0-100.
    pub completion: Option<i64>,
    /// Comment.
    pub comment: String,
    /// Version number, for a version.
    pub version: Option<i64>,
    /// Whether that version is published.
    pub published: Option<bool>,
    /// A published version's files, to place in Ramses' `_published` tree.
    #[serde(default)]
    pub files: Option<PublishedFiles>,
}

/// Where a published version's files are, so the mirror can link them where Ramses expects
/// them: `<step folder>/_published/[RES_]NNN[_STATE]/`, listed in its `_ramses_data.json`.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct PublishedFiles {
    /// Folder holding the files.
    pub dir: String,
    /// File name pattern (`comp.####.exr`) or a single file name.
    pub pattern: String,
    /// Resource (`""` = main).
    pub resource: String,
}

impl Change {
    /// The change a status update makes.
    pub fn of_status(s: &Status, comment: &str) -> Change {
        Change {
            item_kind: s.item.kind.as_str().into(),
            item: s.item.code.clone(),
            step: s.step.clone(),
            state: Some(s.state.as_str().into()),
            completion: Some(s.completion),
            comment: comment.to_string(),
            version: None,
            published: None,
            files: None,
        }
    }

    /// The change a registered version makes (main resource versions only move the status).
    pub fn of_version(v: &Version) -> Change {
        Change {
            item_kind: v.item.kind.as_str().into(),
            item: v.item.code.clone(),
            step: v.step.clone(),
            state: Some(v.state.as_str().into()),
            completion: None,
            comment: v.comment.clone(),
            version: Some(v.number),
            published: Some(v.published),
            files: v.published.then(|| PublishedFiles {
                dir: v.files.dir.clone(),
                pattern: v.files.pattern.clone(),
                resource: v.resource.clone(),
            }),
        }
    }

    fn entity(&self) -> String {
        match self.version {
            Some(n) => format!("{} {} v{n:03}", self.item, self.step),
            None => format!("{} {}", self.item, self.step),
        }
    }
}

/// Where one change ended up.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "lowercase")]
pub enum Pushed {
    /// Ramses has it.
    Pushed {
        /// Outbox row.
        id: i64,
        /// `SH010 COMP`.
        entity: String,
        /// Something the user should know (published files copied rather than linked).
        #[serde(skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// Ramses answered and refused it; it will not be retried.
    Refused {
        /// Outbox row.
        id: i64,
        /// `SH010 COMP`.
        entity: String,
        /// Why.
        reason: String,
    },
    /// The daemon could not be reached or did not answer properly; kept for the next sync.
    Kept {
        /// Outbox row.
        id: i64,
        /// `SH010 COMP`.
        entity: String,
        /// Why.
        reason: String,
    },
}

/// What `shotline ramses sync` did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SyncReport {
    /// Rows pushed.
    pub pushed: Vec<Pushed>,
    /// Rows Ramses refused.
    pub refused: Vec<Pushed>,
    /// Rows kept for later (daemon down, slow or wrong).
    pub kept: Vec<Pushed>,
    /// Rows still pending after this sync (including ones another process holds).
    pub pending: usize,
    /// Pushed rows older than `ramses.outbox_keep_days` deleted by this sync.
    pub pruned: usize,
}

/// [`sync`], then deletes pushed rows finished more than `keep_days` days ago (what
/// `shotline ramses sync` runs). Refused rows are kept until resolved.
pub fn sync_and_prune(
    store: &mut Store,
    client: &Client,
    project: Option<&str>,
    keep_days: u32,
) -> Result<SyncReport> {
    let mut report = sync(store, client, project, &owner())?;
    report.pruned = store.outbox_prune(keep_days)?;
    Ok(report)
}

/// The mirror hook publish, ingest and status changes call (CLI and Python alike), when
/// `ramses.sync` is on.
#[derive(Debug, Clone)]
pub struct Mirror {
    opts: crate::ClientOptions,
    project: Option<String>,
}

/// What a mirror push after a local change did, for the caller to report.
#[derive(Debug, Clone, PartialEq)]
pub enum MirrorOutcome {
    /// Every change is in Ramses.
    Pushed {
        /// How many changes were pushed (older pending ones included).
        count: usize,
        /// What the user should know about them (files copied rather than linked).
        notes: Vec<String>,
    },
    /// Some changes were refused or kept in the outbox for `shotline ramses sync`.
    Incomplete {
        /// A one-line summary naming the first reason.
        message: String,
    },
}

impl MirrorOutcome {
    /// The line to show the user.
    pub fn message(&self) -> String {
        match self {
            MirrorOutcome::Pushed { count, notes } => {
                let mut m = format!("Ramses updated ({count} change(s) pushed)");
                for n in notes {
                    m.push_str("; ");
                    m.push_str(n);
                }
                m
            }
            MirrorOutcome::Incomplete { message } => message.clone(),
        }
    }

    /// Whether the user should be warned.
    pub fn is_incomplete(&self) -> bool {
        matches!(self, MirrorOutcome::Incomplete { .. })
    }
}

impl Mirror {
    /// `None` unless `ramses.sync: true`.
    pub fn from_config(c: &shotline_config::RamsesConfig) -> Option<Mirror> {
        c.sync.then(|| Mirror {
            opts: crate::ClientOptions::from_config(c),
            project: Some(c.project.clone()).filter(|p| !p.is_empty()),
        })
    }

    /// Records the changes and tries to push them. Never fails the caller: the local change is
    /// already committed, and the outbox keeps what could not be pushed. Each query is bounded
    /// by the timeout, and the whole push by two of them, so a hung daemon costs seconds.
    pub fn push(&self, store: &mut Store, changes: &[Change]) -> MirrorOutcome {
        for ch in changes {
            if let Err(e) = enqueue(store, ch) {
                return MirrorOutcome::Incomplete {
                    message: format!("not recorded for Ramses: {e}"),
                };
            }
        }
        let mut opts = self.opts.clone();
        opts.total_timeout = opts.read_timeout;
        let deadline = std::time::Instant::now() + opts.read_timeout.saturating_mul(2);
        let c = Client::new(opts);
        match sync_until(store, &c, self.project.as_deref(), &owner(), Some(deadline)) {
            Ok(r) if r.kept.is_empty() && r.refused.is_empty() => MirrorOutcome::Pushed {
                count: r.pushed.len(),
                notes: r.pushed.iter().filter_map(Pushed::note).map(str::to_string).collect(),
            },
            Ok(r) => MirrorOutcome::Incomplete {
                message: format!(
                    "Ramses: {} pushed, {} refused, {} kept in the outbox for `shotline ramses sync`{}",
                    r.pushed.len(),
                    r.refused.len(),
                    r.kept.len(),
                    r.refused
                        .iter()
                        .chain(&r.kept)
                        .find_map(Pushed::reason)
                        .map(|why| format!(" ({why})"))
                        .unwrap_or_default()
                ),
            },
            Err(e) => MirrorOutcome::Incomplete {
                message: format!("Ramses sync failed; changes kept in the outbox: {e}"),
            },
        }
    }

    /// The push after a task status change.
    pub fn push_status(&self, store: &mut Store, s: &Status, comment: &str) -> MirrorOutcome {
        self.push(store, &[Change::of_status(s, comment)])
    }

    /// The push after registering versions (publish, ingest).
    pub fn push_versions(&self, store: &mut Store, versions: &[Version]) -> MirrorOutcome {
        let changes: Vec<Change> = versions.iter().map(Change::of_version).collect();
        self.push(store, &changes)
    }
}

impl Pushed {
    /// The note of a pushed change, if any.
    pub fn note(&self) -> Option<&str> {
        match self {
            Pushed::Pushed { note, .. } => note.as_deref(),
            _ => None,
        }
    }

    /// Why it was refused or kept; `None` when pushed.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Pushed::Refused { reason, .. } | Pushed::Kept { reason, .. } => Some(reason),
            Pushed::Pushed { .. } => None,
        }
    }
}

/// Records a change in the outbox; returns its row id.
pub fn enqueue(store: &mut Store, change: &Change) -> Result<i64> {
    let kind = if change.version.is_some() {
        OutboxKind::Version
    } else {
        OutboxKind::Status
    };
    let payload = serde_json::to_value(change).unwrap_or(Value::Null);
    Ok(store.outbox_add(kind, &change.entity(), &payload)?)
}

/// Records a change and tries to push it (and anything older still pending) at once.
/// Never fails because of Ramses: the outcome says whether it is in Ramses or kept.
pub fn record_and_push(
    store: &mut Store,
    client: &Client,
    project: Option<&str>,
    change: &Change,
) -> Result<SyncReport> {
    enqueue(store, change)?;
    sync(store, client, project, &owner())
}

/// `user@host:pid`-like name of this pusher, for claims.
pub fn owner() -> String {
    format!("{}:{}", shotline_fsio::host_name(), std::process::id())
}

/// Pushes every pending row this process can claim, oldest first. Stops pushing at the first
/// transient failure (a daemon that is down answers nothing else either) and releases the rest.
pub fn sync(
    store: &mut Store,
    client: &Client,
    project: Option<&str>,
    owner: &str,
) -> Result<SyncReport> {
    sync_until(store, client, project, owner, None)
}

/// [`sync`] that stops starting pushes once `deadline` has passed and keeps the rest for the
/// next sync: the mirror after a publish must not hold the command up for long, even against a
/// daemon that answers every query just inside its timeout.
pub fn sync_until(
    store: &mut Store,
    client: &Client,
    project: Option<&str>,
    owner: &str,
    deadline: Option<std::time::Instant>,
) -> Result<SyncReport> {
    let mut report = SyncReport::default();
    let mut target: Option<Target> = None;
    let mut down: Option<String> = None;
    loop {
        let batch = store.outbox_claim(owner, LEASE_SECS, 200)?;
        if batch.is_empty() {
            break;
        }
        for e in batch {
            if down.is_none() && deadline.is_some_and(|d| std::time::Instant::now() > d) {
                down = Some("the mirror's time ran out; kept for `shotline ramses sync`".into());
            }
            if let Some(reason) = &down {
                store.outbox_retry_later(e.id, owner, reason)?;
                report.kept.push(Pushed::Kept {
                    id: e.id,
                    entity: e.entity,
                    reason: reason.clone(),
                });
                continue;
            }
            match push_entry(client, project, &mut target, &e) {
                Ok(note) => {
                    if store.outbox_finish(e.id, owner, OutboxOutcome::Pushed, None)? {
                        report.pushed.push(Pushed::Pushed {
                            id: e.id,
                            entity: e.entity,
                            note,
                        });
                    }
                }
                Err(err) if err.is_transient() => {
                    let reason = err.to_string();
                    store.outbox_retry_later(e.id, owner, &reason)?;
                    report.kept.push(Pushed::Kept {
                        id: e.id,
                        entity: e.entity,
                        reason: reason.clone(),
                    });
                    down = Some(reason);
                }
                Err(err) => {
                    let reason = err.to_string();
                    if store.outbox_finish(e.id, owner, OutboxOutcome::Refused, Some(&reason))? {
                        report.refused.push(Pushed::Refused {
                            id: e.id,
                            entity: e.entity,
                            reason,
                        });
                    }
                }
            }
        }
        if down.is_some() {
            break;
        }
    }
    report.pending = store.outbox_pending()?.len();
    Ok(report)
}

/// The Ramses project and its lookups, fetched once per sync (batched `getObjects`).
struct Target {
    project: String,
    /// The project's short name, the first part of every Ramses file name.
    project_short: String,
    user: String,
    shots: Vec<RamObject>,
    assets: Vec<RamObject>,
    steps: Vec<RamObject>,
    states: Vec<RamObject>,
}

fn refused(what: String) -> RamsesError {
    RamsesError::Failed {
        addr: String::new(),
        command: "sync".into(),
        message: what,
    }
}

fn load_target(client: &Client, wanted: Option<&str>) -> Result<Target> {
    let ping = client.ping()?;
    let project = match wanted.filter(|w| !w.is_empty()) {
        Some(w) => client
            .projects()?
            .into_iter()
            .find(|p| p.uuid == w || p.short_name().eq_ignore_ascii_case(w))
            .ok_or_else(|| refused(format!("Ramses has no project {w:?} (ramses.project)")))?,
        None => client.current_project()?.ok_or_else(|| {
            refused("Ramses has no current project; set ramses.project in shotline.yaml".into())
        })?,
    };
    Ok(Target {
        shots: client.objects_of_project(ObjectType::Shot, &project.uuid)?,
        assets: client.objects_of_project(ObjectType::Asset, &project.uuid)?,
        steps: client.objects_of_project(ObjectType::Step, &project.uuid)?,
        states: client.objects(ObjectType::State)?,
        project_short: project.short_name().to_string(),
        project: project.uuid,
        user: ping.user_uuid,
    })
}

/// Ramses state short names that stand for a shotline state, best first (Ramses' defaults
/// use `CHK`, `OK`, `RTK`, `STB`).
fn state_names(s: State) -> &'static [&'static str] {
    match s {
        State::Todo => &["TODO"],
        State::Wip => &["WIP"],
        State::Review => &["REVIEW", "CHK"],
        State::Retake => &["RETAKE", "RTK"],
        State::Approved => &["APPROVED", "OK"],
        State::Final => &["FINAL", "OK"],
        State::Omit => &["OMIT", "STB", "NO"],
    }
}

fn push_entry(
    client: &Client,
    project: Option<&str>,
    target: &mut Option<Target>,
    e: &OutboxEntry,
) -> Result<Option<String>> {
    let change: Change = serde_json::from_value(e.payload.clone())
        .map_err(|err| refused(format!("outbox row {} is not a change ({err})", e.id)))?;
    if target.is_none() {
        *target = Some(load_target(client, project)?);
    }
    let Some(t) = target.as_ref() else {
        return Err(refused("no Ramses project".into()));
    };
    let kind: ItemKind = change
        .item_kind
        .parse()
        .map_err(|_| refused(format!("unknown item kind {:?}", change.item_kind)))?;
    let items = match kind {
        ItemKind::Shot => &t.shots,
        ItemKind::Asset => &t.assets,
    };
    let item = items
        .iter()
        .find(|o| o.short_name() == change.item)
        .ok_or_else(|| {
            refused(format!(
                "{kind} {} is not in the Ramses project",
                change.item
            ))
        })?;
    let step = t
        .steps
        .iter()
        .find(|o| o.short_name() == change.step)
        .ok_or_else(|| refused(format!("step {} is not in the Ramses project", change.step)))?;
    let mut data = Map::new();
    let mut state_short = None;
    if let Some(s) = &change.state {
        let st: State = s
            .parse()
            .map_err(|_| refused(format!("unknown state {s:?}")))?;
        let ram_state = state_names(st)
            .iter()
            .find_map(|n| {
                t.states
                    .iter()
                    .find(|o| o.short_name().eq_ignore_ascii_case(n))
            })
            .ok_or_else(|| {
                refused(format!(
                    "Ramses has no state for {st} (looked for {})",
                    state_names(st).join(", ")
                ))
            })?;
        data.insert("state".into(), json!(ram_state.uuid));
        state_short = Some(ram_state.short_name().to_string());
    }
    if let Some(c) = change.completion {
        data.insert("completionRatio".into(), json!(c));
    }
    if !change.comment.is_empty() {
        data.insert("comment".into(), json!(change.comment));
    }
    if let Some(v) = change.version {
        data.insert("version".into(), json!(v));
    }
    if let Some(p) = change.published {
        data.insert("published".into(), json!(p));
    }
    data.insert("date".into(), json!(ramses_now()));
    if !t.user.is_empty() {
        data.insert("user".into(), json!(t.user));
    }
    match client.status(&item.uuid, &step.uuid)? {
        Some(status) => client.update_data(&status.uuid, &data)?,
        None => {
            data.insert("item".into(), json!(item.uuid));
            data.insert("step".into(), json!(step.uuid));
            data.insert("itemType".into(), json!(change.item_kind));
            data.insert("project".into(), json!(t.project));
            let uuid = uuid_v5(&format!("status/{}/{}", item.uuid, step.uuid));
            client.create(&uuid, ObjectType::Status, &data)?
        }
    }
    if let (Some(files), Some(number)) = (&change.files, change.version) {
        let placed = PublishedPlace {
            project: &t.project_short,
            kind,
            item,
            step: step.short_name(),
            state: state_short.as_deref(),
            number,
            comment: &change.comment,
        };
        let how = place_published(client, &placed, files).map_err(|e| {
            refused(format!(
                "the status was pushed, but the published files were not placed: {e}"
            ))
        })?;
        return Ok(how.note());
    }
    Ok(None)
}

/// What a published folder is for.
struct PublishedPlace<'a> {
    project: &'a str,
    kind: ItemKind,
    item: &'a RamObject,
    step: &'a str,
    state: Option<&'a str>,
    number: i64,
    comment: &'a str,
}

/// How the files of a published version reached the Ramses tree.
#[derive(Debug, Default)]
struct Placement {
    folder: PathBuf,
    linked: usize,
    copied: usize,
    /// Why files were copied rather than linked (the first link error).
    copy_reason: Option<String>,
}

impl Placement {
    /// A line for the sync report when files were copied: copies take space and time, and the
    /// user should know the Ramses tree is not sharing the published files.
    fn note(&self) -> Option<String> {
        (self.copied > 0).then(|| {
            format!(
                "copied {} file(s) into {} (verified size and SHA-1) instead of linking them: {}",
                self.copied,
                self.folder.display(),
                self.copy_reason
                    .as_deref()
                    .unwrap_or("they could not be linked")
            )
        })
    }
}

/// Places a published version's files in `<step folder>/_published/[RES_]NNN[_STATE]/` of the
/// Ramses tree (the step folder is the item's folder, from `getPath`, plus `_<STEP>`), named as
/// Ramses names them (`PROJ_S_SH010_COMP[_res][.frame].ext`, from the one layout), and lists
/// them in that folder's `_ramses_data.json`. Files are hard-linked (instant, no space); when
/// the Ramses tree is on another filesystem they are copied atomically and verified. An
/// existing file is kept only when it has the same content: published files are history.
fn place_published(
    client: &Client,
    p: &PublishedPlace<'_>,
    files: &PublishedFiles,
) -> Result<Placement> {
    let item_dir = PathBuf::from(client.path(&p.item.uuid)?);
    let item_name = item_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|_| item_dir.is_absolute())
        .ok_or_else(|| refused(format!("Ramses gave no folder for {}", p.item.short_name())))?;
    shotline_layout::check_component("step", p.step)?;
    let version = VersionNumber::from_i64(p.number)
        .ok_or_else(|| refused(format!("version number {} is out of range", p.number)))?;
    let resource = Some(files.resource.clone()).filter(|r| !r.is_empty());
    let folder = format_ramses_published(&RamsesPublished {
        resource: resource.clone(),
        version,
        state: p.state.map(str::to_string),
    })?;
    let target = item_dir
        .join(format!("{item_name}_{}", p.step))
        .join("_published")
        .join(folder);
    let base = RamsesName {
        project: p.project.to_string(),
        kind: match p.kind {
            ItemKind::Shot => RamsesKind::Shot,
            ItemKind::Asset => RamsesKind::Asset,
        },
        item: p.item.short_name().to_string(),
        step: p.step.to_string(),
        resource,
        state_version: None,
        ext: String::new(),
    };
    let sources = files_of(files)?;
    std::fs::create_dir_all(&target).map_err(|e| placing(&target, e))?;
    let mut placement = Placement {
        folder: target.clone(),
        ..Placement::default()
    };
    let mut names = Vec::new();
    for src in &sources {
        let name = ramses_file_name(&base, src)?;
        let dst = target.join(&name);
        if src.as_path() != dst.as_path() {
            place_one(src, &dst, &mut placement)?;
        }
        names.push(name);
    }
    let mut meta = Map::new();
    meta.insert("comment".into(), json!(p.comment));
    meta.insert("version".into(), json!(p.number));
    meta.insert("date".into(), json!(ramses_now()));
    meta.insert("state".into(), json!(p.state.unwrap_or("")));
    meta.insert("published".into(), json!(true));
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    metadata::update_many(&target, &names, &meta)?;
    Ok(placement)
}

/// The Ramses name of one published file: the item/step/resource name from the layout, then
/// the frame number of a sequence frame as the source spells it, then the extension
/// (`DEMO_S_SH010_COMP.1001.exr`, `DEMO_A_robot_MOD_hi.abc`).
fn ramses_file_name(base: &RamsesName, src: &Path) -> Result<String> {
    let file = src
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| refused(format!("{} has no file name", src.display())))?;
    let mut parts: Vec<&str> = file.split('.').collect();
    let ext = if parts.len() > 1 { parts.pop() } else { None };
    let frame = match parts.last() {
        Some(f) if parts.len() > 1 && !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()) => {
            Some(*f)
        }
        _ => None,
    };
    let tail: Vec<&str> = frame.into_iter().chain(ext).collect();
    let name = RamsesName {
        ext: tail.join("."),
        ..base.clone()
    };
    Ok(format_ramses_name(&name)?)
}

fn placing(path: &Path, e: std::io::Error) -> RamsesError {
    RamsesError::Metadata {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// The files of a published version: the frames of its pattern, or its single file.
fn files_of(files: &PublishedFiles) -> Result<Vec<PathBuf>> {
    let path = Path::new(&files.dir).join(&files.pattern);
    match shotline_sequences::parse_pattern_path(&path) {
        Ok(pattern) => {
            let seq =
                shotline_sequences::find_on_disk(&pattern).map_err(|e| RamsesError::Metadata {
                    path: path.clone(),
                    message: e.to_string(),
                })?;
            Ok(seq.frame_paths().map(|(_, p)| p).collect())
        }
        Err(_) if path.is_file() => Ok(vec![path]),
        Err(e) => Err(RamsesError::Metadata {
            path,
            message: e.to_string(),
        }),
    }
}

/// Puts `src` at `dst`: a hard link, else (another filesystem, or links refused there) an
/// atomic copy verified by size and SHA-1. An existing `dst` is accepted only when it is the
/// same file or has the same content.
fn place_one(src: &Path, dst: &Path, placement: &mut Placement) -> Result<()> {
    let link_error = match std::fs::hard_link(src, dst) {
        Ok(()) => {
            placement.linked += 1;
            return Ok(());
        }
        // Some kernels report another filesystem before an existing name: check both ways.
        Err(e)
            if e.kind() == std::io::ErrorKind::AlreadyExists || dst.symlink_metadata().is_ok() =>
        {
            return if same_file(src, dst) || same_content(src, dst)? {
                Ok(())
            } else {
                Err(RamsesError::Metadata {
                    path: dst.to_path_buf(),
                    message: "a different file is already published here; published files are never replaced".into(),
                })
            };
        }
        Err(e) => e,
    };
    let reason = if link_error.kind() == std::io::ErrorKind::CrossesDevices {
        "the Ramses tree is on another filesystem".to_string()
    } else {
        format!("linking failed ({link_error})")
    };
    shotline_fsio::copy_atomic(src, dst, shotline_fsio::Overwrite::Never).map_err(|e| {
        RamsesError::Metadata {
            path: dst.to_path_buf(),
            message: format!("cannot copy {} here ({e}) after {reason}", src.display()),
        }
    })?;
    if !same_content(src, dst)? {
        // A copy that does not match is worse than none: remove it so the next sync retries.
        let _ = std::fs::remove_file(dst);
        return Err(RamsesError::Metadata {
            path: dst.to_path_buf(),
            message: format!(
                "the copy of {} does not match it (size or SHA-1); removed",
                src.display()
            ),
        });
    }
    placement.copied += 1;
    placement.copy_reason.get_or_insert(reason);
    Ok(())
}

/// Same size and same SHA-1, read in a streaming way (frames can be large).
fn same_content(a: &Path, b: &Path) -> Result<bool> {
    let size = |p: &Path| {
        std::fs::metadata(p)
            .map(|m| m.len())
            .map_err(|e| placing(p, e))
    };
    if size(a)? != size(b)? {
        return Ok(false);
    }
    Ok(sha1_of(a)? == sha1_of(b)?)
}

fn sha1_of(path: &Path) -> Result<[u8; 20]> {
    use sha1::Digest;
    use std::io::Read;
    let mut f = std::fs::File::open(path).map_err(|e| placing(path, e))?;
    let mut h = sha1::Sha1::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(|e| placing(path, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().into())
}

#[cfg(unix)]
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(a: &Path, b: &Path) -> bool {
    matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
}

/// Now as Ramses writes dates (`YYYY-MM-DD HH:MM:SS`, UTC).
fn ramses_now() -> String {
    let now = shotline_store::now();
    now.get(..19).unwrap_or(&now).replace('T', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(resource: Option<&str>) -> RamsesName {
        RamsesName {
            project: "DEMO".into(),
            kind: RamsesKind::Shot,
            item: "SH010".into(),
            step: "COMP".into(),
            resource: resource.map(str::to_string),
            state_version: None,
            ext: String::new(),
        }
    }

    #[test]
    fn published_files_get_ramses_names() {
        let n = |b: &RamsesName, f: &str| ramses_file_name(b, Path::new(f)).unwrap();
        assert_eq!(
            n(&base(None), "/r/comp.1001.exr"),
            "DEMO_S_SH010_COMP.1001.exr"
        );
        assert_eq!(
            n(&base(Some("bg")), "/r/sh010_comp_v003.0007.dpx"),
            "DEMO_S_SH010_COMP_bg.0007.dpx"
        );
        assert_eq!(n(&base(None), "/r/review.mov"), "DEMO_S_SH010_COMP.mov");
        assert_eq!(n(&base(None), "/r/notes"), "DEMO_S_SH010_COMP");
        // The name Ramses-Py's parser takes apart gives back the same item and step.
        let parsed = shotline_layout::parse_ramses_name(&n(&base(Some("bg")), "/r/x.mov")).unwrap();
        assert_eq!(
            (
                parsed.item.as_str(),
                parsed.step.as_str(),
                parsed.resource.as_deref()
            ),
            ("SH010", "COMP", Some("bg"))
        );
    }

    #[test]
    fn copies_are_verified_by_content() {
        let d = tempfile::tempdir().unwrap();
        let (a, b, c) = (d.path().join("a"), d.path().join("b"), d.path().join("c"));
        std::fs::write(&a, b"frame").unwrap();
        std::fs::write(&b, b"frame").unwrap();
        std::fs::write(&c, b"fraME").unwrap();
        assert!(same_content(&a, &b).unwrap());
        assert!(!same_content(&a, &c).unwrap());
        // An existing different file at the destination is never replaced.
        let mut placed = Placement::default();
        let err = place_one(&a, &c, &mut placed).unwrap_err().to_string();
        assert!(err.contains("never replaced"), "{err}");
        assert_eq!(std::fs::read(&c).unwrap(), b"fraME");
        place_one(&a, &b, &mut placed).unwrap();
        place_one(&a, &d.path().join("new"), &mut placed).unwrap();
        assert_eq!((placed.linked, placed.copied), (1, 0));
    }
}
