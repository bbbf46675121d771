//! The mirror: with `ramses.sync: true`, publishes, ingest registrations and status changes are
//! also pushed to Ramses (state, version, published flag, comment, completion). The local
//! change is committed first and then recorded in the store's outbox; a push that fails because
//! the daemon is down, slow or garbled leaves the row pending for `shotline ramses sync`, so
//! Ramses never fails or blocks the local operation. A refusal (unknown shot, step or state in
//! Ramses) is final and reported.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{json, Map, Value};
use shotline_layout::{format_ramses_published, RamsesPublished, VersionNumber};
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
                Ok(()) => {
                    if store.outbox_finish(e.id, owner, OutboxOutcome::Pushed, None)? {
                        report.pushed.push(Pushed::Pushed {
                            id: e.id,
                            entity: e.entity,
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
) -> Result<()> {
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
            item,
            step: step.short_name(),
            state: state_short.as_deref(),
            number,
            comment: &change.comment,
        };
        place_published(client, &placed, files).map_err(|e| {
            refused(format!(
                "the status was pushed, but the published files were not placed: {e}"
            ))
        })?;
    }
    Ok(())
}

/// What a published folder is for.
struct PublishedPlace<'a> {
    item: &'a RamObject,
    step: &'a str,
    state: Option<&'a str>,
    number: i64,
    comment: &'a str,
}

/// Hard-links a published version's files into `<step folder>/_published/[RES_]NNN[_STATE]/`
/// of the Ramses tree (the step folder is the item's folder, from `getPath`, plus
/// `_<STEP>`), and lists them in that folder's `_ramses_data.json`. Never copies (a copy could
/// block the publish) and never replaces a different file (published files are history).
fn place_published(client: &Client, p: &PublishedPlace<'_>, files: &PublishedFiles) -> Result<()> {
    let item_dir = PathBuf::from(client.path(&p.item.uuid)?);
    let item_name = item_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|_| item_dir.is_absolute())
        .ok_or_else(|| refused(format!("Ramses gave no folder for {}", p.item.short_name())))?;
    shotline_layout::check_component("step", p.step)?;
    let version = VersionNumber::from_i64(p.number)
        .ok_or_else(|| refused(format!("version number {} is out of range", p.number)))?;
    let folder = format_ramses_published(&RamsesPublished {
        resource: Some(files.resource.clone()).filter(|r| !r.is_empty()),
        version,
        state: p.state.map(str::to_string),
    })?;
    let target = item_dir
        .join(format!("{item_name}_{}", p.step))
        .join("_published")
        .join(folder);
    let sources = files_of(files)?;
    std::fs::create_dir_all(&target).map_err(|e| placing(&target, e))?;
    let mut names = Vec::new();
    for src in &sources {
        let Some(name) = src.file_name() else {
            continue;
        };
        let dst = target.join(name);
        if src.parent() != Some(target.as_path()) {
            link_once(src, &dst)?;
        }
        names.push(name.to_string_lossy().into_owned());
    }
    let mut meta = Map::new();
    meta.insert("comment".into(), json!(p.comment));
    meta.insert("version".into(), json!(p.number));
    meta.insert("date".into(), json!(ramses_now()));
    meta.insert("state".into(), json!(p.state.unwrap_or("")));
    meta.insert("published".into(), json!(true));
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    metadata::update_many(&target, &names, &meta)
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

/// A hard link `dst` → `src`; an existing `dst` is fine only when it is the same file.
fn link_once(src: &Path, dst: &Path) -> Result<()> {
    match std::fs::hard_link(src, dst) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            if same_file(src, dst) {
                Ok(())
            } else {
                Err(RamsesError::Metadata {
                    path: dst.to_path_buf(),
                    message: "a different file is already published here; published files are never replaced".into(),
                })
            }
        }
        Err(e) => Err(RamsesError::Metadata {
            path: dst.to_path_buf(),
            message: format!(
                "cannot link {} here ({e}); with the Ramses tree on another filesystem, publish into it with the `ramses` layout preset",
                src.display()
            ),
        }),
    }
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
