//! Slate and burn-in text: templates filled from the store, written as drawtext text files.
//!
//! Text reaches ffmpeg through `textfile=` (never inline in the filter graph), so user data
//! only needs drawtext's own expansion escapes (`\` and `%`), not the graph's quoting rules.
//! The frame counter and timecode are drawtext expressions over the frame index, so they
//! follow the sequence frame by frame.

use shotline_config::BurninTemplate;
use shotline_frames::FrameSet;

use crate::timecode::Timecode;

/// The static facts a slate and burn-ins show, read live from the store.
#[derive(Debug, Clone, PartialEq)]
pub struct Fields {
    /// Project code.
    pub project: String,
    /// Shot (or asset) code.
    pub shot: String,
    /// Step code.
    pub step: String,
    /// Version label (`v003`).
    pub version: String,
    /// Who published it.
    pub artist: String,
    /// Publish date (`YYYY-MM-DD`).
    pub date: String,
    /// Frames shown (first-last, missing ones held).
    pub range: FrameSet,
    /// Publish comment.
    pub comment: String,
}

/// What the per-frame fields count from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counter {
    /// Frame number of the first picture frame.
    pub first_frame: i64,
    /// Timecode of the first picture frame.
    pub start: Timecode,
}

/// Escapes text for drawtext expansion: a literal `\` or `%`.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '%' => {
                out.push('\\');
                out.push(c);
            }
            '\r' | '\n' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

fn frame_expr(c: Counter) -> String {
    format!("%{{eif:n+({}):d}}", c.first_frame)
}

/// `HH:MM:SS:FF` from the frame index: four zero-padded `eif` fields.
fn timecode_expr(c: Counter) -> String {
    let r = c.start.rate;
    let s = c.start.frames;
    let f = |expr: String| format!("%{{eif:{expr}:d:2}}");
    [
        f(format!("mod(trunc((n+{s})/{}),24)", u64::from(r) * 3600)),
        f(format!("mod(trunc((n+{s})/{}),60)", u64::from(r) * 60)),
        f(format!("mod(trunc((n+{s})/{r}),60)")),
        f(format!("mod(n+{s},{r})")),
    ]
    .join(":")
}

/// The drawtext text of one burn-in slot.
pub fn burnin_text(template: &BurninTemplate, fields: &Fields, counter: Counter) -> String {
    let mut out = String::new();
    let mut rest = template.as_str();
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&escape(&rest[..i]));
        let tail = &rest[i..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push_str(&tail[..1]);
            rest = &tail[2..];
            continue;
        }
        let Some(end) = tail.find('}') else {
            // Checked at config load; kept literal rather than panicking.
            out.push_str(&escape(tail));
            return out;
        };
        out.push_str(&field(&tail[1..end], fields, counter));
        rest = &tail[end + 1..];
    }
    out.push_str(&escape(rest));
    out
}

fn field(name: &str, f: &Fields, c: Counter) -> String {
    match name {
        "project" => escape(&f.project),
        "shot" => escape(&f.shot),
        "step" => escape(&f.step),
        "version" => escape(&f.version),
        "artist" => escape(&f.artist),
        "date" => escape(&f.date),
        "range" => escape(&f.range.to_string()),
        "comment" => escape(&f.comment),
        "frame" => frame_expr(c),
        "timecode" => timecode_expr(c),
        other => escape(&format!("{{{other}}}")),
    }
}

/// The slate's lines (one drawtext text file, one line each).
pub fn slate_text(f: &Fields, c: Counter, frame_count: u64, fps: f64) -> String {
    let lines = [
        format!("Project   {}", f.project),
        format!("Shot      {}", f.shot),
        format!("Step      {}", f.step),
        format!("Version   {}", f.version),
        format!("Artist    {}", f.artist),
        format!("Date      {}", f.date),
        format!("Frames    {}", f.range),
        format!(
            "Duration  {frame_count} frames ({:.2} s)",
            frame_count as f64 / fps
        ),
        format!("TC in     {}", c.start),
        format!("Comment   {}", f.comment),
    ];
    lines
        .iter()
        .map(|l| escape(l))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> Fields {
        Fields {
            project: "P%1".into(),
            shot: "SH010".into(),
            step: "COMP".into(),
            version: "v003".into(),
            artist: "ann".into(),
            date: "2026-01-02".into(),
            range: FrameSet::parse("1001-1010").unwrap(),
            comment: "a\\b".into(),
        }
    }

    #[test]
    fn templates_fill_and_escape() {
        let c = Counter {
            first_frame: 1001,
            start: Timecode::parse("01:00:00:00", 24).unwrap(),
        };
        let t = BurninTemplate::new("{project} {{x}} {comment} {frame}").unwrap();
        assert_eq!(
            burnin_text(&t, &fields(), c),
            "P\\%1 {x} a\\\\b %{eif:n+(1001):d}"
        );
        let t = BurninTemplate::new("{timecode}").unwrap();
        assert!(burnin_text(&t, &fields(), c).contains("mod(n+86400,24)"));
    }
}
