//! `db backup|restore|check|migrate|migrate-to|user`: database care, done without risking the live file.

use anyhow::Result;
use serde::Serialize;

use super::common::{actor, db_path, open_ro, open_rw};
use super::{DbCmd, UserCmd};
use crate::context::Ctx;
use crate::output::{human_bytes, Exit};

#[derive(Serialize)]
struct BackupReport {
    database: String,
    backup: String,
    bytes: i64,
}

#[derive(Serialize)]
struct MigrateReport {
    database: String,
    from: i64,
    to: i64,
}

/// Runs `db ...`.
pub fn run(cmd: &DbCmd, ctx: &Ctx) -> Result<Exit> {
    match cmd {
        DbCmd::Backup { file } => {
            let store = open_ro(ctx)?;
            let target = if file.is_absolute() {
                file.clone()
            } else {
                ctx.cwd.join(file)
            };
            let bytes = store.backup(&target)?;
            let r = BackupReport {
                database: store.path().to_string_lossy().into_owned(),
                backup: target.to_string_lossy().into_owned(),
                bytes,
            };
            if ctx.out.json() {
                ctx.out.json_doc(&r)?;
            } else {
                ctx.out.line(format!(
                    "Backed up {} to {} ({})",
                    r.database,
                    r.backup,
                    human_bytes(bytes.max(0) as u64)
                ))?;
            }
        }
        DbCmd::Restore { file } => {
            let from = if file.is_absolute() {
                file.clone()
            } else {
                ctx.cwd.join(file)
            };
            let r = open_rw(ctx)?.restore(&actor(), &from)?;
            if ctx.out.json() {
                ctx.out.json_doc(&r)?;
            } else {
                ctx.out
                    .line(format!("Restored {} from {}", r.database, r.from))?;
                ctx.out
                    .note(format!("the database as it was is kept in {}", r.previous));
            }
        }
        DbCmd::ReleaseReservation { id } => {
            open_rw(ctx)?.release_reservation(&actor(), *id)?;
            ctx.out.line(format!("released reservation {id}"))?;
        }
        DbCmd::Check { repair, temp_age } => {
            let store = open_ro(ctx)?;
            if *repair {
                let age = std::time::Duration::from_secs(temp_age.saturating_mul(60));
                let done = store.repair(&actor(), age)?;
                for m in &done.manifests_written {
                    ctx.out.note(format!("wrote missing manifest {m}"));
                }
                for t in &done.temp_files_removed {
                    ctx.out.note(format!("removed leftover temp file {t}"));
                }
            }
            let r = store.check()?;
            let bad = r.has_problems();
            if ctx.out.json() {
                ctx.out.json_doc(&r)?;
            } else {
                for res in &r.reservations {
                    ctx.out.warn(format!(
                        "reservation {}: {} taken by {}@{}:{} at {} ({}) was never registered",
                        res.id,
                        res.version,
                        res.user,
                        res.host,
                        res.pid,
                        res.reserved_at,
                        res.path.as_deref().unwrap_or("no folder")
                    ));
                }
                for t in &r.temp_files {
                    ctx.out.warn(format!(
                        "leftover temp file {} ({} min old; db check --repair removes it)",
                        t.path,
                        t.age_s / 60
                    ));
                }
                for line in r.integrity.iter().filter(|l| *l != "ok") {
                    ctx.out.error(format!("integrity: {line}"));
                }
                for fk in &r.foreign_keys {
                    ctx.out.error(format!("foreign key: {fk}"));
                }
                for o in &r.orphans {
                    ctx.out.error(o);
                }
                ctx.out.line(format!(
                    "{}: schema v{}, {} (+{} WAL, {} free), integrity {}",
                    r.path,
                    r.schema_version,
                    human_bytes(r.db_bytes.max(0) as u64),
                    human_bytes(r.wal_bytes.max(0) as u64),
                    human_bytes(r.free_bytes.max(0) as u64),
                    if bad { "PROBLEMS" } else { "ok" }
                ))?;
                let rows: Vec<Vec<String>> = r
                    .rows
                    .iter()
                    .filter(|(_, n)| *n > 0)
                    .map(|(t, n)| vec![t.clone(), n.to_string()])
                    .collect();
                ctx.out.table(&["TABLE", "ROWS"], &rows)?;
                if r.unused_file_sequences > 0 {
                    ctx.out.note(format!(
                        "{} file sequences are not used by any version",
                        r.unused_file_sequences
                    ));
                }
            }
            return Ok(Exit::problems_if(bad));
        }
        DbCmd::Migrate => {
            let path = db_path(ctx);
            let (from, to) =
                shotline_store::migrate_file(&path, ctx.config.config.store.busy_timeout_ms)?;
            let r = MigrateReport {
                database: path.to_string_lossy().into_owned(),
                from,
                to,
            };
            if ctx.out.json() {
                ctx.out.json_doc(&r)?;
            } else if from == to {
                ctx.out
                    .line(format!("{}: schema v{to}, up to date", r.database))?;
            } else {
                ctx.out
                    .line(format!("{}: schema v{from} -> v{to}", r.database))?;
            }
        }
        DbCmd::MigrateTo { url } => {
            let path = db_path(ctx);
            let r = shotline_store::migrate_to_postgres(
                &path,
                url,
                ctx.config.config.store.busy_timeout_ms,
            )?;
            if ctx.out.json() {
                ctx.out.json_doc(&r)?;
            } else {
                let rows: Vec<Vec<String>> = r
                    .tables
                    .iter()
                    .map(|t| vec![t.table.clone(), t.rows.to_string(), t.checksum.clone()])
                    .collect();
                ctx.out.table(&["TABLE", "ROWS", "CHECKSUM"], &rows)?;
                ctx.out.line(format!(
                    "Copied {} tables ({} rows) from {} to {}, verified; the SQLite file is \
                     unchanged. Point the project at it with store.url: {}",
                    r.tables.len(),
                    r.tables.iter().map(|t| t.rows).sum::<i64>(),
                    r.from,
                    r.to,
                    r.to
                ))?;
            }
        }
        DbCmd::Locks => {
            let locks = open_ro(ctx)?.locks()?;
            let now = shotline_store::now();
            ctx.out.records(
                &locks,
                &["WHAT", "OWNER", "STATE", "HEARTBEAT", "EXPIRES"],
                |l| {
                    let state = if l.expires_at < now {
                        "expired"
                    } else {
                        "held"
                    };
                    vec![
                        l.what.clone(),
                        l.owner.clone(),
                        state.into(),
                        l.heartbeat_at.clone(),
                        l.expires_at.clone(),
                    ]
                },
            )?;
        }
        DbCmd::User(UserCmd::Set { name, role }) => {
            let role: shotline_store::Role = role.parse()?;
            let u = open_rw(ctx)?.set_role(&actor(), name, role)?;
            if ctx.out.json() {
                ctx.out.json_doc(&u)?;
            } else {
                ctx.out.line(format!("{} is now {}", u.name, u.role))?;
            }
        }
        DbCmd::User(UserCmd::Ls) => {
            let users = open_ro(ctx)?.users()?;
            ctx.out.records(&users, &["USER", "ROLE", "SINCE"], |u| {
                vec![
                    u.name.clone(),
                    u.role.to_string(),
                    u.created_at[..10.min(u.created_at.len())].to_string(),
                ]
            })?;
        }
    }
    Ok(Exit::Clean)
}
