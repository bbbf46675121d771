//! Python bindings: `import shotline` runs the same engine as the CLI.
//!
//! Each submodule wraps one library crate and adds no behaviour of its own: errors keep the
//! crates' messages (which name the value and what was expected), JSON-shaped results are the
//! CLI's documented schemas, and the GIL is released around I/O and parallel work so a DCC's UI
//! thread and other Python threads keep running. The Python package (`python/shotline`) only
//! re-exports this module and carries the type stubs.

mod config;
mod frames;
mod probe;
mod project;
mod render;
mod sequences;

use pyo3::prelude::*;

pyo3::create_exception!(
    shotline,
    ShotlineError,
    pyo3::exceptions::PyException,
    "A tracking or render-queue operation was refused; the message is the CLI's."
);

/// The compiled core of the `shotline` package.
#[pymodule]
fn _shotline(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("ShotlineError", py.get_type::<ShotlineError>())?;
    m.add_class::<frames::PyFrameSet>()?;
    m.add_class::<sequences::PySequence>()?;
    m.add_class::<sequences::PyFileSequence>()?;
    m.add_class::<project::PyProject>()?;
    m.add_function(wrap_pyfunction!(sequences::find_sequences, m)?)?;
    m.add_function(wrap_pyfunction!(sequences::find_sequence, m)?)?;
    m.add_function(wrap_pyfunction!(probe::probe, m)?)?;
    m.add_submodule(&render::module(py)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
