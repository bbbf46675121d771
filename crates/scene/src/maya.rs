//! Maya ASCII `.ma`: a list of MEL commands, read as words and strings, never executed.
//!
//! Media: `file` textures (`.ftn`), image planes (`.imn`), Alembic (`.fn`, with the same path
//! in its `.fns` layer list), GPU caches (`.cfn`), geometry caches (`cacheFile`: the folder
//! `.cp` and the name `.cn`), Arnold stand-ins (`.dso`) and images (`.filename`), Redshift
//! proxies (`.fp`), audio (`.f`), and references (`file -r … "path"`, with the matching
//! `file -rdi 1` line rewritten with it; a `{N}` copy number kept; `-typ "Alembic"`/`"FBX"`
//! references are geometry). Range attributes a new version may change: a sequence's
//! `.fo` (frameOffset) on `file` and `imagePlane` nodes, an image plane's `.fin`/`.fot`
//! (frameIn/frameOut), a cacheFile's `.os`/`.oe` (originalStart/End) and `.ss`/`.se`
//! (sourceStart/End). Settings: `currentUnit -t` (fps), `:defaultRenderGlobals` `.fs`/`.ef`,
//! the `playbackOptions` in `sceneConfigurationScriptNode`, `:defaultResolution` `.w`/`.h`,
//! and renderable `renderLayer` nodes (legacy layers and render setup's `rs_` layers).
//! Statements that cannot matter (mesh data, connections) are skipped without tokenising, so a
//! 20 MB scene streams through quickly.

use std::collections::HashMap;
use std::io::Read;

use crate::error::SceneError;
use crate::stream::{Pos, Stream};
use crate::{
    looks_like_expression, span_set, Dcc, MediaNode, NodeFlags, NodeKind, PathText, Quoting,
    RangeField, SceneSettings,
};

#[derive(Debug, Clone)]
enum Tok {
    /// A bare word and its byte span (numbers are words: `1001`, `-5`).
    Word(String, (u64, u64)),
    Str(PathText),
}

/// The node `setAttr` applies to: the last `createNode` or `select -ne`.
#[derive(Debug, Default)]
struct Current {
    node_type: String,
    name: String,
    line: u32,
    path: Option<PathText>,
    sequence: bool,
    renderable: bool,
    /// Range attributes set on the node (long names).
    fields: Vec<RangeField>,
    /// A cacheFile's `.cn`.
    cache_name: Option<PathText>,
    /// An AlembicNode's `.fns` layer paths.
    layers: Vec<PathText>,
    /// Where the `setAttr ".ufe" yes;` statement ends: a frame offset the file does not
    /// spell (Maya's default 0) is written there when a version needs one.
    ufe_end: Option<u64>,
}

/// The path attribute (short and long name) and the kind of node types shotline reads.
fn media_type(node_type: &str) -> Option<(&'static [&'static str], NodeKind)> {
    Some(match node_type {
        "file" => (&[".ftn", ".fileTextureName"], NodeKind::Texture),
        "imagePlane" => (&[".imn", ".imageName"], NodeKind::ImagePlane),
        "AlembicNode" => (&[".fn", ".abc_File"], NodeKind::Geometry),
        "gpuCache" => (&[".cfn", ".cacheFileName"], NodeKind::Geometry),
        "aiStandIn" => (&[".dso"], NodeKind::Geometry),
        "aiImage" => (&[".filename"], NodeKind::Texture),
        "RedshiftProxyMesh" => (&[".fp", ".fileName"], NodeKind::Geometry),
        "cacheFile" => (&[".cp", ".cachePath"], NodeKind::Geometry),
        "audio" => (&[".f", ".filename"], NodeKind::Input),
        _ => return None,
    })
}

/// The range attribute `attr` is on a node of `node_type`, by its long name; only these are
/// rewritten when a new version holds other frames.
fn range_attr(node_type: &str, attr: &str) -> Option<&'static str> {
    Some(match (node_type, attr) {
        ("file" | "imagePlane", ".fo" | ".frameOffset") => "frameOffset",
        ("imagePlane", ".fin" | ".frameIn") => "frameIn",
        ("imagePlane", ".fot" | ".frameOut") => "frameOut",
        ("cacheFile", ".os" | ".originalStart") => "originalStart",
        ("cacheFile", ".oe" | ".originalEnd") => "originalEnd",
        ("cacheFile", ".ss" | ".sourceStart") => "sourceStart",
        ("cacheFile", ".se" | ".sourceEnd") => "sourceEnd",
        _ => return None,
    })
}

fn interesting(c: &Current) -> bool {
    media_type(&c.node_type).is_some()
        || c.node_type == "renderLayer"
        || c.node_type == "script"
        || c.name == ":defaultRenderGlobals"
        || c.name == ":defaultResolution"
}

struct Reader<R> {
    s: Stream<R>,
}

impl<R: Read> Reader<R> {
    /// Skips blanks and `//` comments; false at the end of the file.
    fn skip_blank(&mut self) -> Result<bool, SceneError> {
        loop {
            match self.s.peek()? {
                None => return Ok(false),
                Some(c) if c.is_ascii_whitespace() => {
                    self.s.bump()?;
                }
                Some(b'/') if self.s.peek_at(1)? == Some(b'/') => self.s.skip_line()?,
                Some(_) => return Ok(true),
            }
        }
    }

    /// The next word or string of the statement; `None` at its `;`.
    fn token(&mut self) -> Result<Option<(Tok, Pos)>, SceneError> {
        while self.s.peek()?.is_some_and(|c| c.is_ascii_whitespace()) {
            self.s.bump()?;
        }
        let at = self.s.pos();
        match self.s.peek()? {
            None => Err(SceneError::syntax(
                at,
                "statement not finished: expected ';' before the end of the file",
            )),
            Some(b';') => {
                self.s.bump()?;
                Ok(None)
            }
            Some(b'"') => {
                self.s.bump()?;
                let mut out = Vec::new();
                loop {
                    match self.s.bump()? {
                        None => return Err(SceneError::syntax(
                            at,
                            "unterminated string: expected a closing \" before the end of the file",
                        )),
                        Some(b'"') => break,
                        Some(b'\\') => match self.s.bump()? {
                            Some(b'n') => out.push(b'\n'),
                            Some(b't') => out.push(b'\t'),
                            Some(b'r') => out.push(b'\r'),
                            Some(c) => out.push(c),
                            None => {
                                return Err(SceneError::syntax(
                                    at,
                                    "unterminated escape at the end of the file",
                                ))
                            }
                        },
                        Some(c) => out.push(c),
                    }
                }
                let (text, lossy) = match String::from_utf8(out) {
                    Ok(s) => (s, false),
                    Err(e) => (String::from_utf8_lossy(e.as_bytes()).into_owned(), true),
                };
                Ok(Some((
                    Tok::Str(PathText {
                        text,
                        span: (at.offset, self.s.pos().offset),
                        quoting: Quoting::Mel,
                        line: at.line,
                        lossy,
                    }),
                    at,
                )))
            }
            Some(_) => {
                let mut w = String::new();
                while let Some(c) = self.s.peek()? {
                    if c.is_ascii_whitespace() || c == b';' || c == b'"' {
                        break;
                    }
                    w.push(c as char);
                    self.s.bump()?;
                }
                Ok(Some((Tok::Word(w, (at.offset, self.s.pos().offset)), at)))
            }
        }
    }

    /// Skips the rest of a statement (strings may hold `;`).
    fn skip_statement(&mut self) -> Result<(), SceneError> {
        let at = self.s.pos();
        loop {
            match self.s.bump()? {
                None => {
                    return Err(SceneError::syntax(
                        at,
                        "statement not finished: expected ';' before the end of the file",
                    ))
                }
                Some(b';') => return Ok(()),
                Some(b'"') => loop {
                    match self.s.bump()? {
                        None => return Err(SceneError::syntax(
                            at,
                            "unterminated string: expected a closing \" before the end of the file",
                        )),
                        Some(b'"') => break,
                        Some(b'\\') => {
                            self.s.bump()?;
                        }
                        Some(_) => {}
                    }
                },
                Some(_) => {}
            }
        }
    }

    fn rest(&mut self) -> Result<Vec<Tok>, SceneError> {
        let mut out = Vec::new();
        while let Some((t, _)) = self.token()? {
            out.push(t);
        }
        Ok(out)
    }
}

fn flag<'a>(toks: &'a [Tok], name: &str) -> Option<&'a Tok> {
    toks.iter()
        .position(|t| matches!(t, Tok::Word(w, _) if w == name))
        .and_then(|i| toks.get(i + 1))
}

fn flag_str(toks: &[Tok], name: &str) -> Option<String> {
    match flag(toks, name)? {
        Tok::Str(s) => Some(s.text.clone()),
        Tok::Word(w, _) => Some(w.clone()),
    }
}

/// Frames per second of a `currentUnit -t` value.
fn unit_fps(unit: &str) -> Option<f64> {
    Some(match unit {
        "game" => 15.0,
        "film" => 24.0,
        "pal" => 25.0,
        "ntsc" => 30.0,
        "show" => 48.0,
        "palf" => 50.0,
        "ntscf" => 60.0,
        u => {
            let n = u.strip_suffix("fps").or_else(|| u.strip_suffix("df"))?;
            let v: f64 = n.parse().ok()?;
            if !(v.is_finite() && v > 0.0) {
                return None;
            }
            v
        }
    })
}

fn yes(t: Option<&Tok>) -> bool {
    matches!(t, Some(Tok::Word(w, _)) if w == "yes" || w == "1" || w == "true" || w == "on")
}

fn int(t: Option<&Tok>) -> Option<i64> {
    match t {
        Some(Tok::Word(w, _)) => w
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .map(|v| v.round() as i64),
        _ => None,
    }
}

#[derive(Default)]
struct State {
    settings: SceneSettings,
    nodes: Vec<MediaNode>,
    current: Current,
    globals_range: (Option<i64>, Option<i64>),
    playback: Option<(i64, i64)>,
    layers: Vec<(String, bool)>,
    rdi: HashMap<String, PathText>,
}

impl State {
    fn flush(&mut self) {
        let c = std::mem::take(&mut self.current);
        if c.node_type == "renderLayer" {
            self.layers.push((c.name.clone(), c.renderable));
        }
        let (Some(path), Some((_, kind))) = (c.path, media_type(&c.node_type)) else {
            return;
        };
        let mut fields = c.fields;
        let has = |fields: &[RangeField], k: &str| fields.iter().any(|f| f.name == k);
        if let (true, Some(end)) = (c.sequence, c.ufe_end) {
            if !has(&fields, "frameOffset") && range_attr(&c.node_type, ".fo").is_some() {
                // Not in the file: Maya's default. A zero-width span marks it as one to write.
                fields.push(RangeField {
                    name: "frameOffset".into(),
                    value: 0,
                    span: (end, end),
                });
            }
        }
        let get = |k: &str| fields.iter().find(|f| f.name == k).map(|f| f.value);
        let media_frames = match (get("frameIn"), get("frameOut")) {
            (Some(a), Some(b)) if c.node_type == "imagePlane" && c.sequence => span_set(a, b),
            _ => None,
        };
        let expression = looks_like_expression(Dcc::Maya, &path.text)
            || c.cache_name
                .as_ref()
                .is_some_and(|n| looks_like_expression(Dcc::Maya, &n.text));
        let also = c
            .layers
            .into_iter()
            .filter(|l| l.text == path.text && l.span != path.span)
            .collect();
        self.nodes.push(MediaNode {
            name: c.name,
            class: c.node_type,
            kind,
            line: c.line,
            flags: NodeFlags {
                expression,
                sequence: c.sequence,
                ..NodeFlags::default()
            },
            path: Some(path),
            also,
            cache_name: c.cache_name,
            range: None,
            media_frames,
            range_fields: fields,
        });
    }

    /// One `setAttr` of the current node; `end` is where the statement ends.
    fn set_attr(&mut self, toks: &[Tok], end: u64) {
        let Some(attr) = toks.iter().find_map(|t| match t {
            Tok::Str(s) => Some(s.text.clone()),
            _ => None,
        }) else {
            return;
        };
        let value_at = toks
            .iter()
            .position(|t| matches!(t, Tok::Str(s) if s.text == attr))
            .map(|i| i + 1);
        let mut rest: Vec<&Tok> = value_at
            .map(|i| toks[i..].iter().collect())
            .unwrap_or_default();
        if matches!(rest.first(), Some(Tok::Word(w, _)) if w == "-type") {
            rest.drain(..2.min(rest.len()));
        }
        let value = rest.first().copied();
        let c = &mut self.current;
        if let Some((attrs, _)) = media_type(&c.node_type) {
            if attrs.contains(&attr.as_str()) {
                if let Some(Tok::Str(s)) = value {
                    c.path = Some(s.clone());
                }
            } else if attr == ".ufe" || attr == ".useFrameExtension" {
                c.sequence = yes(value);
                c.ufe_end = Some(end);
            } else if let Some(name) = range_attr(&c.node_type, &attr) {
                if let Some(Tok::Word(w, span)) = value {
                    // Only integers as written: a rewrite then keeps the spelling's kind.
                    if let Ok(v) = w.parse::<i64>() {
                        c.fields.retain(|f| f.name != name);
                        c.fields.push(RangeField {
                            name: name.into(),
                            value: v,
                            span: *span,
                        });
                    }
                }
            } else if c.node_type == "cacheFile" && (attr == ".cn" || attr == ".cacheName") {
                if let Some(Tok::Str(s)) = value {
                    c.cache_name = Some(s.clone());
                }
            } else if c.node_type == "AlembicNode" && (attr == ".fns" || attr == ".abc_FileNames") {
                c.layers = rest
                    .iter()
                    .filter_map(|t| match t {
                        Tok::Str(s) => Some(s.clone()),
                        _ => None,
                    })
                    .collect();
            }
        } else if c.node_type == "renderLayer" && attr == ".rndr" {
            c.renderable = yes(value);
        } else if c.name == ":defaultRenderGlobals" {
            match attr.as_str() {
                ".fs" | ".startFrame" => self.globals_range.0 = int(value),
                ".ef" | ".endFrame" => self.globals_range.1 = int(value),
                _ => {}
            }
        } else if c.name == ":defaultResolution" {
            let v = int(value)
                .and_then(|v| u32::try_from(v).ok())
                .filter(|v| *v > 0);
            match attr.as_str() {
                ".w" | ".width" => self.settings.width = v,
                ".h" | ".height" => self.settings.height = v,
                _ => {}
            }
        } else if c.node_type == "script" && (attr == ".b" || attr == ".before") {
            if let Some(Tok::Str(s)) = value {
                if let Some(p) = playback_range(&s.text) {
                    self.playback = Some(p);
                }
            }
        }
    }

    fn reference(&mut self, toks: &[Tok]) {
        let Some(Tok::Str(path)) = toks.iter().rev().find(|t| matches!(t, Tok::Str(_))) else {
            return;
        };
        let rfn = flag_str(toks, "-rfn").unwrap_or_default();
        let depth = flag_str(toks, "-rdi");
        if let Some(d) = depth {
            if d == "1" {
                self.rdi.insert(rfn, path.clone());
            }
            return;
        }
        if flag(toks, "-r").is_none()
            && !toks
                .iter()
                .any(|t| matches!(t, Tok::Word(w, _) if w == "-r"))
        {
            return;
        }
        let also = self
            .rdi
            .get(&rfn)
            .filter(|p| p.text == path.text)
            .cloned()
            .into_iter()
            .collect();
        // `file -r -typ "Alembic" "x.abc"` references a cache, not a scene.
        let kind = match flag_str(toks, "-typ").or_else(|| flag_str(toks, "-type")) {
            Some(t)
                if ["alembic", "fbx", "obj", "usd"].contains(&t.to_ascii_lowercase().as_str()) =>
            {
                NodeKind::Geometry
            }
            _ => NodeKind::Reference,
        };
        self.nodes.push(MediaNode {
            name: if rfn.is_empty() {
                crate::split_copy_number(&path.text).0.to_string()
            } else {
                rfn
            },
            class: "reference".into(),
            kind,
            line: path.line,
            flags: NodeFlags {
                expression: looks_like_expression(Dcc::Maya, &path.text),
                ..NodeFlags::default()
            },
            path: Some(path.clone()),
            also,
            cache_name: None,
            range: None,
            media_frames: None,
            range_fields: Vec::new(),
        });
    }
}

/// `playbackOptions -min 1001 -max 1100 …` in a script node's text.
fn playback_range(text: &str) -> Option<(i64, i64)> {
    let words: Vec<&str> = text.split_whitespace().collect();
    if !words.contains(&"playbackOptions") {
        return None;
    }
    let get = |flags: &[&str]| {
        words
            .iter()
            .position(|w| flags.contains(w))
            .and_then(|i| words.get(i + 1))
            .and_then(|v| v.trim_end_matches(';').parse::<f64>().ok())
            .filter(|v| v.is_finite())
            .map(|v| v.round() as i64)
    };
    Some((get(&["-min", "-minTime"])?, get(&["-max", "-maxTime"])?))
}

/// Reads a Maya ASCII scene.
pub(crate) fn read<R: Read>(s: Stream<R>) -> Result<(SceneSettings, Vec<MediaNode>), SceneError> {
    let mut r = Reader { s };
    let mut st = State::default();
    while r.skip_blank()? {
        let Some((Tok::Word(cmd, _), at)) = r.token()? else {
            continue;
        };
        match cmd.as_str() {
            "createNode" => {
                let toks = r.rest()?;
                st.flush();
                let node_type = match toks.first() {
                    Some(Tok::Word(w, _)) => w.clone(),
                    _ => String::new(),
                };
                st.current = Current {
                    name: flag_str(&toks, "-n").unwrap_or_else(|| node_type.clone()),
                    node_type,
                    line: at.line,
                    renderable: true,
                    ..Current::default()
                };
            }
            "select" => {
                let toks = r.rest()?;
                st.flush();
                let name = toks
                    .iter()
                    .rev()
                    .find_map(|t| match t {
                        Tok::Word(w, _) if !w.starts_with('-') => Some(w.clone()),
                        Tok::Str(s) => Some(s.text.clone()),
                        _ => None,
                    })
                    .unwrap_or_default();
                st.current = Current {
                    name,
                    line: at.line,
                    ..Current::default()
                };
            }
            "setAttr" if interesting(&st.current) => {
                let toks = r.rest()?;
                st.set_attr(&toks, r.s.pos().offset);
            }
            "file" => {
                let toks = r.rest()?;
                st.reference(&toks);
            }
            "currentUnit" => {
                let toks = r.rest()?;
                if let Some(f) = flag_str(&toks, "-t").or_else(|| flag_str(&toks, "-time")) {
                    st.settings.fps = unit_fps(&f);
                }
            }
            _ => r.skip_statement()?,
        }
    }
    st.flush();
    st.settings.range = match (st.globals_range, st.playback) {
        ((Some(a), Some(b)), _) => span_set(a, b),
        (_, Some((a, b))) => span_set(a, b),
        _ => None,
    };
    st.settings.render_layers = st
        .layers
        .iter()
        .filter(|(_, on)| *on)
        .map(|(n, _)| n.clone())
        .collect();
    let range = st.settings.range.clone();
    for n in &mut st.nodes {
        if n.class != "reference" {
            n.range = range.clone();
        }
    }
    Ok((st.settings, st.nodes))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MA: &str = r#"//Maya ASCII 2024 scene
//Name: SH010_lighting_v003.ma
//Codeset: UTF-8
file -rdi 1 -ns "char" -rfn "charRN" -op "v=0;" -typ "mayaAscii" "P:/demo/assets/chars/hero/rig/v002/hero_rig_v002.ma";
file -r -ns "char" -dr 1 -rfn "charRN" -op "v=0;" -typ "mayaAscii" "P:/demo/assets/chars/hero/rig/v002/hero_rig_v002.ma";
requires maya "2024";
currentUnit -l centimeter -a degree -t film;
fileInfo "application" "maya";
createNode transform -s -n "persp";
	setAttr ".v" no;
createNode camera -s -n "perspShape" -p "persp";
	setAttr ".imn" -type "string" "persp";
createNode mesh -n "pCubeShape1" -p "pCube1";
	setAttr -s 8 ".vt[0:7]"  -0.5 -0.5 0.5 0.5 -0.5 0.5 -0.5 0.5 0.5 0.5 0.5 0.5 -0.5 0.5 -0.5
		 0.5 0.5 -0.5 -0.5 -0.5 -0.5 0.5 -0.5 -0.5;
	setAttr ".txt" -type "string" "not; a path";
createNode file -n "skyTex";
	setAttr ".ftn" -type "string" "/mnt/projects/demo/assets/env/sky/tex/v001/sky_tex_v001.<UDIM>.exr";
	setAttr ".ufe" yes;
createNode imagePlane -n "imagePlaneShape1" -p "imagePlane1";
	setAttr ".imn" -type "string" "C:\\plates\\SH010 plate\\plate.1001.exr";
createNode AlembicNode -n "anim_AlembicNode";
	setAttr ".fn" -type "string" "$PROJ/cache/anim.abc";
createNode renderLayer -n "defaultRenderLayer";
	setAttr ".rndr" no;
createNode renderLayer -n "rs_beauty";
createNode renderLayer -n "rs_shadow";
createNode script -n "sceneConfigurationScriptNode";
	setAttr ".b" -type "string" "playbackOptions -min 1001 -max 1100 -ast 1001 -aet 1100 ";
select -ne :defaultRenderGlobals;
	setAttr ".fs" 1001;
	setAttr ".ef" 1050;
select -ne :defaultResolution;
	setAttr ".w" 2048;
	setAttr ".h" 858;
"#;

    #[test]
    fn reads_textures_references_layers_and_globals() {
        let (settings, nodes) = read(Stream::new(MA.as_bytes())).unwrap();
        assert_eq!(settings.fps, Some(24.0));
        assert_eq!(settings.range.as_ref().unwrap().to_string(), "1001-1050");
        assert_eq!((settings.width, settings.height), (Some(2048), Some(858)));
        assert_eq!(settings.render_layers, ["rs_beauty", "rs_shadow"]);
        let names: Vec<&str> = nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(
            names,
            ["charRN", "skyTex", "imagePlaneShape1", "anim_AlembicNode"]
        );
        let r = &nodes[0];
        assert_eq!(r.also.len(), 1);
        let p = r.path.as_ref().unwrap();
        assert_eq!(
            &MA[p.span.0 as usize..p.span.1 as usize],
            "\"P:/demo/assets/chars/hero/rig/v002/hero_rig_v002.ma\""
        );
        assert_eq!(p.line, 5);
        assert!(nodes[1].flags.sequence);
        assert_eq!(
            nodes[2].path.as_ref().unwrap().text,
            "C:\\plates\\SH010 plate\\plate.1001.exr"
        );
        assert!(nodes[3].flags.expression);
    }

    #[test]
    fn unfinished_statement_is_an_error() {
        let e = read(Stream::new(
            &b"createNode file -n \"a\";\n setAttr \".ftn\" -type \"string\" \"x"[..],
        ))
        .unwrap_err()
        .to_string();
        assert!(e.contains(":2:"), "{e}");
    }
}
