//! `_ramses_data.json`: the sidecar Ramses keeps in each working and published folder, keyed by
//! file name (`{"PROJ_S_SH010_COMP.blend": {"comment": ..., "version": 3, "date": ...}}`).
//! Read strictly (a broken file is an error naming it, line and column, never silently
//! replaced), merged per file keeping every key we do not know, written atomically.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use shotline_fsio::{write_atomic, Overwrite};

use crate::error::{RamsesError, Result};

/// The sidecar's file name.
pub const FILE_NAME: &str = "_ramses_data.json";

/// The sidecar of `folder`.
pub fn path_in(folder: &Path) -> PathBuf {
    folder.join(FILE_NAME)
}

/// Reads the sidecar of `folder`: file name → its metadata. A missing file is empty.
pub fn read(folder: &Path) -> Result<Map<String, Value>> {
    let path = path_in(folder);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Map::new()),
        Err(e) => {
            return Err(RamsesError::Metadata {
                path,
                message: format!("cannot read: {e}"),
            })
        }
    };
    if text.trim().is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(other) => Err(RamsesError::Metadata {
            path,
            message: format!(
                "expected a JSON object keyed by file name, found {}",
                kind(&other)
            ),
        }),
        Err(e) => Err(RamsesError::Metadata {
            path,
            message: format!(
                "line {}, column {}: {e}; expected the JSON object Ramses writes",
                e.line(),
                e.column()
            ),
        }),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Merges `changes` into the metadata of `file_name` in `folder`'s sidecar (other files and
/// other keys untouched) and writes the sidecar atomically. Returns the file's merged entry.
pub fn update(
    folder: &Path,
    file_name: &str,
    changes: &Map<String, Value>,
) -> Result<Map<String, Value>> {
    update_many(folder, &[file_name], changes)?;
    match read(folder)?.remove(file_name) {
        Some(Value::Object(m)) => Ok(m),
        _ => Ok(Map::new()),
    }
}

/// [`update`] for many files of one folder in one read and one atomic write (a published
/// sequence has thousands of frames).
pub fn update_many(folder: &Path, file_names: &[&str], changes: &Map<String, Value>) -> Result<()> {
    merge(folder, file_names.iter().map(|name| (*name, changes)))
}

/// Merges per-file changes (`(file name, keys to set)`) into `folder`'s sidecar in one read
/// and one atomic write, keeping other files and every key not set. The one writer of the
/// sidecar: ingest's provenance (source, checksum per file) goes through it too, so a resumed
/// ingest never drops what a Ramses client wrote.
pub fn merge<'a>(
    folder: &Path,
    entries: impl IntoIterator<Item = (&'a str, &'a Map<String, Value>)>,
) -> Result<()> {
    let mut all = read(folder)?;
    for (file_name, changes) in entries {
        shotline_layout::check_component("file name", file_name)?;
        let entry = all
            .entry(file_name.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        let Value::Object(m) = entry else {
            return Err(RamsesError::Metadata {
                path: path_in(folder),
                message: format!(
                    "the entry for {file_name:?} is {}, expected an object",
                    kind(entry)
                ),
            });
        };
        for (k, v) in changes {
            m.insert(k.clone(), v.clone());
        }
    }
    let mut text =
        serde_json::to_string_pretty(&Value::Object(all)).map_err(|e| RamsesError::Metadata {
            path: path_in(folder),
            message: e.to_string(),
        })?;
    text.push('\n');
    write_atomic(&path_in(folder), text.as_bytes(), Overwrite::Replace)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_keeps_unknown_keys_and_other_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            path_in(dir.path()),
            r#"{"a.blend": {"comment": "old", "history": [1, 2], "x-tool": {"k": 1}},
                "b.blend": {"comment": "b"}, "__meta": 7}"#,
        )
        .unwrap();
        let mut ch = Map::new();
        ch.insert("comment".into(), "new".into());
        ch.insert("version".into(), 4.into());
        let merged = update(dir.path(), "a.blend", &ch).unwrap();
        assert_eq!(merged["comment"], "new");
        let all = read(dir.path()).unwrap();
        assert_eq!(all["a.blend"]["history"], serde_json::json!([1, 2]));
        assert_eq!(all["a.blend"]["x-tool"]["k"], 1);
        assert_eq!(all["a.blend"]["version"], 4);
        assert_eq!(all["b.blend"]["comment"], "b");
        assert_eq!(all["__meta"], 7);
        update(dir.path(), "c.exr", &ch).unwrap();
        assert_eq!(read(dir.path()).unwrap()["c.exr"]["version"], 4);
    }

    #[test]
    fn broken_files_are_errors_with_a_location_and_untouched() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(path_in(dir.path()), "{\n  \"a\": [1,\n").unwrap();
        let e = read(dir.path()).unwrap_err().to_string();
        assert!(
            e.contains("_ramses_data.json") && e.contains("line 3"),
            "{e}"
        );
        assert!(update(dir.path(), "a", &Map::new()).is_err());
        assert_eq!(
            std::fs::read_to_string(path_in(dir.path())).unwrap(),
            "{\n  \"a\": [1,\n"
        );
        std::fs::write(path_in(dir.path()), "[1]").unwrap();
        assert!(read(dir.path())
            .unwrap_err()
            .to_string()
            .contains("an array"));
        assert!(update(dir.path(), "../x", &Map::new()).is_err());
        let empty = tempfile::tempdir().unwrap();
        assert!(read(empty.path()).unwrap().is_empty());
    }
}
