//! Where the tracking database lives: a SQLite file (the default) or a PostgreSQL server named
//! by a `postgres://` URL (`store.url` in shotline.yaml or `SHOTLINE_DB`).
//!
//! The URL never carries a password: one on the command line or in a config file leaks through
//! `ps`, shell history and version control. The password comes from `PGPASSWORD` or a
//! `.pgpass`-format file (`PGPASSFILE`, else `~/.pgpass`), the places every PostgreSQL tool
//! reads, and no error message ever contains it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use postgres::config::{Host, SslMode};
use postgres::Client;

use crate::error::{Result, StoreError};
use crate::sql::PgClient;

/// Environment variable with the PostgreSQL password (libpq's name).
pub const PGPASSWORD_ENV: &str = "PGPASSWORD";
/// Environment variable naming a `.pgpass`-format file (libpq's name).
pub const PGPASSFILE_ENV: &str = "PGPASSFILE";

/// True when `path` is really a PostgreSQL URL (what [`crate::default_db_path`] returns for
/// `store.url` or a `postgres://` `SHOTLINE_DB`).
pub fn is_postgres_url(path: &Path) -> bool {
    path.to_str()
        .is_some_and(|s| s.starts_with("postgres://") || s.starts_with("postgresql://"))
}

/// A parsed PostgreSQL location.
#[derive(Clone)]
pub struct PgTarget {
    config: postgres::Config,
    /// The URL as given (it holds no password: one is refused).
    pub url: String,
    /// How TLS is used.
    pub tls: TlsMode,
}

impl std::fmt::Debug for PgTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgTarget")
            .field("url", &self.url)
            .field("tls", &self.tls)
            .finish_non_exhaustive()
    }
}

/// `sslmode`, as libpq spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain TCP (or a unix socket).
    Disable,
    /// TLS when the server offers it, without certificate checks (libpq's default).
    Prefer,
    /// TLS or fail, without certificate checks (libpq's `require`).
    Require,
    /// TLS with the certificate checked against the system roots and the host name.
    VerifyFull,
}

impl FromStr for TlsMode {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<TlsMode> {
        match s {
            "disable" => Ok(TlsMode::Disable),
            "prefer" => Ok(TlsMode::Prefer),
            "require" => Ok(TlsMode::Require),
            "verify-full" => Ok(TlsMode::VerifyFull),
            other => Err(StoreError::Invalid {
                what: "sslmode",
                value: other.to_string(),
                expected: "disable, prefer, require or verify-full".into(),
            }),
        }
    }
}

impl PgTarget {
    /// Parses `postgres://user@host:port/db[?sslmode=…&host=/socket/dir]`. A password in the
    /// URL is refused with the places to put it instead.
    pub fn parse(url: &str) -> Result<PgTarget> {
        let bad = |message: String| StoreError::Target {
            what: "PostgreSQL URL".into(),
            message,
        };
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let refused = || {
            bad(
                "a password in the URL is refused (it would leak through the command line, logs \
                 and config files); set PGPASSWORD, or put it in a .pgpass file (PGPASSFILE or \
                 ~/.pgpass, mode 0600: host:port:database:user:password)"
                    .into(),
            )
        };
        if query.split('&').any(|kv| kv.starts_with("password=")) {
            return Err(refused());
        }
        let mut tls = TlsMode::Prefer;
        let mut kept = Vec::new();
        for kv in query.split('&').filter(|kv| !kv.is_empty()) {
            match kv.split_once('=') {
                Some(("sslmode", v)) => tls = v.parse()?,
                _ => kept.push(kv),
            }
        }
        let clean = if kept.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        let mut config = postgres::Config::from_str(&clean).map_err(|e| {
            bad(format!(
                "{e}; expected postgres://user@host:port/database (socket: ?host=/run/dir)"
            ))
        })?;
        if config.get_password().is_some() {
            return Err(refused());
        }
        if config.get_dbname().is_none() {
            return Err(bad(
                "no database name; expected postgres://user@host:port/database".into(),
            ));
        }
        if config.get_user().is_none() {
            let user = crate::actor::os_uid_name();
            config.user(&user);
        }
        config.ssl_mode(match tls {
            TlsMode::Disable => SslMode::Disable,
            TlsMode::Prefer => SslMode::Prefer,
            TlsMode::Require | TlsMode::VerifyFull => SslMode::Require,
        });
        config.application_name("shotline");
        Ok(PgTarget {
            config,
            url: url.to_string(),
            tls,
        })
    }

    /// The same server with another database (tests, `db migrate-to`).
    pub fn with_dbname(&self, dbname: &str) -> PgTarget {
        let mut t = self.clone();
        t.config.dbname(dbname);
        let (base, query) = self.url.split_once('?').unwrap_or((&self.url, ""));
        let server = base.rsplit_once('/').map_or(base, |(s, _)| s);
        t.url = if query.is_empty() {
            format!("{server}/{dbname}")
        } else {
            format!("{server}/{dbname}?{query}")
        };
        t
    }

    /// Creates the database `name` on this server (connecting to this target's database) and
    /// returns its target. `name` is limited to `[a-z0-9_]` so it needs no quoting.
    pub fn create_database(&self, name: &str, timeout: Duration) -> Result<PgTarget> {
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(StoreError::Invalid {
                what: "database name",
                value: name.to_string(),
                expected: "lower-case letters, digits and _".into(),
            });
        }
        let mut client = self.connect(timeout)?;
        client
            .batch_execute(&format!(
                "CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8'"
            ))
            .map_err(|e| StoreError::Postgres {
                target: self.url.clone(),
                source: Box::new(e),
            })?;
        Ok(self.with_dbname(name))
    }

    /// libpq's keyword/value connection string for the server's own tools (`pg_dump`): host,
    /// port, database, user and sslmode, never a password (they read `PGPASSWORD` or the
    /// pgpass file themselves).
    pub fn conninfo(&self) -> String {
        let quote = |v: &str| format!("'{}'", v.replace('\\', "\\\\").replace('\'', "\\'"));
        let mut parts = Vec::new();
        if let Some(h) = self.config.get_hosts().first() {
            let host = match h {
                Host::Tcp(h) => h.clone(),
                #[cfg(unix)]
                Host::Unix(p) => p.to_string_lossy().into_owned(),
            };
            parts.push(format!("host={}", quote(&host)));
        }
        if let Some(p) = self.config.get_ports().first() {
            parts.push(format!("port={p}"));
        }
        parts.push(format!("dbname={}", quote(self.dbname())));
        parts.push(format!("user={}", quote(self.user())));
        let mode = match self.tls {
            TlsMode::Disable => "disable",
            TlsMode::Prefer => "prefer",
            TlsMode::Require => "require",
            TlsMode::VerifyFull => "verify-full",
        };
        parts.push(format!("sslmode={mode}"));
        parts.join(" ")
    }

    /// The database name.
    pub fn dbname(&self) -> &str {
        self.config.get_dbname().unwrap_or_default()
    }

    /// The user name.
    pub fn user(&self) -> &str {
        self.config.get_user().unwrap_or_default()
    }

    /// Connects (password from the environment or the pgpass file), waiting at most
    /// `timeout` for the server and for locks held by other writers.
    pub fn connect(&self, timeout: Duration) -> Result<Client> {
        let mut config = self.config.clone();
        if let Some(pw) = password_for(&config) {
            config.password(pw);
        }
        config.connect_timeout(Duration::from_secs(10).max(timeout.min(Duration::from_secs(60))));
        let err = |e: postgres::Error| StoreError::Postgres {
            target: self.url.clone(),
            source: Box::new(e),
        };
        let mut client = if self.tls == TlsMode::Disable {
            config.connect(postgres::NoTls).map_err(err)?
        } else {
            let connector = native_tls::TlsConnector::builder()
                .danger_accept_invalid_certs(self.tls != TlsMode::VerifyFull)
                .danger_accept_invalid_hostnames(self.tls != TlsMode::VerifyFull)
                .build()
                .map_err(|e| StoreError::Target {
                    what: self.url.clone(),
                    message: format!("TLS set-up failed: {e}"),
                })?;
            config
                .connect(postgres_native_tls::MakeTlsConnector::new(connector))
                .map_err(err)?
        };
        // The busy timeout's twin: a writer waits this long for another's lock, then fails
        // with a message instead of hanging.
        let ms = timeout.as_millis().min(i32::MAX as u128);
        client
            .batch_execute(&format!(
                "SET lock_timeout = {ms}; SET client_min_messages = error; SET TIME ZONE 'UTC'"
            ))
            .map_err(err)?;
        Ok(client)
    }
}

/// The password for `config`: `PGPASSWORD`, else the first matching line of the pgpass file.
fn password_for(config: &postgres::Config) -> Option<String> {
    if let Some(pw) = std::env::var_os(PGPASSWORD_ENV).filter(|v| !v.is_empty()) {
        return Some(pw.to_string_lossy().into_owned());
    }
    let file = std::env::var_os(PGPASSFILE_ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".pgpass")))?;
    let text = std::fs::read_to_string(file).ok()?;
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        // libpq matches a socket connection against "localhost".
        _ => "localhost".to_string(),
    };
    let port = config
        .get_ports()
        .first()
        .copied()
        .unwrap_or(5432)
        .to_string();
    let db = config.get_dbname().unwrap_or_default();
    let user = config.get_user().unwrap_or_default();
    pgpass_lookup(&text, &host, &port, db, user)
}

/// Finds the password in `.pgpass` text (`host:port:database:user:password`, `*` matches
/// anything, `\:` and `\\` escape).
pub(crate) fn pgpass_lookup(
    text: &str,
    host: &str,
    port: &str,
    db: &str,
    user: &str,
) -> Option<String> {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
        .map(pgpass_fields)
        .find(|f| {
            f.len() == 5
                && [host, port, db, user]
                    .iter()
                    .zip(f.iter())
                    .all(|(want, have)| have == "*" || have == want)
        })
        .and_then(|mut f| f.pop())
}

fn pgpass_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let (Some(next), Some(last)) = (chars.next(), fields.last_mut()) {
                    last.push(next);
                }
            }
            ':' if fields.len() < 5 => fields.push(String::new()),
            _ => {
                if let Some(last) = fields.last_mut() {
                    last.push(c);
                }
            }
        }
    }
    fields
}

/// Idle connections kept per URL, so a process that opens the store many times (the server,
/// a batch) does not pay the connect and authentication each time.
const POOL_MAX_IDLE: usize = 8;

fn pool() -> &'static Mutex<HashMap<String, Vec<PgClient>>> {
    static POOL: OnceLock<Mutex<HashMap<String, Vec<PgClient>>>> = OnceLock::new();
    POOL.get_or_init(|| Mutex::new(HashMap::new()))
}

/// A connection from the pool, or a new one.
pub(crate) fn checkout(target: &PgTarget, timeout: Duration) -> Result<PgClient> {
    let idle = pool()
        .lock()
        .ok()
        .and_then(|mut p| p.get_mut(&target.url).and_then(Vec::pop));
    let mut c = match idle {
        Some(c) if c.is_open() => c,
        _ => PgClient::new(target.connect(timeout)?),
    };
    c.return_to(&target.url);
    Ok(c)
}

/// Gives a connection back (dropped when the pool is full or it is broken).
pub(crate) fn checkin(url: &str, mut client: PgClient) {
    if !client.is_open() || client.batch("ROLLBACK").is_err() {
        return;
    }
    if let Ok(mut p) = pool().lock() {
        let idle = p.entry(url.to_string()).or_default();
        if idle.len() < POOL_MAX_IDLE {
            idle.push(client);
        }
    }
}

/// A PostgreSQL client tool: on PATH, else the newest Debian install
/// (`/usr/lib/postgresql/N/bin`), whose version matches the server we test against. Public so
/// tests and tools drive the same binaries as `db backup|restore`.
pub fn pg_tool(name: &str) -> PathBuf {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    });
    if let Some(p) = on_path {
        return p;
    }
    let mut installed: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v: u32 = e.file_name().to_string_lossy().parse().ok()?;
            let p = e.path().join("bin").join(name);
            p.is_file().then_some((v, p))
        })
        .collect();
    installed.sort();
    installed
        .pop()
        .map_or_else(|| PathBuf::from(name), |(_, p)| p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_in_url_is_refused() {
        for url in [
            "postgres://ana:secret@db/show",
            "postgres://ana@db/show?password=secret",
        ] {
            let e = PgTarget::parse(url).unwrap_err().to_string();
            assert!(e.contains("PGPASSWORD") && e.contains(".pgpass"), "{e}");
            assert!(!e.contains("secret"), "{e}");
        }
    }

    #[test]
    fn parses_sslmode_and_socket_host() {
        let t = PgTarget::parse("postgres://ana@localhost:5433/show?sslmode=require").unwrap();
        assert_eq!(t.tls, TlsMode::Require);
        assert_eq!(t.dbname(), "show");
        assert_eq!(t.user(), "ana");
        let t = PgTarget::parse("postgres://ana@/show?host=/tmp/pg&sslmode=disable").unwrap();
        assert_eq!(t.tls, TlsMode::Disable);
        assert_eq!(
            t.with_dbname("other").url,
            "postgres://ana@/other?host=/tmp/pg&sslmode=disable"
        );
        let e = PgTarget::parse("postgres://ana@db/show?sslmode=sometimes").unwrap_err();
        assert!(e.to_string().contains("verify-full"), "{e}");
    }

    #[test]
    fn conninfo_has_no_password_and_quotes_values() {
        let t = PgTarget::parse("postgres://ana@db:5433/show?sslmode=require").unwrap();
        assert_eq!(
            t.conninfo(),
            "host='db' port=5433 dbname='show' user='ana' sslmode=require"
        );
    }

    #[test]
    fn pgpass_matches_wildcards_and_escapes() {
        let text = "# comment\nother:5432:*:ana:nope\n*:5432:show:ana:pa\\:ss\n";
        assert_eq!(
            pgpass_lookup(text, "db", "5432", "show", "ana").as_deref(),
            Some("pa:ss")
        );
        assert_eq!(pgpass_lookup(text, "db", "5433", "show", "ana"), None);
    }
}
