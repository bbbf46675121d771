//! The JSON API under `/api/v1`. Each handler opens its own store connection on a blocking
//! thread (both backends' drivers are synchronous; PostgreSQL connections come from the store's
//! pool), so many readers run at once and writes follow the store's transaction rules (one
//! write transaction each: SQLite's IMMEDIATE, PostgreSQL's writer lock; no lost write).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use shotline_store::{
    Actor, EventQuery, ItemKind, ItemRef, State as TaskState, StatusChange, Store, VersionQuery,
};

use crate::auth::{cookie, Caller, Via};
use crate::error::{Result, ServerError};
use crate::App;

/// The OpenAPI 3.1 document describing these routes.
pub const OPENAPI: &str = include_str!("../openapi.json");

pub(crate) fn router(app: App) -> Router {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/login", post(login))
        .route("/api/v1/logout", post(logout))
        .route("/api/v1/session", get(session))
        .route("/api/v1/project", get(project))
        .route("/api/v1/shots", get(crate::grid::shots))
        .route("/api/v1/shots/{code}", get(shot_detail))
        .route("/api/v1/shots/{code}/steps/{step}/status", put(set_status))
        .route("/api/v1/events", get(crate::live::stream))
        .with_state(app)
}

/// Runs store work on a blocking thread.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ServerError::Internal(e.to_string()))?
}

pub(crate) fn read_store(app: &App) -> Result<Store> {
    Ok(Store::open_read_only(&app.db, app.busy_timeout_ms)?)
}

async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        OPENAPI.to_string(),
    )
        .into_response()
}

#[derive(Deserialize)]
struct LoginBody {
    user: String,
    password: String,
}

#[derive(Serialize)]
struct SessionInfo {
    user: String,
    role: shotline_store::Role,
    /// Echo in `X-CSRF-Token` on every mutation; absent for API-token callers.
    csrf: Option<String>,
}

async fn login(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Json(body): Json<LoginBody>,
) -> Result<Response> {
    let ip = peer.ip();
    if !app.sessions.may_try(ip, &body.user) {
        return Err(ServerError::RateLimited(body.user));
    }
    let (user, password) = (body.user.clone(), body.password);
    let a = app.clone();
    let started = blocking(move || {
        let conn = crate::accounts::open(&a.db, a.busy_timeout_ms)?;
        if !crate::accounts::verify_password(&conn, &a.db, &user, &password)? {
            return Ok(None);
        }
        let role = read_store(&a)?.role_of(&user)?;
        let now = crate::session::unix_now();
        let new = crate::session::start(&conn, &a.db, &user, a.sessions.idle, now)?;
        Ok(Some((role, new)))
    })
    .await?;
    let Some((role, new)) = started else {
        app.sessions.failed(ip, &body.user);
        return Err(ServerError::Unauthorized(
            "wrong user name or password".into(),
        ));
    };
    app.sessions.succeeded(&body.user);
    let info = SessionInfo {
        user: body.user,
        role,
        csrf: Some(new.csrf),
    };
    let set = cookie(Some(&new.token), app.sessions.idle, app.secure_cookies);
    Ok(([(header::SET_COOKIE, set)], Json(info)).into_response())
}

async fn logout(State(app): State<App>, caller: Caller, headers: HeaderMap) -> Result<Response> {
    caller.check_csrf(&headers)?;
    if let Via::Session { id, .. } = caller.via {
        let a = app.clone();
        blocking(move || {
            let conn = crate::accounts::open(&a.db, a.busy_timeout_ms)?;
            crate::session::end(&conn, &a.db, &id)
        })
        .await?;
        // This browser's event streams close now, not at the next poll.
        app.credentials.send_modify(|g| *g = g.wrapping_add(1));
    }
    Ok((
        StatusCode::NO_CONTENT,
        [(
            header::SET_COOKIE,
            cookie(None, app.sessions.idle, app.secure_cookies),
        )],
    )
        .into_response())
}

async fn session(State(app): State<App>, caller: Caller) -> Result<Json<SessionInfo>> {
    let user = caller.user.clone();
    let role = blocking(move || Ok(read_store(&app)?.role_of(&user)?)).await?;
    Ok(Json(SessionInfo {
        user: caller.user,
        role,
        csrf: match caller.via {
            Via::Session { csrf, .. } => Some(csrf),
            Via::Token { .. } => None,
        },
    }))
}

async fn project(State(app): State<App>, _caller: Caller) -> Result<Json<Value>> {
    blocking(move || {
        let store = read_store(&app)?;
        Ok(Json(json!({
            "project": store.project(),
            "schema_version": store.schema_version()?,
        })))
    })
    .await
}

/// A shot with its statuses, every version (with files, ranges and what each uses) and its
/// audit trail.
async fn shot_detail(
    State(app): State<App>,
    _caller: Caller,
    Path(code): Path<String>,
) -> Result<Json<Value>> {
    blocking(move || {
        let store = read_store(&app)?;
        let shot = store.shot(&code)?;
        let statuses: Vec<_> = store
            .statuses(Some(&code))?
            .into_iter()
            .filter(|s| s.item.kind == ItemKind::Shot)
            .collect();
        let versions = store.versions(&VersionQuery {
            kind: Some(ItemKind::Shot),
            item: Some(code.clone()),
            ..VersionQuery::default()
        })?;
        let audit = store.events(&EventQuery {
            entity: Some(code.clone()),
            limit: Some(200),
            ..EventQuery::default()
        })?;
        Ok(Json(json!({
            "shot": shot,
            "statuses": statuses,
            "versions": versions,
            "audit": audit,
        })))
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusBody {
    state: Option<String>,
    assignee: Option<String>,
    completion: Option<i64>,
    #[serde(default)]
    comment: String,
    /// The state the client showed: a change made against a stale view is refused (409).
    if_state: Option<String>,
}

/// Changes a shot task's status as the caller: the store checks their role (decisions need a
/// lead) and writes the change and its audit event in one transaction.
async fn set_status(
    State(app): State<App>,
    caller: Caller,
    headers: HeaderMap,
    Path((code, step)): Path<(String, String)>,
    Json(body): Json<StatusBody>,
) -> Result<Json<Value>> {
    caller.check_csrf(&headers)?;
    let state = body
        .state
        .as_deref()
        .map(str::parse::<TaskState>)
        .transpose()?;
    let if_state = body
        .if_state
        .as_deref()
        .map(str::parse::<TaskState>)
        .transpose()?;
    let change = StatusChange {
        item: ItemRef::shot(code),
        step,
        state,
        assignee: body.assignee,
        completion: body.completion,
        comment: body.comment,
        if_state,
    };
    blocking(move || {
        let mut store = Store::open(&app.db, app.busy_timeout_ms)?;
        let status = store.set_status(&Actor::named(&caller.user), &change)?;
        Ok(Json(json!({ "status": status })))
    })
    .await
}
