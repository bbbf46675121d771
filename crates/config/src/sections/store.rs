//! `store:` section.

use std::path::PathBuf;

/// The tracking database: where the SQLite file lives and how long a writer waits for another.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// The database file, relative to the project root when not absolute. `None` means
    /// `<project root>/.shotline/shotline.db`. `SHOTLINE_DB` overrides it.
    pub path: Option<PathBuf>,
    /// How long (milliseconds) a command waits for another writer before giving up. Publishes
    /// from a whole farm may queue behind each other, so this is generous.
    pub busy_timeout_ms: u64,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            path: None,
            busy_timeout_ms: 30_000,
        }
    }
}
