//! `layout:` section: the one project layout (see `docs/layout.md`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use shotline_frames::FrameSet;

/// Where things live: a preset of path templates, overrides by name, and the root they apply
/// to. Ingest, publish, validate, disk and render all read paths through it.
///
/// Templates are kept under an explicit `templates:` key (rather than as free keys of `layout:`)
/// so that every other key stays checked: a typo like `preset:` → `presets:` must be an error
/// with a line and column, not a silently created template.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct LayoutConfig {
    /// A built-in set of templates to start from; `templates` adds to it or overrides it by
    /// name. Default: `shots` (unless only `templates` are given: then exactly those).
    pub preset: Option<LayoutPreset>,
    /// Directory the templates are relative to, itself relative to the project root.
    /// Default: the project root.
    pub root: Option<PathBuf>,
    /// Named templates, e.g. `shot_version: "shots/{shot}/{step}/v{version}"`. `{field}` is one
    /// path component or part of one, `{field:REGEX}` restricts it, `[...]` is optional.
    pub templates: BTreeMap<String, String>,
    /// Expected frames per shot (`SH010: "1001-1100"`, any frame-range syntax such as
    /// `1001-1100x2`), keyed by shot name or `show/shot`. Missing frames are counted against
    /// these instead of first..last; they win over the shot's cut in the tracking database.
    #[serde(
        deserialize_with = "frame_ranges::deserialize",
        serialize_with = "frame_ranges::serialize"
    )]
    pub frame_ranges: BTreeMap<String, FrameSet>,
}

/// The layouts shotline knows without configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LayoutPreset {
    /// The default: what ingest writes, `shots/[SQ/]SH010/comp/[res_]v001/`.
    Shots,
    /// The Ramses (RxLaboratory) tree: `05-SHOTS/PROJ_S_SH010/PROJ_S_SH010_COMP/_published/…`.
    Ramses,
    /// A render folder per shot and show: `<show>/shots/<shot>/renders/`.
    ShowRenders,
}

mod frame_ranges {
    use super::*;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<String, FrameSet>, D::Error> {
        let raw = BTreeMap::<String, String>::deserialize(d)?;
        raw.into_iter()
            .map(|(k, v)| {
                let set = FrameSet::parse(&v).map_err(|e| {
                    serde::de::Error::custom(format!(
                        "layout.frame_ranges.{k}: {v:?} is not a frame range ({e}); expected e.g. 1001-1100 or 1001-1100x2"
                    ))
                })?;
                if set.is_empty() {
                    return Err(serde::de::Error::custom(format!(
                        "layout.frame_ranges.{k}: {v:?} names no frames"
                    )));
                }
                Ok((k, set))
            })
            .collect()
    }

    pub fn serialize<S: Serializer>(
        m: &BTreeMap<String, FrameSet>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_map(m.iter().map(|(k, v)| (k, v.to_string())))
    }
}

#[cfg(test)]
mod tests {
    use crate::parse_str;

    use super::*;

    #[test]
    fn presets_by_name_and_unknown_names_list_the_valid_ones() {
        let c = parse_str("layout:\n  preset: show-renders\n").unwrap();
        assert_eq!(c.layout.preset, Some(LayoutPreset::ShowRenders));
        // A name that is not a preset (an older one included) is an error listing the presets.
        let e = parse_str("layout:\n  preset: renders-old\n").unwrap_err();
        assert!(e.contains("show-renders") && e.contains('2'), "{e}");
        let e = parse_str("layout:\n  preset: shotz\n").unwrap_err();
        assert!(e.contains("shots") && e.contains('2'), "{e}");
    }

    #[test]
    fn frame_ranges_take_the_full_syntax() {
        let c = parse_str("layout:\n  frame_ranges:\n    SH010: 1001-1010x2\n").unwrap();
        assert_eq!(c.layout.frame_ranges["SH010"].len(), 5);
        let e = parse_str("layout:\n  frame_ranges:\n    SH010: 1001-\n").unwrap_err();
        assert!(e.contains("SH010") && e.contains('3'), "{e}");
    }
}
