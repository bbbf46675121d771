//! Running an ingest, phase by phase: settings → scan → match → plan → take versions → clean
//! leftovers → parallel verified copies in durability batches → record each version (see
//! [`crate::record`]) → register → ledger → report.
//!
//! [`run`] reads as that list; each phase is a function named for its step.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;

use crate::copy::{
    clean_temp_leftovers, commit, stage, sync_filesystem, CopyOptions, StageResult, Staged,
};
use crate::destination::Destinations;
use crate::edl::EdlMap;
use crate::hash::HashAlgo;
use crate::ledger::{self, LedgerClip, LedgerEntry};
use crate::matching::{Matcher, ShotId};
use crate::mhl;
use crate::plan::{
    self, content_hash, ClipStatus, Issue, Plan, PlanInput, PlannedClip, ProjectFormat,
    VersionGroup,
};
use crate::record::{
    record_version, CopiedFile, RecordSettings, RegisterError, Registration, VersionFiles,
    THUMB_FILE,
};
use crate::report::{Report, Totals, VersionRecord, SCHEMA};
use crate::resume::{Job, Reserved, Verified};
use crate::scan::{scan_delivery, Clip, ClipKind, ScanNote};
use crate::sidecar::SIDECAR_FILE;
use crate::{job_id, IngestError, Progress, Request, STATE_DIR};

/// Most files in one batch.
const BATCH_FILES: usize = 1000;

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// What the request and the `ingest:` config resolve to, checked once before anything runs.
struct Settings {
    algo: HashAlgo,
    /// Read copies back from storage (`storage`), not through the page cache (`cache`).
    from_storage: bool,
    destinations: Destinations,
    /// Where versions are created.
    root: PathBuf,
    /// `.shotline/ingest` of the project: ledger, job states, reports.
    state_root: PathBuf,
    ledger: PathBuf,
    buf_size: usize,
}

/// One file to copy.
struct Task {
    /// Index of its clip in the plan.
    clip: usize,
    src: PathBuf,
    dest: PathBuf,
    size: u64,
}

/// One file copied and verified (now or by an interrupted run).
struct Done {
    hash: String,
    size: u64,
    /// Verified before this run, or already present with the same content.
    resumed: bool,
}

/// A thumbnail made from a source frame while the copy runs.
struct ThumbJob {
    /// Index of the version in the plan.
    group: usize,
    source: PathBuf,
    out: PathBuf,
}

/// What the copy phase produced.
struct CopyOutcome {
    /// One result per task, in task order.
    results: Vec<Result<Done, String>>,
    /// Early thumbnails, by version index.
    thumbs: BTreeMap<usize, Result<(), String>>,
    seconds: f64,
}

/// What copying one batch needs.
struct CopyContext<'a> {
    pool: &'a rayon::ThreadPool,
    opts: &'a CopyOptions,
    job: &'a Job,
    progress: &'a dyn Progress,
}

/// A version to register in the tracking database, and what follows from its registration.
struct PendingRegistration {
    registration: Registration,
    /// The clips it is for.
    clips: Vec<usize>,
    /// Index in `versions_created` of a version this run created; `None` for an existing
    /// version registered again.
    created: Option<usize>,
    /// Its ledger line (appended, marked registered or not, after registration).
    ledger: LedgerEntry,
    registered: bool,
}

pub(crate) fn run(req: &Request, progress: &dyn Progress) -> Result<Report, IngestError> {
    let started = now_rfc3339();
    let settings = Settings::resolve(req)?;
    let (clips, notes) = scan_deliveries(&req.deliveries, &settings.root)?;
    let edl = match &req.edl {
        Some(p) => Some(EdlMap::read(p)?),
        None => None,
    };
    let matcher = Matcher::new(&req.config, &req.overrides, edl)?;
    let job = job_id(&req.deliveries, &settings.root);
    let handle = open_job(req, &settings, &job)?;
    let resumed = handle.as_ref().is_some_and(|h| h.resumed);
    let mut plan = plan::make_plan(plan_input(
        req,
        &settings,
        &matcher,
        &job,
        clips,
        notes,
        handle.as_ref().filter(|h| h.resumed).map(|h| &h.state),
    ))
    .map_err(IngestError::Io)?;
    let report = new_report(req, &settings, &plan, resumed, started);
    let Some(mut handle) = handle else {
        check_targets_dry(req, &mut plan)?;
        return Ok(finish_report(report, plan));
    };
    if plan.blocked() {
        return Ok(finish_report(report, plan));
    }
    copy_and_record(req, &settings, report, plan, &mut handle, progress)
        .and_then(|(report, failed)| save_run(report, handle, failed, &settings.state_root, &job))
}

/// The phases of a real (not dry) run after planning: the plan's versions taken, copied,
/// recorded, registered and written to the ledger. Returns the finished report and whether a
/// copy failed.
fn copy_and_record(
    req: &Request,
    settings: &Settings,
    mut report: Report,
    mut plan: Plan,
    handle: &mut Job,
    progress: &dyn Progress,
) -> Result<(Report, bool), IngestError> {
    take_versions(&mut plan, handle, req.registrar.as_deref())?;
    report.cleaned_temp_files = clean_leftovers(&plan)?;
    let tasks = copy_tasks(&mut plan);
    let thumbs = if req.config.thumbnails {
        thumbnail_jobs(&plan, handle)
    } else {
        Vec::new()
    };
    let outcome = copy_files(req, settings, &tasks, &thumbs, handle, progress)?;
    let copied = tally_copies(&mut plan, &mut report.totals, &tasks, outcome.results);
    report.totals.copy_seconds = outcome.seconds;
    report.totals.bytes_per_second = if outcome.seconds > 0.0 {
        report.totals.bytes_copied as f64 / outcome.seconds
    } else {
        0.0
    };
    let date = now_rfc3339();
    let record = RecordSettings {
        cfg: &req.config,
        algo: settings.algo,
        date: &date,
        buf_size: settings.buf_size,
    };
    let mut pending = record_versions(
        &record,
        &plan.job.clone(),
        &mut plan,
        &mut report,
        &copied,
        &outcome.thumbs,
        handle,
    )?;
    if req.registrar.is_some() {
        pending.extend(existing_registrations(&mut plan, settings.algo, &date));
    }
    if let Some(r) = &req.registrar {
        register_all(r.as_ref(), &mut pending, &mut report, &mut plan);
        mark_not_registered(&pending, &mut plan);
    }
    write_ledger(&settings.ledger, &mut pending, handle)?;
    let failed = plan.clips.iter().any(|c| c.status == ClipStatus::Failed);
    Ok((finish_report(report, plan), failed))
}

impl Settings {
    /// Phase "settings": the checksum, verification mode, destination templates and folders.
    fn resolve(req: &Request) -> Result<Settings, IngestError> {
        let cfg = &req.config;
        let algo = match req.hash {
            Some(a) => a,
            None => cfg
                .hash
                .parse::<HashAlgo>()
                .map_err(|e| IngestError::Config(format!("ingest.hash: {e}")))?,
        };
        let from_storage = match cfg.verify.to_ascii_lowercase().as_str() {
            "storage" | "" => true,
            "cache" => false,
            other => {
                return Err(IngestError::Config(format!(
                    "ingest.verify {other:?}: expected storage or cache"
                )))
            }
        };
        let destinations = Destinations::from_config(
            cfg.template.as_deref().unwrap_or("shotline"),
            cfg.dir_template.as_deref(),
            cfg.file_template.as_deref(),
        )?;
        let root = match &cfg.root {
            Some(r) if r.is_absolute() => r.clone(),
            Some(r) => req.project_root.join(r),
            None => req.project_root.clone(),
        };
        let state_root = req.project_root.join(STATE_DIR);
        if req.deliveries.is_empty() {
            return Err(IngestError::Config("no delivery given".into()));
        }
        Ok(Settings {
            algo,
            from_storage,
            destinations,
            root,
            ledger: state_root.join("ledger.jsonl"),
            state_root,
            buf_size: cfg.buffer_mib.clamp(1, 256) << 20,
        })
    }
}

/// Phase "scan": the clips of every delivery. A destination inside a delivery is refused (a
/// delivery is never modified).
fn scan_deliveries(
    deliveries: &[PathBuf],
    root: &Path,
) -> Result<(Vec<Clip>, Vec<ScanNote>), IngestError> {
    let mut clips = Vec::new();
    let mut notes = Vec::new();
    let canon_root = std::fs::canonicalize(root).ok();
    for d in deliveries {
        let s = scan_delivery(d)?;
        if let (Ok(cd), Some(cr)) = (std::fs::canonicalize(d), &canon_root) {
            if cr.starts_with(&cd) || cd.starts_with(cr.join(".shotline")) {
                return Err(IngestError::Config(format!(
                    "the destination {} is inside the delivery {}: a delivery is never modified",
                    root.display(),
                    d.display()
                )));
            }
        }
        clips.extend(s.clips);
        notes.extend(s.notes);
    }
    Ok((clips, notes))
}

/// Phase "resume": the job's state, locked (an interrupted run's versions and verified files);
/// none for a dry run, which writes nothing.
fn open_job(req: &Request, settings: &Settings, job: &str) -> Result<Option<Job>, IngestError> {
    if req.dry_run {
        return Ok(None);
    }
    Ok(Some(Job::open(&settings.state_root.join("jobs"), job)?))
}

/// What planning needs from the request and settings.
fn plan_input<'a>(
    req: &'a Request,
    settings: &Settings,
    matcher: &'a Matcher,
    job: &str,
    clips: Vec<Clip>,
    notes: Vec<ScanNote>,
    resumed: Option<&'a crate::resume::JobState>,
) -> PlanInput<'a> {
    PlanInput {
        job: job.to_string(),
        clips,
        notes,
        deliveries: req.deliveries.clone(),
        root: settings.root.clone(),
        ledger: settings.ledger.clone(),
        matcher,
        destinations: settings.destinations.clone(),
        algo: settings.algo,
        project_code: req.project.code.clone(),
        state: req.config.state.clone(),
        reserve_bytes: req.config.reserve_mib << 20,
        buf_size: settings.buf_size,
        resumed,
        frame_check: req.frame_check.as_deref(),
        project_format: ProjectFormat {
            width: req.project.width,
            height: req.project.height,
            fps: req.project.fps,
        },
    }
}

/// The report as it starts: the run's settings and the plan's global parts.
fn new_report(
    req: &Request,
    settings: &Settings,
    plan: &Plan,
    resumed: bool,
    started: String,
) -> Report {
    Report {
        schema: SCHEMA,
        verify: if settings.from_storage {
            "storage"
        } else {
            "cache"
        },
        dry_run: req.dry_run,
        resumed,
        started,
        finished: String::new(),
        totals: Totals::default(),
        plan: Plan {
            clips: Vec::new(),
            versions: Vec::new(),
            ..plan.clone()
        },
        versions_created: Vec::new(),
        cleaned_temp_files: Vec::new(),
        saved: Vec::new(),
    }
}

/// The report with the final plan, end time and counts.
fn finish_report(mut report: Report, plan: Plan) -> Report {
    report.plan = plan;
    report.finished = now_rfc3339();
    report.count();
    report
}

/// Phase "report": the job state kept for a re-run when a copy failed, else removed; the
/// report saved under `.shotline/ingest/reports/`.
fn save_run(
    mut report: Report,
    handle: Job,
    failed: bool,
    state_root: &Path,
    job: &str,
) -> Result<Report, IngestError> {
    let stem = format!(
        "{}_{}",
        report
            .finished
            .replace([':', '-'], "")
            .chars()
            .take(15)
            .collect::<String>(),
        job
    );
    if failed {
        handle.save()?;
    } else {
        handle.finish()?;
    }
    report
        .save(&state_root.join("reports"), &stem)
        .map_err(|e| IngestError::Io(format!("cannot save report: {e}")))?;
    Ok(report)
}

/// True when some clip of `g` is still to be copied.
fn has_planned_clips(plan: &Plan, g: &VersionGroup) -> bool {
    g.clips
        .iter()
        .any(|&c| plan.clips[c].status == ClipStatus::Planned)
}

/// Phase "take version": each version with clips to copy reuses the folder the interrupted
/// run took, else takes the next number from the store's allocator ([`take_version`]). The
/// job state is saved after each, so a kill never makes a later run take another (the
/// database reservation of the number stays until the resumed run registers it).
fn take_versions(
    plan: &mut Plan,
    handle: &mut Job,
    registrar: Option<&dyn crate::Registrar>,
) -> Result<(), IngestError> {
    for gi in 0..plan.versions.len() {
        if !has_planned_clips(plan, &plan.versions[gi]) {
            continue;
        }
        let key = plan.versions[gi].job_key.clone();
        if let Some(r) = handle.state.versions.get(&key).filter(|r| r.dir.is_dir()) {
            plan.versions[gi].version = r.version;
            plan.versions[gi].dir = r.dir.clone();
            continue;
        }
        match take_version(registrar, &plan.destinations, &plan.versions[gi]) {
            Ok(crate::Allocated {
                version: v, dir, ..
            }) => {
                plan.versions[gi].version = v;
                plan.versions[gi].dir = dir.clone();
                handle.state.versions.insert(
                    key,
                    Reserved {
                        version: v,
                        dir,
                        recorded: false,
                    },
                );
                // Saved at once: a kill now must find this folder again, not take another.
                handle.save()?;
            }
            Err(e) => block_planned(plan, gi, &Issue::error("version", e)),
        }
    }
    handle.save()?;
    Ok(())
}

/// Blocks the clips of version `gi` still planned, with `issue`.
fn block_planned(plan: &mut Plan, gi: usize, issue: &Issue) {
    for c in plan.versions[gi].clips.clone() {
        let clip = &mut plan.clips[c];
        if clip.status == ClipStatus::Planned {
            clip.status = ClipStatus::Blocked;
            clip.issues.push(issue.clone());
        }
    }
}

/// Phase "clean": temp files of an interrupted run, only in folders this run writes into (a
/// group whose clips were all ingested before points at an existing, finished version).
fn clean_leftovers(plan: &Plan) -> Result<Vec<PathBuf>, IngestError> {
    let mut removed = Vec::new();
    for g in &plan.versions {
        if has_planned_clips(plan, g) && g.dir.is_dir() {
            removed.extend(
                clean_temp_leftovers(&g.dir).map_err(|e| {
                    IngestError::Io(format!("cannot clean {}: {e}", g.dir.display()))
                })?,
            );
        }
    }
    Ok(removed)
}

/// Phase "copy tasks": one task per file of each planned clip, to its destination path; a clip
/// whose destination cannot be built is blocked.
fn copy_tasks(plan: &mut Plan) -> Vec<Task> {
    let mut tasks: Vec<Task> = Vec::new();
    for (ci, c) in plan.clips.iter_mut().enumerate() {
        if c.status != ClipStatus::Planned {
            continue;
        }
        let Some(gi) = c.version_group else { continue };
        let g = &plan.versions[gi];
        for f in &c.files {
            match plan::dest_path(&plan.destinations, g, f, &c.ext) {
                Ok(dest) => tasks.push(Task {
                    clip: ci,
                    src: f.source.clone(),
                    dest,
                    size: f.size,
                }),
                Err(e) => {
                    c.issues.push(Issue::error("template", e));
                    c.status = ClipStatus::Blocked;
                }
            }
        }
    }
    tasks.retain(|t| plan.clips[t.clip].status == ClipStatus::Planned);
    tasks
}

/// Phase "thumbnails": for each new version folder not recorded yet, the source's middle frame
/// of its first sequence (else movie) is made into its thumbnail while the copy runs (the bytes
/// are the same; the copy is verified against them).
fn thumbnail_jobs(plan: &Plan, handle: &Job) -> Vec<ThumbJob> {
    let mut jobs = Vec::new();
    for (gi, g) in plan.versions.iter().enumerate() {
        let recorded = handle
            .state
            .versions
            .get(&g.job_key)
            .is_some_and(|r| r.recorded);
        if !g.dir.is_dir()
            || recorded
            || mhl::chain_generations(&g.dir).map_or(true, |c| !c.is_empty())
        {
            continue;
        }
        let planned = || {
            g.clips
                .iter()
                .map(|&c| &plan.clips[c])
                .filter(|c| c.status == ClipStatus::Planned)
        };
        let clip = planned()
            .find(|c| c.kind == ClipKind::Sequence)
            .or_else(|| planned().find(|c| c.kind == ClipKind::Movie));
        if let Some(f) = clip.and_then(|c| c.files.get(c.files.len() / 2)) {
            jobs.push(ThumbJob {
                group: gi,
                source: f.source.clone(),
                out: g.dir.join(THUMB_FILE),
            });
        }
    }
    jobs
}

/// The copy threads: `ingest.threads` (0: 8), at most [`shotline_config::MAX_INGEST_THREADS`].
fn copy_pool(threads: usize) -> Result<rayon::ThreadPool, IngestError> {
    let threads = match threads {
        0 => 8,
        n if n > shotline_config::MAX_INGEST_THREADS => {
            return Err(IngestError::Config(format!(
                "ingest.threads {n}: at most {} parallel copies",
                shotline_config::MAX_INGEST_THREADS
            )))
        }
        n => n,
    };
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| IngestError::Io(format!("cannot start copy threads: {e}")))
}

/// Phase "copy": every task copied and verified, batch by batch (see [`copy_batch`]), while
/// the thumbnails are made on another thread.
fn copy_files(
    req: &Request,
    settings: &Settings,
    tasks: &[Task],
    thumbs: &[ThumbJob],
    job: &Job,
    progress: &dyn Progress,
) -> Result<CopyOutcome, IngestError> {
    let opts = CopyOptions {
        algo: settings.algo,
        buf_size: settings.buf_size,
        verify: true,
        from_storage: settings.from_storage,
        throttle: crate::hooks::throttle().map_err(IngestError::Config)?,
    };
    let pool = copy_pool(req.config.threads)?;
    progress.start_copy(tasks.len(), tasks.iter().map(|t| t.size).sum());
    let t0 = Instant::now();
    let ctx = CopyContext {
        pool: &pool,
        opts: &opts,
        job,
        progress,
    };
    let batch_bytes = req.config.batch_mib.max(1) << 20;
    let (results, thumbs) = std::thread::scope(|scope| {
        let thumber = scope.spawn(|| write_thumbnails(thumbs));
        let mut results = Vec::with_capacity(tasks.len());
        let mut start = 0;
        while start < tasks.len() {
            let end = batch_end(tasks, start, batch_bytes);
            results.extend(copy_batch(&tasks[start..end], &ctx));
            start = end;
        }
        (results, thumber.join().unwrap_or_default())
    });
    progress.end_copy();
    Ok(CopyOutcome {
        results,
        thumbs,
        seconds: t0.elapsed().as_secs_f64(),
    })
}

/// Makes the early thumbnails; by version index.
fn write_thumbnails(jobs: &[ThumbJob]) -> BTreeMap<usize, Result<(), String>> {
    jobs.iter()
        .map(|j| {
            (
                j.group,
                crate::thumb::write_thumbnail(&j.source, &j.out).map_err(|e| e.to_string()),
            )
        })
        .collect()
}

/// Where the batch starting at `start` ends: at least one file, then up to `batch_bytes` and
/// [`BATCH_FILES`]. A batch is bounded so an interruption loses little work and dirty data
/// stays limited.
fn batch_end(tasks: &[Task], start: usize, batch_bytes: u64) -> usize {
    let mut end = start;
    let mut bytes = 0u64;
    while end < tasks.len() && (end == start || (bytes < batch_bytes && end - start < BATCH_FILES))
    {
        bytes += tasks[end].size;
        end += 1;
    }
    end
}

/// One batch: every file staged in parallel (written and hashed), the batch made durable with
/// one `syncfs` per destination filesystem, then every file verified and renamed in parallel.
fn copy_batch(batch: &[Task], ctx: &CopyContext<'_>) -> Vec<Result<Done, String>> {
    let staged: Vec<Result<Result<Done, Staged>, String>> = ctx.pool.install(|| {
        batch
            .par_iter()
            .with_max_len(1)
            .map(|t| stage_task(t, ctx))
            .collect()
    });
    let sync_error = sync_batch(batch);
    ctx.pool.install(|| {
        staged
            .into_par_iter()
            .with_max_len(1)
            .zip(batch.par_iter())
            .map(|(r, t)| match r? {
                Ok(done) => Ok(done),
                Err(staged) => commit_task(staged, t, sync_error.as_deref(), ctx),
            })
            .collect()
    })
}

/// Stages one file: done already when an interrupted run verified it (or the destination holds
/// the same content), else written to its temp name.
fn stage_task(t: &Task, ctx: &CopyContext<'_>) -> Result<Result<Done, Staged>, String> {
    if let Some(v) = ctx.job.already_verified(&t.dest) {
        ctx.progress.bytes(v.size);
        return Ok(Ok(Done {
            hash: v.hash.clone(),
            size: v.size,
            resumed: true,
        }));
    }
    let r =
        stage(&t.src, &t.dest, ctx.opts, &|n| ctx.progress.bytes(n)).map_err(|e| e.to_string())?;
    Ok(match r {
        StageResult::Done(c) => Ok(Done {
            hash: c.hash,
            size: c.size,
            resumed: true,
        }),
        StageResult::Pending(s) => Err(s),
    })
}

/// Syncs the filesystems of a batch's folders; the last failure, if any.
fn sync_batch(batch: &[Task]) -> Option<String> {
    let mut dirs: Vec<&Path> = batch.iter().filter_map(|t| t.dest.parent()).collect();
    dirs.sort();
    dirs.dedup();
    let mut sync_error = None;
    for d in dirs {
        if let Err(e) = sync_filesystem(d) {
            sync_error = Some(format!("cannot sync {}: {e}", d.display()));
        }
    }
    sync_error
}

/// Verifies and renames a staged file, and journals it for a re-run; a failed sync of its
/// batch fails it (its temp file removed).
fn commit_task(
    staged: Staged,
    t: &Task,
    sync_error: Option<&str>,
    ctx: &CopyContext<'_>,
) -> Result<Done, String> {
    if let Some(e) = sync_error {
        let _ = std::fs::remove_file(&staged.tmp);
        return Err(e.to_string());
    }
    let c = commit(staged, &t.src, &t.dest, ctx.opts).map_err(|e| e.to_string())?;
    ctx.job
        .journal(&Verified {
            dest: t.dest.clone(),
            hash: c.hash.clone(),
            size: c.size,
        })
        .map_err(|e| e.to_string())?;
    Ok(Done {
        hash: c.hash,
        size: c.size,
        resumed: c.already_present,
    })
}

/// Phase "tally": counts the copies, fails the clips of failed ones, and returns the copied
/// files of each clip (in frame order). Only copies verified and renamed count as copied; bytes
/// written for a copy that failed do not.
fn tally_copies(
    plan: &mut Plan,
    totals: &mut Totals,
    tasks: &[Task],
    results: Vec<Result<Done, String>>,
) -> BTreeMap<usize, Vec<CopiedFile>> {
    let mut per_clip: BTreeMap<usize, Vec<CopiedFile>> = BTreeMap::new();
    let mut verified_bytes = 0u64;
    for (t, r) in tasks.iter().zip(results) {
        match r {
            Ok(d) => {
                if d.resumed {
                    totals.files_resumed += 1;
                } else {
                    totals.files_copied += 1;
                    verified_bytes = verified_bytes.saturating_add(d.size);
                }
                per_clip.entry(t.clip).or_default().push(CopiedFile {
                    dest: t.dest.clone(),
                    hash: d.hash,
                    size: d.size,
                    source: t.src.clone(),
                });
            }
            Err(e) => {
                let c = &mut plan.clips[t.clip];
                c.status = ClipStatus::Failed;
                c.issues.push(Issue::error("copy", e));
            }
        }
    }
    totals.bytes_copied = verified_bytes;
    per_clip
}

/// What a version folder holds after the copy: its files and, per clip, the ledger's record.
struct VersionContent {
    files: Vec<CopiedFile>,
    clips: Vec<LedgerClip>,
}

/// Phase "record": each version whose clips were all copied gets its sidecar, thumbnail and
/// MHL generation (unless an interrupted run recorded it) and is queued for registration with
/// its ledger line; its clips are ingested.
#[allow(clippy::too_many_arguments)]
fn record_versions(
    s: &RecordSettings<'_>,
    job: &str,
    plan: &mut Plan,
    report: &mut Report,
    copied: &BTreeMap<usize, Vec<CopiedFile>>,
    thumbs: &BTreeMap<usize, Result<(), String>>,
    handle: &Job,
) -> Result<Vec<PendingRegistration>, IngestError> {
    let mut pending = Vec::new();
    for gi in 0..plan.versions.len() {
        let Some(members) = complete_members(plan, gi) else {
            continue;
        };
        let g = plan.versions[gi].clone();
        shotline_fsio::sync_dir(&g.dir).map_err(|e| IngestError::Io(e.to_string()))?;
        let content = version_content(plan, &members, copied, s.algo);
        let already_recorded = handle
            .state
            .versions
            .get(&g.job_key)
            .is_some_and(|r| r.recorded);
        let mut rec = VersionRecord {
            key: g.key.clone(),
            version: g.version,
            dir: g.dir.clone(),
            files: content.files.len(),
            bytes: content.files.iter().map(|f| f.size).sum(),
            mhl: None,
            sidecar: Some(g.dir.join(SIDECAR_FILE)),
            thumbnail: None,
            registered: false,
            warnings: Vec::new(),
        };
        if !already_recorded {
            record_or_reuse(
                plan,
                &g,
                &members,
                &content.files,
                s,
                thumbs.get(&gi),
                &mut rec,
            )?;
            let ledger = new_ledger_entry(s, job, &g, &rec, content.clips);
            let registration = registration(
                plan,
                &g,
                (g.version, &g.dir),
                &members,
                content.files,
                s.algo,
            )
            .map_err(IngestError::Io)?;
            pending.push(PendingRegistration {
                registration,
                clips: members.clone(),
                created: Some(report.versions_created.len()),
                ledger,
                registered: false,
            });
        }
        for &ci in &members {
            plan.clips[ci].status = ClipStatus::Ingested;
        }
        report.versions_created.push(rec);
    }
    Ok(pending)
}

/// The clips of version `gi` copied in this run, when they all were (a version with a failed
/// copy is resumed by the next run) and its folder exists.
fn complete_members(plan: &Plan, gi: usize) -> Option<Vec<usize>> {
    let g = &plan.versions[gi];
    let members: Vec<usize> = g
        .clips
        .iter()
        .copied()
        .filter(|&c| {
            matches!(
                plan.clips[c].status,
                ClipStatus::Planned | ClipStatus::Failed
            )
        })
        .collect();
    let complete = !members.is_empty()
        && g.dir.is_dir()
        && !members
            .iter()
            .any(|&c| plan.clips[c].status == ClipStatus::Failed);
    complete.then_some(members)
}

/// The files copied for `members` and their content checksums (set on each clip).
fn version_content(
    plan: &mut Plan,
    members: &[usize],
    copied: &BTreeMap<usize, Vec<CopiedFile>>,
    algo: HashAlgo,
) -> VersionContent {
    let mut out = VersionContent {
        files: Vec::new(),
        clips: Vec::new(),
    };
    for &ci in members {
        let done = copied.get(&ci).map(Vec::as_slice).unwrap_or(&[]);
        let names: Vec<(String, &str)> = done
            .iter()
            .map(|f| {
                let n = f
                    .source
                    .file_name()
                    .map(crate::names::escape_os)
                    .unwrap_or_default();
                (n, f.hash.as_str())
            })
            .collect();
        let content = content_hash(names.iter().map(|(n, h)| (n.as_str(), *h)), algo);
        let c = &mut plan.clips[ci];
        c.content = Some(content.clone());
        out.clips.push(LedgerClip {
            clip: c.key.clone(),
            fingerprint: c.fingerprint.clone(),
            content,
        });
        out.files.extend(done.iter().cloned());
    }
    out
}

/// Writes the version's records, or, when an interrupted run already wrote its MHL
/// generation, points the report at what is there.
fn record_or_reuse(
    plan: &Plan,
    g: &VersionGroup,
    members: &[usize],
    files: &[CopiedFile],
    s: &RecordSettings<'_>,
    early_thumb: Option<&Result<(), String>>,
    rec: &mut VersionRecord,
) -> Result<(), IngestError> {
    let gens = mhl::chain_generations(&g.dir).map_err(|e| IngestError::Io(e.to_string()))?;
    if gens.is_empty() {
        let v = VersionFiles {
            dir: &g.dir,
            version: g.version,
            files,
            clips: members.iter().map(|&c| &plan.clips[c]).collect(),
        };
        return record_version(&v, s, early_thumb, rec);
    }
    if let Some(last) = gens.last() {
        rec.mhl = Some(g.dir.join(mhl::MHL_DIR).join(&last.path));
        if g.dir.join(THUMB_FILE).is_file() {
            rec.thumbnail = Some(g.dir.join(THUMB_FILE));
        }
    }
    Ok(())
}

/// The ledger line of a version this run created (not registered until the database says so).
fn new_ledger_entry(
    s: &RecordSettings<'_>,
    job: &str,
    g: &VersionGroup,
    rec: &VersionRecord,
    clips: Vec<LedgerClip>,
) -> LedgerEntry {
    LedgerEntry {
        time: s.date.to_string(),
        job: job.to_string(),
        shot: match &g.id.sequence {
            Some(seq) => format!("{seq}/{}", g.id.shot),
            None => g.id.shot.clone(),
        },
        step: g.id.step.clone(),
        resource: g.id.resource.clone(),
        version: g.version,
        dir: g.dir.display().to_string(),
        files: rec.files,
        bytes: rec.bytes,
        algo: s.algo.name().into(),
        clips,
        registered: Some(false),
    }
}

/// What the tracking database records for a version (number and folder `at`) holding `files`
/// of `members`: its main clip's pattern, frames and media.
fn registration(
    plan: &Plan,
    g: &VersionGroup,
    (version, dir): (u32, &Path),
    members: &[usize],
    files: Vec<CopiedFile>,
    algo: HashAlgo,
) -> Result<Registration, String> {
    let main = main_clip(plan, g, version, members)?;
    let mc = &plan.clips[main.clip];
    Ok(Registration {
        id: g.id.clone(),
        version,
        dir: dir.to_path_buf(),
        pattern: main.pattern,
        frames: mc.frames.clone(),
        missing_frames: mc.frames.gaps(),
        media: mc.media.clone(),
        bytes: files.iter().map(|f| f.size).sum(),
        files,
        algo,
        content: mc.content.clone().unwrap_or_default(),
        comment: format!(
            "ingested from {}",
            members
                .iter()
                .map(|&c| plan.clips[c].key.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    })
}

/// The clip a version is registered by.
struct MainClip {
    /// Its index in the plan.
    clip: usize,
    /// Its file name pattern in the version folder (`NAME_v001.####.exr`).
    pattern: String,
}

/// The main clip of a version (its first image sequence, else its first clip) and that clip's
/// file name pattern in the folder numbered `version`.
fn main_clip(
    plan: &Plan,
    g: &VersionGroup,
    version: u32,
    members: &[usize],
) -> Result<MainClip, String> {
    let clip = members
        .iter()
        .copied()
        .find(|&c| plan.clips[c].kind == ClipKind::Sequence)
        .or_else(|| members.first().copied())
        .ok_or_else(|| format!("version {} has no clips", g.key))?;
    let mc = &plan.clips[clip];
    let pattern = mc
        .files
        .first()
        .map(|f| {
            let mut f = f.clone();
            f.frame = f
                .frame
                .as_ref()
                .map(|t| "#".repeat(t.trim_start_matches('-').len()));
            plan::dest_name(&plan.destinations, g, version, &f, &mc.ext)
        })
        .transpose()?
        .unwrap_or_default();
    Ok(MainClip { clip, pattern })
}

/// Phase "existing registrations": content already ingested into a folder that was never
/// registered (its registration failed, or there was no database then). Without this, a re-run
/// after fixing the cause would skip it as already ingested forever and the version would never
/// reach the database. It is registered now, under its folder's number, in the same
/// transaction as the new versions.
fn existing_registrations(plan: &mut Plan, algo: HashAlgo, date: &str) -> Vec<PendingRegistration> {
    let mut by_dir: BTreeMap<PathBuf, Vec<usize>> = BTreeMap::new();
    for (ci, c) in plan.clips.iter().enumerate() {
        if c.status != ClipStatus::AlreadyIngested {
            continue;
        }
        if let Some(a) = c.ingested_as.as_ref().filter(|a| !a.registered) {
            by_dir.entry(a.dir.clone()).or_default().push(ci);
        }
    }
    let mut pending = Vec::new();
    for (dir, members) in by_dir {
        match existing_registration(plan, &members, algo) {
            Ok(mut p) => {
                p.ledger.time = date.to_string();
                p.ledger.job = plan.job.clone();
                pending.push(p);
            }
            Err(e) => {
                for ci in members {
                    plan.clips[ci].issues.push(Issue::error(
                        "registration",
                        format!(
                            "already ingested into {} but not registered: {e}",
                            dir.display()
                        ),
                    ));
                }
            }
        }
    }
    pending
}

/// The registration of an existing version folder that already-ingested `members` (all in that
/// folder, per the ledger) went into, with the same fields a new version gets, and its ledger
/// line (to append, marked registered, once the database has it). Refused when the clips now
/// map to another shot/step/resource, when only some of the version's clips are in this run (the
/// database would get a partial file list), or when a file is missing or has another size in the
/// folder (what would be registered is not what was ingested).
fn existing_registration(
    plan: &Plan,
    members: &[usize],
    algo: HashAlgo,
) -> Result<PendingRegistration, String> {
    let first = members.first().map(|&c| &plan.clips[c]).ok_or("no clips")?;
    let a = first.ingested_as.as_ref().ok_or("not already ingested")?;
    let entry = &a.entry;
    let g = first
        .version_group
        .and_then(|gi| plan.versions.get(gi))
        .ok_or("the clip has no version")?;
    check_same_target(plan, members, entry)?;
    check_whole_version(plan, members, entry)?;
    let mut files = Vec::new();
    for &ci in members {
        files.extend(files_in_folder(
            plan,
            g,
            (a.version, &a.dir),
            &plan.clips[ci],
        )?);
    }
    Ok(PendingRegistration {
        registration: registration(plan, g, (a.version, &a.dir), members, files, algo)?,
        clips: members.to_vec(),
        created: None,
        ledger: entry.clone(),
        registered: false,
    })
}

/// Refuses when the clips now map to another shot/step/resource than the ledger line says.
fn check_same_target(plan: &Plan, members: &[usize], entry: &LedgerEntry) -> Result<(), String> {
    let entry_key = format!(
        "{}/{}{}",
        entry.shot,
        entry.step,
        entry
            .resource
            .as_deref()
            .map(|r| format!("/{r}"))
            .unwrap_or_default()
    );
    if members.iter().any(|&c| {
        plan.clips[c]
            .version_group
            .and_then(|gi| plan.versions.get(gi))
            .is_none_or(|x| x.key != entry_key)
    }) {
        return Err(format!(
            "it was ingested as {entry_key} but now matches another shot/step/resource"
        ));
    }
    Ok(())
}

/// Refuses when a clip of the version (per its ledger line) is not in this run.
fn check_whole_version(plan: &Plan, members: &[usize], entry: &LedgerEntry) -> Result<(), String> {
    let present = |content: &str| {
        members
            .iter()
            .any(|&c| plan.clips[c].content.as_deref() == Some(content))
    };
    match entry.clips.iter().find(|lc| !present(&lc.content)) {
        Some(missing) => Err(format!(
            "its clip {} is not in this delivery; ingest the whole delivery again to register it",
            missing.clip
        )),
        None => Ok(()),
    }
}

/// A clip's files in an existing version folder (number and folder `at`), each checked to be
/// there with the size that was ingested, with its source checksum.
fn files_in_folder(
    plan: &Plan,
    g: &VersionGroup,
    (version, dir): (u32, &Path),
    c: &PlannedClip,
) -> Result<Vec<CopiedFile>, String> {
    if c.hashes.len() != c.files.len() {
        return Err(format!("{}: the source checksums are unknown", c.key));
    }
    let mut files = Vec::with_capacity(c.files.len());
    for (f, h) in c.files.iter().zip(&c.hashes) {
        let path = dir.join(plan::dest_name(&plan.destinations, g, version, f, &c.ext)?);
        match std::fs::metadata(&path) {
            Ok(m) if m.is_file() && m.len() == f.size => {}
            Ok(m) => {
                return Err(format!(
                    "{} has {} bytes, {} were ingested",
                    path.display(),
                    m.len(),
                    f.size
                ))
            }
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        }
        files.push(CopiedFile {
            dest: path,
            hash: h.clone(),
            size: f.size,
            source: f.source.clone(),
        });
    }
    Ok(files)
}

/// Phase "register": all versions in one transaction, each under its folder's number. A number
/// the database already has is an error for that version's clips; the others are registered
/// without it.
fn register_all(
    registrar: &dyn crate::Registrar,
    pending: &mut [PendingRegistration],
    report: &mut Report,
    plan: &mut Plan,
) {
    let mut waiting: Vec<usize> = (0..pending.len()).collect();
    while !waiting.is_empty() {
        let batch: Vec<Registration> = waiting
            .iter()
            .map(|&i| pending[i].registration.clone())
            .collect();
        match registrar.register(&batch) {
            Ok(()) => {
                crate::hooks::kill_at(crate::hooks::KillPoint::AfterRegistration);
                for &i in &waiting {
                    mark_registered(report, plan, &mut pending[i]);
                }
                break;
            }
            Err(RegisterError::AlreadyRegistered { index }) if index < waiting.len() => {
                let i = waiting.remove(index);
                mark_registered(report, plan, &mut pending[i]);
            }
            Err(RegisterError::Clash { index, message }) if index < waiting.len() => {
                let p = &pending[waiting.remove(index)];
                let dir = p.registration.dir.display();
                for &ci in &p.clips {
                    plan.clips[ci].issues.push(Issue::error(
                        "version-clash",
                        format!("copied to {dir} but not registered: {message}"),
                    ));
                }
            }
            Err(e) => {
                plan.issues.push(Issue::error(
                    "registration",
                    format!("versions are on disk but were not registered: {e}"),
                ));
                // Already-ingested clips would otherwise read as done: say why they are not.
                for p in waiting.iter().map(|&i| &pending[i]) {
                    if p.created.is_some() {
                        continue;
                    }
                    for &ci in &p.clips {
                        plan.clips[ci].issues.push(Issue::error(
                            "registration",
                            format!(
                                "already ingested into {} but not registered: {e}",
                                p.registration.dir.display()
                            ),
                        ));
                    }
                }
                break;
            }
        }
    }
}

/// Notes a registration that the database holds: on the version this run created, else on the
/// already-ingested clips it was for.
fn mark_registered(report: &mut Report, plan: &mut Plan, p: &mut PendingRegistration) {
    p.registered = true;
    match p.created {
        Some(v) => report.versions_created[v].registered = true,
        None => {
            for &ci in &p.clips {
                plan.clips[ci].status = ClipStatus::Registered;
            }
        }
    }
}

/// A version on disk that the database did not take is not "ingested" as far as the user can
/// tell: its clips say so.
fn mark_not_registered(pending: &[PendingRegistration], plan: &mut Plan) {
    for p in pending {
        if p.created.is_some() && !p.registered {
            for &ci in &p.clips {
                plan.clips[ci].status = ClipStatus::NotRegistered;
            }
        }
    }
}

/// Phase "ledger": a line per version recorded (marked registered or not), unless the ledger
/// already has that line; the job state notes the version as recorded.
fn write_ledger(
    ledger_path: &Path,
    pending: &mut [PendingRegistration],
    handle: &mut Job,
) -> Result<(), IngestError> {
    let existing = ledger::read(ledger_path).map_err(IngestError::Io)?;
    for p in pending {
        let entry = &mut p.ledger;
        entry.registered = Some(p.registered);
        if p.created.is_none() && !p.registered {
            continue; // the version's line already says it is not registered
        }
        if !existing
            .iter()
            .any(|e| e.job == entry.job && e.dir == entry.dir && e.registered == entry.registered)
        {
            ledger::append(ledger_path, entry).map_err(|e| {
                IngestError::Io(format!(
                    "cannot append to ledger {}: {e}",
                    ledger_path.display()
                ))
            })?;
        }
        if let Some(r) = handle
            .state
            .versions
            .values_mut()
            .find(|r| r.dir.display().to_string() == entry.dir)
        {
            r.recorded = true;
        }
    }
    Ok(())
}

/// The dry run's stand-in for registration: asks the database whether it would take versions
/// of each planned target, and blocks the clips it would refuse, as the real run would fail
/// them.
fn check_targets_dry(req: &Request, plan: &mut Plan) -> Result<(), IngestError> {
    let Some(r) = &req.registrar else {
        return Ok(());
    };
    let planned: Vec<usize> = (0..plan.versions.len())
        .filter(|&gi| has_planned_clips(plan, &plan.versions[gi]))
        .collect();
    let targets: Vec<&ShotId> = planned.iter().map(|&gi| &plan.versions[gi].id).collect();
    let problems = match r.check_targets(&targets) {
        Ok(p) => p,
        Err(e) => {
            plan.issues.push(Issue::error(
                "registration",
                format!("cannot check the tracking database: {e}"),
            ));
            return Ok(());
        }
    };
    for p in problems {
        let Some(&gi) = planned.get(p.index) else {
            continue;
        };
        let issue = Issue::error(
            "registration",
            format!("would be copied but not registered: {}", p.message),
        );
        block_planned(plan, gi, &issue);
    }
    Ok(())
}

/// Takes the next version number of a group from the store's one allocator: through the
/// tracking database when the project has one (number reserved, folder created and the
/// reservation recorded in one crash-safe step; registration consumes it), else on disk alone.
fn take_version(
    registrar: Option<&dyn crate::Registrar>,
    dest: &Destinations,
    g: &VersionGroup,
) -> Result<crate::Allocated, String> {
    let layout = plan::GroupFolders::new(dest, g);
    match registrar {
        Some(r) => r.allocate(&g.id, &layout),
        None => crate::record::allocate_on_disk(&layout),
    }
    .map_err(|e| e.to_string())
}
