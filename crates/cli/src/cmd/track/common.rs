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
