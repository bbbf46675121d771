//! `ingest:` section.

use std::path::PathBuf;

/// Delivery ingest: matching rules, hash algorithm, destination templates.
///
/// Every key is optional: the defaults ingest common vendor names (`SQ010_SH020_plate_v003`,
/// `SH020_bg01`) into the shotline tree with XXH3-128 checksums.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct IngestConfig {
    /// Checksum algorithm for copies and MHL manifests: `xxh128` (default, fastest safe choice),
    /// `xxh64`, `xxh3` (XXH3-64), `md5`, `sha1` or `c4`.
    pub hash: String,
    /// Deprecated: destinations come from the project's `layout:` (`shot_version` and
    /// `shot_file`). Still honoured when set, with a warning: `shotline` (= `layout.preset:
    /// shots`), `ramses`, or `custom` (then `dir_template` and `file_template` are used).
    pub template: Option<String>,
    /// Deprecated (see `template`): version folder template for `template: custom`, relative
    /// to `root`. Fields: `{project}`
    /// `{sequence}` `{shot}` `{step}` `{resource}` `{state}` `{version}`; `[...]` is dropped when
    /// a field inside it is empty.
    pub dir_template: Option<String>,
    /// Deprecated (see `template`): file name template for `template: custom`; adds `{frame}`
    /// and `{ext}`.
    pub file_template: Option<String>,
    /// Where versions are created, relative to the project root. Default: the project root.
    pub root: Option<PathBuf>,
    /// Step used when a rule does not capture one (Ramses uses upper-case step names).
    pub step: String,
    /// Ramses state written into version folder names and the sidecar (`WIP`, `OK`, …); empty
    /// leaves it out.
    pub state: String,
    /// Matching rules tried in order before the built-in ones.
    pub rules: Vec<IngestRule>,
    /// Whether the built-in rules for common vendor names are tried after `rules`.
    pub default_rules: bool,
    /// Longest accepted sequence/shot/step/resource ID.
    pub max_id_len: usize,
    /// How each copy is verified before it gets its final name: `storage` (default: fsync, drop
    /// the cached pages, read back from the disk) or `cache` (fsync, read back through the page
    /// cache: half the disk traffic, but it does not prove what the disk holds).
    pub verify: String,
    /// Parallel copies, at most [`MAX_INGEST_THREADS`]. 0 picks a default suited to disk I/O
    /// (8). Bounded because each copy thread holds a buffer of `buffer_mib`.
    #[serde(deserialize_with = "threads_in_range")]
    pub threads: usize,
    /// Copies are made durable in batches of at most this many MiB: staged in parallel, synced
    /// with one `syncfs`, then verified and renamed. Larger batches mean fewer journal commits;
    /// smaller ones lose less work when an ingest is interrupted.
    pub batch_mib: u64,
    /// Copy buffer size in MiB: large buffers keep disks streaming.
    pub buffer_mib: usize,
    /// Write a middle-frame PNG thumbnail into each version folder.
    pub thumbnails: bool,
    /// Free space to leave on the destination after the copy, in MiB.
    pub reserve_mib: u64,
}

/// Most parallel copies `ingest.threads` (and `--threads`) accept.
pub const MAX_INGEST_THREADS: usize = 256;

/// Reads `ingest.threads`, refusing a value above [`MAX_INGEST_THREADS`] (the parser adds the
/// line and column).
fn threads_in_range<'de, D: serde::Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    let n = <usize as serde::Deserialize>::deserialize(d)?;
    if n > MAX_INGEST_THREADS {
        return Err(serde::de::Error::custom(format!(
            "ingest.threads {n} is more than {MAX_INGEST_THREADS} parallel copies"
        )));
    }
    Ok(n)
}

impl IngestConfig {
    /// Deprecated keys in this section, each with the key that replaces it.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(t) = &self.template {
            let instead = match t.to_ascii_lowercase().as_str() {
                "shotline" | "" => "layout: {preset: shots} (the default)".to_string(),
                "ramses" => "layout: {preset: ramses}".to_string(),
                _ => "layout.templates shot_version and shot_file".to_string(),
            };
            out.push(format!(
                "ingest.template {t:?} is deprecated: write {instead}; ingest now writes where the project layout says (docs/layout.md)"
            ));
        }
        if self.dir_template.is_some() || self.file_template.is_some() {
            out.push(
                "ingest.dir_template and ingest.file_template are deprecated: write layout.templates shot_version and shot_file (docs/layout.md)".to_string(),
            );
        }
        out
    }
}

impl Default for IngestConfig {
    fn default() -> Self {
        Self {
            hash: "xxh128".into(),
            template: None,
            dir_template: None,
            file_template: None,
            root: None,
            step: "PLATE".into(),
            state: String::new(),
            rules: Vec::new(),
            default_rules: true,
            max_id_len: 32,
            verify: "storage".into(),
            threads: 0,
            batch_mib: 2048,
            buffer_mib: 8,
            thumbnails: true,
            reserve_mib: 1024,
        }
    }
}

/// One matching rule: a regex over the clip's base name (no frame number, no extension) with
/// named groups `sequence`, `shot`, `step`, `resource`, `version`, `project`.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct IngestRule {
    /// The regular expression (Rust `regex` syntax), matched against the whole base name.
    pub pattern: String,
    /// Take the sequence from the clip's parent folder when the pattern has no `sequence` group.
    #[serde(default)]
    pub sequence_from_parent: bool,
    /// Prefix stripped from the base name before matching (e.g. a vendor code `ABC_`).
    #[serde(default)]
    pub strip_prefix: Option<String>,
}

#[cfg(test)]
mod tests {
    use crate::parse_str;

    #[test]
    fn the_old_ingest_template_keys_load_with_a_warning_naming_the_layout_key() {
        let c = parse_str("ingest:\n  template: ramses\n").unwrap();
        assert_eq!(c.ingest.template.as_deref(), Some("ramses"));
        let w = c.warnings();
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains("layout: {preset: ramses}"), "{w:?}");
        let c = parse_str(
            "ingest:\n  template: custom\n  dir_template: \"x/v{version}\"\n  file_template: \"{shot}.{ext}\"\n",
        )
        .unwrap();
        let w = c.warnings();
        assert!(w.iter().any(|m| m.contains("shot_version")), "{w:?}");
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(parse_str("ingest:\n  hash: md5\n")
            .unwrap()
            .warnings()
            .is_empty());
    }

    #[test]
    fn ingest_section_parses_rules_and_rejects_typos() {
        let c = parse_str(
            "ingest:\n  hash: md5\n  template: ramses\n  rules:\n    - pattern: '^(?P<shot>\\d+)$'\n      sequence_from_parent: true\n",
        )
        .unwrap();
        assert_eq!(c.ingest.hash, "md5");
        assert_eq!(c.ingest.rules.len(), 1);
        assert!(c.ingest.rules[0].sequence_from_parent);
        assert!(c.ingest.default_rules, "defaults kept");
        let e = parse_str("ingest:\n  hsah: md5\n").unwrap_err();
        assert!(e.contains("hsah"), "{e}");
        let e = parse_str("ingest:\n  rules:\n    - patern: x\n").unwrap_err();
        assert!(e.contains("patern"), "{e}");
    }

    #[test]
    fn threads_are_bounded_with_line_and_column() {
        assert_eq!(
            parse_str("ingest:\n  threads: 256\n")
                .unwrap()
                .ingest
                .threads,
            256
        );
        let e = parse_str("ingest:\n  threads: 100000000\n").unwrap_err();
        assert!(e.contains("100000000") && e.contains("256"), "{e}");
        assert!(e.contains("line 2"), "{e}");
    }
}
