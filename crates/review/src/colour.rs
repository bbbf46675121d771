//! From the frames' encoding to display code values.
//!
//! Scene-linear EXR goes through ffmpeg's EXR decoder with the display transfer applied
//! (`-apply_trc`); linear DPX through a per-channel curve (`lutrgb`); display-referred images
//! (PNG, JPEG, TIFF, video-transfer DPX) are shown as they are. An OCIO config is baked by
//! `ociobakelut` into a Cinespace LUT (1D shaper + 3D cube, which ffmpeg's `lut3d` reads) and
//! replaces all of that. Anything else (log DPX without OCIO, an OCIO view this ociobakelut
//! cannot bake) is an error: a silently wrong movie is worse than none.

use std::path::{Path, PathBuf};
use std::process::Command;

use shotline_config::{DisplayTransfer, OcioConfig};

use crate::error::{Result, ReviewError};

/// How the frames are encoded, as far as colour goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceEncoding {
    /// Scene-linear floating point (EXR).
    LinearExr,
    /// Linear integer DPX.
    LinearDpx,
    /// Already display-referred (PNG, JPEG, TIFF, video-transfer DPX).
    Display,
    /// An encoding only an OCIO config can interpret (log or printing-density DPX).
    NeedsOcio(String),
}

/// The colour step of the filter graph.
#[derive(Debug, Clone, PartialEq)]
pub enum ColourStep {
    /// Nothing to do.
    None,
    /// The EXR decoder applies this ffmpeg transfer name.
    DecoderTrc(&'static str),
    /// A `lutrgb` curve expression (applied per channel).
    Curve(String),
    /// A baked 3D LUT file (`lut3d`).
    Lut(PathBuf),
}

/// What the first frame says about its encoding.
pub fn source_encoding(first: &Path) -> SourceEncoding {
    let ext = first
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "exr" => SourceEncoding::LinearExr,
        "dpx" => {
            let info = shotline_media::probe(first);
            match info.colour.get("transfer").map(String::as_str) {
                Some("linear") => SourceEncoding::LinearDpx,
                Some("ITU-R 709-4" | "SMPTE 274M" | "unspecified video" | "IEC 61966-2-1 sRGB") => {
                    SourceEncoding::Display
                }
                Some(other) => SourceEncoding::NeedsOcio(format!("DPX transfer {other:?}")),
                None => SourceEncoding::NeedsOcio("DPX without a transfer characteristic".into()),
            }
        }
        _ => SourceEncoding::Display,
    }
}

/// The step for `source` under the config: OCIO when configured, else the display transfer.
pub fn plan(
    source: &SourceEncoding,
    display: DisplayTransfer,
    ocio: Option<&BakedLut>,
) -> Result<ColourStep> {
    if let Some(lut) = ocio {
        return Ok(ColourStep::Lut(lut.path.clone()));
    }
    Ok(match source {
        SourceEncoding::LinearExr => ColourStep::DecoderTrc(match display {
            DisplayTransfer::Srgb => "iec61966_2_1",
            DisplayTransfer::Rec709 => "bt709",
        }),
        SourceEncoding::LinearDpx => ColourStep::Curve(curve(display)),
        SourceEncoding::Display => ColourStep::None,
        SourceEncoding::NeedsOcio(what) => {
            return Err(ReviewError::Colour(format!(
                "{what} cannot be shown without a colour transform for it; set review.ocio \
                 (config, input, display, view)"
            )))
        }
    })
}

/// The transfer as a `lutrgb` expression over `val` in `0..maxval`.
fn curve(display: DisplayTransfer) -> String {
    let (lin_limit, lin_gain, a, gamma) = match display {
        DisplayTransfer::Srgb => (0.003_130_8, 12.92, 0.055, 1.0 / 2.4),
        DisplayTransfer::Rec709 => (0.018, 4.5, 0.099, 0.45),
    };
    format!(
        "if(lt(val/maxval\\,{lin_limit})\\,val*{lin_gain}\\,maxval*({}*pow(val/maxval\\,{gamma})-{a}))",
        1.0 + a
    )
}

/// A LUT baked from an OCIO config for this run.
#[derive(Debug)]
pub struct BakedLut {
    /// The `.csp` file.
    pub path: PathBuf,
}

/// Bakes `ocio` into `dir/display.csp` with `ociobakelut`.
pub fn bake(
    ociobakelut: &Path,
    ocio: &OcioConfig,
    config_path: &Path,
    dir: &Path,
) -> Result<BakedLut> {
    if !config_path.is_file() {
        return Err(ReviewError::Colour(format!(
            "OCIO config {} does not exist (review.ocio.config)",
            config_path.display()
        )));
    }
    let text =
        std::fs::read_to_string(config_path).map_err(crate::error::io("read", config_path))?;
    let output_space = view_colourspace(&text, &ocio.display, &ocio.view).ok_or_else(|| {
        ReviewError::Colour(format!(
            "{}: display {:?} has no view {:?} with a colorspace; this ociobakelut bakes only \
             views that name a colour space",
            config_path.display(),
            ocio.display,
            ocio.view
        ))
    })?;
    let path = dir.join("display.csp");
    let out = Command::new(ociobakelut)
        .arg("--iconfig")
        .arg(config_path)
        .args(["--inputspace", &ocio.input, "--outputspace", &output_space])
        .args(["--format", "cinespace"])
        .arg(&path)
        .output()
        .map_err(|error| ReviewError::ToolMissing {
            tool: "ociobakelut",
            path: ociobakelut.to_path_buf(),
            error,
        })?;
    if !out.status.success() || !path.is_file() {
        return Err(ReviewError::ToolFailed {
            tool: "ociobakelut",
            status: out.status.to_string(),
            stderr: tail(&out.stderr),
        });
    }
    Ok(BakedLut { path })
}

/// The colour space of `display`/`view` in an OCIO config, from its `displays:` block
/// (`- !<View> {name: Film, colorspace: srgb8}` or the block form). `None` when the view is not
/// there or uses a view transform instead of a colour space.
pub fn view_colourspace(config: &str, display: &str, view: &str) -> Option<String> {
    let mut lines = config
        .lines()
        .skip_while(|l| l.trim_end() != "displays:")
        .skip(1);
    let mut in_display = false;
    let mut display_indent = 0;
    let mut pending_name: Option<String> = None;
    for line in lines.by_ref() {
        let indent = line.len() - line.trim_start().len();
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        if indent == 0 {
            break;
        }
        if t.ends_with(':') && !t.starts_with('-') {
            let key = t.trim_end_matches(':').trim().trim_matches(['"', '\'']);
            in_display = key == display;
            display_indent = indent;
            continue;
        }
        if !in_display || indent <= display_indent {
            continue;
        }
        let name = value_of(t, "name");
        let space = value_of(t, "colorspace");
        if name.is_some() {
            pending_name = name;
        }
        if let (Some(n), Some(s)) = (&pending_name, space) {
            if n == view {
                return Some(s);
            }
        }
    }
    None
}

/// `key: value` inside a flow or block mapping line.
fn value_of(line: &str, key: &str) -> Option<String> {
    let body = line.trim_start_matches(['-', ' ']);
    let body = body.strip_prefix("!<View>").unwrap_or(body).trim();
    let body = body.trim_start_matches('{').trim_end_matches('}');
    body.split(',').find_map(|part| {
        let (k, v) = part.split_once(':')?;
        (k.trim() == key).then(|| v.trim().trim_matches(['"', '\'']).to_string())
    })
}

/// The last 2000 bytes of a tool's stderr, as text.
pub(crate) fn tail(bytes: &[u8]) -> String {
    let start = bytes.len().saturating_sub(2000);
    String::from_utf8_lossy(&bytes[start..]).trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_are_found() {
        let cfg = "ocio_profile_version: 1\ndisplays:\n  sRGB:\n    - !<View> {name: Raw, colorspace: raw}\n    - !<View> {name: Film, colorspace: srgb8}\n  P3:\n    - !<View>\n      name: Film\n      colorspace: p3film\nactive_displays: []\n";
        assert_eq!(
            view_colourspace(cfg, "sRGB", "Film").as_deref(),
            Some("srgb8")
        );
        assert_eq!(
            view_colourspace(cfg, "P3", "Film").as_deref(),
            Some("p3film")
        );
        assert_eq!(view_colourspace(cfg, "sRGB", "Nope"), None);
    }

    #[test]
    fn log_without_ocio_is_an_error() {
        let e = plan(
            &SourceEncoding::NeedsOcio("DPX transfer \"logarithmic\"".into()),
            DisplayTransfer::Srgb,
            None,
        );
        assert!(e.unwrap_err().to_string().contains("review.ocio"));
        assert_eq!(
            plan(&SourceEncoding::LinearExr, DisplayTransfer::Rec709, None).unwrap(),
            ColourStep::DecoderTrc("bt709")
        );
    }
}
