//! The one template language: `{field}`, `{field:REGEX}`, `[optional groups]` and literal text.
//!
//! A template is compiled once. Formatting substitutes checked values and drops an optional
//! group when a field inside it is absent. Parsing goes the other way, component by component,
//! so a tree can be walked level by level and pruned where the template cannot match: an
//! optional group that spans a `/` (`shots/[{sequence}/]{shot}`) makes the template a small set
//! of *variants*, each with a fixed number of components.

use std::path::{Component, Path};

use regex::Regex;

use crate::component::{check_component, check_inside, UnsafeComponent};
use crate::field::{Field, Fields};

/// A template that does not compile; names the template and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("layout template {name:?} ({text:?}): {message}")]
pub struct TemplateError {
    /// The template's name (`shot_version`).
    pub name: String,
    /// The template text.
    pub text: String,
    /// What is wrong and what was expected.
    pub message: String,
}

/// Why a template could not format a path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// A field outside any optional group has no value.
    #[error("layout template {template:?} needs {{{field}}} but it has no value")]
    Missing {
        /// The template's name.
        template: String,
        /// The field.
        field: Field,
    },
    /// A value is not a safe path component, or the result leaves the root.
    #[error("layout template {template:?}: {source}")]
    Unsafe {
        /// The template's name.
        template: String,
        /// The check that failed (names the field and value).
        source: UnsafeComponent,
    },
    /// The layout has no template for what was asked (no `asset_version` in a custom layout).
    #[error("the layout has no template {0:?}")]
    NoTemplate(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Lit(String),
    Field { field: Field, re: Option<String> },
    Opt(Vec<Part>),
}

/// One path component of one variant, with its regex compiled for the case where none of its
/// fields is known yet.
#[derive(Debug, Clone)]
struct Segment {
    parts: Vec<Part>,
    free: Regex,
    groups: Vec<Field>,
}

/// One way the template can spell a path: a fixed number of components.
#[derive(Debug, Clone)]
pub struct Variant {
    segments: Vec<Segment>,
}

/// One compiled template.
#[derive(Debug, Clone)]
pub struct Template {
    name: String,
    text: String,
    parts: Vec<Part>,
    variants: Vec<Variant>,
}

impl Template {
    /// Compiles `text` (named `name` in errors).
    pub fn compile(name: &str, text: &str) -> Result<Template, TemplateError> {
        let bad = |message: String| TemplateError {
            name: name.into(),
            text: text.into(),
            message,
        };
        if text.is_empty() || text.starts_with('/') || text.ends_with('/') {
            return Err(bad(
                "expected a relative path such as \"shots/{shot}/{step}/v{version}\"".into(),
            ));
        }
        let parts = lex(text).map_err(bad)?;
        check_adjacent(&parts).map_err(bad)?;
        let mut variants = Vec::new();
        for flat in expand(&parts) {
            let mut segments = Vec::new();
            for comp in split_components(flat) {
                if is_dot_component(&comp) {
                    return Err(bad("a component is empty, \".\" or \"..\"".into()));
                }
                segments.push(Segment::new(comp).map_err(bad)?);
            }
            variants.push(Variant { segments });
        }
        let t = Template {
            name: name.into(),
            text: text.into(),
            parts,
            variants,
        };
        if t.fields().is_empty() {
            return Err(bad("expected at least one {field}, e.g. {shot}".into()));
        }
        Ok(t)
    }

    /// The name it has in its layout.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The text it was compiled from.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The ways it can spell a path (one unless an optional group spans a `/`).
    pub fn variants(&self) -> &[Variant] {
        &self.variants
    }

    /// Fields in order of first appearance.
    pub fn fields(&self) -> Vec<Field> {
        let mut out = Vec::new();
        collect_fields(&self.parts, &mut out);
        out
    }

    /// True when the last component of every variant uses `field`.
    pub fn last_component_has(&self, field: Field) -> bool {
        self.variants.iter().all(|v| {
            v.segments
                .last()
                .is_some_and(|s| s.fields().contains(&field))
        })
    }

    /// True when `field` appears in any component but the last.
    pub fn above_last_has(&self, field: Field) -> bool {
        self.variants.iter().any(|v| {
            let n = v.segments.len().saturating_sub(1);
            v.segments[..n].iter().any(|s| s.fields().contains(&field))
        })
    }

    /// Formats `fields`: every substituted value must be a safe path component (the error
    /// names the field and value) and the result must stay inside the root (no `..`).
    pub fn format(&self, fields: &Fields) -> Result<String, FormatError> {
        let mut out = String::new();
        render(&self.parts, fields, &mut out).map_err(|e| match e {
            RenderError::Missing(field) => FormatError::Missing {
                template: self.name.clone(),
                field,
            },
            RenderError::Unsafe(source) => FormatError::Unsafe {
                template: self.name.clone(),
                source,
            },
        })?;
        check_inside(Path::new(""), Path::new(&out)).map_err(|source| FormatError::Unsafe {
            template: self.name.clone(),
            source,
        })?;
        Ok(out)
    }

    /// Parses a relative path (all of its components) back into fields.
    pub fn parse(&self, rel: &Path) -> Option<Fields> {
        let names = component_names(rel)?;
        self.variants
            .iter()
            .filter(|v| v.depth() == names.len())
            .find_map(|v| v.parse_names(&names, Fields::default()))
    }

    /// Parses the first components of `rel` (as many as each variant has) against every
    /// variant; returns each variant that fits with its fields. A prefix can be ambiguous
    /// (`shots/X` is a sequence or a shot), so the caller walks on with each.
    pub fn parse_prefix(&self, rel: &Path) -> Vec<(&Variant, Fields)> {
        let Some(names) = component_names(rel) else {
            return Vec::new();
        };
        self.variants
            .iter()
            .filter_map(|v| {
                let n = names.len().min(v.depth());
                v.parse_names(&names[..n], Fields::default())
                    .map(|f| (v, f))
            })
            .collect()
    }
}

impl Variant {
    /// Number of path components.
    pub fn depth(&self) -> usize {
        self.segments.len()
    }

    /// Component `i` when it is plain text (no listing needed to find it).
    pub fn literal(&self, i: usize) -> Option<&str> {
        match self.segments.get(i)?.parts.as_slice() {
            [Part::Lit(s)] => Some(s),
            _ => None,
        }
    }

    /// How many components lead to the folder `field` is first named in (1-based).
    pub fn field_depth(&self, field: Field) -> Option<usize> {
        self.segments
            .iter()
            .position(|s| s.fields().contains(&field))
            .map(|i| i + 1)
    }

    /// The field that names the folder at component `i` (0-based): of the fields first seen
    /// there, the innermost, with resource and state (qualifiers) only when nothing else is
    /// new. `{project}_S_{shot}` names a shot folder; `[{resource}_]v{version}` a version.
    pub fn naming_field(&self, i: usize) -> Option<Field> {
        let earlier: Vec<Field> = self
            .segments
            .get(..i)?
            .iter()
            .flat_map(Segment::fields)
            .collect();
        let rank = |f: &Field| match f {
            Field::Resource | Field::State => 0,
            f => 1 + Field::ALL.iter().position(|g| g == f).unwrap_or(0),
        };
        self.segments
            .get(i)?
            .fields()
            .into_iter()
            .filter(|f| !earlier.contains(f))
            .max_by_key(rank)
    }

    /// Fields in order of first appearance.
    pub fn fields(&self) -> Vec<Field> {
        let mut out = Vec::new();
        for s in &self.segments {
            collect_fields(&s.parts, &mut out);
        }
        out
    }

    /// Matches component `i` against `name`, given the fields known so far (a repeated field,
    /// such as Ramses' project code in every folder name, must repeat the same value); returns
    /// all fields, or `None` when the name cannot be this component.
    pub fn match_component(&self, i: usize, name: &str, known: &Fields) -> Option<Fields> {
        self.segments.get(i)?.matches(name, known)
    }

    fn parse_names(&self, names: &[&str], mut fields: Fields) -> Option<Fields> {
        for (i, name) in names.iter().enumerate() {
            fields = self.match_component(i, name, &fields)?;
        }
        Some(fields)
    }
}

impl Segment {
    fn new(parts: Vec<Part>) -> Result<Segment, String> {
        let mut groups = Vec::new();
        let src = regex_source(&parts, &Fields::default(), &mut groups);
        let free = Regex::new(&src).map_err(|e| format!("field regex does not compile: {e}"))?;
        Ok(Segment {
            parts,
            free,
            groups,
        })
    }

    fn fields(&self) -> Vec<Field> {
        let mut out = Vec::new();
        collect_fields(&self.parts, &mut out);
        out
    }

    fn matches(&self, name: &str, known: &Fields) -> Option<Fields> {
        let bound = self.fields().into_iter().any(|f| known.get(f).is_some());
        let owned;
        let (re, groups) = if bound {
            let mut groups = Vec::new();
            owned = (
                Regex::new(&regex_source(&self.parts, known, &mut groups)).ok()?,
                groups,
            );
            (&owned.0, owned.1.as_slice())
        } else {
            (&self.free, self.groups.as_slice())
        };
        let caps = re.captures(name)?;
        let mut out = known.clone();
        for (i, field) in groups.iter().enumerate() {
            let Some(m) = caps.name(&format!("f{i}")) else {
                continue;
            };
            match out.get(*field) {
                Some(v) if v != m.as_str() => return None,
                Some(_) => {}
                None => out.set(*field, m.as_str()).ok()?,
            }
        }
        Some(out)
    }
}

/// `^…$` for one component; known fields become their escaped value, the rest capture groups
/// `f0`, `f1`, … (one per occurrence, listed in `groups`).
fn regex_source(parts: &[Part], known: &Fields, groups: &mut Vec<Field>) -> String {
    fn walk(parts: &[Part], known: &Fields, groups: &mut Vec<Field>, out: &mut String) {
        for p in parts {
            match p {
                Part::Lit(l) => out.push_str(&regex::escape(l)),
                Part::Field { field, re } => match known.get(*field) {
                    Some(v) => out.push_str(&regex::escape(&v)),
                    None => {
                        let re = re.as_deref().unwrap_or(field.default_regex());
                        out.push_str(&format!("(?P<f{}>{re})", groups.len()));
                        groups.push(*field);
                    }
                },
                Part::Opt(inner) => {
                    out.push_str("(?:");
                    walk(inner, known, groups, out);
                    out.push_str(")?");
                }
            }
        }
    }
    let mut out = String::from("^");
    walk(parts, known, groups, &mut out);
    out.push('$');
    out
}

enum RenderError {
    Missing(Field),
    Unsafe(UnsafeComponent),
}

fn render(parts: &[Part], fields: &Fields, out: &mut String) -> Result<(), RenderError> {
    for p in parts {
        match p {
            Part::Lit(s) => out.push_str(s),
            Part::Field { field, .. } => {
                let v = fields.get(*field).ok_or(RenderError::Missing(*field))?;
                check_value(*field, &v).map_err(RenderError::Unsafe)?;
                out.push_str(&v);
            }
            Part::Opt(inner) => {
                let mut s = String::new();
                match render(inner, fields, &mut s) {
                    Ok(()) => out.push_str(&s),
                    Err(RenderError::Missing(_)) => {}
                    Err(e) => return Err(e),
                }
            }
        }
    }
    Ok(())
}

/// Checks a value substituted for `field` as one safe path component. A negative frame number
/// (`-001` in `plate.-001.exr`) is a frame, not an option: its digits are what is checked.
fn check_value(field: Field, v: &str) -> Result<(), UnsafeComponent> {
    let digits = v.strip_prefix('-').filter(|d| {
        field == Field::Frame && !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit())
    });
    check_component(field.name(), digits.unwrap_or(v))
}

fn collect_fields(parts: &[Part], out: &mut Vec<Field>) {
    for p in parts {
        match p {
            Part::Field { field, .. } if !out.contains(field) => out.push(*field),
            Part::Opt(inner) => collect_fields(inner, out),
            _ => {}
        }
    }
}

/// Text into parts. `{…}` may hold a regex with braces of its own (`{version:\d{3}}`).
fn lex(text: &str) -> Result<Vec<Part>, String> {
    let mut stack: Vec<Vec<Part>> = vec![Vec::new()];
    let mut lit = String::new();
    let mut chars = text.chars();
    let flush = |lit: &mut String, stack: &mut Vec<Vec<Part>>| {
        if !lit.is_empty() {
            if let Some(top) = stack.last_mut() {
                top.push(Part::Lit(std::mem::take(lit)));
            }
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '{' => {
                flush(&mut lit, &mut stack);
                let inner = read_braced(&mut chars)?;
                let (name, re) = match inner.split_once(':') {
                    Some((n, r)) => (n.trim(), Some(r.to_string())),
                    None => (inner.trim(), None),
                };
                let field: Field = name
                    .parse()
                    .map_err(|e: crate::UnknownField| e.to_string())?;
                if let Some(r) = &re {
                    Regex::new(r)
                        .map_err(|e| format!("regex of {{{name}}} does not compile: {e}"))?;
                }
                if let Some(top) = stack.last_mut() {
                    top.push(Part::Field { field, re });
                }
            }
            '}' => return Err("'}' without '{'".into()),
            '[' => {
                flush(&mut lit, &mut stack);
                stack.push(Vec::new());
            }
            ']' => {
                flush(&mut lit, &mut stack);
                if stack.len() < 2 {
                    return Err("']' without '['".into());
                }
                let inner = stack.pop().unwrap_or_default();
                if let Some(top) = stack.last_mut() {
                    top.push(Part::Opt(inner));
                }
            }
            c => lit.push(c),
        }
    }
    flush(&mut lit, &mut stack);
    if stack.len() != 1 {
        return Err("unclosed '['".into());
    }
    Ok(stack.pop().unwrap_or_default())
}

fn read_braced(chars: &mut std::str::Chars<'_>) -> Result<String, String> {
    let mut inner = String::new();
    let mut depth = 1usize;
    for c in chars.by_ref() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Ok(inner);
                }
            }
            _ => {}
        }
        inner.push(c);
    }
    Err("unclosed '{'".into())
}

/// Two fields side by side (`{shot}{step}`) cannot be told apart when parsing.
fn check_adjacent(parts: &[Part]) -> Result<(), String> {
    for w in parts.windows(2) {
        if let [Part::Field { field: a, .. }, Part::Field { field: b, .. }] = w {
            return Err(format!(
                "{{{a}}}{{{b}}}: two fields side by side cannot be told apart; put a separator between them"
            ));
        }
    }
    for p in parts {
        if let Part::Opt(inner) = p {
            check_adjacent(inner)?;
        }
    }
    Ok(())
}

fn contains_slash(parts: &[Part]) -> bool {
    parts.iter().any(|p| match p {
        Part::Lit(l) => l.contains('/'),
        Part::Opt(inner) => contains_slash(inner),
        Part::Field { .. } => false,
    })
}

/// Every way of spelling `parts` when each optional group that spans a `/` is either present
/// or absent; groups within one component stay optional (`(?:…)?` when parsing).
fn expand(parts: &[Part]) -> Vec<Vec<Part>> {
    let mut out: Vec<Vec<Part>> = vec![Vec::new()];
    for p in parts {
        match p {
            Part::Opt(inner) if contains_slash(inner) => {
                let mut next = Vec::new();
                for prefix in &out {
                    for alt in expand(inner) {
                        let mut v = prefix.clone();
                        v.extend(alt);
                        next.push(v);
                    }
                    next.push(prefix.clone());
                }
                out = next;
            }
            p => out.iter_mut().for_each(|v| v.push(p.clone())),
        }
    }
    out
}

/// Splits a flat part list at each `/` of its literals.
fn split_components(parts: Vec<Part>) -> Vec<Vec<Part>> {
    let mut out: Vec<Vec<Part>> = vec![Vec::new()];
    for p in parts {
        match p {
            Part::Lit(l) => {
                let mut pieces = l.split('/');
                if let Some(first) = pieces.next() {
                    push_lit(&mut out, first);
                }
                for piece in pieces {
                    out.push(Vec::new());
                    push_lit(&mut out, piece);
                }
            }
            p => {
                if let Some(last) = out.last_mut() {
                    last.push(p);
                }
            }
        }
    }
    out
}

fn push_lit(out: &mut [Vec<Part>], text: &str) {
    if text.is_empty() {
        return;
    }
    if let Some(last) = out.last_mut() {
        match last.last_mut() {
            Some(Part::Lit(l)) => l.push_str(text),
            _ => last.push(Part::Lit(text.into())),
        }
    }
}

fn is_dot_component(parts: &[Part]) -> bool {
    match parts {
        [] => true,
        [Part::Lit(l)] => l == "." || l == "..",
        _ => false,
    }
}

fn component_names(rel: &Path) -> Option<Vec<&str>> {
    rel.components()
        .filter(|c| !matches!(c, Component::CurDir))
        .map(|c| match c {
            Component::Normal(n) => n.to_str(),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::VersionNumber;

    const SHOT_DIR: &str = "shots/[{sequence}/]{shot}/{step}/[{resource}_]v{version}";
    const SHOT_FILE: &str = "[{sequence}_]{shot}_{step}[_{resource}]_v{version}[.{frame}].{ext}";

    fn fields(shot: &str, step: &str, v: u32) -> Fields {
        Fields {
            shot: Some(shot.into()),
            step: Some(step.into()),
            version: VersionNumber::new(v),
            ..Fields::default()
        }
    }

    #[test]
    fn formats_with_optional_groups() {
        let d = Template::compile("d", SHOT_DIR).unwrap();
        let f = Template::compile("f", SHOT_FILE).unwrap();
        let mut x = fields("SH010", "PLATE", 3);
        x.ext = Some("mov".into());
        assert_eq!(d.format(&x).unwrap(), "shots/SH010/PLATE/v003");
        assert_eq!(f.format(&x).unwrap(), "SH010_PLATE_v003.mov");
        x.sequence = Some("SQ1".into());
        x.resource = Some("bg".into());
        x.frame = Some("1001".into());
        x.ext = Some("exr".into());
        assert_eq!(d.format(&x).unwrap(), "shots/SQ1/SH010/PLATE/bg_v003");
        assert_eq!(f.format(&x).unwrap(), "SQ1_SH010_PLATE_bg_v003.1001.exr");
    }

    #[test]
    fn format_refuses_unsafe_and_missing_values() {
        let d = Template::compile("shot_version", SHOT_DIR).unwrap();
        let e = d
            .format(&fields("../../etc", "PLATE", 1))
            .unwrap_err()
            .to_string();
        assert!(e.contains("shot") && e.contains("../../etc"), "{e}");
        let mut x = fields("SH010", "PLATE", 1);
        x.resource = Some("a/b".into());
        assert!(
            d.format(&x).is_err(),
            "an unsafe optional value is an error, not dropped"
        );
        x.resource = None;
        x.frame = Some("-001".into());
        x.ext = Some("exr".into());
        let f = Template::compile("shot_file", SHOT_FILE).unwrap();
        assert_eq!(f.format(&x).unwrap(), "SH010_PLATE_v001.-001.exr");
        x.frame = Some("-x".into());
        assert!(f.format(&x).is_err(), "only a negative number passes");
        x.step = None;
        let e = d.format(&x).unwrap_err().to_string();
        assert!(e.contains("{step}") && e.contains("shot_version"), "{e}");
    }

    #[test]
    fn parses_both_variants_back() {
        let d = Template::compile("d", SHOT_DIR).unwrap();
        assert_eq!(d.variants().len(), 2);
        let f = d.parse(Path::new("shots/SH010/PLATE/v003")).unwrap();
        assert_eq!(f, fields("SH010", "PLATE", 3));
        let f = d.parse(Path::new("shots/SQ1/SH010/PLATE/bg_v012")).unwrap();
        assert_eq!(f.sequence.as_deref(), Some("SQ1"));
        assert_eq!(f.resource.as_deref(), Some("bg"));
        assert_eq!(f.version, VersionNumber::new(12));
        assert!(d.parse(Path::new("shots/SH010/PLATE/final")).is_none());
        assert!(d.parse(Path::new("assets/SH010/PLATE/v001")).is_none());
    }

    #[test]
    fn repeated_fields_must_agree() {
        let t = Template::compile("s", "05-SHOTS/{project}_S_{shot}/{project}_S_{shot}_{step}")
            .unwrap();
        let f = t
            .parse(Path::new("05-SHOTS/PROJ_S_SH010_A/PROJ_S_SH010_A_COMP"))
            .unwrap();
        assert_eq!(f.shot.as_deref(), Some("SH010_A"));
        assert_eq!(f.step.as_deref(), Some("COMP"));
        assert!(t
            .parse(Path::new("05-SHOTS/PROJ_S_SH010/OTHER_S_SH010_COMP"))
            .is_none());
    }

    #[test]
    fn field_regex_restricts() {
        let t = Template::compile("v", "{show}/{shot:sh\\d{3}}").unwrap();
        assert!(t.parse(Path::new("a/sh012")).is_some());
        assert!(t.parse(Path::new("a/sh12")).is_none());
        assert_eq!(t.fields(), vec![Field::Project, Field::Shot]);
    }

    #[test]
    fn compile_errors_name_the_template() {
        for bad in [
            "",
            "/abs/{shot}",
            "shots/renders",
            "{shot}/{",
            "{shot}{step}",
            "{shott}",
            "{shot}/../x",
            "[{shot}",
            "{shot}]",
            "{shot:(}",
            "shots//{shot}",
        ] {
            let e = Template::compile("mine", bad).unwrap_err();
            assert!(e.to_string().contains("mine"), "{bad}: {e}");
        }
    }

    #[test]
    fn prefix_parsing_for_walks() {
        let d = Template::compile("d", SHOT_DIR).unwrap();
        let found = d.parse_prefix(Path::new("shots/SH010"));
        assert_eq!(found.len(), 2);
        let (v, f) = &found[1];
        assert_eq!(f.shot.as_deref(), Some("SH010"));
        assert_eq!(v.depth(), 4);
        assert_eq!(v.literal(0), Some("shots"));
        assert_eq!(v.field_depth(Field::Step), Some(3));
        assert_eq!(v.naming_field(0), None);
        assert_eq!(v.naming_field(3), Some(Field::Version));
        let r = Template::compile("r", "05-SHOTS/{project}_S_{shot}/{project}_S_{shot}_{step}")
            .unwrap();
        assert_eq!(r.variants()[0].naming_field(1), Some(Field::Shot));
        assert_eq!(r.variants()[0].naming_field(2), Some(Field::Step));
    }
}
