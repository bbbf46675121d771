//! `layout:` section.

/// Where things live: path templates with named fields, parsed back by validate and disk.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct LayoutConfig {}
