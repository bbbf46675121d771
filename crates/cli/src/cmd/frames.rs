//! `shotline frames EXPR`: parse, normalise, list and invert frame ranges (fileseq syntax).
//!
//! A thin layer over `shotline_frames::FrameSet`: it never lists frames unless `--list` asks,
//! so `shotline frames 1-1000000000` answers at once. The JSON schema is documented in
//! `docs/frames.md`.

use anyhow::{anyhow, Result};
use serde::Serialize;
use shotline_frames::{pad_frame, FrameSet, ParseError, MAX_PAD};

use crate::context::Ctx;
use crate::output::{Exit, Style};

/// Longest normalised range string the command will build (a set with no short spelling,
/// such as the inverse of `1-1000000000x2,1-1000000000x3`, is refused instead).
const MAX_RANGE_BYTES: usize = 16 << 20;

const EXAMPLES: &str = "\
Examples:
  shotline frames 1001-1100x2              normalised range, first, last, count
  shotline frames '1,2,3,5,7,9,10'         prints 1-3,5-9x2,10
  shotline frames -5--1                    negative frames work as a plain argument
  shotline frames -- -5--1                 ...and after --
  shotline frames --list --pad 4 1-10:2    every frame, zero-padded, in set order
  shotline frames --invert 1001-1049,1051-1100   the missing frames (1050)
  shotline frames --json --list 20-1x5     {\"range\":\"20-5x5\",\"first\":20,...,\"frames\":[20,15,10,5]}

Syntax: a-b (either direction), a-bxN every Nth, a-byN the frames xN skips, a-b:N staggered
(xN, then xN-1 ... x1), comma lists keep first-seen order and drop repeats; spaces are ignored.
JSON schema in docs/frames.md. Exit codes: 0 ok, 2 malformed expression or too many frames.";

/// Arguments of `shotline frames`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct FramesArgs {
    /// The frame range, e.g. `1001-1100`, `1-100x2`, `1-10y3`, `1-10:2`, `1,5,-3`. May start
    /// with `-` (`-5--1`), with or without `--` before it.
    #[arg(value_name = "EXPR", allow_hyphen_values = true)]
    pub expr: String,
    /// Print every frame, one per line, in set order (JSON: a "frames" array).
    #[arg(short, long)]
    pub list: bool,
    /// Describe the frames missing between the smallest and largest frame instead.
    #[arg(short, long)]
    pub invert: bool,
    /// Zero-pad printed frames to N characters (at most 32), the sign counting (`-001` is 4).
    #[arg(short, long, value_name = "N", value_parser = pad_width())]
    pub pad: Option<usize>,
    /// Most frames --list (or an --invert that must list frames) may produce.
    #[arg(long, value_name = "N", default_value_t = 10_000_000)]
    pub max: u64,
}

/// The `--json` report; see `docs/frames.md`.
#[derive(Debug, Serialize)]
struct Report {
    /// Normalised range; `""` for an empty set.
    range: String,
    /// First frame in set order, `null` when empty.
    first: Option<i64>,
    /// Last frame in set order, `null` when empty.
    last: Option<i64>,
    /// Number of frames.
    count: u64,
    /// Every frame in set order, with `--list` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    frames: Option<Vec<i64>>,
}

/// Runs the command.
pub fn run(args: &FramesArgs, ctx: &Ctx) -> Result<Exit> {
    let parsed = FrameSet::parse(&args.expr).map_err(|e| parse_error(&e))?;
    let set = if args.invert {
        parsed.try_invert(args.max).map_err(|e| {
            anyhow!(
                "cannot invert {:?}: listing the gaps would need {e}",
                args.expr
            )
        })?
    } else {
        parsed
    };
    if args.list && set.len() > args.max {
        return Err(anyhow!(
            "{:?} has {} frames, more than --max {}; raise --max to list them all",
            args.expr,
            set.len(),
            args.max
        ));
    }
    let out = &ctx.out;
    if out.json() {
        let frames = args.list.then(|| set.iter().collect());
        out.json_doc(&Report {
            range: set.to_string_capped(MAX_RANGE_BYTES)?,
            first: set.first(),
            last: set.last(),
            count: set.len(),
            frames,
        })?;
        return Ok(Exit::Clean);
    }
    let fmt = |f: i64| match args.pad {
        Some(w) => pad_frame(f, w),
        None => f.to_string(),
    };
    if args.list {
        for f in set.iter() {
            out.line(fmt(f))?;
        }
        return Ok(Exit::Clean);
    }
    let range = set.to_string_capped(MAX_RANGE_BYTES)?;
    let none = || out.paint("-", Style::Dim);
    let label = if args.invert { "missing" } else { "range" };
    let range = if range.is_empty() {
        out.paint("(none)", Style::Dim)
    } else {
        out.paint(range, Style::Cyan)
    };
    let width = label.len().max(5);
    out.line(format!("{label:<width$}  {range}"))?;
    out.line(format!(
        "{:<width$}  {}",
        "first",
        set.first().map_or_else(none, fmt)
    ))?;
    out.line(format!(
        "{:<width$}  {}",
        "last",
        set.last().map_or_else(none, fmt)
    ))?;
    out.line(format!("{:<width$}  {}", "count", set.len()))?;
    Ok(Exit::Clean)
}

/// `--pad`: 0 to [`MAX_PAD`] (an `i64` needs at most 20 characters; a huge width would only
/// make a huge string, and format widths past 65535 panic).
fn pad_width() -> impl clap::builder::TypedValueParser<Value = usize> {
    use clap::builder::TypedValueParser as _;
    clap::value_parser!(u64)
        .range(0..=MAX_PAD as u64)
        .map(|w| usize::try_from(w).unwrap_or(MAX_PAD))
}

/// The parse error with the expression and a caret under the offending character.
fn parse_error(e: &ParseError) -> anyhow::Error {
    if e.expr.trim().is_empty() {
        return anyhow!("{e}");
    }
    let pad: String = e
        .expr
        .chars()
        .take(e.column)
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    anyhow!("{e}\n    {}\n    {pad}^", e.expr)
}
