//! Test support: run a store test on SQLite and, when a test server is given, on PostgreSQL.
//!
//! `SHOTLINE_TEST_PG` names a PostgreSQL server (`scripts/pg.sh start` prints it); each test
//! gets its own fresh database on it, so tests run in parallel. Without it the PostgreSQL half
//! is skipped with a message, except under CI (`CI` set), where it fails: the README promises
//! PostgreSQL and CI must prove it.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// The environment variable naming the test server.
pub const TEST_PG_ENV: &str = "SHOTLINE_TEST_PG";

/// Which backend a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestDb {
    /// A SQLite file in the test's temp folder.
    Sqlite,
    /// A fresh database on the `SHOTLINE_TEST_PG` server.
    Postgres,
}

/// A fresh database URL on the test server, or `None` (skipped) when there is none.
pub fn fresh_pg_url() -> Option<String> {
    let Some(base) = std::env::var(TEST_PG_ENV).ok().filter(|v| !v.is_empty()) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "{TEST_PG_ENV} is not set: CI must run the PostgreSQL tests (eval \"$(scripts/pg.sh start)\")"
        );
        eprintln!("skipping the PostgreSQL half: {TEST_PG_ENV} is not set (scripts/pg.sh start)");
        return None;
    };
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let name = format!(
        "shotline_t{}_{}_{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let target = crate::target::PgTarget::parse(&base).expect("SHOTLINE_TEST_PG is a URL");
    let created = target
        .create_database(&name, Duration::from_secs(60))
        .expect("create a test database");
    Some(created.url)
}

impl TestDb {
    /// The database location for a test: a file in `dir`, or a fresh PostgreSQL database.
    pub fn location(self, dir: &std::path::Path) -> Option<PathBuf> {
        match self {
            TestDb::Sqlite => Some(dir.join(".shotline/shotline.db")),
            TestDb::Postgres => fresh_pg_url().map(PathBuf::from),
        }
    }
}

/// Defines a test twice: `NAME::sqlite` and `NAME::postgres`; the body gets the backend as
/// `$b` (a [`TestDb`]) and returns early where the backend is skipped. Exported (with the
/// feature) so every crate proves its own SQL on both backends the same way.
#[macro_export]
#[doc(hidden)]
macro_rules! __on_both {
    ($(#[$m:meta])* fn $name:ident($b:ident) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            $(#[$m])*
            #[test]
            fn sqlite() {
                let $b = $crate::testdb::TestDb::Sqlite;
                $body
            }
            $(#[$m])*
            #[test]
            fn postgres() {
                let $b = $crate::testdb::TestDb::Postgres;
                $body
            }
        }
    };
}
pub use crate::__on_both as on_both;
