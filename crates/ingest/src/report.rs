//! The ingest report: one JSON document (the `--json` output, schema `shotline.ingest/1`) and a
//! human-readable HTML page, both kept under `.shotline/ingest/reports/` as the delivery record.

use std::path::{Path, PathBuf};

use serde::Serialize;
use shotline_fsio::{write_atomic, Overwrite};
use shotline_layout::version_digits;

use crate::plan::{ClipStatus, Plan, Severity};
use crate::scan::NoteKind;

/// Schema identifier written into every report.
pub const SCHEMA: &str = "shotline.ingest/1";

/// Counts over the whole run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Totals {
    /// Clips found.
    pub clips: usize,
    /// Clips not matched.
    pub unmatched: usize,
    /// Clips blocked by errors.
    pub blocked: usize,
    /// Clips skipped as already ingested.
    pub already_ingested: usize,
    /// Clips already ingested whose unregistered version this run registered.
    pub registered: usize,
    /// Clips planned (dry run) or still pending.
    pub planned: usize,
    /// Clips copied, verified and recorded.
    pub ingested: usize,
    /// Clips whose copy failed.
    pub failed: usize,
    /// Clips copied and verified whose version the tracking database did not register.
    pub not_registered: usize,
    /// Files copied in this run.
    pub files_copied: usize,
    /// Files skipped because a previous run had verified them.
    pub files_resumed: usize,
    /// Bytes copied in this run.
    pub bytes_copied: u64,
    /// Seconds spent copying.
    pub copy_seconds: f64,
    /// Copy throughput.
    pub bytes_per_second: f64,
}

/// A version created (or planned).
#[derive(Debug, Clone, Serialize)]
pub struct VersionRecord {
    /// `SEQ/SHOT/STEP[/RESOURCE]`.
    pub key: String,
    /// Version number.
    pub version: u32,
    /// Version folder.
    #[serde(serialize_with = "crate::names::ser_path")]
    pub dir: PathBuf,
    /// Files copied into it.
    pub files: usize,
    /// Bytes.
    pub bytes: u64,
    /// MHL generation file.
    #[serde(serialize_with = "crate::names::ser_opt_path")]
    pub mhl: Option<PathBuf>,
    /// Sidecar.
    #[serde(serialize_with = "crate::names::ser_opt_path")]
    pub sidecar: Option<PathBuf>,
    /// Thumbnail.
    #[serde(serialize_with = "crate::names::ser_opt_path")]
    pub thumbnail: Option<PathBuf>,
    /// Registered in the tracking database.
    pub registered: bool,
    /// Problems recording this version (thumbnail not decodable, …).
    pub warnings: Vec<String>,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// [`SCHEMA`].
    pub schema: &'static str,
    /// True for `--dry-run`.
    pub dry_run: bool,
    /// How copies were verified: `storage` or `cache`.
    pub verify: &'static str,
    /// True when an interrupted run was resumed.
    pub resumed: bool,
    /// Start time, RFC 3339.
    pub started: String,
    /// End time, RFC 3339.
    pub finished: String,
    /// Counts.
    pub totals: Totals,
    /// The plan with final clip statuses.
    pub plan: Plan,
    /// Versions created.
    pub versions_created: Vec<VersionRecord>,
    /// Temp files from an interrupted run that were removed.
    #[serde(serialize_with = "crate::names::ser_paths")]
    pub cleaned_temp_files: Vec<PathBuf>,
    /// Where this report was saved (JSON, HTML).
    #[serde(serialize_with = "crate::names::ser_paths")]
    pub saved: Vec<PathBuf>,
}

impl Report {
    /// True when something needs attention (exit status 1): unmatched, blocked or failed clips,
    /// an error on a clip (a version number the database already has), or a global error.
    pub fn has_problems(&self) -> bool {
        self.plan.blocked()
            || self
                .plan
                .notes
                .iter()
                .any(|n| matches!(n.kind, NoteKind::Refused | NoteKind::Empty))
            || self.plan.clips.iter().any(|c| {
                matches!(
                    c.status,
                    ClipStatus::Unmatched
                        | ClipStatus::Blocked
                        | ClipStatus::Failed
                        | ClipStatus::NotRegistered
                ) || c.issues.iter().any(|i| i.severity == Severity::Error)
            })
    }

    /// Recomputes clip counts from the plan.
    pub fn count(&mut self) {
        let t = &mut self.totals;
        t.clips = self.plan.clips.len();
        let n = |s: ClipStatus| self.plan.clips.iter().filter(|c| c.status == s).count();
        t.unmatched = n(ClipStatus::Unmatched);
        t.blocked = n(ClipStatus::Blocked);
        t.already_ingested = n(ClipStatus::AlreadyIngested);
        t.registered = n(ClipStatus::Registered);
        t.planned = n(ClipStatus::Planned);
        t.ingested = n(ClipStatus::Ingested);
        t.failed = n(ClipStatus::Failed);
        t.not_registered = n(ClipStatus::NotRegistered);
    }

    /// Saves `<stem>.json` and `<stem>.html` in `dir`.
    pub fn save(&mut self, dir: &Path, stem: &str) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let json = dir.join(format!("{stem}.json"));
        let html = dir.join(format!("{stem}.html"));
        self.saved = vec![json.clone(), html.clone()];
        let text = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        write_atomic(&json, &text, Overwrite::Replace)?;
        Ok(write_atomic(
            &html,
            self.html().as_bytes(),
            Overwrite::Replace,
        )?)
    }

    /// A self-contained HTML page.
    pub fn html(&self) -> String {
        let esc = |s: &str| {
            s.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;")
        };
        let mut h = String::new();
        h.push_str("<!doctype html><html><head><meta charset=\"utf-8\"><title>shotline ingest ");
        h.push_str(&esc(&self.plan.job));
        h.push_str("</title><style>body{font:14px sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}.error{color:#b00}.warning{color:#a60}img{max-height:90px}</style></head><body>");
        h.push_str(&format!(
            "<h1>Ingest {}</h1><p>{} → {}; started {}, finished {}; {}{}</p>",
            esc(&self.plan.job),
            esc(&self
                .plan
                .deliveries
                .iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")),
            esc(&self.plan.root.display().to_string()),
            esc(&self.started),
            esc(&self.finished),
            if self.dry_run { "dry run" } else { "copied" },
            if self.resumed { ", resumed" } else { "" }
        ));
        let t = &self.totals;
        h.push_str(&format!(
            "<p>{} clips: {} ingested, {} already ingested, {} unmatched, {} blocked, {} failed; {} files / {} bytes copied at {:.0} MB/s ({} checksums)</p>",
            t.clips, t.ingested, t.already_ingested, t.unmatched, t.blocked, t.failed,
            t.files_copied, t.bytes_copied, t.bytes_per_second / 1e6, self.plan.hash
        ));
        for i in &self.plan.issues {
            h.push_str(&format!(
                "<p class=\"{}\">{}</p>",
                if i.severity == crate::plan::Severity::Error {
                    "error"
                } else {
                    "warning"
                },
                esc(&i.message)
            ));
        }
        h.push_str("<h2>Versions</h2><table><tr><th></th><th>shot</th><th>version</th><th>folder</th><th>files</th><th>bytes</th><th>MHL</th></tr>");
        for v in &self.versions_created {
            let img = v
                .thumbnail
                .as_ref()
                .map(|p| format!("<img src=\"file://{}\">", esc(&p.display().to_string())))
                .unwrap_or_default();
            h.push_str(&format!(
                "<tr><td>{img}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&v.key),
                version_digits(v.version),
                esc(&v.dir.display().to_string()),
                v.files,
                v.bytes,
                esc(&v.mhl.as_ref().map(|p| p.display().to_string()).unwrap_or_default())
            ));
        }
        h.push_str("</table><h2>Clips</h2><table><tr><th>clip</th><th>status</th><th>frames</th><th>bytes</th><th>issues</th></tr>");
        for c in &self.plan.clips {
            let frames = match c.frames.span() {
                Some(span) => format!("{span} ({})", c.files_count),
                _ => c.files_count.to_string(),
            };
            let issues: Vec<String> = c
                .issues
                .iter()
                .map(|i| {
                    format!(
                        "<span class=\"{}\">{}: {}</span>",
                        if i.severity == crate::plan::Severity::Error {
                            "error"
                        } else {
                            "warning"
                        },
                        esc(&i.code),
                        esc(&i.message)
                    )
                })
                .collect();
            h.push_str(&format!(
                "<tr><td>{}</td><td>{:?}</td><td>{frames}</td><td>{}</td><td>{}</td></tr>",
                esc(&c.key),
                c.status,
                c.size,
                issues.join("<br>")
            ));
        }
        h.push_str("</table></body></html>\n");
        h
    }
}
