//! Middle-frame thumbnails.
//!
//! A PNG per version lets trackers and review pages show what arrived. Linear-light EXR/HDR
//! frames are converted with the sRGB transfer curve (the `image` crate does no colour
//! management) and alpha is kept, so a CG element over black stays readable.

use std::path::Path;

use image::{DynamicImage, ImageBuffer, Rgba};
use shotline_fsio::{write_atomic, Overwrite};

/// Longest side of a thumbnail in pixels.
pub const THUMB_SIZE: u32 = 480;

/// Why a thumbnail could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ThumbError {
    /// The frame could not be decoded (unsupported format such as DPX, or a damaged file).
    #[error("cannot decode {path} for a thumbnail: {message}")]
    Decode {
        /// The frame.
        path: String,
        /// The decoder's message.
        message: String,
    },
    /// The PNG could not be written.
    #[error("cannot write thumbnail {path}: {source}")]
    Io {
        /// The PNG.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
}

/// The sRGB opto-electronic transfer function for one linear value.
pub fn linear_to_srgb(v: f32) -> f32 {
    let v = if v.is_finite() {
        v.clamp(0.0, 1.0)
    } else {
        0.0
    };
    if v <= 0.003_130_8 {
        v * 12.92
    } else {
        1.055 * v.powf(1.0 / 2.4) - 0.055
    }
}

/// Writes a thumbnail of `frame` (an image, or a movie whose middle frame is taken) to `out`:
/// natively for EXR/PNG/JPEG/TIFF, through `ffmpeg` for what the `image` crate cannot read (DPX,
/// movies) when it is installed.
pub fn write_thumbnail(frame: &Path, out: &Path) -> Result<(), ThumbError> {
    match write_thumbnail_native(frame, out) {
        Ok(()) => Ok(()),
        Err(native) => write_thumbnail_ffmpeg(frame, out).map_err(|_| native),
    }
}

/// Longest a thumbnail may take: a damaged or huge movie must not hold the ingest forever.
const FFMPEG_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// Waits for `child` at most `limit`; past it the child is killed and reaped (`Ok(None)`).
fn wait_with_timeout(
    mut child: std::process::Child,
    limit: std::time::Duration,
) -> std::io::Result<Option<std::process::ExitStatus>> {
    let deadline = std::time::Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if std::time::Instant::now() >= deadline {
            let _ = child.kill();
            child.wait()?;
            return Ok(None);
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// The `ffmpeg` route: `thumbnail` picks a representative frame of a movie, `scale` fits it.
fn write_thumbnail_ffmpeg(frame: &Path, out: &Path) -> Result<(), ThumbError> {
    let err = |message: String| ThumbError::Decode {
        path: frame.display().to_string(),
        message,
    };
    let tmp = crate::copy::temp_path(&out.with_extension("ffmpeg.png"));
    let status = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-y", "-i"])
        .arg(frame)
        .args([
            "-vf",
            &format!(
                "thumbnail,scale='min({THUMB_SIZE},iw)':'min({THUMB_SIZE},ih)':force_original_aspect_ratio=decrease"
            ),
            "-frames:v",
            "1",
            "-f",
            "image2",
            "-c:v",
            "png",
        ])
        .arg(&tmp)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| err(format!("ffmpeg not available: {e}")))?;
    let status = match wait_with_timeout(status, FFMPEG_TIMEOUT) {
        Ok(Some(st)) => st,
        Ok(None) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(err(format!(
                "ffmpeg took longer than {} s and was killed",
                FFMPEG_TIMEOUT.as_secs()
            )));
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(err(format!("cannot wait for ffmpeg: {e}")));
        }
    };
    let result = if status.success() {
        std::fs::read(&tmp)
            .map_err(|e| err(e.to_string()))
            .and_then(|png| {
                write_atomic(out, &png, Overwrite::Replace).map_err(|e| ThumbError::Io {
                    path: out.display().to_string(),
                    source: e.into(),
                })
            })
    } else {
        Err(err(format!("ffmpeg failed ({status})")))
    };
    let _ = std::fs::remove_file(&tmp);
    result
}

/// Decodes `frame` with the `image` crate, scales it to fit [`THUMB_SIZE`] and writes an 8-bit
/// RGBA PNG to `out`.
fn write_thumbnail_native(frame: &Path, out: &Path) -> Result<(), ThumbError> {
    let decode = |message: String| ThumbError::Decode {
        path: frame.display().to_string(),
        message,
    };
    let img = image::ImageReader::open(frame)
        .map_err(|e| decode(e.to_string()))?
        .with_guessed_format()
        .map_err(|e| decode(e.to_string()))?
        .decode()
        .map_err(|e| decode(e.to_string()))?;
    let small = if img.width().max(img.height()) > THUMB_SIZE {
        img.thumbnail(THUMB_SIZE, THUMB_SIZE)
    } else {
        img
    };
    let linear = matches!(
        small,
        DynamicImage::ImageRgb32F(_) | DynamicImage::ImageRgba32F(_)
    );
    let rgba8: ImageBuffer<Rgba<u8>, Vec<u8>> = if linear {
        let f = small.to_rgba32f();
        ImageBuffer::from_fn(f.width(), f.height(), |x, y| {
            let p = f.get_pixel(x, y).0;
            let q = |v: f32| (linear_to_srgb(v) * 255.0 + 0.5) as u8;
            let a = (p[3].clamp(0.0, 1.0) * 255.0 + 0.5) as u8;
            Rgba([q(p[0]), q(p[1]), q(p[2]), a])
        })
    } else {
        small.to_rgba8()
    };
    let mut png = Vec::new();
    DynamicImage::ImageRgba8(rgba8)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(|e| decode(e.to_string()))?;
    write_atomic(out, &png, Overwrite::Replace).map_err(|e| ThumbError::Io {
        path: out.display().to_string(),
        source: e.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_past_its_time_is_killed() {
        let child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let r = wait_with_timeout(child, std::time::Duration::from_millis(50)).unwrap();
        assert!(r.is_none());
        let child = std::process::Command::new("true").spawn().unwrap();
        let r = wait_with_timeout(child, std::time::Duration::from_secs(30)).unwrap();
        assert!(r.is_some_and(|s| s.success()));
    }

    #[test]
    fn srgb_curve_endpoints_and_mid_grey() {
        assert_eq!(linear_to_srgb(0.0), 0.0);
        assert!((linear_to_srgb(1.0) - 1.0).abs() < 1e-6);
        assert!((linear_to_srgb(0.18) - 0.4613).abs() < 1e-3);
        assert_eq!(linear_to_srgb(f32::NAN), 0.0);
    }

    #[test]
    fn linear_exr_becomes_srgb_png_with_alpha() {
        let d = tempfile::tempdir().unwrap();
        let exr = d.path().join("f.exr");
        let buf: image::Rgba32FImage =
            ImageBuffer::from_pixel(8, 4, Rgba([0.18f32, 0.18, 0.18, 0.5]));
        DynamicImage::ImageRgba32F(buf).save(&exr).unwrap();
        let png = d.path().join("t.png");
        write_thumbnail(&exr, &png).unwrap();
        let t = image::open(&png).unwrap().to_rgba8();
        let p = t.get_pixel(0, 0).0;
        assert!((p[0] as i32 - 118).abs() <= 1, "{p:?}");
        assert!((p[3] as i32 - 128).abs() <= 1, "{p:?}");
    }
}
