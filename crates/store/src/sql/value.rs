//! [`Value`]: the owned value that crosses the seam, and the conversions the modules use.

use shotline_layout::VersionNumber;

/// One SQL value, owned. The store only stores these four kinds (SQLite's storage classes,
/// which the PostgreSQL schema mirrors with BIGINT, DOUBLE PRECISION, TEXT and BYTEA).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// NULL.
    Null,
    /// A 64-bit integer (ids, numbers, counts, 0/1 flags).
    Int(i64),
    /// A double (fps, pixel aspect).
    Real(f64),
    /// Text (codes, times in RFC 3339, JSON).
    Text(String),
    /// Bytes.
    Blob(Vec<u8>),
}

impl Value {
    /// A short description for error messages (never the whole value: it may be long).
    pub(crate) fn describe(&self) -> String {
        match self {
            Value::Null => "NULL".into(),
            Value::Int(i) => format!("integer {i}"),
            Value::Real(r) => format!("real {r}"),
            Value::Text(t) if t.chars().count() > 40 => {
                format!("text {:?}…", t.chars().take(40).collect::<String>())
            }
            Value::Text(t) => format!("text {t:?}"),
            Value::Blob(b) => format!("{} bytes", b.len()),
        }
    }
}

/// A Rust value usable as a parameter.
pub trait ToValue {
    /// The owned SQL value.
    fn to_value(&self) -> Value;
}

impl<T: ToValue + ?Sized> ToValue for &T {
    fn to_value(&self) -> Value {
        (**self).to_value()
    }
}

impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Value {
        self.as_ref().map_or(Value::Null, ToValue::to_value)
    }
}

impl ToValue for Value {
    fn to_value(&self) -> Value {
        self.clone()
    }
}

impl ToValue for str {
    fn to_value(&self) -> Value {
        Value::Text(self.to_string())
    }
}

impl ToValue for std::borrow::Cow<'_, str> {
    fn to_value(&self) -> Value {
        Value::Text(self.to_string())
    }
}

impl ToValue for String {
    fn to_value(&self) -> Value {
        Value::Text(self.clone())
    }
}

impl ToValue for bool {
    fn to_value(&self) -> Value {
        Value::Int(i64::from(*self))
    }
}

impl ToValue for f64 {
    fn to_value(&self) -> Value {
        Value::Real(*self)
    }
}

impl ToValue for f32 {
    fn to_value(&self) -> Value {
        Value::Real(f64::from(*self))
    }
}

impl ToValue for VersionNumber {
    fn to_value(&self) -> Value {
        Value::Int(i64::from(self.get()))
    }
}

macro_rules! int_to_value {
    ($($t:ty),*) => {$(
        impl ToValue for $t {
            fn to_value(&self) -> Value {
                Value::Int(i64::from(*self))
            }
        }
    )*};
}
int_to_value!(i8, i16, i32, i64, u8, u16, u32);

/// Larger unsigned values: an out-of-range number is stored as text, which every INTEGER
/// column's CHECK or type then refuses with a message, rather than wrapping silently.
macro_rules! wide_to_value {
    ($($t:ty),*) => {$(
        impl ToValue for $t {
            fn to_value(&self) -> Value {
                i64::try_from(*self).map_or_else(|_| Value::Text(self.to_string()), Value::Int)
            }
        }
    )*};
}
wide_to_value!(u64, usize, i128);

/// A Rust value readable from a column. The error is what was expected.
pub trait FromValue: Sized {
    /// Converts, or names what was expected.
    fn from_value(v: &Value) -> Result<Self, &'static str>;
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: &Value) -> Result<Self, &'static str> {
        match v {
            Value::Null => Ok(None),
            v => T::from_value(v).map(Some),
        }
    }
}

impl FromValue for Value {
    fn from_value(v: &Value) -> Result<Self, &'static str> {
        Ok(v.clone())
    }
}

impl FromValue for i64 {
    fn from_value(v: &Value) -> Result<Self, &'static str> {
        match v {
            Value::Int(i) => Ok(*i),
            _ => Err("an integer"),
        }
    }
}

macro_rules! int_from_value {
    ($($t:ty),*) => {$(
        impl FromValue for $t {
            fn from_value(v: &Value) -> Result<Self, &'static str> {
                match v {
                    Value::Int(i) => <$t>::try_from(*i).map_err(|_| concat!("a ", stringify!($t))),
                    _ => Err(concat!("a ", stringify!($t))),
                }
            }
        }
    )*};
}
int_from_value!(i32, u32, u64, usize, u16, u8);

impl FromValue for VersionNumber {
    fn from_value(v: &Value) -> Result<Self, &'static str> {
        match v {
            Value::Int(i) => u32::try_from(*i)
                .ok()
                .and_then(VersionNumber::new)
                .ok_or("a version number (1 or more)"),
            _ => Err("a version number (1 or more)"),
        }
    }
}

impl FromValue for bool {
    fn from_value(v: &Value) -> Result<Self, &'static str> {
        match v {
            Value::Int(i) => Ok(*i != 0),
            _ => Err("a boolean (0 or 1)"),
        }
    }
}

impl FromValue for f64 {
    fn from_value(v: &Value) -> Result<Self, &'static str> {
        match v {
            Value::Real(r) => Ok(*r),
            // SQLite stores a whole REAL written as 24 as the integer 24 when the column has
            // no REAL affinity (expressions); both mean the same number here.
            #[allow(clippy::cast_precision_loss)]
            Value::Int(i) => Ok(*i as f64),
            _ => Err("a number"),
        }
    }
}

impl FromValue for String {
    fn from_value(v: &Value) -> Result<Self, &'static str> {
        match v {
            Value::Text(t) => Ok(t.clone()),
            _ => Err("text"),
        }
    }
}

impl FromValue for Vec<u8> {
    fn from_value(v: &Value) -> Result<Self, &'static str> {
        match v {
            Value::Blob(b) => Ok(b.clone()),
            Value::Text(t) => Ok(t.as_bytes().to_vec()),
            _ => Err("bytes"),
        }
    }
}
