//! Fusion `.comp` and `.setting` files: a Lua table (`Composition { Tools = ordered() { … } }`),
//! parsed as data; nothing is evaluated.
//!
//! Media nodes: `Loader` clips (`Clips = { Clip { Filename = …, StartFrame, Length, TrimIn,
//! TrimOut, GlobalStart, GlobalEnd } }`, `Inputs` `GlobalIn`/`GlobalOut`/`Loop`/`Reverse`),
//! `Saver` (`Inputs.Clip = Input { Value = Clipname { Filename = … } }`, `PassThrough`, its
//! `Input` connected or not), `MediaIn` (`CustomData.MediaProps.MEDIA_PATH`), `MediaOut`;
//! tools that read one file through an input (see [`file_input_of`]: FBX and Alembic meshes,
//! LUTs, USD loaders);
//! groups and macros (`GroupOperator`/`MacroOperator` with their own `Tools`) are walked with
//! their names as prefixes. Settings: `RenderRange`, `Prefs.Comp.FrameFormat`.

use std::io::Read;

use crate::error::SceneError;
use crate::stream::{Pos, Stream};
use crate::{
    looks_like_expression, span_set, Dcc, MediaNode, NodeFlags, NodeKind, PathText, Quoting,
    RangeField, SceneSettings,
};

/// Deepest table nesting accepted (real comps stay below 20; the limit keeps recursion well inside a 2 MiB thread stack); deeper is refused, not a crash.
const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Name(String),
    Str(PathText),
    Num(f64, (u64, u64)),
    Punct(u8),
    Eof,
}

struct Lexer<R> {
    s: Stream<R>,
}

#[derive(Debug, Clone, PartialEq)]
enum Lua {
    Str(PathText),
    Num(f64, (u64, u64)),
    Bool(bool),
    Name(String),
    Table(Table),
}

#[derive(Debug, Clone, PartialEq, Default)]
struct Table {
    ctor: Option<String>,
    fields: Vec<(Option<String>, Lua)>,
    line: u32,
}

impl Table {
    fn get(&self, key: &str) -> Option<&Lua> {
        self.fields
            .iter()
            .find(|(k, _)| k.as_deref() == Some(key))
            .map(|(_, v)| v)
    }

    fn table(&self, key: &str) -> Option<&Table> {
        match self.get(key) {
            Some(Lua::Table(t)) => Some(t),
            _ => None,
        }
    }

    fn num(&self, key: &str) -> Option<(f64, (u64, u64))> {
        match self.get(key) {
            Some(Lua::Num(n, span)) => Some((*n, *span)),
            _ => None,
        }
    }

    fn truthy(&self, key: &str) -> bool {
        match self.get(key) {
            Some(Lua::Bool(b)) => *b,
            Some(Lua::Num(n, _)) => *n != 0.0,
            _ => false,
        }
    }

    /// `Inputs = { Key = Input { Value = … } }`: the `Value` of input `key`.
    fn input_value(&self, key: &str) -> Option<&Lua> {
        self.table("Inputs")?.table(key)?.get("Value")
    }
}

impl<R: Read> Lexer<R> {
    fn skip_space(&mut self) -> Result<(), SceneError> {
        loop {
            match self.s.peek()? {
                Some(c) if c.is_ascii_whitespace() => {
                    self.s.bump()?;
                }
                Some(b'-') if self.s.peek_at(1)? == Some(b'-') => {
                    self.s.bump()?;
                    self.s.bump()?;
                    if self.s.peek()? == Some(b'[') {
                        let at = self.s.pos();
                        if let Some(level) = self.long_open()? {
                            self.long_body(level, at)?;
                            continue;
                        }
                    }
                    self.s.skip_line()?;
                }
                _ => return Ok(()),
            }
        }
    }

    /// After a `[`: `[[` or `[==[` opens a long bracket; returns its level, having consumed it.
    fn long_open(&mut self) -> Result<Option<usize>, SceneError> {
        let mut k = 1;
        while self.s.peek_at(k)? == Some(b'=') {
            k += 1;
        }
        if self.s.peek_at(k)? != Some(b'[') {
            return Ok(None);
        }
        for _ in 0..=k {
            self.s.bump()?;
        }
        Ok(Some(k - 1))
    }

    fn long_body(&mut self, level: usize, at: Pos) -> Result<Vec<u8>, SceneError> {
        let mut out = Vec::new();
        loop {
            match self.s.bump()? {
                None => {
                    return Err(SceneError::syntax(
                        at,
                        "unterminated long bracket: expected ]] before the end of the file",
                    ))
                }
                Some(b']') => {
                    let mut k = 0;
                    while self.s.peek_at(k)? == Some(b'=') {
                        k += 1;
                    }
                    if k == level && self.s.peek_at(k)? == Some(b']') {
                        for _ in 0..=k {
                            self.s.bump()?;
                        }
                        return Ok(out);
                    }
                    out.push(b']');
                }
                Some(c) => out.push(c),
            }
        }
    }

    fn next(&mut self) -> Result<(Tok, Pos), SceneError> {
        self.skip_space()?;
        let at = self.s.pos();
        let Some(c) = self.s.peek()? else {
            return Ok((Tok::Eof, at));
        };
        let tok = match c {
            b'"' | b'\'' => self.string(c, at)?,
            b'[' => match self.long_open()? {
                Some(level) => {
                    let bytes = self.long_body(level, at)?;
                    Tok::Str(path_text(bytes, at, self.s.pos().offset, Quoting::LuaLong))
                }
                None => {
                    self.s.bump()?;
                    Tok::Punct(b'[')
                }
            },
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let mut name = String::new();
                while let Some(c) = self.s.peek()? {
                    let dotted = c == b'.'
                        && self
                            .s
                            .peek_at(1)?
                            .is_some_and(|n| n.is_ascii_alphabetic() || n == b'_');
                    if c.is_ascii_alphanumeric() || c == b'_' || dotted {
                        name.push(c as char);
                        self.s.bump()?;
                    } else {
                        break;
                    }
                }
                Tok::Name(name)
            }
            c if c.is_ascii_digit()
                || (c == b'.' && self.s.peek_at(1)?.is_some_and(|d| d.is_ascii_digit())) =>
            {
                let mut text = String::new();
                while let Some(c) = self.s.peek()? {
                    let sign = (c == b'-' || c == b'+')
                        && text.ends_with(['e', 'E'])
                        && !text.starts_with("0x");
                    if c.is_ascii_alphanumeric() || c == b'.' || sign {
                        text.push(c as char);
                        self.s.bump()?;
                    } else {
                        break;
                    }
                }
                let value = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
                    Some(hex) => i64::from_str_radix(hex, 16).ok().map(|v| v as f64),
                    None => text.parse::<f64>().ok(),
                }
                .ok_or_else(|| SceneError::syntax(at, format!("malformed number {text:?}")))?;
                Tok::Num(value, (at.offset, self.s.pos().offset))
            }
            _ => {
                self.s.bump()?;
                Tok::Punct(c)
            }
        };
        Ok((tok, at))
    }

    fn string(&mut self, q: u8, at: Pos) -> Result<Tok, SceneError> {
        self.s.bump()?;
        let mut out = Vec::new();
        loop {
            let Some(c) = self.s.bump()? else {
                return Err(SceneError::syntax(
                    at,
                    "unterminated string: expected a closing quote before the end of the file",
                ));
            };
            match c {
                c if c == q => break,
                b'\n' => {
                    return Err(SceneError::syntax(
                        at,
                        "unterminated string: expected a closing quote on the same line",
                    ))
                }
                b'\\' => self.escape(&mut out, at)?,
                c => out.push(c),
            }
        }
        let quoting = if q == b'"' {
            Quoting::LuaDouble
        } else {
            Quoting::LuaSingle
        };
        Ok(Tok::Str(path_text(out, at, self.s.pos().offset, quoting)))
    }

    fn escape(&mut self, out: &mut Vec<u8>, at: Pos) -> Result<(), SceneError> {
        let Some(e) = self.s.bump()? else {
            return Err(SceneError::syntax(at, "unterminated string escape"));
        };
        match e {
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'v' => out.push(11),
            b'\n' => out.push(b'\n'),
            b'z' => {
                while self.s.peek()?.is_some_and(|c| c.is_ascii_whitespace()) {
                    self.s.bump()?;
                }
            }
            b'x' => {
                let mut v = 0u32;
                for _ in 0..2 {
                    let d = self
                        .s
                        .bump()?
                        .and_then(|c| (c as char).to_digit(16))
                        .ok_or_else(|| {
                            SceneError::syntax(at, "bad \\x escape: expected two hex digits")
                        })?;
                    v = v * 16 + d;
                }
                out.push(v as u8);
            }
            b'0'..=b'9' => {
                let mut v = u32::from(e - b'0');
                for _ in 0..2 {
                    match self.s.peek()? {
                        Some(d) if d.is_ascii_digit() => {
                            v = v * 10 + u32::from(d - b'0');
                            self.s.bump()?;
                        }
                        _ => break,
                    }
                }
                let b = u8::try_from(v).map_err(|_| {
                    SceneError::syntax(at, format!("bad escape \\{v}: expected a value up to 255"))
                })?;
                out.push(b);
            }
            b'u' => {
                if self.s.bump()? != Some(b'{') {
                    return Err(SceneError::syntax(at, "bad \\u escape: expected \\u{XXXX}"));
                }
                let mut v = 0u32;
                loop {
                    match self.s.bump()? {
                        Some(b'}') => break,
                        Some(c) if (c as char).is_ascii_hexdigit() && v < 0x11_0000 => {
                            v = v * 16 + (c as char).to_digit(16).unwrap_or(0);
                        }
                        _ => {
                            return Err(SceneError::syntax(
                                at,
                                "bad \\u escape: expected \\u{XXXX}",
                            ))
                        }
                    }
                }
                let ch = char::from_u32(v).ok_or_else(|| {
                    SceneError::syntax(at, format!("bad \\u escape: {v:#x} is no character"))
                })?;
                let mut buf = [0u8; 4];
                out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
            }
            other => out.push(other),
        }
        Ok(())
    }
}

fn path_text(bytes: Vec<u8>, at: Pos, end: u64, quoting: Quoting) -> PathText {
    let (text, lossy) = match String::from_utf8(bytes) {
        Ok(s) => (s, false),
        Err(e) => (String::from_utf8_lossy(e.as_bytes()).into_owned(), true),
    };
    PathText {
        text,
        span: (at.offset, end),
        quoting,
        line: at.line,
        lossy,
    }
}

struct Parser<R> {
    lex: Lexer<R>,
    peeked: Option<(Tok, Pos)>,
}

impl<R: Read> Parser<R> {
    fn peek(&mut self) -> Result<&(Tok, Pos), SceneError> {
        if self.peeked.is_none() {
            self.peeked = Some(self.lex.next()?);
        }
        Ok(self.peeked.as_ref().expect("just filled"))
    }

    fn take(&mut self) -> Result<(Tok, Pos), SceneError> {
        match self.peeked.take() {
            Some(t) => Ok(t),
            None => self.lex.next(),
        }
    }

    fn expect(&mut self, c: u8, what: &str) -> Result<(), SceneError> {
        let (t, at) = self.take()?;
        if t != Tok::Punct(c) {
            return Err(SceneError::syntax(
                at,
                format!("expected '{}' {what}, found {}", c as char, describe(&t)),
            ));
        }
        Ok(())
    }

    fn value(&mut self, depth: usize) -> Result<Lua, SceneError> {
        let (t, at) = self.take()?;
        if depth > MAX_DEPTH {
            return Err(SceneError::syntax(
                at,
                format!("tables nested deeper than {MAX_DEPTH} levels"),
            ));
        }
        match t {
            Tok::Str(s) => Ok(Lua::Str(s)),
            Tok::Num(n, span) => Ok(Lua::Num(n, span)),
            Tok::Punct(b'-') => match self.take()? {
                (Tok::Num(n, (_, end)), _) => Ok(Lua::Num(-n, (at.offset, end))),
                (t, at) => Err(SceneError::syntax(
                    at,
                    format!("expected a number after '-', found {}", describe(&t)),
                )),
            },
            Tok::Punct(b'{') => Ok(Lua::Table(self.table(None, at, depth)?)),
            Tok::Name(n) if n == "true" => Ok(Lua::Bool(true)),
            Tok::Name(n) if n == "false" => Ok(Lua::Bool(false)),
            Tok::Name(n) => {
                let mut args = Vec::new();
                if self.peek()?.0 == Tok::Punct(b'(') {
                    self.take()?;
                    while self.peek()?.0 != Tok::Punct(b')') {
                        args.push((None, self.value(depth + 1)?));
                        if self.peek()?.0 == Tok::Punct(b',') {
                            self.take()?;
                        }
                    }
                    self.take()?;
                    if self.peek()?.0 != Tok::Punct(b'{') {
                        return Ok(Lua::Table(Table {
                            ctor: Some(n),
                            fields: args,
                            line: at.line,
                        }));
                    }
                }
                if self.peek()?.0 == Tok::Punct(b'{') {
                    let (_, open) = self.take()?;
                    return Ok(Lua::Table(self.table(Some(n), open, depth)?));
                }
                Ok(Lua::Name(n))
            }
            t => Err(SceneError::syntax(
                at,
                format!("expected a value, found {}", describe(&t)),
            )),
        }
    }

    /// The fields of a table whose `{` was just read.
    fn table(
        &mut self,
        ctor: Option<String>,
        open: Pos,
        depth: usize,
    ) -> Result<Table, SceneError> {
        let mut t = Table {
            ctor,
            fields: Vec::new(),
            line: open.line,
        };
        loop {
            let (tok, at) = self.peek()?.clone();
            match tok {
                Tok::Punct(b'}') => {
                    self.take()?;
                    return Ok(t);
                }
                Tok::Punct(b',') | Tok::Punct(b';') => {
                    self.take()?;
                }
                Tok::Eof => {
                    return Err(SceneError::syntax(
                        open,
                        "table not closed: expected '}' before the end of the file",
                    ))
                }
                Tok::Punct(b'[') => {
                    self.take()?;
                    let key = match self.value(depth + 1)? {
                        Lua::Str(s) => s.text,
                        Lua::Num(n, _) => n.to_string(),
                        _ => {
                            return Err(SceneError::syntax(
                                at,
                                "expected a string or number key in [ ]",
                            ))
                        }
                    };
                    self.expect(b']', "after a [key]")?;
                    self.expect(b'=', "after a [key]")?;
                    let v = self.value(depth + 1)?;
                    t.fields.push((Some(key), v));
                }
                Tok::Name(name) => {
                    self.take()?;
                    if self.peek()?.0 == Tok::Punct(b'=') {
                        self.take()?;
                        let v = self.value(depth + 1)?;
                        t.fields.push((Some(name), v));
                    } else {
                        // A positional value that starts with a name (`Clip { … }`, `true`).
                        self.peeked_name(name, at, depth, &mut t)?;
                    }
                }
                _ => {
                    let v = self.value(depth + 1)?;
                    t.fields.push((None, v));
                }
            }
        }
    }

    fn peeked_name(
        &mut self,
        name: String,
        at: Pos,
        depth: usize,
        t: &mut Table,
    ) -> Result<(), SceneError> {
        // Put the name back in front of whatever follows it and parse it as a value.
        let rest = self.peeked.take();
        self.peeked = Some((Tok::Name(name), at));
        let v = {
            let (tok, at) = self.take()?;
            self.peeked = rest;
            match tok {
                Tok::Name(n) if n == "true" => Lua::Bool(true),
                Tok::Name(n) if n == "false" => Lua::Bool(false),
                Tok::Name(n) if n == "nil" => Lua::Name(n),
                Tok::Name(n) => {
                    if self.peek()?.0 == Tok::Punct(b'{') {
                        let (_, open) = self.take()?;
                        Lua::Table(self.table(Some(n), open, depth + 1)?)
                    } else if self.peek()?.0 == Tok::Punct(b'(') {
                        self.peeked_call(n, at, depth)?
                    } else {
                        Lua::Name(n)
                    }
                }
                _ => Lua::Name(String::new()),
            }
        };
        t.fields.push((None, v));
        Ok(())
    }

    fn peeked_call(&mut self, n: String, at: Pos, depth: usize) -> Result<Lua, SceneError> {
        self.take()?;
        let mut args = Vec::new();
        while self.peek()?.0 != Tok::Punct(b')') {
            if self.peek()?.0 == Tok::Eof {
                return Err(SceneError::syntax(at, "call not closed: expected ')'"));
            }
            args.push((None, self.value(depth + 1)?));
            if self.peek()?.0 == Tok::Punct(b',') {
                self.take()?;
            }
        }
        self.take()?;
        if self.peek()?.0 == Tok::Punct(b'{') {
            let (_, open) = self.take()?;
            return Ok(Lua::Table(self.table(Some(n), open, depth + 1)?));
        }
        Ok(Lua::Table(Table {
            ctor: Some(n),
            fields: args,
            line: at.line,
        }))
    }
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Name(n) => format!("{n:?}"),
        Tok::Str(s) => format!("string {:?}", s.text),
        Tok::Num(n, _) => format!("number {n}"),
        Tok::Punct(c) => format!("'{}'", *c as char),
        Tok::Eof => "the end of the file".into(),
    }
}

/// Reads a comp or setting.
pub(crate) fn read<R: Read>(s: Stream<R>) -> Result<(SceneSettings, Vec<MediaNode>), SceneError> {
    let mut p = Parser {
        lex: Lexer { s },
        peeked: None,
    };
    let top = match p.value(0)? {
        Lua::Table(t) => t,
        _ => {
            return Err(SceneError::syntax(
                Pos {
                    offset: 0,
                    line: 1,
                    column: 1,
                },
                "expected a Lua table: Composition { … } or { Tools = ordered() { … } }",
            ))
        }
    };
    let (t, at) = p.take()?;
    if t != Tok::Eof {
        return Err(SceneError::syntax(
            at,
            format!(
                "expected the end of the file after the table, found {}",
                describe(&t)
            ),
        ));
    }
    let mut settings = SceneSettings::default();
    if let Some(r) = top
        .table("RenderRange")
        .or_else(|| top.table("GlobalRange"))
    {
        if let [(_, Lua::Num(a, _)), (_, Lua::Num(b, _))] = r.fields.as_slice() {
            settings.range = span_set(*a as i64, *b as i64);
        }
    }
    if let Some(ff) = top
        .table("Prefs")
        .and_then(|p| p.table("Comp"))
        .and_then(|c| c.table("FrameFormat"))
    {
        settings.width = ff.num("Width").map(|(w, _)| w as u32).filter(|w| *w > 0);
        settings.height = ff.num("Height").map(|(h, _)| h as u32).filter(|h| *h > 0);
        settings.fps = ff.num("Rate").map(|(r, _)| r).filter(|r| *r > 0.0);
    }
    let mut nodes = Vec::new();
    if let Some(tools) = top.table("Tools") {
        walk_tools(tools, "", &settings, &mut nodes);
    }
    Ok((settings, nodes))
}

fn walk_tools(tools: &Table, prefix: &str, settings: &SceneSettings, out: &mut Vec<MediaNode>) {
    for (name, v) in &tools.fields {
        let (Some(name), Lua::Table(tool)) = (name, v) else {
            continue;
        };
        let full = format!("{prefix}{name}");
        match tool.ctor.as_deref().unwrap_or("") {
            "GroupOperator" | "MacroOperator" => {
                if let Some(inner) = tool.table("Tools") {
                    walk_tools(inner, &format!("{full}."), settings, out);
                }
            }
            "Loader" => loader(tool, &full, out),
            "Saver" => saver(tool, &full, settings, out),
            "MediaIn" => media_in(tool, &full, out),
            ctor if file_input_of(ctor).is_some() => file_tool(tool, ctor, &full, out),
            "MediaOut" => out.push(MediaNode {
                name: full,
                class: "MediaOut".into(),
                kind: NodeKind::Output,
                line: tool.line,
                path: None,
                also: Vec::new(),
                cache_name: None,
                range: settings.range.clone(),
                media_frames: None,
                flags: NodeFlags {
                    disabled: tool.truthy("PassThrough"),
                    has_input: Some(input_connected(tool)),
                    ..NodeFlags::default()
                },
                range_fields: Vec::new(),
            }),
            _ => {}
        }
    }
}

fn input_connected(tool: &Table) -> bool {
    tool.table("Inputs")
        .and_then(|i| i.table("Input"))
        .is_some_and(|i| i.get("SourceOp").is_some())
}

fn int_input(tool: &Table, key: &str) -> Option<(i64, (u64, u64))> {
    match tool.input_value(key) {
        Some(Lua::Num(n, span)) => Some((*n as i64, *span)),
        _ => None,
    }
}

fn flags_for(path: &PathText) -> NodeFlags {
    NodeFlags {
        expression: looks_like_expression(Dcc::Fusion, &path.text),
        ..NodeFlags::default()
    }
}

fn loader(tool: &Table, name: &str, out: &mut Vec<MediaNode>) {
    let clips: Vec<&Table> = tool
        .table("Clips")
        .map(|c| {
            c.fields
                .iter()
                .filter_map(|(_, v)| match v {
                    Lua::Table(t) if t.ctor.as_deref() == Some("Clip") => Some(t),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    let global_in = int_input(tool, "GlobalIn");
    let global_out = int_input(tool, "GlobalOut");
    let looped = int_input(tool, "Loop").is_some_and(|(v, _)| v != 0);
    let reversed = int_input(tool, "Reverse").is_some_and(|(v, _)| v != 0);
    let many = clips.len() > 1;
    for (i, clip) in clips.iter().enumerate() {
        let Some(Lua::Str(path)) = clip.get("Filename") else {
            continue;
        };
        let int = |k: &str| clip.num(k).map(|(v, span)| (v as i64, span));
        let mut fields = Vec::new();
        for k in [
            "StartFrame",
            "Length",
            "TrimIn",
            "TrimOut",
            "GlobalStart",
            "GlobalEnd",
        ] {
            if let Some((v, span)) = int(k) {
                fields.push(RangeField {
                    name: k.into(),
                    value: v,
                    span,
                });
            }
        }
        if !many {
            for (k, v) in [("GlobalIn", global_in), ("GlobalOut", global_out)] {
                if let Some((v, span)) = v {
                    fields.push(RangeField {
                        name: k.into(),
                        value: v,
                        span,
                    });
                }
            }
        }
        let gs = int("GlobalStart").map(|v| v.0);
        let ge = int("GlobalEnd").map(|v| v.0);
        let range = match (
            global_in.filter(|_| !many),
            global_out.filter(|_| !many),
            gs,
            ge,
        ) {
            (Some(a), Some(b), _, _) => span_set(a.0, b.0),
            (_, _, Some(a), Some(b)) => span_set(a, b),
            _ => None,
        };
        let start = int("StartFrame").map(|v| v.0);
        let media_frames = match (start, int("TrimIn"), int("TrimOut")) {
            (Some(s), Some(a), Some(b)) => span_set(s.saturating_add(a.0), s.saturating_add(b.0)),
            _ => None,
        };
        let mut flags = flags_for(path);
        flags.disabled = tool.truthy("PassThrough");
        flags.looped = looped || clip.truthy("Loop");
        flags.reversed = reversed || clip.truthy("Reverse");
        flags.sequence = true;
        out.push(MediaNode {
            name: if many {
                format!("{name}[{}]", i + 1)
            } else {
                name.to_string()
            },
            class: "Loader".into(),
            kind: NodeKind::Input,
            line: tool.line,
            path: Some(path.clone()),
            also: Vec::new(),
            cache_name: None,
            range,
            media_frames,
            flags,
            range_fields: fields,
        });
    }
}

fn saver(tool: &Table, name: &str, settings: &SceneSettings, out: &mut Vec<MediaNode>) {
    let path = match tool.input_value("Clip") {
        Some(Lua::Table(c)) => match c.get("Filename") {
            Some(Lua::Str(s)) => Some(s.clone()),
            _ => None,
        },
        Some(Lua::Str(s)) => Some(s.clone()),
        _ => None,
    };
    let mut flags = path.as_ref().map(flags_for).unwrap_or_default();
    flags.disabled = tool.truthy("PassThrough");
    flags.has_input = Some(input_connected(tool));
    out.push(MediaNode {
        name: name.to_string(),
        class: "Saver".into(),
        kind: NodeKind::Output,
        line: tool.line,
        path,
        also: Vec::new(),
        cache_name: None,
        range: settings.range.clone(),
        media_frames: None,
        flags,
        range_fields: Vec::new(),
    });
}

/// Tools that read one file named by an input, with that input and what the file is. The
/// input names are the ones Fusion saves (`ImportFile = Input { Value = "…" }`).
fn file_input_of(ctor: &str) -> Option<(&'static str, NodeKind)> {
    Some(match ctor {
        "SurfaceFBXMesh" => ("ImportFile", NodeKind::Geometry),
        "SurfaceAlembicMesh" | "AlembicMesh3D" | "AlembicMesh" => ("Filename", NodeKind::Geometry),
        "uLoader" | "uVolume" | "uImagePlane" => ("Filename", NodeKind::Geometry),
        "uMaterialX" => ("MaterialFile", NodeKind::Texture),
        "FileLUT" | "OCIOFileTransform" => ("LUTFile", NodeKind::Input),
        _ => return None,
    })
}

/// A tool of [`file_input_of`]: a node when its input holds a string (an animated or
/// connected input names no file and is left out).
fn file_tool(tool: &Table, ctor: &str, name: &str, out: &mut Vec<MediaNode>) {
    let Some((input, kind)) = file_input_of(ctor) else {
        return;
    };
    let Some(Lua::Str(path)) = tool.input_value(input) else {
        return;
    };
    let mut flags = flags_for(path);
    flags.disabled = tool.truthy("PassThrough");
    out.push(MediaNode {
        name: name.to_string(),
        class: ctor.to_string(),
        kind,
        line: tool.line,
        path: Some(path.clone()),
        also: Vec::new(),
        cache_name: None,
        range: None,
        media_frames: None,
        flags,
        range_fields: Vec::new(),
    });
}

fn media_in(tool: &Table, name: &str, out: &mut Vec<MediaNode>) {
    let props = tool.table("CustomData").and_then(|c| c.table("MediaProps"));
    let Some(Lua::Str(path)) = props.and_then(|p| p.get("MEDIA_PATH")) else {
        return;
    };
    let range = match (int_input(tool, "GlobalIn"), int_input(tool, "GlobalOut")) {
        (Some(a), Some(b)) => span_set(a.0, b.0),
        _ => None,
    };
    let mut flags = flags_for(path);
    flags.disabled = tool.truthy("PassThrough");
    flags.sequence = true;
    out.push(MediaNode {
        name: name.to_string(),
        class: "MediaIn".into(),
        kind: NodeKind::Input,
        line: tool.line,
        path: Some(path.clone()),
        also: Vec::new(),
        cache_name: None,
        range,
        media_frames: None,
        flags,
        range_fields: Vec::new(),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const COMP: &str = r#"Composition {
	CurrentTime = 1001,
	RenderRange = { 1001, 1100 },
	GlobalRange = { 1001, 1100 },
	CurrentID = 12,
	Version = "Fusion Studio 18.6.4 build 6",
	SavedOutputs = 1,
	-- a comment with "quotes" and { braces
	Tools = ordered() {
		Plate = Loader {
			Clips = {
				Clip {
					ID = "Clip1",
					Filename = "P:\\demo\\shots\\SH010\\plate\\v002\\SH010_plate_v002.1001.exr",
					FormatID = "OpenEXRFormat",
					StartFrame = 1001,
					Length = 100,
					LengthSetManually = true,
					TrimIn = 0,
					TrimOut = 99,
					ExtendFirst = 0,
					ExtendLast = 0,
					Loop = 0,
					AspectMode = 0,
					Depth = 0,
					TimeCode = 0,
					GlobalStart = 1001,
					GlobalEnd = 1100
				}
			},
			Inputs = {
				["Gamut.SLogVersion"] = Input { Value = FuID { "SLog2" }, },
				GlobalIn = Input { Value = 1001, },
				GlobalOut = Input { Value = 1100, },
			},
			ViewInfo = OperatorInfo { Pos = { 110, 49.5 } },
		},
		Grp = GroupOperator {
			Tools = ordered() {
				Bg = Loader {
					Clips = { Clip { ID = "Clip1", Filename = [[/mnt/ünï/bg.0001.exr]], StartFrame = 1, Length = 10, TrimIn = 2, TrimOut = 9, GlobalStart = 0, GlobalEnd = 7, }, },
					PassThrough = true,
				},
			},
		},
		Out = Saver {
			PassThrough = true,
			Inputs = {
				Clip = Input {
					Value = Clipname {
						Filename = 'Comp:\\renders\\out.0000.exr',
						FormatID = "OpenEXRFormat",
					},
				},
			},
		}
	},
	Prefs = { Comp = { FrameFormat = { Name = "HDTV 1080", Width = 1920, Height = 1080, Rate = 24, }, }, },
}
"#;

    #[test]
    fn reads_loaders_savers_groups_and_settings() {
        let (settings, nodes) = read(Stream::new(COMP.as_bytes())).unwrap();
        assert_eq!(settings.range.unwrap().to_string(), "1001-1100");
        assert_eq!(
            (settings.width, settings.height, settings.fps),
            (Some(1920), Some(1080), Some(24.0))
        );
        assert_eq!(nodes.len(), 3);
        let plate = &nodes[0];
        assert_eq!(plate.name, "Plate");
        let p = plate.path.as_ref().unwrap();
        assert_eq!(
            p.text,
            "P:\\demo\\shots\\SH010\\plate\\v002\\SH010_plate_v002.1001.exr"
        );
        let (a, b) = p.span;
        assert_eq!(
            &COMP[a as usize..b as usize],
            "\"P:\\\\demo\\\\shots\\\\SH010\\\\plate\\\\v002\\\\SH010_plate_v002.1001.exr\""
        );
        assert_eq!(
            plate.media_frames.as_ref().unwrap().to_string(),
            "1001-1100"
        );
        assert_eq!(plate.range_fields.len(), 8);
        let f = &plate.range_fields[3];
        assert_eq!(
            (f.name.as_str(), &COMP[f.span.0 as usize..f.span.1 as usize]),
            ("TrimOut", "99")
        );
        let bg = &nodes[1];
        assert_eq!(bg.name, "Grp.Bg");
        assert!(bg.flags.disabled);
        assert_eq!(bg.path.as_ref().unwrap().text, "/mnt/ünï/bg.0001.exr");
        assert_eq!(bg.media_frames.as_ref().unwrap().to_string(), "3-10");
        let out = &nodes[2];
        assert_eq!(out.kind, NodeKind::Output);
        assert_eq!(out.flags.has_input, Some(false));
        assert!(out.flags.disabled && out.flags.expression);
    }

    #[test]
    fn errors_name_line_and_column() {
        let e = read(Stream::new(
            &b"Composition {\n  Tools = ordered() {\n    A = Loader { Clips = { \"x }\n"[..],
        ))
        .unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains(":3:"), "{msg}");
        let e = read(Stream::new(&b"{ a = }"[..])).unwrap_err().to_string();
        assert!(e.contains("expected a value"), "{e}");
        let deep = "{".repeat(500);
        assert!(read(Stream::new(deep.as_bytes())).is_err());
    }
}
