//! Ramses (RxLaboratory) names, for the interop that reads and writes Ramses trees directly.
//!
//! File names: `PROJ_S_SH010_COMP[_resource][_STATEnnn].ext` (shots, `_A_` for assets); the
//! state and version suffix marks a WIP version file (`_WIP003`). Published version folders:
//! `_published/[RESOURCE_]NNN[_STATE]/`.

use crate::component::{check_component, UnsafeComponent};
use crate::version::VersionNumber;

/// Shot or asset: the `_S_` or `_A_` in a Ramses name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RamsesKind {
    /// `PROJ_S_SH010`.
    Shot,
    /// `PROJ_A_NAME`.
    Asset,
}

impl RamsesKind {
    fn letter(self) -> &'static str {
        match self {
            RamsesKind::Shot => "S",
            RamsesKind::Asset => "A",
        }
    }
}

/// A Ramses file name taken apart.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RamsesName {
    /// Project short name.
    pub project: String,
    /// Shot or asset.
    pub kind: RamsesKind,
    /// The shot or asset short name.
    pub item: String,
    /// The step short name.
    pub step: String,
    /// The resource, when the name has one.
    pub resource: Option<String>,
    /// State and version of a WIP version file (`_WIP003`).
    pub state_version: Option<(String, VersionNumber)>,
    /// Extension without the dot (empty when the name has none).
    pub ext: String,
}

/// Parses `PROJ_S_SH010_COMP[_resource][_STATEnnn].ext`. Short names in Ramses are letters,
/// digits and `-`; an `_` separates parts, so a name part never contains one.
pub fn parse_ramses_name(name: &str) -> Option<RamsesName> {
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => (s, e.to_string()),
        _ => (name, String::new()),
    };
    let parts: Vec<&str> = stem.split('_').collect();
    let [project, kind, item, step, rest @ ..] = parts.as_slice() else {
        return None;
    };
    let kind = match *kind {
        "S" => RamsesKind::Shot,
        "A" => RamsesKind::Asset,
        _ => return None,
    };
    if [project, item, step].iter().any(|p| p.is_empty()) {
        return None;
    }
    let (resource, state_version) = match rest {
        [] => (None, None),
        [last] => match state_version(last) {
            Some(sv) => (None, Some(sv)),
            None => (Some(last.to_string()), None),
        },
        [res, last] => (Some(res.to_string()), Some(state_version(last)?)),
        _ => return None,
    };
    Some(RamsesName {
        project: project.to_string(),
        kind,
        item: item.to_string(),
        step: step.to_string(),
        resource: resource.filter(|r| !r.is_empty()),
        state_version,
        ext,
    })
}

/// `WIP003` → (`WIP`, 3): upper-case letters, then digits.
fn state_version(s: &str) -> Option<(String, VersionNumber)> {
    let i = s.find(|c: char| c.is_ascii_digit())?;
    let (state, digits) = s.split_at(i);
    if state.is_empty() || !state.chars().all(|c| c.is_ascii_uppercase()) {
        return None;
    }
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((state.to_string(), digits.parse().ok()?))
}

/// Formats a Ramses file name; every part must be a safe path component without `_`-free
/// checks beyond that (Ramses itself refuses `_` in short names).
pub fn format_ramses_name(n: &RamsesName) -> Result<String, UnsafeComponent> {
    check_component("project", &n.project)?;
    check_component("item", &n.item)?;
    check_component("step", &n.step)?;
    let mut out = format!("{}_{}_{}_{}", n.project, n.kind.letter(), n.item, n.step);
    if let Some(r) = n.resource.as_deref().filter(|r| !r.is_empty()) {
        check_component("resource", r)?;
        out.push('_');
        out.push_str(r);
    }
    if let Some((state, v)) = &n.state_version {
        check_component("state", state)?;
        out.push_str(&format!("_{state}{}", v.digits()));
    }
    if !n.ext.is_empty() {
        check_component("ext", &n.ext)?;
        out.push('.');
        out.push_str(&n.ext);
    }
    check_component("file name", &out)?;
    Ok(out)
}

/// A published version folder name taken apart: `[RESOURCE_]NNN[_STATE]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RamsesPublished {
    /// The resource, when there is one.
    pub resource: Option<String>,
    /// The version.
    pub version: VersionNumber,
    /// The state, when there is one.
    pub state: Option<String>,
}

/// Parses a `_published/` folder name: `003`, `003_OK`, `bg_003`, `bg_003_OK`.
pub fn parse_ramses_published(name: &str) -> Option<RamsesPublished> {
    let parts: Vec<&str> = name.split('_').collect();
    let digits = |s: &str| {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<VersionNumber>().ok())
            .flatten()
    };
    let (resource, version, state) = match parts.as_slice() {
        [v] => (None, digits(v)?, None),
        [a, b] => match digits(a) {
            Some(v) => (None, v, Some(b.to_string())),
            None => (Some(a.to_string()), digits(b)?, None),
        },
        [r, v, s] => (Some(r.to_string()), digits(v)?, Some(s.to_string())),
        _ => return None,
    };
    let nonempty = |s: Option<String>| s.filter(|s| !s.is_empty());
    Some(RamsesPublished {
        resource: nonempty(resource),
        version,
        state: nonempty(state),
    })
}

/// Formats a `_published/` folder name (`bg_003_OK`).
pub fn format_ramses_published(p: &RamsesPublished) -> Result<String, UnsafeComponent> {
    let mut out = String::new();
    if let Some(r) = p.resource.as_deref().filter(|r| !r.is_empty()) {
        check_component("resource", r)?;
        out.push_str(r);
        out.push('_');
    }
    out.push_str(&p.version.digits());
    if let Some(s) = p.state.as_deref().filter(|s| !s.is_empty()) {
        check_component("state", s)?;
        out.push('_');
        out.push_str(s);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_round_trip() {
        for name in [
            "PROJ_S_SH010_COMP.exr",
            "PROJ_S_SH010_COMP_bg.exr",
            "PROJ_S_SH010_COMP_WIP003.blend",
            "PROJ_A_TREE_MOD_hi_OK012.ma",
        ] {
            let n = parse_ramses_name(name).unwrap();
            assert_eq!(format_ramses_name(&n).unwrap(), name);
        }
        let n = parse_ramses_name("PROJ_S_SH010_COMP_WIP003.blend").unwrap();
        assert_eq!(n.state_version.as_ref().unwrap().0, "WIP");
        assert_eq!(n.state_version.unwrap().1.get(), 3);
        let n = parse_ramses_name("PROJ_A_TREE_MOD_hi_OK012.ma").unwrap();
        assert_eq!(
            (n.kind, n.resource.as_deref()),
            (RamsesKind::Asset, Some("hi"))
        );
        for bad in [
            "PROJ_X_SH010_COMP.exr",
            "PROJ_S_SH010.exr",
            "a_S_b_c_d_e_f.exr",
            "P_S_S_C_bg_wip1.x",
        ] {
            assert!(parse_ramses_name(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn published_folders_round_trip() {
        for name in ["003", "003_OK", "bg_003", "bg_003_WIP"] {
            let p = parse_ramses_published(name).unwrap();
            assert_eq!(format_ramses_published(&p).unwrap(), name);
        }
        assert!(parse_ramses_published("final").is_none());
        assert!(parse_ramses_published("v003").is_none());
        let mut n = parse_ramses_name("PROJ_S_SH010_COMP.exr").unwrap();
        n.step = "../x".into();
        assert!(format_ramses_name(&n).is_err());
    }
}
