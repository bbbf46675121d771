//! The store's one error type. Messages name the file, the entity and the value, so a user can
//! act on them without reading code.

use std::path::PathBuf;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite refused or failed (locked past the busy timeout, disk full, constraint, ...).
    #[error("database {path}: {source}")]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// PostgreSQL refused or failed (server down, authentication, constraint, lock timeout).
    /// `target` is the connection URL without any password.
    #[error("database {target}: {}", crate::sql::describe_pg(source))]
    Postgres {
        /// `postgres://user@host:port/db`.
        target: String,
        /// The driver's error.
        source: Box<postgres::Error>,
    },
    /// A value read from the database was not what the store expects (a NULL for a number,
    /// a negative version number): the database was edited by hand or is damaged.
    #[error("database {path}: {message}")]
    Sql {
        /// The database (file or URL).
        path: PathBuf,
        /// What was wrong.
        message: String,
    },
    /// A database location that cannot be used (a PostgreSQL URL with a password in it, an
    /// unknown scheme, a feature this backend does not have).
    #[error("{what}: {message}")]
    Target {
        /// The setting or value (never a password).
        what: String,
        /// What is wrong and what to do.
        message: String,
    },
    /// A file next to the database (parent folder, backup, manifest) could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The database was written by a newer shotline; opening it could silently lose data.
    #[error(
        "database {path} has schema version {found}, newer than this shotline understands ({supported}); upgrade shotline"
    )]
    NewerSchema {
        /// The database file.
        path: PathBuf,
        /// Version found in the file.
        found: i64,
        /// Newest version this build knows.
        supported: i64,
    },
    /// The database exists but `shotline init` was never run on it.
    #[error("database {0} holds no project; run `shotline init` first")]
    NoProject(PathBuf),
    /// A named thing (shot, asset, step, version, user) does not exist.
    #[error("{kind} {name:?} not found")]
    NotFound {
        /// What kind of thing was looked up.
        kind: &'static str,
        /// The name or id given.
        name: String,
    },
    /// Creating something that already exists (a shot code, a project).
    #[error("{kind} {name:?} already exists")]
    Exists {
        /// What kind of thing.
        kind: &'static str,
        /// Its name.
        name: String,
    },
    /// A value given by the user is not acceptable (a bad code, an inverted frame range, ...).
    #[error("invalid {what} {value:?}: expected {expected}")]
    Invalid {
        /// Which field or argument.
        what: &'static str,
        /// The value given.
        value: String,
        /// What would have been accepted.
        expected: String,
    },
    /// A CSV file could not be read as shots.
    #[error("{path}:{line}:{column}: {message}")]
    Csv {
        /// The CSV file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column (field number).
        column: usize,
        /// What was wrong and what was expected.
        message: String,
    },
    /// The acting user's role does not allow the action.
    #[error("{user} is {role}; {action} needs {needed} or above")]
    Forbidden {
        /// The acting user.
        user: String,
        /// Their role.
        role: String,
        /// What they tried.
        action: String,
        /// The lowest role allowed.
        needed: String,
    },
    /// An optimistic status change found the task in another state than the caller saw:
    /// someone changed it meanwhile. Nothing was written.
    #[error(transparent)]
    StatusChanged(Box<StatusConflict>),
    /// A lock is held by someone else.
    #[error("{what} is locked by {owner} until {expires}")]
    Locked {
        /// The locked resource.
        what: String,
        /// user@host:pid of the holder.
        owner: String,
        /// When the lock expires unless renewed (RFC 3339).
        expires: String,
    },
    /// An atomic file write (manifest, backup) failed or would have overwritten a file; the
    /// message names the file.
    #[error(transparent)]
    File(#[from] shotline_fsio::FsioError),
    /// A version was registered with an explicit number that its item × step × resource
    /// already uses; nothing in the batch was written.
    #[error("version {item} {step} resource {resource:?} number {number} already exists in the tracking database; version numbers are never reused")]
    VersionExists {
        /// Shot or asset code.
        item: String,
        /// Step code.
        step: String,
        /// Resource (`""` = main).
        resource: String,
        /// The number asked for.
        number: i64,
    },
    /// The version was committed but its manifest could not be written beside the files.
    #[error("{version} (id {id}) was recorded, but its manifest could not be written: {source}")]
    Manifest {
        /// `SH010 COMP v003`.
        version: String,
        /// Version id.
        id: i64,
        /// Why the write failed.
        source: Box<StoreError>,
    },
    /// A backup to restore failed its integrity check, or the live database did.
    #[error("{path} failed its integrity check: {detail}")]
    Corrupt {
        /// The file checked.
        path: PathBuf,
        /// SQLite's first complaint.
        detail: String,
    },
}

/// Result alias used across the crate.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Attaches the database path to SQLite errors (`?` alone would lose it).
pub(crate) trait SqlContext<T> {
    /// Maps a rusqlite error into [`StoreError::Sqlite`] naming `path`.
    fn db(self, path: &std::path::Path) -> Result<T>;
}

impl<T> SqlContext<T> for std::result::Result<T, rusqlite::Error> {
    fn db(self, path: &std::path::Path) -> Result<T> {
        self.map_err(|source| StoreError::Sqlite {
            path: path.to_path_buf(),
            source,
        })
    }
}

impl<T> SqlContext<T> for std::result::Result<T, crate::sql::SqlError> {
    fn db(self, path: &std::path::Path) -> Result<T> {
        self.map_err(|e| from_sql(e, path))
    }
}

/// Turns a seam error into the store's: SQLite's stay [`StoreError::Sqlite`] (callers match on
/// its codes), PostgreSQL's name the URL the store was opened with.
pub(crate) fn from_sql(e: crate::sql::SqlError, path: &std::path::Path) -> StoreError {
    use crate::sql::SqlError;
    match e {
        SqlError::Sqlite(source) => StoreError::Sqlite {
            path: path.to_path_buf(),
            source,
        },
        SqlError::NoRows => StoreError::Sqlite {
            path: path.to_path_buf(),
            source: rusqlite::Error::QueryReturnedNoRows,
        },
        SqlError::Postgres(source) => StoreError::Postgres {
            target: path.display().to_string(),
            source: Box::new(source),
        },
        e @ (SqlError::Type { .. } | SqlError::Closed) => StoreError::Sql {
            path: path.to_path_buf(),
            message: e.to_string(),
        },
    }
}

/// Attaches a path to I/O errors.
pub(crate) trait IoContext<T> {
    /// Maps an I/O error into [`StoreError::Io`] naming `path`.
    fn io(self, path: &std::path::Path) -> Result<T>;
}

impl<T> IoContext<T> for std::result::Result<T, std::io::Error> {
    fn io(self, path: &std::path::Path) -> Result<T> {
        self.map_err(|source| StoreError::Io {
            path: path.to_path_buf(),
            source,
        })
    }
}

/// What an optimistic status change found instead of the state it expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{item} {step} is {found} (set by {by} at {at}), not {expected} as expected; nothing was changed: look at the new state and try again")]
pub struct StatusConflict {
    /// Shot or asset code.
    pub item: String,
    /// Step code.
    pub step: String,
    /// The state the caller expected.
    pub expected: String,
    /// The state the task is in.
    pub found: String,
    /// Who set it (`-` when the task never had a status row).
    pub by: String,
    /// When (RFC 3339; `-` when never set).
    pub at: String,
}
