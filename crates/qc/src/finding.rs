//! What QC reports: a finding has a severity and a stable code so pipelines can filter on it.

use serde::Serialize;

/// How bad a finding is. Errors fail `validate` (exit 1); warnings only with `--strict`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Suspicious but possibly intended (a small frame, an odd name).
    Warning,
    /// Broken: frames missing, empty, truncated or unreadable.
    Error,
}

/// The kind of problem. Codes are part of the JSON schema: never rename, only add.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Code {
    /// Frames absent from the expected range (or between first and last).
    MissingFrames,
    /// Frames present outside the expected range.
    OutOfRange,
    /// No frame of the sequence exists at all.
    NoFrames,
    /// Files of zero bytes.
    ZeroByte,
    /// The header promises more data than the file holds.
    Truncated,
    /// The header is malformed or inconsistent.
    Corrupt,
    /// The file could not be opened or read.
    Unreadable,
    /// A frame far smaller than its neighbours' median size.
    SizeOutlier,
    /// Frames whose resolution differs from the rest of the sequence.
    ResolutionChange,
    /// Frames whose channel set differs from the rest of the sequence.
    ChannelChange,
    /// Frames whose compression differs from the rest of the sequence.
    CompressionChange,
    /// The frame rate in the headers differs from `project.fps`.
    FpsMismatch,
    /// Frames of one name stored at more than one padding.
    PaddingMismatch,
    /// The same frame number present at two paddings.
    DuplicateFrame,
    /// A name breaking the configured naming rule.
    BadName,
    /// A file that has no business in a render tree (temp files, wrong type).
    UnexpectedFile,
    /// A directory that could not be listed.
    UnreadableDir,
}

impl Code {
    /// The default severity of the code.
    pub fn severity(self) -> Severity {
        use Code::*;
        match self {
            MissingFrames | NoFrames | ZeroByte | Truncated | Corrupt | Unreadable
            | ResolutionChange | UnreadableDir => Severity::Error,
            OutOfRange | SizeOutlier | ChannelChange | CompressionChange | FpsMismatch
            | PaddingMismatch | DuplicateFrame | BadName | UnexpectedFile => Severity::Warning,
        }
    }

    /// The code as written in reports (`missing-frames`).
    pub fn as_str(self) -> &'static str {
        use Code::*;
        match self {
            MissingFrames => "missing-frames",
            OutOfRange => "out-of-range",
            NoFrames => "no-frames",
            ZeroByte => "zero-byte",
            Truncated => "truncated",
            Corrupt => "corrupt",
            Unreadable => "unreadable",
            SizeOutlier => "size-outlier",
            ResolutionChange => "resolution-change",
            ChannelChange => "channel-change",
            CompressionChange => "compression-change",
            FpsMismatch => "fps-mismatch",
            PaddingMismatch => "padding-mismatch",
            DuplicateFrame => "duplicate-frame",
            BadName => "bad-name",
            UnexpectedFile => "unexpected-file",
            UnreadableDir => "unreadable-dir",
        }
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem found, with enough context to act on it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// Error or warning.
    pub severity: Severity,
    /// What kind of problem.
    pub code: Code,
    /// The sequence pattern (`dir/name.%04d.exr`) or the file concerned.
    pub path: String,
    /// The frames concerned, as a range string (`1003-1005,1010`), when it is about frames.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frames: Option<String>,
    /// A sentence for humans with the numbers that matter.
    pub detail: String,
}

impl Finding {
    /// A finding with the code's default severity.
    pub fn new(code: Code, path: impl Into<String>, detail: impl Into<String>) -> Finding {
        Finding {
            severity: code.severity(),
            code,
            path: path.into(),
            frames: None,
            detail: detail.into(),
        }
    }

    /// The same finding about the given frames.
    pub fn with_frames(mut self, frames: &[i64]) -> Finding {
        self.frames = Some(format_frames(frames));
        self
    }
}

/// Compact ascending range text for a sorted list of frames: `1001-1003,1007,1010-1012`;
/// see [`shotline_frames::plain_list`] for why reports use this plain spelling.
pub fn format_frames(frames: &[i64]) -> String {
    shotline_frames::plain_list(frames)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_format_compactly() {
        assert_eq!(format_frames(&[1, 2, 3, 5, 7, 8]), "1-3,5,7-8");
        assert_eq!(format_frames(&[]), "");
    }
}
