//! `project:` section.

/// Project identity and technical defaults. Checks compare media against these (fps, resolution)
/// and `shotline init` writes them.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProjectConfig {
    /// Short project code, used in names and the store (e.g. `DEMO`); one safe path component.
    #[serde(deserialize_with = "crate::check::code")]
    pub code: String,
    /// Human-readable name.
    pub name: String,
    /// Frames per second of the project (e.g. 24, 23.976, 25); above 0, at most 1000.
    #[serde(deserialize_with = "crate::check::fps")]
    pub fps: f64,
    /// Working resolution width in pixels.
    #[serde(deserialize_with = "crate::check::pixels")]
    pub width: u32,
    /// Working resolution height in pixels.
    #[serde(deserialize_with = "crate::check::pixels")]
    pub height: u32,
    /// Pixel aspect ratio.
    #[serde(deserialize_with = "crate::check::ratio")]
    pub pixel_aspect: f64,
    /// Default first frame of a shot.
    #[serde(deserialize_with = "crate::check::frame")]
    pub start_frame: i64,
}

impl Default for ProjectConfig {
    fn default() -> Self {
        Self {
            code: String::new(),
            name: String::new(),
            fps: 24.0,
            width: 1920,
            height: 1080,
            pixel_aspect: 1.0,
            start_frame: 1001,
        }
    }
}
