//! `shotline ingest`: verified, atomic, parallel ingest of vendor deliveries.
//!
//! All the work is in `shotline-ingest`; this module turns arguments into a request, draws the
//! byte progress bar, and prints the plan/result as a table or the JSON report (schema
//! `shotline.ingest/1`, documented in `docs/ingest.md`).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::Result;
use indicatif::ProgressBar;
use shotline_config::MAX_INGEST_THREADS;
use shotline_ingest::matching::ShotId;
use shotline_ingest::plan::{ClipStatus, Severity};
use shotline_ingest::scan::NoteKind;
use shotline_ingest::{
    Allocated, FrameInfo, HashAlgo, Progress, RegisterError, Registrar, Registration, Report,
    Request, TargetProblem,
};
use shotline_layout::version_digits;

use crate::context::Ctx;
use crate::output::{human_bytes, Exit, Printer, Style};

const EXAMPLES: &str = "\
Examples:
  shotline ingest /deliveries/vendor_0412 --dry-run     plan and check only: table of clip → version
  shotline ingest /deliveries/vendor_0412               copy, verify, write MHL, sidecar, ledger
  shotline ingest /deliveries/cam_A --edl cut_v3.edl    map camera originals to shots via an EDL
  shotline ingest /deliveries/x --override A001C003=SQ010/SH020
  shotline ingest /deliveries/x --hash md5 --json       the report as JSON (shotline.ingest/1)

Re-running the same command after an interruption (even kill -9) resumes: verified files are
skipped, temp leftovers removed, the same version folders reused. The delivery is never modified.
Content already ingested into a version whose registration failed is registered on a re-run.
Exit codes: 0 all clips ingested or already ingested (and registered); 1 unmatched, blocked or
failed clips, or versions not registered; 2 bad arguments or configuration.";

/// Arguments of `shotline ingest`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct IngestArgs {
    /// Delivery folders to ingest.
    #[arg(required = true, value_name = "DELIVERY")]
    pub deliveries: Vec<PathBuf>,
    /// Project root (default: the directory of shotline.yaml, or the current directory).
    #[arg(long, value_name = "DIR")]
    pub project: Option<PathBuf>,
    /// Plan and check only; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// CMX3600 EDL mapping clip names/reels to shots (from `* COMMENT:` or `* LOC:`).
    #[arg(long, value_name = "FILE")]
    pub edl: Option<PathBuf>,
    /// Force a clip to a shot: `CLIP=SHOT` or `CLIP=SEQUENCE/SHOT` (repeatable).
    #[arg(long = "override", value_name = "CLIP=SHOT")]
    pub overrides: Vec<String>,
    /// Checksum: xxh128 (default), xxh64, xxh3, md5, sha1, c4.
    #[arg(long, value_name = "ALGO")]
    pub hash: Option<String>,
    /// Deprecated: write to the shotline or ramses tree instead of where the project layout
    /// (`layout:` in shotline.yaml) says.
    #[arg(long, value_name = "PRESET")]
    pub template: Option<String>,
    /// Read-back verification: storage (drop cached pages, re-read from disk; default) or cache.
    #[arg(long, value_name = "MODE")]
    pub verify: Option<String>,
    /// Parallel copies, 1 to 256 (default 8).
    #[arg(long, value_name = "N", value_parser = parse_threads)]
    pub threads: Option<usize>,
    /// Skip thumbnails.
    #[arg(long)]
    pub no_thumbnails: bool,
}

/// `--threads`: the same bounds as `ingest.threads`.
fn parse_threads(s: &str) -> std::result::Result<usize, String> {
    let n: usize = s
        .parse()
        .map_err(|_| format!("{s:?} is not a whole number"))?;
    if (1..=MAX_INGEST_THREADS).contains(&n) {
        Ok(n)
    } else {
        Err(format!("{n} is not between 1 and {MAX_INGEST_THREADS}"))
    }
}

struct Bar<'a> {
    out: &'a Printer,
    bar: Mutex<Option<ProgressBar>>,
}

impl Progress for Bar<'_> {
    fn start_copy(&self, _files: usize, bytes: u64) {
        let pb = self.out.progress_bytes(bytes, "copying");
        *self.bar.lock().unwrap_or_else(|e| e.into_inner()) = Some(pb);
    }
    fn bytes(&self, n: u64) {
        if let Some(pb) = self.bar.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            pb.inc(n);
        }
    }
    fn end_copy(&self) {
        if let Some(pb) = self.bar.lock().unwrap_or_else(|e| e.into_inner()).take() {
            pb.finish_and_clear();
        }
    }
}

/// Per-file media check through `shotline-media`: truncated/corrupt frames block a clip; the
/// resolution, fps and timecode go into the plan and the store.
fn frame_check(path: &Path) -> FrameInfo {
    if !shotline_media::is_media_path(path) {
        return FrameInfo::default();
    }
    let info = shotline_media::probe(path);
    let problem = match info.status {
        shotline_media::Status::Ok => None,
        s => Some(format!(
            "{}{}",
            s.as_str(),
            info.reason.map(|r| format!(" ({r})")).unwrap_or_default()
        )),
    };
    FrameInfo {
        problem,
        width: info.width,
        height: info.height,
        fps: info.fps,
        timecode: info.timecode,
    }
}

/// Registers ingested versions in the project's tracking database, all in one transaction.
struct StoreRegistrar {
    db: PathBuf,
    busy_timeout_ms: u64,
    mirror: Option<shotline_ramses::mirror::Mirror>,
}

impl Registrar for StoreRegistrar {
    /// The store's allocator: number reserved, folder created and reservation recorded in one
    /// step. A shot or step the database does not know yet falls back to the disk allocator:
    /// the files are still copied and kept safe, the registration then reports the missing
    /// shot/step, and a re-run once it exists registers the folder under its own number.
    fn allocate(
        &self,
        id: &ShotId,
        layout: &dyn shotline_store::VersionLayout,
    ) -> std::result::Result<Allocated, RegisterError> {
        use shotline_store::{Actor, ItemRef, Store, StoreError, VersionKey};
        let failed = |e: StoreError| RegisterError::Failed(e.to_string());
        let mut store = Store::open(&self.db, self.busy_timeout_ms).map_err(failed)?;
        let key = VersionKey {
            item: ItemRef::shot(id.shot.clone()),
            step: id.step.clone(),
            resource: id.resource.clone().unwrap_or_default(),
        };
        match store.allocate_version(&Actor::from_env(), &key, layout) {
            Ok(a) => Ok(Allocated {
                version: a.number.get(),
                dir: a.dir,
                reserved: true,
            }),
            Err(StoreError::NotFound { .. }) => shotline_ingest::allocate_on_disk(layout),
            Err(e) => Err(failed(e)),
        }
    }

    fn check_targets(
        &self,
        targets: &[&ShotId],
    ) -> std::result::Result<Vec<TargetProblem>, RegisterError> {
        use shotline_store::{ItemKind, Store, StoreError};
        let failed = |e: StoreError| RegisterError::Failed(e.to_string());
        let store = Store::open(&self.db, self.busy_timeout_ms).map_err(failed)?;
        let steps = store.steps(Some(ItemKind::Shot)).map_err(failed)?;
        let mut problems = Vec::new();
        for (index, id) in targets.iter().enumerate() {
            let message = match store.shot(&id.shot) {
                Err(StoreError::NotFound { .. }) => Some(format!(
                    "shot {} is not in the tracking database (shotline shot add)",
                    id.shot
                )),
                Err(e) => return Err(failed(e)),
                Ok(_) if !steps.iter().any(|s| s.code == id.step) => Some(format!(
                    "step {} is not in the tracking database (shotline step add)",
                    id.step
                )),
                Ok(_) => None,
            };
            problems.extend(message.map(|message| TargetProblem { index, message }));
        }
        Ok(problems)
    }

    fn register(&self, versions: &[Registration]) -> std::result::Result<(), RegisterError> {
        use shotline_store::{Actor, Files, ItemRef, NewVersion, State, Store, StoreError};
        let failed = |e: StoreError| RegisterError::Failed(e.to_string());
        let mut store = Store::open(&self.db, self.busy_timeout_ms).map_err(failed)?;
        let batch: Vec<NewVersion> = versions
            .iter()
            .map(|r| {
                let media = r.media.clone().unwrap_or_default();
                NewVersion {
                    item: ItemRef::shot(r.id.shot.clone()),
                    step: r.id.step.clone(),
                    resource: r.id.resource.clone().unwrap_or_default(),
                    number: Some(i64::from(r.version)),
                    state: State::Wip,
                    files: Files {
                        dir: r.dir.display().to_string(),
                        pattern: r.pattern.clone(),
                        first_frame: r.frames.min(),
                        last_frame: r.frames.max(),
                        // The frames delivered, as publish records them (gaps are in
                        // `missing_frames`).
                        frame_range: r.frames.to_string(),
                        // Range syntax (`1002-99999999`), never one number per frame.
                        missing_frames: r.missing_frames.to_string(),
                        width: media.width.and_then(|w| u32::try_from(w).ok()),
                        height: media.height.and_then(|h| u32::try_from(h).ok()),
                        fps: media.fps,
                        timecode: media.timecode,
                        bytes: i64::try_from(r.bytes).unwrap_or(i64::MAX),
                        file_count: i64::try_from(r.files.len()).unwrap_or(i64::MAX),
                        checksum: Some(format!("{}:{}", r.algo, r.content)),
                    },
                    comment: r.comment.clone(),
                    source: "ingest".into(),
                    uses: Vec::new(),
                    tags: Vec::new(),
                }
            })
            .collect();
        let e = match store.register_versions(&Actor::from_env(), &batch) {
            Ok(registered) => {
                if let Some(m) = &self.mirror {
                    super::ramses::mirror_logged(m, &mut store, &registered);
                }
                return Ok(());
            }
            Err(e) => e,
        };
        // A folder number the database already has: say which version, so ingest can report it
        // on that version's clips and register the others.
        let clash = match &e {
            StoreError::VersionExists {
                item,
                step,
                resource,
                number,
            } => batch.iter().position(|v| {
                v.item.code == *item
                    && v.step == *step
                    && v.resource == *resource
                    && v.number == Some(*number)
            }),
            _ => None,
        };
        Err(match clash {
            Some(index) if same_version_registered(&store, &batch[index]) => {
                RegisterError::AlreadyRegistered { index }
            }
            Some(index) => RegisterError::Clash {
                index,
                message: e.to_string(),
            },
            None => failed(e),
        })
    }
}

/// Whether the database already holds `v` itself (same number, folder and content checksum):
/// what a run killed right after registering left behind, not a clash.
fn same_version_registered(store: &shotline_store::Store, v: &shotline_store::NewVersion) -> bool {
    let q = shotline_store::VersionQuery {
        item: Some(v.item.code.clone()),
        step: Some(v.step.clone()),
        resource: Some(v.resource.clone()),
        ..Default::default()
    };
    store.versions(&q).is_ok_and(|found| {
        found.iter().any(|x| {
            Some(x.number) == v.number
                && x.files.dir == v.files.dir
                && x.files.checksum == v.files.checksum
        })
    })
}

/// Destinations from the project's one layout (`layout:`): its `shot_version` and `shot_file`
/// templates below its root, so ingest writes where validate, disk and publish look. Only the
/// deprecated `ingest.template` keys (or `--template`) choose otherwise.
fn layout_destinations(
    config: &mut shotline_config::IngestConfig,
    all: &shotline_config::Config,
    project_root: &Path,
) -> Result<()> {
    let layout =
        shotline_qc::layout::Layout::from_config(&all.layout, &all.project.code, project_root)?;
    let text = |name: &str| {
        layout
            .model
            .template(name)
            .map(|t| t.text().to_string())
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "the project layout has no {name} template: ingest needs shot_version and shot_file (docs/layout.md)"
                )
            })
    };
    config.dir_template = Some(text("shot_version")?);
    config.file_template = Some(text("shot_file")?);
    config.template = Some("custom".into());
    if config.root.is_none() {
        config.root = Some(layout.root().to_path_buf());
    }
    Ok(())
}

/// Runs the command.
pub fn run(args: &IngestArgs, ctx: &Ctx) -> Result<Exit> {
    let (project_root, loaded) = match &args.project {
        Some(p) if ctx.global.config.is_none() => {
            let cfg = shotline_config::load(None, None, p)?;
            (p.clone(), cfg)
        }
        Some(p) => (p.clone(), ctx.config.clone()),
        None => (ctx.project_root(), ctx.config.clone()),
    };
    let mut config = loaded.config.ingest.clone();
    if let Some(t) = &args.template {
        config.template = Some(t.clone());
    }
    if config.template.is_none() {
        layout_destinations(&mut config, &loaded.config, &project_root)?;
    }
    if let Some(v) = &args.verify {
        config.verify = v.clone();
    }
    if let Some(n) = args.threads {
        config.threads = n;
    }
    if args.no_thumbnails {
        config.thumbnails = false;
    }
    let hash = match &args.hash {
        Some(h) => Some(h.parse::<HashAlgo>()?),
        None => None,
    };
    let db = shotline_store::default_db_path(&project_root, &loaded.config.store);
    let registrar: Option<Box<dyn Registrar>> = if db.is_file() {
        Some(Box::new(StoreRegistrar {
            db: db.clone(),
            busy_timeout_ms: loaded.config.store.busy_timeout_ms,
            mirror: shotline_ramses::mirror::Mirror::from_config(&loaded.config.ramses),
        }))
    } else {
        None
    };
    let req = Request {
        deliveries: args.deliveries.clone(),
        project_root,
        config,
        project: loaded.config.project.clone(),
        overrides: args.overrides.clone(),
        edl: args.edl.clone(),
        dry_run: args.dry_run,
        hash,
        frame_check: Some(Box::new(frame_check)),
        registrar,
    };
    let bar = Bar {
        out: &ctx.out,
        bar: Mutex::new(None),
    };
    let report = shotline_ingest::ingest(&req, &bar)?;
    tracing::info!(
        job = %report.plan.job,
        clips = report.totals.clips,
        versions = report.versions_created.len(),
        bytes = report.totals.bytes_copied,
        resumed = report.resumed,
        "ingest finished"
    );
    for v in &report.versions_created {
        tracing::debug!(dir = %v.dir.display(), files = v.files, bytes = v.bytes, "version");
    }
    if ctx.out.json() {
        ctx.out.json_doc(&report)?;
        // The report's notes say it too; a delivery with nothing in it is worth a line on
        // stderr even for a script.
        for n in report
            .plan
            .notes
            .iter()
            .filter(|n| n.kind == NoteKind::Empty)
        {
            ctx.out.warn(format!("{}: {}", n.path.display(), n.message));
        }
    } else {
        print_human(&ctx.out, &report)?;
        if req.registrar.is_none() && !report.versions_created.is_empty() {
            ctx.out.note(format!(
                "no tracking database at {}: versions not registered (run `shotline init`)",
                db.display()
            ));
        }
    }
    Ok(Exit::problems_if(report.has_problems()))
}

fn status_cell(out: &Printer, s: ClipStatus) -> String {
    let (text, style) = match s {
        ClipStatus::Planned => ("planned", Style::Cyan),
        ClipStatus::Ingested => ("ingested", Style::Green),
        ClipStatus::NotRegistered => ("copied, not registered", Style::Yellow),
        ClipStatus::AlreadyIngested => ("already ingested", Style::Dim),
        ClipStatus::Registered => ("registered", Style::Green),
        ClipStatus::Unmatched => ("unmatched", Style::Yellow),
        ClipStatus::Blocked => ("blocked", Style::Red),
        ClipStatus::Failed => ("FAILED", Style::Red),
    };
    out.paint(text, style)
}

fn print_human(out: &Printer, r: &Report) -> Result<()> {
    let mut rows = Vec::new();
    for c in &r.plan.clips {
        let (shot, version, dest) = match c.version_group.and_then(|g| r.plan.versions.get(g)) {
            // Content ingested before: the version it is in, not the next free one.
            Some(g) => match &c.ingested_as {
                Some(a) => (
                    g.key.clone(),
                    version_digits(a.version),
                    a.dir.display().to_string(),
                ),
                None => (
                    g.key.clone(),
                    version_digits(g.version),
                    g.dir.display().to_string(),
                ),
            },
            None => ("-".into(), "-".into(), "-".into()),
        };
        let frames = match c.frames.span() {
            Some(span) => format!("{span} ({})", c.files_count),
            _ => c.files_count.to_string(),
        };
        rows.push(vec![
            c.key.clone(),
            shot,
            version,
            frames,
            human_bytes(c.size),
            status_cell(out, c.status),
            dest,
        ]);
    }
    out.table(
        &[
            "CLIP",
            "SHOT",
            "VERSION",
            "FRAMES",
            "SIZE",
            "STATUS",
            "DESTINATION",
        ],
        &rows,
    )?;
    for i in &r.plan.issues {
        match i.severity {
            Severity::Error => out.error(&i.message),
            Severity::Warning => out.warn(&i.message),
        }
    }
    for c in &r.plan.clips {
        for i in &c.issues {
            let msg = format!("{}: {}: {}", c.key, i.code, i.message);
            match i.severity {
                Severity::Error => out.error(msg),
                Severity::Warning => out.warn(msg),
            }
        }
    }
    for n in &r.plan.notes {
        out.warn(format!("{}: {}", n.path.display(), n.message));
    }
    for v in &r.versions_created {
        for w in &v.warnings {
            out.warn(format!("{}: {w}", v.dir.display()));
        }
    }
    let t = &r.totals;
    if r.dry_run {
        out.note(format!(
            "dry run: {} clip(s), {} to copy ({}), {} unmatched, {} blocked, {} already ingested",
            t.clips,
            t.planned,
            human_bytes(r.plan.bytes_to_copy),
            t.unmatched,
            t.blocked,
            t.already_ingested
        ));
    } else {
        out.note(format!(
            "{} clip(s) ingested into {} version(s): {} file(s), {} copied and verified ({}/s, {}){}; {} unmatched, {} blocked, {} failed, {} copied but not registered, {} already ingested{}",
            t.ingested,
            r.versions_created.len(),
            t.files_copied,
            human_bytes(t.bytes_copied),
            human_bytes(t.bytes_per_second as u64),
            r.plan.hash,
            if t.files_resumed > 0 {
                format!(", {} resumed", t.files_resumed)
            } else {
                String::new()
            },
            t.unmatched,
            t.blocked,
            t.failed,
            t.not_registered,
            t.already_ingested,
            if t.registered > 0 {
                format!(
                    ", {} already ingested and now registered in the database",
                    t.registered
                )
            } else {
                String::new()
            }
        ));
        if let Some(p) = r.saved.first() {
            out.note(format!("report: {}", p.display()));
        }
    }
    Ok(())
}
