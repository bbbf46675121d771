//! The project layout: the templates in force (preset plus config), the root they apply to, and
//! discovery of the units (shot render folders, step folders, published versions) in a tree.

use std::collections::{BTreeMap, HashSet};
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;
use shotline_config::{LayoutConfig, LayoutPreset};

use crate::template::{Fields, Template};
use crate::QcError;

/// The seed-003 (vfx-ops-toolkit) tree: `<shows_root>/<show>/shots/<shot>/renders/`.
pub const SEED003: &[(&str, &str)] = &[("renders", "{show}/shots/{shot}/renders")];

/// The Ramses tree (RxLaboratory): shots under `05-SHOTS`, assets under `04-ASSETS/<group>`,
/// step folders `PROJ_S_SH010_COMP`, published versions under `_published/`.
pub const RAMSES: &[(&str, &str)] = &[
    (
        "shot_steps",
        "{show}/05-SHOTS/{show}_S_{shot}/{show}_S_{shot}_{step}",
    ),
    (
        "shot_published",
        "{show}/05-SHOTS/{show}_S_{shot}/{show}_S_{shot}_{step}/_published/{version}",
    ),
    (
        "asset_steps",
        "{show}/04-ASSETS/{group}/{show}_A_{asset}/{show}_A_{asset}_{step}",
    ),
    (
        "asset_published",
        "{show}/04-ASSETS/{group}/{show}_A_{asset}/{show}_A_{asset}_{step}/_published/{version}",
    ),
];

/// Templates in force and where they apply.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The directory templates are relative to.
    pub root: PathBuf,
    /// Compiled templates, in name order.
    pub templates: Vec<Template>,
    /// Expected frame ranges keyed by `show/shot` or `shot`.
    pub frame_ranges: BTreeMap<String, RangeInclusive<i64>>,
}

/// One directory a template matched, with the fields parsed from its path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unit {
    /// The template's name (`-` when no template matched and the whole root is checked).
    pub template: String,
    /// The directory.
    pub dir: PathBuf,
    /// Parsed fields (`show`, `shot`, `step`, …).
    pub fields: Fields,
}

impl Unit {
    /// `show / shot` (or asset), the heading reports are grouped under.
    pub fn group(&self) -> (String, String) {
        let get = |k: &str| self.fields.get(k).cloned();
        let show = get("show").unwrap_or_else(|| "-".into());
        let item = get("shot")
            .or_else(|| get("asset"))
            .unwrap_or_else(|| "-".into());
        (show, item)
    }
}

/// Units found and the directories that could not be listed on the way.
#[derive(Debug, Clone, Default)]
pub struct Discovery {
    /// Units, sorted by directory.
    pub units: Vec<Unit>,
    /// (directory, OS error) for each directory that could not be listed.
    pub errors: Vec<(PathBuf, String)>,
}

impl Layout {
    /// Builds the layout from config; `base` is the project root relative paths resolve against.
    pub fn from_config(cfg: &LayoutConfig, base: &Path) -> Result<Layout, QcError> {
        let mut texts: BTreeMap<String, String> = BTreeMap::new();
        let preset = match cfg.preset {
            Some(LayoutPreset::Ramses) => RAMSES,
            Some(LayoutPreset::Seed003) => SEED003,
            None if cfg.templates.is_empty() => SEED003,
            None => &[],
        };
        for (k, v) in preset {
            texts.insert(k.to_string(), v.to_string());
        }
        texts.extend(cfg.templates.clone());
        let templates = texts
            .iter()
            .map(|(k, v)| Template::parse(k, v))
            .collect::<Result<Vec<_>, _>>()?;
        let root = match &cfg.root {
            Some(r) if r.is_absolute() => r.clone(),
            Some(r) => base.join(r),
            None => base.to_path_buf(),
        };
        let mut frame_ranges = BTreeMap::new();
        for (k, v) in &cfg.frame_ranges {
            let r = parse_range(v).map_err(|message| QcError::Config {
                what: format!("layout.frame_ranges.{k} ({v:?})"),
                message,
            })?;
            frame_ranges.insert(k.clone(), r);
        }
        Ok(Layout {
            root,
            templates,
            frame_ranges,
        })
    }

    /// The levels reports break usage down by: fields in template order (`show`, `shot`,
    /// `step`, `version`, …), de-duplicated across templates.
    pub fn levels(&self) -> Vec<String> {
        let mut out: Vec<(usize, String)> = Vec::new();
        for t in &self.templates {
            for f in t.fields() {
                let d = t.field_depth(f).unwrap_or(usize::MAX);
                match out.iter_mut().find(|(_, n)| n == f) {
                    Some(e) => e.0 = e.0.min(d),
                    None => out.push((d, f.to_string())),
                }
            }
        }
        out.sort_by_key(|e| e.0);
        out.into_iter().map(|e| e.1).collect()
    }

    /// Expected range for a unit: `show/shot` first, then `shot`, then `shot` in any case.
    pub fn range_for(&self, unit: &Unit) -> Option<RangeInclusive<i64>> {
        let (show, shot) = unit.group();
        let exact = self
            .frame_ranges
            .get(&format!("{show}/{shot}"))
            .or_else(|| self.frame_ranges.get(&shot));
        // Tracking codes are often upper case (`SH010`) where folders are not (`sh010`).
        exact
            .or_else(|| {
                self.frame_ranges
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(&shot))
                    .map(|(_, r)| r)
            })
            .cloned()
    }

    /// Parses a path under the root back into its template and fields.
    pub fn parse_path(&self, path: &Path) -> Option<(&Template, Fields)> {
        let rel = path.strip_prefix(&self.root).ok()?;
        let n = rel.components().count();
        let mut best: Option<(&Template, Fields)> = None;
        for t in self.templates.iter().filter(|t| t.depth() <= n) {
            if let Some(f) = t.parse_prefix(rel) {
                if best.as_ref().is_none_or(|(b, _)| t.depth() > b.depth()) {
                    best = Some((t, f));
                }
            }
        }
        best
    }

    /// Finds every unit at or below `start`. `start` may be the root, a directory above a unit
    /// (a show) or inside one (a step folder); fields above `start` are parsed from its path.
    /// When no template fits, `start` itself is the one unit (template `-`, no fields), so any
    /// folder can be checked.
    pub fn discover(&self, start: &Path) -> Discovery {
        let mut found = Discovery::default();
        for t in &self.templates {
            let (dirs, errors) = self.match_template(t, start, t.depth());
            found.errors.extend(errors);
            found
                .units
                .extend(dirs.into_iter().map(|(dir, fields)| Unit {
                    template: t.name.clone(),
                    dir,
                    fields,
                }));
        }
        found
            .units
            .sort_by(|a, b| a.dir.cmp(&b.dir).then(a.template.cmp(&b.template)));
        let mut seen = HashSet::new();
        found.units.retain(|u| seen.insert(u.dir.clone()));
        if found.units.is_empty() {
            found.units.push(Unit {
                template: "-".into(),
                dir: start.to_path_buf(),
                fields: Fields::new(),
            });
        }
        found.errors.sort();
        found.errors.dedup();
        found
    }

    /// Directories at or below `start` matching the first `upto` components of `t`, with their
    /// fields. When `start` is already `upto` or more components deep, `start` itself is the one
    /// match (its fields parsed from its path).
    pub fn match_template(
        &self,
        t: &Template,
        start: &Path,
        upto: usize,
    ) -> (Vec<(PathBuf, Fields)>, Vec<DirError>) {
        if let Ok(rel) = start.strip_prefix(&self.root) {
            let n = rel.components().count();
            match t.parse_prefix(rel) {
                Some(f) if n >= upto => return (vec![(start.to_path_buf(), f)], Vec::new()),
                Some(f) => {
                    let found = walk_levels(t, start, f, n, upto);
                    if !found.0.is_empty() || n == 0 {
                        return found;
                    }
                }
                None => {}
            }
        }
        // Outside the root, or a path the template does not explain: `start` is a root itself.
        walk_levels(t, start, Fields::new(), 0, upto)
    }
}

/// Walks components `from..upto` of `t` below `start`, level by level, in parallel.
fn walk_levels(
    t: &Template,
    start: &Path,
    fields: Fields,
    from: usize,
    upto: usize,
) -> (Vec<(PathBuf, Fields)>, Vec<DirError>) {
    let mut errors = Vec::new();
    let mut frontier = vec![(start.to_path_buf(), fields)];
    for i in from..upto.min(t.depth()) {
        let step: Vec<_> = frontier
            .par_iter()
            .map(|(dir, f)| descend(t, i, dir, f))
            .collect();
        frontier = Vec::new();
        for (next, err) in step {
            frontier.extend(next);
            errors.extend(err);
        }
    }
    (frontier, errors)
}

/// A directory that could not be listed, with the OS error.
pub type DirError = (PathBuf, String);

type Step = (Vec<(PathBuf, Fields)>, Option<DirError>);

/// The children of `dir` matching component `i` of `t`. Symlinks are not followed.
fn descend(t: &Template, i: usize, dir: &Path, bound: &Fields) -> Step {
    if let Some(lit) = t.literal(i) {
        let p = dir.join(lit);
        let is_dir = std::fs::symlink_metadata(&p).is_ok_and(|m| m.is_dir());
        return (
            if is_dir {
                vec![(p, bound.clone())]
            } else {
                vec![]
            },
            None,
        );
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => return (vec![], Some((dir.to_path_buf(), e.to_string()))),
    };
    let mut out = Vec::new();
    for e in entries.flatten() {
        if !e.file_type().is_ok_and(|ft| ft.is_dir()) {
            continue;
        }
        let Ok(name) = e.file_name().into_string() else {
            continue;
        };
        if name.starts_with('.') {
            continue;
        }
        if let Some(f) = t.match_component(i, &name, bound) {
            out.push((e.path(), f));
        }
    }
    (out, None)
}

/// `1001-1100`, `-5--1` or a single frame `1001`.
pub fn parse_range(text: &str) -> Result<RangeInclusive<i64>, String> {
    let t: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let expected = || format!("expected FIRST-LAST such as 1001-1100, got {text:?}");
    let split = t
        .char_indices()
        .skip(1)
        .find(|&(i, c)| c == '-' && t.as_bytes()[i - 1].is_ascii_digit())
        .map(|(i, _)| i);
    let (a, b) = match split {
        Some(i) => (&t[..i], &t[i + 1..]),
        None => (t.as_str(), t.as_str()),
    };
    let a: i64 = a.parse().map_err(|_| expected())?;
    let b: i64 = b.parse().map_err(|_| expected())?;
    if a > b {
        return Err(format!("{text:?}: the first frame is after the last"));
    }
    Ok(a..=b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mkdirs(root: &Path, dirs: &[&str]) {
        for d in dirs {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
    }

    #[test]
    fn seed003_default_finds_shots_and_parses_subpaths() {
        let tmp = tempfile::tempdir().unwrap();
        mkdirs(
            tmp.path(),
            &[
                "demo/shots/sh010/renders",
                "demo/shots/sh020/renders",
                "demo/assets/x",
                ".snap/shots/a/renders",
            ],
        );
        let l = Layout::from_config(&LayoutConfig::default(), tmp.path()).unwrap();
        let d = l.discover(tmp.path());
        let shots: Vec<_> = d.units.iter().map(|u| u.group()).collect();
        assert_eq!(
            shots,
            vec![
                ("demo".into(), "sh010".into()),
                ("demo".into(), "sh020".into())
            ]
        );
        assert_eq!(l.levels(), vec!["show", "shot"]);
        // Starting inside a shot still knows show and shot.
        let d = l.discover(&tmp.path().join("demo/shots/sh020"));
        assert_eq!(d.units.len(), 1);
        assert_eq!(d.units[0].group(), ("demo".into(), "sh020".into()));
        let (t, f) = l
            .parse_path(&tmp.path().join("demo/shots/sh010/renders/comp/v001"))
            .unwrap();
        assert_eq!((t.name.as_str(), f["shot"].as_str()), ("renders", "sh010"));
    }

    #[test]
    fn ramses_preset_levels_and_fallback() {
        let tmp = tempfile::tempdir().unwrap();
        mkdirs(
            tmp.path(),
            &["PROJ/05-SHOTS/PROJ_S_SH010/PROJ_S_SH010_COMP/_published/001_WIP"],
        );
        let cfg = LayoutConfig {
            preset: Some(LayoutPreset::Ramses),
            ..LayoutConfig::default()
        };
        let l = Layout::from_config(&cfg, tmp.path()).unwrap();
        assert_eq!(
            l.levels(),
            vec!["show", "group", "shot", "asset", "step", "version"]
        );
        let d = l.discover(tmp.path());
        assert_eq!(d.units.len(), 2);
        assert_eq!(d.units[1].fields["version"], "001_WIP");
        assert_eq!(d.units[0].fields["step"], "COMP");
        // Below the root but not explained by the templates: the folder is a root of its own.
        mkdirs(
            tmp.path(),
            &["archive/old/PROJ/05-SHOTS/PROJ_S_SH020/PROJ_S_SH020_FX"],
        );
        let d = l.discover(&tmp.path().join("archive/old"));
        assert_eq!(d.units.len(), 1);
        assert_eq!(d.units[0].fields["shot"], "SH020");
        let other = tempfile::tempdir().unwrap();
        let d = l.discover(other.path());
        assert_eq!(d.units[0].template, "-");
    }

    #[test]
    fn ranges_parse() {
        assert_eq!(parse_range("1001-1100").unwrap(), 1001..=1100);
        assert_eq!(parse_range("-5--1").unwrap(), -5..=-1);
        assert_eq!(parse_range("7").unwrap(), 7..=7);
        assert!(parse_range("10-1").is_err());
        assert!(parse_range("a-b").is_err());
    }
}
