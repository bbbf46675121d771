//! From a node's path string to what it is in the project: frames on disk, the layout's
//! fields, the registered version and the newest one.
//!
//! Every version of the project comes in once ([`VersionIndex::from_versions`], built from
//! one streamed query by the caller), and every folder is listed once however many nodes
//! point into it: resolving a 5,000-node script costs one query and one `readdir` per folder.
//! The folders are resolved (`realpath`) and listed up front, in parallel on rayon's pool —
//! on a network share each listing is a round trip, and a script's thousands of folders one
//! after another were most of an audit's wall time — then the nodes resolve from memory.

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use shotline_frames::FrameSet;
use shotline_layout::{Fields, Layout, Place, VersionNumber};
use shotline_sequences::SequencePattern;
use shotline_store::{ItemKind, Version, VersionPlace};

use crate::{Dcc, MediaNode, PathMap, Scene};

/// A version a node reads, or one it could read instead.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct VersionRef {
    /// Database id; `None` for a version folder found on disk but not registered.
    pub id: Option<i64>,
    /// `shot` or `asset`.
    pub kind: ItemKind,
    /// Shot or asset code.
    pub item: String,
    /// Step code.
    pub step: String,
    /// Resource (`""` = main).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub resource: String,
    /// The number.
    #[serde(serialize_with = "ser_version")]
    pub version: VersionNumber,
    /// Its folder.
    pub dir: PathBuf,
    /// Its file pattern (`SH010_plate_v003.%04d.exr`), when registered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// The frames it holds (registered versions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frames: Option<String>,
    /// Frames per second measured at publish.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fps: Option<f64>,
}

fn ser_version<S: serde::Serializer>(v: &VersionNumber, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&v.to_string())
}

impl VersionRef {
    /// `SH010 plate v002` / `SH010 plate/bg v002`.
    pub fn label(&self) -> String {
        if self.resource.is_empty() {
            format!("{} {} {}", self.item, self.step, self.version)
        } else {
            format!(
                "{} {}/{} {}",
                self.item, self.step, self.resource, self.version
            )
        }
    }
}

type Key = (ItemKind, String, String, String);

/// Every registered version of the project, indexed by folder and by item × step × resource.
#[derive(Debug, Clone, Default)]
pub struct VersionIndex {
    all: Vec<VersionRef>,
    by_dir: HashMap<PathBuf, Vec<usize>>,
    by_key: HashMap<Key, Vec<usize>>,
    /// The same with codes lowercased, for layouts that spell a step `comp` and the database
    /// `COMP`.
    by_key_folded: HashMap<Key, Vec<usize>>,
}

fn folded(k: &Key) -> Key {
    (
        k.0,
        k.1.to_lowercase(),
        k.2.to_lowercase(),
        k.3.to_lowercase(),
    )
}

impl VersionIndex {
    /// Builds the index from the store's versions (any order).
    pub fn from_versions(versions: impl IntoIterator<Item = Version>) -> VersionIndex {
        VersionIndex::from_places(versions.into_iter().map(|v| VersionPlace {
            id: v.id,
            item: v.item,
            step: v.step,
            resource: v.resource,
            number: v.number,
            dir: v.files.dir,
            pattern: v.files.pattern,
            frame_range: v.files.frame_range,
            fps: v.files.fps,
        }))
    }

    /// Builds the index from the store's lean version places
    /// (`Store::version_places_each`, any order).
    pub fn from_places(places: impl IntoIterator<Item = VersionPlace>) -> VersionIndex {
        let mut idx = VersionIndex::default();
        for v in places {
            let Some(number) = VersionNumber::from_i64(v.number) else {
                continue;
            };
            let r = VersionRef {
                id: Some(v.id),
                kind: v.item.kind,
                item: v.item.code,
                step: v.step,
                resource: v.resource,
                version: number,
                dir: PathBuf::from(v.dir),
                pattern: Some(v.pattern),
                frames: Some(v.frame_range).filter(|f| !f.is_empty()),
                fps: v.fps,
            };
            idx.push(r);
        }
        for list in idx
            .by_key
            .values_mut()
            .chain(idx.by_key_folded.values_mut())
        {
            list.sort_by_key(|&i| idx.all[i].version);
        }
        idx
    }

    fn push(&mut self, r: VersionRef) {
        let i = self.all.len();
        self.by_dir.entry(r.dir.clone()).or_default().push(i);
        let key = (r.kind, r.item.clone(), r.step.clone(), r.resource.clone());
        self.by_key_folded.entry(folded(&key)).or_default().push(i);
        self.by_key.entry(key).or_default().push(i);
        self.all.push(r);
    }

    /// How many versions it holds.
    pub fn len(&self) -> usize {
        self.all.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.all.is_empty()
    }

    /// The registered version whose folder is `dir` (and whose pattern names `file`, when the
    /// folder holds several).
    fn in_dir(&self, dir: &Path, file: Option<&str>) -> Option<&VersionRef> {
        let list = self.by_dir.get(dir)?;
        if let [only] = list.as_slice() {
            // The answer whatever the name: no pattern to parse (the common case, per node).
            return Some(&self.all[*only]);
        }
        let matches = |r: &&VersionRef| match (file, &r.pattern) {
            (Some(f), Some(p)) => same_sequence(p, f),
            _ => true,
        };
        list.iter()
            .map(|&i| &self.all[i])
            .find(matches)
            .or_else(|| list.first().map(|&i| &self.all[i]))
    }

    /// Every version of a key, ascending; the key's codes compare case-insensitively when no
    /// exact match exists (a layout folder `comp` for the step `COMP`).
    fn family(&self, key: &Key) -> Vec<VersionRef> {
        let list = self
            .by_key
            .get(key)
            .or_else(|| self.by_key_folded.get(&folded(key)));
        list.map(|l| l.iter().map(|&i| self.all[i].clone()).collect())
            .unwrap_or_default()
    }
}

/// Whether file name `name` (a frame, or a pattern in any spelling) belongs to `pattern`.
fn same_sequence(pattern: &str, name: &str) -> bool {
    match (
        shotline_sequences::parse_pattern(pattern),
        shotline_sequences::parse_pattern(name),
    ) {
        (Ok(a), Ok(b)) => a.head == b.head && a.tail == b.tail,
        (Ok(a), Err(_)) => a.match_name(std::ffi::OsStr::new(name)).is_some(),
        _ => pattern == name,
    }
}

/// What the project is: where things go, what is registered, what the scene should match.
#[derive(Debug, Clone)]
pub struct Project<'a> {
    /// The layout, with its root canonical.
    pub layout: &'a Layout,
    /// Path mappings.
    pub paths: &'a PathMap,
    /// The registered versions.
    pub versions: &'a VersionIndex,
    /// The project code (empty when unknown).
    pub code: String,
    /// Project frames per second.
    pub fps: Option<f64>,
    /// Project frame size.
    pub size: Option<(u32, u32)>,
    /// Each shot's cut (frame in to frame out), by shot code.
    pub cuts: &'a HashMap<String, FrameSet>,
}

/// Where a node stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Reads the newest version.
    Latest,
    /// A newer version exists.
    Outdated,
    /// Nothing on disk at the path.
    Missing,
    /// Outside the project.
    Unmanaged,
    /// Inside another project (its layout matches, the root or project code does not).
    OtherProject,
    /// In the project tree, but in no version folder.
    Untracked,
    /// The path is an expression, kept as written and not evaluated.
    Unresolved,
    /// An output: the node writes its path.
    Output,
}

impl Status {
    /// The name as written in reports.
    pub fn name(self) -> &'static str {
        match self {
            Status::Latest => "latest",
            Status::Outdated => "outdated",
            Status::Missing => "missing",
            Status::Unmanaged => "unmanaged",
            Status::OtherProject => "other-project",
            Status::Untracked => "untracked",
            Status::Unresolved => "unresolved",
            Status::Output => "output",
        }
    }
}

/// A node with what its path turned out to be.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ResolvedNode {
    /// The node as read.
    #[serde(flatten)]
    pub node: MediaNode,
    /// The path on this machine (mapped, absolute).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mapped: Option<PathBuf>,
    /// The path is a Windows path no `paths.map` rule maps.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub unmapped: bool,
    /// The frames found on disk (sequences).
    #[serde(serialize_with = "crate::ser_frames")]
    pub on_disk: Option<FrameSet>,
    /// Whether anything exists at the path.
    pub exists: bool,
    /// The layout's fields for the path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<Fields>,
    /// The version it reads.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<VersionRef>,
    /// The newest version of the same item, step and resource.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest: Option<VersionRef>,
    /// Every version of the same item, step and resource, ascending (for updates).
    #[serde(skip)]
    pub family: Vec<VersionRef>,
    /// The sequence pattern on this machine, when the path names frames.
    #[serde(skip)]
    pub pattern: Option<SequencePattern>,
    /// Where it stands.
    pub status: Status,
}

/// Folder listings (files, and the version folders beside a version folder), each read once.
#[derive(Default)]
struct Listings {
    dirs: HashMap<PathBuf, Option<Vec<OsString>>>,
    subdirs: HashMap<PathBuf, Vec<PathBuf>>,
}

/// The files of `dir` (not its folders); `None` when it cannot be listed.
fn list_files(dir: &Path) -> Option<Vec<OsString>> {
    std::fs::read_dir(dir).ok().map(|rd| {
        rd.filter_map(|e| e.ok())
            .filter(|e| e.file_type().map(|t| !t.is_dir()).unwrap_or(false))
            .map(|e| e.file_name())
            .collect()
    })
}

impl Listings {
    fn names(&mut self, dir: &Path) -> Option<&[OsString]> {
        self.dirs
            .entry(dir.to_path_buf())
            .or_insert_with(|| list_files(dir))
            .as_deref()
    }

    /// The folders in `dir`, as paths.
    fn folders(&mut self, dir: &Path) -> &[PathBuf] {
        self.subdirs.entry(dir.to_path_buf()).or_insert_with(|| {
            std::fs::read_dir(dir)
                .map(|rd| {
                    rd.filter_map(|e| e.ok())
                        .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
                        .map(|e| e.path())
                        .collect()
                })
                .unwrap_or_default()
        })
    }
}

/// A folder the nodes point into: its real path and its files, read on the pool.
struct Fetched {
    dir: PathBuf,
    real: PathBuf,
    files: Option<Vec<OsString>>,
}

/// Resolves (`realpath`) and lists every folder the nodes' paths name, in parallel, so the
/// per-node work after it reads memory only.
fn prefetch(
    scene: &Scene,
    project: &Project<'_>,
    base: &Path,
) -> (Listings, HashMap<PathBuf, PathBuf>) {
    use rayon::prelude::*;
    let mut dirs: Vec<PathBuf> = scene
        .nodes
        .iter()
        .filter(|n| !n.flags.expression)
        .filter_map(|n| {
            let text = n.file_text()?;
            let text = match scene.dcc {
                Dcc::Maya if n.class == "reference" => crate::split_copy_number(&text).0,
                _ => text.as_str(),
            };
            project
                .paths
                .map(text, base)
                .parent()
                .map(Path::to_path_buf)
        })
        .collect();
    dirs.sort_unstable();
    dirs.dedup();
    let fetched: Vec<Fetched> = dirs
        .into_par_iter()
        .map(|dir| {
            let real = dir.canonicalize().unwrap_or_else(|_| dir.clone());
            let files = list_files(&real);
            Fetched { dir, real, files }
        })
        .collect();
    let mut listings = Listings::default();
    let mut canon = HashMap::with_capacity(fetched.len());
    for f in fetched {
        listings.dirs.insert(f.real.clone(), f.files.clone());
        listings.dirs.insert(f.dir.clone(), f.files);
        canon.insert(f.dir, f.real);
    }
    (listings, canon)
}

/// Resolves every node of `scene` against `project`.
pub fn resolve(scene: &Scene, project: &Project<'_>) -> Vec<ResolvedNode> {
    let base = relative_base(scene, project.paths);
    let (mut listings, mut canon) = prefetch(scene, project, &base);
    scene
        .nodes
        .iter()
        .map(|n| resolve_node(n, scene.dcc, &base, project, &mut listings, &mut canon))
        .collect()
}

/// What relative paths in a scene are relative to: Nuke's `project_directory` when it is a
/// plain path, Maya's workspace (the nearest folder above the scene holding `workspace.mel`),
/// else the scene's folder.
fn relative_base(scene: &Scene, paths: &PathMap) -> PathBuf {
    let dir = scene
        .path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    if let Some(p) = &scene.settings.project_dir {
        return paths.map(p, &dir);
    }
    if scene.dcc == Dcc::Maya {
        if let Some(ws) = dir.ancestors().find(|a| a.join("workspace.mel").is_file()) {
            return ws.to_path_buf();
        }
    }
    dir
}

fn resolve_node(
    node: &MediaNode,
    dcc: Dcc,
    base: &Path,
    project: &Project<'_>,
    listings: &mut Listings,
    canon: &mut HashMap<PathBuf, PathBuf>,
) -> ResolvedNode {
    let mut r = ResolvedNode {
        node: node.clone(),
        mapped: None,
        unmapped: false,
        on_disk: None,
        exists: false,
        fields: None,
        version: None,
        latest: None,
        family: Vec::new(),
        pattern: None,
        status: if node.kind.is_output() {
            Status::Output
        } else {
            Status::Unresolved
        },
    };
    let Some(path) = &node.path else {
        return r;
    };
    if node.flags.expression {
        r.status = Status::Unresolved;
        return r;
    }
    let text = node.file_text().unwrap_or_else(|| path.text.clone());
    let text = match dcc {
        Dcc::Maya if node.class == "reference" => crate::split_copy_number(&text).0,
        _ => text.as_str(),
    };
    r.unmapped = project.paths.unmapped_windows(text);
    let mapped = project.paths.map(text, base);
    r.pattern = sequence_pattern(&mapped, dcc, node.flags.sequence);
    let dir = mapped.parent().map(Path::to_path_buf).unwrap_or_default();
    let dir = canon
        .entry(dir.clone())
        .or_insert_with(|| dir.canonicalize().unwrap_or(dir))
        .clone();
    let file_name = mapped
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    match &r.pattern {
        Some(p) => {
            let frames: Vec<i64> = listings
                .names(&p.dir)
                .map(|names| names.iter().filter_map(|n| p.match_name(n)).collect())
                .unwrap_or_default();
            r.exists = !frames.is_empty();
            r.on_disk = Some(FrameSet::from_frames({
                let mut f = frames;
                f.sort_unstable();
                f
            }));
        }
        None => {
            r.exists = listings
                .names(&dir)
                .is_some_and(|names| names.iter().any(|n| n.to_string_lossy() == file_name));
        }
    }
    r.mapped = Some(mapped);
    let (status, fields) = place(&dir, project);
    r.fields = fields;
    if let Some(f) = &r.fields {
        let (version, family) = versions_of(&dir, &file_name, f, project, listings);
        r.version = version;
        r.latest = family.last().cloned();
        r.family = family;
    }
    r.status = if node.kind.is_output() {
        Status::Output
    } else if !r.exists {
        Status::Missing
    } else if let Some(s) = status {
        s
    } else {
        match (&r.version, &r.latest) {
            (Some(v), Some(l)) if l.version > v.version => Status::Outdated,
            (Some(_), _) => Status::Latest,
            _ => Status::Untracked,
        }
    };
    r
}

/// The sequence pattern a path names: a padding token (`####` is one digit per `#` in Nuke,
/// `%04d`, `@@@@`, `<UDIM>`), or — for nodes that always read sequences — a frame number in
/// the name (`plate.1001.exr`).
fn sequence_pattern(mapped: &Path, dcc: Dcc, sequence: bool) -> Option<SequencePattern> {
    let text = mapped.to_string_lossy();
    let spelled = if dcc == Dcc::Nuke {
        // Nuke: every `#` is one digit.
        let cut = text.rfind('/').map_or(0, |i| i + 1);
        format!("{}{}", &text[..cut], text[cut..].replace('#', "@"))
    } else {
        text.into_owned()
    };
    if let Ok(p) = shotline_sequences::parse_pattern(&spelled) {
        return Some(p);
    }
    if !sequence {
        return None;
    }
    let dir = mapped.parent()?;
    let name = mapped.file_name()?;
    let g = shotline_sequences::group(dir, [name.to_os_string()]);
    let s = g.sequences.into_iter().next()?;
    Some(SequencePattern {
        dir: s.dir,
        head: s.head,
        tail: s.tail,
        padding: s.padding,
        range: None,
    })
}

/// The node's place in the layout: `(Some(status), fields)` when that settles its status
/// (outside the project, another project), else its fields.
fn place(dir: &Path, project: &Project<'_>) -> (Option<Status>, Option<Fields>) {
    let layout = project.layout;
    let root = layout.root();
    if dir.starts_with(root) {
        return match layout.resolve(dir) {
            Some(r) if r.fields.version.is_some() => {
                let other = !project.code.is_empty()
                    && r.fields
                        .project
                        .as_deref()
                        .is_some_and(|p| !p.eq_ignore_ascii_case(&project.code));
                if other {
                    (Some(Status::OtherProject), Some(r.fields))
                } else {
                    (None, Some(r.fields))
                }
            }
            _ => (Some(Status::Untracked), None),
        };
    }
    // Outside the root: a path that the layout would resolve below some other root is
    // another project's (`/mnt/projects/other/shots/SH010/plate/v002`).
    let comps: Vec<_> = dir.components().collect();
    for skip in 1..comps.len() {
        let rel: PathBuf = comps[skip..].iter().collect();
        if let Some(r) = layout.resolve(&rel) {
            if r.fields.version.is_some() && r.place != Place::Inside {
                return (Some(Status::OtherProject), None);
            }
        }
    }
    (Some(Status::Unmanaged), None)
}

fn item_key(f: &Fields) -> Option<Key> {
    let (kind, item) = match (&f.shot, &f.asset) {
        (Some(s), _) if !s.is_empty() => (ItemKind::Shot, s.clone()),
        (_, Some(a)) if !a.is_empty() => (ItemKind::Asset, a.clone()),
        _ => return None,
    };
    Some((
        kind,
        item,
        f.step.clone()?,
        f.resource.clone().unwrap_or_default(),
    ))
}

/// The version a node reads and every version of its family: registered ones when the store
/// has them, else the version folders beside its own on disk.
fn versions_of(
    dir: &Path,
    file: &str,
    fields: &Fields,
    project: &Project<'_>,
    listings: &mut Listings,
) -> (Option<VersionRef>, Vec<VersionRef>) {
    let idx = project.versions;
    let folder = version_folder(dir, project.layout);
    let registered = folder
        .as_deref()
        .and_then(|d| {
            idx.in_dir(d, Some(file))
                .or_else(|| idx.in_dir(dir, Some(file)))
        })
        .cloned();
    let key = match &registered {
        Some(v) => Some((v.kind, v.item.clone(), v.step.clone(), v.resource.clone())),
        None => item_key(fields),
    };
    let family = key.as_ref().map(|k| idx.family(k)).unwrap_or_default();
    if !family.is_empty() {
        let this = registered.or_else(|| {
            family
                .iter()
                .find(|v| Some(v.version) == fields.version)
                .cloned()
        });
        return (this, family);
    }
    let Some(folder) = folder else {
        return (None, Vec::new());
    };
    let family = disk_family(&folder, fields, project.layout, listings, key.as_ref());
    let this = family
        .iter()
        .find(|v| Some(v.version) == fields.version)
        .cloned();
    (this, family)
}

/// The version folder a directory is in (itself, or the nearest ancestor the layout names).
fn version_folder(dir: &Path, layout: &Layout) -> Option<PathBuf> {
    let r = layout.resolve(dir)?;
    match r.place {
        Place::Folder | Place::Inside => Some(r.folder),
        Place::File => None,
    }
}

/// Version folders beside `folder` with the same fields but the version, ascending.
fn disk_family(
    folder: &Path,
    fields: &Fields,
    layout: &Layout,
    listings: &mut Listings,
    key: Option<&Key>,
) -> Vec<VersionRef> {
    let Some(parent) = folder.parent() else {
        return Vec::new();
    };
    let Some((kind, item, step, resource)) = key.cloned() else {
        return Vec::new();
    };
    let mut out: Vec<VersionRef> = listings
        .folders(parent)
        .iter()
        .filter_map(|p| {
            let p = p.clone();
            let r = layout.resolve(&p)?;
            let same = r.place == Place::Folder && {
                let mut a = r.fields.clone();
                let mut b = fields.clone();
                a.version = None;
                b.version = None;
                a.frame = None;
                b.frame = None;
                a.ext = None;
                b.ext = None;
                a.state = None;
                b.state = None;
                a == b
            };
            let version = r.fields.version?;
            same.then(|| VersionRef {
                id: None,
                kind,
                item: item.clone(),
                step: step.clone(),
                resource: resource.clone(),
                version,
                dir: p,
                pattern: None,
                frames: None,
                fps: None,
            })
        })
        .collect();
    out.sort_by_key(|v| v.version);
    out
}

/// The fields of the folder a scene file lies in (`shots/SH010/comp/work/` → shot SH010,
/// step comp): the layout's templates matched as far as the path goes. A prefix can read two
/// ways (`shots/A/B` is sequence A and shot B, or shot A and step B); a reading whose shot is
/// one the database knows wins, else the longest match by the shortest template.
pub fn scene_fields(scene: &Path, project: &Project<'_>) -> Option<Fields> {
    let abs = scene.canonicalize().unwrap_or_else(|_| scene.to_path_buf());
    let dir = abs.parent()?;
    let rel = dir.strip_prefix(project.layout.root()).ok()?;
    let names: Vec<_> = rel.components().collect();
    let mut best: Option<(usize, usize, Fields)> = None;
    for k in (1..=names.len()).rev() {
        let prefix: PathBuf = names[..k].iter().collect();
        for t in project.layout.folder_templates() {
            for (v, f) in t.parse_prefix(&prefix) {
                if f.item().is_none() {
                    continue;
                }
                if f.shot
                    .as_ref()
                    .is_some_and(|s| project.cuts.contains_key(s))
                {
                    return Some(f);
                }
                let better = best.as_ref().is_none_or(|(bk, bd, _)| {
                    (k, std::cmp::Reverse(v.depth())) > (*bk, std::cmp::Reverse(*bd))
                });
                if better {
                    best = Some((k, v.depth(), f));
                }
            }
        }
    }
    best.map(|(_, _, f)| f)
}
