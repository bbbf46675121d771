//! `layout:` section.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// Where things live: path templates with named fields, parsed back by validate and disk.
///
/// Templates are kept under an explicit `templates:` key (rather than as free keys of `layout:`)
/// so that every other key stays checked: a typo like `preset:` → `presets:` must be an error
/// with a line and column, not a silently created template.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct LayoutConfig {
    /// A built-in set of templates to start from; `templates` adds to it or overrides it by name.
    pub preset: Option<LayoutPreset>,
    /// Directory the templates are relative to, itself relative to the project root
    /// (seed-003's `shows_root`). Default: the project root.
    pub root: Option<PathBuf>,
    /// Named directory templates, e.g. `shot_renders: "{show}/shots/{shot}/renders/{step}"`.
    /// A `{field}` matches one path component (or part of one); `{field:REGEX}` restricts it.
    pub templates: BTreeMap<String, String>,
    /// Expected frame ranges per shot (`SH010: "1001-1100"`), keyed by shot name or
    /// `show/shot`. Missing frames are counted against these instead of first..last.
    pub frame_ranges: BTreeMap<String, String>,
}

/// The layouts shotline knows without configuration, because studios already use them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LayoutPreset {
    /// vfx-ops-toolkit (seed 003): `<shows_root>/<show>/shots/<shot>/renders/`.
    Seed003,
    /// The Ramses (RxLaboratory) tree: `<PROJ>/05-SHOTS/PROJ_S_SH010/PROJ_S_SH010_COMP/…`.
    Ramses,
}
