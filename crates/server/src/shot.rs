//! The shot page's API: a shot's versions over time per step (files, ranges, missing frames,
//! dependencies both ways, the review movie), its comments and its audit trail, and posting a
//! comment. Status changes and approvals use the grid's route (`PUT .../status`), so the
//! store's approval rules are enforced in one place.
//!
//! The store keeps no comment table: a comment is a status change that changes nothing but
//! carries a comment, so it lands in the audit trail like every other note on a task.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use shotline_store::{
    Actor, Event, EventQuery, ItemKind, ItemRef, Status, StatusChange, Store, Version, VersionQuery,
};

use crate::api::{blocking, read_store};
use crate::auth::Caller;
use crate::error::{Result, ServerError};
use crate::App;

/// Audit events read for one shot page.
const AUDIT_LIMIT: u64 = 500;
/// Longest comment accepted, in characters.
const MAX_COMMENT: usize = 4000;

pub(crate) fn router(app: App) -> Router {
    Router::new()
        .route("/api/v1/shots/{code}/history", get(history))
        .route("/api/v1/shots/{code}/comments", post(comment))
        .with_state(app)
}

/// A version as the shot page shows it.
#[derive(Debug, Serialize)]
struct VersionView {
    #[serde(flatten)]
    version: Version,
    /// `v003`.
    label: String,
    /// Ids of the versions made from this one.
    used_by: Vec<i64>,
    /// The review movie's version id (itself for a review version), when there is one.
    review: Option<i64>,
}

/// One step's column of the page.
#[derive(Debug, Serialize)]
struct StepHistory {
    step: String,
    name: String,
    status: Option<Status>,
    /// Oldest first.
    versions: Vec<VersionView>,
}

/// A note left on one of the shot's tasks.
#[derive(Debug, Serialize)]
struct Comment {
    at: String,
    user: String,
    step: String,
    text: String,
    /// The state after the change the comment came with.
    state: Value,
}

async fn history(
    State(app): State<App>,
    _caller: Caller,
    Path(code): Path<String>,
) -> Result<Json<Value>> {
    blocking(move || {
        let store = read_store(&app)?;
        let shot = store.shot(&code)?;
        let steps = step_histories(&store, &code)?;
        let events = shot_events(&store, &code)?;
        let comments: Vec<Comment> = events.iter().filter_map(|e| comment_of(e, &code)).collect();
        Ok(Json(json!({
            "shot": shot,
            "steps": steps,
            "comments": comments,
            "audit": events,
        })))
    })
    .await
}

/// Every shot step with its status and versions, in three queries (steps, statuses,
/// versions) plus one for all reverse dependencies.
fn step_histories(store: &Store, code: &str) -> Result<Vec<StepHistory>> {
    let mut statuses: BTreeMap<String, Status> = store
        .statuses(Some(code))?
        .into_iter()
        .filter(|s| s.item.kind == ItemKind::Shot)
        .map(|s| (s.step.clone(), s))
        .collect();
    let mut versions = store.versions(&VersionQuery {
        kind: Some(ItemKind::Shot),
        item: Some(code.to_string()),
        ..VersionQuery::default()
    })?;
    versions.sort_by(|a, b| (&a.created_at, a.id).cmp(&(&b.created_at, b.id)));
    let ids: Vec<i64> = versions.iter().map(|v| v.id).collect();
    let used_by = store.used_by_each(&ids)?;
    let reviews = newest_reviews(&versions);
    let mut by_step: BTreeMap<String, Vec<VersionView>> = BTreeMap::new();
    for v in versions {
        let users = used_by.get(&v.id).cloned().unwrap_or_default();
        let review = if v.resource == shotline_review::RESOURCE {
            Some(v.id)
        } else {
            reviews.get(&v.id).copied()
        };
        by_step
            .entry(v.step.clone())
            .or_default()
            .push(VersionView {
                label: v.label(),
                version: v,
                used_by: users,
                review,
            });
    }
    Ok(store
        .steps(Some(ItemKind::Shot))?
        .into_iter()
        .map(|st| StepHistory {
            status: statuses.remove(&st.code),
            versions: by_step.remove(&st.code).unwrap_or_default(),
            step: st.code,
            name: st.name,
        })
        .collect())
}

/// For each version of the shot, the newest review movie made from it (review versions
/// register the version they show in `uses`).
fn newest_reviews(versions: &[Version]) -> BTreeMap<i64, i64> {
    let mut out: BTreeMap<i64, i64> = BTreeMap::new();
    for r in versions
        .iter()
        .filter(|v| v.resource == shotline_review::RESOURCE)
    {
        for used in &r.uses {
            let e = out.entry(*used).or_insert(r.id);
            *e = (*e).max(r.id);
        }
    }
    out
}

/// The shot's audit trail: events about the shot itself, its tasks and its versions (their
/// names start with the shot code and a space), newest last.
fn shot_events(store: &Store, code: &str) -> Result<Vec<Event>> {
    let prefix = format!("{code} ");
    Ok(store
        .events(&EventQuery {
            entity: Some(code.to_string()),
            limit: Some(AUDIT_LIMIT),
            ..EventQuery::default()
        })?
        .into_iter()
        .filter(|e| e.entity == code || e.entity.starts_with(&prefix))
        .collect())
}

/// A status change's comment, if it carried one.
fn comment_of(e: &Event, code: &str) -> Option<Comment> {
    if e.action != "status.set" {
        return None;
    }
    let text = e.details.get("comment")?.as_str()?.trim();
    if text.is_empty() {
        return None;
    }
    let step = e.entity.strip_prefix(code)?.trim().to_string();
    Some(Comment {
        at: e.at.clone(),
        user: e.user.clone(),
        step,
        text: text.to_string(),
        state: e
            .details
            .get("state")
            .and_then(|s| s.get(1))
            .cloned()
            .unwrap_or(Value::Null),
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CommentBody {
    step: String,
    text: String,
}

/// Leaves a comment on one of the shot's tasks, as the caller (CSRF-checked; any user may
/// comment, as anyone may move a task between TODO, WIP and REVIEW).
async fn comment(
    State(app): State<App>,
    caller: Caller,
    headers: HeaderMap,
    Path(code): Path<String>,
    Json(body): Json<CommentBody>,
) -> Result<Json<Value>> {
    caller.check_csrf(&headers)?;
    let text = body.text.trim().to_string();
    if text.is_empty() || text.chars().count() > MAX_COMMENT {
        return Err(ServerError::Invalid {
            what: "comment",
            value: text.chars().take(40).collect(),
            expected: format!("1 to {MAX_COMMENT} characters"),
        });
    }
    let change = StatusChange {
        item: ItemRef::shot(code),
        step: body.step,
        state: None,
        assignee: None,
        completion: None,
        comment: text,
        if_state: None,
    };
    blocking(move || {
        let mut store = Store::open(&app.db, app.busy_timeout_ms)?;
        let status = store.set_status(&Actor::named(&caller.user), &change)?;
        Ok(Json(json!({ "status": status, "comment": change.comment })))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status_event(entity: &str, comment: &str) -> Event {
        Event {
            id: 1,
            at: "2026-01-01T00:00:00Z".into(),
            user: "ana".into(),
            host: "h".into(),
            action: "status.set".into(),
            entity_kind: "status".into(),
            entity_id: Some(1),
            entity: entity.into(),
            details: json!({"state": ["WIP", "REVIEW"], "comment": comment}),
        }
    }

    #[test]
    fn comments_come_from_status_changes_with_text() {
        let c = comment_of(&status_event("SH010 COMP", " looks good "), "SH010").unwrap();
        assert_eq!((c.step.as_str(), c.text.as_str()), ("COMP", "looks good"));
        assert_eq!(c.state, "REVIEW");
        assert!(comment_of(&status_event("SH010 COMP", "  "), "SH010").is_none());
    }
}
