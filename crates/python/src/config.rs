//! The project configuration a call runs under, found the way the CLI finds it: `shotline.yaml`
//! from the directory given (or `SHOTLINE_CONFIG`) upwards.

use std::path::{Path, PathBuf};

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use shotline_media::ProbeOptions;

/// What the bindings need from the configuration.
pub struct Settings {
    /// The loaded configuration.
    pub loaded: shotline_config::Loaded,
    /// The project root (the config file's directory, or where the search started).
    pub root: PathBuf,
    /// Probe options (ffprobe path and timeout).
    pub probe: ProbeOptions,
    /// The project frame rate, for sequences without one in their headers.
    pub fps: f64,
}

impl Settings {
    /// Loads the configuration that governs `near` (a file, directory or pattern): discovery
    /// starts at its nearest existing directory. A malformed config raises ValueError naming the
    /// file, line and column.
    pub fn load(py: Python<'_>, near: &Path) -> PyResult<Settings> {
        let start = search_start(near);
        let env = std::env::var_os("SHOTLINE_CONFIG").map(PathBuf::from);
        let loaded = py
            .detach(|| shotline_config::load(None, env.as_deref(), &start))
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        let root = loaded.base_dir(&start);
        let probe = ProbeOptions::from_config(&loaded.config.probe, &root);
        let fps = loaded.config.project.fps;
        Ok(Settings {
            loaded,
            root,
            probe,
            fps,
        })
    }
}

/// The nearest existing directory at or above `near` (made absolute), or the current directory.
fn search_start(near: &Path) -> PathBuf {
    let cwd = std::env::current_dir().unwrap_or_default();
    let abs = cwd.join(near);
    abs.ancestors()
        .find(|p| p.is_dir())
        .map(Path::to_path_buf)
        .unwrap_or(cwd)
}
