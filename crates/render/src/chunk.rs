//! Cutting a frame set into tasks. A stepped range renders as stepped chunks (`1-37x4` per task),
//! never one process per frame unless the command cannot take a step.

use shotline_frames::{FrameSet, Run};

use crate::error::{RenderError, Result};

/// Most frames one job may hold; far above any real shot, low enough to stay in memory.
pub const MAX_FRAMES: u64 = 1_000_000;

/// One task's frames: an arithmetic run `first..=last` by `step`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Chunk {
    /// First frame.
    pub first: i64,
    /// Last frame.
    pub last: i64,
    /// Step between frames (1 for consecutive frames).
    pub step: i64,
    /// Number of frames.
    pub count: u64,
}

impl Chunk {
    /// The frames, in order.
    pub fn frames(&self) -> impl Iterator<Item = i64> + '_ {
        (0..self.count as i64).map(move |i| self.first + i * self.step)
    }

    /// The frame-range string (`1-37x4`, `5`).
    pub fn range(&self) -> String {
        Run {
            start: self.first,
            end: self.last,
            step: self.step,
        }
        .to_string()
    }
}

/// What a command can take per process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stepping {
    /// Any arithmetic run (`{start}`, `{end}`, `{step}` or `{frames}`).
    Stepped,
    /// Only consecutive frames (`{start}`/`{end}`, no `{step}`).
    Consecutive,
    /// One frame per process (`{start}` only).
    Single,
}

/// Parses `frames`, adds range ends for `include_last`, and cuts the set into chunks of at most
/// `chunk` frames, in set order.
pub fn plan(
    frames: &str,
    include_last: bool,
    chunk: u32,
    stepping: Stepping,
) -> Result<Vec<Chunk>> {
    let (set, ends) =
        FrameSet::parse_with_ends(frames).map_err(|e| RenderError::Invalid(e.to_string()))?;
    let mut list = set
        .to_vec_capped(MAX_FRAMES)
        .map_err(|e| RenderError::Invalid(format!("frame range {frames:?}: {e}")))?;
    if list.is_empty() {
        return Err(RenderError::Invalid(format!(
            "frame range {frames:?} has no frames"
        )));
    }
    if include_last {
        for end in ends {
            if !set.contains(end) {
                list.push(end);
            }
        }
    }
    let size = chunk.max(1) as u64;
    let mut chunks: Vec<Chunk> = Vec::new();
    for f in list {
        if let Some(c) = chunks.last_mut() {
            let d = f.checked_sub(c.last).unwrap_or(0);
            let fits = c.count < size
                && d > 0
                && match stepping {
                    Stepping::Stepped => c.count == 1 || d == c.step,
                    Stepping::Consecutive => d == 1,
                    Stepping::Single => false,
                };
            if fits {
                if c.count == 1 {
                    c.step = d;
                }
                c.last = f;
                c.count += 1;
                continue;
            }
        }
        chunks.push(Chunk {
            first: f,
            last: f,
            step: 1,
            count: 1,
        });
    }
    Ok(chunks)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ranges(c: &[Chunk]) -> Vec<String> {
        c.iter().map(Chunk::range).collect()
    }

    #[test]
    fn stepped_chunks() {
        let c = plan("1-40x4", false, 3, Stepping::Stepped).unwrap();
        assert_eq!(ranges(&c), vec!["1-9x4", "13-21x4", "25-33x4", "37"]);
        let c = plan("1-10x4", true, 10, Stepping::Stepped).unwrap();
        assert_eq!(ranges(&c), vec!["1-9x4", "10"]);
        let c = plan("1-5x2", false, 10, Stepping::Single).unwrap();
        assert_eq!(ranges(&c), vec!["1", "3", "5"]);
        let c = plan("1-4,10", false, 10, Stepping::Consecutive).unwrap();
        assert_eq!(ranges(&c), vec!["1-4", "10"]);
        assert!(plan("1-", false, 1, Stepping::Stepped).is_err());
    }
}
