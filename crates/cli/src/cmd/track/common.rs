//! What every tracking command needs: the database path, an open store, the acting user.

use std::path::PathBuf;

use anyhow::{Context as _, Result};
use shotline_store::{Actor, Store};

use crate::context::Ctx;

/// The database file: `$SHOTLINE_DB`, else `store.path`, else `<root>/.shotline/shotline.db`.
pub fn db_path(ctx: &Ctx) -> PathBuf {
    shotline_store::default_db_path(&ctx.project_root(), &ctx.config.config.store)
}

fn timeout(ctx: &Ctx) -> u64 {
    ctx.config.config.store.busy_timeout_ms
}

/// Opens the project database for a command that writes (migrating an older schema).
pub fn open_rw(ctx: &Ctx) -> Result<Store> {
    let path = db_path(ctx);
    tracing::info!(db = %path.display(), "opening tracking database");
    Ok(Store::open(&path, timeout(ctx))?)
}

/// Opens the project database for a command that only reads (writes nothing).
pub fn open_ro(ctx: &Ctx) -> Result<Store> {
    let path = db_path(ctx);
    tracing::info!(db = %path.display(), "opening tracking database read-only");
    Ok(Store::open_read_only(&path, timeout(ctx))?)
}

/// The acting user (`$SHOTLINE_USER` or the login), this host and process.
pub fn actor() -> Actor {
    let a = Actor::from_env();
    tracing::debug!(user = %a.user, host = %a.host, "acting user");
    a
}

/// Parses a state name, with the accepted list in the error.
pub fn state(text: &str) -> Result<shotline_store::State> {
    text.parse::<shotline_store::State>()
        .with_context(|| format!("--state {text}"))
}

/// `a-b` or a single frame, for `--range`.
pub fn parse_range(text: &str) -> Result<(i64, i64)> {
    let t = text.trim();
    let bad = || {
        anyhow::anyhow!(
            "invalid --range {text:?}: expected FIRST-LAST such as 1001-1100 (or one frame)"
        )
    };
    // Split on the '-' that separates two numbers (either may be negative).
    let split = t
        .char_indices()
        .skip(1)
        .find(|&(i, c)| c == '-' && t[..i].chars().last().is_some_and(|p| p.is_ascii_digit()))
        .map(|(i, _)| i);
    let (a, b) = match split {
        Some(i) => (&t[..i], &t[i + 1..]),
        None => (t, t),
    };
    let a: i64 = a.trim().parse().map_err(|_| bad())?;
    let b: i64 = b.trim().parse().map_err(|_| bad())?;
    if b < a {
        return Err(bad());
    }
    Ok((a, b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("1001-1100").unwrap(), (1001, 1100));
        assert_eq!(parse_range("-5--1").unwrap(), (-5, -1));
        assert_eq!(parse_range("7").unwrap(), (7, 7));
        assert!(parse_range("10-1").is_err());
        assert!(parse_range("a-b").is_err());
    }
}
