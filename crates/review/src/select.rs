//! Which published version to review: by id, by shot and step, or by its frames' pattern.

use std::path::Path;

use shotline_store::{ItemKind, Store, Version, VersionQuery};

use crate::error::{Result, ReviewError};

/// How the user named the frames.
#[derive(Debug, Clone, PartialEq)]
pub enum Selector {
    /// A version id.
    Version(i64),
    /// The versions of a shot's step: the only one, or the latest.
    Shot {
        /// Shot code.
        shot: String,
        /// Step code.
        step: String,
        /// Take the highest number when there are several.
        latest: bool,
    },
    /// A frame pattern (or folder) that a version was published from.
    Pattern(std::path::PathBuf),
}

/// Finds the version. Review movies themselves (resource `review`) are never picked.
pub fn select(store: &Store, sel: &Selector) -> Result<Version> {
    match sel {
        Selector::Version(id) => Ok(store.version(*id)?),
        Selector::Shot { shot, step, latest } => by_shot(store, shot, step, *latest),
        Selector::Pattern(p) => by_pattern(store, p),
    }
}

fn by_shot(store: &Store, shot: &str, step: &str, latest: bool) -> Result<Version> {
    let found: Vec<Version> = store
        .versions(&VersionQuery {
            kind: Some(ItemKind::Shot),
            item: Some(shot.to_string()),
            step: Some(step.to_string()),
            ..VersionQuery::default()
        })?
        .into_iter()
        .filter(|v| v.resource != crate::RESOURCE)
        .collect();
    match found.as_slice() {
        [] => Err(ReviewError::Invalid {
            what: "shot and step",
            value: format!("{shot} {step}"),
            expected: "a published version (none found)".into(),
        }),
        [one] => Ok(one.clone()),
        many if latest => Ok(many
            .iter()
            .max_by_key(|v| (v.resource.is_empty(), v.number))
            .cloned()
            .unwrap_or_else(|| many[0].clone())),
        many => Err(ReviewError::Invalid {
            what: "shot and step",
            value: format!("{shot} {step}"),
            expected: format!(
                "one version, found {} (ids {}); add --latest or give --version ID",
                many.len(),
                many.iter()
                    .map(|v| v.id.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }),
    }
}

/// The version whose folder and pattern match `path` (a pattern in any padding style, or the
/// folder holding one published sequence).
fn by_pattern(store: &Store, path: &Path) -> Result<Version> {
    published_at(store, path)?.ok_or_else(|| ReviewError::Invalid {
        what: "frames",
        value: path.display().to_string(),
        expected: "frames published as a version (publish them first, or give --version)".into(),
    })
}

/// The latest version published from the frames at `path` (a pattern in any padding style, or
/// the folder holding one published sequence); `None` when no version holds them. Review
/// movies themselves are never returned.
pub fn published_at(store: &Store, path: &Path) -> Result<Option<Version>> {
    let (dir, name) = if path.is_dir() {
        (path.to_path_buf(), None)
    } else {
        let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        (
            dir,
            path.file_name().map(|n| n.to_string_lossy().into_owned()),
        )
    };
    let dir = dir
        .canonicalize()
        .map_err(crate::error::io("resolve", &dir))?;
    let wanted = name
        .as_deref()
        .and_then(|n| shotline_sequences::parse_pattern(n).ok());
    let mut matches = Vec::new();
    store.versions_each::<ReviewError>(&VersionQuery::default(), |v| {
        if v.resource != crate::RESOURCE
            && Path::new(&v.files.dir) == dir
            && same_pattern(&v.files.pattern, wanted.as_ref())
        {
            matches.push(v);
        }
        Ok(())
    })?;
    Ok(matches.into_iter().max_by_key(|v| v.id))
}

fn same_pattern(published: &str, wanted: Option<&shotline_sequences::SequencePattern>) -> bool {
    let Some(w) = wanted else { return true };
    shotline_sequences::parse_pattern(published)
        .map(|p| p.head == w.head && p.tail == w.tail)
        .unwrap_or(false)
}
