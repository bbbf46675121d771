//! Test-only hooks, compiled in only with the `test-hooks` feature: end-to-end tests use them to
//! slow a copy down (so it can be killed or its source rewritten midway) and to die at a chosen
//! point. Without the feature every hook is a no-op and the environment is never read.

use std::time::Duration;

/// Milliseconds to pause after every 64 KiB copied.
pub const THROTTLE_ENV: &str = "SHOTLINE_INGEST_TEST_THROTTLE_MS";
/// A point at which the process kills itself (`SIGKILL`): `after-registration`.
pub const KILL_AT_ENV: &str = "SHOTLINE_INGEST_TEST_KILL_AT";

/// Points of an ingest where a test can kill the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KillPoint {
    /// The tracking database committed the registration; the ledger is not written yet.
    AfterRegistration,
}

impl KillPoint {
    #[cfg(feature = "test-hooks")]
    fn name(self) -> &'static str {
        match self {
            KillPoint::AfterRegistration => "after-registration",
        }
    }
}

/// The copy throttle asked for by the environment; an unparsable value is an error naming it.
#[cfg(feature = "test-hooks")]
pub(crate) fn throttle() -> Result<Option<Duration>, String> {
    match std::env::var(THROTTLE_ENV) {
        Ok(v) => v
            .parse()
            .map(|ms| Some(Duration::from_millis(ms)))
            .map_err(|_| format!("{THROTTLE_ENV}={v:?}: expected milliseconds")),
        Err(_) => Ok(None),
    }
}

/// No throttle without the `test-hooks` feature.
#[cfg(not(feature = "test-hooks"))]
pub(crate) fn throttle() -> Result<Option<Duration>, String> {
    Ok(None)
}

/// Kills this process with `SIGKILL` when the environment asks for it at `point`.
#[cfg(feature = "test-hooks")]
pub(crate) fn kill_at(point: KillPoint) {
    if std::env::var(KILL_AT_ENV).is_ok_and(|v| v == point.name()) {
        let _ =
            rustix::process::kill_process(rustix::process::getpid(), rustix::process::Signal::KILL);
        // SIGKILL cannot be caught; should it somehow return, abort just as abruptly.
        std::process::abort();
    }
}

/// Nothing without the `test-hooks` feature.
#[cfg(not(feature = "test-hooks"))]
pub(crate) fn kill_at(_point: KillPoint) {}
