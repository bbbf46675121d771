//! `store:` section.

use std::path::PathBuf;

/// The tracking database: where the SQLite file lives (or which PostgreSQL server holds it) and
/// how long a writer waits for another.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// The database file, relative to the project root when not absolute. `None` means
    /// `<project root>/.shotline/shotline.db`. `SHOTLINE_DB` overrides it.
    pub path: Option<PathBuf>,
    /// A PostgreSQL database instead of the SQLite file: `postgres://user@host:port/db`
    /// (a unix socket: `postgres://user@/db?host=/run/postgresql`). Never with a password: it
    /// comes from `PGPASSWORD` or a `.pgpass` file. Wins over `path`; `SHOTLINE_DB` wins over it.
    #[serde(deserialize_with = "pg_url")]
    pub url: Option<String>,
    /// TLS to the PostgreSQL server: `disable`, `prefer` (default, as libpq), `require`
    /// (encrypted, certificate not checked) or `verify-full` (encrypted and checked).
    pub sslmode: SslMode,
    /// How long (milliseconds) a command waits for another writer before giving up. Publishes
    /// from a whole farm may queue behind each other, so this is generous.
    pub busy_timeout_ms: u64,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            path: None,
            url: None,
            sslmode: SslMode::Prefer,
            busy_timeout_ms: 30_000,
        }
    }
}

/// `store.sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SslMode {
    /// Plain connection.
    Disable,
    /// TLS when offered, certificate not checked.
    #[default]
    Prefer,
    /// TLS or fail, certificate not checked.
    Require,
    /// TLS with the certificate and host name checked.
    VerifyFull,
}

impl SslMode {
    /// The libpq spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

/// A `postgres://` URL without a password (refused with where to put it instead).
fn pg_url<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    use serde::Deserialize;
    let v = String::deserialize(d)?;
    let Some(rest) = v
        .strip_prefix("postgres://")
        .or_else(|| v.strip_prefix("postgresql://"))
    else {
        return Err(serde::de::Error::custom(format!(
            "store.url {v:?}: expected postgres://user@host:port/database"
        )));
    };
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let user_info = authority.rsplit_once('@').map(|(u, _)| u);
    if user_info.is_some_and(|u| u.contains(':')) || v.contains("password=") {
        return Err(serde::de::Error::custom(
            "store.url must not contain a password (config files are shared and versioned): \
             set PGPASSWORD or put it in a .pgpass file (PGPASSFILE or ~/.pgpass)",
        ));
    }
    Ok(Some(v))
}

#[cfg(test)]
mod tests {
    #[test]
    fn url_and_sslmode_checked_with_position() {
        let c =
            crate::parse_str("store:\n  url: postgres://ana@db:5433/show\n  sslmode: require\n")
                .unwrap();
        assert_eq!(c.store.url.as_deref(), Some("postgres://ana@db:5433/show"));
        assert_eq!(c.store.sslmode, super::SslMode::Require);
        for (text, needle) in [
            ("store:\n  url: postgres://ana:pw@db/show\n", "PGPASSWORD"),
            (
                "store:\n  url: \"postgres://ana@db/show?password=pw@\"\n",
                "PGPASSWORD",
            ),
            ("store:\n  url: mysql://db/show\n", "postgres://"),
            ("store:\n  sslmode: sometimes\n", "sometimes"),
        ] {
            let e = crate::parse_str(text).unwrap_err();
            assert!(e.contains(needle) && e.contains('2'), "{text:?}: {e}");
            assert!(!e.contains("pw@"), "the password is never printed: {e}");
        }
    }
}
