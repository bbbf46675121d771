//! Presets: the built-in ones and those from `review.presets`, resolved to the encoder
//! arguments they imply.

use shotline_config::{
    BurninTemplate, Burnins, FpsSource, PixFmt, ReviewCodec, ReviewConfig, ReviewPreset, SizeMode,
};

use crate::error::{Result, ReviewError};

/// A preset ready to encode with: every choice made, checked against its codec.
#[derive(Debug, Clone, PartialEq)]
pub struct Preset {
    /// Its name.
    pub name: String,
    /// Encoder and profile.
    pub codec: ReviewCodec,
    /// Pixel format.
    pub pix_fmt: PixFmt,
    /// H.264 quality.
    pub crf: u8,
    /// Fitting to the project resolution.
    pub size: SizeMode,
    /// Frame-rate source.
    pub fps: FpsSource,
    /// Slate on or off.
    pub slate: bool,
    /// Burn-in templates.
    pub burnins: Burnins,
}

/// Names of the built-in presets.
pub const BUILTIN: &[&str] = &["prores422hq", "prores4444", "h264", "dnxhr_hq"];

fn builtin(name: &str) -> Option<ReviewPreset> {
    let codec = match name {
        "prores422hq" => ReviewCodec::Prores422hq,
        "prores4444" => ReviewCodec::Prores4444,
        "h264" => ReviewCodec::H264,
        "dnxhr_hq" => ReviewCodec::DnxhrHq,
        _ => return None,
    };
    Some(ReviewPreset {
        codec,
        pix_fmt: None,
        crf: None,
        size: SizeMode::Letterbox,
        fps: FpsSource::Shot,
        slate: true,
        burnins: None,
    })
}

/// The burn-ins of every preset that sets none: who and what on top, where in the sequence at
/// the bottom.
pub fn default_burnins() -> Burnins {
    let t = |s: &str| BurninTemplate::new(s).ok();
    Burnins {
        top_left: t("{project} {shot}"),
        top_centre: t("{step} {version}"),
        top_right: t("{artist} {date}"),
        bottom_left: t("{range}"),
        bottom_centre: t("{timecode}"),
        bottom_right: t("{frame}"),
    }
}

/// Looks `name` up (configured presets first, so a studio can redefine a built-in) and checks
/// it.
pub fn resolve(name: &str, cfg: &ReviewConfig) -> Result<Preset> {
    let raw = cfg
        .presets
        .get(name)
        .cloned()
        .or_else(|| builtin(name))
        .ok_or_else(|| ReviewError::UnknownPreset {
            name: name.to_string(),
            known: known(cfg),
        })?;
    let pix_fmt = raw.pix_fmt.unwrap_or(default_pix_fmt(raw.codec));
    check_pix_fmt(name, raw.codec, pix_fmt)?;
    let crf = raw.crf.unwrap_or(18);
    if crf > 51 {
        return Err(ReviewError::BadPreset {
            preset: name.to_string(),
            problem: format!("crf {crf} is out of range 0-51"),
        });
    }
    Ok(Preset {
        name: name.to_string(),
        codec: raw.codec,
        pix_fmt,
        crf,
        size: raw.size,
        fps: raw.fps,
        slate: raw.slate,
        burnins: raw.burnins.unwrap_or_else(default_burnins),
    })
}

fn known(cfg: &ReviewConfig) -> String {
    let mut names: Vec<&str> = BUILTIN.to_vec();
    names.extend(cfg.presets.keys().map(String::as_str));
    names.sort_unstable();
    names.dedup();
    names.join(", ")
}

fn default_pix_fmt(codec: ReviewCodec) -> PixFmt {
    match codec {
        ReviewCodec::Prores422hq => PixFmt::Yuv422p10le,
        ReviewCodec::Prores4444 => PixFmt::Yuva444p10le,
        ReviewCodec::H264 => PixFmt::Yuv420p,
        ReviewCodec::DnxhrHq => PixFmt::Yuv422p,
    }
}

/// Refuses a pixel format the encoder would silently convert away from.
fn check_pix_fmt(name: &str, codec: ReviewCodec, fmt: PixFmt) -> Result<()> {
    let ok = match codec {
        ReviewCodec::Prores422hq => matches!(fmt, PixFmt::Yuv422p10le),
        ReviewCodec::Prores4444 => matches!(fmt, PixFmt::Yuv444p10le | PixFmt::Yuva444p10le),
        ReviewCodec::H264 => matches!(fmt, PixFmt::Yuv420p | PixFmt::Yuv422p),
        ReviewCodec::DnxhrHq => matches!(fmt, PixFmt::Yuv422p),
    };
    if ok {
        Ok(())
    } else {
        Err(ReviewError::BadPreset {
            preset: name.to_string(),
            problem: format!("{} cannot encode {}", codec_name(codec), pix_fmt_name(fmt)),
        })
    }
}

/// The ffmpeg spelling of a pixel format.
pub fn pix_fmt_name(fmt: PixFmt) -> &'static str {
    match fmt {
        PixFmt::Yuv420p => "yuv420p",
        PixFmt::Yuv422p => "yuv422p",
        PixFmt::Yuv422p10le => "yuv422p10le",
        PixFmt::Yuv444p10le => "yuv444p10le",
        PixFmt::Yuva444p10le => "yuva444p10le",
    }
}

/// A readable codec name.
pub fn codec_name(codec: ReviewCodec) -> &'static str {
    match codec {
        ReviewCodec::Prores422hq => "ProRes 422 HQ",
        ReviewCodec::Prores4444 => "ProRes 4444",
        ReviewCodec::H264 => "H.264",
        ReviewCodec::DnxhrHq => "DNxHR HQ",
    }
}

impl Preset {
    /// The movie's file extension.
    pub fn extension(&self) -> &'static str {
        match self.codec {
            ReviewCodec::H264 => "mp4",
            _ => "mov",
        }
    }

    /// Encoder arguments (after the filter graph's output is mapped).
    pub fn encoder_args(&self) -> Vec<String> {
        let mut a: Vec<&str> = match self.codec {
            ReviewCodec::Prores422hq => {
                vec!["-c:v", "prores_ks", "-profile:v", "3", "-vendor", "apl0"]
            }
            ReviewCodec::Prores4444 => {
                vec![
                    "-c:v",
                    "prores_ks",
                    "-profile:v",
                    "4",
                    "-vendor",
                    "apl0",
                    "-alpha_bits",
                    "16",
                ]
            }
            ReviewCodec::H264 => vec![
                "-c:v",
                "libx264",
                "-preset",
                "medium",
                "-movflags",
                "+faststart",
            ],
            ReviewCodec::DnxhrHq => vec!["-c:v", "dnxhd", "-profile:v", "dnxhr_hq"],
        };
        a.extend(["-pix_fmt", pix_fmt_name(self.pix_fmt)]);
        let mut out: Vec<String> = a.into_iter().map(String::from).collect();
        if self.codec == ReviewCodec::H264 {
            out.extend(["-crf".to_string(), self.crf.to_string()]);
        }
        out
    }

    /// Whether the movie keeps an alpha channel.
    pub fn has_alpha(&self) -> bool {
        self.pix_fmt == PixFmt::Yuva444p10le
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_resolve_and_bad_combinations_fail() {
        let cfg = ReviewConfig::default();
        for name in BUILTIN {
            resolve(name, &cfg).unwrap();
        }
        assert!(resolve("nope", &cfg)
            .unwrap_err()
            .to_string()
            .contains("h264"));
        let mut cfg = ReviewConfig::default();
        let mut p = builtin("h264").unwrap();
        p.pix_fmt = Some(PixFmt::Yuva444p10le);
        cfg.presets.insert("bad".into(), p);
        assert!(resolve("bad", &cfg).is_err());
        assert!(resolve("prores4444", &cfg).unwrap().has_alpha());
    }
}
