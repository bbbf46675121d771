//! Nuke `.nk` scripts: TCL-ish statements read as words, never evaluated.
//!
//! A node is `Class {knob value …}` (the braced body holds `knob value` pairs, one per line or
//! all on one line); `Group {…}` starts a group that `end_group` closes; `push 0` before a node
//! leaves its input empty. Values are bare words, `"quoted"` (backslash escapes) or `{braced}`
//! (verbatim); `[value …]` and `$var` stay as written and are reported as expressions.

use std::io::Read;

use crate::error::SceneError;
use crate::stream::{Pos, Stream};
use crate::{
    looks_like_expression, span_set, Dcc, MediaNode, NodeFlags, NodeKind, PathText, Quoting,
    RangeField, SceneSettings,
};

/// A TCL word: its decoded bytes, where the whole token lies and how it was quoted.
#[derive(Debug, Clone)]
struct Word {
    text: Vec<u8>,
    start: Pos,
    end: u64,
    quoting: Quoting,
    /// Holds an unescaped `[command]` or `$variable`: TCL would substitute it.
    subst: bool,
}

impl Word {
    fn str(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.text)
    }

    fn is(&self, s: &str) -> bool {
        self.quoting == Quoting::Bare && self.text == s.as_bytes()
    }
}

enum W {
    Word(Word),
    EndOfLine,
    Eof,
}

fn next_word<R: Read>(s: &mut Stream<R>, base: Pos) -> Result<W, SceneError> {
    while let Some(c) = s.peek()? {
        if c == b' ' || c == b'\t' || c == b'\r' {
            s.bump()?;
        } else if c == b'\\' && s.peek_at(1)? == Some(b'\n') {
            s.bump()?;
            s.bump()?;
        } else {
            break;
        }
    }
    let at = rebase(s.pos(), base);
    let Some(c) = s.peek()? else {
        return Ok(W::Eof);
    };
    if c == b'\n' || c == b';' {
        s.bump()?;
        return Ok(W::EndOfLine);
    }
    let mut text = Vec::new();
    let mut subst = false;
    let var_follows = |s: &mut Stream<R>| -> Result<bool, SceneError> {
        Ok(s.peek()?
            .is_some_and(|n| n.is_ascii_alphabetic() || n == b'{' || n == b'_'))
    };
    let quoting = match c {
        b'"' => {
            s.bump()?;
            loop {
                match s.bump()? {
                    None => {
                        return Err(SceneError::syntax(
                            at,
                            "unterminated quoted string: expected a closing \" before the end of the file",
                        ))
                    }
                    Some(b'"') => break,
                    Some(b'\\') => match s.bump()? {
                        Some(b'n') => text.push(b'\n'),
                        Some(b't') => text.push(b'\t'),
                        Some(b'r') => text.push(b'\r'),
                        Some(b'\n') => text.push(b' '),
                        Some(c) => text.push(c),
                        None => {
                            return Err(SceneError::syntax(at, "unterminated escape at the end of the file"))
                        }
                    },
                    Some(c) => {
                        if c == b'[' || (c == b'$' && var_follows(s)?) {
                            subst = true;
                        }
                        text.push(c)
                    }
                }
            }
            Quoting::TclQuoted
        }
        b'{' => {
            s.bump()?;
            let mut depth = 1usize;
            loop {
                match s.bump()? {
                    None => {
                        return Err(SceneError::syntax(
                            at,
                            "unbalanced braces: expected a closing } before the end of the file",
                        ))
                    }
                    Some(b'\\') => {
                        text.push(b'\\');
                        if let Some(c) = s.bump()? {
                            text.push(c);
                        }
                    }
                    Some(b'{') => {
                        depth += 1;
                        text.push(b'{');
                    }
                    Some(b'[') => {
                        subst = true;
                        text.push(b'[');
                    }
                    Some(b'}') => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                        text.push(b'}');
                    }
                    Some(c) => text.push(c),
                }
            }
            Quoting::TclBraced
        }
        _ => {
            let mut brackets = 0usize;
            while let Some(c) = s.peek()? {
                let ends = brackets == 0 && (c.is_ascii_whitespace() || c == b';');
                if ends {
                    break;
                }
                s.bump()?;
                match c {
                    b'\\' => {
                        if let Some(n) = s.bump()? {
                            text.push(n);
                        }
                    }
                    b'[' => {
                        brackets += 1;
                        subst = true;
                        text.push(c);
                    }
                    b'$' => {
                        subst |= var_follows(s)?;
                        text.push(c);
                    }
                    b']' => {
                        brackets = brackets.saturating_sub(1);
                        text.push(c);
                    }
                    _ => text.push(c),
                }
            }
            Quoting::Bare
        }
    };
    Ok(W::Word(Word {
        text,
        start: at,
        end: base.offset + s.pos().offset,
        quoting,
        subst,
    }))
}

/// A position inside a body read from memory, as a position in the file.
fn rebase(p: Pos, base: Pos) -> Pos {
    if base.offset == 0 && base.line == 0 {
        return p;
    }
    Pos {
        offset: base.offset + p.offset,
        line: base.line + p.line - 1,
        column: if p.line == 1 {
            base.column + p.column - 1
        } else {
            p.column
        },
    }
}

/// The words of one statement (up to an unquoted newline), `None` at the end of the file.
fn statement<R: Read>(s: &mut Stream<R>) -> Result<Option<Vec<Word>>, SceneError> {
    let top = Pos::default();
    loop {
        while s
            .peek()?
            .is_some_and(|c| c.is_ascii_whitespace() || c == b';')
        {
            s.bump()?;
        }
        match s.peek()? {
            None => return Ok(None),
            Some(b'#') => s.skip_line()?,
            Some(_) => break,
        }
    }
    let mut words = Vec::new();
    loop {
        match next_word(s, top)? {
            W::Word(w) => words.push(w),
            W::EndOfLine => return Ok(Some(words)),
            W::Eof => return Ok(Some(words)),
        }
    }
}

/// The `knob value` pairs of a node body.
fn knobs(body: &Word) -> Result<Vec<(String, Word)>, SceneError> {
    let base = Pos {
        offset: body.start.offset + 1,
        line: body.start.line,
        column: body.start.column + 1,
    };
    let mut s = Stream::new(&body.text[..]);
    let mut out = Vec::new();
    let mut pending: Option<Word> = None;
    loop {
        match next_word(&mut s, base)? {
            W::Word(w) => match pending.take() {
                None => pending = Some(w),
                Some(k) => out.push((k.str().into_owned(), w)),
            },
            W::EndOfLine => {}
            W::Eof => break,
        }
    }
    Ok(out)
}

#[derive(Default)]
struct Knobs {
    all: Vec<(String, Word)>,
}

impl Knobs {
    fn get(&self, k: &str) -> Option<&Word> {
        self.all.iter().rev().find(|(n, _)| n == k).map(|(_, w)| w)
    }

    fn int(&self, k: &str) -> Option<(i64, &Word)> {
        let w = self.get(k)?;
        let v = std::str::from_utf8(&w.text)
            .ok()?
            .trim()
            .parse::<i64>()
            .ok()?;
        Some((v, w))
    }

    fn bool(&self, k: &str) -> bool {
        self.get(k)
            .is_some_and(|w| matches!(w.text.as_slice(), b"true" | b"1"))
    }
}

/// The kind of node a class is, when its `file` knob is media.
fn class_kind(class: &str) -> NodeKind {
    match class {
        "Read" | "DeepRead" | "Vectorfield" => NodeKind::Input,
        c if c.starts_with("ReadGeo") || c.starts_with("Camera") || c == "Axis" => {
            NodeKind::Geometry
        }
        "Precomp" => NodeKind::Reference,
        c if c.contains("Write") => NodeKind::Output,
        _ => NodeKind::Input,
    }
}

fn path_knob(class: &str) -> &'static str {
    if class == "Vectorfield" {
        "vfield_file"
    } else {
        "file"
    }
}

/// Reads a script.
pub(crate) fn read<R: Read>(
    mut s: Stream<R>,
) -> Result<(SceneSettings, Vec<MediaNode>), SceneError> {
    let mut settings = SceneSettings::default();
    let mut nodes = Vec::new();
    let mut groups: Vec<String> = Vec::new();
    let mut pushed_null = false;
    while let Some(words) = statement(&mut s)? {
        let Some(first) = words.first() else {
            continue;
        };
        if first.is("end_group") {
            groups.pop();
            pushed_null = false;
            continue;
        }
        if first.is("push") {
            pushed_null = words.get(1).is_some_and(|w| w.is("0"));
            continue;
        }
        let body = match words.last() {
            Some(b) if b.quoting == Quoting::TclBraced && words.len() >= 2 => b,
            _ => {
                pushed_null = false;
                continue;
            }
        };
        let class = if first.is("clone") {
            // `clone node0x7f…|Read|12345 {…}` or `clone $C… {…}`.
            words
                .get(1)
                .and_then(|w| w.str().split('|').nth(1).map(str::to_string))
                .unwrap_or_else(|| "clone".into())
        } else {
            first.str().into_owned()
        };
        if words.len() != 2 && !first.is("clone") {
            pushed_null = false;
            continue;
        }
        if class == "define_window_layout_xml" || class == "version" {
            continue;
        }
        let k = Knobs { all: knobs(body)? };
        let name = k
            .get("name")
            .map(|w| w.str().into_owned())
            .unwrap_or_else(|| class.clone());
        if class == "Root" {
            root_settings(&k, &mut settings);
        } else {
            let mut full = groups.join(".");
            if !full.is_empty() {
                full.push('.');
            }
            full.push_str(&name);
            if let Some(n) = media_node(&class, &full, first.start.line, &k, pushed_null, &settings)
            {
                nodes.push(n);
            }
            if class == "Group" {
                groups.push(name);
            }
        }
        pushed_null = false;
    }
    for n in &mut nodes {
        if n.kind.is_output() && n.range.is_none() {
            n.range = settings.range.clone();
        }
    }
    Ok((settings, nodes))
}

fn root_settings(k: &Knobs, settings: &mut SceneSettings) {
    settings.project_dir = k
        .get("project_directory")
        .filter(|w| !w.subst && !w.text.is_empty())
        .map(|w| w.str().into_owned());
    if let (Some((a, _)), Some((b, _))) = (k.int("first_frame"), k.int("last_frame")) {
        settings.range = span_set(a, b);
    }
    settings.fps = k
        .get("fps")
        .and_then(|w| w.str().trim().parse::<f64>().ok())
        .filter(|f| f.is_finite() && *f > 0.0);
    if let Some(f) = k.get("format") {
        let text = f.str();
        let nums: Vec<u32> = text
            .split_whitespace()
            .take(2)
            .filter_map(|x| x.parse().ok())
            .collect();
        let (w, h) = match nums.as_slice() {
            [w, h] => (Some(*w), Some(*h)),
            _ => named_format(text.trim()).map_or((None, None), |(w, h)| (Some(w), Some(h))),
        };
        settings.width = w;
        settings.height = h;
    }
}

/// Nuke's built-in format names.
fn named_format(name: &str) -> Option<(u32, u32)> {
    Some(match name {
        "PC_Video" => (640, 480),
        "NTSC" => (720, 486),
        "PAL" => (720, 576),
        "HD_720" => (1280, 720),
        "HD_1080" => (1920, 1080),
        "UHD_4K" => (3840, 2160),
        "1K_Super_35(full-ap)" => (1024, 778),
        "2K_Super_35(full-ap)" => (2048, 1556),
        "4K_Super_35(full-ap)" => (4096, 3112),
        "2K_DCP" => (2048, 1080),
        "4K_DCP" => (4096, 2160),
        "square_256" => (256, 256),
        "square_512" => (512, 512),
        "square_1K" => (1024, 1024),
        "square_2K" => (2048, 2048),
        _ => return None,
    })
}

fn media_node(
    class: &str,
    name: &str,
    line: u32,
    k: &Knobs,
    pushed_null: bool,
    settings: &SceneSettings,
) -> Option<MediaNode> {
    let w = k.get(path_knob(class))?;
    if w.text.is_empty() {
        return None;
    }
    let kind = class_kind(class);
    let (text, lossy) = match String::from_utf8(w.text.clone()) {
        Ok(s) => (s, false),
        Err(e) => (String::from_utf8_lossy(e.as_bytes()).into_owned(), true),
    };
    let expression = w.subst
        || (looks_like_expression(Dcc::Nuke, &text) && w.quoting == Quoting::TclBraced)
        || text.contains("%V")
        || text.contains("%v");
    let path = PathText {
        text,
        span: (w.start.offset, w.end),
        quoting: w.quoting,
        line: w.start.line,
        lossy,
    };
    let mut fields = Vec::new();
    for key in ["first", "last", "origfirst", "origlast"] {
        if let Some((v, word)) = k.int(key) {
            fields.push(RangeField {
                name: key.into(),
                value: v,
                span: (word.start.offset, word.end),
            });
        }
    }
    let first = k.int("first").map(|v| v.0);
    let last = k.int("last").map(|v| v.0);
    let media_frames = match (first, last) {
        (Some(a), Some(b)) if kind != NodeKind::Output => span_set(a, b),
        _ => None,
    };
    let range = if kind.is_output() {
        match (k.bool("use_limit"), first, last) {
            (true, Some(a), Some(b)) => span_set(a, b),
            _ => settings.range.clone(),
        }
    } else {
        scene_range(k, first, last)
    };
    let has_input = kind
        .is_output()
        .then(|| !(pushed_null || k.int("inputs").is_some_and(|(n, _)| n == 0)));
    Some(MediaNode {
        name: name.to_string(),
        class: class.to_string(),
        kind,
        line,
        path: Some(path),
        also: Vec::new(),
        cache_name: None,
        range,
        media_frames,
        flags: NodeFlags {
            disabled: k.bool("disable"),
            has_input,
            expression,
            ..NodeFlags::default()
        },
        range_fields: fields,
    })
}

/// A Read's frames in script time: `first`-`last`, moved by `frame_mode` (`start at` or
/// `offset`) and `frame`.
fn scene_range(
    k: &Knobs,
    first: Option<i64>,
    last: Option<i64>,
) -> Option<shotline_frames::FrameSet> {
    let (a, b) = (first?, last?);
    let frame = k
        .get("frame")
        .and_then(|w| w.str().trim().parse::<i64>().ok());
    let mode = k.get("frame_mode").map(|w| w.str().into_owned());
    match (mode.as_deref(), frame) {
        (Some("start at" | "start_at"), Some(f)) => span_set(f, f.checked_add(b.checked_sub(a)?)?),
        (Some("offset"), Some(f)) => span_set(a.checked_add(f)?, b.checked_add(f)?),
        _ => span_set(a, b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NK: &str = r#"#! /usr/local/Nuke14.0v5/libnuke-14.0.5.so -nx
version 14.0 v5
define_window_layout_xml {<?xml version="1.0" encoding="UTF-8"?>
<layout version="1.0">
    <window x="0" y="0" w="1920" h="1080" screen="0">
    </window>
</layout>
}
Root {
 inputs 0
 name /mnt/projects/demo/shots/SH010/comp/work/SH010_comp_v004.nk
 first_frame 1001
 last_frame 1100
 fps 24
 format "2048 1152 0 0 2048 1152 1 DEMO_2K"
 proxy_type scale
}
Read {
 inputs 0
 file_type exr
 file "P:/demo/shots/SH010/plate/v002/SH010_plate_v002.####.exr"
 format "2048 1152 0 0 2048 1152 1 DEMO_2K"
 first 1001
 last 1100
 origfirst 1001
 origlast 1100
 origset true
 name Plate
 xpos -40
 ypos -200
}
Read { inputs 0  file {[value root.project_dir]/elements/smoke.%04d.exr}  first 1  last 50  frame_mode "start at"  frame 1001  name Smoke }
Group {
 name Précomp
 xpos 100
}
 Input {
  inputs 0
  name Input1
 }
 Read {
  inputs 0
  file "/mnt/ünï cödé/x.\[v\].#.exr"
  first 1
  last 9
  name Inner
 }
 Output {
  name Output1
 }
end_group
push 0
Write {
 file /mnt/projects/demo/shots/SH010/comp/render/SH010_comp_v004.####.exr
 file_type exr
 disable true
 name WriteMain
}
set N1 [stack 0]
Write {
 file ""
 name WriteEmpty
}
"#;

    #[test]
    fn reads_reads_writes_groups_and_root() {
        let (settings, nodes) = read(Stream::new(NK.as_bytes())).unwrap();
        assert_eq!(settings.range.as_ref().unwrap().to_string(), "1001-1100");
        assert_eq!(
            (settings.width, settings.height, settings.fps),
            (Some(2048), Some(1152), Some(24.0))
        );
        let names: Vec<&str> = nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["Plate", "Smoke", "Précomp.Inner", "WriteMain"]);
        let plate = &nodes[0];
        let p = plate.path.as_ref().unwrap();
        assert_eq!(
            &NK[p.span.0 as usize..p.span.1 as usize],
            "\"P:/demo/shots/SH010/plate/v002/SH010_plate_v002.####.exr\""
        );
        assert_eq!(plate.range_fields.len(), 4);
        let ol = &plate.range_fields[3];
        assert_eq!(&NK[ol.span.0 as usize..ol.span.1 as usize], "1100");
        let smoke = &nodes[1];
        assert!(smoke.flags.expression);
        assert_eq!(smoke.range.as_ref().unwrap().to_string(), "1001-1050");
        let p = smoke.path.as_ref().unwrap();
        assert_eq!(
            &NK[p.span.0 as usize..p.span.1 as usize],
            "{[value root.project_dir]/elements/smoke.%04d.exr}"
        );
        let inner = &nodes[2];
        assert_eq!(
            inner.path.as_ref().unwrap().text,
            "/mnt/ünï cödé/x.[v].#.exr"
        );
        assert!(!inner.flags.expression);
        let w = &nodes[3];
        assert_eq!(w.kind, NodeKind::Output);
        assert_eq!(w.flags.has_input, Some(false));
        assert!(w.flags.disabled);
        assert_eq!(w.range.as_ref().unwrap().to_string(), "1001-1100");
        assert_eq!(w.path.as_ref().unwrap().line, 54);
    }

    #[test]
    fn unbalanced_braces_name_the_line() {
        let e = read(Stream::new(&b"Root {\n}\nRead {\n file x\n"[..]))
            .unwrap_err()
            .to_string();
        assert!(e.contains(":3:"), "{e}");
    }
}
