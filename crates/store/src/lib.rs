//! shotline-store: the tracking database of a project, in one SQLite file.
//!
//! What exists (shots, assets, steps), which version is latest, who did what. Studio tools kept
//! this in JSON files or in SQLite without transactions and lost data; here every multi-row change
//! is one transaction, integrity lives in the schema (UNIQUE, foreign keys, CHECK), the schema
//! carries a version number, and every change leaves an append-only audit event.
//!
//! Other crates share the database through [`open_conn`] (the render queue keeps its own
//! `render_*` tables there, their schema in [`schema_render`]) and register versions through
//! [`Store::register_versions`] or the [`Tracker`] trait.

#![warn(missing_docs)]

mod actor;
mod allocate;
mod audit;
mod bulk;
mod catalog;
mod csv;
mod db;
mod error;
mod frames;
mod hooks;
mod locks;
mod maintenance;
mod migrate_to;
mod model;
mod prefetch;
mod publish;
mod ramses;
pub mod schema;
pub mod schema_render;
mod shots;
pub mod sql;
mod status;
mod store;
pub mod target;
mod time;
mod tracker;
mod validate;
mod versions;

pub use actor::{hostname, Actor, USER_ENV};
pub use allocate::{
    allocate_on_disk, highest_on_disk, Allocation, DiskAllocation, Reservation, VersionFolders,
    VersionKey, VersionLayout, MAX_SKIPS,
};
pub use csv::{parse_shots_csv, SHOT_COLUMNS};
pub use db::{
    connect, connect_with_timeout, default_db_path, open_conn, OpenMode, DB_ENV,
    DEFAULT_BUSY_TIMEOUT_MS,
};
pub use error::{Result, StatusConflict, StoreError};
pub use frames::MAX_FRAME_ABS;
pub use hooks::{PAUSE_ENV, PAUSE_FILE_ENV};
pub use maintenance::{migrate_file, CheckReport, RepairReport, RestoreReport, TempFile};
pub use migrate_to::{migrate_to_postgres, MigrateToReport, TableCopy};
pub use model::*;
pub use publish::{manifest_path, Manifest, ManifestNames, MANIFEST_VERSION};
/// Re-exported so users of [`connect`] need no rusqlite dependency of their own (and the same
/// version is guaranteed).
pub use ramses::{OutboxEntry, OutboxKind, OutboxOutcome, RamsesObjectRow};
pub use rusqlite;
pub use schema::SCHEMA_VERSION;
/// Re-exported: the version-number type every store API speaks.
pub use shotline_layout::VersionNumber;
pub use shots::ShotWrite;
pub use store::Store;
pub use time::{now, parse_since};
pub use tracker::Tracker;
pub use versions::{version_name, RatingSummary};

/// Test support for every crate's tests: a fresh PostgreSQL database per test on the server
/// `SHOTLINE_TEST_PG` names (feature `test-support`; never in a release build).
#[cfg(any(test, feature = "test-support"))]
pub mod testdb;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_allocate;
#[cfg(test)]
mod tests_library;
