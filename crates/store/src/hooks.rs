//! A crash-test hook. With `SHOTLINE_TEST_PAUSE_AT=<point>` a publish stops at that point,
//! touches `$SHOTLINE_TEST_PAUSE_FILE` (so a test knows it got there) and sleeps, so the test
//! can SIGKILL it exactly there and check that the database and manifests stay consistent.
//! Points: `before-commit`, `after-commit`, `manifest-written` (temp file written, not renamed).
//! Compiled only with the cargo feature `test-hooks`; without it `pause_at` does nothing, so a
//! release binary cannot be paused by its environment.

/// Environment variable naming the pause point.
pub const PAUSE_ENV: &str = "SHOTLINE_TEST_PAUSE_AT";
/// Environment variable naming the file touched on reaching the point.
pub const PAUSE_FILE_ENV: &str = "SHOTLINE_TEST_PAUSE_FILE";

/// Without the `test-hooks` feature: nothing.
#[cfg(not(feature = "test-hooks"))]
#[inline(always)]
pub(crate) fn pause_at(_point: &str) {}

/// Pauses for up to a minute if the hook names `point`.
#[cfg(feature = "test-hooks")]
pub(crate) fn pause_at(point: &str) {
    if std::env::var(PAUSE_ENV).ok().as_deref() != Some(point) {
        return;
    }
    if let Some(f) = std::env::var_os(PAUSE_FILE_ENV) {
        let _ = std::fs::write(f, point);
    }
    std::thread::sleep(std::time::Duration::from_secs(60));
}
