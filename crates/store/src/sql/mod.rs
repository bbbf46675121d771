//! The backend seam: one small connection type over SQLite (embedded, the default) and
//! PostgreSQL (a studio's shared server), so every store module writes its SQL once.
//!
//! Why a seam of our own and not a generic driver layer: the store needs exactly what is here
//! (execute, query, one row, a script, a write transaction) and its guarantees differ per
//! backend only in how a write transaction serialises writers, which must stay visible in one
//! place ([`Conn::write_tx`]).
//!
//! The rules the SQL follows:
//! - Placeholders are `?1`, `?2`, …; for PostgreSQL they are rewritten to `$1`, `$2`, … (outside
//!   string literals and quoted names), see [`pg::rewrite_placeholders`].
//! - New ids come from `INSERT … RETURNING id` (both backends), never `last_insert_rowid`.
//! - The column `user` is written `"user"` (a reserved word in PostgreSQL).
//! - Where the dialects really differ (JSON arrays as a parameter, DDL, triggers, PRAGMAs) the
//!   caller asks [`Conn::backend`] and writes both forms side by side.
//!
//! Values cross the seam as the owned [`Value`]; rows come back owned ([`Row`]) with typed
//! getters, so no driver type leaks into the modules.

mod pg;
mod sqlite;
mod value;

use std::cell::RefCell;

pub use pg::{rewrite_placeholders, PgClient};
pub use value::{FromValue, ToValue, Value};

/// PostgreSQL's error as a user reads it: the server's message and detail (never the
/// connection string, so never a password).
pub fn describe_pg(e: &postgres::Error) -> String {
    pg::describe(e)
}

/// A JSON array parameter as a table, one row per element, for `IN (SELECT …)` lookups that
/// replace one query per item (no N+1): elements that are arrays are read with `value ->> N`;
/// see [`json_scalars`] for arrays of scalars.
pub fn json_items(backend: Backend, param: &str) -> String {
    match backend {
        Backend::Sqlite => format!("json_each({param})"),
        Backend::Postgres => format!("json_array_elements(CAST({param} AS json)) AS j(value)"),
    }
}

/// A JSON array of scalars as a table with one text or integer column `value` (compare ids
/// through `CAST(value AS BIGINT)`, which both dialects read the same).
pub fn json_scalars(backend: Backend, param: &str) -> String {
    match backend {
        Backend::Sqlite => format!("json_each({param})"),
        Backend::Postgres => format!("json_array_elements_text(CAST({param} AS json)) AS j(value)"),
    }
}

/// Which database a connection talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An embedded SQLite file (the default).
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// Why a statement failed, before the store attaches the database it ran on.
#[derive(Debug, thiserror::Error)]
pub enum SqlError {
    /// SQLite's own error.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL's error (the server's message, or the connection's).
    #[error("{}", pg::describe(.0))]
    Postgres(#[from] postgres::Error),
    /// The connection was already handed back (a bug, reported rather than a panic).
    #[error("the database connection is closed")]
    Closed,
    /// A query expected to return one row returned none.
    #[error("query returned no rows")]
    NoRows,
    /// A column held a value the caller could not take (a NULL for a number, text for an id).
    #[error("column {column}: expected {expected}, found {found}")]
    Type {
        /// 0-based column index.
        column: usize,
        /// What the caller asked for.
        expected: &'static str,
        /// What the row held.
        found: String,
    },
}

impl SqlError {
    /// The kind of constraint the database refused the row for, if that is what happened.
    pub fn constraint(&self) -> Option<Constraint> {
        match self {
            SqlError::Sqlite(e) => sqlite::constraint(e),
            SqlError::Postgres(e) => pg::constraint(e),
            _ => None,
        }
    }
}

/// A constraint the database enforced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Constraint {
    /// UNIQUE or PRIMARY KEY.
    Unique,
    /// CHECK, NOT NULL, FOREIGN KEY or a trigger's refusal.
    Other,
}

/// Result of a statement.
pub type Result<T, E = SqlError> = std::result::Result<T, E>;

/// An owned result row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    values: Vec<Value>,
}

impl Row {
    /// Column `idx` as `T` (`Option<T>` for a nullable column).
    pub fn get<T: FromValue>(&self, idx: usize) -> Result<T> {
        let v = self.values.get(idx).unwrap_or(&Value::Null);
        T::from_value(v).map_err(|expected| SqlError::Type {
            column: idx,
            expected,
            found: v.describe(),
        })
    }

    /// The raw values, in column order (the generic table copy uses them).
    pub fn values(&self) -> &[Value] {
        &self.values
    }

    /// Takes the values out.
    pub fn into_values(self) -> Vec<Value> {
        self.values
    }
}

/// `.optional()` on a one-row query: no row is `None`, not an error (as rusqlite's
/// `OptionalExtension`, which the modules were written against).
pub trait OptionalExt<T> {
    /// `Ok(None)` for [`SqlError::NoRows`].
    fn optional(self) -> Result<Option<T>>;
}

impl<T> OptionalExt<T> for Result<T> {
    fn optional(self) -> Result<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(SqlError::NoRows) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Builds a parameter list: `params![a, b]` is `&[Value]`.
#[macro_export]
#[doc(hidden)]
macro_rules! __sql_params {
    () => { &[] as &[$crate::sql::Value] };
    ($($x:expr),+ $(,)?) => { &[$($crate::sql::ToValue::to_value(&$x)),+] as &[$crate::sql::Value] };
}
pub use crate::__sql_params as params;

/// An open connection to either backend.
pub enum Conn {
    /// SQLite.
    Sqlite(rusqlite::Connection),
    /// PostgreSQL (interior mutability: the driver wants `&mut` for every call, the store's
    /// modules share `&Conn` the way they shared a rusqlite connection).
    Postgres(Box<RefCell<PgClient>>),
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Conn({:?})", self.backend())
    }
}

impl Conn {
    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        match self {
            Conn::Sqlite(_) => Backend::Sqlite,
            Conn::Postgres(_) => Backend::Postgres,
        }
    }

    /// The SQLite connection, for the few operations that only exist there (online backup,
    /// PRAGMAs).
    pub fn as_sqlite(&self) -> Option<&rusqlite::Connection> {
        match self {
            Conn::Sqlite(c) => Some(c),
            Conn::Postgres(_) => None,
        }
    }

    /// The SQLite connection, mutable (the backup API writes into it).
    pub fn as_sqlite_mut(&mut self) -> Option<&mut rusqlite::Connection> {
        match self {
            Conn::Sqlite(c) => Some(c),
            Conn::Postgres(_) => None,
        }
    }

    /// Runs one statement; returns the rows changed.
    pub fn execute(&self, sql: &str, params: &[Value]) -> Result<usize> {
        match self {
            Conn::Sqlite(c) => sqlite::execute(c, sql, params),
            Conn::Postgres(c) => c.borrow_mut().execute(sql, params),
        }
    }

    /// Runs one query and returns every row.
    pub fn query(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        match self {
            Conn::Sqlite(c) => sqlite::query(c, sql, params),
            Conn::Postgres(c) => c.borrow_mut().query(sql, params),
        }
    }

    /// The first row, or `None`.
    pub fn query_opt(&self, sql: &str, params: &[Value]) -> Result<Option<Row>> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// The first row; [`SqlError::NoRows`] when there is none.
    pub fn query_one(&self, sql: &str, params: &[Value]) -> Result<Row> {
        self.query_opt(sql, params)?.ok_or(SqlError::NoRows)
    }

    /// The first row mapped by `f` (the shape of rusqlite's `query_row`).
    pub fn query_row<T>(
        &self,
        sql: &str,
        params: &[Value],
        f: impl FnOnce(&Row) -> Result<T>,
    ) -> Result<T> {
        f(&self.query_one(sql, params)?)
    }

    /// Every row mapped by `f`.
    pub fn query_map<T>(
        &self,
        sql: &str,
        params: &[Value],
        f: impl FnMut(&Row) -> Result<T>,
    ) -> Result<Vec<T>> {
        self.query(sql, params)?.iter().map(f).collect()
    }

    /// A statement to run (SQL is cached per connection by both backends; this only keeps the
    /// rusqlite-shaped `prepare(..)?.query_map(..)` the modules were written in).
    pub fn prepare<'c>(&'c self, sql: &str) -> Result<Stmt<'c>> {
        Ok(Stmt {
            conn: self,
            sql: sql.to_string(),
        })
    }

    /// Same as [`Conn::prepare`] (both backends cache every statement).
    pub fn prepare_cached<'c>(&'c self, sql: &str) -> Result<Stmt<'c>> {
        self.prepare(sql)
    }

    /// Same as [`Conn::batch`].
    pub fn execute_batch(&self, sql: &str) -> Result<()> {
        self.batch(sql)
    }

    /// Runs a script of several statements without parameters (DDL).
    pub fn batch(&self, sql: &str) -> Result<()> {
        match self {
            Conn::Sqlite(c) => c.execute_batch(sql).map_err(SqlError::from),
            Conn::Postgres(c) => c.borrow_mut().batch(sql),
        }
    }

    /// Starts the one write transaction of an operation, serialised against every other writer
    /// of the database so the reads that decide (next version number, current state) cannot go
    /// stale:
    /// - SQLite: `BEGIN IMMEDIATE` takes the file's write lock up front.
    /// - PostgreSQL: `BEGIN` (READ COMMITTED) then `pg_advisory_xact_lock` on the store's one
    ///   writer key; every statement after it sees everything committed before the lock was
    ///   granted, and the lock is released by COMMIT or ROLLBACK (or the session dying). This is
    ///   exactly SQLite's guarantee, on a server shared by many hosts.
    pub fn write_tx(&mut self) -> Result<Tx<'_>> {
        self.locked_tx(&[("SELECT pg_advisory_xact_lock(?1)", WRITER_LOCK_KEY)])
    }

    /// A write transaction for changes confined to some keys (a version key: item × step ×
    /// resource), so that writers of different keys on PostgreSQL do not wait for each other:
    /// - SQLite: `BEGIN IMMEDIATE`, as [`Conn::write_tx`] (one writer at a time is all a file
    ///   has).
    /// - PostgreSQL: `BEGIN`, the store's writer lock *shared*, then each key's advisory lock
    ///   exclusive, in ascending order so two writers can never wait on each other in a cycle.
    ///   A store-wide writer ([`Conn::write_tx`]: status, shots, deletes) still waits for every
    ///   keyed writer and excludes them all. More than [`MAX_KEYED_LOCKS`] keys take the
    ///   store-wide lock instead (advisory locks live in the server's shared lock table, sized
    ///   for tens of locks per transaction, not thousands).
    ///
    /// The caller must only write rows of its keys, or rows every writer may add concurrently
    /// (`ON CONFLICT` upserts, append-only events).
    pub fn write_tx_keyed(&mut self, keys: &[i64]) -> Result<Tx<'_>> {
        let mut keys: Vec<i64> = keys.to_vec();
        keys.sort_unstable();
        keys.dedup();
        if keys.len() > MAX_KEYED_LOCKS {
            return self.write_tx();
        }
        let mut locks = vec![("SELECT pg_advisory_xact_lock_shared(?1)", WRITER_LOCK_KEY)];
        locks.extend(
            keys.into_iter()
                .map(|k| ("SELECT pg_advisory_xact_lock(?1)", k)),
        );
        self.locked_tx(&locks)
    }

    /// `BEGIN` then each advisory lock in order (PostgreSQL), or `BEGIN IMMEDIATE` (SQLite); a
    /// lock that fails (lock_timeout, a dead connection) rolls the transaction back.
    fn locked_tx(&mut self, locks: &[(&str, i64)]) -> Result<Tx<'_>> {
        match self {
            Conn::Sqlite(c) => c.execute_batch("BEGIN IMMEDIATE")?,
            Conn::Postgres(c) => {
                let mut c = c.borrow_mut();
                c.batch("BEGIN")?;
                for (sql, key) in locks {
                    if let Err(e) = c.execute(sql, &[Value::Int(*key)]) {
                        let _ = c.batch("ROLLBACK");
                        return Err(e);
                    }
                }
            }
        }
        Ok(Tx {
            conn: self,
            done: false,
        })
    }

    /// A write transaction that does not take the store's writer lock, for tables whose
    /// writers coordinate by row locks (the render queue claims tasks with
    /// `FOR UPDATE SKIP LOCKED`): SQLite still takes the file's write lock up front
    /// (`BEGIN IMMEDIATE`, the only lock it has); PostgreSQL starts a plain READ COMMITTED
    /// transaction, so queue writers never wait for a publisher and the reverse.
    pub fn plain_tx(&mut self) -> Result<Tx<'_>> {
        match self {
            Conn::Sqlite(c) => c.execute_batch("BEGIN IMMEDIATE")?,
            Conn::Postgres(c) => c.borrow_mut().batch("BEGIN")?,
        }
        Ok(Tx {
            conn: self,
            done: false,
        })
    }

    /// A read transaction: one consistent snapshot for several queries (SQLite: a deferred
    /// transaction; PostgreSQL: REPEATABLE READ, read only).
    pub fn read_tx(&mut self) -> Result<Tx<'_>> {
        match self {
            Conn::Sqlite(c) => c.execute_batch("BEGIN")?,
            Conn::Postgres(c) => c
                .borrow_mut()
                .batch("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")?,
        }
        Ok(Tx {
            conn: self,
            done: false,
        })
    }
}

/// A statement bound to its connection.
pub struct Stmt<'c> {
    conn: &'c Conn,
    sql: String,
}

impl Stmt<'_> {
    /// Every row mapped by `f`, as an iterator of results (the shape of rusqlite's
    /// `query_map`, so `.collect::<Result<Vec<_>>>()` reads the same).
    pub fn query_map<T>(
        &mut self,
        params: &[Value],
        f: impl FnMut(&Row) -> Result<T>,
    ) -> Result<std::vec::IntoIter<Result<T>>> {
        let rows = self.conn.query(&self.sql, params)?;
        Ok(rows.iter().map(f).collect::<Vec<_>>().into_iter())
    }

    /// Runs it; returns the rows changed.
    pub fn execute(&mut self, params: &[Value]) -> Result<usize> {
        self.conn.execute(&self.sql, params)
    }

    /// The first row mapped by `f`.
    pub fn query_row<T>(
        &mut self,
        params: &[Value],
        f: impl FnOnce(&Row) -> Result<T>,
    ) -> Result<T> {
        self.conn.query_row(&self.sql, params, f)
    }
}

/// The advisory lock every PostgreSQL write transaction takes (any fixed 64-bit number; this
/// one spells "shotline" in ASCII so it is recognisable in `pg_locks`).
pub const WRITER_LOCK_KEY: i64 = 0x73_686f_746c_696e;

/// The most per-key locks one [`Conn::write_tx_keyed`] takes before it falls back to the
/// store-wide lock (PostgreSQL's default lock table holds 64 locks per connection on average).
pub const MAX_KEYED_LOCKS: usize = 16;

/// The advisory lock key of a version key (item kind, item code, step code, resource): FNV-1a
/// over the names, so every host and every build computes the same number (std's hasher is
/// not guaranteed stable). A collision only makes two keys wait for each other.
pub fn version_lock_key(kind: &str, item: &str, step: &str, resource: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in [kind, item, step, resource] {
        for b in part.bytes().chain(std::iter::once(0)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    let key = h as i64;
    if key == WRITER_LOCK_KEY {
        key ^ 1
    } else {
        key
    }
}

/// A transaction; rolled back when dropped without [`Tx::commit`]. Derefs to [`Conn`], so
/// helpers taking `&Conn` run inside it.
pub struct Tx<'a> {
    conn: &'a mut Conn,
    done: bool,
}

impl Tx<'_> {
    /// Commits.
    pub fn commit(mut self) -> Result<()> {
        self.done = true;
        self.conn.batch("COMMIT")
    }

    /// Rolls back now (dropping does the same).
    pub fn rollback(mut self) -> Result<()> {
        self.done = true;
        self.conn.batch("ROLLBACK")
    }
}

impl std::ops::Deref for Tx<'_> {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        self.conn
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if !self.done {
            // Nothing to report to: the operation already failed and is returning its own
            // error; a failed rollback leaves the transaction to die with the connection.
            let _ = self.conn.batch("ROLLBACK");
        }
    }
}
