//! The ffmpeg filter graph and arguments. Every file the graph names lives in the run's work
//! folder under a fixed name (`font.ttf`, `slot0.txt`, `display.csp`), and ffmpeg runs in that
//! folder, so no user text or path is ever quoted into the graph.

use shotline_config::SizeMode;

use crate::colour::ColourStep;

/// A frame rate as a fraction (`24000/1001`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Numerator.
    pub num: u32,
    /// Denominator.
    pub den: u32,
}

impl Rate {
    /// The usual fraction for `fps`: NTSC rates exactly, others to a thousandth.
    pub fn from_fps(fps: f64) -> Option<Rate> {
        if !fps.is_finite() || !(1.0..=1000.0).contains(&fps) {
            return None;
        }
        for base in [24u32, 30, 48, 60, 120] {
            if (fps - f64::from(base) * 1000.0 / 1001.0).abs() < 0.005 {
                return Some(Rate {
                    num: base * 1000,
                    den: 1001,
                });
            }
        }
        if (fps - fps.round()).abs() < 1e-6 {
            return Some(Rate {
                num: fps.round() as u32,
                den: 1,
            });
        }
        Some(Rate {
            num: (fps * 1000.0).round() as u32,
            den: 1000,
        })
    }

    /// The whole rate timecode counts at (24 for 23.976).
    pub fn nominal(self) -> u32 {
        (f64::from(self.num) / f64::from(self.den)).round().max(1.0) as u32
    }

    /// As frames per second.
    pub fn as_f64(self) -> f64 {
        f64::from(self.num) / f64::from(self.den)
    }
}

impl std::fmt::Display for Rate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.num, self.den)
    }
}

/// A pixel size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size {
    /// Width.
    pub w: u32,
    /// Height.
    pub h: u32,
}

/// The six burn-in positions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// Top left.
    TopLeft,
    /// Top centre.
    TopCentre,
    /// Top right.
    TopRight,
    /// Bottom left.
    BottomLeft,
    /// Bottom centre.
    BottomCentre,
    /// Bottom right.
    BottomRight,
}

impl Slot {
    fn position(self) -> (&'static str, &'static str) {
        let x = match self {
            Slot::TopLeft | Slot::BottomLeft => "m",
            Slot::TopCentre | Slot::BottomCentre => "(w-text_w)/2",
            Slot::TopRight | Slot::BottomRight => "w-text_w-m",
        };
        let y = match self {
            Slot::TopLeft | Slot::TopCentre | Slot::TopRight => "m",
            _ => "h-text_h-m",
        };
        (x, y)
    }
}

/// Everything the graph depends on.
#[derive(Debug, Clone)]
pub struct GraphSpec {
    /// Size of the frames on disk.
    pub source: Size,
    /// Project resolution.
    pub target: Size,
    /// Fitting mode.
    pub size: SizeMode,
    /// Colour step.
    pub colour: ColourStep,
    /// Movie rate.
    pub rate: Rate,
    /// Whether to put a slate first.
    pub slate: bool,
    /// Burn-in slots and their text file names in the work folder.
    pub burnins: Vec<(Slot, String)>,
    /// Output pixel format (ffmpeg name).
    pub pix_fmt: &'static str,
}

/// The movie size a spec produces.
pub fn output_size(spec: &GraphSpec) -> Size {
    match spec.size {
        SizeMode::Letterbox | SizeMode::Crop => spec.target,
        SizeMode::Fit => fit_inside(spec.source, spec.target),
    }
}

/// `source` scaled to fit inside `target`, keeping its aspect, even dimensions.
fn fit_inside(source: Size, target: Size) -> Size {
    let sx = f64::from(target.w) / f64::from(source.w.max(1));
    let sy = f64::from(target.h) / f64::from(source.h.max(1));
    let s = sx.min(sy);
    let even = |v: f64| ((v / 2.0).round() as u32).max(1) * 2;
    Size {
        w: even(f64::from(source.w) * s).min(target.w.max(2)),
        h: even(f64::from(source.h) * s).min(target.h.max(2)),
    }
}

fn colour_filter(step: &ColourStep) -> Option<String> {
    match step {
        ColourStep::None | ColourStep::DecoderTrc(_) => None,
        ColourStep::Curve(e) => Some(format!("lutrgb=r={e}:g={e}:b={e}")),
        ColourStep::Lut(_) => Some("lut3d=file=display.csp:interp=tetrahedral".into()),
    }
}

fn fit_filter(spec: &GraphSpec) -> String {
    let out = output_size(spec);
    let t = spec.target;
    match spec.size {
        SizeMode::Fit => format!("scale={}:{}", out.w, out.h),
        SizeMode::Letterbox => format!(
            "scale={}:{}:force_original_aspect_ratio=decrease:force_divisible_by=2,\
             pad={}:{}:(ow-iw)/2:(oh-ih)/2:color=black",
            t.w, t.h, t.w, t.h
        ),
        SizeMode::Crop => format!(
            "scale={}:{}:force_original_aspect_ratio=increase,crop={}:{}",
            t.w, t.h, t.w, t.h
        ),
    }
}

/// Burn-in text height: legible on HD, still drawn on tiny test frames.
pub fn burnin_font_size(out: Size) -> u32 {
    (out.h / 28).max(8)
}

fn drawtext(textfile: &str, size: u32, x: &str, y: &str) -> String {
    format!(
        "drawtext=fontfile=font.ttf:textfile={textfile}:fontsize={size}:fontcolor=white:\
         box=1:boxcolor=black@0.6:boxborderw=2:x={x}:y={y}"
    )
}

/// The picture chain: colour, fit, square pixels.
fn picture_chain(spec: &GraphSpec) -> String {
    let mut parts: Vec<String> = colour_filter(&spec.colour).into_iter().collect();
    parts.push(fit_filter(spec));
    parts.push("setsar=1".into());
    parts.join(",")
}

/// The whole graph. Outputs `[movie]` and `[thumb]`.
pub fn filter_graph(spec: &GraphSpec) -> String {
    let out = output_size(spec);
    let chain = picture_chain(spec);
    let fs = burnin_font_size(out);
    let margin = (out.h / 40).max(2);
    let mut pic = format!("[0:v]{chain}");
    for (slot, file) in &spec.burnins {
        let (x, y) = slot.position();
        // `m` in a position is the margin; drawtext's own names (`text_w`) have no `m`.
        let m = margin.to_string();
        pic.push(',');
        pic.push_str(&drawtext(
            file,
            fs,
            &x.replace('m', &m),
            &y.replace('m', &m),
        ));
    }
    let mut g = Vec::new();
    if spec.slate {
        g.push(format!("{pic}[pic]"));
        g.push(format!("[1:v]{chain},split=2[still][thumb]"));
        g.push(format!(
            "color=c=0x202020:s={}x{}:r={},trim=end_frame=1,setsar=1[bg]",
            out.w, out.h, spec.rate
        ));
        g.push(format!(
            "[still]scale={}:{}:force_original_aspect_ratio=decrease:force_divisible_by=2[small]",
            (out.w / 2).max(2),
            (out.h / 2).max(2)
        ));
        let slate_fs = (out.h / 24).max(6);
        g.push(format!(
            "[bg][small]overlay=x=W-w-{margin}:y=H-h-{margin},{}[slate]",
            drawtext(
                "slate.txt",
                slate_fs,
                &margin.to_string(),
                &margin.to_string()
            )
        ));
        g.push(format!(
            "[slate][pic]concat=n=2:v=1:a=0,format={}[movie]",
            spec.pix_fmt
        ));
    } else {
        g.push(format!("{pic},format={}[movie]", spec.pix_fmt));
        g.push(format!("[1:v]{chain}[thumb]"));
    }
    g.join(";\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates() {
        assert_eq!(Rate::from_fps(23.976).unwrap().to_string(), "24000/1001");
        assert_eq!(Rate::from_fps(25.0).unwrap().to_string(), "25/1");
        assert_eq!(Rate::from_fps(23.976).unwrap().nominal(), 24);
        assert!(Rate::from_fps(0.0).is_none());
        assert!(Rate::from_fps(f64::NAN).is_none());
    }

    #[test]
    fn fit_keeps_aspect_even() {
        let s = fit_inside(Size { w: 100, h: 50 }, Size { w: 64, h: 36 });
        assert_eq!(s, Size { w: 64, h: 32 });
    }
}
