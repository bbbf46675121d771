//! `render:` section.

/// The local render queue: reservations, concurrency, retention.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RenderConfig {}
