//! Checks on names before they reach SQL, so a bad code gets a clear message instead of a
//! CHECK-constraint failure. The schema enforces the same rules as a last line of defence.

use crate::error::{Result, StoreError};

fn check(what: &'static str, value: &str, extra: &[char], expected: &str) -> Result<()> {
    let ok = !value.is_empty()
        && value.len() <= 128
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || extra.contains(&c));
    // Every code ends up in paths (version folders, manifests): it must be one safe path
    // component, and a leading `.` (hidden file, `.`/`..`) or `-` (read as an option) is refused.
    let safe =
        !value.starts_with(['.', '-']) && shotline_layout::check_component(what, value).is_ok();
    if ok && safe {
        Ok(())
    } else {
        Err(StoreError::Invalid {
            what,
            value: value.to_string(),
            expected: format!("{expected}, not starting with '.' or '-'"),
        })
    }
}

/// Project and step codes: letters, digits, `_`, `-`.
pub fn code(what: &'static str, value: &str) -> Result<()> {
    check(what, value, &[], "1-128 characters from A-Z a-z 0-9 _ -")
}

/// Shot, asset, sequence, group codes and tags also allow `.` (`SH010.5`).
pub fn item_code(what: &'static str, value: &str) -> Result<()> {
    check(
        what,
        value,
        &['.'],
        "1-128 characters from A-Z a-z 0-9 _ - .",
    )
}

/// Resources may be empty (the main resource).
pub fn resource(value: &str) -> Result<()> {
    if value.is_empty() {
        return Ok(());
    }
    check(
        "resource",
        value,
        &[],
        "empty or characters from A-Z a-z 0-9 _ -",
    )
}

/// User names: also `.` and `@` (e-mail style logins).
pub fn user_name(value: &str) -> Result<()> {
    check(
        "user name",
        value,
        &['.', '@'],
        "1-128 characters from A-Z a-z 0-9 _ - . @",
    )
}

/// `HH:MM:SS:FF` (or `;` before frames for drop-frame).
pub fn timecode(value: &str) -> Result<()> {
    let b = value.as_bytes();
    let ok = b.len() == 11
        && [0, 1, 3, 4, 6, 7, 9, 10]
            .iter()
            .all(|&i| b[i].is_ascii_digit())
        && b[2] == b':'
        && b[5] == b':'
        && (b[8] == b':' || b[8] == b';');
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid {
            what: "timecode",
            value: value.to_string(),
            expected: "HH:MM:SS:FF (or HH:MM:SS;FF for drop-frame)".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        assert!(code("step", "COMP").is_ok());
        assert!(code("step", "CO MP").is_err());
        assert!(item_code("shot", "SH010.5").is_ok());
        assert!(item_code("shot", "").is_err());
        for bad in [".", "..", ".SH", "-SH"] {
            assert!(item_code("shot", bad).is_err(), "{bad}");
            assert!(code("step", bad).is_err(), "{bad}");
        }
        assert!(resource("").is_ok());
        assert!(resource("a/b").is_err());
        assert!(timecode("01:00:00:00").is_ok());
        assert!(timecode("01:00:00;12").is_ok());
        assert!(timecode("1:00:00:00").is_err());
    }
}
