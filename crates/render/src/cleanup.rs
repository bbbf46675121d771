//! Retention of job folders (temporary files, scene snapshots, logs): finished jobs older than
//! `keep_days` lose their folder; failed ones are kept when `keep_failed` is set, so a failure can
//! always be investigated. Queue rows stay as history.

use std::path::PathBuf;

use serde::Serialize;

use crate::error::{RenderError, Result};
use crate::model::JobId;
use crate::queue::Queue;

/// One folder cleanup removed (or would remove).
#[derive(Debug, Clone, Serialize)]
pub struct Removed {
    /// The job.
    pub job: JobId,
    /// Its state.
    pub state: String,
    /// The folder.
    pub dir: PathBuf,
    /// Bytes in it.
    pub bytes: u64,
}

/// Removes expired job folders (or only lists them with `dry_run`).
pub fn clean(
    queue: &Queue,
    keep_days: u32,
    keep_failed: bool,
    dry_run: bool,
) -> Result<Vec<Removed>> {
    let mut out = Vec::new();
    for job in queue.expired(keep_days, keep_failed)? {
        let dir = PathBuf::from(&job.dir);
        // Only ever remove folders inside the queue's own folder.
        if !dir.starts_with(queue.dir()) {
            continue;
        }
        let bytes = dir_size(&dir);
        if !dry_run {
            std::fs::remove_dir_all(&dir).map_err(|e| {
                RenderError::io(format!("cannot remove job folder {}", dir.display()), e)
            })?;
        }
        out.push(Removed {
            job: job.id,
            state: job.state.as_str().into(),
            dir,
            bytes,
        });
    }
    Ok(out)
}

fn dir_size(dir: &std::path::Path) -> u64 {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return 0;
    };
    rd.filter_map(|e| e.ok())
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_size(&e.path()),
            Ok(_) => e.metadata().map(|m| m.len()).unwrap_or(0),
            Err(_) => 0,
        })
        .sum()
}
