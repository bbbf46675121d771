//! `shotline.Project`: the tracking database of a project (`shotline-store`), with the CLI's
//! role rules and error messages. Results are dicts in the JSON schema of `docs/tracking.md`.

use std::path::PathBuf;

use pyo3::prelude::*;
use serde::Serialize;
use shotline_store::{
    Actor, EventQuery, ItemKind, ItemRef, State, StatusChange, Store, StoreError, VersionQuery,
};

use shotline_ramses::mirror::{Mirror, MirrorOutcome};

use crate::config::Settings;
use crate::ShotlineError;

/// A store error as `shotline.ShotlineError`, keeping the store's message.
fn store_err(e: StoreError) -> PyErr {
    ShotlineError::new_err(e.to_string())
}

/// A serialisable value as Python objects, through the documented JSON.
pub fn to_py(py: Python<'_>, value: &impl Serialize) -> PyResult<Py<PyAny>> {
    let text = serde_json::to_string(value)
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
    Ok(py
        .import("json")?
        .getattr("loads")?
        .call1((text,))?
        .unbind())
}

/// `shot:CODE` / `asset:CODE`, or a bare code meaning a shot, as the CLI's `--shot`/`--asset`.
fn item_ref(item: &str) -> ItemRef {
    match item.split_once(':') {
        Some(("asset", code)) => ItemRef::asset(code),
        Some(("shot", code)) => ItemRef::shot(code),
        _ => ItemRef::shot(item),
    }
}

/// A project's tracking database, opened the way the CLI opens it (`shotline.yaml` from `path`
/// upwards; `store.path` or the default database beside it).
#[pyclass(name = "Project", module = "shotline", unsendable)]
pub struct PyProject {
    store: Store,
    root: PathBuf,
    user: Option<String>,
    /// The Ramses mirror when `ramses.sync: true`: the same hook the CLI calls.
    mirror: Option<Mirror>,
}

impl PyProject {
    fn actor(&self) -> Actor {
        match &self.user {
            Some(u) => Actor::named(u),
            None => Actor::from_env(),
        }
    }
}

#[pymethods]
impl PyProject {
    /// Opens the project at (or above) `path`. `user` acts as that user (default:
    /// `$SHOTLINE_USER`, else the login), under the same role rules as the CLI.
    #[new]
    #[pyo3(signature = (path = PathBuf::from("."), user = None))]
    fn new(py: Python<'_>, path: PathBuf, user: Option<String>) -> PyResult<PyProject> {
        let s = Settings::load(py, &path)?;
        let db = shotline_store::default_db_path(&s.root, &s.loaded.config.store);
        let timeout = s.loaded.config.store.busy_timeout_ms;
        let store = py.detach(|| Store::open(&db, timeout)).map_err(store_err)?;
        Ok(PyProject {
            store,
            mirror: Mirror::from_config(&s.loaded.config.ramses),
            root: s.root,
            user,
        })
    }

    /// The project root directory, as a `str` like every path this module returns.
    #[getter]
    fn root(&self) -> std::ffi::OsString {
        self.root.clone().into_os_string()
    }

    /// The project record (code, name, fps, resolution …).
    fn info(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_py(py, self.store.project())
    }

    /// Shots, optionally of one editorial sequence.
    #[pyo3(signature = (sequence = None))]
    fn shots(&self, py: Python<'_>, sequence: Option<&str>) -> PyResult<Py<PyAny>> {
        to_py(py, &self.store.shots(sequence).map_err(store_err)?)
    }

    /// Assets, optionally of one group.
    #[pyo3(signature = (group = None))]
    fn assets(&self, py: Python<'_>, group: Option<&str>) -> PyResult<Py<PyAny>> {
        to_py(py, &self.store.assets(group).map_err(store_err)?)
    }

    /// Steps, optionally of one kind (`shot` or `asset`).
    #[pyo3(signature = (kind = None))]
    fn steps(&self, py: Python<'_>, kind: Option<&str>) -> PyResult<Py<PyAny>> {
        let kind = kind
            .map(str::parse::<ItemKind>)
            .transpose()
            .map_err(store_err)?;
        to_py(py, &self.store.steps(kind).map_err(store_err)?)
    }

    /// Versions, newest first: `item` is `"sh010"`, `"shot:sh010"` or `"asset:hero"`.
    #[pyo3(signature = (item = None, step = None, resource = None, latest = false, limit = None))]
    fn versions(
        &self,
        py: Python<'_>,
        item: Option<&str>,
        step: Option<String>,
        resource: Option<String>,
        latest: bool,
        limit: Option<u64>,
    ) -> PyResult<Py<PyAny>> {
        let item = item.map(item_ref);
        let q = VersionQuery {
            kind: item.as_ref().map(|i| i.kind),
            item: item.map(|i| i.code),
            step,
            resource,
            latest,
            limit,
        };
        to_py(py, &self.store.versions(&q).map_err(store_err)?)
    }

    /// One version by id.
    fn version(&self, py: Python<'_>, id: i64) -> PyResult<Py<PyAny>> {
        to_py(py, &self.store.version(id).map_err(store_err)?)
    }

    /// Task statuses, optionally of one item.
    #[pyo3(signature = (item = None))]
    fn statuses(&self, py: Python<'_>, item: Option<&str>) -> PyResult<Py<PyAny>> {
        to_py(py, &self.store.statuses(item).map_err(store_err)?)
    }

    /// Changes a task status (state, assignee, completion) under the approval rules: a user
    /// whose role may not decide gets ShotlineError with the CLI's message.
    #[pyo3(signature = (item, step, state = None, assignee = None, completion = None, comment = String::new(), if_state = None))]
    #[allow(clippy::too_many_arguments)]
    fn status(
        &mut self,
        py: Python<'_>,
        item: &str,
        step: String,
        state: Option<&str>,
        assignee: Option<String>,
        completion: Option<i64>,
        comment: String,
        if_state: Option<&str>,
    ) -> PyResult<Py<PyAny>> {
        let parse_state =
            |s: Option<&str>| s.map(str::parse::<State>).transpose().map_err(store_err);
        let change = StatusChange {
            item: item_ref(item),
            step,
            state: parse_state(state)?,
            assignee,
            completion,
            comment,
            if_state: parse_state(if_state)?,
        };
        let actor = self.actor();
        let store = &mut self.store;
        let mirror = self.mirror.as_ref();
        let (status, mirrored) = py
            .detach(|| {
                let status = store.set_status(&actor, &change)?;
                let mirrored = mirror.map(|m| m.push_status(store, &status, &change.comment));
                Ok::<_, StoreError>((status, mirrored))
            })
            .map_err(store_err)?;
        warn_if_incomplete(py, mirrored.as_ref())?;
        to_py(py, &status)
    }

    /// The audit trail, newest kept when `limit` is given.
    #[pyo3(signature = (since = None, entity = None, user = None, action = None, limit = None))]
    fn events(
        &self,
        py: Python<'_>,
        since: Option<String>,
        entity: Option<String>,
        user: Option<String>,
        action: Option<String>,
        limit: Option<u64>,
    ) -> PyResult<Py<PyAny>> {
        let q = EventQuery {
            since,
            entity,
            user,
            action,
            limit,
        };
        to_py(py, &self.store.events(&q).map_err(store_err)?)
    }

    /// Publishes frames as the next version of `item`'s `step`, as `shotline publish` does:
    /// the frames (`pattern` such as `/show/sh010/comp/comp.%04d.exr`) are verified first (a
    /// shot's against its cut); with errors nothing is recorded unless `force=True`. Returns the
    /// CLI's `publish --json` document: `{"published", "version", "verification"}`.
    #[pyo3(signature = (item, step, pattern, resource = String::new(), state = "WIP", comment = String::new(), uses = Vec::new(), tags = Vec::new(), force = false))]
    #[allow(clippy::too_many_arguments)]
    fn publish(
        &mut self,
        py: Python<'_>,
        item: &str,
        step: String,
        pattern: PathBuf,
        resource: String,
        state: &str,
        comment: String,
        uses: Vec<i64>,
        tags: Vec<String>,
        force: bool,
    ) -> PyResult<Py<PyAny>> {
        let cwd = std::env::current_dir().unwrap_or_default();
        let req = PublishRequest {
            item: item_ref(item),
            step,
            pattern: cwd.join(pattern),
            resource,
            state: state.parse::<State>().map_err(store_err)?,
            comment,
            uses,
            tags,
            force,
        };
        let (published, version, report) = py
            .detach(|| self.publish_checked(req))
            .map_err(ShotlineError::new_err)?;
        if let (Some(m), Some(v)) = (self.mirror.as_ref(), version.as_ref()) {
            let store = &mut self.store;
            let outcome = py.detach(|| m.push_versions(store, std::slice::from_ref(v)));
            warn_if_incomplete(py, Some(&outcome))?;
        }
        to_py(
            py,
            &PublishReport {
                published,
                version: version.as_ref(),
                verification: &report,
            },
        )
    }
}

/// A mirror push that left changes in the outbox (daemon down, slow, refusing) is a Python
/// `UserWarning`, as the CLI warns: the local change stands either way.
fn warn_if_incomplete(py: Python<'_>, outcome: Option<&MirrorOutcome>) -> PyResult<()> {
    match outcome {
        Some(o) if o.is_incomplete() => {
            let category = py.get_type::<pyo3::exceptions::PyUserWarning>();
            let message =
                std::ffi::CString::new(o.message().replace('\0', " ")).unwrap_or_default();
            PyErr::warn(py, &category, &message, 1)
        }
        _ => Ok(()),
    }
}

/// What `publish` returns: the CLI's `publish --json` document.
#[derive(Serialize)]
struct PublishReport<'a> {
    published: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<&'a shotline_store::Version>,
    verification: &'a shotline_qc::SequenceReport,
}

/// The arguments of one publish, as the CLI's flags give them.
struct PublishRequest {
    item: ItemRef,
    step: String,
    pattern: PathBuf,
    resource: String,
    state: State,
    comment: String,
    uses: Vec<i64>,
    tags: Vec<String>,
    force: bool,
}

impl PyProject {
    /// Verifies the frames (against the shot's cut when publishing a shot), then registers the
    /// next version with its manifest: the steps of `shotline publish`.
    fn publish_checked(
        &mut self,
        req: PublishRequest,
    ) -> Result<
        (
            bool,
            Option<shotline_store::Version>,
            shotline_qc::SequenceReport,
        ),
        String,
    > {
        let (expected, fps) = match req.item.kind {
            ItemKind::Shot => {
                let s = self.store.shot(&req.item.code).map_err(|e| e.to_string())?;
                let span =
                    shotline_qc::frame_span(s.frame_in, s.frame_out).map_err(|e| e.to_string())?;
                (Some(span), s.fps)
            }
            ItemKind::Asset => (None, None),
        };
        let opts = shotline_qc::VerifyOptions {
            expected_fps: Some(fps.unwrap_or(self.store.project().fps)),
            ..shotline_qc::VerifyOptions::default()
        };
        let report = shotline_qc::verify_sequence_with(&req.pattern, expected.as_ref(), &opts)
            .map_err(|e| format!("cannot verify {}: {e}", req.pattern.display()))?;
        if !report.is_ok() && !req.force {
            return Ok((false, None, report));
        }
        if report.count == 0 {
            return Err(format!(
                "no frames match {}; nothing to publish",
                req.pattern.display()
            ));
        }
        let files = shotline_qc::measure_files(&req.pattern, &report).map_err(|e| e.to_string())?;
        let new = shotline_store::NewVersion {
            item: req.item,
            step: req.step,
            resource: req.resource,
            number: None,
            state: req.state,
            files,
            comment: req.comment,
            source: "publish".into(),
            uses: req.uses,
            tags: req.tags,
        };
        let v = self
            .store
            .publish(&self.actor(), new)
            .map_err(|e| e.to_string())?;
        Ok((true, Some(v), report))
    }
}
