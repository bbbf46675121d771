//! `shotline.render`: submitting to and reading the local render queue (`shotline-render`),
//! the library entry point `shotline render submit` and `render ls` use.

use std::path::PathBuf;

use pyo3::prelude::*;
use shotline_render::{JobSpec, Queue, RenderError, ResolvedJob};

use crate::config::Settings;
use crate::project::to_py;
use crate::ShotlineError;

fn render_err(e: RenderError) -> PyErr {
    ShotlineError::new_err(e.to_string())
}

/// The queue of the project at (or above) `project`, and the settings it was opened with.
fn open(py: Python<'_>, project: &std::path::Path) -> PyResult<(Queue, Settings)> {
    let s = Settings::load(py, project)?;
    let cfg = &s.loaded.config;
    let db = shotline_store::default_db_path(&s.root, &cfg.store);
    let dir = shotline_render::default_render_dir(&s.root, &db, &cfg.render);
    let timeout = cfg.store.busy_timeout_ms;
    let queue = py
        .detach(|| Queue::open(&db, &dir, timeout))
        .map_err(render_err)?;
    Ok((queue, s))
}

/// Submits a job and returns its id. `spec` is a dict with the fields of a job file
/// (`docs/render.md`: `preset`, `scene`, `frames`, `chunk`, `output`, `command`, `shot`,
/// `step`, `review`, …); relative paths in it are resolved against `project`'s root, and a
/// `shot`/`step` without `output` renders where the project layout says. Unknown or malformed
/// fields raise ValueError naming the field.
#[pyfunction]
#[pyo3(signature = (spec, project = PathBuf::from(".")))]
pub fn submit(py: Python<'_>, spec: &Bound<'_, PyAny>, project: PathBuf) -> PyResult<i64> {
    let text: String = py
        .import("json")?
        .getattr("dumps")?
        .call1((spec,))?
        .extract()?;
    let spec: JobSpec = serde_json::from_str(&text)
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(format!("render job spec: {e}")))?;
    let (mut queue, s) = open(py, &project)?;
    let cfg = &s.loaded.config;
    let layout = shotline_qc::layout::Layout::from_config(&cfg.layout, &cfg.project.code, &s.root)
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
    py.detach(|| {
        let job = ResolvedJob::resolve_with(&spec, &s.root, &cfg.render, Some(&layout.model))?;
        queue.submit(&job)
    })
    .map_err(render_err)
}

/// One job's summary (state, frames done, progress …) as `render ls --json` prints it.
#[pyfunction]
#[pyo3(signature = (job, project = PathBuf::from(".")))]
pub fn status(py: Python<'_>, job: i64, project: PathBuf) -> PyResult<Py<PyAny>> {
    let (queue, _) = open(py, &project)?;
    let summary = py.detach(move || queue.summary(job)).map_err(render_err)?;
    to_py(py, &summary)
}

/// Every job (`all=False`: the unfinished ones), as `render ls --json`.
#[pyfunction]
#[pyo3(signature = (project = PathBuf::from("."), all = false))]
pub fn jobs(py: Python<'_>, project: PathBuf, all: bool) -> PyResult<Py<PyAny>> {
    let (queue, _) = open(py, &project)?;
    let list = py.detach(move || queue.list(all)).map_err(render_err)?;
    to_py(py, &list)
}

/// The `shotline.render` submodule.
pub fn module(py: Python<'_>) -> PyResult<Bound<'_, PyModule>> {
    let m = PyModule::new(py, "render")?;
    m.add_function(wrap_pyfunction!(submit, &m)?)?;
    m.add_function(wrap_pyfunction!(status, &m)?)?;
    m.add_function(wrap_pyfunction!(jobs, &m)?)?;
    Ok(m)
}
