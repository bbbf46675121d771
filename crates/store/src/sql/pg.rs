//! The PostgreSQL side of the seam: `?N` rewritten to `$N`, prepared statements cached per
//! connection, and values adapted to the type the server inferred for each parameter (so the
//! modules bind an `i64` whether the column is BIGINT, or the parameter is compared with text).

use std::collections::HashMap;
use std::error::Error as StdError;

use postgres::error::SqlState;
use postgres::types::{to_sql_checked, FromSql, IsNull, ToSql, Type};
use postgres::{Client, Statement};

use super::{Constraint, Result, Row, SqlError, Value};

/// A PostgreSQL connection and its statement cache.
pub struct PgClient {
    /// `None` only while being handed back to the pool.
    client: Option<Client>,
    statements: HashMap<String, Statement>,
    /// The pool (URL) to give the connection back to when dropped.
    pool_key: Option<String>,
}

impl PgClient {
    /// Wraps a connected client.
    pub fn new(client: Client) -> PgClient {
        PgClient {
            client: Some(client),
            statements: HashMap::new(),
            pool_key: None,
        }
    }

    /// Gives the connection back to the pool for `url` when dropped.
    pub(crate) fn return_to(&mut self, url: &str) {
        self.pool_key = Some(url.to_string());
    }

    /// Whether the connection is still usable.
    pub fn is_open(&self) -> bool {
        self.client.as_ref().is_some_and(|c| !c.is_closed())
    }

    /// The driver's client, for what the seam does not cover (the generic table copy).
    pub fn client(&mut self) -> Result<&mut Client> {
        self.client.as_mut().ok_or(SqlError::Closed)
    }

    fn prepare(&mut self, sql: &str) -> Result<Statement> {
        if let Some(st) = self.statements.get(sql) {
            return Ok(st.clone());
        }
        let st = self.client()?.prepare(&rewrite_placeholders(sql))?;
        self.statements.insert(sql.to_string(), st.clone());
        Ok(st)
    }

    pub(super) fn execute(&mut self, sql: &str, params: &[Value]) -> Result<usize> {
        let st = self.prepare(sql)?;
        let refs = param_refs(params);
        let n = self.client()?.execute(&st, &refs)?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    pub(super) fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        let st = self.prepare(sql)?;
        let refs = param_refs(params);
        let rows = self.client()?.query(&st, &refs)?;
        rows.iter().map(owned_row).collect()
    }

    pub(crate) fn batch(&mut self, sql: &str) -> Result<()> {
        self.client()?.batch_execute(sql)?;
        // DDL may change what a cached statement returns; prepare afresh.
        if !matches!(sql.trim(), "BEGIN" | "COMMIT" | "ROLLBACK") {
            self.statements.clear();
        }
        Ok(())
    }
}

impl Drop for PgClient {
    fn drop(&mut self) {
        if let (Some(key), Some(client)) = (self.pool_key.take(), self.client.take()) {
            let back = PgClient {
                client: Some(client),
                statements: std::mem::take(&mut self.statements),
                pool_key: None,
            };
            crate::target::checkin(&key, back);
        }
    }
}

fn param_refs(params: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

/// Rewrites SQLite's `?N` placeholders to PostgreSQL's `$N`, leaving string literals, quoted
/// names and comments alone.
pub fn rewrite_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' => {
                out.push(c);
                for d in chars.by_ref() {
                    out.push(d);
                    if d == c {
                        break;
                    }
                }
            }
            '-' if chars.peek() == Some(&'-') => {
                out.push(c);
                for d in chars.by_ref() {
                    out.push(d);
                    if d == '\n' {
                        break;
                    }
                }
            }
            '?' if chars.peek().is_some_and(char::is_ascii_digit) => out.push('$'),
            _ => out.push(c),
        }
    }
    out
}

type BoxError = Box<dyn StdError + Sync + Send>;

fn mismatch(v: &Value, ty: &Type) -> BoxError {
    format!("cannot store {} in a {} parameter", v.describe(), ty.name()).into()
}

impl ToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<IsNull, BoxError> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) => int_to_sql(*i, self, ty, out),
            Value::Real(r) => match *ty {
                Type::FLOAT8 => r.to_sql(ty, out),
                #[allow(clippy::cast_possible_truncation)]
                Type::FLOAT4 => (*r as f32).to_sql(ty, out),
                _ if is_text(ty) => r.to_string().to_sql(ty, out),
                _ => Err(mismatch(self, ty)),
            },
            Value::Text(t) => match *ty {
                Type::INT8 | Type::INT4 | Type::INT2 => match t.parse::<i64>() {
                    Ok(i) => int_to_sql(i, self, ty, out),
                    Err(_) => Err(mismatch(self, ty)),
                },
                Type::JSON => t.as_str().to_sql(&Type::TEXT, out),
                Type::JSONB => {
                    out.extend_from_slice(&[1]);
                    t.as_str().to_sql(&Type::TEXT, out)
                }
                _ if is_text(ty) => t.as_str().to_sql(ty, out),
                _ => Err(mismatch(self, ty)),
            },
            Value::Blob(b) => match *ty {
                Type::BYTEA => b.as_slice().to_sql(ty, out),
                _ => Err(mismatch(self, ty)),
            },
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

fn int_to_sql(
    i: i64,
    v: &Value,
    ty: &Type,
    out: &mut bytes::BytesMut,
) -> std::result::Result<IsNull, BoxError> {
    match *ty {
        Type::INT8 => i.to_sql(ty, out),
        Type::INT4 => i32::try_from(i)
            .map_err(|_| mismatch(v, ty))?
            .to_sql(ty, out),
        Type::INT2 => i16::try_from(i)
            .map_err(|_| mismatch(v, ty))?
            .to_sql(ty, out),
        #[allow(clippy::cast_precision_loss)]
        Type::FLOAT8 => (i as f64).to_sql(ty, out),
        Type::BOOL => (i != 0).to_sql(ty, out),
        _ if is_text(ty) => i.to_string().to_sql(ty, out),
        _ => Err(mismatch(v, ty)),
    }
}

fn is_text(ty: &Type) -> bool {
    matches!(
        *ty,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN
    )
}

/// A column's bytes, whatever its type (decoded by [`owned_row`]).
struct Raw<'a>(Option<&'a [u8]>);

impl<'a> FromSql<'a> for Raw<'a> {
    fn from_sql(_: &Type, raw: &'a [u8]) -> std::result::Result<Self, BoxError> {
        Ok(Raw(Some(raw)))
    }
    fn from_sql_null(_: &Type) -> std::result::Result<Self, BoxError> {
        Ok(Raw(None))
    }
    fn accepts(_: &Type) -> bool {
        true
    }
}

fn owned_row(r: &postgres::Row) -> Result<Row> {
    let mut values = Vec::with_capacity(r.len());
    for (i, col) in r.columns().iter().enumerate() {
        let raw: Raw<'_> = r.try_get(i)?;
        let v = match raw.0 {
            None => Value::Null,
            Some(bytes) => decode(col.type_(), bytes).map_err(|found| SqlError::Type {
                column: i,
                expected: "a column of type integer, real, text, boolean, numeric or bytea",
                found,
            })?,
        };
        values.push(v);
    }
    Ok(Row { values })
}

fn decode(ty: &Type, b: &[u8]) -> std::result::Result<Value, String> {
    let bad = |e: BoxError| format!("{}: {e}", ty.name());
    Ok(match *ty {
        Type::INT8 => Value::Int(i64::from_sql(ty, b).map_err(bad)?),
        Type::INT4 => Value::Int(i64::from(i32::from_sql(ty, b).map_err(bad)?)),
        Type::INT2 => Value::Int(i64::from(i16::from_sql(ty, b).map_err(bad)?)),
        Type::OID => Value::Int(i64::from(u32::from_sql(ty, b).map_err(bad)?)),
        Type::BOOL => Value::Int(i64::from(bool::from_sql(ty, b).map_err(bad)?)),
        Type::FLOAT8 => Value::Real(f64::from_sql(ty, b).map_err(bad)?),
        Type::FLOAT4 => Value::Real(f64::from(f32::from_sql(ty, b).map_err(bad)?)),
        Type::NUMERIC => numeric(b).ok_or_else(|| "a malformed numeric".to_string())?,
        Type::BYTEA => Value::Blob(b.to_vec()),
        Type::JSONB => Value::Text(String::from_utf8_lossy(b.get(1..).unwrap_or(&[])).into_owned()),
        _ => match String::from_sql(&Type::TEXT, b) {
            Ok(s) => Value::Text(s),
            Err(_) => return Err(format!("a value of type {}", ty.name())),
        },
    })
}

/// Decodes PostgreSQL's binary NUMERIC (what `SUM` of BIGINT returns): an integer when it has
/// no fraction and fits, else a double.
fn numeric(b: &[u8]) -> Option<Value> {
    let word = |i: usize| -> Option<i16> { Some(i16::from_be_bytes([*b.get(i)?, *b.get(i + 1)?])) };
    let ndigits = usize::try_from(word(0)?).ok()?;
    let weight = i32::from(word(2)?);
    let sign = u16::from_be_bytes([*b.get(4)?, *b.get(5)?]);
    let dscale = word(6)?;
    if sign == 0xC000 {
        return Some(Value::Real(f64::NAN));
    }
    let negative = sign == 0x4000;
    let mut f = 0f64;
    let mut int: Option<i128> = Some(0);
    for k in 0..ndigits {
        let d = i32::from(word(8 + 2 * k)?);
        let exp = weight - i32::try_from(k).ok()?;
        f += f64::from(d) * 10_000f64.powi(exp);
        int = match (int, u32::try_from(exp)) {
            (Some(acc), Ok(e)) => 10_000i128
                .checked_pow(e)
                .and_then(|p| p.checked_mul(i128::from(d)))
                .and_then(|x| acc.checked_add(x)),
            (Some(acc), Err(_)) if d == 0 => Some(acc),
            _ => None,
        };
    }
    if dscale == 0 {
        if let Some(i) = int.and_then(|i| i64::try_from(if negative { -i } else { i }).ok()) {
            return Some(Value::Int(i));
        }
    }
    Some(Value::Real(if negative { -f } else { f }))
}

/// The server's message (and detail), or the client's error; never the connection string.
pub(super) fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => match db.detail() {
            Some(d) => format!("{} ({d})", db.message()),
            None => db.message().to_string(),
        },
        None => match e.source() {
            Some(s) => format!("{e}: {s}"),
            None => e.to_string(),
        },
    }
}

pub(super) fn constraint(e: &postgres::Error) -> Option<Constraint> {
    let code = e.code()?;
    if *code == SqlState::UNIQUE_VIOLATION {
        Some(Constraint::Unique)
    } else if *code == SqlState::CHECK_VIOLATION
        || *code == SqlState::NOT_NULL_VIOLATION
        || *code == SqlState::FOREIGN_KEY_VIOLATION
        || *code == SqlState::RAISE_EXCEPTION
    {
        Some(Constraint::Other)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_outside_literals_only() {
        assert_eq!(
            rewrite_placeholders("SELECT ?1, '?2', \"a?3\", ?12 -- ?4\n, ?5"),
            "SELECT $1, '?2', \"a?3\", $12 -- ?4\n, $5"
        );
    }

    #[test]
    fn numeric_decodes_sums() {
        // 1234567 = digits [123, 4567], weight 1.
        let b = [0, 2, 0, 1, 0, 0, 0, 0, 0, 123, 0x11, 0xD7];
        assert_eq!(numeric(&b), Some(Value::Int(1_234_567)));
        // -0.5 = digits [5000], weight -1, dscale 1.
        let b = [0, 1, 0xFF, 0xFF, 0x40, 0, 0, 1, 0x13, 0x88];
        assert_eq!(numeric(&b), Some(Value::Real(-0.5)));
        assert_eq!(numeric(&[0, 0, 0, 0, 0, 0, 0, 0]), Some(Value::Int(0)));
    }
}
