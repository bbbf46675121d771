//! The render queue over HTTP: jobs, their tasks with live progress, task logs, cancel and
//! retry. Live progress itself arrives as `render` Server-Sent Events (see `live.rs`).
//!
//! A log is found through the queue (the attempt's recorded log file), never from a path in
//! the request. Cancel and retry change other people's renders, so they need a lead (the
//! command line's `render cancel|retry` trusts the shell account; the web must check a role),
//! plus the CSRF token for browsers.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path as FsPath;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use shotline_render::{Queue, RenderError, Slurm};
use shotline_store::Role;

use crate::api::{blocking, read_store};
use crate::auth::Caller;
use crate::error::{Result, ServerError};
use crate::App;

/// The end of a log shown by default, in bytes.
pub const LOG_TAIL_DEFAULT: u64 = 64 * 1024;
/// The most of a log one request may ask for.
pub const LOG_TAIL_MAX: u64 = 4 * 1024 * 1024;

pub(crate) fn router(app: App) -> Router {
    Router::new()
        .route("/api/v1/render/jobs", get(jobs))
        .route("/api/v1/render/jobs/{id}", get(job))
        .route("/api/v1/render/jobs/{id}/tasks/{task}/log", get(task_log))
        .route("/api/v1/render/jobs/{id}/cancel", post(cancel))
        .route("/api/v1/render/jobs/{id}/retry", post(retry))
        .with_state(app)
}

/// Refuses (503, with the reason) when the render queue cannot use this database: checked
/// after the caller is known, so anonymous requests still get 401 and learn nothing.
fn ready(app: &App) -> Result<()> {
    match &app.render_unavailable {
        Some(why) => Err(ServerError::Unavailable(why.clone())),
        None => Ok(()),
    }
}

fn reader(app: &App, id: i64) -> Result<Queue> {
    Ok(Queue::open_read_only(&app.db, &app.render_dir)?
        .ok_or_else(|| RenderError::NoSuchJob(id.to_string()))?)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JobsQuery {
    #[serde(default)]
    all: bool,
}

async fn jobs(
    State(app): State<App>,
    _caller: Caller,
    Query(q): Query<JobsQuery>,
) -> Result<Json<Value>> {
    ready(&app)?;
    blocking(move || {
        let jobs = match Queue::open_read_only(&app.db, &app.render_dir)? {
            Some(queue) => queue.list(q.all)?,
            None => Vec::new(),
        };
        Ok(Json(json!({ "jobs": jobs })))
    })
    .await
}

async fn job(State(app): State<App>, _caller: Caller, Path(id): Path<i64>) -> Result<Json<Value>> {
    ready(&app)?;
    blocking(move || Ok(Json(json!({ "job": reader(&app, id)?.detail(id)? })))).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LogQuery {
    /// At most this many bytes from the end.
    tail: Option<u64>,
    /// This attempt (default: the latest).
    attempt: Option<i64>,
}

/// The end of a task attempt's log.
#[derive(Debug, Serialize)]
struct LogTail {
    job: i64,
    task: i64,
    attempt: Option<i64>,
    /// The log's whole size in bytes (0 before the task started).
    size: u64,
    /// True when `text` starts after the log's beginning.
    truncated: bool,
    /// The last bytes, from a line start, as UTF-8 (invalid bytes replaced).
    text: String,
}

async fn task_log(
    State(app): State<App>,
    _caller: Caller,
    Path((id, task)): Path<(i64, i64)>,
    Query(q): Query<LogQuery>,
) -> Result<Json<LogTail>> {
    ready(&app)?;
    let tail = q.tail.unwrap_or(LOG_TAIL_DEFAULT);
    if !(1..=LOG_TAIL_MAX).contains(&tail) {
        return Err(ServerError::Invalid {
            what: "tail",
            value: tail.to_string(),
            expected: format!("1 to {LOG_TAIL_MAX} bytes"),
        });
    }
    blocking(move || {
        let queue = reader(&app, id)?;
        queue.summary(id)?;
        let found = queue.log_of(id, task, q.attempt).map_err(not_found_task)?;
        let Some((path, attempt)) = found else {
            return Ok(Json(LogTail {
                job: id,
                task,
                attempt: None,
                size: 0,
                truncated: false,
                text: String::new(),
            }));
        };
        let (size, truncated, text) = read_tail(&path, tail)?;
        Ok(Json(LogTail {
            job: id,
            task,
            attempt: Some(attempt),
            size,
            truncated,
            text,
        }))
    })
    .await
}

/// "job 3 has no task 9" is a missing thing, not a server fault.
fn not_found_task(e: RenderError) -> ServerError {
    match e {
        RenderError::Invalid(m) if m.contains("has no task") => ServerError::NotFound(m),
        e => e.into(),
    }
}

/// The last `tail` bytes of a log, from the first whole line. A log not written yet (the task
/// is starting) reads as empty.
fn read_tail(path: &FsPath, tail: u64) -> Result<(u64, bool, String)> {
    let io = |source| ServerError::Io {
        what: format!("reading the log {}", path.display()),
        source,
    };
    let mut f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((0, false, String::new())),
        Err(e) => return Err(io(e)),
    };
    let size = f.metadata().map_err(io)?.len();
    let start = size.saturating_sub(tail);
    f.seek(SeekFrom::Start(start)).map_err(io)?;
    let mut buf = Vec::new();
    f.take(tail).read_to_end(&mut buf).map_err(io)?;
    if start > 0 {
        // Drop the partial first line.
        let cut = buf.iter().position(|&b| b == b'\n').map_or(0, |i| i + 1);
        buf.drain(..cut);
    }
    Ok((size, start > 0, String::from_utf8_lossy(&buf).into_owned()))
}

/// Cancel and retry need a lead (the render wrangler's call, not every artist's).
fn check_may_control(app: &App, caller: &Caller, queue: &Queue, id: i64) -> Result<()> {
    let role = read_store(app)?.role_of(&caller.user)?;
    if role < Role::Lead {
        return Err(ServerError::Forbidden(format!(
            "{} ({role}) may not cancel or retry renders: needs lead",
            caller.user
        )));
    }
    queue.summary(id)?;
    Ok(())
}

/// The Slurm cluster when job `id` runs there: the same commands as `shotline render
/// cancel|retry` (scancel; a new array of the failed tasks), with the project's farm settings.
fn farm_of(app: &App, queue: &Queue, id: i64) -> Result<Option<Slurm>> {
    Ok((queue.executor_of(id)? == shotline_render::SLURM).then(|| Slurm::new(&app.render, None)))
}

async fn cancel(
    State(app): State<App>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Json<Value>> {
    caller.check_csrf(&headers)?;
    ready(&app)?;
    blocking(move || {
        let mut queue = Queue::open(&app.db, &app.render_dir, app.busy_timeout_ms)?;
        check_may_control(&app, &caller, &queue, id)?;
        let running = match farm_of(&app, &queue, id)? {
            Some(slurm) => slurm.cancel(&mut queue, id)?,
            None => queue.cancel(id)?,
        };
        let s = queue.summary(id)?;
        Ok(Json(
            json!({"job": id, "state": s.state, "running": running}),
        ))
    })
    .await
}

async fn retry(
    State(app): State<App>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Json<Value>> {
    caller.check_csrf(&headers)?;
    ready(&app)?;
    blocking(move || {
        let mut queue = Queue::open(&app.db, &app.render_dir, app.busy_timeout_ms)?;
        check_may_control(&app, &caller, &queue, id)?;
        let changed = match farm_of(&app, &queue, id)? {
            Some(slurm) => {
                // Bring the farm's view in first, so tasks that just failed are retried too.
                slurm.sync(&mut queue, Some(id))?;
                slurm.retry(&mut queue, id)?
            }
            None => queue.retry(id)?,
        };
        let s = queue.summary(id)?;
        Ok(Json(
            json!({"job": id, "state": s.state, "changed": changed}),
        ))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tails_start_at_a_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("log");
        std::fs::write(&p, "first line\nsecond line\nthird\n").unwrap();
        let (size, cut, text) = read_tail(&p, 10).unwrap();
        assert_eq!(size, 29);
        assert!(cut);
        assert_eq!(text, "third\n");
        let (_, cut, text) = read_tail(&p, 1000).unwrap();
        assert!(!cut);
        assert!(text.starts_with("first line"));
        assert_eq!(
            read_tail(&dir.path().join("none"), 10).unwrap(),
            (0, false, String::new())
        );
    }
}
