//! `versions`, `status` and `log`: reading what was published and decided, and by whom.

use anyhow::{Context as _, Result};
use serde::Serialize;
use shotline_store::{EventQuery, ItemKind, ItemRef, StatusChange, Version, VersionQuery};

use super::common::{actor, open_ro, open_rw, state};
use super::{LogArgs, StatusCmd, VersionsCmd};
use crate::context::Ctx;
use crate::output::{human_bytes, Exit, Style};

/// `2026-11-20T10:31:05.123456Z` → `2026-11-20 10:31` for tables.
fn short_time(t: &str) -> String {
    if t.len() >= 16 {
        format!("{} {}", &t[..10], &t[11..16])
    } else {
        t.to_string()
    }
}

fn version_row(ctx: &Ctx, v: &Version) -> Vec<String> {
    let step = if v.resource.is_empty() {
        v.step.clone()
    } else {
        format!("{}/{}", v.step, v.resource)
    };
    let frames = if v.files.missing_frames.is_empty() {
        v.files.frame_range.clone()
    } else {
        ctx.out.paint(
            format!(
                "{} (missing {})",
                v.files.frame_range, v.files.missing_frames
            ),
            Style::Red,
        )
    };
    vec![
        v.id.to_string(),
        ctx.out.paint(&v.item.code, Style::Bold),
        step,
        v.label(),
        v.state.to_string(),
        frames,
        human_bytes(v.files.bytes.max(0) as u64),
        v.author.clone(),
        short_time(&v.created_at),
    ]
}

const VERSION_HEADERS: [&str; 9] = [
    "ID", "ITEM", "STEP", "VERSION", "STATE", "FRAMES", "SIZE", "AUTHOR", "DATE",
];

#[derive(Serialize)]
struct Shown<'a> {
    #[serde(flatten)]
    version: &'a Version,
    used_by: Vec<i64>,
    /// `uses` and `used_by` named (`SH010 plate v002`), for people and reports.
    uses_names: Vec<Named>,
    used_by_names: Vec<Named>,
}

#[derive(Serialize)]
struct Named {
    id: i64,
    name: String,
}

/// Each id with its version's name (`SH010 plate v002`); an id the database no longer
/// resolves keeps its number only.
fn named(store: &shotline_store::Store, ids: &[i64]) -> Vec<Named> {
    ids.iter()
        .map(|&id| Named {
            id,
            name: store
                .version(id)
                .map(|v| shotline_store::version_name(&v.item.code, &v.step, &v.resource, v.number))
                .unwrap_or_else(|_| format!("version id {id}")),
        })
        .collect()
}

/// Runs `versions ...`.
pub fn versions(cmd: &VersionsCmd, ctx: &Ctx) -> Result<Exit> {
    let store = open_ro(ctx)?;
    match cmd {
        VersionsCmd::Ls {
            shot,
            asset,
            step,
            resource,
            latest,
            limit,
        } => {
            let (kind, item) = match (shot, asset) {
                (Some(s), _) => (Some(ItemKind::Shot), Some(s.clone())),
                (None, Some(a)) => (Some(ItemKind::Asset), Some(a.clone())),
                _ => (None, None),
            };
            let q = VersionQuery {
                kind,
                item,
                step: step.clone(),
                resource: resource.clone(),
                latest: *latest,
                limit: *limit,
            };
            if ctx.out.json() {
                store.versions_each(&q, |v| -> Result<()> {
                    ctx.out.json_line(&v)?;
                    Ok(())
                })?;
                return Ok(Exit::Clean);
            }
            let mut rows = Vec::new();
            store.versions_each(&q, |v| -> Result<()> {
                rows.push(version_row(ctx, &v));
                Ok(())
            })?;
            ctx.out.table(&VERSION_HEADERS, &rows)?;
            ctx.out.note(format!("{} versions", rows.len()));
            Ok(Exit::Clean)
        }
        VersionsCmd::Show { id } => {
            let v = store.version(*id)?;
            let used_by = store.used_by(*id)?;
            let uses_names = named(&store, &v.uses);
            let used_by_names = named(&store, &used_by);
            if ctx.out.json() {
                ctx.out.json_doc(&Shown {
                    version: &v,
                    used_by,
                    uses_names,
                    used_by_names,
                })?;
                return Ok(Exit::Clean);
            }
            let f = &v.files;
            let opt = |o: Option<String>| o.unwrap_or_else(|| "-".into());
            let res = match (f.width, f.height) {
                (Some(w), Some(h)) => format!("{w}x{h}"),
                _ => "-".into(),
            };
            let names = |v: &[Named]| {
                if v.is_empty() {
                    "-".to_string()
                } else {
                    v.iter()
                        .map(|n| format!("{} (id {})", n.name, n.id))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            };
            let lines = [
                (
                    "version",
                    format!("{} {} {} (id {})", v.item, v.step, v.label(), v.id),
                ),
                (
                    "resource",
                    if v.resource.is_empty() {
                        "(main)".into()
                    } else {
                        v.resource.clone()
                    },
                ),
                ("state", v.state.to_string()),
                ("files", format!("{}/{}", f.dir, f.pattern)),
                (
                    "frames",
                    format!("{} ({} files)", f.frame_range, f.file_count),
                ),
                (
                    "missing",
                    if f.missing_frames.is_empty() {
                        "none".into()
                    } else {
                        f.missing_frames.clone()
                    },
                ),
                ("size", human_bytes(f.bytes.max(0) as u64)),
                ("resolution", res),
                ("fps", opt(f.fps.map(|x| x.to_string()))),
                ("timecode", opt(f.timecode.clone())),
                ("checksum", opt(f.checksum.clone())),
                ("author", v.author.clone()),
                ("created", v.created_at.clone()),
                ("source", v.source.clone()),
                ("comment", v.comment.clone()),
                ("manifest", opt(v.manifest.clone())),
                ("uses", names(&uses_names)),
                ("used by", names(&used_by_names)),
                (
                    "tags",
                    if v.tags.is_empty() {
                        "-".into()
                    } else {
                        v.tags.join(", ")
                    },
                ),
            ];
            for (k, val) in lines {
                ctx.out.line(format!(
                    "{}  {val}",
                    ctx.out.paint(format!("{k:<10}"), Style::Bold)
                ))?;
            }
            Ok(Exit::Clean)
        }
    }
}

/// Runs `status ...`.
pub fn status(cmd: &StatusCmd, ctx: &Ctx) -> Result<Exit> {
    match cmd {
        StatusCmd::Set {
            item,
            step,
            asset,
            state: st,
            assignee,
            completion,
            comment,
            if_state,
        } => {
            if st.is_none() && assignee.is_none() && completion.is_none() {
                anyhow::bail!("nothing to change: give --state, --assignee or --completion");
            }
            let change = StatusChange {
                item: if *asset {
                    ItemRef::asset(item.as_str())
                } else {
                    ItemRef::shot(item.as_str())
                },
                step: step.clone(),
                state: st.as_deref().map(state).transpose()?,
                assignee: assignee.clone(),
                completion: *completion,
                comment: comment.clone(),
                if_state: if_state.as_deref().map(state).transpose()?,
            };
            let mut store = open_rw(ctx)?;
            let s = match store.set_status(&actor(), &change) {
                Err(e @ shotline_store::StoreError::StatusChanged(_)) => {
                    // Someone else's decision stands: a finding (exit 1), not bad input.
                    return Err(crate::output::Problems(e.to_string()).into());
                }
                other => other?,
            };
            crate::cmd::ramses::mirror_status(ctx, &mut store, &s, comment);
            if ctx.out.json() {
                ctx.out.json_doc(&s)?;
            } else {
                ctx.out.line(format!(
                    "{} {} is {} ({}%{})",
                    s.item.code,
                    s.step,
                    s.state,
                    s.completion,
                    s.assignee
                        .as_ref()
                        .map(|a| format!(", assigned to {a}"))
                        .unwrap_or_default()
                ))?;
            }
        }
        StatusCmd::Ls { item } => {
            let list = open_ro(ctx)?.statuses(item.as_deref())?;
            ctx.out.records(
                &list,
                &["ITEM", "STEP", "STATE", "DONE", "ASSIGNEE", "BY", "UPDATED"],
                |s| {
                    vec![
                        s.item.code.clone(),
                        s.step.clone(),
                        s.state.to_string(),
                        format!("{}%", s.completion),
                        s.assignee.clone().unwrap_or_else(|| "-".into()),
                        s.updated_by.clone(),
                        short_time(&s.updated_at),
                    ]
                },
            )?;
        }
    }
    Ok(Exit::Clean)
}

/// Runs `log`.
pub fn log(a: &LogArgs, ctx: &Ctx) -> Result<Exit> {
    let since = a
        .since
        .as_deref()
        .map(shotline_store::parse_since)
        .transpose()
        .context("--since")?;
    let q = EventQuery {
        since,
        entity: a.entity.clone(),
        user: a.user.clone(),
        action: a.action.clone(),
        limit: a.limit,
    };
    let events = open_ro(ctx)?.events(&q)?;
    ctx.out.records(
        &events,
        &["TIME", "USER", "ACTION", "ENTITY", "DETAILS"],
        |e| {
            vec![
                short_time(&e.at),
                e.user.clone(),
                e.action.clone(),
                e.entity.clone(),
                summarize(&e.details),
            ]
        },
    )?;
    Ok(Exit::Clean)
}

/// Compact one-line rendering of event details (`state=WIP→APPROVED frames=1001-1100`).
fn summarize(d: &serde_json::Value) -> String {
    let Some(map) = d.as_object() else {
        return d.to_string();
    };
    let mut parts = Vec::new();
    for (k, v) in map {
        let s = match v {
            serde_json::Value::Null => continue,
            serde_json::Value::String(s) if s.is_empty() => continue,
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Array(a) if a.len() == 2 => {
                let f = |x: &serde_json::Value| {
                    x.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| x.to_string())
                };
                format!("{}→{}", f(&a[0]), f(&a[1]))
            }
            other => other.to_string(),
        };
        parts.push(format!("{k}={s}"));
    }
    let line = parts.join(" ");
    if line.chars().count() > 100 {
        format!("{}…", line.chars().take(99).collect::<String>())
    } else {
        line
    }
}
