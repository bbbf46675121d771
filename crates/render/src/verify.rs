//! Proving a task's frames are on disk and readable: each expected file exists, is not empty and
//! its header probes `ok` (shotline-media). A renderer exiting 0 is not enough.

use crate::chunk::Chunk;
use crate::pattern::OutputPattern;

/// Checks every frame of `chunk`; `Err` names the first bad frames and why.
pub fn verify_chunk(pattern: &OutputPattern, chunk: &Chunk) -> Result<(), String> {
    let mut problems = Vec::new();
    let mut bad = 0usize;
    for frame in chunk.frames() {
        let path = pattern.path(frame);
        let why = match std::fs::metadata(&path) {
            Err(_) => Some("missing".to_string()),
            Ok(m) if m.len() == 0 => Some("empty".to_string()),
            Ok(_) => {
                let info = shotline_media::probe(&path);
                (!info.status.is_ok()).then(|| match info.reason {
                    Some(r) => format!("{}: {r}", info.status.as_str()),
                    None => info.status.as_str().to_string(),
                })
            }
        };
        if let Some(why) = why {
            bad += 1;
            if problems.len() < 3 {
                problems.push(format!("frame {frame} {} {why}", path.display()));
            }
        }
    }
    if bad == 0 {
        return Ok(());
    }
    let more = if bad > problems.len() {
        format!(" (and {} more)", bad - problems.len())
    } else {
        String::new()
    };
    Err(format!(
        "output verification failed for {bad} of {} frame(s): {}{more}",
        chunk.count,
        problems.join("; ")
    ))
}

/// A task whose frames are not all on disk and readable.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BadChunk {
    /// The task's index in its job.
    pub task: i64,
    /// Its frames.
    pub frames: String,
    /// Which frames and why (as after each task).
    pub message: String,
}

/// Checks every frame of a job, as the queue checks each task's frames after it ends: the
/// final verify step of a farm job (`render verify JOB`, run after the render with `after`).
/// An error when the job names no output (there is nothing to verify).
pub fn verify_job(job: &crate::job::ResolvedJob) -> crate::error::Result<Vec<BadChunk>> {
    let pattern = job.output_pattern()?.ok_or_else(|| {
        crate::error::RenderError::Invalid(format!(
            "job {} names no `output`: there are no frames to verify",
            job.name
        ))
    })?;
    Ok(job
        .chunks
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            verify_chunk(&pattern, c).err().map(|message| BadChunk {
                task: i as i64,
                frames: c.range(),
                message,
            })
        })
        .collect())
}
