//! Path mappings: a scene written on Windows names `P:/demo/…`; the farm reads
//! `/mnt/projects/demo/…`. `paths.map` in `shotline.yaml` lists prefixes and their
//! replacements; the longest matching prefix wins, drive letters and separators compare
//! case- and slash-insensitively.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Prefix replacements, longest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PathMap {
    rules: Vec<(String, String)>,
}

impl PathMap {
    /// From `paths.map` (`{"P:/": "/mnt/projects/"}`).
    pub fn new(map: &BTreeMap<String, String>) -> PathMap {
        let mut rules: Vec<(String, String)> =
            map.iter().map(|(k, v)| (normalise(k), v.clone())).collect();
        rules.sort_by_key(|(k, _)| std::cmp::Reverse(k.len()));
        PathMap { rules }
    }

    /// The path a scene's string names on this machine: mapped by the longest matching prefix
    /// (with `\` read as `/`), else as written with `\` turned into `/` when it is a Windows
    /// path; relative paths are joined to `base` (the scene's folder).
    pub fn map(&self, text: &str, base: &Path) -> PathBuf {
        let norm = normalise(text);
        for (from, to) in &self.rules {
            if norm.len() >= from.len()
                && norm.is_char_boundary(from.len())
                && norm[..from.len()].eq_ignore_ascii_case(from)
            {
                let rest = norm[from.len()..].trim_start_matches('/');
                let mut out = to.trim_end_matches(['/', '\\']).to_string();
                if !rest.is_empty() {
                    out.push('/');
                    out.push_str(rest);
                }
                return PathBuf::from(out);
            }
        }
        let p = PathBuf::from(if is_windows(text) {
            norm
        } else {
            text.to_string()
        });
        if p.is_absolute() || is_windows(text) {
            p
        } else {
            base.join(p)
        }
    }

    /// Whether a string is a Windows path no rule maps (`C:/…`, `\\server\…`): it names
    /// nothing on this machine.
    pub fn unmapped_windows(&self, text: &str) -> bool {
        is_windows(text) && {
            let norm = normalise(text);
            !self.rules.iter().any(|(from, _)| {
                norm.len() >= from.len()
                    && norm.is_char_boundary(from.len())
                    && norm[..from.len()].eq_ignore_ascii_case(from)
            })
        }
    }
}

fn normalise(s: &str) -> String {
    s.replace('\\', "/")
}

fn is_windows(s: &str) -> bool {
    let b = s.as_bytes();
    (b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':')
        || s.starts_with("\\\\")
        || s.starts_with("//")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_prefix_wins_case_and_slash_insensitive() {
        let mut m = BTreeMap::new();
        m.insert("P:/".to_string(), "/mnt/projects/".to_string());
        m.insert("P:/demo/".to_string(), "/fast/demo".to_string());
        m.insert("\\\\nas\\share".to_string(), "/mnt/nas".to_string());
        let pm = PathMap::new(&m);
        let base = Path::new("/scenes");
        assert_eq!(
            pm.map("p:\\other\\a.exr", base),
            Path::new("/mnt/projects/other/a.exr")
        );
        assert_eq!(pm.map("P:/demo/a.exr", base), Path::new("/fast/demo/a.exr"));
        assert_eq!(
            pm.map("\\\\NAS\\share\\x.exr", base),
            Path::new("/mnt/nas/x.exr")
        );
        assert_eq!(
            pm.map("plates/a.exr", base),
            Path::new("/scenes/plates/a.exr")
        );
        assert_eq!(pm.map("/abs/a.exr", base), Path::new("/abs/a.exr"));
        assert!(pm.unmapped_windows("C:\\x.exr"));
        assert!(!pm.unmapped_windows("P:\\x.exr"));
    }
}
