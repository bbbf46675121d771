//! Matching clips to shots: `--override`, then the EDL, then ordered regex rules.
//!
//! A wrong match files a plate under the wrong shot, which is worse than no match; so the
//! built-in rules only accept names with explicit `SQ`/`SH` tokens (camera originals such as
//! `A001C003_230101_R1AB` stay unmatched), and every captured ID is validated.

use std::collections::BTreeMap;

use regex::Regex;
use serde::Serialize;
use shotline_config::{IngestConfig, IngestRule};

use crate::edl::{EdlLookup, EdlMap};
use crate::scan::Clip;

/// Where a clip belongs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShotId {
    /// Project code found in the name, if any.
    pub project: Option<String>,
    /// Sequence, if known.
    pub sequence: Option<String>,
    /// Shot.
    pub shot: String,
    /// Pipeline step (`PLATE` unless a rule captured one).
    pub step: String,
    /// Resource (`bg01`), if any.
    pub resource: Option<String>,
    /// The vendor's own version number, kept for the record.
    pub vendor_version: Option<u32>,
}

/// Why a clip matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "by", rename_all = "lowercase")]
pub enum MatchedBy {
    /// `--override CLIP=SHOT`.
    Override,
    /// The EDL; `line` is the event line.
    Edl {
        /// Event line.
        line: usize,
    },
    /// A rule; `index` counts configured rules first, then built-in ones.
    Rule {
        /// Position in the rule list.
        index: usize,
        /// The pattern.
        pattern: String,
    },
}

/// The result for one clip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum MatchOutcome {
    /// Matched and validated.
    Matched {
        /// The IDs.
        id: ShotId,
        /// Why.
        by: MatchedBy,
    },
    /// Not matched (reported, never silently dropped).
    Unmatched {
        /// Why not.
        reason: String,
    },
}

/// A configuration problem in rules or overrides.
#[derive(Debug, thiserror::Error)]
pub enum MatchError {
    /// A rule's regex does not compile.
    #[error("ingest rule {index} {pattern:?} is not a valid regex: {message}")]
    BadRegex {
        /// Position (1-based) in `ingest.rules`.
        index: usize,
        /// The pattern.
        pattern: String,
        /// The regex error.
        message: String,
    },
    /// A rule has no `shot` group.
    #[error("ingest rule {index} {pattern:?} has no (?P<shot>…) group")]
    NoShotGroup {
        /// Position (1-based).
        index: usize,
        /// The pattern.
        pattern: String,
    },
    /// `--override` not of the form CLIP=SHOT or with an invalid shot.
    #[error("--override {0:?}: expected CLIP=SHOT or CLIP=SEQUENCE/SHOT with IDs of letters, digits and '-'")]
    BadOverride(String),
}

struct Rule {
    re: Regex,
    pattern: String,
    sequence_from_parent: bool,
    strip_prefix: Option<String>,
}

/// The built-in rules for common vendor names, tried after configured ones.
pub fn default_rules() -> Vec<IngestRule> {
    let tail = r"(?:[_-](?P<step>[A-Za-z]+))?(?:[_-](?P<resource>[A-Za-z][A-Za-z0-9]*))?(?:[_-][vV](?P<version>\d{1,4}))?";
    vec![
        IngestRule {
            pattern: format!(
                r"(?i)^(?:(?P<project>[A-Za-z][A-Za-z0-9]*)[_-])?(?P<sequence>(?:SQ|SEQ)\d+[A-Za-z]?)[_-](?P<shot>SH\d+[A-Za-z]?){tail}$"
            ),
            sequence_from_parent: false,
            strip_prefix: None,
        },
        IngestRule {
            pattern: r"(?i)^(?P<project>[A-Za-z][A-Za-z0-9]*)_S_(?P<shot>[A-Za-z0-9-]+)_(?P<step>[A-Za-z0-9-]+)(?:_(?P<resource>[A-Za-z0-9-]+))?$".to_string(),
            sequence_from_parent: true,
            strip_prefix: None,
        },
        IngestRule {
            pattern: format!(r"(?i)^(?P<shot>SH\d+[A-Za-z]?){tail}$"),
            sequence_from_parent: true,
            strip_prefix: None,
        },
    ]
}

/// Clip → shot matcher built from config, overrides and an optional EDL.
pub struct Matcher {
    rules: Vec<Rule>,
    default_step: String,
    max_len: usize,
    overrides: BTreeMap<String, (Option<String>, String)>,
    edl: Option<EdlMap>,
}

/// True for IDs safe in paths and Ramses names: ASCII letters, digits and `-`, 1..=max chars.
pub fn valid_id(s: &str, max_len: usize) -> bool {
    !s.is_empty()
        && s.len() <= max_len
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !s.starts_with('-')
}

fn parse_shot_value(v: &str, max: usize) -> Option<(Option<String>, String)> {
    let (seq, shot) = match v.split_once('/') {
        Some((a, b)) => (Some(a.to_ascii_uppercase()), b.to_ascii_uppercase()),
        None => (None, v.to_ascii_uppercase()),
    };
    if !valid_id(&shot, max) || seq.as_deref().is_some_and(|s| !valid_id(s, max)) {
        return None;
    }
    Some((seq, shot))
}

impl Matcher {
    /// Compiles configured rules (then the built-in ones unless disabled), `CLIP=SHOT`
    /// overrides and the EDL.
    pub fn new(
        cfg: &IngestConfig,
        overrides: &[String],
        edl: Option<EdlMap>,
    ) -> Result<Matcher, MatchError> {
        let mut specs = cfg.rules.clone();
        if cfg.default_rules {
            specs.extend(default_rules());
        }
        let mut rules = Vec::new();
        for (i, r) in specs.into_iter().enumerate() {
            let re = Regex::new(&r.pattern).map_err(|e| MatchError::BadRegex {
                index: i + 1,
                pattern: r.pattern.clone(),
                message: e.to_string(),
            })?;
            if !re.capture_names().any(|n| n == Some("shot")) {
                return Err(MatchError::NoShotGroup {
                    index: i + 1,
                    pattern: r.pattern,
                });
            }
            rules.push(Rule {
                re,
                pattern: r.pattern,
                sequence_from_parent: r.sequence_from_parent,
                strip_prefix: r.strip_prefix,
            });
        }
        let max_len = cfg.max_id_len.max(1);
        let mut ov = BTreeMap::new();
        for o in overrides {
            let (clip, shot) = o
                .split_once('=')
                .ok_or_else(|| MatchError::BadOverride(o.clone()))?;
            let value = parse_shot_value(shot.trim(), max_len)
                .ok_or_else(|| MatchError::BadOverride(o.clone()))?;
            if clip.trim().is_empty() {
                return Err(MatchError::BadOverride(o.clone()));
            }
            ov.insert(clip.trim().to_ascii_lowercase(), value);
        }
        Ok(Matcher {
            rules,
            default_step: cfg.step.to_ascii_uppercase(),
            max_len,
            overrides: ov,
            edl,
        })
    }

    /// Matches one clip.
    pub fn match_clip(&self, clip: &Clip) -> MatchOutcome {
        let key = clip.key().to_ascii_lowercase();
        let names = [clip.name.as_str(), clip.base.as_str()];
        let found = [
            key.as_str(),
            &clip.name.to_ascii_lowercase(),
            &clip.base.to_ascii_lowercase(),
        ]
        .iter()
        .find_map(|k| self.overrides.get(*k).cloned());
        if let Some((sequence, shot)) = found {
            return self.simple(sequence, shot, MatchedBy::Override);
        }
        if let Some(edl) = &self.edl {
            match edl.lookup(&names) {
                EdlLookup::Shot { shot, line } => {
                    return match parse_shot_value(&shot, self.max_len) {
                        Some((seq, shot)) => self.simple(seq, shot, MatchedBy::Edl { line }),
                        None => MatchOutcome::Unmatched {
                            reason: format!(
                                "EDL {} line {line} names shot {shot:?}: not a valid ID (letters, digits, '-', at most {} characters)",
                                edl.path.display(),
                                self.max_len
                            ),
                        },
                    };
                }
                EdlLookup::Ambiguous(list) => {
                    let shots: Vec<String> = list
                        .iter()
                        .map(|(s, l)| format!("{s} (line {l})"))
                        .collect();
                    return MatchOutcome::Unmatched {
                        reason: format!(
                            "EDL {} uses this clip in several shots: {}; use --override",
                            edl.path.display(),
                            shots.join(", ")
                        ),
                    };
                }
                EdlLookup::Absent => {}
            }
        }
        for (i, rule) in self.rules.iter().enumerate() {
            let mut base = clip.base.as_str();
            if let Some(p) = &rule.strip_prefix {
                match base.strip_prefix(p.as_str()) {
                    Some(rest) => base = rest,
                    None => continue,
                }
            }
            let Some(caps) = rule.re.captures(base) else {
                continue;
            };
            let get = |n: &str| {
                caps.name(n)
                    .map(|m| m.as_str().to_string())
                    .filter(|s| !s.is_empty())
            };
            let parent = clip
                .rel_dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned());
            let sequence = get("sequence").or_else(|| {
                if rule.sequence_from_parent {
                    parent.filter(|p| valid_id(p, self.max_len))
                } else {
                    None
                }
            });
            let mut resource = get("resource");
            let mut version = get("version");
            // `plate_v003`: a "resource" that is a version token is the version.
            if version.is_none()
                && resource.as_deref().is_some_and(|r| {
                    r.len() > 1
                        && r.starts_with(['v', 'V'])
                        && r[1..].chars().all(|c| c.is_ascii_digit())
                })
            {
                version = resource.take().map(|r| r[1..].to_string());
            }
            let id = ShotId {
                project: get("project").map(|s| s.to_ascii_uppercase()),
                sequence: sequence.map(|s| s.to_ascii_uppercase()),
                shot: get("shot").unwrap_or_default().to_ascii_uppercase(),
                step: get("step")
                    .map(|s| s.to_ascii_uppercase())
                    .unwrap_or_else(|| self.default_step.clone()),
                resource,
                vendor_version: version.and_then(|v| v.parse().ok()),
            };
            if let Some(bad) = self.invalid_field(&id) {
                return MatchOutcome::Unmatched {
                    reason: format!(
                        "rule {} matched but {bad}: expected letters, digits and '-', at most {} characters",
                        i + 1,
                        self.max_len
                    ),
                };
            }
            return MatchOutcome::Matched {
                id,
                by: MatchedBy::Rule {
                    index: i + 1,
                    pattern: rule.pattern.clone(),
                },
            };
        }
        MatchOutcome::Unmatched {
            reason: format!(
                "no rule matches {:?} (camera originals need --edl or --override)",
                clip.base
            ),
        }
    }

    fn simple(&self, sequence: Option<String>, shot: String, by: MatchedBy) -> MatchOutcome {
        MatchOutcome::Matched {
            id: ShotId {
                project: None,
                sequence,
                shot,
                step: self.default_step.clone(),
                resource: None,
                vendor_version: None,
            },
            by,
        }
    }

    fn invalid_field(&self, id: &ShotId) -> Option<String> {
        let fields = [
            ("shot", Some(&id.shot)),
            ("sequence", id.sequence.as_ref()),
            ("step", Some(&id.step)),
            ("resource", id.resource.as_ref()),
            ("project", id.project.as_ref()),
        ];
        fields.iter().find_map(|(name, v)| match v {
            Some(v) if !valid_id(v, self.max_len) => {
                Some(format!("{name} {v:?} is not a valid ID"))
            }
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::{ClipKind, SourceFile};
    use std::path::PathBuf;

    fn clip(dir: &str, base: &str) -> Clip {
        Clip {
            name: format!("{base}.####.exr"),
            base: base.into(),
            ext: "exr".into(),
            rel_dir: PathBuf::from(dir),
            delivery: PathBuf::from("/d"),
            kind: ClipKind::Sequence,
            files: vec![SourceFile {
                path: PathBuf::from("/d/x"),
                frame: Some(1),
                frame_text: Some("0001".into()),
                size: 1,
            }],
        }
    }

    fn matched(m: &Matcher, c: &Clip) -> ShotId {
        match m.match_clip(c) {
            MatchOutcome::Matched { id, .. } => id,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn default_rules_handle_vendor_names() {
        let m = Matcher::new(&IngestConfig::default(), &[], None).unwrap();
        let id = matched(&m, &clip("", "SQ010_SH020_plate_v003"));
        assert_eq!(id.sequence.as_deref(), Some("SQ010"));
        assert_eq!(id.shot, "SH020");
        assert_eq!(id.step, "PLATE");
        assert_eq!(id.vendor_version, Some(3));
        assert_eq!(id.resource, None);
        let id = matched(&m, &clip("", "SQ010_SH020_bg_bg01_v003"));
        assert_eq!(
            (id.step.as_str(), id.resource.as_deref()),
            ("BG", Some("bg01"))
        );
        let id = matched(&m, &clip("SQ030", "SH020_bg01"));
        assert_eq!(id.sequence.as_deref(), Some("SQ030"));
        assert_eq!(id.resource.as_deref(), Some("bg01"));
        assert_eq!(id.step, "PLATE");
        let id = matched(&m, &clip("", "DEMO_S_SH010_PLATE"));
        assert_eq!(id.project.as_deref(), Some("DEMO"));
        assert_eq!(id.shot, "SH010");
    }

    #[test]
    fn camera_originals_stay_unmatched() {
        let m = Matcher::new(&IngestConfig::default(), &[], None).unwrap();
        for name in ["A001C003_230101_R1AB", "B002_C001_0101XY", "clip"] {
            assert!(
                matches!(
                    m.match_clip(&clip("", name)),
                    MatchOutcome::Unmatched { .. }
                ),
                "{name}"
            );
        }
    }

    #[test]
    fn override_and_rule_order() {
        let cfg = IngestConfig {
            rules: vec![IngestRule {
                pattern: r"^vnd_(?P<shot>\d{4})$".into(),
                sequence_from_parent: false,
                strip_prefix: None,
            }],
            ..IngestConfig::default()
        };
        let m = Matcher::new(&cfg, &["A001C003=SQ1/SH9".into()], None).unwrap();
        assert_eq!(matched(&m, &clip("", "vnd_0420")).shot, "0420");
        let id = matched(&m, &clip("", "A001C003"));
        assert_eq!(
            (id.sequence.as_deref(), id.shot.as_str()),
            (Some("SQ1"), "SH9")
        );
    }

    #[test]
    fn bad_config_is_error() {
        let cfg = IngestConfig {
            rules: vec![IngestRule {
                pattern: r"^(?P<seq>x".into(),
                sequence_from_parent: false,
                strip_prefix: None,
            }],
            ..IngestConfig::default()
        };
        assert!(Matcher::new(&cfg, &[], None).is_err());
        assert!(Matcher::new(&IngestConfig::default(), &["noequals".into()], None).is_err());
        assert!(Matcher::new(&IngestConfig::default(), &["a=../x".into()], None).is_err());
    }

    #[test]
    fn invalid_ids_are_unmatched() {
        let cfg = IngestConfig {
            rules: vec![IngestRule {
                pattern: r"^x_(?P<shot>.+)$".into(),
                sequence_from_parent: false,
                strip_prefix: None,
            }],
            default_rules: false,
            ..IngestConfig::default()
        };
        let m = Matcher::new(&cfg, &[], None).unwrap();
        assert!(matches!(
            m.match_clip(&clip("", "x_a b")),
            MatchOutcome::Unmatched { .. }
        ));
    }
}
