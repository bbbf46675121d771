//! `render:` section.

use std::collections::BTreeMap;

use crate::ByteSize;
use std::path::PathBuf;

/// The local render queue: what to keep free for the artist, how many tasks run side by side,
/// how long job folders are kept, and where renderer executables are.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RenderConfig {
    /// Resources kept free for the interactive session, so a workstation stays usable while
    /// it renders (e.g. cores and a GPU kept for Maya).
    pub reserve: RenderReserve,
    /// Most tasks running at once on this machine, whatever the resources say. `0` means no
    /// limit besides resources.
    pub max_concurrent: u32,
    /// Days a finished job's folder (temporary files, logs) is kept before cleanup removes it.
    pub keep_days: u32,
    /// Keep failed jobs' folders regardless of age, so a failure can always be investigated.
    pub keep_failed: bool,
    /// Where per-job folders (logs, temporary files) live; relative to the project root.
    /// `None` means a `render` folder beside the tracking database.
    pub dir: Option<PathBuf>,
    /// Seconds between SIGTERM and SIGKILL when a task is cancelled, timed out or stopped:
    /// renderers get a chance to flush, but a hung one cannot block the queue.
    pub kill_grace_secs: u64,
    /// Milliseconds between the worker's looks at the queue for cancels, pauses and new jobs.
    pub poll_ms: u64,
    /// Renderer executables per preset (`blender: /opt/blender-4.2/blender`), for studios that
    /// pin versions; presets fall back to the usual command names on `PATH`.
    pub executables: BTreeMap<String, String>,
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
            poll_ms: 250,
            executables: BTreeMap::new(),
        }
    }
}

/// Resources the queue must never take (`reserve: {threads: 4, gpus: 1, memory: 8GiB}`).
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RenderReserve {
    /// CPU threads kept free.
    pub threads: u32,
    /// GPUs kept free; the lowest-numbered ones, which usually drive the displays.
    pub gpus: u32,
    /// Memory kept free (bytes, or a size such as `8GiB`).
    pub memory: ByteSize,
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
}
