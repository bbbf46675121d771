//! The one error type of the render crate. Messages name the file, line/column, value and what
//! was expected, so the binary can print them as they are.

use std::path::PathBuf;

/// Why a render operation could not be done.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// A job spec is malformed (syntax, unknown key, wrong type); the message has line/column.
    #[error("invalid job spec {path}: {message}")]
    Spec {
        /// The spec file (or `<flags>` for command-line jobs).
        path: PathBuf,
        /// What is wrong and where.
        message: String,
    },
    /// A value is well-formed but not usable (unknown placeholder, bad frame range, …).
    #[error("{0}")]
    Invalid(String),
    /// No job with that id or name.
    #[error("no render job {0:?} (see `shotline render ls --all`)")]
    NoSuchJob(String),
    /// A file or process operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done, naming the path.
        context: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// An atomic file write (job spec, scene snapshot) failed; the message names the file.
    #[error(transparent)]
    File(#[from] shotline_fsio::FsioError),
    /// The queue database failed.
    #[error("render queue database {context}: {source}")]
    Db {
        /// What was being done.
        context: String,
        /// The database's error (SQLite or PostgreSQL).
        source: shotline_store::sql::SqlError,
    },
    /// Another worker already runs this queue on this host.
    #[error("{0}")]
    Busy(String),
}

impl RenderError {
    /// An I/O error with the operation and path it happened on.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        RenderError::Io {
            context: context.into(),
            source,
        }
    }
}

/// Shorthand for database calls: `.db("reading jobs")?`.
pub(crate) trait DbContext<T> {
    fn db(self, context: &str) -> Result<T, RenderError>;
}

impl<T> DbContext<T> for Result<T, shotline_store::sql::SqlError> {
    fn db(self, context: &str) -> Result<T, RenderError> {
        self.map_err(|source| RenderError::Db {
            context: context.to_string(),
            source,
        })
    }
}

/// The crate's result type.
pub type Result<T, E = RenderError> = std::result::Result<T, E>;
