//! Live progress from renderer output. Only matching lines move progress, and parsing never
//! reports a finished task: 100% comes from the worker after the process exits and its frames
//! verify (a progress parser that jumps to 100% on any unmatched line lies).

use regex::Regex;

use crate::error::{RenderError, Result};
use crate::spec::{Preset, ProgressSpec};

/// Compiled progress patterns.
#[derive(Debug, Clone)]
pub struct ProgressRules {
    percent: Option<Regex>,
    frame_done: Option<Regex>,
    frames_of: Option<Regex>,
}

impl ProgressRules {
    /// The patterns a preset reads (REFERENCE.md). Blender: `Sample i/n` within a frame and
    /// `Saved: '…'` per frame; Nuke `Frame f (i of n)`; Fusion `Rendered frame f (i of n)`;
    /// Maya (Arnold) `N% done`; Houdini `ALF_PROGRESS N%`; generic `N%`.
    pub fn preset(preset: Preset) -> ProgressSpec {
        let s = |x: &str| Some(x.to_string());
        match preset {
            Preset::Blender => ProgressSpec {
                percent: s(r"Sample (\d+)/(\d+)"),
                frame_done: s(r"^Saved: '"),
                frames_of: None,
            },
            Preset::Nuke => ProgressSpec {
                percent: None,
                frame_done: None,
                frames_of: s(r"Frame -?\d+ \((\d+) of (\d+)\)"),
            },
            Preset::Fusion => ProgressSpec {
                percent: None,
                frame_done: None,
                frames_of: s(r"Rendered frame -?\d+ \((\d+) of (\d+)\)"),
            },
            Preset::Maya => ProgressSpec {
                percent: s(r"(\d+)% done"),
                frame_done: None,
                frames_of: s(r"Rendering frame -?\d+ \((\d+)/(\d+)\)"),
            },
            Preset::Houdini => ProgressSpec {
                percent: s(r"ALF_PROGRESS (\d+)%"),
                frame_done: None,
                frames_of: None,
            },
            Preset::Generic => ProgressSpec {
                percent: s(r"(\d+(?:\.\d+)?)%"),
                frame_done: None,
                frames_of: None,
            },
        }
    }

    /// Compiles patterns; a bad regex is an error naming it.
    pub fn compile(spec: &ProgressSpec) -> Result<ProgressRules> {
        let re = |p: &Option<String>, what: &str| -> Result<Option<Regex>> {
            p.as_deref()
                .map(|p| {
                    Regex::new(p).map_err(|e| {
                        RenderError::Invalid(format!("progress.{what} pattern {p:?}: {e}"))
                    })
                })
                .transpose()
        };
        Ok(ProgressRules {
            percent: re(&spec.percent, "percent")?,
            frame_done: re(&spec.frame_done, "frame_done")?,
            frames_of: re(&spec.frames_of, "frames_of")?,
        })
    }
}

/// Progress of one attempt, fed line by line.
#[derive(Debug, Clone)]
pub struct ProgressParser {
    rules: ProgressRules,
    frames_total: u64,
    frames_done: u64,
    frame_fraction: f64,
    best: f64,
}

impl ProgressParser {
    /// A parser for a task of `frames_total` frames.
    pub fn new(rules: ProgressRules, frames_total: u64) -> ProgressParser {
        ProgressParser {
            rules,
            frames_total: frames_total.max(1),
            frames_done: 0,
            frame_fraction: 0.0,
            best: 0.0,
        }
    }

    /// Reads one line; true when progress moved. Unmatched lines change nothing.
    pub fn feed(&mut self, line: &str) -> bool {
        let before = (self.frames_done, self.best);
        if let Some(c) = self.rules.frames_of.as_ref().and_then(|r| r.captures(line)) {
            let done = c.get(1).and_then(|m| m.as_str().parse::<u64>().ok());
            let total = c.get(2).and_then(|m| m.as_str().parse::<u64>().ok());
            if let (Some(d), Some(t)) = (done, total) {
                // "i of n" counts the frames written; rescale to this task's frames.
                if let Some(scaled) = (d.min(t) * self.frames_total).checked_div(t) {
                    self.frames_done = self.frames_done.max(scaled);
                    self.frame_fraction = 0.0;
                }
            }
        } else if self
            .rules
            .frame_done
            .as_ref()
            .is_some_and(|r| r.is_match(line))
        {
            self.frames_done = (self.frames_done + 1).min(self.frames_total);
            self.frame_fraction = 0.0;
        } else if let Some(c) = self.rules.percent.as_ref().and_then(|r| r.captures(line)) {
            let a = c.get(1).and_then(|m| m.as_str().parse::<f64>().ok());
            let f = match (a, c.get(2).and_then(|m| m.as_str().parse::<f64>().ok())) {
                (Some(i), Some(n)) if n > 0.0 => Some(i / n),
                (Some(p), None) => Some(p / 100.0),
                _ => None,
            };
            if let Some(f) = f.filter(|f| f.is_finite()) {
                self.frame_fraction = f.clamp(0.0, 1.0);
            }
        }
        let raw = (self.frames_done as f64 + self.frame_fraction) / self.frames_total as f64;
        // Parsed progress stays below 1: only a verified exit completes a task.
        self.best = self.best.max(raw.min(0.999));
        before != (self.frames_done, self.best)
    }

    /// Frames reported written.
    pub fn frames_done(&self) -> u64 {
        self.frames_done
    }

    /// Fraction of the task, 0 ≤ p < 1, never going backwards.
    pub fn fraction(&self) -> f64 {
        self.best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parser(p: Preset, n: u64) -> ProgressParser {
        ProgressParser::new(
            ProgressRules::compile(&ProgressRules::preset(p)).unwrap(),
            n,
        )
    }

    #[test]
    fn blender_lines() {
        let mut p = parser(Preset::Blender, 2);
        assert!(!p.feed("Blender 3.4.1"));
        assert!(
            p.feed("Fra:1 Mem:9.94M (Peak 10.83M) | Time:00:00.00 | Scene, ViewLayer | Sample 1/2")
        );
        assert!((p.fraction() - 0.25).abs() < 1e-9);
        assert!(p.feed("Saved: '/tmp/out/shot_0001.exr'"));
        assert_eq!(p.frames_done(), 1);
        p.feed("Saved: '/tmp/out/shot_0002.exr'");
        p.feed("Saved: '/tmp/out/shot_0003.exr'");
        assert_eq!(p.frames_done(), 2);
        assert!(p.fraction() < 1.0);
    }

    #[test]
    fn unmatched_lines_never_complete() {
        let mut p = parser(Preset::Generic, 1);
        for l in ["done", "Finished", "100 frames", "Blender quit"] {
            assert!(!p.feed(l));
        }
        assert_eq!(p.fraction(), 0.0);
        p.feed("rendering 100%");
        assert!(p.fraction() < 1.0);
    }

    #[test]
    fn nuke_and_arnold() {
        let mut p = parser(Preset::Nuke, 4);
        p.feed("Frame 1003 (3 of 4)");
        assert_eq!(p.frames_done(), 3);
        let mut p = parser(Preset::Maya, 1);
        p.feed("00:00:01  1.2GB | 40% done - 12 rays/pixel");
        assert!((p.fraction() - 0.4).abs() < 1e-9);
        p.feed("00:00:01  1.2GB | 20% done");
        assert!((p.fraction() - 0.4).abs() < 1e-9, "never goes back");
    }
}
