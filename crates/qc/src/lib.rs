//! shotline-qc: frame QC (`shotline validate`) and disk usage (`shotline disk`), both finding
//! their show/shot/step/version folders through the one layout of `shotline-layout`.
//!
//! The library never prints or exits: it returns reports and findings that the binary renders,
//! and that ingest, publish and the render queue consume through [`verify_sequence`].

#![warn(missing_docs)]

mod checks;
pub mod disk;
mod finding;
pub mod layout;
mod measure;
pub mod naming;
mod probe;
pub mod validate;
mod verify;

use std::path::PathBuf;

pub use checks::VerifyOptions;
pub use disk::{disk_usage, DiskEntry, DiskOptions, DiskReport, SequenceUsage, SortBy, Usage};
pub use finding::{format_frames, Code, Finding, Severity};
pub use layout::{field_map, level_name, Discovery, Layout, Unit};
pub use measure::measure_files;
pub use validate::{validate, Progress, Summary, UnitReport, ValidateOptions, ValidateReport};
pub use verify::{frame_span, verify_sequence, verify_sequence_with, SequenceReport};

/// Why a QC question could not be answered. Messages name the path or value and what was
/// expected.
#[derive(Debug, thiserror::Error)]
pub enum QcError {
    /// A sequence pattern that `shotline_sequences::parse_pattern` cannot read (no frame token,
    /// mixed padding characters, padding out of range).
    #[error("invalid sequence pattern {pattern:?}: {message}")]
    Pattern {
        /// The pattern as given.
        pattern: String,
        /// What was expected.
        message: String,
    },
    /// A frame range that cannot be used.
    #[error("invalid frame range {range:?}: {message}")]
    Range {
        /// The range as given.
        range: String,
        /// What was expected.
        message: String,
    },
    /// A layout template or naming rule that does not compile.
    #[error("invalid {what} in config: {message}")]
    Config {
        /// Which setting (`layout template "renders"`).
        what: String,
        /// What was expected.
        message: String,
    },
    /// A directory or file that could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// Patterns are parsed by `shotline-sequences` (one parser for every command); its error keeps
/// the pattern and the reason, which QC reports unchanged.
impl From<shotline_sequences::PatternError> for QcError {
    fn from(e: shotline_sequences::PatternError) -> Self {
        QcError::Pattern {
            pattern: e.pattern,
            message: e.message,
        }
    }
}
