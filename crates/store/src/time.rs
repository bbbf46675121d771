//! Timestamps as stored: RFC 3339 UTC with fixed microsecond precision, so text order is time
//! order and `--since` can compare strings in SQL with an index.

use time::macros::format_description;
use time::{Duration, OffsetDateTime};

use crate::error::{Result, StoreError};

const FORMAT: &[time::format_description::BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

/// Formats an instant the way the database stores it.
pub fn format(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(FORMAT)
        .unwrap_or_default()
}

/// Now, as stored.
pub fn now() -> String {
    format(OffsetDateTime::now_utc())
}

/// Parses `--since`: an RFC 3339 time (`2026-11-20T10:00:00Z`), a date (`2026-11-20`, UTC
/// midnight) or an age such as `30m`, `2h`, `7d`, `1w` counted back from now.
pub fn parse_since(text: &str) -> Result<String> {
    let t = text.trim();
    let invalid = || {
        StoreError::Invalid {
        what: "time",
        value: text.to_string(),
        expected: "an RFC 3339 time (2026-11-20T10:00:00Z), a date (2026-11-20) or an age like 30m, 2h, 7d, 1w".into(),
    }
    };
    if let Ok(dt) = OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339) {
        return Ok(format(dt));
    }
    if let Ok(d) = time::Date::parse(t, format_description!("[year]-[month]-[day]")) {
        return Ok(format(d.midnight().assume_utc()));
    }
    let unit = t.chars().last().ok_or_else(invalid)?;
    let n: i64 = t[..t.len() - unit.len_utf8()]
        .parse()
        .map_err(|_| invalid())?;
    if n < 0 {
        return Err(invalid());
    }
    let age = match unit {
        's' => Duration::seconds(n),
        'm' => Duration::minutes(n),
        'h' => Duration::hours(n),
        'd' => Duration::days(n),
        'w' => Duration::weeks(n),
        _ => return Err(invalid()),
    };
    let at = OffsetDateTime::now_utc()
        .checked_sub(age)
        .ok_or_else(invalid)?;
    Ok(format(at))
}

/// An instant `secs` seconds from now, as stored (lock expiry).
pub fn in_seconds(secs: i64) -> String {
    format(OffsetDateTime::now_utc() + Duration::seconds(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_forms() {
        assert_eq!(
            parse_since("2026-11-20T10:00:00+01:00").unwrap(),
            "2026-11-20T09:00:00.000000Z"
        );
        assert_eq!(
            parse_since("2026-11-20").unwrap(),
            "2026-11-20T00:00:00.000000Z"
        );
        assert!(parse_since("2h").unwrap() < now());
        for bad in ["", "2x", "h", "-2h", "yesterday"] {
            let e = parse_since(bad).unwrap_err().to_string();
            assert!(e.contains("RFC 3339"), "{bad}: {e}");
        }
    }

    #[test]
    fn text_order_is_time_order() {
        let a = format(OffsetDateTime::UNIX_EPOCH + Duration::milliseconds(5));
        let b = format(OffsetDateTime::UNIX_EPOCH + Duration::seconds(1));
        assert!(a < b);
    }
}
