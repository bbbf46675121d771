//! Unit-test set-up: a project database on SQLite and, when a test server is given
//! (`SHOTLINE_TEST_PG`), on PostgreSQL, so the server's own SQL is proved on both backends.

use std::path::PathBuf;

use shotline_store::testdb::TestDb;

/// A project (code T, admin boss) in a fresh database of backend `b`: the temp folder (its
/// root) and the database location; `None` when the PostgreSQL half is skipped.
pub(crate) fn project_db(b: TestDb) -> Option<(tempfile::TempDir, PathBuf)> {
    let dir = tempfile::tempdir().unwrap();
    let path = b.location(dir.path())?;
    drop(
        shotline_store::Store::create(
            &path,
            &project(dir.path()),
            &shotline_store::Actor::named("boss"),
        )
        .unwrap(),
    );
    Some((dir, path))
}

/// The test project (code T) rooted at `root`.
pub(crate) fn project(root: &std::path::Path) -> shotline_store::NewProject {
    shotline_store::NewProject {
        code: "T".into(),
        name: "T".into(),
        root: root.display().to_string(),
        fps: 24.0,
        width: 1920,
        height: 1080,
        pixel_aspect: 1.0,
        start_frame: 1001,
    }
}
