//! Who is calling: an API token (`Authorization: Bearer`) or a session cookie. Every project
//! route takes a [`Caller`], so nothing is served anonymously; mutations also call
//! [`Caller::check_csrf`].

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};

use crate::error::{Result, ServerError};
use crate::session::{same_secret, COOKIE};
use crate::App;

/// The header a browser mutation must carry, equal to its session's CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// How the caller proved who they are.
#[derive(Debug, Clone)]
pub enum Via {
    /// A script with an API token: not an ambient credential, so no CSRF token is needed.
    Token {
        /// The token (to check again that it was not revoked while a stream is open).
        token: String,
    },
    /// A browser session; mutations must echo its CSRF token.
    Session {
        /// The session id (for logout).
        id: String,
        /// The session's CSRF token.
        csrf: String,
    },
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The store user name.
    pub user: String,
    /// How they authenticated.
    pub via: Via,
}

/// Whether the credential a caller used is still good (not logged out, expired, revoked, or
/// ended by a password change). Open event streams ask when credentials change.
pub(crate) fn still_valid(app: &App, via: &Via) -> Result<bool> {
    let conn = crate::accounts::open(&app.db, app.busy_timeout_ms)?;
    Ok(match via {
        Via::Token { token } => crate::accounts::token_owner(&conn, &app.db, token)?.is_some(),
        Via::Session { id, .. } => crate::session::lookup(
            &conn,
            &app.db,
            id,
            app.sessions.idle,
            crate::session::unix_now(),
            false,
        )?
        .is_some(),
    })
}

impl Caller {
    /// Refuses a cookie-authenticated mutation without the matching `X-CSRF-Token` header.
    pub fn check_csrf(&self, headers: &HeaderMap) -> Result<()> {
        match &self.via {
            Via::Token { .. } => Ok(()),
            Via::Session { csrf, .. } => {
                let given = headers
                    .get(CSRF_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                if !given.is_empty() && same_secret(given, csrf) {
                    Ok(())
                } else {
                    Err(ServerError::Forbidden(
                        "missing or wrong X-CSRF-Token header (get it from GET /api/v1/session)"
                            .into(),
                    ))
                }
            }
        }
    }
}

impl FromRequestParts<App> for Caller {
    type Rejection = ServerError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Caller> {
        if let Some(token) = bearer(&parts.headers) {
            let token = token.to_string();
            let (app, secret) = (app.clone(), token.clone());
            let owner = crate::api::blocking(move || {
                let conn = crate::accounts::open(&app.db, app.busy_timeout_ms)?;
                crate::accounts::token_owner(&conn, &app.db, &secret)
            })
            .await?;
            return owner
                .map(|user| Caller {
                    user,
                    via: Via::Token { token },
                })
                .ok_or_else(|| ServerError::Unauthorized("unknown or revoked API token".into()));
        }
        let id = session_cookie(&parts.headers)
            .ok_or_else(|| ServerError::Unauthorized("log in first".into()))?
            .to_string();
        let (a, token) = (app.clone(), id.clone());
        let s = crate::api::blocking(move || {
            let conn = crate::accounts::open(&a.db, a.busy_timeout_ms)?;
            crate::session::lookup(
                &conn,
                &a.db,
                &token,
                a.sessions.idle,
                crate::session::unix_now(),
                true,
            )
        })
        .await?
        .ok_or_else(|| ServerError::Unauthorized("session expired; log in again".into()))?;
        Ok(Caller {
            user: s.user,
            via: Via::Session { id, csrf: s.csrf },
        })
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// The session id from the `Cookie` header(s).
pub fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v)
}

/// The `Set-Cookie` value for a new session (or, with `None`, one that clears it).
pub fn cookie(id: Option<&str>, idle: std::time::Duration, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    match id {
        Some(id) => format!(
            "{COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{secure}",
            idle.as_secs()
        ),
        None => format!("{COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0{secure}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_session_cookie_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "a=1; shotline_session=abc; b=2".parse().unwrap(),
        );
        assert_eq!(session_cookie(&h), Some("abc"));
    }

    #[test]
    fn bearer_tokens() {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, "Bearer slt_x".parse().unwrap());
        assert_eq!(bearer(&h), Some("slt_x"));
        h.insert(header::AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(bearer(&h), None);
    }

    #[test]
    fn cookie_is_http_only_and_strict() {
        let c = cookie(Some("x"), crate::session::SESSION_IDLE, false);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict"));
        assert!(cookie(Some("x"), crate::session::SESSION_IDLE, true).ends_with("; Secure"));
    }
}
