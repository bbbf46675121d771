//! `shotline.yaml`: where it is found, how it is parsed, and the defaults that make it optional.
//!
//! Every section lives in its own module so the concern that owns a setting also owns its
//! documentation and defaults. Every struct denies unknown keys: a typo in a production config
//! must be an error naming the file, line and column, never a silently ignored setting.

use std::path::{Path, PathBuf};

pub mod check;
mod sections;
mod size;
pub use sections::*;
pub use size::ByteSize;

/// The file name looked for when walking up from the current directory.
pub const FILE_NAME: &str = "shotline.yaml";
/// Environment variable naming a config file explicitly (after `--config`, before discovery).
pub const ENV_VAR: &str = "SHOTLINE_CONFIG";

/// The whole configuration. Every field has a default so no file is needed to start.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Project identity and defaults (code, fps, resolution) used by checks and the store.
    pub project: ProjectConfig,
    /// Path templates describing where shows, shots and renders live.
    pub layout: LayoutConfig,
    /// Naming rules (a regex per kind of file).
    pub naming: NamingConfig,
    /// Limits that turn measurements into findings (disk warnings, size outliers).
    pub thresholds: ThresholdsConfig,
    /// Media probing settings.
    pub probe: ProbeConfig,
    /// The tracking database.
    pub store: StoreConfig,
    /// Delivery ingest rules.
    pub ingest: IngestConfig,
    /// The local render queue.
    pub render: RenderConfig,
    /// Review movies (presets, colour, slate and burn-ins).
    pub review: ReviewConfig,
    /// The Ramses daemon and the mirror into it.
    pub ramses: RamsesConfig,
    /// Path mappings for scenes written on other machines (`P:/` → `/mnt/projects/`).
    pub paths: PathsConfig,
}

/// A loaded configuration and where it came from.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    /// The parsed settings (defaults where the file said nothing).
    pub config: Config,
    /// The file read, if any. `None` means built-in defaults.
    pub path: Option<PathBuf>,
    /// Deprecated spellings found in the file, each naming its replacement; the binary
    /// prints them as warnings (the library never prints).
    pub warnings: Vec<String>,
}

impl Loaded {
    /// The directory relative paths in the config are resolved against: the config file's
    /// directory, or `cwd` when running on defaults. This is also the project root.
    pub fn base_dir(&self, cwd: &Path) -> PathBuf {
        match self.path.as_deref().and_then(Path::parent) {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => cwd.to_path_buf(),
        }
    }
}

/// Why a config could not be loaded. Messages name the file and, for parse errors, line and column.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The YAML is malformed, has an unknown key or a value of the wrong type.
    #[error("invalid config {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message, which includes line and column.
        message: String,
    },
}

impl Config {
    /// Deprecated spellings in the settings, each naming the key or value that replaces it.
    pub fn warnings(&self) -> Vec<String> {
        self.ingest.warnings()
    }
}

/// Finds the config to use: `explicit` (from `--config`), else `$SHOTLINE_CONFIG`, else the
/// first `shotline.yaml` walking up from `cwd`. Returns `None` when there is none.
pub fn discover(explicit: Option<&Path>, env: Option<&Path>, cwd: &Path) -> Option<PathBuf> {
    if let Some(p) = explicit.or(env) {
        return Some(p.to_path_buf());
    }
    cwd.ancestors()
        .map(|d| d.join(FILE_NAME))
        .find(|p| p.is_file())
}

/// Loads the config found by [`discover`], or defaults when there is none. An explicitly named
/// file that does not exist is an error (a typo must not silently fall back to defaults).
pub fn load(
    explicit: Option<&Path>,
    env: Option<&Path>,
    cwd: &Path,
) -> Result<Loaded, ConfigError> {
    match discover(explicit, env, cwd) {
        Some(path) => {
            let config = load_file(&path)?;
            let warnings = config
                .warnings()
                .into_iter()
                .map(|w| format!("{}: {w}", path.display()))
                .collect();
            Ok(Loaded {
                config,
                path: Some(path),
                warnings,
            })
        }
        None => Ok(Loaded::default()),
    }
}

/// Parses one config file.
pub fn load_file(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_str(&text).map_err(|message| ConfigError::Parse {
        path: path.to_path_buf(),
        // The parser's snippet names its source `<input>`; name the real file instead.
        message: message.replace("<input>", &path.display().to_string()),
    })
}

/// Parses config text. An empty document gives the defaults.
pub fn parse_str(text: &str) -> Result<Config, String> {
    if text.trim().is_empty() {
        return Ok(Config::default());
    }
    serde_saphyr::from_str::<Config>(text).map_err(|e| {
        let msg = redact_passwords(&e.to_string());
        msg.strip_prefix("error: ")
            .map(str::to_string)
            .unwrap_or(msg)
    })
}

/// Masks the password of any `scheme://user:password@host` URL and any `password=…` in `msg`:
/// the parser quotes the offending line, and `store.url` refuses a password precisely so that it
/// is not printed.
fn redact_passwords(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut rest = msg;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| c.is_whitespace() || c == '/' || c == '"' || c == '\'')
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rsplit_once('@') {
            Some((user_info, host)) if user_info.contains(':') => {
                let user = user_info.split(':').next().unwrap_or_default();
                out.push_str(&format!("{user}:***@{host}"));
            }
            _ => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    let mut masked = String::with_capacity(out.len());
    let mut rest = out.as_str();
    while let Some(i) = rest.find("password=") {
        let (head, tail) = rest.split_at(i + "password=".len());
        masked.push_str(head);
        masked.push_str("***");
        let end = tail
            .find(|c: char| c.is_whitespace() || c == '&' || c == '"')
            .unwrap_or(tail.len());
        rest = &tail[end..];
    }
    masked.push_str(rest);
    masked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_values_are_checked_with_line_and_column() {
        for (text, needle) in [
            ("project:\n  fps: -24\n", "frame rate -24"),
            ("project:\n  fps: 0\n", "frame rate 0"),
            ("project:\n  fps: .nan\n", "frame rate NaN"),
            ("project:\n  width: 0\n", "0 pixels"),
            ("project:\n  pixel_aspect: .inf\n", "ratio inf"),
            ("project:\n  code: \"x/../../tmp/evil\"\n", "path separator"),
            (
                "project:\n  start_frame: 9223372036854775807\n",
                "out of range",
            ),
        ] {
            let e = parse_str(text).unwrap_err();
            assert!(e.contains(needle), "{text:?}: {e}");
            assert!(e.contains("line 2"), "{text:?}: {e}");
        }
        let ok = parse_str("project:\n  code: DEMO\n  fps: 23.976\n").unwrap();
        assert_eq!(ok.project.code, "DEMO");
    }

    #[test]
    fn empty_is_defaults() {
        let c = parse_str("").unwrap();
        assert_eq!(c.project.fps, ProjectConfig::default().fps);
    }

    #[test]
    fn unknown_key_names_line_and_column() {
        let err = parse_str("project:\n  code: DEMO\n  fsp: 24\n").unwrap_err();
        assert!(err.contains("fsp"), "{err}");
        assert!(err.contains('3'), "line missing: {err}");
    }

    #[test]
    fn wrong_type_is_error() {
        let err = parse_str("project:\n  fps: fast\n").unwrap_err();
        assert!(err.contains('2'), "{err}");
    }

    #[test]
    fn discovery_walks_up() {
        let dir = tempfile::tempdir().unwrap();
        let deep = dir.path().join("a/b/c");
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::write(dir.path().join(FILE_NAME), "project:\n  code: X\n").unwrap();
        let found = discover(None, None, &deep).unwrap();
        assert_eq!(found, dir.path().join(FILE_NAME));
        let loaded = load(None, None, &deep).unwrap();
        assert_eq!(loaded.config.project.code, "X");
        assert_eq!(loaded.base_dir(&deep), dir.path());
    }

    #[test]
    fn explicit_missing_file_is_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.yaml");
        assert!(load(Some(&missing), None, dir.path()).is_err());
    }
}
