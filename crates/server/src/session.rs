//! Browser sessions, kept in the store's `server_sessions` table (a restart logs nobody out),
//! with idle expiry; and the login rate limit (in memory: it only has to outlast a minute).
//!
//! The cookie carries a random token; the table keeps only its SHA-256, so a copy of the
//! database holds no usable session.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use shotline_store::sql::{params, Backend, Conn, OptionalExt};

use crate::accounts::{random_hex, sha256_hex};
use crate::error::{Result, SqlContext};

/// How long a session lives without use, unless `shotline serve --session-idle-mins` says.
pub const SESSION_IDLE: Duration = Duration::from_secs(12 * 3600);
/// Failed logins allowed per window, per client address and per user name.
pub const LOGIN_FAILURES: u32 = 5;
/// The rate-limit window.
pub const LOGIN_WINDOW: Duration = Duration::from_secs(60);
/// The session cookie's name.
pub const COOKIE: &str = "shotline_session";
/// A session's expiry moves forward at most this often: reading the grid must not write the
/// database on every request.
const TOUCH_EVERY_SECS: i64 = 60;

/// One logged-in browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The store user.
    pub user: String,
    /// The token every mutation must echo in `X-CSRF-Token`.
    pub csrf: String,
}

/// A new session's cookie token and CSRF token.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// The secret for the cookie (only its hash is stored).
    pub token: String,
    /// The CSRF token.
    pub csrf: String,
}

/// Seconds since the Unix epoch (the clock of `last_seen` and `expires_at`).
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn idle_secs(idle: Duration) -> i64 {
    i64::try_from(idle.as_secs()).unwrap_or(i64::MAX).max(1)
}

/// Starts a session for `user` at `now`, dropping expired ones on the way.
pub fn start(conn: &Conn, db: &Path, user: &str, idle: Duration, now: i64) -> Result<NewSession> {
    let new = NewSession {
        token: random_hex(32),
        csrf: random_hex(32),
    };
    conn.execute(
        "DELETE FROM server_sessions WHERE expires_at <= ?1",
        params![now],
    )
    .sql(db, "dropping expired sessions")?;
    conn.execute(
        "INSERT INTO server_sessions (token_sha256, \"user\", csrf, created_at, last_seen, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            sha256_hex(&new.token),
            user,
            new.csrf,
            shotline_store::now(),
            now,
            now.saturating_add(idle_secs(idle))
        ],
    )
    .sql(db, "storing a session")?;
    Ok(new)
}

/// The live session with this cookie token at `now`. With `touch`, its expiry moves to
/// `now + idle` (written at most once a minute).
pub fn lookup(
    conn: &Conn,
    db: &Path,
    token: &str,
    idle: Duration,
    now: i64,
    touch: bool,
) -> Result<Option<Session>> {
    let hash = sha256_hex(token);
    let row: Option<(i64, String, String, i64)> = conn
        .query_row(
            "SELECT id, \"user\", csrf, last_seen FROM server_sessions
             WHERE token_sha256 = ?1 AND expires_at > ?2",
            params![hash, now],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()
        .sql(db, "reading a session")?;
    let Some((id, user, csrf, last_seen)) = row else {
        return Ok(None);
    };
    let every = TOUCH_EVERY_SECS.min(idle_secs(idle) / 4);
    if touch && now.saturating_sub(last_seen) >= every {
        conn.execute(
            "UPDATE server_sessions SET last_seen = ?1, expires_at = ?2 WHERE id = ?3",
            params![now, now.saturating_add(idle_secs(idle)), id],
        )
        .sql(db, "keeping a session alive")?;
    }
    Ok(Some(Session { user, csrf }))
}

/// Ends the session with this cookie token.
pub fn end(conn: &Conn, db: &Path, token: &str) -> Result<()> {
    conn.execute(
        "DELETE FROM server_sessions WHERE token_sha256 = ?1",
        params![sha256_hex(token)],
    )
    .sql(db, "ending a session")?;
    Ok(())
}

/// Ends every session of `user`; returns how many there were.
pub fn end_all_of(conn: &Conn, db: &Path, user: &str) -> Result<usize> {
    conn.execute(
        "DELETE FROM server_sessions WHERE \"user\" = ?1",
        params![user],
    )
    .sql(db, "ending a user's sessions")
}

/// A value that changes whenever a session or token is added or removed (login, logout,
/// password change, revocation, from this server or the command line): open event streams
/// check their credential again when it moves. Read from the tables themselves, so it works
/// the same on SQLite and PostgreSQL (no file time, no `data_version`): a removal lowers a
/// count, an addition moves the newest id. On PostgreSQL that is the id sequence, which never
/// goes back, so even a token made and revoked between two polls moves it; SQLite has no such
/// counter without AUTOINCREMENT, so there the highest id (the poller also re-checks open
/// streams now and then).
pub fn credentials_marker(conn: &Conn, db: &Path) -> Result<String> {
    let newest = |table: &str| match conn.backend() {
        Backend::Sqlite => format!("(SELECT COALESCE(max(id), 0) FROM {table})"),
        Backend::Postgres => format!(
            "COALESCE(pg_sequence_last_value(CAST(pg_get_serial_sequence('{table}', 'id') \
             AS regclass)), 0)"
        ),
    };
    let n: [i64; 4] = conn
        .query_row(
            &format!(
                "SELECT (SELECT count(*) FROM server_sessions), {},
                        (SELECT count(*) FROM server_tokens), {}",
                newest("server_sessions"),
                newest("server_tokens")
            ),
            params![],
            |r| Ok([r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?]),
        )
        .sql(db, "reading the credentials marker")?;
    Ok(format!("{}:{}/{}:{}", n[0], n[1], n[2], n[3]))
}

/// Recent login failures (the rate limit) and how long sessions live.
#[derive(Debug)]
pub struct Sessions {
    /// Idle lifetime of a session.
    pub idle: Duration,
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl Default for Sessions {
    fn default() -> Sessions {
        Sessions::new(SESSION_IDLE)
    }
}

impl Sessions {
    /// Sessions that expire after `idle` without use.
    pub fn new(idle: Duration) -> Sessions {
        Sessions {
            idle,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// False when the address or the user name has used up its failed attempts.
    pub fn may_try(&self, ip: IpAddr, user: &str) -> bool {
        let failures = lock(&self.failures);
        [ip_key(ip), user_key(user)].iter().all(|k| {
            failures
                .get(k)
                .is_none_or(|(n, since)| *n < LOGIN_FAILURES || since.elapsed() >= LOGIN_WINDOW)
        })
    }

    /// Counts a failed login against the address and the user name.
    pub fn failed(&self, ip: IpAddr, user: &str) {
        let mut failures = lock(&self.failures);
        failures.retain(|_, (_, since)| since.elapsed() < LOGIN_WINDOW);
        for k in [ip_key(ip), user_key(user)] {
            let e = failures.entry(k).or_insert((0, Instant::now()));
            e.0 = e.0.saturating_add(1);
        }
    }

    /// Forgets the user name's failures after a good login (the address keeps its count).
    pub fn succeeded(&self, user: &str) {
        lock(&self.failures).remove(&user_key(user));
    }
}

fn ip_key(ip: IpAddr) -> String {
    format!("ip:{ip}")
}

fn user_key(user: &str) -> String {
    format!("user:{user}")
}

/// A poisoned lock only means another request panicked mid-update of a plain map: keep going.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Constant-time comparison for secrets.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    shotline_store::testdb::on_both! {
    fn sessions_persist_expire_when_idle_and_end(b) {
        let Some((_d, path)) = crate::testutil::project_db(b) else {
            return;
        };
        let conn = crate::accounts::open(&path, 5000).unwrap();
        let idle = Duration::from_secs(600);
        let s = start(&conn, &path, "ana", idle, 1000).unwrap();
        // Another connection (a restarted server) finds it; only the hash is stored.
        let other = crate::accounts::open(&path, 5000).unwrap();
        let got = lookup(&other, &path, &s.token, idle, 1100, true)
            .unwrap()
            .unwrap();
        assert_eq!(
            got,
            Session {
                user: "ana".into(),
                csrf: s.csrf.clone()
            }
        );
        let stored: String = conn
            .query_row(
                "SELECT token_sha256 FROM server_sessions",
                params![],
                |r| r.get(0),
            )
            .unwrap();
        assert_ne!(stored, s.token);
        // Use at 1100 moved the expiry to 1700: alive at 1650, gone at 1700 without use.
        assert!(lookup(&conn, &path, &s.token, idle, 1650, false)
            .unwrap()
            .is_some());
        assert!(lookup(&conn, &path, &s.token, idle, 1700, false)
            .unwrap()
            .is_none());
        // Ending one leaves the others; a password change ends all of a user's.
        let a = start(&conn, &path, "ana", idle, 2000).unwrap();
        let b = start(&conn, &path, "ana", idle, 2000).unwrap();
        let c = start(&conn, &path, "bob", idle, 2000).unwrap();
        end(&conn, &path, &a.token).unwrap();
        assert!(lookup(&conn, &path, &a.token, idle, 2001, false)
            .unwrap()
            .is_none());
        assert!(lookup(&conn, &path, &b.token, idle, 2001, false)
            .unwrap()
            .is_some());
        let before = credentials_marker(&conn, &path).unwrap();
        assert_eq!(end_all_of(&conn, &path, "ana").unwrap(), 1);
        assert_ne!(credentials_marker(&conn, &path).unwrap(), before);
        assert!(lookup(&conn, &path, &b.token, idle, 2001, false)
            .unwrap()
            .is_none());
        assert!(lookup(&conn, &path, &c.token, idle, 2001, false)
            .unwrap()
            .is_some());
        // The expired first session was swept when the later ones started.
        let n: i64 = conn
            .query_row("SELECT count(*) FROM server_sessions", params![], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(n, 1);
    }
    }

    #[test]
    fn failures_lock_out_after_the_limit() {
        let s = Sessions::default();
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        for _ in 0..LOGIN_FAILURES {
            assert!(s.may_try(ip, "ana"));
            s.failed(ip, "ana");
        }
        assert!(!s.may_try(ip, "ana"));
        assert!(!s.may_try("10.0.0.1".parse().unwrap(), "ana"));
        assert!(!s.may_try(ip, "bob"));
    }

    #[test]
    fn secrets_compare() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "ab"));
    }
}
