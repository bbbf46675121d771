//! Browser sessions (kept in memory: a restart logs everyone out) and the login rate limit.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::accounts::random_hex;

/// How long a session lives without use.
pub const SESSION_IDLE: Duration = Duration::from_secs(12 * 3600);
/// Failed logins allowed per window, per client address and per user name.
pub const LOGIN_FAILURES: u32 = 5;
/// The rate-limit window.
pub const LOGIN_WINDOW: Duration = Duration::from_secs(60);
/// The session cookie's name.
pub const COOKIE: &str = "shotline_session";

/// One logged-in browser.
#[derive(Debug, Clone)]
pub struct Session {
    /// The store user.
    pub user: String,
    /// The token every mutation must echo in `X-CSRF-Token`.
    pub csrf: String,
    last_used: Instant,
}

/// Sessions by id, and recent login failures.
#[derive(Debug, Default)]
pub struct Sessions {
    live: Mutex<HashMap<String, Session>>,
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl Sessions {
    /// Starts a session for `user`; returns its id and CSRF token.
    pub fn start(&self, user: &str) -> (String, String) {
        let id = random_hex(32);
        let csrf = random_hex(32);
        let mut live = lock(&self.live);
        live.retain(|_, s| s.last_used.elapsed() < SESSION_IDLE);
        live.insert(
            id.clone(),
            Session {
                user: user.to_string(),
                csrf: csrf.clone(),
                last_used: Instant::now(),
            },
        );
        (id, csrf)
    }

    /// The live session with this id (touching it).
    pub fn get(&self, id: &str) -> Option<Session> {
        let mut live = lock(&self.live);
        match live.get_mut(id) {
            Some(s) if s.last_used.elapsed() < SESSION_IDLE => {
                s.last_used = Instant::now();
                Some(s.clone())
            }
            Some(_) => {
                live.remove(id);
                None
            }
            None => None,
        }
    }

    /// Ends a session.
    pub fn end(&self, id: &str) {
        lock(&self.live).remove(id);
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

    #[test]
    fn sessions_start_and_end() {
        let s = Sessions::default();
        let (id, csrf) = s.start("ana");
        let got = s.get(&id).unwrap();
        assert_eq!(got.user, "ana");
        assert_eq!(got.csrf, csrf);
        s.end(&id);
        assert!(s.get(&id).is_none());
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
