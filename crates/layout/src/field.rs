//! The fields a layout template knows, and a typed set of their values.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use crate::version::{ParseVersionError, VersionNumber};

/// A field of a template: `{shot}`, `{version}`, …
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    /// The project (show) code; `{show}` is accepted as an alias in templates.
    Project,
    /// A sequence of shots.
    Sequence,
    /// A shot.
    Shot,
    /// An asset group (`characters`, `props`).
    Group,
    /// An asset.
    Asset,
    /// A pipeline step (`comp`, `PLATE`).
    Step,
    /// A resource: a variant of one step's output (`bg`, `denoise`).
    Resource,
    /// A state (`WIP`, `OK`, Ramses states).
    State,
    /// A version number; formats as bare digits (`001`): templates write the `v` themselves.
    Version,
    /// A frame number or padding token.
    Frame,
    /// A file extension, without the dot.
    Ext,
}

impl Field {
    /// Every field, in the order reports list them (outermost first).
    pub const ALL: [Field; 11] = [
        Field::Project,
        Field::Sequence,
        Field::Shot,
        Field::Group,
        Field::Asset,
        Field::Step,
        Field::Resource,
        Field::State,
        Field::Version,
        Field::Frame,
        Field::Ext,
    ];

    /// The name written in templates (`{project}`).
    pub fn name(self) -> &'static str {
        match self {
            Field::Project => "project",
            Field::Sequence => "sequence",
            Field::Shot => "shot",
            Field::Group => "group",
            Field::Asset => "asset",
            Field::Step => "step",
            Field::Resource => "resource",
            Field::State => "state",
            Field::Version => "version",
            Field::Frame => "frame",
            Field::Ext => "ext",
        }
    }

    /// The regular expression a field matches when the template does not restrict it: one
    /// path component (or part of one) for names, digits for versions and frames.
    pub(crate) fn default_regex(self) -> &'static str {
        match self {
            Field::Version => r"\d+",
            Field::Frame => r"-?\d+",
            Field::Ext => r"[A-Za-z0-9]+",
            _ => r"[^/]+?",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is no template field; lists the known ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown field {{{name}}}: expected one of project (or show), sequence, shot, group, asset, step, resource, state, version, frame, ext")]
pub struct UnknownField {
    /// The name as written.
    pub name: String,
}

impl FromStr for Field {
    type Err = UnknownField;

    fn from_str(s: &str) -> Result<Field, UnknownField> {
        if s == "show" {
            return Ok(Field::Project);
        }
        Field::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| UnknownField { name: s.into() })
    }
}

/// The values of a path's fields: what a template formats from and parses back into.
///
/// Named fields rather than a string map, so a misspelt field is a compile error at every
/// caller. Empty strings count as absent when formatting (an optional group is dropped).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fields {
    /// Project (show) code.
    pub project: Option<String>,
    /// Sequence.
    pub sequence: Option<String>,
    /// Shot.
    pub shot: Option<String>,
    /// Asset group.
    pub group: Option<String>,
    /// Asset.
    pub asset: Option<String>,
    /// Step.
    pub step: Option<String>,
    /// Resource.
    pub resource: Option<String>,
    /// State.
    pub state: Option<String>,
    /// Version number.
    pub version: Option<VersionNumber>,
    /// Frame number (`1001`) or padding token (`####`, `%04d`) as written in file names.
    pub frame: Option<String>,
    /// Extension without the dot.
    pub ext: Option<String>,
}

impl Fields {
    /// The value of `field` as it is written in a path (versions as digits, `001`); `None`
    /// when absent or empty.
    pub fn get(&self, field: Field) -> Option<String> {
        if field == Field::Version {
            return self.version.map(VersionNumber::digits);
        }
        self.text(field)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    }

    /// Sets `field` from text read from a path; a version must parse as a [`VersionNumber`].
    pub fn set(&mut self, field: Field, value: &str) -> Result<(), ParseVersionError> {
        if field == Field::Version {
            self.version = Some(value.parse()?);
            return Ok(());
        }
        if let Some(slot) = self.text_mut(field) {
            *slot = Some(value.to_string());
        }
        Ok(())
    }

    /// Present fields and their values, in [`Field::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = (Field, String)> + '_ {
        Field::ALL
            .into_iter()
            .filter_map(|f| self.get(f).map(|v| (f, v)))
    }

    /// Present fields by name (`project`, `shot`, …), for reports and naming rules.
    pub fn to_map(&self) -> BTreeMap<String, String> {
        self.iter()
            .map(|(f, v)| (f.name().to_string(), v))
            .collect()
    }

    /// The shot, else the asset: the item a path belongs to.
    pub fn item(&self) -> Option<&str> {
        self.shot
            .as_deref()
            .or(self.asset.as_deref())
            .filter(|v| !v.is_empty())
    }

    /// Fields of `other` fill the ones absent here.
    pub fn fill_from(&mut self, other: &Fields) {
        for f in Field::ALL {
            if self.get(f).is_none() {
                if let Some(v) = other.get(f) {
                    // Values read back from a template always set cleanly.
                    let _ = self.set(f, &v);
                }
            }
        }
    }

    fn text(&self, field: Field) -> Option<&String> {
        match field {
            Field::Project => self.project.as_ref(),
            Field::Sequence => self.sequence.as_ref(),
            Field::Shot => self.shot.as_ref(),
            Field::Group => self.group.as_ref(),
            Field::Asset => self.asset.as_ref(),
            Field::Step => self.step.as_ref(),
            Field::Resource => self.resource.as_ref(),
            Field::State => self.state.as_ref(),
            Field::Frame => self.frame.as_ref(),
            Field::Ext => self.ext.as_ref(),
            Field::Version => None,
        }
    }

    fn text_mut(&mut self, field: Field) -> Option<&mut Option<String>> {
        Some(match field {
            Field::Project => &mut self.project,
            Field::Sequence => &mut self.sequence,
            Field::Shot => &mut self.shot,
            Field::Group => &mut self.group,
            Field::Asset => &mut self.asset,
            Field::Step => &mut self.step,
            Field::Resource => &mut self.resource,
            Field::State => &mut self.state,
            Field::Frame => &mut self.frame,
            Field::Ext => &mut self.ext,
            Field::Version => return None,
        })
    }
}

/// Serialized as an object of the present fields, every value a string (`"version": "001"`).
impl serde::Serialize for Fields {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_map().serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_show_is_project() {
        for f in Field::ALL {
            assert_eq!(f.name().parse::<Field>().unwrap(), f);
        }
        assert_eq!("show".parse::<Field>().unwrap(), Field::Project);
        let e = "shott".parse::<Field>().unwrap_err().to_string();
        assert!(e.contains("{shott}") && e.contains("sequence"), "{e}");
    }

    #[test]
    fn get_set_and_map() {
        let mut f = Fields::default();
        f.set(Field::Shot, "SH010").unwrap();
        f.set(Field::Version, "v003").unwrap();
        assert!(f.set(Field::Version, "x").is_err());
        f.resource = Some(String::new());
        assert_eq!(f.get(Field::Version).as_deref(), Some("003"));
        assert_eq!(f.get(Field::Resource), None);
        let m = f.to_map();
        assert_eq!(m.len(), 2);
        assert_eq!(m["shot"], "SH010");
        assert_eq!(f.item(), Some("SH010"));
    }
}
