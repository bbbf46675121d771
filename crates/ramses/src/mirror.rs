//! The mirror: with `ramses.sync: true`, publishes, ingest registrations and status changes are
//! also pushed to Ramses (state, version, published flag, comment, completion). The local
//! change is committed first and then recorded in the store's outbox; a push that fails because
//! the daemon is down, slow or garbled leaves the row pending for `shotline ramses sync`, so
//! Ramses never fails or blocks the local operation. A refusal (unknown shot, step or state in
//! Ramses) is final and reported.

use serde::Serialize;
use serde_json::{json, Map, Value};
use shotline_store::{
    ItemKind, OutboxEntry, OutboxKind, OutboxOutcome, State, Status, Store, Version,
};

use crate::client::Client;
use crate::error::{RamsesError, Result};
use crate::ids::uuid_v5;
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
    let mut report = SyncReport::default();
    let mut target: Option<Target> = None;
    let mut down: Option<String> = None;
    loop {
        let batch = store.outbox_claim(owner, LEASE_SECS, 200)?;
        if batch.is_empty() {
            break;
        }
        for e in batch {
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
        Some(status) => client.update_data(&status.uuid, &data),
        None => {
            data.insert("item".into(), json!(item.uuid));
            data.insert("step".into(), json!(step.uuid));
            data.insert("itemType".into(), json!(change.item_kind));
            data.insert("project".into(), json!(t.project));
            let uuid = uuid_v5(&format!("status/{}/{}", item.uuid, step.uuid));
            client.create(&uuid, ObjectType::Status, &data)
        }
    }
}

/// Now as Ramses writes dates (`YYYY-MM-DD HH:MM:SS`, UTC).
fn ramses_now() -> String {
    let now = shotline_store::now();
    now.get(..19).unwrap_or(&now).replace('T', " ")
}
