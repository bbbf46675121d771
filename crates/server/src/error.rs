//! The server's errors and how each becomes an HTTP status with a JSON body.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use shotline_store::sql::SqlError;
use shotline_store::StoreError;

/// Errors of the server library: setting up, the credential tables, and requests.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The tracking store refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The render queue refused or failed.
    #[error(transparent)]
    Render(#[from] shotline_render::RenderError),
    /// The server's own queries (credentials, the grid's joins) failed, on either backend.
    #[error("database {path}: {what}: {source}")]
    Db {
        /// The database file or PostgreSQL URL (a URL never holds a password).
        path: String,
        /// What was being done.
        what: &'static str,
        /// The backend's error.
        source: SqlError,
    },
    /// A bad value in a request or an argument.
    #[error("invalid {what} {value:?}: expected {expected}")]
    Invalid {
        /// What was wrong.
        what: &'static str,
        /// The value given.
        value: String,
        /// What would have been accepted.
        expected: String,
    },
    /// No (valid) credentials.
    #[error("not logged in: {0}")]
    Unauthorized(String),
    /// Logged in, but the request is refused (CSRF, rate limit handled separately).
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The thing asked for does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The request cannot be done in the thing's current state or from here.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Too many failed logins.
    #[error("too many failed logins for {0}; wait a minute and try again")]
    RateLimited(String),
    /// The address could not be bound or the server failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A hashing failure (argon2).
    #[error("password hashing failed: {0}")]
    Hash(String),
    /// A part of the server cannot work on this database (the render queue on a backend it
    /// does not support yet): 503, the rest of the server works.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// A blocking task died.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Shorthand.
pub type Result<T, E = ServerError> = std::result::Result<T, E>;

impl ServerError {
    fn status(&self) -> StatusCode {
        match self {
            ServerError::Store(e) => match e {
                StoreError::Forbidden { .. } => StatusCode::FORBIDDEN,
                StoreError::NotFound { .. } => StatusCode::NOT_FOUND,
                StoreError::Invalid { .. } | StoreError::Exists { .. } => StatusCode::BAD_REQUEST,
                StoreError::StatusChanged(_) => StatusCode::CONFLICT,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            },
            ServerError::Render(shotline_render::RenderError::NoSuchJob(_)) => {
                StatusCode::NOT_FOUND
            }
            ServerError::Invalid { .. } => StatusCode::BAD_REQUEST,
            ServerError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ServerError::Forbidden(_) => StatusCode::FORBIDDEN,
            ServerError::NotFound(_) => StatusCode::NOT_FOUND,
            ServerError::Conflict(_) => StatusCode::CONFLICT,
            ServerError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            ServerError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ServerError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = axum::Json(serde_json::json!({
            "error": {"status": status.as_u16(), "message": self.to_string()}
        }));
        (status, body).into_response()
    }
}

/// Adds the database (file or URL) and the step to a backend error.
pub(crate) trait SqlContext<T> {
    fn sql(self, path: &std::path::Path, what: &'static str) -> Result<T>;
}

impl<T> SqlContext<T> for std::result::Result<T, SqlError> {
    fn sql(self, path: &std::path::Path, what: &'static str) -> Result<T> {
        self.map_err(|source| ServerError::Db {
            path: path.display().to_string(),
            what,
            source,
        })
    }
}
