//! Path templates with named fields: `{show}/shots/{shot}/renders`. A template is compiled into
//! one matcher per path component, so a tree can be walked level by level (only descending where
//! the template allows) and a path can be parsed back into its fields.

use std::collections::BTreeMap;
use std::path::Path;

use regex::Regex;

use crate::QcError;

/// Field name → value, parsed from a path.
pub type Fields = BTreeMap<String, String>;

/// One compiled template.
#[derive(Debug, Clone)]
pub struct Template {
    /// The key it has under `layout.templates`.
    pub name: String,
    /// The template text.
    pub text: String,
    segments: Vec<Segment>,
}

#[derive(Debug, Clone)]
enum Part {
    Lit(String),
    Field { name: String, re: String },
}

#[derive(Debug, Clone)]
struct Segment {
    parts: Vec<Part>,
    /// Compiled with every field free; `None` for a purely literal component.
    regex: Option<Regex>,
}

impl Segment {
    fn literal(&self) -> Option<&str> {
        match self.parts.as_slice() {
            [Part::Lit(s)] => Some(s),
            _ => None,
        }
    }

    fn fields(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Field { name, .. } => Some(name.as_str()),
            Part::Lit(_) => None,
        })
    }

    /// Regex source; fields already bound become literals so a repeated `{show}` must repeat.
    fn source(&self, bound: &Fields) -> String {
        let mut s = String::from("^");
        for (i, p) in self.parts.iter().enumerate() {
            match p {
                Part::Lit(l) => s.push_str(&regex::escape(l)),
                Part::Field { name, re } => match bound.get(name) {
                    Some(v) => s.push_str(&regex::escape(v)),
                    None => s.push_str(&format!("(?P<f{i}>{re})")),
                },
            }
        }
        s.push('$');
        s
    }
}

impl Template {
    /// Compiles `text`; the error names the template and what is wrong.
    pub fn parse(name: &str, text: &str) -> Result<Template, QcError> {
        let bad = |message: String| QcError::Config {
            what: format!("layout template {name:?} ({text:?})"),
            message,
        };
        let trimmed = text.trim_end_matches('/');
        if trimmed.is_empty() || trimmed.starts_with('/') {
            return Err(bad(
                "expected a relative path such as \"{show}/shots/{shot}/renders\"".into(),
            ));
        }
        let mut segments = Vec::new();
        for comp in split_components(trimmed).map_err(bad)? {
            if comp.is_empty() || comp == "." || comp == ".." {
                return Err(bad(format!(
                    "empty, \".\" or \"..\" path component in {trimmed:?}"
                )));
            }
            let parts = parse_parts(&comp).map_err(bad)?;
            let regex = if parts.iter().all(|p| matches!(p, Part::Lit(_))) {
                None
            } else {
                let seg = Segment {
                    parts: parts.clone(),
                    regex: None,
                };
                Some(
                    Regex::new(&seg.source(&Fields::new()))
                        .map_err(|e| bad(format!("field regex does not compile: {e}")))?,
                )
            };
            segments.push(Segment { parts, regex });
        }
        let t = Template {
            name: name.to_string(),
            text: text.to_string(),
            segments,
        };
        if t.fields().is_empty() {
            return Err(bad(
                "expected at least one {field}, e.g. {show} or {shot}".into()
            ));
        }
        Ok(t)
    }

    /// Number of path components.
    pub fn depth(&self) -> usize {
        self.segments.len()
    }

    /// Field names in order of first appearance.
    pub fn fields(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for f in self.segments.iter().flat_map(|s| s.fields()) {
            if !out.contains(&f) {
                out.push(f);
            }
        }
        out
    }

    /// How many components lead to the directory that `field` names (1-based), e.g. `shot` in
    /// `{show}/shots/{shot}/renders` is 3.
    pub fn field_depth(&self, field: &str) -> Option<usize> {
        self.segments
            .iter()
            .position(|s| s.fields().any(|f| f == field))
            .map(|i| i + 1)
    }

    /// True when component `i` is a literal name (no listing needed to find it).
    pub(crate) fn literal(&self, i: usize) -> Option<&str> {
        self.segments.get(i).and_then(Segment::literal)
    }

    /// Matches component `i` against `name`, given the fields bound so far; returns all fields.
    pub(crate) fn match_component(&self, i: usize, name: &str, bound: &Fields) -> Option<Fields> {
        let seg = self.segments.get(i)?;
        if let Some(l) = seg.literal() {
            return (l == name).then(|| bound.clone());
        }
        let repeated = seg.fields().any(|f| bound.contains_key(f));
        let owned;
        let re = match (&seg.regex, repeated) {
            (Some(r), false) => r,
            _ => {
                owned = Regex::new(&seg.source(bound)).ok()?;
                &owned
            }
        };
        let caps = re.captures(name)?;
        let mut out = bound.clone();
        for (i, p) in seg.parts.iter().enumerate() {
            if let Part::Field { name: f, .. } = p {
                if let Some(m) = caps.name(&format!("f{i}")) {
                    match out.get(f) {
                        Some(v) if v != m.as_str() => return None,
                        _ => {
                            out.insert(f.clone(), m.as_str().to_string());
                        }
                    }
                }
            }
        }
        Some(out)
    }

    /// Parses the first `n` components of `rel` (all of them when shorter than the template);
    /// `None` when they do not fit.
    pub fn parse_prefix(&self, rel: &Path) -> Option<Fields> {
        let mut fields = Fields::new();
        for (i, comp) in rel.components().enumerate().take(self.depth()) {
            let name = comp.as_os_str().to_str()?;
            fields = self.match_component(i, name, &fields)?;
        }
        Some(fields)
    }
}

/// Splits on `/` outside `{…}` (a field regex may contain `/`-free braces like `\d{3}`).
fn split_components(text: &str) -> Result<Vec<String>, String> {
    let mut out = vec![String::new()];
    let mut depth = 0usize;
    for c in text.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.checked_sub(1).ok_or("unmatched '}'")?,
            '/' if depth == 0 => {
                out.push(String::new());
                continue;
            }
            _ => {}
        }
        if let Some(last) = out.last_mut() {
            last.push(c);
        }
    }
    if depth != 0 {
        return Err("unclosed '{'".into());
    }
    Ok(out)
}

/// `a_{show}_{ver:v\d{3}}` → literal and field parts.
fn parse_parts(comp: &str) -> Result<Vec<Part>, String> {
    let mut parts = Vec::new();
    let mut lit = String::new();
    let mut chars = comp.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        if c != '{' {
            lit.push(c);
            continue;
        }
        if !lit.is_empty() {
            parts.push(Part::Lit(std::mem::take(&mut lit)));
        }
        let mut inner = String::new();
        let mut depth = 1;
        for (_, c) in chars.by_ref() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                _ => {}
            }
            inner.push(c);
        }
        let (name, re) = match inner.split_once(':') {
            Some((n, r)) => (n.trim(), r.to_string()),
            None => (inner.trim(), String::from(".+?")),
        };
        let valid = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(format!(
                "field name {name:?} must be letters, digits and '_' (e.g. {{shot}})"
            ));
        }
        if let Some(Part::Field { .. }) = parts.last() {
            return Err(format!(
                "two fields side by side before {{{name}}} cannot be told apart; put a separator between them"
            ));
        }
        parts.push(Part::Field {
            name: name.to_string(),
            re,
        });
    }
    if !lit.is_empty() {
        parts.push(Part::Lit(lit));
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_paths_back_into_fields() {
        let t = Template::parse("r", "{show}/shots/{shot}/renders/{step}").unwrap();
        assert_eq!(t.fields(), vec!["show", "shot", "step"]);
        assert_eq!(t.field_depth("shot"), Some(3));
        let f = t
            .parse_prefix(Path::new("demo/shots/sh010/renders/comp"))
            .unwrap();
        assert_eq!(f["show"], "demo");
        assert_eq!(f["step"], "comp");
        assert!(t.parse_prefix(Path::new("demo/assets/x")).is_none());
    }

    #[test]
    fn repeated_fields_must_agree() {
        let t = Template::parse(
            "s",
            "{show}/05-SHOTS/{show}_S_{shot}/{show}_S_{shot}_{step}",
        )
        .unwrap();
        let f = t
            .parse_prefix(Path::new(
                "PROJ/05-SHOTS/PROJ_S_SH010_A/PROJ_S_SH010_A_COMP",
            ))
            .unwrap();
        assert_eq!(
            (f["shot"].as_str(), f["step"].as_str()),
            ("SH010_A", "COMP")
        );
        assert!(t
            .parse_prefix(Path::new("PROJ/05-SHOTS/OTHER_S_SH010"))
            .is_none());
    }

    #[test]
    fn field_regex_and_errors() {
        let t = Template::parse("v", "{show}/{version:v\\d{3}}").unwrap();
        assert!(t.parse_prefix(Path::new("a/v012")).is_some());
        assert!(t.parse_prefix(Path::new("a/v12")).is_none());
        for bad in [
            "",
            "/abs/{show}",
            "shows/renders",
            "{show}/{",
            "{a}{b}",
            "{sh ow}",
            "{show}/../x",
        ] {
            assert!(Template::parse("x", bad).is_err(), "{bad}");
        }
        let e = Template::parse("mine", "{show}/{").unwrap_err().to_string();
        assert!(e.contains("mine") && e.contains("unclosed"), "{e}");
    }
}
