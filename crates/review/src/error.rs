//! Why a review movie could not be made. Messages name the file, value or tool and what was
//! expected.

use std::path::PathBuf;

/// A review error.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    /// `--preset NAME` names no built-in or configured preset.
    #[error("unknown review preset {name:?}; expected one of {known}")]
    UnknownPreset {
        /// The name asked for.
        name: String,
        /// The names available.
        known: String,
    },
    /// A preset combines settings the encoder cannot honour.
    #[error("review preset {preset:?}: {problem}")]
    BadPreset {
        /// The preset.
        preset: String,
        /// What is wrong.
        problem: String,
    },
    /// The colour transform cannot be applied to these frames.
    #[error("colour: {0}")]
    Colour(String),
    /// A value read from the store or the frames is unusable.
    #[error("{what} {value:?}: expected {expected}")]
    Invalid {
        /// What the value is.
        what: &'static str,
        /// The value.
        value: String,
        /// What was expected.
        expected: String,
    },
    /// No frames of the version exist on disk.
    #[error("no frames of {pattern} exist on disk")]
    NoFrames {
        /// The pattern.
        pattern: String,
    },
    /// No usable font.
    #[error(
        "no font for the slate and burn-ins: {0}; install fonts-dejavu-core or set review.font"
    )]
    NoFont(String),
    /// An external tool could not be started.
    #[error(
        "cannot run {tool} ({path}): {error}; install it or set review.{tool} in shotline.yaml"
    )]
    ToolMissing {
        /// `ffmpeg` or `ociobakelut`.
        tool: &'static str,
        /// The executable tried.
        path: PathBuf,
        /// The OS error.
        error: std::io::Error,
    },
    /// An external tool failed.
    #[error("{tool} failed ({status}): {stderr}")]
    ToolFailed {
        /// The tool.
        tool: &'static str,
        /// Its exit status.
        status: String,
        /// The end of its error output.
        stderr: String,
    },
    /// The encode took longer than `review.timeout_secs`.
    #[error("ffmpeg did not finish within {secs} s (review.timeout_secs); stopped")]
    Timeout {
        /// The limit.
        secs: u64,
    },
    /// The output exists already; review movies are never overwritten.
    #[error("{0} exists already; review movies are never overwritten (choose another -o)")]
    Exists(PathBuf),
    /// A file operation failed.
    #[error("cannot {action} {path}: {error}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The OS error.
        error: std::io::Error,
    },
    /// An atomic write helper failed.
    #[error(transparent)]
    Fsio(#[from] shotline_fsio::FsioError),
    /// The tracking database refused.
    #[error(transparent)]
    Store(#[from] shotline_store::StoreError),
    /// A name would make an unsafe path.
    #[error(transparent)]
    Unsafe(#[from] shotline_layout::UnsafeComponent),
}

/// Result with [`ReviewError`].
pub type Result<T> = std::result::Result<T, ReviewError>;

pub(crate) fn io(
    action: &'static str,
    path: &std::path::Path,
) -> impl FnOnce(std::io::Error) -> ReviewError {
    let path = path.to_path_buf();
    move |error| ReviewError::Io {
        action,
        path,
        error,
    }
}
