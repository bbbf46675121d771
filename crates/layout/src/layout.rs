//! [`Layout`]: the templates in force (a preset plus config overrides), the root they apply to,
//! and the helpers every command calls to go from fields to paths and back.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use crate::field::{Field, Fields};
use crate::preset::Preset;
use crate::template::{FormatError, Template, TemplateError};

/// Suffix of file-name templates (`shot_file`); the folder template they belong to has the
/// same stem and `_version` (`shot_version`).
pub const FILE_SUFFIX: &str = "_file";
/// Suffix of version-folder templates (`shot_version`).
pub const VERSION_SUFFIX: &str = "_version";

/// The one project layout.
#[derive(Debug, Clone)]
pub struct Layout {
    root: PathBuf,
    preset: Option<Preset>,
    templates: Vec<Template>,
    defaults: Fields,
}

/// What a path is in the layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Place {
    /// A file in a version folder, named as the file template says.
    File,
    /// The folder a folder template names (a version folder, a render folder).
    Folder,
    /// Something below such a folder, not named by a template.
    Inside,
}

/// A path resolved against the layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The folder template that matched (`shot_version`).
    pub template: String,
    /// Where the path is relative to that template's folder.
    pub place: Place,
    /// The folder the template names (the path itself for [`Place::Folder`]).
    pub folder: PathBuf,
    /// Fields from the path, filled with the layout's defaults (the project code) where the
    /// path does not name them.
    pub fields: Fields,
}

impl Layout {
    /// Builds a layout: `preset`'s templates (none when `None`), then `overrides` by name
    /// (adding or replacing), applied below `root`. Each template is checked: file templates
    /// are one component, version folders have `{version}` in their last component only (so
    /// the next free number is taken with one atomic `mkdir`).
    pub fn new(
        preset: Option<Preset>,
        overrides: &BTreeMap<String, String>,
        root: PathBuf,
    ) -> Result<Layout, TemplateError> {
        let mut texts: BTreeMap<String, String> = preset
            .map(Preset::templates)
            .unwrap_or_default()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        texts.extend(overrides.clone());
        let templates = texts
            .iter()
            .map(|(name, text)| compile_checked(name, text))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Layout {
            root,
            preset,
            templates,
            defaults: Fields::default(),
        })
    }

    /// A preset as it ships, below `root`.
    pub fn preset(preset: Preset, root: PathBuf) -> Layout {
        // The shipped templates are tested to compile.
        Layout::new(Some(preset), &BTreeMap::new(), root).unwrap_or_else(|_| Layout {
            root: PathBuf::new(),
            preset: Some(preset),
            templates: Vec::new(),
            defaults: Fields::default(),
        })
    }

    /// Values used where a template does not name a field, e.g. `project` from
    /// `project.code` in the `shots` preset (whose paths carry no project).
    pub fn with_defaults(mut self, defaults: Fields) -> Layout {
        self.defaults = defaults;
        self
    }

    /// The defaults set by [`Layout::with_defaults`].
    pub fn defaults(&self) -> &Fields {
        &self.defaults
    }

    /// The directory templates are relative to.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Replaces the root (e.g. with its canonical form, so paths can be parsed back).
    pub fn set_root(&mut self, root: PathBuf) {
        self.root = root;
    }

    /// The preset the layout started from.
    pub fn preset_name(&self) -> Option<Preset> {
        self.preset
    }

    /// Every template, in name order.
    pub fn templates(&self) -> &[Template] {
        &self.templates
    }

    /// The template named `name`.
    pub fn template(&self, name: &str) -> Option<&Template> {
        self.templates.iter().find(|t| t.name() == name)
    }

    /// Folder templates (every template but the `*_file` ones), in name order.
    pub fn folder_templates(&self) -> impl Iterator<Item = &Template> {
        self.templates
            .iter()
            .filter(|t| !t.name().ends_with(FILE_SUFFIX))
    }

    /// The file-name template of a version-folder template (`shot_file` for `shot_version`).
    pub fn file_template_for(&self, folder: &Template) -> Option<&Template> {
        let stem = folder.name().strip_suffix(VERSION_SUFFIX)?;
        self.template(&format!("{stem}{FILE_SUFFIX}"))
    }

    /// The version folder for `fields` (`shot_version` when a shot is given, else
    /// `asset_version`), below the root. Every value is checked as a path component.
    pub fn version_dir(&self, fields: &Fields) -> Result<PathBuf, FormatError> {
        let t = self.kind_template(fields, VERSION_SUFFIX)?;
        Ok(self.root.join(t.format(&self.filled(fields))?))
    }

    /// The file name for `fields` in its version folder (`shot_file` or `asset_file`); set
    /// `frame` to a number or a padding token and `ext` to the extension.
    pub fn file_name(&self, fields: &Fields) -> Result<String, FormatError> {
        let t = self.kind_template(fields, FILE_SUFFIX)?;
        t.format(&self.filled(fields))
    }

    /// Resolves a path (absolute below the root, or relative to it) to the template that
    /// names it and its fields: a file in a version folder, the folder itself, or something
    /// below it. The most specific match wins (file, then folder, then inside; deeper first).
    pub fn resolve(&self, path: &Path) -> Option<Resolved> {
        let rel = if path.is_absolute() {
            path.strip_prefix(&self.root).ok()?
        } else {
            path
        };
        let names: Vec<&str> = rel
            .components()
            .filter(|c| !matches!(c, Component::CurDir))
            .map(|c| match c {
                Component::Normal(n) => n.to_str(),
                _ => None,
            })
            .collect::<Option<_>>()?;
        let mut best: Option<(u8, usize, Resolved)> = None;
        for t in self.folder_templates() {
            for v in t.variants() {
                let d = v.depth();
                if names.len() < d {
                    continue;
                }
                let Some(fields) = names[..d]
                    .iter()
                    .enumerate()
                    .try_fold(Fields::default(), |f, (i, n)| v.match_component(i, n, &f))
                else {
                    continue;
                };
                let folder = self.root.join(names[..d].iter().collect::<PathBuf>());
                let (rank, place, fields) = match names.len() - d {
                    0 => (1, Place::Folder, fields),
                    1 => match self
                        .file_template_for(t)
                        .and_then(|ft| ft.variants().first())
                        .and_then(|fv| fv.match_component(0, names[d], &fields))
                    {
                        Some(f) => (2, Place::File, f),
                        None => (0, Place::Inside, fields),
                    },
                    _ => (0, Place::Inside, fields),
                };
                let better = best.as_ref().is_none_or(|(r, bd, _)| (rank, d) > (*r, *bd));
                if better {
                    let mut fields = fields;
                    fields.fill_from(&self.defaults);
                    best = Some((
                        rank,
                        d,
                        Resolved {
                            template: t.name().to_string(),
                            place,
                            folder,
                            fields,
                        },
                    ));
                }
            }
        }
        best.map(|(_, _, r)| r)
    }

    /// The fields that name folders, outermost first (each at the shallowest depth any folder
    /// template names it, see [`crate::Variant::naming_field`]): the levels reports group by.
    pub fn levels(&self) -> Vec<Field> {
        let mut out: Vec<(usize, Field)> = Vec::new();
        for v in self.folder_templates().flat_map(Template::variants) {
            for (d, f) in (0..v.depth()).filter_map(|i| v.naming_field(i).map(|f| (i, f))) {
                match out.iter_mut().find(|(_, g)| *g == f) {
                    Some(e) => e.0 = e.0.min(d),
                    None => out.push((d, f)),
                }
            }
        }
        out.sort_by_key(|&(d, f)| (d, f));
        out.into_iter().map(|(_, f)| f).collect()
    }

    fn filled(&self, fields: &Fields) -> Fields {
        let mut f = fields.clone();
        f.fill_from(&self.defaults);
        f
    }

    fn kind_template(&self, fields: &Fields, suffix: &str) -> Result<&Template, FormatError> {
        let stem = if fields.shot.as_deref().is_some_and(|s| !s.is_empty()) {
            "shot"
        } else {
            "asset"
        };
        let name = format!("{stem}{suffix}");
        self.template(&name).ok_or(FormatError::NoTemplate(name))
    }
}

fn compile_checked(name: &str, text: &str) -> Result<Template, TemplateError> {
    let t = Template::compile(name, text)?;
    let bad = |message: &str| TemplateError {
        name: name.into(),
        text: text.into(),
        message: message.into(),
    };
    if name.ends_with(FILE_SUFFIX) && t.variants().iter().any(|v| v.depth() != 1) {
        return Err(bad("a file-name template cannot contain '/'"));
    }
    if name.ends_with(VERSION_SUFFIX)
        && (!t.last_component_has(Field::Version) || t.above_last_has(Field::Version))
    {
        return Err(bad(
            "{version} must appear in the last folder component only (the next free version is taken with one mkdir)",
        ));
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::VersionNumber;

    fn shot(shot: &str, step: &str, v: u32) -> Fields {
        Fields {
            shot: Some(shot.into()),
            step: Some(step.into()),
            version: VersionNumber::new(v),
            ..Fields::default()
        }
    }

    #[test]
    fn every_preset_compiles() {
        for p in Preset::ALL {
            let l = Layout::new(Some(p), &BTreeMap::new(), "/p".into()).unwrap();
            assert_eq!(l.templates().len(), p.templates().len(), "{p}");
            assert_eq!(p.name().parse::<Preset>().unwrap(), p);
        }
    }

    #[test]
    fn shots_preset_formats_and_resolves() {
        let l = Layout::preset(Preset::Shots, "/p".into()).with_defaults(Fields {
            project: Some("DEMO".into()),
            ..Fields::default()
        });
        let mut f = shot("SH010", "comp", 2);
        f.frame = Some("1001".into());
        f.ext = Some("exr".into());
        let dir = l.version_dir(&f).unwrap();
        assert_eq!(dir, Path::new("/p/shots/SH010/comp/v002"));
        let name = l.file_name(&f).unwrap();
        assert_eq!(name, "SH010_comp_v002.1001.exr");
        let r = l.resolve(&dir.join(&name)).unwrap();
        assert_eq!(r.place, Place::File);
        assert_eq!(r.template, "shot_version");
        assert_eq!(r.fields.project.as_deref(), Some("DEMO"));
        assert_eq!(r.fields.frame.as_deref(), Some("1001"));
        assert_eq!(r.fields.version, VersionNumber::new(2));
        assert_eq!(r.folder, dir);
        let r = l.resolve(Path::new("shots/SQ1/SH010/comp/v002")).unwrap();
        assert_eq!(
            (r.place, r.fields.sequence.as_deref()),
            (Place::Folder, Some("SQ1"))
        );
        let r = l
            .resolve(Path::new("shots/SH010/comp/v002/sub/x.txt"))
            .unwrap();
        assert_eq!(r.place, Place::Inside);
        assert!(l.resolve(Path::new("/elsewhere/x")).is_none());
        assert!(l.resolve(Path::new("shots/SH010")).is_none());
        let a = Fields {
            asset: Some("tree".into()),
            group: Some("props".into()),
            step: Some("mod".into()),
            version: VersionNumber::new(1),
            ext: Some("abc".into()),
            ..Fields::default()
        };
        assert_eq!(
            l.version_dir(&a).unwrap(),
            Path::new("/p/assets/props/tree/mod/v001")
        );
        assert_eq!(l.file_name(&a).unwrap(), "tree_mod_v001.abc");
        assert_eq!(
            l.levels(),
            vec![
                Field::Sequence,
                Field::Shot,
                Field::Group,
                Field::Asset,
                Field::Step,
                Field::Version
            ]
        );
    }

    #[test]
    fn ramses_preset_formats_and_resolves() {
        let l = Layout::preset(Preset::Ramses, "/p".into());
        let mut f = shot("SH010", "COMP", 3);
        f.project = Some("PROJ".into());
        f.state = Some("OK".into());
        f.ext = Some("exr".into());
        f.frame = Some("1001".into());
        let dir = l.version_dir(&f).unwrap();
        assert_eq!(
            dir,
            Path::new("/p/05-SHOTS/PROJ_S_SH010/PROJ_S_SH010_COMP/_published/003_OK")
        );
        let name = l.file_name(&f).unwrap();
        assert_eq!(name, "PROJ_S_SH010_COMP.1001.exr");
        let r = l.resolve(&dir.join(name)).unwrap();
        assert_eq!(r.fields, f);
        let e = l.version_dir(&shot("SH010", "COMP", 1)).unwrap_err();
        assert!(e.to_string().contains("{project}"), "{e}");
        let r = l
            .resolve(Path::new(
                "04-ASSETS/props/PROJ_A_tree/PROJ_A_tree_MOD/_published/hi_002",
            ))
            .unwrap();
        assert_eq!(r.fields.asset.as_deref(), Some("tree"));
        assert_eq!(r.fields.resource.as_deref(), Some("hi"));
        assert_eq!(r.fields.version, VersionNumber::new(2));
    }

    #[test]
    fn overrides_are_checked() {
        let mut o = BTreeMap::new();
        o.insert("shot_version".to_string(), "v{version}/{shot}".to_string());
        let e = Layout::new(Some(Preset::Shots), &o, "/p".into()).unwrap_err();
        assert!(e.to_string().contains("shot_version"), "{e}");
        o.insert(
            "shot_version".to_string(),
            "x/{shot}/v{version}".to_string(),
        );
        o.insert("shot_file".to_string(), "{shot}/x.{ext}".to_string());
        assert!(Layout::new(Some(Preset::Shots), &o, "/p".into()).is_err());
        o.remove("shot_file");
        let l = Layout::new(Some(Preset::Shots), &o, "/p".into()).unwrap();
        assert_eq!(
            l.version_dir(&shot("A", "b", 1)).unwrap(),
            Path::new("/p/x/A/v001")
        );
    }

    #[test]
    fn show_renders_levels() {
        let l = Layout::preset(Preset::ShowRenders, "/p".into());
        assert_eq!(l.levels(), vec![Field::Project, Field::Shot]);
        let r = l
            .resolve(Path::new("demo/shots/sh010/renders/comp/v001"))
            .unwrap();
        assert_eq!(r.fields.shot.as_deref(), Some("sh010"));
        assert_eq!(r.place, Place::Inside);
    }
}
