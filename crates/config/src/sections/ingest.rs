//! `ingest:` section.

/// Delivery ingest: matching rules, hash algorithm, destination templates.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct IngestConfig {}
