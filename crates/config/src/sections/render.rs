//! `render:` section.

use std::collections::BTreeMap;

use serde::de::{Deserialize, Deserializer, Error};

use crate::ByteSize;
use std::path::PathBuf;

/// Longest SIGTERM → SIGKILL delay (one hour): a hung renderer must not hold a slot for days,
/// and the worker adds it to the clock.
pub const MAX_KILL_GRACE_SECS: u64 = 3600;
/// Allowed `render.stalled_host_secs` (besides 0, never): a worker beats every 5 s, so less
/// than 30 s would requeue the tasks of a host that is merely busy; a day at most.
pub const STALLED_HOST_SECS_RANGE: (u64, u64) = (30, 86_400);
/// Shortest and longest time between the worker's looks at the queue (10 ms, one minute).
pub const POLL_MS_RANGE: (u64, u64) = (10, 60_000);
/// Most tasks one worker runs at once.
pub const MAX_CONCURRENT: u32 = 1024;
/// Most CPU threads a reserve or a task may name.
pub const MAX_THREADS: u32 = 4096;
/// Most GPUs a reserve or a task may name.
pub const MAX_GPUS: u32 = 64;
/// Largest log cap: half of it is held in memory per running task (the log's tail).
pub const MAX_LOG_BYTES: u64 = 1 << 30;
/// Default log cap (16 MiB): far beyond any useful renderer log, far below a runaway one.
pub const DEFAULT_LOG_BYTES: u64 = 16 << 20;

/// The local render queue: what to keep free for the artist, how many tasks run side by side,
/// how long job folders are kept, and where renderer executables are.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RenderConfig {
    /// Resources kept free for the interactive session, so a workstation stays usable while
    /// it renders (cores and a GPU kept for the DCC).
    pub reserve: RenderReserve,
    /// Most tasks running at once on this machine, whatever the resources say. `0` means no
    /// limit besides resources. At most [`MAX_CONCURRENT`].
    #[serde(deserialize_with = "max_concurrent")]
    pub max_concurrent: u32,
    /// Days a finished job's folder (temporary files, logs) is kept before cleanup removes it.
    pub keep_days: u32,
    /// Keep failed jobs' folders regardless of age, so a failure can always be investigated.
    pub keep_failed: bool,
    /// Where per-job folders (logs, temporary files) live; relative to the project root.
    /// `None` means a `render` folder beside the tracking database.
    pub dir: Option<PathBuf>,
    /// Seconds between SIGTERM and SIGKILL when a task is cancelled, timed out or stopped:
    /// renderers get a chance to flush, but a hung one cannot block the queue. At most
    /// [`MAX_KILL_GRACE_SECS`].
    #[serde(deserialize_with = "kill_grace_secs")]
    pub kill_grace_secs: u64,
    /// Seconds without a heartbeat after which a worker of another host sharing the queue
    /// (PostgreSQL) counts as dead: the tasks it was running are requeued by any live worker,
    /// so a render node that lost power does not hold its frames forever. `0` never requeues
    /// another host's tasks; otherwise within [`STALLED_HOST_SECS_RANGE`].
    #[serde(deserialize_with = "stalled_host_secs")]
    pub stalled_host_secs: u64,
    /// Milliseconds between the worker's looks at the queue for cancels, pauses and new jobs
    /// (within [`POLL_MS_RANGE`]).
    #[serde(deserialize_with = "poll_ms")]
    pub poll_ms: u64,
    /// Most bytes one attempt's log keeps: the first and last halves, with a line saying how
    /// much was dropped between them. `0` means no cap; at most [`MAX_LOG_BYTES`].
    #[serde(deserialize_with = "log_max_bytes")]
    pub log_max_bytes: ByteSize,
    /// Renderer executables per preset (`blender: /opt/blender-4.2/blender`), for studios that
    /// pin versions; presets fall back to the usual command names on `PATH`.
    pub executables: BTreeMap<String, String>,
    /// Where `render submit` sends jobs: the local queue (default) or a Slurm cluster.
    pub executor: RenderExecutor,
    /// How jobs reach the Slurm cluster (partition, account, QOS, extra `sbatch` arguments).
    pub slurm: SlurmConfig,
}

/// Where `render submit` sends a job when `--farm` does not say.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RenderExecutor {
    /// This machine's queue, run by `render worker` (or `submit --wait`).
    #[default]
    Local,
    /// A Slurm cluster: one job array per job.
    Slurm,
}

/// `render.slurm:`: what every job sent to Slurm carries.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SlurmConfig {
    /// `--partition` (default: the cluster's default partition).
    pub partition: Option<String>,
    /// `--account`.
    pub account: Option<String>,
    /// `--qos`.
    pub qos: Option<String>,
    /// Most array tasks running at once (`--array=…%N`); `None`: `render.max_concurrent`,
    /// `0`: no limit. At most [`MAX_CONCURRENT`].
    #[serde(deserialize_with = "slurm_max_concurrent")]
    pub max_concurrent: Option<u32>,
    /// Folder holding `sbatch`, `squeue`, `scancel`, `scontrol` and `sacct` (default: `PATH`).
    pub bin_dir: Option<PathBuf>,
    /// Extra `sbatch` arguments for every job (`["--constraint=avx2"]`).
    pub sbatch_args: Vec<String>,
}

impl Default for RenderConfig {
    fn default() -> Self {
        Self {
            reserve: RenderReserve::default(),
            max_concurrent: 2,
            keep_days: 7,
            keep_failed: true,
            dir: None,
            kill_grace_secs: 10,
            stalled_host_secs: 300,
            poll_ms: 250,
            log_max_bytes: ByteSize(DEFAULT_LOG_BYTES),
            executables: BTreeMap::new(),
            executor: RenderExecutor::Local,
            slurm: SlurmConfig::default(),
        }
    }
}

/// Resources the queue must never take (`reserve: {threads: 4, gpus: 1, memory: 8GiB}`).
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RenderReserve {
    /// CPU threads kept free (at most [`MAX_THREADS`]).
    #[serde(deserialize_with = "threads")]
    pub threads: u32,
    /// GPUs kept free; the lowest-numbered ones, which usually drive the displays (at most
    /// [`MAX_GPUS`]).
    #[serde(deserialize_with = "gpus")]
    pub gpus: u32,
    /// Memory kept free (bytes, or a size such as `8GiB`).
    pub memory: ByteSize,
}

/// A number within `lo..=hi`, or an error (with the parser's line and column) naming `key`.
fn within<'de, D, T>(d: D, key: &str, lo: T, hi: T) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + PartialOrd + std::fmt::Display + Copy,
{
    let v = T::deserialize(d)?;
    if v < lo || v > hi {
        return Err(D::Error::custom(format!(
            "{key} must be between {lo} and {hi}, got {v}"
        )));
    }
    Ok(v)
}

fn max_concurrent<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    within(d, "render.max_concurrent", 0, MAX_CONCURRENT)
}

fn slurm_max_concurrent<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    within(d, "render.slurm.max_concurrent", 0, MAX_CONCURRENT).map(Some)
}

fn kill_grace_secs<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    within(d, "render.kill_grace_secs", 0, MAX_KILL_GRACE_SECS)
}

fn stalled_host_secs<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let v = within(d, "render.stalled_host_secs", 0, STALLED_HOST_SECS_RANGE.1)?;
    if v != 0 && v < STALLED_HOST_SECS_RANGE.0 {
        return Err(D::Error::custom(format!(
            "render.stalled_host_secs: {v} is too short (a worker beats every 5 s): expected 0 (never) or {} to {}",
            STALLED_HOST_SECS_RANGE.0, STALLED_HOST_SECS_RANGE.1
        )));
    }
    Ok(v)
}

fn poll_ms<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    within(d, "render.poll_ms", POLL_MS_RANGE.0, POLL_MS_RANGE.1)
}

fn threads<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    within(d, "render.reserve.threads", 0, MAX_THREADS)
}

fn gpus<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    within(d, "render.reserve.gpus", 0, MAX_GPUS)
}

fn log_max_bytes<'de, D: Deserializer<'de>>(d: D) -> Result<ByteSize, D::Error> {
    let v = ByteSize::deserialize(d)?;
    if v.0 > MAX_LOG_BYTES {
        return Err(D::Error::custom(format!(
            "render.log_max_bytes must be at most {MAX_LOG_BYTES} bytes (1 GiB), got {}",
            v.0
        )));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    #[test]
    fn section_parses_with_line_numbers_on_error() {
        let c =
            crate::parse_str("render:\n  reserve: {threads: 4, gpus: 1, memory: 8GiB}\n").unwrap();
        assert_eq!(c.render.reserve.threads, 4);
        assert_eq!(c.render.reserve.memory.0, 8 << 30);
        let err = crate::parse_str("render:\n  max_concurent: 2\n").unwrap_err();
        assert!(err.contains('2'), "{err}");
    }

    #[test]
    fn stalled_host_secs_is_never_or_at_least_thirty_seconds() {
        assert_eq!(crate::Config::default().render.stalled_host_secs, 300);
        let c = crate::parse_str("render:\n  stalled_host_secs: 0\n").unwrap();
        assert_eq!(c.render.stalled_host_secs, 0);
        let err = crate::parse_str("render:\n  stalled_host_secs: 10\n").unwrap_err();
        assert!(err.contains("2:") && err.contains("too short"), "{err}");
    }

    #[test]
    fn values_that_would_overflow_clocks_or_threads_are_refused_with_their_line() {
        for (yaml, key) in [
            (
                "render:\n  kill_grace_secs: 99999999999999\n",
                "kill_grace_secs",
            ),
            ("render:\n  poll_ms: 99999999999999\n", "poll_ms"),
            ("render:\n  poll_ms: 0\n", "poll_ms"),
            ("render:\n  max_concurrent: 100000\n", "max_concurrent"),
            ("render:\n  reserve: {threads: 99999}\n", "reserve.threads"),
            ("render:\n  log_max_bytes: 2TiB\n", "log_max_bytes"),
        ] {
            let err = crate::parse_str(yaml).unwrap_err();
            assert!(err.contains(key) && err.contains('2'), "{yaml}: {err}");
        }
        let c =
            crate::parse_str("render:\n  log_max_bytes: 1MiB\n  kill_grace_secs: 30\n").unwrap();
        assert_eq!(c.render.log_max_bytes.0, 1 << 20);
        assert_eq!(crate::Config::default().render.log_max_bytes.0, 16 << 20);
    }

    #[test]
    fn slurm_section() {
        let c = crate::parse_str(
            "render:\n  executor: slurm\n  slurm: {partition: gpu, qos: high, max_concurrent: 8, sbatch_args: [--exclusive]}\n",
        )
        .unwrap();
        assert_eq!(c.render.executor, super::RenderExecutor::Slurm);
        assert_eq!(c.render.slurm.partition.as_deref(), Some("gpu"));
        assert_eq!(c.render.slurm.max_concurrent, Some(8));
        for (yaml, key) in [
            ("render:\n  slurm: {partiton: gpu}\n", "partiton"),
            ("render:\n  executor: deadline\n", "deadline"),
            (
                "render:\n  slurm: {max_concurrent: 5000}\n",
                "slurm.max_concurrent",
            ),
        ] {
            let err = crate::parse_str(yaml).unwrap_err();
            assert!(err.contains(key) && err.contains('2'), "{yaml}: {err}");
        }
    }
}
