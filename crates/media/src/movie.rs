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
use crate::source::clip;
use crate::timecode::Timecode;

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
/// `PATH`. `None` when there is no such file, or it is not executable.
pub fn resolve_executable(name: &Path) -> Option<PathBuf> {
    if name.components().count() > 1 || name.is_absolute() {
        return is_executable(name).then(|| name.to_path_buf());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

/// A regular file (after links) that someone may execute.
fn is_executable(p: &Path) -> bool {
    let Ok(md) = std::fs::metadata(p) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        md.is_file() && md.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        md.is_file()
    }
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
    let Ran { out, err } = match run(ffprobe, timeout, path) {
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
    if !info.status.is_ok() {
        return;
    }
    if let Some(problem) = truncation_in(&err) {
        return info.fail(
            Status::Truncated,
            format!("ffprobe reports a damaged file: {problem}"),
        );
    }
    if let Some((status, reason)) = implausible(info) {
        return info.fail(status, reason);
    }
    if let Some(reason) = iso_atoms_overrun(path, info.size) {
        info.fail(Status::Truncated, reason);
    }
}

/// What ffprobe printed: the JSON on stdout and any complaints on stderr.
struct Ran {
    out: Vec<u8>,
    err: Vec<u8>,
}

/// The first stderr line that says the file was cut short, if any.
fn truncation_in(err: &[u8]) -> Option<String> {
    const MARKERS: &[&str] = &[
        "moov atom not found",
        "partial file",
        "truncat",
        "end of file",
        "unexpected eof",
        "too short",
    ];
    let text = String::from_utf8_lossy(err);
    text.lines()
        .find(|l| {
            let low = l.to_ascii_lowercase();
            MARKERS.iter().any(|m| low.contains(m))
        })
        .map(|l| {
            // Drop ffprobe's "[mov,mp4,… @ 0x55…] " context prefix: it names a pointer.
            let l = l.trim();
            let l = match l.strip_prefix('[').and_then(|r| r.split_once("] ")) {
                Some((_, rest)) => rest,
                None => l,
            };
            clip(l)
        })
}

/// Values no intact movie has: a 0x0 picture, an absurd or missing frame rate, no duration.
fn implausible(info: &MediaInfo) -> Option<(Status, String)> {
    if info.width == Some(0) || info.height == Some(0) || info.width.is_none() {
        return Some((
            Status::Corrupt,
            format!(
                "the video stream declares a {}x{} picture",
                info.width.unwrap_or(0),
                info.height.unwrap_or(0)
            ),
        ));
    }
    match info.fps {
        Some(f) if f.is_finite() && f > 0.0 && f <= MAX_FPS => {}
        Some(f) => {
            return Some((
                Status::Corrupt,
                format!("the video stream declares {f} fps (expected 0 to {MAX_FPS})"),
            ))
        }
        None => {
            return Some((
                Status::Corrupt,
                "the video stream declares no frame rate".into(),
            ))
        }
    }
    if info.duration.is_none_or(|d| !d.is_finite() || d <= 0.0) {
        return Some((
            Status::Truncated,
            "the container declares no duration (index missing or cut)".into(),
        ));
    }
    None
}

/// Highest frame rate believed (high-speed cameras reach a few hundred; 12288 is damage).
const MAX_FPS: f64 = 1000.0;

/// Most top-level atoms walked before giving up (real files have a handful).
const MAX_ATOMS: usize = 4096;

/// For QuickTime/MP4 files: walks the top-level atoms (8 or 16 header bytes each, never the
/// payload) and reports one whose declared size runs past the end of the file, which is how a
/// copy cut short looks when the index (`moov`) came first and ffprobe is still happy.
fn iso_atoms_overrun(path: &Path, size: u64) -> Option<String> {
    let mut f = std::fs::File::open(path).ok()?;
    let mut pos = 0u64;
    for i in 0..MAX_ATOMS {
        if pos == size {
            return None;
        }
        let mut h = [0u8; 16];
        let have = read_upto(&mut f, pos, &mut h)?;
        if have < 8 {
            return Some(format!(
                "{} stray byte(s) after the last atom at offset {pos}",
                size - pos
            ));
        }
        let kind = &h[4..8];
        if i == 0 && !is_iso_atom(kind) {
            return None; // not an ISO-BMFF file (MXF, Matroska, …)
        }
        if !kind.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
            return None; // not an atom header: nothing more to say safely
        }
        let name = String::from_utf8_lossy(kind).into_owned();
        let declared = match u32::from_be_bytes([h[0], h[1], h[2], h[3]]) {
            0 => return None, // extends to the end of the file
            1 if have >= 16 => {
                u64::from_be_bytes([h[8], h[9], h[10], h[11], h[12], h[13], h[14], h[15]])
            }
            1 => {
                return Some(format!(
                    "the file ends inside the header of the '{name}' atom at offset {pos}"
                ))
            }
            n => u64::from(n),
        };
        if declared < 8 {
            return None;
        }
        let end = pos.saturating_add(declared);
        if end > size {
            return Some(format!(
                "the '{name}' atom at offset {pos} declares {declared} bytes, but the file ends after {} (cut short)",
                size - pos
            ));
        }
        pos = end;
    }
    None
}

/// Top-level atom types that open a QuickTime/MP4 file.
fn is_iso_atom(kind: &[u8]) -> bool {
    [
        &b"ftyp"[..],
        b"moov",
        b"mdat",
        b"wide",
        b"free",
        b"skip",
        b"pnot",
        b"uuid",
    ]
    .contains(&kind)
}

/// Reads up to `buf.len()` bytes at `pos`; how many came.
fn read_upto(f: &mut std::fs::File, pos: u64, buf: &mut [u8]) -> Option<usize> {
    use std::io::{Seek, SeekFrom};
    f.seek(SeekFrom::Start(pos)).ok()?;
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(_) => return None,
        }
    }
    Some(n)
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
fn run(ffprobe: &Path, timeout: Duration, path: &Path) -> Result<Ran, (Status, String)> {
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
    // The config bounds the timeout; a deadline past the clock's range waits "forever" (a day).
    let started = Instant::now();
    let deadline = started
        .checked_add(timeout)
        .or_else(|| started.checked_add(Duration::from_secs(86_400)))
        .unwrap_or(started);
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
        return Err(failure(ffprobe, path, &err));
    }
    Ok(Ran { out, err })
}

/// Why ffprobe exited non-zero: the file (cut short or corrupt) when ffprobe names it, else
/// ffprobe itself (a wrong binary configured as `probe.ffprobe`), which makes the file
/// unreadable, not corrupt.
fn failure(ffprobe: &Path, path: &Path, err: &[u8]) -> (Status, String) {
    let text = String::from_utf8_lossy(err);
    let last = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    let names_file = !last.is_empty() && text.contains(&*path.to_string_lossy());
    if !names_file {
        return (
            Status::Unreadable,
            format!(
                "ffprobe ({}) failed without naming the file: {}",
                ffprobe.display(),
                if last.is_empty() { "no message" } else { last }
            ),
        );
    }
    if let Some(problem) = truncation_in(err) {
        return (
            Status::Truncated,
            format!("ffprobe cannot read the file: {problem}"),
        );
    }
    // ffprobe prints "<path>: <problem>"; keep the problem.
    let problem = last.rsplit_once(": ").map_or(last, |(_, p)| p).trim();
    (
        Status::Corrupt,
        format!("ffprobe cannot read the file: {}", clip(problem)),
    )
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
