//! The crate's one error type; every message names the daemon address or file and what was
//! expected, so a user can act on it without reading code.

use std::path::PathBuf;

/// Why a Ramses operation failed.
#[derive(Debug, thiserror::Error)]
pub enum RamsesError {
    /// Nothing listens on the daemon port.
    #[error("the Ramses daemon is not running on {addr} ({source}); start the Ramses client or `shotline ramses serve`, or check ramses.port in shotline.yaml")]
    NotRunning {
        /// `localhost:18185`.
        addr: String,
        /// The OS error (connection refused).
        source: std::io::Error,
    },
    /// Connecting failed for another reason (timeout, unreachable host, unknown name).
    #[error("cannot connect to the Ramses daemon on {addr}: {reason}")]
    Connect {
        /// Address tried.
        addr: String,
        /// What went wrong.
        reason: String,
    },
    /// The daemon accepted the connection but did not finish its reply in time.
    #[error("the Ramses daemon on {addr} did not answer `{command}` within {waited_ms} ms ({received} bytes received); is the Ramses client hung?")]
    Timeout {
        /// Address.
        addr: String,
        /// The query's command.
        command: String,
        /// Bytes received before giving up.
        received: usize,
        /// How long we waited.
        waited_ms: u128,
    },
    /// The daemon closed the connection before a complete reply.
    #[error("the Ramses daemon on {addr} closed the connection after {received} bytes, before a complete JSON reply to `{command}`")]
    Closed {
        /// Address.
        addr: String,
        /// The query's command.
        command: String,
        /// Bytes received.
        received: usize,
    },
    /// The reply is not the JSON object the protocol promises.
    #[error("the Ramses daemon on {addr} answered `{command}` with something that is not a JSON reply: {reason} (it starts with {start:?})")]
    Garbage {
        /// Address.
        addr: String,
        /// The query's command.
        command: String,
        /// Parser's complaint.
        reason: String,
        /// The first bytes received, lossily decoded.
        start: String,
    },
    /// A value would be split by the daemon (`&`, `=`): refused instead of sending a truncated
    /// or altered query.
    #[error("refusing to send the Ramses query `{command}`: {what} {value:?} contains {ch:?}, which the daemon reads as a separator")]
    BadValue {
        /// The query's command.
        command: String,
        /// `command`, `key` or the key whose value it is.
        what: String,
        /// The offending text.
        value: String,
        /// The separator found.
        ch: char,
    },
    /// The daemon does not know this query (`accepted=false`).
    #[error("the Ramses daemon on {addr} does not know the query `{command}`{}", if message.is_empty() { String::new() } else { format!(": {message}") })]
    Unknown {
        /// Address.
        addr: String,
        /// The query's command.
        command: String,
        /// The daemon's message.
        message: String,
    },
    /// The daemon knew the query but could not do it (`success=false`).
    #[error("the Ramses daemon on {addr} could not do `{command}`{}", if message.is_empty() { String::new() } else { format!(": {message}") })]
    Failed {
        /// Address.
        addr: String,
        /// The query's command.
        command: String,
        /// The daemon's message.
        message: String,
    },
    /// A well-formed reply without the field the protocol promises.
    #[error("the Ramses daemon's reply to `{command}` has no {what}")]
    Shape {
        /// The query's command.
        command: String,
        /// What was missing or of the wrong type.
        what: String,
    },
    /// A socket error other than the above.
    #[error("talking to the Ramses daemon on {addr}: {source}")]
    Io {
        /// Address.
        addr: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// A `_ramses_data.json` file could not be read or is not what Ramses writes.
    #[error("{path}: {message}")]
    Metadata {
        /// The file.
        path: PathBuf,
        /// What was wrong (with line and column for JSON errors) and what was expected.
        message: String,
    },
    /// An atomic write failed; the message names the file.
    #[error(transparent)]
    File(#[from] shotline_fsio::FsioError),
    /// The tracking database refused or failed.
    #[error(transparent)]
    Store(#[from] shotline_store::StoreError),
    /// A name or path component is unsafe or not a Ramses name.
    #[error(transparent)]
    Name(#[from] shotline_layout::UnsafeComponent),
}

impl RamsesError {
    /// True when the daemon could not be reached or did not answer properly: the change is
    /// kept in the outbox and retried. False when the daemon answered and refused.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            RamsesError::NotRunning { .. }
                | RamsesError::Connect { .. }
                | RamsesError::Timeout { .. }
                | RamsesError::Closed { .. }
                | RamsesError::Garbage { .. }
                | RamsesError::Io { .. }
                | RamsesError::Shape { .. }
        )
    }
}

/// Result alias used across the crate.
pub type Result<T, E = RamsesError> = std::result::Result<T, E>;
