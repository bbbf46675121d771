//! `db migrate-to postgres://…`: a SQLite project copied into an empty PostgreSQL database.
//!
//! Every table of the file is copied (tracking, audit trail, the render queue's `render_*`
//! history, any other crate's tables) in one PostgreSQL transaction: the tracking schema is
//! created by the same migrations `Store::open` runs and the render queue's by the migrations
//! `Queue::open` runs (`schema_render`: keys, checks, serial ids, so workers on several hosts
//! can share the copied queue), other tables are created from SQLite's own column list (types
//! mapped, primary key kept), rows go in foreign-key order in multi-row INSERTs, id sequences
//! are moved past the copied ids, and each table is verified by its row count and an
//! order-independent checksum of its rows read back from PostgreSQL. Anything wrong rolls
//! everything back; the SQLite file is opened read-only and never written.
//!
//! A queue file at an older render schema version lands in the current one: its rows are copied
//! column by column and columns it lacks take their defaults, exactly what migrating the file
//! would have done; `render_schema_version` is the one the render migrations wrote, not copied.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{Hash, Hasher};
use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use crate::error::{Result, SqlContext, StoreError};
use crate::schema_render;
use crate::sql::{params, Conn, Value};
use crate::target::PgTarget;

/// Rows per INSERT (PostgreSQL allows 65 535 parameters per statement).
const ROWS_PER_INSERT: usize = 500;

/// What `db migrate-to` copied.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MigrateToReport {
    /// The SQLite file (left untouched).
    pub from: String,
    /// The PostgreSQL database (URL without password).
    pub to: String,
    /// Schema version of both.
    pub schema_version: i64,
    /// One entry per table, in the order copied.
    pub tables: Vec<TableCopy>,
}

/// One copied table.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TableCopy {
    /// Table name.
    pub table: String,
    /// Rows copied (and counted again on PostgreSQL).
    pub rows: i64,
    /// Order-independent checksum of the rows, equal on both sides (hex).
    pub checksum: String,
    /// Whether the table was created by shotline's own schema (tracking or render queue), else
    /// from its SQLite columns.
    pub tracking: bool,
}

/// A SQLite column.
struct Column {
    name: String,
    decl: String,
    pk: i64,
}

/// Copies the project at `sqlite` into the empty PostgreSQL database `url`.
pub fn migrate_to_postgres(
    sqlite: &Path,
    url: &str,
    busy_timeout_ms: u64,
) -> Result<MigrateToReport> {
    let target = PgTarget::parse(url)?;
    let src = Conn::Sqlite(crate::db::connect_existing(sqlite, busy_timeout_ms, true)?);
    let version = crate::schema::refuse_newer(&src, sqlite)?;
    if version != crate::schema::SCHEMA_VERSION {
        return Err(StoreError::Invalid {
            what: "schema version",
            value: version.to_string(),
            expected: format!(
                "{}; run `shotline db migrate` on the SQLite file first",
                crate::schema::SCHEMA_VERSION
            ),
        });
    }
    let to = Path::new(&target.url).to_path_buf();
    let client = target.connect(Duration::from_millis(busy_timeout_ms))?;
    let mut dst = Conn::Postgres(Box::new(std::cell::RefCell::new(
        crate::sql::PgClient::new(client),
    )));
    refuse_non_empty(&dst, &to)?;
    let has_queue = schema_render::render_schema_version(&src, sqlite)?.is_some();
    schema_render::refuse_newer_render(&src, sqlite)?;
    let tables = tables_in_dependency_order(&src, sqlite)?;
    let tx = dst.write_tx().db(&to)?;
    crate::schema::apply_all(&tx, &to)?;
    if has_queue {
        schema_render::apply_render_pending(&tx, &to)?;
    }
    let tracking: BTreeSet<String> = tracking_tables(&tx, &to)?;
    tx.execute("DELETE FROM store_migrations", params![])
        .db(&to)?;
    let mut copies = Vec::new();
    for table in tables.iter().filter(|t| *t != "render_schema_version") {
        let cols = columns(&src, sqlite, table)?;
        let is_tracking = tracking.contains(table);
        if !is_tracking {
            tx.execute_batch(&create_table_sql(table, &cols)).db(&to)?;
        }
        let (rows, sum) = copy_rows(&src, sqlite, &tx, &to, table, &cols)?;
        reset_sequence(&tx, &to, table, &cols)?;
        let (back_rows, back_sum) = table_checksum_pg(&tx, &to, table, &cols)?;
        if back_rows != rows || back_sum != sum {
            return Err(StoreError::Corrupt {
                path: to.clone(),
                detail: format!(
                    "table {table}: copied {rows} rows (checksum {sum:016x}) but read back {back_rows} (checksum {back_sum:016x}); nothing was committed"
                ),
            });
        }
        copies.push(TableCopy {
            table: table.clone(),
            rows,
            checksum: format!("{sum:016x}"),
            tracking: is_tracking,
        });
    }
    tx.commit().db(&to)?;
    Ok(MigrateToReport {
        from: sqlite.to_string_lossy().into_owned(),
        to: target.url.clone(),
        schema_version: version,
        tables: copies,
    })
}

fn refuse_non_empty(dst: &Conn, to: &Path) -> Result<()> {
    let n: i64 = dst
        .query_row(
            "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()",
            params![],
            |r| r.get(0),
        )
        .db(to)?;
    if n > 0 {
        return Err(StoreError::Target {
            what: to.display().to_string(),
            message: format!(
                "the database already has {n} table(s); migrate-to only fills an empty database \
                 (create one with `createdb`)"
            ),
        });
    }
    Ok(())
}

fn tracking_tables(tx: &Conn, to: &Path) -> Result<BTreeSet<String>> {
    tx.query_map(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()",
        params![],
        |r| r.get(0),
    )
    .db(to)
    .map(|v: Vec<String>| v.into_iter().collect())
}

/// The file's tables, parents before children (SQLite's own `sqlite_*` tables left out).
fn tables_in_dependency_order(src: &Conn, path: &Path) -> Result<Vec<String>> {
    let names: Vec<String> = src
        .query_map(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
            params![],
            |r| r.get(0),
        )
        .db(path)?;
    let mut parents: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for n in &names {
        let set: BTreeSet<String> = src
            .query_map(
                "SELECT \"table\" FROM pragma_foreign_key_list(?1)",
                params![n],
                |r| r.get::<String>(0),
            )
            .db(path)?
            .into_iter()
            .filter(|p| p != n)
            .collect();
        parents.insert(n.clone(), set);
    }
    let mut done: Vec<String> = Vec::new();
    let mut left: BTreeSet<String> = names.iter().cloned().collect();
    while !left.is_empty() {
        let ready: Vec<String> = left
            .iter()
            .filter(|t| {
                parents.get(*t).is_none_or(|ps| {
                    ps.iter()
                        .all(|p| done.contains(p) || !left.contains(p) && !names.contains(p))
                })
            })
            .cloned()
            .collect();
        if ready.is_empty() {
            return Err(StoreError::Invalid {
                what: "table dependencies",
                value: left.iter().cloned().collect::<Vec<_>>().join(", "),
                expected: "tables whose foreign keys form no cycle".into(),
            });
        }
        for t in ready {
            left.remove(&t);
            done.push(t);
        }
    }
    Ok(done)
}

fn columns(src: &Conn, path: &Path, table: &str) -> Result<Vec<Column>> {
    src.query_map(
        "SELECT name, type, pk FROM pragma_table_info(?1) ORDER BY cid",
        params![table],
        |r| {
            Ok(Column {
                name: r.get(0)?,
                decl: r.get(1)?,
                pk: r.get(2)?,
            })
        },
    )
    .db(path)
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// PostgreSQL DDL for a non-tracking table from its SQLite columns: SQLite's type affinity
/// rules mapped to BIGINT / DOUBLE PRECISION / BYTEA / TEXT (compared byte-wise), a single
/// INTEGER primary key as BIGSERIAL (it is SQLite's rowid: new rows get ids), the primary key
/// kept. CHECKs and foreign keys stay with the crate that owns the table.
fn create_table_sql(table: &str, cols: &[Column]) -> String {
    let pk: Vec<&Column> = {
        let mut v: Vec<&Column> = cols.iter().filter(|c| c.pk > 0).collect();
        v.sort_by_key(|c| c.pk);
        v
    };
    let rowid_pk = pk.len() == 1 && pk[0].decl.eq_ignore_ascii_case("INTEGER");
    let mut defs: Vec<String> = cols
        .iter()
        .map(|c| {
            let ty = if rowid_pk && c.pk == 1 {
                "BIGSERIAL".to_string()
            } else {
                pg_type(&c.decl).to_string()
            };
            format!("{} {ty}", quote(&c.name))
        })
        .collect();
    if !pk.is_empty() {
        defs.push(format!(
            "PRIMARY KEY ({})",
            pk.iter()
                .map(|c| quote(&c.name))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    format!("CREATE TABLE {} ({})", quote(table), defs.join(", "))
}

/// SQLite's affinity rules (section 3.1 of its datatype page) as PostgreSQL types.
fn pg_type(decl: &str) -> &'static str {
    let d = decl.to_ascii_uppercase();
    if d.contains("INT") {
        "BIGINT"
    } else if d.contains("CHAR") || d.contains("CLOB") || d.contains("TEXT") {
        "TEXT COLLATE \"C\""
    } else if d.contains("BLOB") || d.is_empty() {
        "BYTEA"
    } else if d.contains("REAL") || d.contains("FLOA") || d.contains("DOUB") {
        "DOUBLE PRECISION"
    } else {
        "TEXT COLLATE \"C\""
    }
}

/// Adds one row to an order-independent checksum (a sum of per-row hashes).
fn row_hash(values: &[Value]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for v in values {
        match v {
            Value::Null => 0u8.hash(&mut h),
            Value::Int(i) => (1u8, i).hash(&mut h),
            Value::Real(r) => (2u8, r.to_bits()).hash(&mut h),
            Value::Text(t) => (3u8, t).hash(&mut h),
            Value::Blob(b) => (4u8, b).hash(&mut h),
        }
    }
    h.finish()
}

fn select_all(table: &str, cols: &[Column]) -> String {
    format!(
        "SELECT {} FROM {}",
        cols.iter()
            .map(|c| quote(&c.name))
            .collect::<Vec<_>>()
            .join(", "),
        quote(table)
    )
}

fn copy_rows(
    src: &Conn,
    sqlite: &Path,
    tx: &Conn,
    to: &Path,
    table: &str,
    cols: &[Column],
) -> Result<(i64, u64)> {
    let rows = src.query(&select_all(table, cols), params![]).db(sqlite)?;
    let mut sum = 0u64;
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let mut params = Vec::with_capacity(chunk.len() * cols.len());
        let mut groups = Vec::with_capacity(chunk.len());
        for row in chunk {
            let row = row.values();
            sum = sum.wrapping_add(row_hash(row));
            let start = params.len();
            groups.push(format!(
                "({})",
                (1..=cols.len())
                    .map(|i| format!("?{}", start + i))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            params.extend(row.iter().cloned());
        }
        let sql = format!(
            "INSERT INTO {} ({}) VALUES {}",
            quote(table),
            cols.iter()
                .map(|c| quote(&c.name))
                .collect::<Vec<_>>()
                .join(", "),
            groups.join(", ")
        );
        tx.execute(&sql, &params).db(to)?;
    }
    Ok((i64::try_from(rows.len()).unwrap_or(i64::MAX), sum))
}

fn table_checksum_pg(tx: &Conn, to: &Path, table: &str, cols: &[Column]) -> Result<(i64, u64)> {
    let rows = tx.query(&select_all(table, cols), params![]).db(to)?;
    let sum = rows
        .iter()
        .fold(0u64, |acc, r| acc.wrapping_add(row_hash(r.values())));
    Ok((i64::try_from(rows.len()).unwrap_or(i64::MAX), sum))
}

/// Moves a serial column's sequence past the copied ids, so the next insert gets a new one.
fn reset_sequence(tx: &Conn, to: &Path, table: &str, cols: &[Column]) -> Result<()> {
    let mut serials: HashMap<String, Option<String>> = HashMap::new();
    for c in cols {
        let seq: Option<String> = tx
            .query_row(
                "SELECT pg_get_serial_sequence(?1, ?2)",
                params![quote(table), c.name],
                |r| r.get(0),
            )
            .db(to)?;
        serials.insert(c.name.clone(), seq);
    }
    for (col, seq) in serials {
        if let Some(seq) = seq {
            tx.execute(
                &format!(
                    "SELECT setval(CAST(CAST(?1 AS TEXT) AS regclass), COALESCE((SELECT MAX({}) FROM {}), 0) + 1, false)",
                    quote(&col),
                    quote(table)
                ),
                params![seq],
            )
            .db(to)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A queue file left at render schema version 2 lands in the current render schema on
    /// PostgreSQL: its rows copied and verified, the column it lacked at its default, the
    /// serial ids moved past the copied ones, the version the render migrations wrote.
    #[test]
    fn an_older_render_queue_lands_in_the_current_schema() {
        let Some(url) = crate::testdb::fresh_pg_url() else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("s.db");
        let c = crate::connect(&file).unwrap();
        crate::migrate_file(&file, 5000).unwrap();
        {
            for v in 1..=2 {
                c.execute_batch(schema_render::sqlite_migration(v).unwrap())
                    .unwrap();
            }
            c.execute_batch(
                "CREATE TABLE render_schema_version (version INTEGER NOT NULL);
                 INSERT INTO render_schema_version VALUES (2);
                 INSERT INTO render_jobs (id, name, preset, frames, spec, priority, control, dir, submitted_at)
                 VALUES (7, 'old', 'generic', '1', '', 0, 'active', '', 0);
                 INSERT INTO render_tasks (job_id, idx, first_frame, last_frame, step, frame_count, state, progress)
                 VALUES (7, 0, 1, 1, 1, 1, 'done', 1.0);",
            )
            .unwrap();
        }
        drop(c);
        let r = migrate_to_postgres(&file, &url, 5000).unwrap();
        let copied = |t: &str| r.tables.iter().find(|c| c.table == t);
        assert_eq!(
            copied("render_jobs").map(|c| (c.rows, c.tracking)),
            Some((1, true))
        );
        assert_eq!(copied("render_tasks").map(|c| c.rows), Some(1));
        assert!(copied("render_schema_version").is_none());
        let mut pg = crate::open_conn(Path::new(&url), 5000, crate::OpenMode::ReadWrite).unwrap();
        assert_eq!(
            schema_render::render_schema_version(&pg, Path::new(&url)).unwrap(),
            Some(schema_render::RENDER_SCHEMA_VERSION)
        );
        let row = pg
            .query_one(
                "SELECT executor, submitted_by FROM render_jobs WHERE id = 7",
                params![],
            )
            .unwrap();
        assert_eq!(row.get::<String>(0).unwrap(), "local");
        assert_eq!(row.get::<Option<String>>(1).unwrap(), None);
        let next: i64 = pg
            .query_row(
                "INSERT INTO render_jobs (name, preset, frames, spec, priority, control, dir, submitted_at)
                 VALUES ('new', 'generic', '1', '', 0, 'active', '', 0) RETURNING id",
                params![],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(next, 8);
        assert_eq!(
            schema_render::migrate_render(&mut pg, Path::new(&url)).unwrap(),
            schema_render::RENDER_SCHEMA_VERSION
        );
    }

    #[test]
    fn sqlite_types_map_by_affinity() {
        assert_eq!(pg_type("INTEGER"), "BIGINT");
        assert_eq!(pg_type("varchar(10)"), "TEXT COLLATE \"C\"");
        assert_eq!(pg_type("REAL"), "DOUBLE PRECISION");
        assert_eq!(pg_type(""), "BYTEA");
        let cols = vec![
            Column {
                name: "id".into(),
                decl: "INTEGER".into(),
                pk: 1,
            },
            Column {
                name: "state".into(),
                decl: "TEXT".into(),
                pk: 0,
            },
        ];
        assert_eq!(
            create_table_sql("zz_history", &cols),
            "CREATE TABLE \"zz_history\" (\"id\" BIGSERIAL, \"state\" TEXT COLLATE \"C\", PRIMARY KEY (\"id\"))"
        );
    }
}
