//! Safe path components: every value substituted into a path is checked here.

use std::path::{Component, Path};

/// A value that cannot be used as one path component, or a path that leaves its root.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnsafeComponent {
    /// The value is not one safe path component; `why` says which rule it breaks.
    #[error("{field} {value:?} cannot be used in a path: {why}")]
    Value {
        /// What the value is (`project.code`, `shot`, `step`, …), as the user would name it.
        field: String,
        /// The value as given.
        value: String,
        /// The rule it breaks.
        why: &'static str,
    },
    /// A built path is not inside the root it must stay in.
    #[error("{path} is outside the project root {root}")]
    Outside {
        /// The built path.
        path: String,
        /// The root.
        root: String,
    },
}

/// Longest component accepted, in bytes (most filesystems allow 255).
pub const MAX_COMPONENT_BYTES: usize = 255;

/// Checks that `value` (named `field` in the error) is a single, safe path component: not
/// empty, not `.` or `..`, no `/`, `\`, `:` (a Windows drive or stream), NUL or control
/// characters, not starting with `-` (it would read as an option to the tools that receive
/// it) and at most [`MAX_COMPONENT_BYTES`] bytes.
pub fn check_component(field: &str, value: &str) -> Result<(), UnsafeComponent> {
    let bad = |why: &'static str| UnsafeComponent::Value {
        field: field.into(),
        value: value.into(),
        why,
    };
    if value.is_empty() {
        return Err(bad("it is empty"));
    }
    if value == "." || value == ".." {
        return Err(bad("'.' and '..' name other folders"));
    }
    if value.contains(['/', '\\']) {
        return Err(bad("it contains a path separator"));
    }
    if value.contains(':') {
        return Err(bad("it contains ':' (a drive or stream name on Windows)"));
    }
    if value.chars().any(char::is_control) {
        return Err(bad("it contains a control character"));
    }
    if value.starts_with('-') {
        return Err(bad("it starts with '-'"));
    }
    if value.len() > MAX_COMPONENT_BYTES {
        return Err(bad("it is longer than 255 bytes"));
    }
    Ok(())
}

/// Checks, without touching the filesystem, that `path` is `root` or below it: `path` must be
/// relative to `root` or start with it, and contain no `..` component.
pub fn check_inside(root: &Path, path: &Path) -> Result<(), UnsafeComponent> {
    let outside = || UnsafeComponent::Outside {
        path: path.display().to_string(),
        root: root.display().to_string(),
    };
    let rest = if path.is_absolute() {
        path.strip_prefix(root).map_err(|_| outside())?
    } else {
        path
    };
    if rest
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
    {
        Ok(())
    } else {
        Err(outside())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_names_pass() {
        for v in ["SH010", "comp", "PROJ_S_SH010", "v001", "bg plate", "été"] {
            check_component("shot", v).unwrap();
        }
    }

    #[test]
    fn escapes_are_refused_with_the_field_named() {
        for v in [
            "",
            ".",
            "..",
            "x/../../tmp",
            "a\\b",
            "C:",
            "-rf",
            "a\0b",
            "a\nb",
        ] {
            let e = check_component("project.code", v).unwrap_err();
            assert!(e.to_string().starts_with("project.code "), "{e}");
        }
        assert!(check_component("shot", &"x".repeat(256)).is_err());
    }

    #[test]
    fn inside_checks_lexically() {
        let root = Path::new("/p");
        check_inside(root, Path::new("/p/shots/SH010")).unwrap();
        check_inside(root, Path::new("shots/SH010")).unwrap();
        assert!(check_inside(root, Path::new("/p/../etc")).is_err());
        assert!(check_inside(root, Path::new("/q/x")).is_err());
        assert!(check_inside(root, Path::new("a/../../x")).is_err());
    }
}
