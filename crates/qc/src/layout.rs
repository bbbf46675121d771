//! The project layout as QC uses it: the one layout of `shotline-layout` (preset plus config),
//! the expected frames per shot, and discovery of the units (version folders, render folders)
//! in a tree, walking template components level by level and pruning where none can match.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use shotline_config::{LayoutConfig, LayoutPreset};
use shotline_frames::FrameSet;
use shotline_layout::{Field, Fields, Preset, Template, Variant};

use crate::QcError;

/// Templates in force, where they apply, and the frames each shot should have.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The one project layout.
    pub model: shotline_layout::Layout,
    /// Expected frames keyed by `show/shot` or `shot`: `layout.frame_ranges`, then the shots'
    /// cuts from the tracking database.
    pub frame_ranges: BTreeMap<String, FrameSet>,
}

/// One folder a template matched, with the fields parsed from its path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    /// The template's name (`-` when no template matched and the whole root is checked).
    pub template: String,
    /// The directory.
    pub dir: PathBuf,
    /// Parsed fields (the project filled from `project.code` when the path has none).
    pub fields: Fields,
}

/// The name reports use for a level: `show` for the project (what the `--json` schemas and
/// `thresholds.disk_warning` have always called it), else the field's name.
pub fn level_name(f: Field) -> &'static str {
    match f {
        Field::Project => "show",
        f => f.name(),
    }
}

/// Fields by name for reports and naming rules: every present field, plus `show` (an alias
/// of `project`, the name older reports and naming rules use).
pub fn field_map(fields: &Fields) -> BTreeMap<String, String> {
    let mut m = fields.to_map();
    if let Some(p) = fields.get(Field::Project) {
        m.insert("show".into(), p);
    }
    m
}

impl Unit {
    /// `show / shot` (or asset), the heading reports are grouped under.
    pub fn group(&self) -> (String, String) {
        let show = self
            .fields
            .get(Field::Project)
            .unwrap_or_else(|| "-".into());
        let item = self.fields.item().unwrap_or("-").to_string();
        (show, item)
    }
}

/// A directory that could not be listed, with the OS error.
pub type DirError = (PathBuf, String);

/// Units found and the directories that could not be listed on the way.
#[derive(Debug, Clone, Default)]
pub struct Discovery {
    /// Units, sorted by directory.
    pub units: Vec<Unit>,
    /// Each directory that could not be listed, with the OS error.
    pub errors: Vec<DirError>,
}

/// A folder found by a partial walk, with its fields.
pub type Found = (PathBuf, Fields);

impl Layout {
    /// Builds the layout from config; `base` is the project root relative paths resolve
    /// against, `project_code` (`project.code`) the project of paths that do not name one.
    pub fn from_config(
        cfg: &LayoutConfig,
        project_code: &str,
        base: &Path,
    ) -> Result<Layout, QcError> {
        let preset = match cfg.preset {
            Some(LayoutPreset::Ramses) => Some(Preset::Ramses),
            Some(LayoutPreset::ShowRenders) => Some(Preset::ShowRenders),
            Some(LayoutPreset::Shots) => Some(Preset::Shots),
            None if cfg.templates.is_empty() => Some(Preset::Shots),
            None => None,
        };
        let root = match &cfg.root {
            Some(r) if r.is_absolute() => r.clone(),
            Some(r) => base.join(r),
            None => base.to_path_buf(),
        };
        let model = shotline_layout::Layout::new(preset, &cfg.templates, root).map_err(|e| {
            QcError::Config {
                what: format!("layout template {:?} ({:?})", e.name, e.text),
                message: e.message,
            }
        })?;
        let defaults = Fields {
            project: Some(project_code.to_string()).filter(|c| !c.is_empty()),
            ..Fields::default()
        };
        Ok(Layout {
            model: model.with_defaults(defaults),
            frame_ranges: cfg.frame_ranges.clone(),
        })
    }

    /// The directory templates are relative to.
    pub fn root(&self) -> &Path {
        self.model.root()
    }

    /// The levels reports break usage down by (`show`, `shot`, `step`, `version`, …).
    pub fn levels(&self) -> Vec<String> {
        self.model
            .levels()
            .into_iter()
            .map(|f| level_name(f).to_string())
            .collect()
    }

    /// Expected frames for a unit: `show/shot` first, then `shot`, then `shot` in any case.
    pub fn range_for(&self, unit: &Unit) -> Option<FrameSet> {
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

    /// Finds every unit at or below `start`. `start` may be the root, a directory above a unit
    /// or inside one; fields above `start` are parsed from its path. When no template fits,
    /// `start` itself is the one unit (template `-`, no fields), so any folder can be checked.
    pub fn discover(&self, start: &Path) -> Discovery {
        let mut found = Discovery::default();
        for t in self.model.folder_templates() {
            for v in t.variants() {
                let (dirs, errors) = self.match_variant(t, v, start, v.depth());
                found.errors.extend(errors);
                found
                    .units
                    .extend(dirs.into_iter().map(|(dir, mut fields)| {
                        fields.fill_from(self.model.defaults());
                        Unit {
                            template: t.name().to_string(),
                            dir,
                            fields,
                        }
                    }));
            }
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
                fields: Fields::default(),
            });
        }
        found.errors.sort();
        found.errors.dedup();
        found
    }

    /// Directories at or below `start` matching the first `upto` components of variant `v` of
    /// `t`, with their fields. When `start` is already `upto` or more components deep, `start`
    /// itself is the one match (its fields parsed from its path).
    pub fn match_variant(
        &self,
        t: &Template,
        v: &Variant,
        start: &Path,
        upto: usize,
    ) -> (Vec<Found>, Vec<DirError>) {
        if let Ok(rel) = start.strip_prefix(self.root()) {
            let n = rel.components().count();
            let parsed = t
                .parse_prefix(rel)
                .into_iter()
                .find(|(pv, _)| std::ptr::eq(*pv, v))
                .map(|(_, f)| f);
            if let Some(f) = parsed {
                if n >= upto {
                    return (vec![(start.to_path_buf(), f)], Vec::new());
                }
                let found = walk_levels(v, start, f, n, upto);
                if !found.0.is_empty() || n == 0 {
                    return found;
                }
            }
        }
        // Outside the root, or a path the template does not explain: `start` is a root itself.
        walk_levels(v, start, Fields::default(), 0, upto)
    }
}

/// Walks components `from..upto` of `v` below `start`, level by level, in parallel.
fn walk_levels(
    v: &Variant,
    start: &Path,
    fields: Fields,
    from: usize,
    upto: usize,
) -> (Vec<Found>, Vec<DirError>) {
    let mut errors = Vec::new();
    let mut frontier = vec![(start.to_path_buf(), fields)];
    for i in from..upto.min(v.depth()) {
        let step: Vec<_> = frontier
            .par_iter()
            .map(|(dir, f)| descend(v, i, dir, f))
            .collect();
        frontier = Vec::new();
        for (next, err) in step {
            frontier.extend(next);
            errors.extend(err);
        }
    }
    (frontier, errors)
}

/// The children of `dir` matching component `i` of `v`. Symlinks are not followed.
fn descend(v: &Variant, i: usize, dir: &Path, known: &Fields) -> (Vec<Found>, Option<DirError>) {
    if let Some(lit) = v.literal(i) {
        let p = dir.join(lit);
        let is_dir = std::fs::symlink_metadata(&p).is_ok_and(|m| m.is_dir());
        let found = if is_dir {
            vec![(p, known.clone())]
        } else {
            vec![]
        };
        return (found, None);
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
        if let Some(f) = v.match_component(i, &name, known) {
            out.push((e.path(), f));
        }
    }
    (out, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mkdirs(root: &Path, dirs: &[&str]) {
        for d in dirs {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
    }

    fn layout(preset: Option<LayoutPreset>, root: &Path) -> Layout {
        let cfg = LayoutConfig {
            preset,
            ..LayoutConfig::default()
        };
        Layout::from_config(&cfg, "DEMO", root).unwrap()
    }

    #[test]
    fn shots_default_finds_version_folders_with_and_without_sequence() {
        let tmp = tempfile::tempdir().unwrap();
        mkdirs(
            tmp.path(),
            &[
                "shots/SH010/comp/v001",
                "shots/SH010/comp/v002",
                "shots/SQ1/SH020/plate/bg_v001",
                "shots/SH030/comp/notaversion",
                "assets/props/tree/mod/v003",
                ".snap/shots/a/b/v001",
            ],
        );
        let l = layout(None, tmp.path());
        let d = l.discover(tmp.path());
        let got: Vec<_> = d
            .units
            .iter()
            .map(|u| {
                let (show, item) = u.group();
                format!("{show}/{item}/{}", u.fields.get(Field::Version).unwrap())
            })
            .collect();
        assert_eq!(
            got,
            vec![
                "DEMO/tree/003",
                "DEMO/SH010/001",
                "DEMO/SH010/002",
                "DEMO/SH020/001"
            ]
        );
        let sq = &d.units[3];
        assert_eq!(sq.fields.sequence.as_deref(), Some("SQ1"));
        assert_eq!(sq.fields.resource.as_deref(), Some("bg"));
        // Starting inside a shot still knows the shot.
        let d = l.discover(&tmp.path().join("shots/SH010"));
        assert_eq!(d.units.len(), 2);
        assert_eq!(d.units[0].group().1, "SH010");
        assert_eq!(
            l.levels(),
            vec!["sequence", "shot", "group", "asset", "step", "version"]
        );
    }

    #[test]
    fn ramses_preset_and_fallback() {
        let tmp = tempfile::tempdir().unwrap();
        mkdirs(
            tmp.path(),
            &["05-SHOTS/PROJ_S_SH010/PROJ_S_SH010_COMP/_published/001_WIP"],
        );
        let l = layout(Some(LayoutPreset::Ramses), tmp.path());
        let d = l.discover(tmp.path());
        assert_eq!(d.units.len(), 1);
        let u = &d.units[0];
        assert_eq!(u.group(), ("PROJ".into(), "SH010".into()));
        assert_eq!(u.fields.state.as_deref(), Some("WIP"));
        assert_eq!(u.fields.step.as_deref(), Some("COMP"));
        // Below the root but not explained by the templates: the folder is a root of its own.
        mkdirs(
            tmp.path(),
            &["archive/05-SHOTS/PROJ_S_SH020/PROJ_S_SH020_FX/_published/002"],
        );
        let d = l.discover(&tmp.path().join("archive"));
        assert_eq!(d.units.len(), 1);
        assert_eq!(d.units[0].fields.shot.as_deref(), Some("SH020"));
        let other = tempfile::tempdir().unwrap();
        let d = l.discover(other.path());
        assert_eq!(d.units[0].template, "-");
    }

    #[test]
    fn show_renders_and_ranges() {
        let tmp = tempfile::tempdir().unwrap();
        mkdirs(tmp.path(), &["demo/shots/sh010/renders", "demo/assets/x"]);
        let mut l = layout(Some(LayoutPreset::ShowRenders), tmp.path());
        assert_eq!(l.levels(), vec!["show", "shot"]);
        let d = l.discover(tmp.path());
        assert_eq!(d.units.len(), 1);
        assert_eq!(d.units[0].group(), ("demo".into(), "sh010".into()));
        assert_eq!(field_map(&d.units[0].fields)["show"], "demo");
        l.frame_ranges
            .insert("SH010".into(), FrameSet::parse("1-9x2").unwrap());
        assert_eq!(l.range_for(&d.units[0]).unwrap().len(), 5);
    }
}
