//! Ingest reports: the JSON documents `shotline ingest` saves under
//! `<project root>/.shotline/ingest/reports/`, listed and served as they are. The server finds
//! the folder from the project root in the store and picks files by listing it; a request's id
//! is only compared with the names found, never joined onto a path.

use std::path::{Path, PathBuf};

use axum::extract::{Path as UrlPath, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use serde_json::{json, Value};

use crate::api::{blocking, read_store};
use crate::auth::Caller;
use crate::error::{Result, ServerError};
use crate::App;

/// Reports listed at most (newest first; names start with the finish time).
const LIST_LIMIT: usize = 200;

pub(crate) fn router(app: App) -> Router {
    Router::new()
        .route("/api/v1/ingest/reports", get(list))
        .route("/api/v1/ingest/reports/{id}", get(one))
        .with_state(app)
}

/// A line of the list: what a coordinator scans for.
#[derive(Debug, Serialize)]
struct Summary {
    id: String,
    started: Value,
    finished: Value,
    dry_run: Value,
    totals: Value,
    versions_created: usize,
}

/// The reports folder of the project.
fn reports_dir(app: &App) -> Result<PathBuf> {
    let store = read_store(app)?;
    Ok(Path::new(&store.project().root)
        .join(shotline_ingest::STATE_DIR)
        .join("reports"))
}

/// `(id, path)` of every `*.json` report, newest first.
fn report_files(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(ServerError::Io {
                what: format!("cannot list {}", dir.display()),
                source,
            })
        }
    };
    let mut out: Vec<(String, PathBuf)> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| {
            let path = e.path();
            let id = path
                .file_name()?
                .to_str()?
                .strip_suffix(".json")?
                .to_string();
            Some((id, path))
        })
        .collect();
    out.sort_by(|a, b| b.0.cmp(&a.0));
    Ok(out)
}

fn read_report(path: &Path) -> Result<Value> {
    let text = std::fs::read(path).map_err(|source| ServerError::Io {
        what: format!("cannot read {}", path.display()),
        source,
    })?;
    serde_json::from_slice(&text).map_err(|e| ServerError::Invalid {
        what: "ingest report",
        value: path.display().to_string(),
        expected: format!("a JSON report ({e})"),
    })
}

async fn list(State(app): State<App>, _caller: Caller) -> Result<Json<Value>> {
    blocking(move || {
        let dir = reports_dir(&app)?;
        let mut reports = Vec::new();
        let mut unreadable = Vec::new();
        for (id, path) in report_files(&dir)?.into_iter().take(LIST_LIMIT) {
            match read_report(&path) {
                Ok(r) => reports.push(summary(id, &r)),
                Err(e) => unreadable.push(json!({"id": id, "error": e.to_string()})),
            }
        }
        Ok(Json(json!({"reports": reports, "unreadable": unreadable})))
    })
    .await
}

fn summary(id: String, r: &Value) -> Summary {
    Summary {
        id,
        started: r["started"].clone(),
        finished: r["finished"].clone(),
        dry_run: r["dry_run"].clone(),
        totals: r["totals"].clone(),
        versions_created: r["versions_created"].as_array().map_or(0, Vec::len),
    }
}

async fn one(
    State(app): State<App>,
    _caller: Caller,
    UrlPath(id): UrlPath<String>,
) -> Result<Json<Value>> {
    blocking(move || {
        let dir = reports_dir(&app)?;
        let path = report_files(&dir)?
            .into_iter()
            .find(|(found, _)| *found == id)
            .map(|(_, p)| p)
            .ok_or_else(|| {
                ServerError::Store(shotline_store::StoreError::NotFound {
                    kind: "ingest report",
                    name: id.clone(),
                })
            })?;
        Ok(Json(json!({"id": id, "report": read_report(&path)?})))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_json_reports_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        assert!(report_files(&dir.path().join("none")).unwrap().is_empty());
        for n in ["20260101T000000_a.json", "20260102T000000_b.json", "x.html"] {
            std::fs::write(dir.path().join(n), "{}").unwrap();
        }
        let ids: Vec<String> = report_files(dir.path())
            .unwrap()
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        assert_eq!(ids, ["20260102T000000_b", "20260101T000000_a"]);
    }
}
