//! shotline-scene: what a Fusion, Nuke or Maya scene reads and writes, found without the DCC.
//!
//! Scenes are read as text and never executed: a Fusion `.comp`/`.setting` is a Lua table, a
//! Nuke `.nk` a TCL-ish script, a Maya `.ma` a MEL command list. Each reader streams the file
//! through a fixed buffer and returns a [`Scene`]: its settings (range, fps, format, render
//! layers) and every [`MediaNode`] with the exact byte span of its path in the file, so
//! [`update`] can rewrite those bytes and nothing else.
//!
//! - [`read_scene`] / [`read_scene_from`]: a file in, a [`Scene`] out.
//! - [`PathMap`]: Windows drive letters and other roots mapped to mount points (`paths.map`).
//! - [`Project`] and [`resolve`]: each node's path to frames on disk, the layout's fields and
//!   the registered versions (one query for all nodes), with a [`Status`].
//! - [`audit`]: findings with stable codes ([`Code`]) and the severities `validate` uses.
//! - [`update`]: version up/down/latest/vNNN as byte edits, with a unified diff.

#![warn(missing_docs)]

mod audit;
mod error;
mod fusion;
mod maya;
mod nuke;
mod pathmap;
mod quote;
#[cfg(test)]
mod reader_tests;
mod resolve;
mod stream;
mod update;

use std::path::{Path, PathBuf};

pub use audit::{audit, Code, Finding};
pub use error::SceneError;
pub use pathmap::PathMap;
pub use resolve::{resolve, scene_fields, Project, ResolvedNode, Status, VersionIndex, VersionRef};
pub use shotline_qc::Severity;
pub use update::{
    apply_edits, backup_path, lock_names, unified_diff, update, write_with_backup, Edit,
    NodeChange, Skipped, Target, UpdatePlan, UpdateRequest,
};

use shotline_frames::FrameSet;

/// The DCC a scene file belongs to, from its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dcc {
    /// Fusion `.comp` and `.setting` (Lua table text).
    Fusion,
    /// Nuke `.nk` (and `.nknc`).
    Nuke,
    /// Maya ASCII `.ma`.
    Maya,
}

impl Dcc {
    /// The DCC of a file name by its extension (case-insensitive), `None` when it is no scene
    /// format shotline reads.
    pub fn from_path(path: &Path) -> Option<Dcc> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "comp" | "setting" => Some(Dcc::Fusion),
            "nk" | "nknc" | "nkind" => Some(Dcc::Nuke),
            "ma" => Some(Dcc::Maya),
            _ => None,
        }
    }

    /// The lowercase name (`fusion`).
    pub fn name(self) -> &'static str {
        match self {
            Dcc::Fusion => "fusion",
            Dcc::Nuke => "nuke",
            Dcc::Maya => "maya",
        }
    }
}

/// What a media node does with its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NodeKind {
    /// Reads images or movies (Loader, MediaIn, Read).
    Input,
    /// Writes images or movies (Saver, MediaOut, Write).
    Output,
    /// Reads geometry or a camera (ReadGeo, Camera, Alembic, GPU cache, stand-ins).
    Geometry,
    /// A referenced scene (Maya `file -r`, Nuke Precomp).
    Reference,
    /// A texture (Maya `file` node).
    Texture,
    /// A camera image plane.
    ImagePlane,
}

impl NodeKind {
    /// Whether the node writes its path rather than reading it.
    pub fn is_output(self) -> bool {
        self == NodeKind::Output
    }

    /// The name as written in reports (`image-plane`).
    pub fn name(self) -> &'static str {
        match self {
            NodeKind::Input => "input",
            NodeKind::Output => "output",
            NodeKind::Geometry => "geometry",
            NodeKind::Reference => "reference",
            NodeKind::Texture => "texture",
            NodeKind::ImagePlane => "image-plane",
        }
    }
}

/// How a string was written in the file, so a rewrite writes it the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Quoting {
    /// A TCL bare word (Nuke `file /plates/a.####.exr`).
    Bare,
    /// A TCL double-quoted word (Nuke `file "C:/my plates/a.####.exr"`).
    TclQuoted,
    /// A TCL braced word (Nuke `file {[value root.dir]/a.exr}`).
    TclBraced,
    /// A Lua string in double quotes (Fusion).
    LuaDouble,
    /// A Lua string in single quotes (Fusion).
    LuaSingle,
    /// A Lua long string `[[...]]` (Fusion; rewritten as a double-quoted string).
    LuaLong,
    /// A MEL double-quoted string (Maya).
    Mel,
}

/// A path string as it stands in the file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PathText {
    /// The string, escapes decoded.
    pub text: String,
    /// Byte offsets of the whole token in the file, quotes included (`start..end`).
    pub span: (u64, u64),
    /// How the token is quoted.
    pub quoting: Quoting,
    /// 1-based line of the token.
    pub line: u32,
    /// The bytes were not valid UTF-8 (a legacy code page): shown with replacement
    /// characters, never rewritten.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub lossy: bool,
}

/// A number in the file that a path change may imply a new value for (a Read's
/// `first`/`last`, a Loader clip's `TrimOut`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RangeField {
    /// The knob, key or attribute (`origlast`, `TrimOut`).
    pub name: String,
    /// Its value.
    pub value: i64,
    /// Byte offsets of the number in the file.
    pub span: (u64, u64),
}

/// Switches that matter to an audit.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct NodeFlags {
    /// Disabled, or left in pass-through (Nuke `disable true`, Fusion `PassThrough = true`).
    pub disabled: bool,
    /// Whether an output has its input connected (`None` when the format does not say).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub has_input: Option<bool>,
    /// The clip loops (Fusion `Loop`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub looped: bool,
    /// The clip plays backwards (Fusion `Reverse`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub reversed: bool,
    /// The path names a frame sequence (Maya `useFrameExtension`, every Fusion Loader), so a
    /// concrete frame number in it stands for the whole sequence.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub sequence: bool,
    /// The path is an expression (`[value ...]`, `$VAR`, `<Scene>` tokens) kept as written
    /// and not evaluated.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub expression: bool,
}

/// A node of the scene that reads or writes a file.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MediaNode {
    /// Node name, with its groups before it (`Group1.Read2`).
    pub name: String,
    /// The DCC's node class (`Read`, `Loader`, `file`, `reference`).
    pub class: String,
    /// What it does with the path.
    pub kind: NodeKind,
    /// 1-based line where the node starts.
    pub line: u32,
    /// The path, when the node has one.
    pub path: Option<PathText>,
    /// Other spellings of the same path that must change with it (Maya `file -rdi`, an
    /// `AlembicNode`'s `.fns` layer list).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<PathText>,
    /// Maya `cacheFile`: the cache's name, kept apart from its folder (the node's `path`
    /// then names the folder, `cachePath`); the file read is `<path>/<cache_name>.xml`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_name: Option<PathText>,
    /// The frames the node covers in scene time.
    #[serde(serialize_with = "ser_frames")]
    pub range: Option<FrameSet>,
    /// The frames of the media the node reads (a Read's `first`-`last`, a clip's trims).
    #[serde(serialize_with = "ser_frames")]
    pub media_frames: Option<FrameSet>,
    /// Switches.
    pub flags: NodeFlags,
    /// Numbers a new path may imply new values for.
    #[serde(skip)]
    pub range_fields: Vec<RangeField>,
}

/// Scene-wide settings.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct SceneSettings {
    /// The render or playback range.
    #[serde(serialize_with = "ser_frames")]
    pub range: Option<FrameSet>,
    /// Frames per second.
    pub fps: Option<f64>,
    /// Frame width in pixels.
    pub width: Option<u32>,
    /// Frame height in pixels.
    pub height: Option<u32>,
    /// Renderable layers, in file order (Maya).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub render_layers: Vec<String>,
    /// The folder relative paths are read against, when the scene names one (Nuke
    /// `Root.project_directory` without an expression).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_dir: Option<String>,
}

/// A scene read from a file.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Scene {
    /// The file.
    pub path: PathBuf,
    /// Its DCC.
    pub dcc: Dcc,
    /// Scene-wide settings.
    pub settings: SceneSettings,
    /// Every node with a path (and outputs without one), in file order.
    pub nodes: Vec<MediaNode>,
}

pub(crate) fn ser_frames<S: serde::Serializer>(
    f: &Option<FrameSet>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match f {
        Some(f) => s.serialize_str(&f.to_string()),
        None => s.serialize_none(),
    }
}

/// Reads a scene file; its DCC comes from the extension.
pub fn read_scene(path: &Path) -> Result<Scene, SceneError> {
    let dcc = Dcc::from_path(path).ok_or_else(|| SceneError::UnknownFormat {
        path: path.to_path_buf(),
    })?;
    let file = std::fs::File::open(path).map_err(|source| SceneError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    read_scene_from(path, dcc, file)
}

/// Reads a scene of `dcc` from `src`; `path` names it in errors and the result.
pub fn read_scene_from(
    path: &Path,
    dcc: Dcc,
    src: impl std::io::Read,
) -> Result<Scene, SceneError> {
    let stream = stream::Stream::new(src);
    let (settings, nodes) = match dcc {
        Dcc::Fusion => fusion::read(stream),
        Dcc::Nuke => nuke::read(stream),
        Dcc::Maya => maya::read(stream),
    }
    .map_err(|e| e.in_file(path))?;
    Ok(Scene {
        path: path.to_path_buf(),
        dcc,
        settings,
        nodes,
    })
}

impl MediaNode {
    /// The file the node reads, as written: its path, or for a Maya `cacheFile` the folder
    /// joined with `<cacheName>.xml`. `None` without a path.
    pub fn file_text(&self) -> Option<String> {
        let path = self.path.as_ref()?;
        Some(match &self.cache_name {
            Some(name) => join_cache_name(&path.text, &name.text),
            None => path.text.clone(),
        })
    }
}

/// `folder` + `name.xml`, with one separator between them (the folder's own when it ends in
/// one, else `/`).
pub(crate) fn join_cache_name(folder: &str, name: &str) -> String {
    if folder.is_empty() || folder.ends_with(['/', '\\']) {
        format!("{folder}{name}.xml")
    } else {
        format!("{folder}/{name}.xml")
    }
}

/// A Maya reference path's copy number: the second reference to the same file is written
/// `rig.ma{1}`. Returns the path without it and the suffix (`""` when there is none), so the
/// file is found and a rewrite keeps the suffix.
pub(crate) fn split_copy_number(text: &str) -> (&str, &str) {
    if let Some(open) = text.rfind('{') {
        let digits = &text[open + 1..];
        if let Some(d) = digits.strip_suffix('}') {
            if !d.is_empty() && d.bytes().all(|c| c.is_ascii_digit()) && open > 0 {
                return text.split_at(open);
            }
        }
    }
    (text, "")
}

/// A frame range `first..=last` as a [`FrameSet`], `None` when it is empty or reversed.
pub(crate) fn span_set(first: i64, last: i64) -> Option<FrameSet> {
    if last < first {
        return None;
    }
    shotline_frames::Run::new(first, last, 1)
        .ok()
        .and_then(|r| FrameSet::from_runs([r]).ok())
}

/// Whether a path holds something to evaluate rather than a file name: TCL command
/// substitution, variables and `%V` views in Nuke; `<Scene>`-style tokens and environment
/// variables in Maya; unmapped path maps (`Comp:`) in Fusion.
pub(crate) fn looks_like_expression(dcc: Dcc, text: &str) -> bool {
    let b = text.as_bytes();
    let var = |i: usize| {
        b.get(i + 1)
            .is_some_and(|n| n.is_ascii_alphabetic() || *n == b'{' || *n == b'_')
            && !text[i..].starts_with("$F")
    };
    match dcc {
        Dcc::Nuke => b.iter().enumerate().any(|(i, &c)| {
            let escaped = i > 0 && b[i - 1] == b'\\';
            match c {
                b'[' => !escaped,
                b'$' => !escaped && var(i),
                b'%' => text[i..].starts_with("%V") || text[i..].starts_with("%v"),
                _ => false,
            }
        }),
        Dcc::Maya => b.iter().enumerate().any(|(i, &c)| match c {
            b'$' => var(i),
            b'<' => {
                let rest = &text[i..];
                !rest.to_ascii_uppercase().starts_with("<UDIM>")
                    && rest.find('>').is_some_and(|j| {
                        j > 1
                            && rest[1..j]
                                .bytes()
                                .all(|c| c.is_ascii_alphanumeric() || c == b'_')
                    })
            }
            _ => false,
        }),
        Dcc::Fusion => text.split_once(':').is_some_and(|(head, _)| {
            head.len() > 1 && head.bytes().all(|c| c.is_ascii_alphanumeric())
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions_are_recognised() {
        assert!(looks_like_expression(Dcc::Nuke, "[value root.dir]/a.exr"));
        assert!(looks_like_expression(Dcc::Nuke, "$HOME/a.exr"));
        assert!(looks_like_expression(Dcc::Nuke, "/p/a_%V.exr"));
        assert!(!looks_like_expression(Dcc::Nuke, "/p/a.%04d.exr"));
        assert!(!looks_like_expression(Dcc::Nuke, "/p/a.$F4.exr"));
        assert!(!looks_like_expression(Dcc::Nuke, "/p/\\[x\\].exr"));
        assert!(looks_like_expression(Dcc::Maya, "<Scene>/<RenderLayer>"));
        assert!(!looks_like_expression(Dcc::Maya, "/p/a.<UDIM>.exr"));
        assert!(!looks_like_expression(Dcc::Maya, "C:/p/[old]a.exr"));
        assert!(looks_like_expression(Dcc::Fusion, "Comp:/plates/a.exr"));
        assert!(!looks_like_expression(Dcc::Fusion, "C:/plates/a.exr"));
        assert!(Dcc::from_path(Path::new("a.COMP")) == Some(Dcc::Fusion));
    }

    #[test]
    fn copy_numbers_and_cache_names() {
        assert_eq!(split_copy_number("/a/rig.ma{12}"), ("/a/rig.ma", "{12}"));
        assert_eq!(split_copy_number("/a/rig.ma"), ("/a/rig.ma", ""));
        assert_eq!(split_copy_number("/a/{x}.ma"), ("/a/{x}.ma", ""));
        assert_eq!(split_copy_number("/a/rig{}"), ("/a/rig{}", ""));
        assert_eq!(split_copy_number("{1}"), ("{1}", ""));
        assert_eq!(join_cache_name("C:\\c\\", "n"), "C:\\c\\n.xml");
        assert_eq!(join_cache_name("/c", "n"), "/c/n.xml");
    }
}
