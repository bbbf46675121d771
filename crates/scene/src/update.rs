//! Version up/down/latest/vNNN as byte edits: the path tokens of the chosen nodes (and the
//! frame numbers a new version's range implies, trims kept relative) are replaced; every other
//! byte of the scene stays as it was. [`write_with_backup`] puts the result in place
//! atomically and keeps the previous file.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use shotline_layout::VersionNumber;

use crate::error::SceneError;
use crate::resolve::{Project, ResolvedNode, VersionRef};
use crate::{quote, Dcc, RangeField, Scene};

/// Which version to move to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The newest.
    Latest,
    /// The next higher.
    Up,
    /// The next lower.
    Down,
    /// This number.
    Version(VersionNumber),
}

impl FromStr for Target {
    type Err = String;

    fn from_str(s: &str) -> Result<Target, String> {
        match s {
            "latest" => Ok(Target::Latest),
            "up" => Ok(Target::Up),
            "down" => Ok(Target::Down),
            v => v
                .parse::<VersionNumber>()
                .map(Target::Version)
                .map_err(|e| format!("{e}; or latest, up or down")),
        }
    }
}

/// What to update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateRequest {
    /// Nodes by name; empty with `all` means every node that reads a version.
    pub nodes: Vec<String>,
    /// Every node that reads a version.
    pub all: bool,
    /// Where to move.
    pub to: Target,
}

/// One byte edit.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Edit {
    /// The node it belongs to.
    pub node: String,
    /// What it changes (`path`, `origlast`, `TrimOut`).
    pub what: String,
    /// Byte offsets replaced.
    pub span: (u64, u64),
    /// The bytes there now.
    pub old: String,
    /// The bytes written instead.
    pub new: String,
}

/// A node moved to another version.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct NodeChange {
    /// The node.
    pub node: String,
    /// The version it read.
    pub from: VersionRef,
    /// The version it reads now.
    pub to: VersionRef,
    /// The path as it was written.
    pub old_path: String,
    /// The path as it is written now.
    pub new_path: String,
}

/// A node left as it was, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Skipped {
    /// The node.
    pub node: String,
    /// Why.
    pub reason: String,
}

/// The edits an update makes.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct UpdatePlan {
    /// Nodes that change.
    pub changes: Vec<NodeChange>,
    /// Nodes left alone.
    pub skipped: Vec<Skipped>,
    /// The byte edits, in file order.
    pub edits: Vec<Edit>,
}

/// Plans the update of `nodes` (resolved from `scene`) as `req` asks. `original` is the
/// scene's bytes, for the edits' old text.
pub fn update(
    scene: &Scene,
    original: &[u8],
    nodes: &[ResolvedNode],
    req: &UpdateRequest,
    project: &Project<'_>,
) -> Result<UpdatePlan, SceneError> {
    let err = |message: String| SceneError::Update {
        path: scene.path.clone(),
        message,
    };
    let selected: Vec<&ResolvedNode> = if !req.nodes.is_empty() {
        let mut out = Vec::new();
        for name in &req.nodes {
            let n = nodes.iter().find(|n| &n.node.name == name).ok_or_else(|| {
                let names: Vec<&str> = nodes.iter().map(|n| n.node.name.as_str()).collect();
                err(format!(
                    "no media node named {name:?}: expected one of {}",
                    if names.is_empty() {
                        "(none)".into()
                    } else {
                        names.join(", ")
                    }
                ))
            })?;
            out.push(n);
        }
        out
    } else if req.all {
        nodes.iter().filter(|n| !n.node.kind.is_output()).collect()
    } else {
        return Err(err(
            "nothing chosen: give --node NAME (repeatable) or --all".into(),
        ));
    };
    let explicit = !req.nodes.is_empty();
    let mut plan = UpdatePlan::default();
    for n in selected {
        match plan_node(scene, original, n, req.to, project) {
            Ok(Some((change, edits))) => {
                plan.changes.push(change);
                plan.edits.extend(edits);
            }
            Ok(None) => plan.skipped.push(Skipped {
                node: n.node.name.clone(),
                reason: format!(
                    "already reads {}",
                    n.version
                        .as_ref()
                        .map(|v| v.version.to_string())
                        .unwrap_or_default()
                ),
            }),
            Err(reason) if explicit => return Err(err(format!("node {}: {reason}", n.node.name))),
            Err(reason) => plan.skipped.push(Skipped {
                node: n.node.name.clone(),
                reason,
            }),
        }
    }
    plan.edits.sort_by_key(|e| e.span);
    if plan.edits.windows(2).any(|w| w[0].span.1 > w[1].span.0) {
        return Err(err("two edits overlap; nothing was changed".into()));
    }
    Ok(plan)
}

type Planned = Option<(NodeChange, Vec<Edit>)>;

fn plan_node(
    scene: &Scene,
    original: &[u8],
    n: &ResolvedNode,
    to: Target,
    project: &Project<'_>,
) -> Result<Planned, String> {
    let path = n.node.path.as_ref().ok_or("has no path")?;
    if n.node.flags.expression {
        return Err("its path is an expression; rewrite it by hand".into());
    }
    if path.lossy || n.node.also.iter().any(|p| p.lossy) {
        return Err("its path is not UTF-8 (a legacy code page); rewrite it by hand".into());
    }
    let current = n.version.as_ref().ok_or_else(|| {
        format!(
            "reads no version of a tracked item (status {})",
            n.status.name()
        )
    })?;
    let family = &n.family;
    let pos = family.iter().position(|v| v.version == current.version);
    let list = || {
        family
            .iter()
            .map(|v| v.version.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let target = match to {
        Target::Latest => family.last(),
        Target::Up => pos
            .and_then(|i| family.get(i + 1))
            .or_else(|| family.iter().find(|v| v.version > current.version)),
        Target::Down => match pos {
            Some(i) => i.checked_sub(1).and_then(|j| family.get(j)),
            None => family.iter().rev().find(|v| v.version < current.version),
        },
        Target::Version(v) => family.iter().find(|x| x.version == v),
    };
    let target = target.ok_or_else(|| match to {
        Target::Up => format!("{} is the newest ({})", current.version, list()),
        Target::Down => format!("{} is the oldest ({})", current.version, list()),
        Target::Version(v) => format!(
            "{} has no {v}: versions {}",
            current.label().rsplit_once(' ').map(|x| x.0).unwrap_or(""),
            list()
        ),
        Target::Latest => "no versions".into(),
    })?;
    if target.version == current.version {
        return Ok(None);
    }
    let written = n.node.file_text().ok_or("has no path")?;
    let (core, copy) = match scene.dcc {
        Dcc::Maya if n.node.class == "reference" => crate::split_copy_number(&written),
        _ => (written.as_str(), ""),
    };
    let new_core = new_path_text(scene.dcc, n, core, current, target, project)?;
    let new_text = format!("{new_core}{copy}");
    let mut edits = Vec::new();
    match &n.node.cache_name {
        Some(name) => {
            let (folder, file) = split_cache_file(&path.text, &new_core)?;
            for (p, text, what) in [(path, folder, "path"), (name, file, "cacheName")] {
                if text != p.text {
                    let token = quote::encode(p.quoting, &text);
                    edits.push(edit(original, &n.node.name, what, p.span, token)?);
                }
            }
        }
        None => {
            let token = quote::encode(path.quoting, &new_text);
            for p in std::iter::once(path).chain(n.node.also.iter()) {
                edits.push(edit(original, &n.node.name, "path", p.span, token.clone())?);
            }
        }
    }
    for (field, value) in range_changes(scene.dcc, n, target) {
        edits.push(edit(
            original,
            &n.node.name,
            &field.name,
            field.span,
            field_text(field, value),
        )?);
    }
    Ok(Some((
        NodeChange {
            node: n.node.name.clone(),
            from: current.clone(),
            to: target.clone(),
            old_path: written.clone(),
            new_path: new_text,
        },
        edits,
    )))
}

/// A Maya cacheFile's new `<folder>/<name>.xml` back as the folder (spelled with or without
/// its trailing separator, as `old_folder` was) and the name.
fn split_cache_file(old_folder: &str, new_file: &str) -> Result<(String, String), String> {
    let (folder, file) = match new_file.rfind(['/', '\\']) {
        Some(i) if !old_folder.is_empty() => {
            let keep = if old_folder.ends_with(['/', '\\']) {
                i + 1
            } else {
                i
            };
            (&new_file[..keep], &new_file[i + 1..])
        }
        _ => ("", new_file),
    };
    let name = file
        .strip_suffix(".xml")
        .ok_or_else(|| format!("the new cache file {file} is no .xml description"))?;
    Ok((folder.to_string(), name.to_string()))
}

/// The text written for a range number: the number, or — for a Maya attribute the file does
/// not spell (its span is empty: the default) — a `setAttr` statement after the node's
/// `.ufe` one, on the same line so no line moves.
fn field_text(field: &RangeField, value: i64) -> String {
    if field.span.0 == field.span.1 {
        let short = match field.name.as_str() {
            "frameOffset" => ".fo",
            other => other,
        };
        format!(" setAttr \"{short}\" {value};")
    } else {
        value.to_string()
    }
}

fn edit(
    original: &[u8],
    node: &str,
    what: &str,
    span: (u64, u64),
    new: String,
) -> Result<Edit, String> {
    let (a, b) = (
        usize::try_from(span.0).map_err(|e| e.to_string())?,
        usize::try_from(span.1).map_err(|e| e.to_string())?,
    );
    let old = original
        .get(a..b)
        .ok_or("the file changed since it was read")?;
    Ok(Edit {
        node: node.to_string(),
        what: what.to_string(),
        span,
        old: String::from_utf8_lossy(old).into_owned(),
        new,
    })
}

/// The path as the scene should spell it for `target`: the same text with only the trailing
/// components that differ between the two versions (below the layout root) replaced, so drive
/// letters, separators and mapped prefixes stay as the artist wrote them.
fn new_path_text(
    dcc: Dcc,
    n: &ResolvedNode,
    raw: &str,
    current: &VersionRef,
    target: &VersionRef,
    project: &Project<'_>,
) -> Result<String, String> {
    let mapped = n.mapped.as_deref().ok_or("its path could not be mapped")?;
    let old_name = mapped
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .ok_or("its path names no file")?;
    let old_dir = mapped
        .parent()
        .map(|d| d.canonicalize().unwrap_or_else(|_| d.to_path_buf()))
        .ok_or("its path names no folder")?;
    // A file below the version folder stays at the same place below the new one.
    let sub = old_dir
        .strip_prefix(&current.dir)
        .ok()
        .map(Path::to_path_buf);
    let target_dir = match (&target.pattern, &sub) {
        (Some(_), _) => target.dir.clone(),
        (None, Some(sub)) => target.dir.join(sub),
        (None, None) => target.dir.clone(),
    };
    let new_name = new_file_name(dcc, n, &old_name, current, target, &target_dir)?;
    let root = project.layout.root();
    let rel = |dir: &Path, name: &str| -> Vec<String> {
        let d = dir.strip_prefix(root).unwrap_or(dir);
        d.components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .chain(std::iter::once(name.to_string()))
            .collect()
    };
    let old_rel = rel(&old_dir, &old_name);
    let new_rel = rel(&target_dir, &new_name);
    if old_rel.len() != new_rel.len() {
        return Err(format!(
            "{} lies at another depth than {} ({} and {}); rewrite it by hand",
            target.version,
            current.version,
            new_rel.join("/"),
            old_rel.join("/")
        ));
    }
    let mut parts: Vec<(usize, usize)> = Vec::new();
    let mut start = 0;
    for (i, c) in raw.char_indices() {
        if c == '/' || c == '\\' {
            parts.push((start, i));
            start = i + 1;
        }
    }
    parts.push((start, raw.len()));
    if parts.len() < old_rel.len() {
        return Err("its path is shorter than the layout expects".into());
    }
    let offset = parts.len() - old_rel.len();
    let mut out = String::with_capacity(raw.len() + 8);
    let mut last = 0;
    for (i, (o, nw)) in old_rel.iter().zip(&new_rel).enumerate() {
        if o == nw {
            continue;
        }
        let (a, b) = parts[offset + i];
        if &raw[a..b] != o {
            return Err(format!(
                "its path component {:?} is not {o:?} on this machine (links or case); rewrite it by hand",
                &raw[a..b]
            ));
        }
        out.push_str(&raw[last..a]);
        out.push_str(nw);
        last = b;
    }
    out.push_str(&raw[last..]);
    Ok(out)
}

/// The file name in the target version: the registered pattern with the scene's own frame
/// token (or the same frame number), else the old name with its version number replaced.
fn new_file_name(
    dcc: Dcc,
    n: &ResolvedNode,
    old_name: &str,
    current: &VersionRef,
    target: &VersionRef,
    target_dir: &Path,
) -> Result<String, String> {
    if let (Some(tp), Some(op)) = (&target.pattern, &n.pattern) {
        let tp = shotline_sequences::parse_pattern(tp).map_err(|e| e.to_string())?;
        let head = op.head.len();
        let tail = op.tail.len();
        if old_name.len() < head + tail {
            return Err("its file name does not match its pattern".into());
        }
        let token = &old_name[head..old_name.len() - tail];
        let token = if token.bytes().all(|c| c.is_ascii_digit() || c == b'-') {
            // A concrete frame (Fusion, Maya): keep it if the target has it, else its first.
            let frame: i64 = token.parse().map_err(|_| "bad frame number".to_string())?;
            let frames = target
                .frames
                .as_deref()
                .and_then(|f| shotline_frames::FrameSet::parse(f).ok());
            let f = match frames {
                Some(set) if !set.contains(frame) => set.min().unwrap_or(frame),
                _ => frame,
            };
            shotline_frames::pad_frame(f, tp.padding)
        } else if dcc == Dcc::Nuke
            && token.bytes().all(|c| c == b'#')
            && token.len() != tp.padding
            && tp.padding > 1
        {
            "#".repeat(tp.padding)
        } else {
            token.to_string()
        };
        return Ok(format!(
            "{}{token}{}",
            tp.head.to_string_lossy(),
            tp.tail.to_string_lossy()
        ));
    }
    if let (Some(tp), None) = (&target.pattern, &n.pattern) {
        if shotline_sequences::parse_pattern(tp).is_err() {
            return Ok(tp.clone());
        }
    }
    let name = replace_version(old_name, current.version, target.version);
    let exists = match &n.pattern {
        Some(p) => {
            let mut q = p.clone();
            q.dir = target_dir.to_path_buf();
            let np = shotline_sequences::parse_pattern(&name.replace('#', "@")).ok();
            let q = np
                .map(|mut x| {
                    x.dir = target_dir.to_path_buf();
                    x
                })
                .unwrap_or(q);
            shotline_sequences::find_on_disk(&q)
                .map(|s| !s.is_empty())
                .unwrap_or(false)
        }
        None => target_dir.join(&name).exists(),
    };
    if !exists {
        return Err(format!(
            "{} holds nothing named like {name} in {}",
            target.version,
            target_dir.display()
        ));
    }
    Ok(name)
}

/// `name` with the version `from` spelled as `v002` (or bare `002` between non-digits)
/// replaced by `to`.
fn replace_version(name: &str, from: VersionNumber, to: VersionNumber) -> String {
    let (f, t) = (from.to_string(), to.to_string());
    if name.contains(&f) {
        return name.replace(&f, &t);
    }
    let (fd, td) = (from.digits(), to.digits());
    let b = name.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < name.len() {
        let bounded = name[i..].starts_with(&fd)
            && (i == 0 || !b[i - 1].is_ascii_digit())
            && b.get(i + fd.len()).is_none_or(|c| !c.is_ascii_digit());
        if bounded {
            out.push_str(&td);
            i += fd.len();
        } else {
            let ch = name[i..].chars().next().unwrap_or(' ');
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

/// New values for the node's range numbers when the target holds other frames: the file's
/// full range follows the new version, trims stay the same distance from each end.
fn range_changes<'a>(
    dcc: Dcc,
    n: &'a ResolvedNode,
    target: &VersionRef,
) -> Vec<(&'a RangeField, i64)> {
    let get = |k: &str| n.node.range_fields.iter().find(|f| f.name == k);
    let new = match target
        .frames
        .as_deref()
        .and_then(|f| shotline_frames::FrameSet::parse(f).ok())
    {
        Some(s) => s,
        None => return Vec::new(),
    };
    // A Maya cacheFile says which range it was made for; other nodes' range is on disk.
    let old = match (get("originalStart"), get("originalEnd")) {
        (Some(a), Some(b)) if dcc == Dcc::Maya => Some((a.value, b.value)),
        _ => n.on_disk.as_ref().and_then(|s| Some((s.min()?, s.max()?))),
    };
    let (Some((of, ol)), Some(nf), Some(nl)) = (old, new.min(), new.max()) else {
        return Vec::new();
    };
    if (of, ol) == (nf, nl) {
        return Vec::new();
    }
    if dcc == Dcc::Maya {
        return maya_range_changes(n, (of, ol), (nf, nl));
    }
    let mut out = Vec::new();
    let mut set = |f: Option<&'a RangeField>, v: i64| {
        if let Some(f) = f {
            if f.value != v {
                out.push((f, v));
            }
        }
    };
    // Nuke: origfirst/origlast are the file's range, first/last what is read of it.
    let orig_first = get("origfirst").map_or(of, |f| f.value);
    let orig_last = get("origlast").map_or(ol, |f| f.value);
    if get("first").is_some() || get("origfirst").is_some() {
        let head = get("first").map_or(0, |f| f.value.saturating_sub(orig_first));
        let tail = get("last").map_or(0, |f| orig_last.saturating_sub(f.value));
        let first = nf.saturating_add(head).min(nl);
        let last = nl.saturating_sub(tail).max(first);
        set(get("origfirst"), nf);
        set(get("origlast"), nl);
        set(get("first"), first);
        set(get("last"), last);
    }
    // Fusion: StartFrame and Length are the file's range; TrimIn/TrimOut are offsets into
    // it; GlobalStart..GlobalEnd (and the Loader's GlobalIn/GlobalOut) place it in the comp.
    if let (Some(len), Some(trim_out)) = (get("Length"), get("TrimOut")) {
        let new_len = nl.saturating_sub(nf).saturating_add(1);
        let trim_in = get("TrimIn").map_or(0, |f| f.value);
        let tail = len.value.saturating_sub(1).saturating_sub(trim_out.value);
        let new_trim_out = new_len.saturating_sub(1).saturating_sub(tail).max(trim_in);
        let grow = new_trim_out.saturating_sub(trim_out.value);
        set(get("StartFrame"), nf);
        set(Some(len), new_len);
        set(Some(trim_out), new_trim_out);
        if let Some(ge) = get("GlobalEnd") {
            set(Some(ge), ge.value.saturating_add(grow));
        }
        if let Some(go) = get("GlobalOut") {
            set(Some(go), go.value.saturating_add(grow));
        }
    }
    out
}

/// Maya: a sequence's frame offset moves by as much as the first frame moved (the scene frame
/// that read the old first frame reads the new one); an image plane's frameIn/frameOut and a
/// cacheFile's sourceStart/sourceEnd keep their distance from each end of the media; a
/// cacheFile's originalStart/originalEnd become the new range.
fn maya_range_changes<'a>(
    n: &'a ResolvedNode,
    (of, ol): (i64, i64),
    (nf, nl): (i64, i64),
) -> Vec<(&'a RangeField, i64)> {
    let get = |k: &str| n.node.range_fields.iter().find(|f| f.name == k);
    let mut out = Vec::new();
    let mut set = |f: Option<&'a RangeField>, v: i64| {
        if let Some(f) = f {
            if f.value != v {
                out.push((f, v));
            }
        }
    };
    if let Some(fo) = get("frameOffset") {
        set(Some(fo), fo.value.saturating_add(nf.saturating_sub(of)));
    }
    for (a, b) in [("frameIn", "frameOut"), ("sourceStart", "sourceEnd")] {
        let (fa, fb) = (get(a), get(b));
        if fa.is_none() && fb.is_none() {
            continue;
        }
        let head = fa.map_or(0, |f| f.value.saturating_sub(of));
        let tail = fb.map_or(0, |f| ol.saturating_sub(f.value));
        let first = nf.saturating_add(head).min(nl);
        let last = nl.saturating_sub(tail).max(first);
        set(fa, first);
        set(fb, last);
    }
    set(get("originalStart"), nf);
    set(get("originalEnd"), nl);
    out
}

/// `original` with `edits` (sorted, not overlapping) applied.
pub fn apply_edits(original: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut out = Vec::with_capacity(original.len() + edits.len() * 8);
    let mut last = 0usize;
    for e in edits {
        let (a, b) = (e.span.0 as usize, e.span.1 as usize);
        out.extend_from_slice(&original[last..a]);
        out.extend_from_slice(e.new.as_bytes());
        last = b;
    }
    out.extend_from_slice(&original[last..]);
    out
}

/// A unified diff (3 lines of context) of the lines the edits touch. Edits never add or
/// remove line breaks, so old and new have the same lines.
pub fn unified_diff(label: &str, original: &[u8], edits: &[Edit]) -> String {
    let starts: Vec<usize> = std::iter::once(0)
        .chain(
            original
                .iter()
                .enumerate()
                .filter(|(_, c)| **c == b'\n')
                .map(|(i, _)| i + 1),
        )
        .filter(|&s| s < original.len() || s == 0)
        .collect();
    let line_of = |off: usize| starts.partition_point(|&s| s <= off).saturating_sub(1);
    let line_text = |i: usize| {
        let a = starts[i];
        let b = starts.get(i + 1).copied().unwrap_or(original.len());
        (a, b)
    };
    let mut changed: Vec<usize> = edits
        .iter()
        .flat_map(|e| {
            line_of(e.span.0 as usize)..=line_of(e.span.1.saturating_sub(1).max(e.span.0) as usize)
        })
        .collect();
    changed.sort_unstable();
    changed.dedup();
    let mut out = format!("--- a/{label}\n+++ b/{label}\n");
    let n_lines = starts.len();
    let mut i = 0;
    while i < changed.len() {
        let lo = changed[i].saturating_sub(3);
        let mut j = i;
        while j + 1 < changed.len() && changed[j + 1] <= changed[j] + 7 {
            j += 1;
        }
        let hi = (changed[j] + 3).min(n_lines - 1);
        let count = hi - lo + 1;
        out.push_str(&format!("@@ -{},{count} +{},{count} @@\n", lo + 1, lo + 1));
        for l in lo..=hi {
            let (a, b) = line_text(l);
            let old = String::from_utf8_lossy(&original[a..b]);
            let old = old.strip_suffix('\n').unwrap_or(&old);
            if changed[i..=j].contains(&l) {
                let line_edits: Vec<Edit> = edits
                    .iter()
                    .filter(|e| (e.span.0 as usize) >= a && (e.span.1 as usize) <= b)
                    .map(|e| Edit {
                        span: (e.span.0 - a as u64, e.span.1 - a as u64),
                        ..e.clone()
                    })
                    .collect();
                let new = apply_edits(&original[a..b], &line_edits);
                let new = String::from_utf8_lossy(&new);
                out.push_str(&format!(
                    "-{old}\n+{}\n",
                    new.strip_suffix('\n').unwrap_or(&new)
                ));
            } else {
                out.push_str(&format!(" {old}\n"));
            }
        }
        i = j + 1;
    }
    out
}

/// Where the previous version of a scene is kept: `<folder>/.shotline-backup/<name>.<stamp>`.
pub fn backup_path(scene: &Path, stamp: &str) -> PathBuf {
    let dir = scene.parent().unwrap_or(Path::new("."));
    let name = scene
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    dir.join(".shotline-backup").join(format!("{name}.{stamp}"))
}

/// Writes `new` over `scene` atomically after keeping `original` under
/// [`backup_path`] (never overwriting an older backup). Refuses when the file on disk is no
/// longer `original` (someone saved it meanwhile). Returns the backup's path.
pub fn write_with_backup(
    scene: &Path,
    original: &[u8],
    new: &[u8],
    stamp: &str,
) -> Result<PathBuf, SceneError> {
    let io = |e: std::io::Error| SceneError::Io {
        path: scene.to_path_buf(),
        source: e,
    };
    let now = std::fs::read(scene).map_err(io)?;
    if now != original {
        return Err(SceneError::Update {
            path: scene.to_path_buf(),
            message:
                "the file changed while the update was prepared; nothing was written (run it again)"
                    .into(),
        });
    }
    let base = backup_path(scene, stamp);
    let dir = base.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|source| SceneError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut backup = base.clone();
    let mut k = 1u32;
    loop {
        match shotline_fsio::write_atomic(&backup, original, shotline_fsio::Overwrite::Never) {
            Ok(()) => break,
            Err(shotline_fsio::FsioError::Exists { .. }) if k < 1000 => {
                k += 1;
                backup = PathBuf::from(format!("{}-{k}", base.display()));
            }
            Err(e) => {
                return Err(SceneError::Update {
                    path: scene.to_path_buf(),
                    message: format!("cannot keep a backup: {e}; nothing was written"),
                })
            }
        }
    }
    shotline_fsio::write_atomic(scene, new, shotline_fsio::Overwrite::Replace).map_err(|e| {
        SceneError::Update {
            path: scene.to_path_buf(),
            message: format!("{e}; the previous file is kept at {}", backup.display()),
        }
    })?;
    Ok(backup)
}

/// The store locks that guard a scene: `scene:<path below the layout root>` (the absolute path
/// when it is outside), and `<shot|asset>/<ITEM>/<step>` when the scene lies in a shot's or
/// asset's step folder, as artists lock a task they have open.
pub fn lock_names(scene: &Path, project: &Project<'_>) -> Vec<String> {
    let abs = scene.canonicalize().unwrap_or_else(|_| scene.to_path_buf());
    let rel = abs.strip_prefix(project.layout.root()).unwrap_or(&abs);
    let mut out = vec![format!("scene:{}", rel.display())];
    if let Some(f) = crate::resolve::scene_fields(&abs, project) {
        let item = match (&f.shot, &f.asset) {
            (Some(s), _) if !s.is_empty() => Some(("shot", s.clone())),
            (_, Some(a)) if !a.is_empty() => Some(("asset", a.clone())),
            _ => None,
        };
        if let (Some((kind, item)), Some(step)) = (item, f.step) {
            out.push(format!("{kind}/{item}/{step}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_replaced_where_spelled() {
        let v = |n| VersionNumber::new(n).unwrap();
        assert_eq!(
            replace_version("SH010_plate_v002.####.exr", v(2), v(3)),
            "SH010_plate_v003.####.exr"
        );
        assert_eq!(
            replace_version("PROJ_002_x.1002.exr", v(2), v(3)),
            "PROJ_003_x.1002.exr"
        );
        assert_eq!(
            replace_version("plate.1001.exr", v(2), v(3)),
            "plate.1001.exr"
        );
    }

    const MA: &str = "createNode imagePlane -n \"ip\";\n\
\tsetAttr \".imn\" -type \"string\" \"/p/plate.1001.exr\";\n\tsetAttr \".ufe\" yes;\n\
\tsetAttr \".fin\" 1001;\n\tsetAttr \".fot\" 1100;\n\tsetAttr \".fo\" 0;\n\
createNode file -n \"seq\";\n\
\tsetAttr \".ftn\" -type \"string\" \"/p/tex.1001.exr\";\n\tsetAttr \".ufe\" yes;\n\
\tsetAttr \".cs\" -type \"string\" \"sRGB\";\n\
createNode cacheFile -n \"cloth\";\n\
\tsetAttr \".cn\" -type \"string\" \"cloth_v003\";\n\
\tsetAttr \".cp\" -type \"string\" \"/p/fx/v003\";\n\
\tsetAttr \".os\" 1001;\n\tsetAttr \".oe\" 1100;\n\tsetAttr \".ss\" 1011;\n\tsetAttr \".se\" 1090;\n";

    fn resolved(node: crate::MediaNode, on_disk: &str) -> ResolvedNode {
        ResolvedNode {
            node,
            mapped: None,
            unmapped: false,
            on_disk: shotline_frames::FrameSet::parse(on_disk).ok(),
            exists: true,
            fields: None,
            version: None,
            latest: None,
            family: Vec::new(),
            pattern: None,
            status: crate::Status::Latest,
        }
    }

    fn version(frames: &str) -> VersionRef {
        VersionRef {
            id: None,
            kind: shotline_store::ItemKind::Shot,
            item: "SH010".into(),
            step: "plate".into(),
            resource: String::new(),
            version: VersionNumber::new(4).unwrap(),
            dir: PathBuf::from("/p"),
            pattern: None,
            frames: Some(frames.into()),
            fps: None,
        }
    }

    /// Maya range attributes for a version whose frames start elsewhere: offsets follow the
    /// first frame, in/out points keep their distance from the ends, a default offset is
    /// written after `.ufe`; nothing else changes.
    #[test]
    fn maya_ranges_follow_a_renumbered_version() {
        let scene = crate::read_scene_from(Path::new("t.ma"), Dcc::Maya, MA.as_bytes()).unwrap();
        let mut edits = Vec::new();
        for n in &scene.nodes {
            let r = resolved(n.clone(), "1001-1100");
            for (f, v) in range_changes(Dcc::Maya, &r, &version("1-120")) {
                edits
                    .push(edit(MA.as_bytes(), &n.name, &f.name, f.span, field_text(f, v)).unwrap());
            }
        }
        edits.sort_by_key(|e| e.span);
        let after = String::from_utf8(apply_edits(MA.as_bytes(), &edits)).unwrap();
        let want = MA
            .replace("\".fin\" 1001;", "\".fin\" 1;")
            .replace("\".fot\" 1100;", "\".fot\" 120;")
            .replace("\".fo\" 0;", "\".fo\" -1000;")
            .replace(
                "tex.1001.exr\";\n\tsetAttr \".ufe\" yes;",
                "tex.1001.exr\";\n\tsetAttr \".ufe\" yes; setAttr \".fo\" -1000;",
            )
            .replace("\".os\" 1001;", "\".os\" 1;")
            .replace("\".oe\" 1100;", "\".oe\" 120;")
            .replace("\".ss\" 1011;", "\".ss\" 11;")
            .replace("\".se\" 1090;", "\".se\" 110;");
        assert_eq!(after, want);
        assert_eq!(after.lines().count(), MA.lines().count());
        // The same first frame: no offset (not even the default one), frameOut follows the end.
        let r = resolved(scene.nodes[0].clone(), "1001-1100");
        let c: Vec<(&str, i64)> = range_changes(Dcc::Maya, &r, &version("1001-1200"))
            .into_iter()
            .map(|(f, v)| (f.name.as_str(), v))
            .collect();
        assert_eq!(c, [("frameOut", 1200)]);
        let r = resolved(scene.nodes[1].clone(), "1001-1100");
        assert!(range_changes(Dcc::Maya, &r, &version("1001-1200")).is_empty());
        // Values at the ends of i64 saturate instead of overflowing.
        let mut n = scene.nodes[0].clone();
        for f in &mut n.range_fields {
            f.value = i64::MIN;
        }
        let r = resolved(n, "1001-1100");
        let _ = range_changes(Dcc::Maya, &r, &version("1-120"));
    }

    #[test]
    fn cache_files_split_back_into_folder_and_name() {
        let s = |a: &str, b: &str| split_cache_file(a, b).unwrap();
        assert_eq!(
            s("/p/v003/", "/p/v004/c_v004.xml"),
            ("/p/v004/".into(), "c_v004".into())
        );
        assert_eq!(
            s("C:\\p\\v003", "C:\\p\\v004\\c.xml"),
            ("C:\\p\\v004".into(), "c".into())
        );
        assert_eq!(s("", "c_v004.xml"), ("".into(), "c_v004".into()));
        assert!(split_cache_file("/p", "/p/c.mc").is_err());
    }

    #[test]
    fn diff_shows_changed_lines_with_context() {
        let text = b"a\nb\nc path1 x\nd\ne\nf\ng\nh\n";
        let e = Edit {
            node: "n".into(),
            what: "path".into(),
            span: (6, 11),
            old: "path1".into(),
            new: "path2".into(),
        };
        assert_eq!(&text[6..11], b"path1");
        let d = unified_diff("s.nk", text, std::slice::from_ref(&e));
        assert!(d.contains("@@ -1,6 +1,6 @@"), "{d}");
        assert!(d.contains("-c path1 x\n+c path2 x\n"), "{d}");
        assert_eq!(apply_edits(text, &[e]), b"a\nb\nc path2 x\nd\ne\nf\ng\nh\n");
    }
}
