//! Movies through `ffprobe -v error -print_format json -show_format -show_streams`, parsed with
//! our own serde structs. Each run is bounded in time (killed after the configured timeout) and
//! in memory (output capped), so one hung network file cannot stall a whole probe.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::info::{Channel, MediaInfo, Rational, Status};
use crate::timecode::Timecode;

/// File extensions handed to ffprobe.
pub const MOVIE_EXTENSIONS: &[&str] = &[
    "mov", "mp4", "m4v", "mxf", "mkv", "avi", "webm", "mpg", "mpeg", "ts", "mts", "m2ts", "r3d",
    "braw", "ari", "dnxhd", "y4m", "gif", "wmv", "flv", "ogv",
];

/// Most bytes of ffprobe output accepted.
const MAX_OUTPUT: u64 = 16 * 1024 * 1024;

#[derive(Debug, Deserialize)]
struct Output {
    #[serde(default)]
    streams: Vec<Stream>,
    format: Option<Container>,
}

#[derive(Debug, Deserialize)]
struct Stream {
    codec_type: Option<String>,
    codec_name: Option<String>,
    width: Option<u64>,
    height: Option<u64>,
    r_frame_rate: Option<String>,
    avg_frame_rate: Option<String>,
    nb_frames: Option<String>,
    duration: Option<String>,
    pix_fmt: Option<String>,
    sample_aspect_ratio: Option<String>,
    bits_per_raw_sample: Option<String>,
    color_space: Option<String>,
    color_transfer: Option<String>,
    color_primaries: Option<String>,
    color_range: Option<String>,
    profile: Option<String>,
    #[serde(default)]
    tags: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct Container {
    format_name: Option<String>,
    duration: Option<String>,
    #[serde(default)]
    tags: BTreeMap<String, serde_json::Value>,
}

/// Finds an executable: a path with a separator is checked as is, a bare name is looked up on
/// `PATH`. `None` when there is no such file.
pub fn resolve_executable(name: &Path) -> Option<PathBuf> {
    if name.components().count() > 1 || name.is_absolute() {
        return name.is_file().then(|| name.to_path_buf());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn rational(s: Option<&str>) -> Option<Rational> {
    let (n, d) = s?.split_once('/')?;
    let r = Rational {
        num: n.trim().parse().ok()?,
        den: d.trim().parse().ok()?,
    };
    (r.num > 0 && r.den > 0).then_some(r)
}

fn tag(tags: &BTreeMap<String, serde_json::Value>, key: &str) -> Option<String> {
    tags.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .and_then(|(_, v)| v.as_str().map(str::to_string))
}

/// Runs ffprobe on `path` and fills `info` (format is already `movie`).
pub(crate) fn probe(ffprobe: &Path, timeout: Duration, path: &Path, info: &mut MediaInfo) {
    let out = match run(ffprobe, timeout, path) {
        Ok(o) => o,
        Err((status, reason)) => return info.fail(status, reason),
    };
    let parsed: Output = match serde_json::from_slice(&out) {
        Ok(p) => p,
        Err(e) => {
            return info.fail(
                Status::Unreadable,
                format!("cannot parse ffprobe output: {e}"),
            )
        }
    };
    fill(info, parsed);
}

fn fill(info: &mut MediaInfo, parsed: Output) {
    let video = parsed
        .streams
        .iter()
        .find(|s| s.codec_type.as_deref() == Some("video"));
    if let Some(f) = &parsed.format {
        if let Some(n) = &f.format_name {
            info.metadata.insert("container".into(), n.clone());
        }
        info.duration = f.duration.as_deref().and_then(|d| d.parse().ok());
        for (key, name) in [
            ("encoder", "software"),
            ("creation_time", "capture_date"),
            ("com.apple.quicktime.make", "make"),
            ("com.apple.quicktime.model", "model"),
            ("reel_name", "reel"),
        ] {
            if let Some(v) = tag(&f.tags, key) {
                info.metadata.insert(name.into(), v);
            }
        }
        info.timecode = tag(&f.tags, "timecode");
    }
    let Some(v) = video else {
        info.fail(Status::Corrupt, "no video stream");
        return;
    };
    info.codec = v.codec_name.clone();
    info.compression = v.codec_name.clone();
    info.width = v.width;
    info.height = v.height;
    let rate = rational(v.avg_frame_rate.as_deref()).or(rational(v.r_frame_rate.as_deref()));
    info.fps_rational = rate;
    info.fps = rate.map(|r| r.as_f64());
    info.frame_count = v.nb_frames.as_deref().and_then(|n| n.parse().ok());
    if info.duration.is_none() {
        info.duration = v.duration.as_deref().and_then(|d| d.parse().ok());
    }
    if info.frame_count.is_none() {
        if let (Some(d), Some(r)) = (info.duration, rate) {
            info.frame_count = Some((d * r.as_f64()).round() as u64);
        }
    }
    if let Some(sar) = rational(
        v.sample_aspect_ratio
            .as_deref()
            .map(|s| s.replace(':', "/"))
            .as_deref(),
    ) {
        info.pixel_aspect = Some(sar.as_f64());
    }
    info.bit_depth = v
        .bits_per_raw_sample
        .as_deref()
        .and_then(|b| b.parse().ok());
    if let Some(p) = &v.pix_fmt {
        info.metadata.insert("pix_fmt".into(), p.clone());
        info.channels.push(Channel {
            name: p.clone(),
            sample_type: info
                .bit_depth
                .map_or_else(|| "video".to_string(), |b| format!("uint{b}")),
            part: None,
        });
    }
    if let Some(p) = &v.profile {
        info.metadata.insert("profile".into(), p.clone());
    }
    for (k, val) in [
        ("color_space", &v.color_space),
        ("color_transfer", &v.color_transfer),
        ("color_primaries", &v.color_primaries),
        ("color_range", &v.color_range),
    ] {
        if let Some(x) = val {
            info.colour.insert(k.into(), x.clone());
        }
    }
    // Start timecode: the video stream's tag, else a tmcd data stream, else the container's.
    let stream_tc = parsed
        .streams
        .iter()
        .filter_map(|s| tag(&s.tags, "timecode"))
        .next();
    if let Some(tc) = stream_tc {
        info.timecode = Some(tc);
    }
    if let Some(tc) = &info.timecode {
        if let Some(parsed) = Timecode::parse(tc) {
            info.timecode = Some(parsed.to_string());
        }
    }
}

/// Spawns ffprobe with a deadline; returns its stdout or a (status, reason).
fn run(ffprobe: &Path, timeout: Duration, path: &Path) -> Result<Vec<u8>, (Status, String)> {
    let mut child = Command::new(ffprobe)
        .args([
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_format",
            "-show_streams",
        ])
        .arg(path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            (
                Status::Unreadable,
                format!("cannot run ffprobe ({}): {e}", ffprobe.display()),
            )
        })?;
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let out_thread = std::thread::spawn(move || {
        let mut v = Vec::new();
        if let Some(s) = stdout.as_mut() {
            let _ = s.take(MAX_OUTPUT).read_to_end(&mut v);
        }
        v
    });
    let err_thread = std::thread::spawn(move || {
        let mut v = Vec::new();
        if let Some(s) = stderr.as_mut() {
            let _ = s.take(64 * 1024).read_to_end(&mut v);
        }
        v
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err((
                    Status::Unreadable,
                    format!("ffprobe did not finish within {} s", timeout.as_secs()),
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(2)),
            Err(e) => return Err((Status::Unreadable, format!("waiting for ffprobe: {e}"))),
        }
    };
    let out = out_thread.join().unwrap_or_default();
    let err = err_thread.join().unwrap_or_default();
    if !status.success() {
        let msg = String::from_utf8_lossy(&err);
        let msg = msg
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        // ffprobe prints "<path>: <problem>"; keep the problem.
        let problem = msg
            .rsplit_once(": ")
            .map_or(msg, |(_, p)| p)
            .trim()
            .to_string();
        let lower = problem.to_ascii_lowercase();
        let status = if lower.contains("moov atom not found")
            || lower.contains("end of file")
            || lower.contains("truncat")
        {
            Status::Truncated
        } else {
            Status::Corrupt
        };
        return Err((
            status,
            format!(
                "ffprobe cannot read the file: {}",
                if problem.is_empty() {
                    "unknown error"
                } else {
                    &problem
                }
            ),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ffprobe_json() {
        let json = br#"{"streams":[{"codec_type":"video","codec_name":"prores","width":1920,
            "height":1080,"r_frame_rate":"24000/1001","avg_frame_rate":"24000/1001",
            "nb_frames":"48","pix_fmt":"yuv422p10le","tags":{"timecode":"01:00:00:00"}}],
            "format":{"format_name":"mov","duration":"2.002000","tags":{"encoder":"Lavf"}}}"#;
        let parsed: Output = serde_json::from_slice(json).unwrap();
        let mut info = MediaInfo::new("a.mov".into(), crate::Format::Movie, 10);
        fill(&mut info, parsed);
        assert_eq!(
            info.fps_rational,
            Some(Rational {
                num: 24000,
                den: 1001
            })
        );
        assert_eq!(info.frame_count, Some(48));
        assert_eq!(info.timecode.as_deref(), Some("01:00:00:00"));
        assert_eq!(info.codec.as_deref(), Some("prores"));
        assert_eq!(info.status, Status::Ok);
    }

    #[test]
    fn no_video_stream_is_corrupt() {
        let parsed: Output = serde_json::from_slice(br#"{"streams":[],"format":{}}"#).unwrap();
        let mut info = MediaInfo::new("a.mov".into(), crate::Format::Movie, 10);
        fill(&mut info, parsed);
        assert_eq!(info.status, Status::Corrupt);
    }
}
