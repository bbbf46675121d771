//! Probing a whole sequence: every frame in parallel, streamed in frame order, folded into a
//! [`SequenceSummary`] whose size does not grow with the sequence (change lists and timecode
//! jumps are capped, ranges are stored as runs).

use serde::Serialize;
use shotline_frames::FrameSet;
use shotline_sequences::{PadStyle, RangeIn, Sequence};

use crate::info::{MediaInfo, StatusCounts};
use crate::timecode::{nominal_rate, Timecode};
use crate::{probe_batch, ProbeOptions};

/// Most segments kept per changing property, and most timecode jumps listed.
const MAX_LISTED: usize = 100;

/// A run of frames sharing one value of a property (resolution, channels, …).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Segment {
    /// First frame of the run.
    pub first: i64,
    /// Last frame of the run.
    pub last: i64,
    /// The value over the run (`1920x1080`, `R:half,G:half,B:half`, `zip`, `24`).
    pub value: String,
}

/// A timecode that does not follow from the previous frame's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimecodeJump {
    /// The frame whose timecode jumps.
    pub frame: i64,
    /// The previous frame that has a timecode.
    pub previous_frame: i64,
    /// What the timecode should have been.
    pub expected: String,
    /// What the file says.
    pub found: String,
}

/// One line of `shotline probe --json` per sequence (`"kind":"sequence_summary"`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SequenceSummary {
    /// Always `"sequence_summary"`.
    pub kind: &'static str,
    /// The sequence as `dir/head%0Nd tail`.
    pub pattern: String,
    /// First frame present.
    pub first: Option<i64>,
    /// Last frame present.
    pub last: Option<i64>,
    /// Frames present (and probed).
    pub frames: u64,
    /// Frames present as a range string (`1001-1049,1051-1100`).
    pub frame_range: String,
    /// Frames missing, as a range string (empty when none).
    pub missing: String,
    /// Number of missing frames.
    pub missing_count: u64,
    /// Files per status.
    pub ok: u64,
    /// Truncated files.
    pub truncated: u64,
    /// Corrupt files.
    pub corrupt: u64,
    /// Unreadable files.
    pub unreadable: u64,
    /// Frame runs per resolution (more than one entry means it changes).
    pub resolution: Vec<Segment>,
    /// Frame runs per channel layout.
    pub channels: Vec<Segment>,
    /// Frame runs per compression.
    pub compression: Vec<Segment>,
    /// Frame runs per frame rate (files without one are left out).
    pub fps: Vec<Segment>,
    /// True when every file that records a frame rate records the same one.
    pub fps_consistent: bool,
    /// Timecode of the first frame that has one.
    pub timecode_start: Option<String>,
    /// Timecode of the last frame that has one.
    pub timecode_end: Option<String>,
    /// Timecode discontinuities between consecutive present frames (first 100).
    pub timecode_jumps: Vec<TimecodeJump>,
    /// Number of timecode discontinuities.
    pub timecode_jump_count: u64,
    /// True when a list above was cut at 100 entries.
    pub lists_capped: bool,
    /// Human-readable problems; empty means the sequence is clean.
    pub problems: Vec<String>,
}

/// Tracks runs of equal values in frame order.
#[derive(Debug, Default)]
struct Runs {
    segs: Vec<Segment>,
    capped: bool,
}

impl Runs {
    fn add(&mut self, frame: i64, value: Option<String>) {
        let Some(value) = value else { return };
        if let Some(last) = self.segs.last_mut() {
            if last.value == value {
                last.last = frame;
                return;
            }
        }
        if self.segs.len() >= MAX_LISTED {
            self.capped = true;
            if let Some(last) = self.segs.last_mut() {
                last.last = frame;
            }
            return;
        }
        self.segs.push(Segment {
            first: frame,
            last: frame,
            value,
        });
    }
}

/// Folds per-frame results, in ascending frame order, into a [`SequenceSummary`].
#[derive(Debug)]
pub struct SummaryBuilder {
    pattern: String,
    frames: FrameSet,
    missing: FrameSet,
    default_fps: f64,
    counts: StatusCounts,
    resolution: Runs,
    channels: Runs,
    compression: Runs,
    fps: Runs,
    tc_start: Option<String>,
    tc_end: Option<String>,
    prev_tc: Option<(i64, Timecode, u32)>,
    jumps: Vec<TimecodeJump>,
    jump_count: u64,
    capped: bool,
}

fn fps_text(fps: f64) -> String {
    let r = (fps * 1000.0).round() / 1000.0;
    format!("{r}")
}

impl SummaryBuilder {
    /// A builder for `seq`; `default_fps` counts timecode for frames that record no rate
    /// (the project's fps).
    pub fn new(seq: &Sequence, default_fps: f64) -> SummaryBuilder {
        let name = seq.format(PadStyle::Printf, RangeIn::None);
        let pattern = if seq.dir.as_os_str() == "." || seq.dir.as_os_str().is_empty() {
            name
        } else {
            seq.dir.join(name).to_string_lossy().into_owned()
        };
        SummaryBuilder {
            pattern,
            frames: seq.frames.clone(),
            missing: seq.missing.clone(),
            default_fps,
            counts: StatusCounts::default(),
            resolution: Runs::default(),
            channels: Runs::default(),
            compression: Runs::default(),
            fps: Runs::default(),
            tc_start: None,
            tc_end: None,
            prev_tc: None,
            jumps: Vec::new(),
            jump_count: 0,
            capped: false,
        }
    }

    /// Adds one frame's result (frames must come in ascending order).
    pub fn add(&mut self, frame: i64, info: &MediaInfo) {
        self.counts.add(info.status);
        self.resolution.add(frame, info.resolution());
        if !info.channels.is_empty() {
            self.channels.add(frame, Some(info.channel_signature()));
        }
        self.compression.add(frame, info.compression.clone());
        self.fps.add(frame, info.fps.map(fps_text));
        let Some(tc) = info.timecode.as_deref().and_then(Timecode::parse) else {
            return;
        };
        let rate = nominal_rate(info.fps.unwrap_or(self.default_fps));
        if self.tc_start.is_none() {
            self.tc_start = Some(tc.to_string());
        }
        self.tc_end = Some(tc.to_string());
        if let Some((pf, ptc, prate)) = self.prev_tc {
            let expected = Timecode::from_frames(
                ptc.to_frames(prate).wrapping_add(frame.wrapping_sub(pf)),
                prate,
                ptc.drop_frame,
            );
            if expected.to_frames(prate) != tc.to_frames(prate) {
                self.jump_count += 1;
                if self.jumps.len() < MAX_LISTED {
                    self.jumps.push(TimecodeJump {
                        frame,
                        previous_frame: pf,
                        expected: expected.to_string(),
                        found: tc.to_string(),
                    });
                } else {
                    self.capped = true;
                }
            }
        }
        self.prev_tc = Some((frame, tc, rate));
    }

    /// The finished summary, with its problem list.
    pub fn finish(self) -> SequenceSummary {
        let mut problems = Vec::new();
        let missing_count = self.missing.len();
        if missing_count > 0 {
            problems.push(format!(
                "{missing_count} missing frame(s): {}",
                self.missing
            ));
        }
        let StatusCounts {
            ok,
            truncated,
            corrupt,
            unreadable,
        } = self.counts;
        for (n, what) in [
            (truncated, "truncated"),
            (corrupt, "corrupt"),
            (unreadable, "unreadable"),
        ] {
            if n > 0 {
                problems.push(format!("{n} {what} file(s)"));
            }
        }
        for (runs, what) in [
            (&self.resolution, "resolution"),
            (&self.channels, "channels"),
            (&self.compression, "compression"),
            (&self.fps, "fps"),
        ] {
            if runs.segs.len() > 1 {
                let at: Vec<String> = runs.segs[1..]
                    .iter()
                    .take(5)
                    .map(|s| format!("{} ({})", s.first, s.value))
                    .collect();
                problems.push(format!("{what} changes at frame {}", at.join(", ")));
            }
        }
        if self.jump_count > 0 {
            let j = &self.jumps[0];
            problems.push(format!(
                "{} timecode jump(s); first at frame {}: expected {}, found {}",
                self.jump_count, j.frame, j.expected, j.found
            ));
        }
        let capped = self.capped
            || self.resolution.capped
            || self.channels.capped
            || self.compression.capped
            || self.fps.capped;
        SequenceSummary {
            kind: "sequence_summary",
            pattern: self.pattern,
            first: self.frames.min(),
            last: self.frames.max(),
            frames: self.frames.len(),
            frame_range: self.frames.to_string(),
            missing: self.missing.to_string(),
            missing_count,
            ok,
            truncated,
            corrupt,
            unreadable,
            fps_consistent: self.fps.segs.len() <= 1,
            resolution: self.resolution.segs,
            channels: self.channels.segs,
            compression: self.compression.segs,
            fps: self.fps.segs,
            timecode_start: self.tc_start,
            timecode_end: self.tc_end,
            timecode_jumps: self.jumps,
            timecode_jump_count: self.jump_count,
            lists_capped: capped,
            problems,
        }
    }
}

/// Probes every present frame of `seq` in parallel (batches of `opts.batch_size`), hands each
/// result to `sink` in frame order with `frame` set, and returns the summary. `default_fps` is
/// used for timecode arithmetic when a file records no rate. The first `sink` error stops.
pub fn probe_sequence<F, E>(
    seq: &Sequence,
    opts: &ProbeOptions,
    default_fps: f64,
    mut sink: F,
) -> Result<SequenceSummary, E>
where
    F: FnMut(MediaInfo) -> Result<(), E>,
{
    let mut builder = SummaryBuilder::new(seq, default_fps);
    let mut frames = seq.frames.iter();
    probe_batch(
        seq.frames.iter().map(|f| seq.frame_path(f)),
        opts,
        |mut info| {
            let frame = frames.next().unwrap_or_default();
            info.frame = Some(frame);
            builder.add(frame, &info);
            sink(info)
        },
    )?;
    Ok(builder.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::info::Format;

    fn seq(frames: &[i64], missing: &[i64]) -> Sequence {
        Sequence {
            dir: "shots".into(),
            head: "plate.".into(),
            tail: ".exr".into(),
            padding: 4,
            frames: FrameSet::from_frames(frames.iter().copied()),
            missing: FrameSet::from_frames(missing.iter().copied()),
            stat: None,
        }
    }

    fn frame(w: u64, tc: &str, fps: Option<f64>) -> MediaInfo {
        let mut i = MediaInfo::new("x.exr".into(), Format::Exr, 1);
        i.width = Some(w);
        i.height = Some(10);
        i.timecode = Some(tc.into());
        i.fps = fps;
        i
    }

    #[test]
    fn runs_jumps_and_gaps() {
        let mut b = SummaryBuilder::new(&seq(&[1, 2, 4, 5], &[3]), 24.0);
        b.add(1, &frame(10, "00:00:00:00", Some(24.0)));
        b.add(2, &frame(10, "00:00:00:01", Some(24.0)));
        // Frame 3 is missing: frame 4 must be two frames later, not one.
        b.add(4, &frame(20, "00:00:00:03", Some(24.0)));
        b.add(5, &frame(20, "00:00:01:00", Some(24.0)));
        let s = b.finish();
        assert_eq!(s.pattern, "shots/plate.%04d.exr");
        assert_eq!(s.missing, "3");
        assert_eq!(s.resolution.len(), 2);
        assert_eq!((s.resolution[1].first, s.resolution[1].last), (4, 5));
        assert_eq!(s.timecode_jump_count, 1);
        assert_eq!(s.timecode_jumps[0].frame, 5);
        assert_eq!(s.timecode_jumps[0].expected, "00:00:00:04");
        assert!(s.fps_consistent);
        assert_eq!(s.problems.len(), 3, "{:?}", s.problems);
    }

    #[test]
    fn drop_frame_and_default_fps_continuity() {
        let mut b = SummaryBuilder::new(&seq(&[1, 2], &[]), 29.97);
        b.add(1, &frame(10, "00:00:59;29", None));
        b.add(2, &frame(10, "00:01:00;02", None));
        let s = b.finish();
        assert_eq!(s.timecode_jump_count, 0, "{:?}", s.timecode_jumps);
        assert!(s.problems.is_empty(), "{:?}", s.problems);
    }

    #[test]
    fn change_lists_are_capped() {
        let n = 500;
        let frames: Vec<i64> = (0..n).collect();
        let mut b = SummaryBuilder::new(&seq(&frames, &[]), 24.0);
        for f in 0..n {
            b.add(f, &frame(10 + (f as u64 % 2), "00:00:00:00", None));
        }
        let s = b.finish();
        assert_eq!(s.resolution.len(), MAX_LISTED);
        assert!(s.lists_capped);
        assert_eq!(s.timecode_jump_count, (n - 1) as u64);
        assert_eq!(s.timecode_jumps.len(), MAX_LISTED);
    }
}
