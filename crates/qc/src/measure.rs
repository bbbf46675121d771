//! What a publish records about its frames, measured once for every caller (the `publish`
//! command and the Python module): frames and gaps from the QC report, size, and what the first
//! frame's header says about resolution, rate and timecode.

use std::path::{Path, PathBuf};

use shotline_store::Files;

use crate::{Code, QcError, SequenceReport};

/// The facts recorded with a version published from `pattern`, given its verification report.
pub fn measure_files(pattern: &Path, report: &SequenceReport) -> Result<Files, QcError> {
    let frames = shotline_frames::FrameSet::parse(&report.frames).map_err(|e| QcError::Range {
        range: report.frames.clone(),
        message: e.to_string(),
    })?;
    let missing = report
        .findings
        .iter()
        .find(|f| f.code == Code::MissingFrames)
        .and_then(|f| f.frames.clone())
        .unwrap_or_default();
    let pat = shotline_sequences::parse_pattern_path(pattern).map_err(|e| QcError::Pattern {
        pattern: pattern.display().to_string(),
        message: e.to_string(),
    })?;
    let mut files = Files {
        // Components drop the trailing `/` the pattern's directory text keeps (`/r/` → `/r`).
        dir: pat
            .dir
            .components()
            .collect::<PathBuf>()
            .to_string_lossy()
            .into_owned(),
        pattern: pattern
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        first_frame: frames.min(),
        last_frame: frames.max(),
        frame_range: report.frames.clone(),
        missing_frames: missing,
        bytes: i64::try_from(report.bytes).unwrap_or(i64::MAX),
        file_count: i64::try_from(report.count).unwrap_or(i64::MAX),
        ..Files::default()
    };
    if let Some(first) = frames.min() {
        let info = shotline_media::probe(pat.frame_path(first));
        files.width = info
            .width
            .and_then(|w| u32::try_from(w).ok())
            .filter(|w| *w > 0);
        files.height = info
            .height
            .and_then(|h| u32::try_from(h).ok())
            .filter(|h| *h > 0);
        files.fps = info.fps.filter(|f| f.is_finite() && *f > 0.0);
        files.timecode = info.timecode;
    }
    Ok(files)
}
