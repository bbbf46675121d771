//! Header facts the QC checks need, read through `shotline-media` (headers only, never pixels).

use std::path::Path;

use shotline_media::{MediaInfo, ProbeOptions, Status};

use crate::finding::Code;

/// What one frame's header says, reduced to what the sequence checks compare.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Header {
    /// `Truncated`, `Corrupt` or `Unreadable` when the file is damaged.
    pub problem: Option<Code>,
    /// Why, naming what was expected.
    pub reason: String,
    /// `WxH`.
    pub resolution: Option<String>,
    /// Channel names and types.
    pub channels: Option<String>,
    /// Compression method.
    pub compression: Option<String>,
    /// Frames per second recorded in the header.
    pub fps: Option<f64>,
}

impl From<&MediaInfo> for Header {
    fn from(info: &MediaInfo) -> Header {
        let problem = match info.status {
            Status::Ok => None,
            Status::Truncated => Some(Code::Truncated),
            Status::Corrupt => Some(Code::Corrupt),
            Status::Unreadable => Some(Code::Unreadable),
        };
        let sig = info.channel_signature();
        Header {
            problem,
            reason: info.reason.clone().unwrap_or_default(),
            resolution: info.resolution(),
            channels: (!sig.is_empty()).then_some(sig),
            compression: info.compression.clone(),
            fps: info.fps,
        }
    }
}

/// Reads the header of one frame.
pub(crate) fn read_header(path: &Path, opts: &ProbeOptions) -> Header {
    Header::from(&shotline_media::probe_with(path, opts))
}
