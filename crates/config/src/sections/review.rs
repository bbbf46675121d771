//! `review:` section: review-movie presets, the display transform and the tools that make them.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// Review movies: user presets (added to, or replacing, the built-in ones), the colour transform
/// from linear frames to the display, and where ffmpeg, ociobakelut and the font are.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReviewConfig {
    /// Preset used when `--preset` is not given.
    pub default_preset: String,
    /// Presets by name; a name shared with a built-in replaces it.
    pub presets: BTreeMap<String, ReviewPreset>,
    /// Transfer applied to linear EXR/DPX frames when no OCIO config is given.
    pub display: DisplayTransfer,
    /// An OpenColorIO transform, baked to a 3D LUT, used instead of `display`.
    pub ocio: Option<OcioConfig>,
    /// A TrueType/OpenType font for the slate and burn-ins; `None` asks fontconfig (`fc-match`),
    /// then known DejaVu paths.
    pub font: Option<PathBuf>,
    /// The ffmpeg executable (a name on `PATH` or a path).
    pub ffmpeg: PathBuf,
    /// The ociobakelut executable (OpenColorIO tools).
    pub ociobakelut: PathBuf,
    /// Seconds one encode may take before it is stopped, so a hung encoder cannot block a
    /// render queue or a nightly script.
    pub timeout_secs: u64,
}

impl Default for ReviewConfig {
    fn default() -> Self {
        Self {
            default_preset: "h264".into(),
            presets: BTreeMap::new(),
            display: DisplayTransfer::Srgb,
            ocio: None,
            font: None,
            ffmpeg: PathBuf::from("ffmpeg"),
            ociobakelut: PathBuf::from("ociobakelut"),
            timeout_secs: 3600,
        }
    }
}

/// The transfer function that turns scene-linear frames into display code values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DisplayTransfer {
    /// IEC 61966-2-1 sRGB (computer monitors).
    Srgb,
    /// ITU-R BT.709 camera transfer (HD video).
    Rec709,
}

/// `review.ocio`: which OCIO config and which transform to bake.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct OcioConfig {
    /// The `config.ocio` file (relative to the project root).
    pub config: PathBuf,
    /// The colour space the frames are in (`ACEScg`, `lin_rec709`).
    pub input: String,
    /// Display name (`sRGB`).
    pub display: String,
    /// View name (`ACES 1.0 - SDR Video`).
    pub view: String,
}

/// One review preset. Only `codec` is required; the rest default per codec.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewPreset {
    /// Encoder and profile.
    pub codec: ReviewCodec,
    /// Pixel format of the movie; `None` takes the codec's usual one.
    #[serde(default)]
    pub pix_fmt: Option<PixFmt>,
    /// H.264 constant rate factor (0-51, lower is better); ignored by other codecs.
    #[serde(default)]
    pub crf: Option<u8>,
    /// How frames of another size meet the project resolution.
    #[serde(default)]
    pub size: SizeMode,
    /// Whose frame rate the movie plays at.
    #[serde(default)]
    pub fps: FpsSource,
    /// Whether the first frame is a slate.
    #[serde(default = "yes")]
    pub slate: bool,
    /// Burn-in templates, by slot; `None` keeps the built-in layout.
    #[serde(default)]
    pub burnins: Option<Burnins>,
}

fn yes() -> bool {
    true
}

/// Encoders and profiles a review movie can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReviewCodec {
    /// Apple ProRes 422 HQ (10-bit 4:2:2).
    Prores422hq,
    /// Apple ProRes 4444 (10-bit 4:4:4, keeps alpha).
    Prores4444,
    /// H.264 (libx264), for web and laptops.
    H264,
    /// Avid DNxHR HQ (8-bit 4:2:2).
    DnxhrHq,
}

/// Pixel formats review movies are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PixFmt {
    /// 8-bit 4:2:0.
    Yuv420p,
    /// 8-bit 4:2:2.
    Yuv422p,
    /// 10-bit 4:2:2.
    Yuv422p10le,
    /// 10-bit 4:4:4.
    Yuv444p10le,
    /// 10-bit 4:4:4 with alpha.
    Yuva444p10le,
}

/// How frames whose size differs from the project resolution are fitted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SizeMode {
    /// Scale to fit inside the project resolution, keeping the aspect; the movie takes the
    /// scaled size (no bars).
    Fit,
    /// Scale to fit inside and pad with black bars to exactly the project resolution.
    #[default]
    Letterbox,
    /// Scale to fill the project resolution and crop what overflows.
    Crop,
}

/// Whose frame rate the movie uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FpsSource {
    /// The project's rate.
    Project,
    /// The shot's rate when it has its own, else the project's.
    #[default]
    Shot,
}

/// The six burn-in slots. Templates may use `{project} {shot} {step} {version} {artist} {date}
/// {frame} {timecode} {range} {comment}`; `{{` and `}}` are literal braces.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Burnins {
    /// Top left.
    pub top_left: Option<BurninTemplate>,
    /// Top centre.
    pub top_centre: Option<BurninTemplate>,
    /// Top right.
    pub top_right: Option<BurninTemplate>,
    /// Bottom left.
    pub bottom_left: Option<BurninTemplate>,
    /// Bottom centre.
    pub bottom_centre: Option<BurninTemplate>,
    /// Bottom right.
    pub bottom_right: Option<BurninTemplate>,
}

/// The fields a burn-in template may name.
pub const BURNIN_FIELDS: &[&str] = &[
    "project", "shot", "step", "version", "artist", "date", "frame", "timecode", "range", "comment",
];

/// A burn-in template whose `{field}` names were checked when the config was read, so a typo
/// is an error with line and column rather than a literal `{shto}` on every frame.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct BurninTemplate(String);

impl BurninTemplate {
    /// Checks `text` and wraps it.
    pub fn new(text: &str) -> Result<BurninTemplate, String> {
        check_template(text)?;
        Ok(BurninTemplate(text.to_string()))
    }

    /// The template text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> serde::Deserialize<'de> for BurninTemplate {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        BurninTemplate::new(&text).map_err(serde::de::Error::custom)
    }
}

/// Every `{name}` must be a known field; `{{`/`}}` are escapes; braces must pair.
fn check_template(text: &str) -> Result<(), String> {
    let mut rest = text;
    while let Some(i) = rest.find(['{', '}']) {
        let tail = &rest[i..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            rest = &tail[2..];
            continue;
        }
        if tail.starts_with('}') {
            return Err(format!(
                "burn-in template {text:?}: unpaired '}}' (write '}}}}' for a brace)"
            ));
        }
        let Some(end) = tail.find('}') else {
            return Err(format!("burn-in template {text:?}: '{{' without '}}'"));
        };
        let name = &tail[1..end];
        if !BURNIN_FIELDS.contains(&name) {
            return Err(format!(
                "burn-in template {text:?}: unknown field {{{name}}}; expected one of {}",
                BURNIN_FIELDS.join(", ")
            ));
        }
        rest = &tail[end + 1..];
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates() {
        assert!(BurninTemplate::new("{shot} {frame} {{x}}").is_ok());
        assert!(BurninTemplate::new("{shto}").unwrap_err().contains("shto"));
        assert!(BurninTemplate::new("{shot").is_err());
        assert!(BurninTemplate::new("a}b").is_err());
    }

    #[test]
    fn preset_errors_name_line() {
        let bad = "review:\n  presets:\n    mine:\n      codec: h264\n      sizee: fit\n";
        let err = crate::parse_str(bad).unwrap_err();
        assert!(err.contains("sizee") && err.contains('5'), "{err}");
        let bad = "review:\n  presets:\n    mine:\n      codec: h264\n      burnins:\n        top_left: \"{shto}\"\n";
        let err = crate::parse_str(bad).unwrap_err();
        assert!(err.contains("shto") && err.contains('6'), "{err}");
        let ok = "review:\n  presets:\n    mine:\n      codec: prores4444\n      size: crop\n";
        let c = crate::parse_str(ok).unwrap();
        assert_eq!(c.review.presets["mine"].size, SizeMode::Crop);
    }
}
