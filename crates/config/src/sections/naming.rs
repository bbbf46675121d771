//! `naming:` section.

/// Naming rules: a regex per kind of file.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct NamingConfig {}
