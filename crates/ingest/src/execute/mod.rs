//! Running an ingest, phase by phase: settings → scan → match → plan → take versions → clean
//! leftovers → parallel verified copies in durability batches → record each version (see
//! [`crate::record`]) → register → ledger → report.
//!
//! [`run`] reads as that list; each phase is a function named for its step.

mod copying;
mod recording;

use std::path::{Path, PathBuf};

use crate::copy::clean_temp_leftovers;
use crate::destination::Destinations;
use crate::edl::EdlMap;
use crate::hash::HashAlgo;
use crate::matching::{Matcher, ShotId};
use crate::plan::{self, ClipStatus, Issue, Plan, PlanInput, ProjectFormat, VersionGroup};
use crate::record::RecordSettings;
use crate::report::{Report, Totals, SCHEMA};
use crate::resume::{Job, Reserved};
use crate::scan::{scan_delivery, Scan};
use crate::{job_id, IngestError, Progress, Request, STATE_DIR};
use copying::{copy_files, copy_tasks, tally_copies, thumbnail_jobs};
use recording::{
    existing_registrations, mark_not_registered, record_versions, register_all, write_ledger,
};

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

pub(crate) fn run(req: &Request, progress: &dyn Progress) -> Result<Report, IngestError> {
    let started = now_rfc3339();
    let settings = Settings::resolve(req)?;
    let scanned = scan_deliveries(&req.deliveries, &settings.root)?;
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
        scanned,
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
        &mut plan,
        &mut report,
        &copied,
        &outcome.thumbs,
        handle,
    )?;
    if let Some(r) = &req.registrar {
        pending.extend(existing_registrations(&mut plan, settings.algo, &date));
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
fn scan_deliveries(deliveries: &[PathBuf], root: &Path) -> Result<Scan, IngestError> {
    let mut all = Scan::default();
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
        all.clips.extend(s.clips);
        all.notes.extend(s.notes);
    }
    Ok(all)
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
    scanned: Scan,
    resumed: Option<&'a crate::resume::JobState>,
) -> PlanInput<'a> {
    PlanInput {
        job: job.to_string(),
        clips: scanned.clips,
        notes: scanned.notes,
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
