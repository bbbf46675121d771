//! The layouts shotline knows without configuration.

use std::fmt;
use std::str::FromStr;

/// A built-in set of templates. Template names follow one convention the commands rely on:
/// `shot_version` / `asset_version` are version folders (relative to the layout root),
/// `shot_file` / `asset_file` the file names inside them; any other name is a folder template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Preset {
    /// The default: what ingest and publish write.
    /// `shots/[{sequence}/]{shot}/{step}/[{resource}_]v{version}/` with files
    /// `[{sequence}_]{shot}_{step}[_{resource}]_v{version}[.{frame}].{ext}`, assets under
    /// `assets/[{group}/]{asset}/{step}/…`.
    #[default]
    Shots,
    /// The Ramses (RxLaboratory) tree, relative to the Ramses project folder:
    /// `05-SHOTS/PROJ_S_SH010/PROJ_S_SH010_COMP/_published/[RES_]NNN[_STATE]/`.
    Ramses,
    /// A render tree per show: `{project}/shots/{shot}/renders/` (no steps or versions in the
    /// path; the layout of older example shows).
    ShowRenders,
}

/// `shots` folder template of version folders.
pub const SHOTS_SHOT_VERSION: &str = "shots/[{sequence}/]{shot}/{step}/[{resource}_]v{version}";
/// `shots` file names in a shot version folder.
pub const SHOTS_SHOT_FILE: &str =
    "[{sequence}_]{shot}_{step}[_{resource}]_v{version}[.{frame}].{ext}";
/// `shots` folder template of asset version folders.
pub const SHOTS_ASSET_VERSION: &str = "assets/[{group}/]{asset}/{step}/[{resource}_]v{version}";
/// `shots` file names in an asset version folder.
pub const SHOTS_ASSET_FILE: &str = "{asset}_{step}[_{resource}]_v{version}[.{frame}].{ext}";
/// `ramses` published shot versions.
pub const RAMSES_SHOT_VERSION: &str =
    "05-SHOTS/{project}_S_{shot}/{project}_S_{shot}_{step}/_published/[{resource}_]{version}[_{state}]";
/// `ramses` file names in a published shot version.
pub const RAMSES_SHOT_FILE: &str = "{project}_S_{shot}_{step}[_{resource}][.{frame}].{ext}";
/// `ramses` published asset versions.
pub const RAMSES_ASSET_VERSION: &str =
    "04-ASSETS/{group}/{project}_A_{asset}/{project}_A_{asset}_{step}/_published/[{resource}_]{version}[_{state}]";
/// `ramses` file names in a published asset version.
pub const RAMSES_ASSET_FILE: &str = "{project}_A_{asset}_{step}[_{resource}][.{frame}].{ext}";
/// `show-renders` render folders.
pub const SHOW_RENDERS: &str = "{project}/shots/{shot}/renders";

impl Preset {
    /// Every preset.
    pub const ALL: [Preset; 3] = [Preset::Shots, Preset::Ramses, Preset::ShowRenders];

    /// The name used in `layout.preset`.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Shots => "shots",
            Preset::Ramses => "ramses",
            Preset::ShowRenders => "show-renders",
        }
    }

    /// Its templates, by name.
    pub fn templates(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Preset::Shots => &[
                ("shot_version", SHOTS_SHOT_VERSION),
                ("shot_file", SHOTS_SHOT_FILE),
                ("asset_version", SHOTS_ASSET_VERSION),
                ("asset_file", SHOTS_ASSET_FILE),
            ],
            Preset::Ramses => &[
                ("shot_version", RAMSES_SHOT_VERSION),
                ("shot_file", RAMSES_SHOT_FILE),
                ("asset_version", RAMSES_ASSET_VERSION),
                ("asset_file", RAMSES_ASSET_FILE),
            ],
            Preset::ShowRenders => &[("renders", SHOW_RENDERS)],
        }
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A preset name that does not exist; lists the ones that do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown layout preset {0:?}: expected shots, ramses or show-renders")]
pub struct UnknownPreset(pub String);

impl FromStr for Preset {
    type Err = UnknownPreset;

    fn from_str(s: &str) -> Result<Preset, UnknownPreset> {
        Preset::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| UnknownPreset(s.into()))
    }
}
