//! Where ingested versions go: a version-folder template and a file-name template of the one
//! layout language ([`shotline_layout::Template`]: `{field}`, `{field:REGEX}`, `[optional]`),
//! below the ingest root.
//!
//! The CLI hands over the project layout's `shot_version` and `shot_file`; the deprecated
//! `ingest.template` presets (`shotline`, `ramses`) are the layout presets of the same name, and
//! `custom` takes `ingest.dir_template`/`ingest.file_template`. Both are checked as the layout
//! checks its own: `{version}` in the last folder component only (the next free number is taken
//! with one atomic `mkdir`), a file template is one component, nothing leaves the root.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use shotline_layout::{
    check_component, check_inside, Field, Fields, FormatError, Layout, Preset, Template,
    TemplateError, VersionNumber,
};

/// Name of the version-folder template in the layout.
const DIR_TEMPLATE: &str = "shot_version";
/// Name of the file-name template in the layout.
const FILE_TEMPLATE: &str = "shot_file";

/// Whether `field` says which shot/step/resource a version folder belongs to: a folder whose
/// name parses with other values (of the fields its template names) belongs to another group.
/// The state is not one of them (a Ramses `003_OK` is version 3 whatever state this run
/// writes), nor are the version, frame and extension.
fn identity(field: Field) -> bool {
    !matches!(
        field,
        Field::State | Field::Version | Field::Frame | Field::Ext
    )
}

/// Destination templates that cannot be used; names the config key or template.
#[derive(Debug, thiserror::Error)]
pub enum DestinationError {
    /// Unknown `ingest.template` value.
    #[error("ingest.template {0:?}: expected shotline, ramses or custom")]
    UnknownPreset(String),
    /// `custom` without both templates.
    #[error("ingest.template custom needs ingest.dir_template and ingest.file_template")]
    MissingCustom,
    /// A template does not compile or breaks a layout rule.
    #[error(transparent)]
    Template(#[from] TemplateError),
}

/// The two templates in force.
#[derive(Debug, Clone)]
pub struct Destinations {
    /// Version folder, relative to the ingest root.
    dir: Template,
    /// File name inside the version folder.
    file: Template,
}

impl Destinations {
    /// The templates named by the `ingest:` config: a preset or the custom pair, checked by the
    /// layout's rules.
    pub fn from_config(
        preset: &str,
        dir: Option<&str>,
        file: Option<&str>,
    ) -> Result<Destinations, DestinationError> {
        let mut overrides = BTreeMap::new();
        let preset = match preset.to_ascii_lowercase().as_str() {
            "shotline" | "shots" | "" => Some(Preset::Shots),
            "ramses" => Some(Preset::Ramses),
            "custom" => {
                let (Some(d), Some(f)) = (dir, file) else {
                    return Err(DestinationError::MissingCustom);
                };
                overrides.insert(DIR_TEMPLATE.to_string(), d.to_string());
                overrides.insert(FILE_TEMPLATE.to_string(), f.to_string());
                None
            }
            other => return Err(DestinationError::UnknownPreset(other.into())),
        };
        let layout = Layout::new(preset, &overrides, PathBuf::new())?;
        let pick = |name: &str, text: Option<&str>| {
            layout.template(name).cloned().ok_or_else(|| TemplateError {
                name: name.into(),
                text: text.unwrap_or_default().into(),
                message: "missing".into(),
            })
        };
        Ok(Destinations {
            dir: pick(DIR_TEMPLATE, dir)?,
            file: pick(FILE_TEMPLATE, file)?,
        })
    }

    /// The folder holding a group's version folders: `root` joined with the version-folder
    /// template's path above its last component. Every value is checked as one safe path
    /// component (named as the user knows it) and the folder must stay inside `root`.
    pub fn version_parent(&self, root: &Path, fields: &Fields) -> Result<PathBuf, String> {
        check_fields(fields)?;
        let rel = self.rel_parent(fields)?;
        let parent = root.join(rel);
        check_inside(root, &parent).map_err(|e| e.to_string())?;
        Ok(parent)
    }

    /// The version folder's path relative to the root, with the first version number: only
    /// its parent is used (`{version}` is in the last component only).
    fn rel_parent(&self, fields: &Fields) -> Result<PathBuf, String> {
        let rel = format_with(&self.dir, fields, Some(VersionNumber::FIRST), None, None)?;
        Ok(Path::new(&rel)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default())
    }

    /// The version folder's name (last component) for `version`; one safe path component.
    pub fn leaf_name(&self, fields: &Fields, version: u32) -> Result<String, String> {
        let rel = format_with(&self.dir, fields, Some(number(version)?), None, None)?;
        let leaf = rel.rsplit('/').next().unwrap_or_default().to_string();
        check_component("version folder name", &leaf).map_err(|e| e.to_string())?;
        Ok(leaf)
    }

    /// The destination file name for a file with `frame` digits (or a padding token) and
    /// extension `ext` in version `version`; one safe path component.
    pub fn file_name(
        &self,
        fields: &Fields,
        version: u32,
        frame: Option<&str>,
        ext: &str,
    ) -> Result<String, String> {
        let name = format_with(&self.file, fields, Some(number(version)?), frame, Some(ext))?;
        check_component("destination file name", &name).map_err(|e| e.to_string())?;
        Ok(name)
    }

    /// The version folders of one group, as the store's allocator scans them.
    pub fn folders(&self, fields: &Fields) -> VersionNames {
        VersionNames {
            dir: self.dir.clone(),
            rel_parent: self.rel_parent(fields).ok(),
            fields: fields.clone(),
        }
    }
}

/// Reads version numbers back from the folder names of one group (same shot/step/resource),
/// by parsing them with the version-folder template: the number is where the template says,
/// under its `{version:REGEX}` if it has one.
#[derive(Debug, Clone)]
pub struct VersionNames {
    dir: Template,
    /// `None` when the group's fields cannot be formatted (nothing is then a version of it).
    rel_parent: Option<PathBuf>,
    fields: Fields,
}

impl VersionNames {
    /// The version a folder named `name` (in the group's parent folder) holds, when it is a
    /// version folder of this group.
    pub fn number_of(&self, name: &str) -> Option<VersionNumber> {
        let rel = self.rel_parent.as_ref()?.join(name);
        let found = self.dir.parse(&rel)?;
        self.dir
            .fields()
            .into_iter()
            .filter(|&f| identity(f))
            .all(|f| found.get(f) == self.fields.get(f))
            .then_some(found.version)
            .flatten()
    }
}

/// `version` as a [`VersionNumber`], the one place versions are formatted.
fn number(version: u32) -> Result<VersionNumber, String> {
    VersionNumber::new(version).ok_or_else(|| format!("version {version} is out of range"))
}

/// Formats `template` with the group's `fields` plus the version, frame and extension; the
/// error names the template and, for a missing project code, the key to set.
fn format_with(
    template: &Template,
    fields: &Fields,
    version: Option<VersionNumber>,
    frame: Option<&str>,
    ext: Option<&str>,
) -> Result<String, String> {
    let mut f = fields.clone();
    f.version = version;
    f.frame = frame.map(str::to_string);
    f.ext = ext.map(str::to_string);
    template.format(&f).map_err(|e| match e {
        FormatError::Missing {
            field: Field::Project,
            ..
        } => format!("{e} (set project.code in shotline.yaml)"),
        e => e.to_string(),
    })
}

/// Checks every value substituted into the destination path (`project.code`, shot, step, …,
/// whether from the config, a file name, an EDL or an override) as one safe path component,
/// named as the user knows it. Empty values are left out by the templates and pass.
fn check_fields(fields: &Fields) -> Result<(), String> {
    for (field, value) in fields.iter() {
        let name = match field {
            Field::Project => "project code",
            Field::State => "ingest.state",
            other => other.name(),
        };
        check_component(name, &value).map_err(|e| e.to_string())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(shot: &str, step: &str) -> Fields {
        Fields {
            shot: Some(shot.into()),
            step: Some(step.into()),
            ..Fields::default()
        }
    }

    #[test]
    fn ramses_preset_writes_published_versions() {
        let d = Destinations::from_config("ramses", None, None).unwrap();
        let mut f = fields("SH010", "PLATE");
        f.project = Some("DEMO".into());
        f.state = Some("WIP".into());
        let parent = d.version_parent(Path::new("/p"), &f).unwrap();
        assert_eq!(
            parent,
            Path::new("/p/05-SHOTS/DEMO_S_SH010/DEMO_S_SH010_PLATE/_published")
        );
        assert_eq!(d.leaf_name(&f, 3).unwrap(), "003_WIP");
        assert_eq!(
            d.file_name(&f, 3, Some("1001"), "exr").unwrap(),
            "DEMO_S_SH010_PLATE.1001.exr"
        );
        let names = d.folders(&f);
        assert_eq!(names.number_of("003_WIP"), VersionNumber::new(3));
        assert_eq!(names.number_of("004_OK"), VersionNumber::new(4));
        assert_eq!(names.number_of("bg_005"), None, "another resource");
        let e = d
            .version_parent(Path::new("/p"), &fields("SH1", "PLATE"))
            .unwrap_err();
        assert!(e.contains("project.code"), "{e}");
    }

    #[test]
    fn optional_groups_drop_when_empty() {
        let d = Destinations::from_config("shotline", None, None).unwrap();
        let mut f = fields("SH1", "PLATE");
        f.resource = Some(String::new());
        assert_eq!(
            d.file_name(&f, 1, None, "mov").unwrap(),
            "SH1_PLATE_v001.mov"
        );
        assert_eq!(
            d.version_parent(Path::new("/p"), &f).unwrap(),
            Path::new("/p/shots/SH1/PLATE")
        );
        assert_eq!(d.leaf_name(&f, 1).unwrap(), "v001");
        let names = d.folders(&f);
        assert_eq!(names.number_of("v012"), VersionNumber::new(12));
        assert_eq!(names.number_of("bg01_v004"), None);
        assert_eq!(names.number_of("vx"), None);
        f.resource = Some("bg01".into());
        assert_eq!(d.folders(&f).number_of("bg01_v004"), VersionNumber::new(4));
    }

    #[test]
    fn field_regexes_work_as_everywhere() {
        let d = Destinations::from_config(
            "custom",
            Some("plates/{shot:SH\\d+}/v{version:\\d{3}}"),
            Some("{shot}_v{version}[.{frame}].{ext}"),
        )
        .unwrap();
        let f = fields("SH010", "PLATE");
        let names = d.folders(&f);
        assert_eq!(names.number_of("v007"), VersionNumber::new(7));
        assert_eq!(
            names.number_of("v0007"),
            None,
            "the template says three digits"
        );
        assert_eq!(
            d.file_name(&f, 7, Some("1001"), "exr").unwrap(),
            "SH010_v007.1001.exr"
        );
    }

    #[test]
    fn errors_are_explained() {
        let bad = |p: &str, d: Option<&str>, f: Option<&str>| {
            Destinations::from_config(p, d, f).unwrap_err().to_string()
        };
        assert!(bad("nope", None, None).contains("expected shotline"));
        assert!(bad("custom", Some("{shot}/v{version}"), None).contains("dir_template"));
        assert!(bad("custom", Some("v{version}/{shot}"), Some("{shot}.{ext}")).contains("last"));
        assert!(bad("custom", Some("{shott}/v{version}"), Some("{shot}.{ext}")).contains("shott"));
        assert!(bad("custom", Some("../{shot}/v{version}"), Some("{shot}.{ext}")).contains(".."));
        assert!(bad("custom", Some("{shot}/v{version}"), Some("{shot}/x.{ext}")).contains("'/'"));
        let d = Destinations::from_config("shotline", None, None).unwrap();
        let e = d
            .version_parent(Path::new("/p"), &fields("../../etc", "PLATE"))
            .unwrap_err();
        assert!(e.contains("shot") && e.contains("../../etc"), "{e}");
    }
}
