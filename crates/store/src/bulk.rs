//! Multi-row INSERTs: one statement per chunk of rows instead of one per row. On PostgreSQL
//! every statement is a network round trip, so a 10,000-version batch sent row by row spent most
//! of its time waiting on the wire; on SQLite fewer statements also save the per-step overhead.

use crate::sql::{Conn, Result, Row, Value};

/// Rows per statement. The widest caller (versions, 23 columns) sends 11,500 parameters, well
/// under both backends' limits (SQLite 32,766; PostgreSQL 65,535).
const CHUNK_ROWS: usize = 500;

/// One multi-row INSERT: `INSERT INTO {into} VALUES (…), (…) {tail}`.
pub(crate) struct Insert<'a> {
    /// Table and column list, e.g. `dependencies (version_id, uses_id)`.
    pub into: &'a str,
    /// Values per row (the number of columns).
    pub width: usize,
    /// What follows the VALUES list: an `ON CONFLICT` clause, a `RETURNING` list, or nothing.
    pub tail: &'a str,
}

impl Insert<'_> {
    /// Inserts `values` (row after row, `width` each) in chunks and returns what `RETURNING`
    /// yields, chunk after chunk (each backend leaves the order inside a chunk unspecified:
    /// callers match returned rows by a key, never by position).
    pub(crate) fn run(&self, conn: &Conn, values: &[Value]) -> Result<Vec<Row>> {
        let mut out = Vec::new();
        if self.width == 0 {
            return Ok(out);
        }
        for chunk in values.chunks(self.width * CHUNK_ROWS) {
            let sql = self.sql(chunk.len() / self.width);
            out.extend(conn.query(&sql, chunk)?);
        }
        Ok(out)
    }

    /// The statement for `rows` rows, placeholders numbered `?1…`.
    fn sql(&self, rows: usize) -> String {
        let mut sql = format!("INSERT INTO {} VALUES ", self.into);
        let mut n = 0;
        for r in 0..rows {
            if r > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for c in 0..self.width {
                n += 1;
                if c > 0 {
                    sql.push_str(", ");
                }
                sql.push('?');
                sql.push_str(&n.to_string());
            }
            sql.push(')');
        }
        sql.push(' ');
        sql.push_str(self.tail);
        sql
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_number_across_rows() {
        let i = Insert {
            into: "t (a, b)",
            width: 2,
            tail: "RETURNING a",
        };
        assert_eq!(
            i.sql(2),
            "INSERT INTO t (a, b) VALUES (?1, ?2), (?3, ?4) RETURNING a"
        );
    }
}
