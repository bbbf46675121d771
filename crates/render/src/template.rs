//! Command templates: `{start}`-style placeholders, checked at submit so a typo fails before any
//! process starts, and shell-like splitting of one-line commands (no shell is ever run).

use std::collections::BTreeMap;

use crate::error::{RenderError, Result};

/// Every placeholder a template may use.
pub const PLACEHOLDERS: &[&str] = &[
    "start", "end", "step", "count", "frames", "output", "scene", "layer", "threads", "gpu", "job",
    "task", "tmp",
];

/// Values for one task's placeholders.
pub type Values = BTreeMap<&'static str, String>;

/// Expands `{name}` placeholders; `{{` and `}}` are literal braces. Unknown names are an error
/// naming the placeholder and the template (a typo must fail at submit, not render nothing).
/// Braces that cannot be a placeholder stay as they are, so shell snippets keep working:
/// `${VAR}`, `{ cmd; }`, a lone `}`.
pub fn expand(template: &str, values: &Values) -> Result<String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(i) = rest.find(['{', '}']) {
        let shell_var = rest[..i].ends_with('$');
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if let Some(after) = tail.strip_prefix("{{") {
            out.push('{');
            rest = after;
        } else if let Some(after) = tail.strip_prefix("}}") {
            out.push('}');
            rest = after;
        } else if let Some(after) = tail.strip_prefix('}') {
            out.push('}');
            rest = after;
        } else {
            let name_len = tail[1..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(tail.len() - 1);
            let name = &tail[1..1 + name_len];
            let closed = tail[1 + name_len..].starts_with('}');
            if shell_var || !closed || name.is_empty() {
                out.push('{');
                rest = &tail[1..];
                continue;
            }
            match values.get(name) {
                Some(v) => out.push_str(v),
                None if PLACEHOLDERS.contains(&name) => {}
                None => {
                    return Err(RenderError::Invalid(format!(
                        "command template {template:?}: unknown placeholder {{{name}}} (expected one of {}; write {{{{ for a literal brace)",
                        PLACEHOLDERS
                            .iter()
                            .map(|p| format!("{{{p}}}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )))
                }
            }
            rest = &tail[name_len + 2..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// Checks a template without values: every placeholder known, braces balanced.
pub fn check(template: &str) -> Result<()> {
    expand(template, &Values::new()).map(|_| ())
}

/// Whether the template uses a placeholder.
pub fn uses(args: &[String], name: &str) -> bool {
    let needle = format!("{{{name}}}");
    args.iter().any(|a| a.contains(&needle))
}

/// Splits a command line like a POSIX shell would split words: whitespace separates, single
/// quotes are literal, double quotes group and allow `\"`. No expansion of any kind.
pub fn split(line: &str) -> Result<Vec<String>> {
    let mut args = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(ch) => cur.push(ch),
                        None => return Err(unclosed(line, '\'')),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(ch) => cur.push(ch),
                            None => return Err(unclosed(line, '"')),
                        },
                        Some(ch) => cur.push(ch),
                        None => return Err(unclosed(line, '"')),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(ch) = chars.next() {
                    cur.push(ch);
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    args.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        args.push(cur);
    }
    Ok(args)
}

fn unclosed(line: &str, q: char) -> RenderError {
    RenderError::Invalid(format!("command {line:?}: unclosed {q} quote"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_and_rejects_unknown() {
        let mut v = Values::new();
        v.insert("start", "1".into());
        assert_eq!(expand("-s {start} {{x}}", &v).unwrap(), "-s 1 {x}");
        let err = expand("{strat}", &v).unwrap_err().to_string();
        assert!(err.contains("{strat}"), "{err}");
        assert_eq!(expand("{start", &v).unwrap(), "{start");
        assert_eq!(
            expand("${HOME} {{ x }} [ -e a{start} ] || { touch b; }", &v).unwrap(),
            "${HOME} { x } [ -e a1 ] || { touch b; }"
        );
        assert_eq!(expand("{layer}", &v).unwrap(), "");
    }

    #[test]
    fn splits_like_a_shell() {
        assert_eq!(
            split(r#"sh -c 'echo "a b"' "x y" z\ w"#).unwrap(),
            vec!["sh", "-c", "echo \"a b\"", "x y", "z w"]
        );
        assert!(split("echo 'oops").is_err());
    }
}
