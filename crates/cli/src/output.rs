//! All printing happens here, like ripgrep's `printer`: JSON (one object, or JSON Lines for
//! streams), human tables, colour, warnings and progress bars. Commands build report values and
//! hand them to the [`Printer`]; they never call `println!` themselves.

use std::fmt::Display;
use std::io::{IsTerminal, Write};
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

/// How a command ended when it did not fail: 0 clean, 1 problems found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Nothing to report.
    Clean = 0,
    /// The command ran but found problems (missing frames, failed checks, unreadable entries).
    Problems = 1,
}

impl Exit {
    /// `Problems` when `bad` is true.
    pub fn problems_if(bad: bool) -> Exit {
        if bad {
            Exit::Problems
        } else {
            Exit::Clean
        }
    }
}

/// Exit code for usage, input and configuration errors.
pub const EXIT_USAGE: i32 = 2;

/// Text styles; rendered only when colour is on.
#[derive(Debug, Clone, Copy)]
pub enum Style {
    /// Emphasis (names, headers).
    Bold,
    /// Secondary detail.
    Dim,
    /// Errors and failures.
    Red,
    /// Warnings.
    Yellow,
    /// Success.
    Green,
    /// Paths and identifiers.
    Cyan,
}

impl Style {
    fn code(self) -> &'static str {
        match self {
            Style::Bold => "1",
            Style::Dim => "2",
            Style::Red => "31",
            Style::Yellow => "33",
            Style::Green => "32",
            Style::Cyan => "36",
        }
    }
}

fn color_allowed() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Whether stderr gets colour (logs, warnings).
pub fn stderr_color() -> bool {
    color_allowed() && std::io::stderr().is_terminal()
}

/// The one place output is written.
pub struct Printer {
    json: bool,
    quiet: bool,
    color: bool,
    stderr_color: bool,
    progress: bool,
    stdout: Mutex<std::io::BufWriter<std::io::Stdout>>,
}

impl Printer {
    /// A printer for the given global flags. Colour follows `NO_COLOR` and whether stdout is a
    /// terminal; progress bars appear only on an interactive stderr and never with `-q`.
    pub fn new(json: bool, quiet: bool) -> Printer {
        Printer {
            json,
            quiet,
            color: !json && color_allowed() && std::io::stdout().is_terminal(),
            stderr_color: stderr_color(),
            progress: !quiet && std::io::stderr().is_terminal(),
            stdout: Mutex::new(std::io::BufWriter::new(std::io::stdout())),
        }
    }

    /// True when `--json` was given.
    pub fn json(&self) -> bool {
        self.json
    }

    fn write_stdout(&self, s: &str) -> std::io::Result<()> {
        let mut w = self.stdout.lock().unwrap_or_else(|p| p.into_inner());
        w.write_all(s.as_bytes())?;
        w.write_all(b"\n")
    }

    /// One compact JSON value on its own line (JSON Lines when called repeatedly).
    pub fn json_line<T: Serialize + ?Sized>(&self, value: &T) -> std::io::Result<()> {
        let s = serde_json::to_string(value).map_err(std::io::Error::other)?;
        self.write_stdout(&s)
    }

    /// One pretty-printed JSON document (for single-report commands).
    pub fn json_doc<T: Serialize + ?Sized>(&self, value: &T) -> std::io::Result<()> {
        let s = serde_json::to_string_pretty(value).map_err(std::io::Error::other)?;
        self.write_stdout(&s)
    }

    /// One line of human output on stdout.
    pub fn line(&self, text: impl Display) -> std::io::Result<()> {
        self.write_stdout(&text.to_string())
    }

    /// `text` wrapped in the style's escape codes when colour is on.
    pub fn paint(&self, text: impl Display, style: Style) -> String {
        paint(self.color, text, style)
    }

    /// A warning on stderr (hidden with `-q`, which keeps only errors).
    pub fn warn(&self, text: impl Display) {
        if !self.quiet {
            self.flush();
            to_stderr(format_args!(
                "{} {text}",
                paint(self.stderr_color, "warning:", Style::Yellow)
            ));
        }
    }

    /// An error that does not stop the command (e.g. an unreadable directory), on stderr.
    pub fn error(&self, text: impl Display) {
        self.flush();
        to_stderr(format_args!(
            "{} {text}",
            paint(self.stderr_color, "error:", Style::Red)
        ));
    }

    /// A summary line for humans on stderr (hidden with `-q` and `--json`).
    pub fn note(&self, text: impl Display) {
        if !self.quiet && !self.json {
            self.flush();
            to_stderr(format_args!("{text}"));
        }
    }

    /// A list of records, the shape of every `… ls` command: JSON Lines with `--json` (each
    /// record serialised whole), else a table with `row` giving each record's cells.
    pub fn records<T: Serialize>(
        &self,
        items: &[T],
        headers: &[&str],
        row: impl Fn(&T) -> Vec<String>,
    ) -> std::io::Result<()> {
        if self.json {
            return items.iter().try_for_each(|item| self.json_line(item));
        }
        let rows: Vec<Vec<String>> = items.iter().map(row).collect();
        self.table(headers, &rows)
    }

    /// Rows aligned under headers, two spaces between columns. Cells may contain colour codes.
    pub fn table(&self, headers: &[&str], rows: &[Vec<String>]) -> std::io::Result<()> {
        let cols = headers.len();
        let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
        for row in rows {
            for (i, cell) in row.iter().enumerate().take(cols) {
                widths[i] = widths[i].max(visible_width(cell));
            }
        }
        let render = |cells: Vec<String>| {
            let mut s = String::new();
            for (i, cell) in cells.iter().enumerate() {
                if i + 1 == cells.len() {
                    s.push_str(cell);
                } else {
                    s.push_str(cell);
                    s.push_str(&" ".repeat(widths[i].saturating_sub(visible_width(cell)) + 2));
                }
            }
            s.trim_end().to_string()
        };
        let head = headers
            .iter()
            .map(|h| self.paint(h, Style::Bold))
            .collect::<Vec<_>>();
        self.line(render(head))?;
        for row in rows {
            self.line(render(row.clone()))?;
        }
        Ok(())
    }

    /// A progress bar on stderr, hidden when stderr is not a terminal, with `-q` or `--json`
    /// piped output. `len` 0 gives a spinner.
    pub fn progress(&self, len: u64, message: &str) -> ProgressBar {
        if !self.progress {
            return ProgressBar::hidden();
        }
        let pb = if len == 0 {
            ProgressBar::new_spinner()
        } else {
            ProgressBar::new(len)
        };
        pb.set_draw_target(ProgressDrawTarget::stderr());
        let style = if len == 0 {
            ProgressStyle::with_template("{spinner} {msg} {pos} [{elapsed}]")
        } else {
            ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({per_sec}, eta {eta})")
        };
        if let Ok(style) = style {
            pb.set_style(style.progress_chars("=> "));
        }
        pb.set_message(message.to_string());
        pb.enable_steady_tick(std::time::Duration::from_millis(120));
        pb
    }

    /// A byte-counting progress bar (copies, hashing).
    pub fn progress_bytes(&self, total: u64, message: &str) -> ProgressBar {
        let pb = self.progress(total.max(1), message);
        if let Ok(style) = ProgressStyle::with_template(
            "{msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, eta {eta})",
        ) {
            pb.set_style(style.progress_chars("=> "));
        }
        pb
    }

    /// Flushes stdout.
    pub fn flush(&self) {
        let mut w = self.stdout.lock().unwrap_or_else(|p| p.into_inner());
        let _ = w.flush();
    }

    /// Turns a command's result into the process exit code, printing the error if any.
    /// A closed pipe (`shotline ls | head`) is not an error.
    pub fn finish(&self, result: anyhow::Result<Exit>) -> i32 {
        let flushed = {
            let mut w = self.stdout.lock().unwrap_or_else(|p| p.into_inner());
            w.flush()
        };
        match result {
            Ok(exit) => match flushed {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    report_error(&anyhow::Error::new(e).context("cannot write to stdout"))
                }
                _ => exit as i32,
            },
            Err(e) if is_broken_pipe(&e) => 0,
            Err(e) => report_error(&e),
        }
    }
}

/// Writes one line to stderr. Unlike `eprintln!`, a closed stderr is ignored rather than a panic.
fn to_stderr(args: std::fmt::Arguments<'_>) {
    let mut e = std::io::stderr().lock();
    let _ = e.write_fmt(args).and_then(|()| e.write_all(b"\n"));
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Prints an error chain to stderr and returns the exit code for it. Errors carrying a
/// [`Problems`] marker exit 1; everything else is a usage/input/config error (2).
pub fn report_error(e: &anyhow::Error) -> i32 {
    to_stderr(format_args!(
        "{} {}",
        paint(stderr_color(), "error:", Style::Red),
        error_text(e)
    ));
    if let Some(hint) = hint_for(e) {
        to_stderr(format_args!(
            "{} {hint}",
            paint(stderr_color(), "hint:", Style::Yellow)
        ));
    }
    if e.chain().any(|c| c.downcast_ref::<Problems>().is_some()) {
        Exit::Problems as i32
    } else {
        EXIT_USAGE
    }
}

/// The error and its causes joined by `: `, skipping a cause whose text the message before it
/// already contains (libraries often include their source's text in their own message, and
/// printing it again reads as `Permission denied: Permission denied`).
pub fn error_text(e: &anyhow::Error) -> String {
    let mut out = String::new();
    let mut last = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if text.is_empty() || last.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
        last = text;
    }
    out
}

/// What the user can do about a few errors whose cause is not obvious from SQLite's words.
fn hint_for(e: &anyhow::Error) -> Option<String> {
    e.chain()
        .find_map(|c| match c.downcast_ref::<shotline_store::StoreError>() {
            Some(shotline_store::StoreError::Sqlite { path, source })
                if source.sqlite_error_code()
                    == Some(shotline_store::rusqlite::ErrorCode::ReadOnly) =>
            {
                let dir = path
                    .parent()
                    .filter(|d| !d.as_os_str().is_empty())
                    .unwrap_or(std::path::Path::new("."));
                Some(format!(
                    "the database {} or its folder {} is not writable by this user (SQLite writes \
                 its -wal and -shm files beside it); ask for write access, or use a read-only \
                 command",
                    path.display(),
                    dir.display()
                ))
            }
            _ => None,
        })
}

/// Marks an error as "the command ran and found a problem" (exit 1) rather than bad input (2),
/// e.g. a failed verification that aborts a publish.
#[derive(Debug)]
pub struct Problems(pub String);

impl Display for Problems {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Problems {}

fn paint(on: bool, text: impl Display, style: Style) -> String {
    if on {
        format!("\x1b[{}m{text}\x1b[0m", style.code())
    } else {
        text.to_string()
    }
}

/// Width of a cell as seen on screen (ANSI escapes do not count).
fn visible_width(s: &str) -> usize {
    let mut n = 0;
    let mut in_esc = false;
    for c in s.chars() {
        match (in_esc, c) {
            (false, '\x1b') => in_esc = true,
            (true, 'm') => in_esc = false,
            (true, _) => {}
            (false, _) => n += 1,
        }
    }
    n
}

/// Sizes in binary units (`1.5 GiB`), as storage people read them.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    format!("{v:.1} {}", UNITS[u])
}

/// RFC 3339 timestamp in UTC, for JSON and human output alike.
pub fn rfc3339(t: std::time::SystemTime) -> String {
    let dt = time::OffsetDateTime::from(t);
    dt.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_bytes_uses_binary_units() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 * 1024 * 1024 * 1024), "3.0 GiB");
    }

    #[test]
    fn visible_width_ignores_escapes() {
        assert_eq!(visible_width(&paint(true, "abc", Style::Red)), 3);
    }
}

#[cfg(test)]
mod error_text_tests {
    use super::*;

    #[test]
    fn a_cause_already_in_the_message_is_not_repeated() {
        let io = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        let text = io.to_string();
        let e = anyhow::Error::new(io).context(format!("/x/db: {text}"));
        assert_eq!(error_text(&e), format!("/x/db: {text}"));
        let e = anyhow::anyhow!("inner").context("outer");
        assert_eq!(error_text(&e), "outer: inner");
    }
}
