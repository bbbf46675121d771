//! Destination templates: where a version folder and its files go.
//!
//! Two presets ship: the shotline tree and the Ramses (RxLaboratory) tree, so studios on Ramses
//! see ingested plates as ordinary published versions. `{field}` is replaced; `[...]` is dropped
//! when a field inside it is empty. `{version}` must be in the last folder component so the next
//! free number can be taken with one atomic `mkdir`.

use std::collections::BTreeMap;

/// The shotline tree: `shots/SQ010/SH020/PLATE/v001/SQ010_SH020_PLATE_v001.1001.exr`.
pub const SHOTLINE_DIR: &str = "shots/[{sequence}/]{shot}/{step}/[{resource}_]v{version}";
/// File names in the shotline tree.
pub const SHOTLINE_FILE: &str =
    "[{sequence}_]{shot}_{step}[_{resource}]_v{version}[.{frame}].{ext}";
/// The Ramses tree: `05-SHOTS/PROJ_S_SH010/PROJ_S_SH010_PLATE/_published/[RES_]NNN[_STATE]/`.
pub const RAMSES_DIR: &str =
    "05-SHOTS/{project}_S_{shot}/{project}_S_{shot}_{step}/_published/[{resource}_]{version}[_{state}]";
/// Ramses file names: `PROJ_S_SH010_PLATE[_RES].####.exr`.
pub const RAMSES_FILE: &str = "{project}_S_{shot}_{step}[_{resource}][.{frame}].{ext}";

/// A template problem; names the template and what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// Unknown `ingest.template` value.
    #[error("ingest.template {0:?}: expected shotline, ramses or custom")]
    UnknownPreset(String),
    /// `custom` without both templates.
    #[error("ingest.template custom needs ingest.dir_template and ingest.file_template")]
    MissingCustom,
    /// Unbalanced braces or brackets, or an unknown field.
    #[error("template {template:?}: {message}")]
    Syntax {
        /// The template.
        template: String,
        /// What is wrong.
        message: String,
    },
    /// A required field is empty.
    #[error("template {template:?} needs {{{field}}} but it is empty{hint}")]
    MissingField {
        /// The template.
        template: String,
        /// The field.
        field: String,
        /// How to fix it.
        hint: String,
    },
}

const FIELDS: &[&str] = &[
    "project", "sequence", "shot", "step", "resource", "state", "version", "frame", "ext",
];

/// A pair of templates in force.
#[derive(Debug, Clone)]
pub struct Templates {
    /// Version folder, relative to the ingest root.
    pub dir: String,
    /// File name inside the version folder.
    pub file: String,
}

impl Templates {
    /// The templates named by config: a preset or the custom pair, checked.
    pub fn from_config(
        preset: &str,
        dir: Option<&str>,
        file: Option<&str>,
    ) -> Result<Templates, TemplateError> {
        let t = match preset.to_ascii_lowercase().as_str() {
            "shotline" | "" => Templates {
                dir: SHOTLINE_DIR.into(),
                file: SHOTLINE_FILE.into(),
            },
            "ramses" => Templates {
                dir: RAMSES_DIR.into(),
                file: RAMSES_FILE.into(),
            },
            "custom" => match (dir, file) {
                (Some(d), Some(f)) => Templates {
                    dir: d.into(),
                    file: f.into(),
                },
                _ => return Err(TemplateError::MissingCustom),
            },
            other => return Err(TemplateError::UnknownPreset(other.into())),
        };
        parse(&t.dir)?;
        parse(&t.file)?;
        let last = t.dir.rsplit('/').next().unwrap_or("");
        if !last.contains("{version}") || t.dir[..t.dir.len() - last.len()].contains("{version}") {
            return Err(TemplateError::Syntax {
                template: t.dir.clone(),
                message: "{version} must appear in the last folder component only".into(),
            });
        }
        if t.dir.split('/').any(|c| c == ".." || c == ".") || t.dir.starts_with('/') {
            return Err(TemplateError::Syntax {
                template: t.dir.clone(),
                message: "a folder template must stay inside the ingest root (no '..', '.' or leading '/')".into(),
            });
        }
        if t.file.contains('/') {
            return Err(TemplateError::Syntax {
                template: t.file.clone(),
                message: "a file template cannot contain '/'".into(),
            });
        }
        Ok(t)
    }
}

#[derive(Debug)]
enum Tok {
    Lit(String),
    Field(String),
    Opt(Vec<Tok>),
}

fn parse(t: &str) -> Result<Vec<Tok>, TemplateError> {
    let err = |m: &str| TemplateError::Syntax {
        template: t.to_string(),
        message: m.to_string(),
    };
    let mut stack: Vec<Vec<Tok>> = vec![Vec::new()];
    let mut chars = t.chars();
    let mut lit = String::new();
    while let Some(c) = chars.next() {
        match c {
            '{' => {
                let mut name = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some(c) => name.push(c),
                        None => return Err(err("unclosed '{'")),
                    }
                }
                if !FIELDS.contains(&name.as_str()) {
                    return Err(err(&format!(
                        "unknown field {{{name}}}; known: {}",
                        FIELDS.join(", ")
                    )));
                }
                let top = stack.last_mut().ok_or_else(|| err("internal"))?;
                if !lit.is_empty() {
                    top.push(Tok::Lit(std::mem::take(&mut lit)));
                }
                top.push(Tok::Field(name));
            }
            '[' => {
                if let Some(top) = stack.last_mut() {
                    if !lit.is_empty() {
                        top.push(Tok::Lit(std::mem::take(&mut lit)));
                    }
                }
                stack.push(Vec::new());
            }
            ']' => {
                if stack.len() < 2 {
                    return Err(err("']' without '['"));
                }
                let mut inner = stack.pop().unwrap_or_default();
                if !lit.is_empty() {
                    inner.push(Tok::Lit(std::mem::take(&mut lit)));
                }
                if let Some(top) = stack.last_mut() {
                    top.push(Tok::Opt(inner));
                }
            }
            '}' => return Err(err("'}' without '{'")),
            c => lit.push(c),
        }
    }
    if stack.len() != 1 {
        return Err(err("unclosed '['"));
    }
    let mut out = stack.pop().unwrap_or_default();
    if !lit.is_empty() {
        out.push(Tok::Lit(lit));
    }
    Ok(out)
}

fn render_toks(toks: &[Tok], f: &BTreeMap<&str, String>, out: &mut String) -> Result<(), String> {
    for t in toks {
        match t {
            Tok::Lit(s) => out.push_str(s),
            Tok::Field(n) => match f.get(n.as_str()).filter(|v| !v.is_empty()) {
                Some(v) => out.push_str(v),
                None => return Err(n.clone()),
            },
            Tok::Opt(inner) => {
                let mut s = String::new();
                if render_toks(inner, f, &mut s).is_ok() {
                    out.push_str(&s);
                }
            }
        }
    }
    Ok(())
}

/// Renders a template with `fields`; a required field that is empty is an error.
pub fn render(template: &str, fields: &BTreeMap<&str, String>) -> Result<String, TemplateError> {
    let toks = parse(template)?;
    let mut out = String::new();
    render_toks(&toks, fields, &mut out).map_err(|field| TemplateError::MissingField {
        template: template.to_string(),
        hint: if field == "project" {
            " (set project.code in shotline.yaml)".into()
        } else {
            String::new()
        },
        field,
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&'static str, &str)]) -> BTreeMap<&'static str, String> {
        pairs.iter().map(|(k, v)| (*k, v.to_string())).collect()
    }

    #[test]
    fn ramses_preset_renders_published_version() {
        let t = Templates::from_config("ramses", None, None).unwrap();
        let f = fields(&[
            ("project", "DEMO"),
            ("shot", "SH010"),
            ("step", "PLATE"),
            ("version", "003"),
            ("state", "WIP"),
            ("frame", "1001"),
            ("ext", "exr"),
        ]);
        assert_eq!(
            render(&t.dir, &f).unwrap(),
            "05-SHOTS/DEMO_S_SH010/DEMO_S_SH010_PLATE/_published/003_WIP"
        );
        assert_eq!(render(&t.file, &f).unwrap(), "DEMO_S_SH010_PLATE.1001.exr");
    }

    #[test]
    fn optional_groups_drop_when_empty() {
        let f = fields(&[
            ("shot", "SH1"),
            ("step", "PLATE"),
            ("version", "001"),
            ("ext", "mov"),
        ]);
        assert_eq!(render(SHOTLINE_FILE, &f).unwrap(), "SH1_PLATE_v001.mov");
        assert_eq!(render(SHOTLINE_DIR, &f).unwrap(), "shots/SH1/PLATE/v001");
    }

    #[test]
    fn errors_are_explained() {
        assert!(Templates::from_config("nope", None, None).is_err());
        assert!(Templates::from_config("custom", Some("{shot}/v{version}"), None).is_err());
        assert!(
            Templates::from_config("custom", Some("v{version}/{shot}"), Some("{shot}.{ext}"))
                .is_err()
        );
        assert!(Templates::from_config("custom", Some("{shott}/v{version}"), Some("x")).is_err());
        assert!(Templates::from_config("custom", Some("../{shot}/v{version}"), Some("x")).is_err());
        let e = render(RAMSES_DIR, &fields(&[("shot", "SH1")])).unwrap_err();
        assert!(e.to_string().contains("project.code"), "{e}");
    }
}
