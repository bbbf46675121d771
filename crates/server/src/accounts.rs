//! Credentials kept beside the tracking data: argon2 password hashes, API tokens and browser
//! sessions.
//!
//! They live in the store's own tables (`server_users`, `server_tokens`, `server_sessions`,
//! schema migration 4), so a database copy or restore carries them and no request ever creates
//! a table. Roles are never stored here: who may do what is always the store's `users.role`,
//! read at request time.

use std::path::Path;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use sha2::{Digest, Sha256};
use shotline_store::sql::{params, Conn, OptionalExt, Row};
use shotline_store::{Actor, OpenMode, Role, Store};

use crate::error::{Result, ServerError, SqlContext};

/// Shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 8;

/// Who a credential belongs to and the role the store gives them now.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Identity {
    /// The store user name.
    pub user: String,
    /// Their role in the store.
    pub role: Role,
}

/// A newly made API token: shown once, only its SHA-256 is kept.
#[derive(Debug, Clone, serde::Serialize)]
pub struct NewToken {
    /// The token id (for revoking).
    pub id: i64,
    /// The owner.
    pub user: String,
    /// The secret, `slt_` + 64 hex digits.
    pub token: String,
}

/// An API token as listed (never the secret: only its hash is kept).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TokenInfo {
    /// The token id (for revoking).
    pub id: i64,
    /// The user it acts as.
    pub user: String,
    /// What it is for.
    pub label: String,
    /// When it was made.
    pub created_at: String,
}

/// Opens the project database (SQLite file or PostgreSQL URL) for the credential tables (the
/// store's migration 4 made them on both backends; callers open the [`Store`] first, which
/// migrates).
pub fn open(db: &Path, busy_timeout_ms: u64) -> Result<Conn> {
    Ok(shotline_store::open_conn(
        db,
        busy_timeout_ms,
        OpenMode::ReadWrite,
    )?)
}

/// Sets `name`'s password and ends every session of `name` (a changed password must lock out
/// whoever knew the old one). The user must exist in the store; a user may set their own
/// password, a project_admin or admin anyone's. Returns how many sessions were ended.
pub fn set_password(store: &Store, actor: &Actor, name: &str, password: &str) -> Result<usize> {
    check_may_manage(store, actor, name)?;
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(ServerError::Invalid {
            what: "password",
            value: "(hidden)".into(),
            expected: format!("at least {MIN_PASSWORD_LEN} characters"),
        });
    }
    let salt = SaltString::generate(&mut OsRng);
    let hash = Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| ServerError::Hash(e.to_string()))?
        .to_string();
    let conn = open(store.path(), 5000)?;
    conn.execute(
        "INSERT INTO server_users (name, password_hash, updated_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (name) DO UPDATE SET password_hash = excluded.password_hash,
           updated_at = excluded.updated_at",
        params![name, hash, shotline_store::now()],
    )
    .sql(store.path(), "storing a password hash")?;
    crate::session::end_all_of(&conn, store.path(), name)
}

/// Makes an API token for `name` (same permission rule as [`set_password`]).
pub fn create_token(store: &Store, actor: &Actor, name: &str, label: &str) -> Result<NewToken> {
    check_may_manage(store, actor, name)?;
    let token = format!("slt_{}", random_hex(32));
    let conn = open(store.path(), 5000)?;
    let id: i64 = conn
        .query_row(
            "INSERT INTO server_tokens (name, token_sha256, label, created_at)
             VALUES (?1, ?2, ?3, ?4) RETURNING id",
            params![name, sha256_hex(&token), label, shotline_store::now()],
            |r| r.get(0),
        )
        .sql(store.path(), "storing an API token")?;
    Ok(NewToken {
        id,
        user: name.to_string(),
        token,
    })
}

/// The API tokens of `name` (same permission rule as [`set_password`]), oldest first.
pub fn list_tokens(store: &Store, actor: &Actor, name: &str) -> Result<Vec<TokenInfo>> {
    check_may_manage(store, actor, name)?;
    let conn = open(store.path(), 5000)?;
    conn.query_map(
        "SELECT id, name, label, created_at FROM server_tokens WHERE name = ?1 ORDER BY id",
        params![name],
        row_to_token,
    )
    .sql(store.path(), "listing API tokens")
}

/// Revokes token `id`: from the next request on, it is refused (401), and event streams opened
/// with it close. The actor must be allowed to manage the token's owner.
pub fn revoke_token(store: &Store, actor: &Actor, id: i64) -> Result<TokenInfo> {
    let conn = open(store.path(), 5000)?;
    let token = conn
        .query_row(
            "SELECT id, name, label, created_at FROM server_tokens WHERE id = ?1",
            params![id],
            row_to_token,
        )
        .optional()
        .sql(store.path(), "reading an API token")?
        .ok_or_else(|| ServerError::Invalid {
            what: "token id",
            value: id.to_string(),
            expected: "the id of an existing token (see `shotline user token ls NAME`)".into(),
        })?;
    check_may_manage(store, actor, &token.user)?;
    conn.execute("DELETE FROM server_tokens WHERE id = ?1", params![id])
        .sql(store.path(), "revoking an API token")?;
    Ok(token)
}

fn row_to_token(r: &Row) -> shotline_store::sql::Result<TokenInfo> {
    Ok(TokenInfo {
        id: r.get(0)?,
        user: r.get(1)?,
        label: r.get(2)?,
        created_at: r.get(3)?,
    })
}

fn check_may_manage(store: &Store, actor: &Actor, name: &str) -> Result<()> {
    let users = store.users()?;
    if !users.iter().any(|u| u.name == name) {
        return Err(ServerError::Invalid {
            what: "user",
            value: name.to_string(),
            expected: "a user the project knows (add one with `shotline db user set NAME ROLE`)"
                .into(),
        });
    }
    let my_role = store.role_of(&actor.user)?;
    if actor.user != name && my_role < Role::ProjectAdmin {
        return Err(ServerError::Forbidden(format!(
            "{} ({my_role}) may not set credentials of {name}: needs project_admin",
            actor.user
        )));
    }
    Ok(())
}

/// Checks a password. Unknown users are checked against a dummy hash so the answer takes the
/// same time whether or not the name exists.
pub fn verify_password(conn: &Conn, db: &Path, name: &str, password: &str) -> Result<bool> {
    let stored: Option<String> = conn
        .query_row(
            "SELECT password_hash FROM server_users WHERE name = ?1",
            params![name],
            |r| r.get(0),
        )
        .optional()
        .sql(db, "reading a password hash")?;
    let (hash_text, known) = match stored {
        Some(h) => (h, true),
        None => (dummy_hash().to_string(), false),
    };
    let hash = PasswordHash::new(&hash_text).map_err(|e| ServerError::Hash(e.to_string()))?;
    let ok = Argon2::default()
        .verify_password(password.as_bytes(), &hash)
        .is_ok();
    Ok(ok && known)
}

fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(b"not a password anyone has", &salt)
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

/// The owner of an API token, if it is one we issued.
pub fn token_owner(conn: &Conn, db: &Path, token: &str) -> Result<Option<String>> {
    conn.query_row(
        "SELECT name FROM server_tokens WHERE token_sha256 = ?1",
        params![sha256_hex(token)],
        |r| r.get(0),
    )
    .optional()
    .sql(db, "reading API tokens")
}

/// `n` random bytes from the OS, as hex (session ids, CSRF tokens, API tokens).
pub fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    OsRng.fill_bytes(&mut bytes);
    hex(&bytes)
}

/// SHA-256 of a secret, as hex: what the tables keep instead of the secret.
pub(crate) fn sha256_hex(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_hex_is_long_and_distinct() {
        let a = random_hex(32);
        assert_eq!(a.len(), 64);
        assert_ne!(a, random_hex(32));
    }

    /// What servers before schema migration 4 ran on every request.
    const OLD_SCHEMA: &str = "
        CREATE TABLE IF NOT EXISTS server_users (
            name TEXT PRIMARY KEY NOT NULL,
            password_hash TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS server_tokens (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            token_sha256 TEXT NOT NULL UNIQUE,
            label TEXT NOT NULL,
            created_at TEXT NOT NULL
        );";

    #[test]
    fn credentials_made_by_the_old_server_survive_migration_4() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("old.db");
        let boss = Actor::named("boss");
        drop(Store::create(&db, &crate::testutil::project(dir.path()), &boss).unwrap());
        // Back to a schema-3 file whose credential tables the old server made and filled.
        let conn = shotline_store::connect(&db).unwrap();
        conn.execute_batch(
            "DROP TABLE server_sessions; DROP TABLE server_tokens; DROP TABLE server_users;
             DELETE FROM store_migrations WHERE version = 4;",
        )
        .unwrap();
        conn.execute_batch(OLD_SCHEMA).unwrap();
        let salt = SaltString::generate(&mut OsRng);
        let hash = Argon2::default()
            .hash_password(b"old-password", &salt)
            .unwrap()
            .to_string();
        conn.execute(
            "INSERT INTO server_users VALUES ('boss', ?1, 'then')",
            [hash],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO server_tokens (name, token_sha256, label, created_at)
             VALUES ('boss', ?1, 'old script', 'then')",
            [sha256_hex("slt_old")],
        )
        .unwrap();
        drop(conn);
        let store = Store::open(&db, 5000).unwrap();
        assert_eq!(store.schema_version().unwrap(), 4);
        let conn = open(&db, 5000).unwrap();
        assert!(verify_password(&conn, &db, "boss", "old-password").unwrap());
        assert_eq!(
            token_owner(&conn, &db, "slt_old").unwrap().as_deref(),
            Some("boss")
        );
        let s =
            crate::session::start(&conn, &db, "boss", crate::session::SESSION_IDLE, 10).unwrap();
        assert!(crate::session::lookup(
            &conn,
            &db,
            &s.token,
            crate::session::SESSION_IDLE,
            11,
            false
        )
        .unwrap()
        .is_some());
        let listed = list_tokens(&store, &boss, "boss").unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].label, "old script");
        // Revoked: gone at once.
        revoke_token(&store, &boss, listed[0].id).unwrap();
        assert_eq!(token_owner(&conn, &db, "slt_old").unwrap(), None);
        // A password change ends the user's sessions.
        assert_eq!(
            set_password(&store, &boss, "boss", "new-password").unwrap(),
            1
        );
        assert!(crate::session::lookup(
            &conn,
            &db,
            &s.token,
            crate::session::SESSION_IDLE,
            12,
            false
        )
        .unwrap()
        .is_none());
    }

    shotline_store::testdb::on_both! {
    fn passwords_and_tokens_on_the_project_database(b) {
        let Some((_d, db)) = crate::testutil::project_db(b) else {
            return;
        };
        let boss = Actor::named("boss");
        let mut store = Store::open(&db, 5000).unwrap();
        store
            .set_role(&boss, "ana", Role::Standard)
            .unwrap();
        let ana = Actor::named("ana");
        assert_eq!(set_password(&store, &boss, "ana", "ana-password").unwrap(), 0);
        // An artist manages only their own credentials.
        assert!(matches!(
            set_password(&store, &ana, "boss", "hijacked-pw"),
            Err(ServerError::Forbidden(_))
        ));
        let conn = open(&db, 5000).unwrap();
        assert!(verify_password(&conn, &db, "ana", "ana-password").unwrap());
        assert!(!verify_password(&conn, &db, "ana", "wrong-password").unwrap());
        assert!(!verify_password(&conn, &db, "ghost", "ana-password").unwrap());
        let first = create_token(&store, &ana, "ana", "script").unwrap();
        let second = create_token(&store, &boss, "ana", "farm").unwrap();
        assert!(second.id > first.id);
        assert_eq!(
            token_owner(&conn, &db, &first.token).unwrap().as_deref(),
            Some("ana")
        );
        let listed = list_tokens(&store, &ana, "ana").unwrap();
        assert_eq!(
            listed.iter().map(|t| t.label.as_str()).collect::<Vec<_>>(),
            ["script", "farm"]
        );
        let before = crate::session::credentials_marker(&conn, &db).unwrap();
        assert_eq!(revoke_token(&store, &ana, first.id).unwrap().id, first.id);
        assert_ne!(crate::session::credentials_marker(&conn, &db).unwrap(), before);
        assert_eq!(token_owner(&conn, &db, &first.token).unwrap(), None);
        assert!(matches!(
            revoke_token(&store, &ana, first.id),
            Err(ServerError::Invalid { .. })
        ));
        // Made and revoked between two polls: PostgreSQL's marker still moves.
        let before = crate::session::credentials_marker(&conn, &db).unwrap();
        let brief = create_token(&store, &ana, "ana", "brief").unwrap();
        revoke_token(&store, &ana, brief.id).unwrap();
        if b == shotline_store::testdb::TestDb::Postgres {
            assert_ne!(crate::session::credentials_marker(&conn, &db).unwrap(), before);
        }
        // A new password ends the user's sessions.
        let s = crate::session::start(&conn, &db, "ana", crate::session::SESSION_IDLE, 10)
            .unwrap();
        assert_eq!(set_password(&store, &ana, "ana", "new-password").unwrap(), 1);
        assert!(crate::session::lookup(
            &conn,
            &db,
            &s.token,
            crate::session::SESSION_IDLE,
            11,
            false
        )
        .unwrap()
        .is_none());
    }
    }

    #[test]
    fn sha_is_stable() {
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
