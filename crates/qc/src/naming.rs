//! Naming rules compiled from `naming:`: which regex applies to a file, which names are noise
//! (ignored) and which are always unexpected.

use regex::Regex;
use shotline_config::NamingConfig;
use shotline_media::FileKind;

/// Field name → value, as a unit's fields fill `{field}` in naming rules.
type Fields = std::collections::BTreeMap<String, String>;
use crate::QcError;

/// The lowercase extension of a file name (no dot), or "".
pub fn extension(name: &str) -> String {
    match name.rfind('.') {
        Some(i) if i > 0 => name[i + 1..].to_ascii_lowercase(),
        _ => String::new(),
    }
}

/// True when a sequence suffix (`.exr`, `_beauty.exr`) ends in an image frame extension of
/// the media file-kind registry, i.e. the numbered files are frames rather than versioned
/// scenes or documents.
pub fn is_image_suffix(suffix: &str) -> bool {
    suffix
        .rfind('.')
        .is_some_and(|i| FileKind::from_extension(&suffix[i + 1..]).is_image_frame())
}

/// Compiled naming settings.
#[derive(Debug, Clone)]
pub struct Naming {
    rules: Vec<(String, String)>,
    extensions: Vec<String>,
    ignore: Vec<String>,
    unexpected: Vec<String>,
}

/// A rule with the unit's fields filled in, ready to match names.
#[derive(Debug, Clone)]
pub struct UnitRules {
    rules: Vec<(String, Regex, String)>,
}

impl Naming {
    /// Checks every rule compiles (with placeholder field values) so mistakes surface at start.
    pub fn from_config(cfg: &NamingConfig) -> Result<Naming, QcError> {
        for (kind, rule) in &cfg.rules {
            Regex::new(&fill(rule, &Fields::new(), true)).map_err(|e| QcError::Config {
                what: format!("naming rule {kind:?} ({rule:?})"),
                message: format!("expected a regular expression: {e}"),
            })?;
        }
        Ok(Naming {
            rules: cfg
                .rules
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            extensions: cfg
                .extensions
                .iter()
                .map(|e| e.trim_start_matches('.').to_ascii_lowercase())
                .collect(),
            ignore: cfg.ignore.clone(),
            unexpected: cfg.unexpected.clone(),
        })
    }

    /// `(rule kind, field)` for every `{field}` a rule uses, so callers can warn about fields
    /// the layout never provides (such a rule can never match).
    pub fn fields_used(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (kind, rule) in &self.rules {
            let probe = fill(rule, &Fields::new(), false);
            let mut rest = probe.as_str();
            while let Some(i) = rest.find("\\{") {
                let after = &rest[i + 2..];
                match after.find("\\}") {
                    Some(e) => {
                        out.push((kind.clone(), after[..e].to_string()));
                        rest = &after[e + 2..];
                    }
                    None => break,
                }
            }
        }
        out
    }

    /// Rules with `{field}` placeholders replaced by this unit's values (regex-escaped).
    pub fn for_unit(&self, fields: &Fields) -> UnitRules {
        UnitRules {
            rules: self
                .rules
                .iter()
                .filter_map(|(k, r)| {
                    Regex::new(&fill(r, fields, false))
                        .ok()
                        .map(|re| (k.clone(), re, r.clone()))
                })
                .collect(),
        }
    }

    /// True when the name is noise never reported (sidecars, OS files).
    pub fn ignored(&self, name: &str) -> bool {
        self.ignore.iter().any(|g| glob_match(g, name))
    }

    /// Why the file does not belong here, if it does not.
    pub fn unexpected(&self, name: &str) -> Option<String> {
        if let Some(g) = self.unexpected.iter().find(|g| glob_match(g, name)) {
            return Some(format!("matches naming.unexpected {g:?}"));
        }
        let ext = extension(name);
        if !self.extensions.is_empty() && !self.extensions.contains(&ext) {
            return Some(format!(
                "extension {ext:?} is not one of naming.extensions [{}]",
                self.extensions.join(", ")
            ));
        }
        None
    }
}

impl UnitRules {
    /// The rule (kind, source) a name breaks, if any. `in_sequence` selects the `sequence` rule
    /// over `file`; a rule for the extension wins over both.
    pub fn broken(&self, name: &str, in_sequence: bool) -> Option<(&str, &str)> {
        let ext = extension(name);
        let generic = if in_sequence {
            "sequence"
        } else if FileKind::from_extension(&ext).is_movie() {
            "movie"
        } else {
            "file"
        };
        let rule = self
            .rules
            .iter()
            .find(|(k, _, _)| *k == ext)
            .or_else(|| self.rules.iter().find(|(k, _, _)| k == generic))?;
        (!rule.1.is_match(name)).then_some((rule.0.as_str(), rule.2.as_str()))
    }
}

/// Replaces `{field}` (identifier in braces, so `\d{4}` is untouched) with the escaped value.
fn fill(rule: &str, fields: &Fields, placeholder: bool) -> String {
    let mut out = String::new();
    let mut rest = rule;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let end = after.find('}');
        let ident = end.map(|e| &after[..e]).filter(|id| {
            id.chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
        match (ident, end) {
            (Some(id), Some(e)) => {
                match fields.get(id) {
                    Some(v) => out.push_str(&regex::escape(v)),
                    None if placeholder => out.push('x'),
                    None => out.push_str(&format!("\\{{{id}\\}}")),
                }
                rest = &after[e + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// `*` any run, `?` one character; everything else literal.
pub fn glob_match(glob: &str, name: &str) -> bool {
    let g: Vec<char> = glob.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut gi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if gi < g.len() && (g[gi] == '?' || g[gi] == n[ni]) {
            gi += 1;
            ni += 1;
        } else if gi < g.len() && g[gi] == '*' {
            star = Some((gi, ni));
            gi += 1;
        } else if let Some((sg, sn)) = star {
            gi = sg + 1;
            ni = sn + 1;
            star = Some((sg, sn + 1));
        } else {
            return false;
        }
    }
    g[gi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("*.tmp", "a.tmp"));
        assert!(glob_match(".nfs*", ".nfs0001"));
        assert!(glob_match("a?c", "abc"));
        assert!(!glob_match("*.tmp", "a.tmpx"));
        assert!(glob_match("*~", "comp.nk~"));
    }

    #[test]
    fn rules_use_unit_fields_and_extension_wins() {
        let mut cfg = NamingConfig::default();
        cfg.rules.insert(
            "sequence".into(),
            r"^{shot}_[a-z]+_v\d{3}\.\d{4}\.exr$".into(),
        );
        cfg.rules.insert("nk".into(), r"^{shot}_.*\.nk$".into());
        let n = Naming::from_config(&cfg).unwrap();
        let fields: Fields = [("shot".to_string(), "sh010".to_string())].into();
        let r = n.for_unit(&fields);
        assert!(r.broken("sh010_comp_v001.1001.exr", true).is_none());
        assert_eq!(
            r.broken("sh020_comp_v001.1001.exr", true).unwrap().0,
            "sequence"
        );
        assert!(r.broken("sh010_x.nk", false).is_none());
        assert!(r.broken("other.txt", false).is_none());
        assert_eq!(
            n.fields_used(),
            vec![
                ("nk".into(), "shot".into()),
                ("sequence".into(), "shot".into())
            ]
        );
        cfg.rules.insert("file".into(), "(".into());
        assert!(Naming::from_config(&cfg).is_err());
    }

    #[test]
    fn unexpected_and_ignored() {
        let mut cfg = NamingConfig::default();
        let n = Naming::from_config(&cfg).unwrap();
        assert!(n.ignored("_ramses_data.json"));
        assert!(n.unexpected("render.exr.tmp").is_some());
        assert!(n.unexpected("a.exr").is_none());
        cfg.extensions = vec!["exr".into()];
        let n = Naming::from_config(&cfg).unwrap();
        assert!(n.unexpected("a.mov").is_some());
    }
}
