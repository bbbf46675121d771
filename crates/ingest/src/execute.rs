//! Running an ingest: scan → match → plan → take versions → parallel verified copies in
//! durability batches → record (see [`crate::record`]) → register → ledger → report.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use rayon::prelude::*;
use shotline_frames::FrameSet;

use crate::copy::{
    clean_temp_leftovers, commit, stage, sync_filesystem, CopyOptions, StageResult, Staged,
};
use crate::edl::EdlMap;
use crate::hash::HashAlgo;
use crate::ledger::{self, LedgerClip, LedgerEntry};
use crate::matching::Matcher;
use crate::mhl;
use crate::plan::{self, content_hash, ClipStatus, Issue, Plan, PlanInput};
use crate::record::{record_version, RegisterError, Registration, THUMB_FILE};
use crate::report::{Report, Totals, VersionRecord, SCHEMA};
use crate::resume::{Job, Reserved, Verified};
use crate::scan::{scan_delivery, ClipKind};
use crate::sidecar::SIDECAR_FILE;
use crate::template::Templates;
use crate::{job_id, IngestError, Progress, Request, STATE_DIR};

/// Most files in one batch.
const BATCH_FILES: usize = 1000;

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

struct Task {
    clip: usize,
    src: PathBuf,
    dest: PathBuf,
}

struct Done {
    hash: String,
    size: u64,
    resumed: bool,
}

pub(crate) fn run(req: &Request, progress: &dyn Progress) -> Result<Report, IngestError> {
    let started = now_rfc3339();
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
    let templates = Templates::from_config(
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
    let ledger_path = state_root.join("ledger.jsonl");
    if req.deliveries.is_empty() {
        return Err(IngestError::Config("no delivery given".into()));
    }
    let mut clips = Vec::new();
    let mut notes = Vec::new();
    let canon_root = std::fs::canonicalize(&root).ok();
    for d in &req.deliveries {
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
    let edl = match &req.edl {
        Some(p) => Some(EdlMap::read(p)?),
        None => None,
    };
    let matcher = Matcher::new(cfg, &req.overrides, edl)?;
    let job = job_id(&req.deliveries, &root);
    let mut handle_opt = if req.dry_run {
        None
    } else {
        Some(Job::open(&state_root.join("jobs"), &job)?)
    };
    let resumed = handle_opt.as_ref().is_some_and(|h| h.resumed);
    let buf_size = cfg.buffer_mib.clamp(1, 256) << 20;
    let mut plan = plan::make_plan(PlanInput {
        job: job.clone(),
        clips,
        notes,
        deliveries: req.deliveries.clone(),
        root: root.clone(),
        ledger: ledger_path.clone(),
        matcher: &matcher,
        templates: templates.clone(),
        algo,
        project_code: req.project.code.clone(),
        state: cfg.state.clone(),
        reserve_bytes: cfg.reserve_mib << 20,
        buf_size,
        resumed: handle_opt.as_ref().filter(|h| h.resumed).map(|h| &h.state),
        frame_check: req.frame_check.as_deref(),
        project_format: (req.project.width, req.project.height, req.project.fps),
    })
    .map_err(IngestError::Io)?;
    let mut report = Report {
        schema: SCHEMA,
        verify: if from_storage { "storage" } else { "cache" },
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
    };
    let Some(handle) = handle_opt.as_mut() else {
        check_targets_dry(req, &mut plan)?;
        report.plan = plan;
        report.finished = now_rfc3339();
        report.count();
        return Ok(report);
    };
    if plan.blocked() {
        report.plan = plan;
        report.finished = now_rfc3339();
        report.count();
        return Ok(report);
    }

    take_versions(&mut plan, handle, req.registrar.as_deref())?;

    // Temp files of an interrupted run, only in folders this run writes into (a group whose
    // clips were all ingested before points at an existing, finished version).
    for g in &plan.versions {
        let active = g
            .clips
            .iter()
            .any(|&c| plan.clips[c].status == ClipStatus::Planned);
        if active && g.dir.is_dir() {
            let removed = clean_temp_leftovers(&g.dir)
                .map_err(|e| IngestError::Io(format!("cannot clean {}: {e}", g.dir.display())))?;
            report.cleaned_temp_files.extend(removed);
        }
    }

    let tasks = copy_tasks(&mut plan, &templates);
    let total_bytes: u64 = tasks
        .iter()
        .map(|t| {
            plan.clips[t.clip]
                .files
                .iter()
                .find(|f| f.source == t.src)
                .map_or(0, |f| f.size)
        })
        .sum();
    let opts = CopyOptions {
        algo,
        buf_size,
        verify: true,
        from_storage,
        throttle: crate::hooks::throttle().map_err(IngestError::Config)?,
    };
    let threads = match cfg.threads {
        0 => 8,
        n if n > shotline_config::MAX_INGEST_THREADS => {
            return Err(IngestError::Config(format!(
                "ingest.threads {n}: at most {} parallel copies",
                shotline_config::MAX_INGEST_THREADS
            )))
        }
        n => n,
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| IngestError::Io(format!("cannot start copy threads: {e}")))?;
    progress.start_copy(tasks.len(), total_bytes);
    let copied_bytes = AtomicU64::new(0);
    let t0 = Instant::now();
    let job_ref: &Job = handle;
    // Batches: stage every file of a batch in parallel (write + hash), make the batch durable
    // with one syncfs per destination filesystem, then verify and rename in parallel. A batch
    // is bounded so an interruption loses little work and dirty data stays limited.
    let sizes: Vec<u64> = tasks
        .iter()
        .map(|t| {
            plan.clips[t.clip]
                .files
                .iter()
                .find(|f| f.source == t.src)
                .map_or(0, |f| f.size)
        })
        .collect();
    // Thumbnails are made from the source's middle frame while the copy runs (the bytes are
    // the same; the copy is verified against them).
    let mut thumb_jobs: Vec<(usize, PathBuf, PathBuf)> = Vec::new();
    if cfg.thumbnails {
        for (gi, g) in plan.versions.iter().enumerate() {
            if !g.dir.is_dir()
                || handle
                    .state
                    .versions
                    .get(&g.job_key)
                    .is_some_and(|r| r.recorded)
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
                thumb_jobs.push((gi, f.source.clone(), g.dir.join(THUMB_FILE)));
            }
        }
    }
    let batch_bytes = cfg.batch_mib.max(1) << 20;
    let mut results: Vec<Result<Done, String>> = Vec::with_capacity(tasks.len());
    let thumbs: BTreeMap<usize, Result<(), String>> = std::thread::scope(|scope| {
        let thumber = scope.spawn(|| {
            thumb_jobs
                .iter()
                .map(|(gi, src, out)| {
                    (
                        *gi,
                        crate::thumb::write_thumbnail(src, out).map_err(|e| e.to_string()),
                    )
                })
                .collect::<BTreeMap<_, _>>()
        });
        let mut start = 0;
        while start < tasks.len() {
            let mut end = start;
            let mut bytes = 0u64;
            while end < tasks.len()
                && (end == start || (bytes < batch_bytes && end - start < BATCH_FILES))
            {
                bytes += sizes[end];
                end += 1;
            }
            let batch = &tasks[start..end];
            let staged: Vec<Result<Result<Done, Staged>, String>> = pool.install(|| {
                batch
                    .par_iter()
                    .with_max_len(1)
                    .map(|t| {
                        if let Some(v) = job_ref.already_verified(&t.dest) {
                            progress.bytes(v.size);
                            return Ok(Ok(Done {
                                hash: v.hash.clone(),
                                size: v.size,
                                resumed: true,
                            }));
                        }
                        let r = stage(&t.src, &t.dest, &opts, &|n| {
                            copied_bytes.fetch_add(n, Ordering::Relaxed);
                            progress.bytes(n);
                        })
                        .map_err(|e| e.to_string())?;
                        Ok(match r {
                            StageResult::Done(c) => Ok(Done {
                                hash: c.hash,
                                size: c.size,
                                resumed: true,
                            }),
                            StageResult::Pending(s) => Err(s),
                        })
                    })
                    .collect()
            });
            let mut dirs: Vec<&Path> = batch.iter().filter_map(|t| t.dest.parent()).collect();
            dirs.sort();
            dirs.dedup();
            let mut sync_error = None;
            for d in dirs {
                if let Err(e) = sync_filesystem(d) {
                    sync_error = Some(format!("cannot sync {}: {e}", d.display()));
                }
            }
            let committed: Vec<Result<Done, String>> = pool.install(|| {
                staged
                    .into_par_iter()
                    .with_max_len(1)
                    .zip(batch.par_iter())
                    .map(|(r, t)| match r? {
                        Ok(done) => Ok(done),
                        Err(staged) => {
                            if let Some(e) = &sync_error {
                                let _ = std::fs::remove_file(&staged.tmp);
                                return Err(e.clone());
                            }
                            let c = commit(staged, &t.src, &t.dest, &opts)
                                .map_err(|e| e.to_string())?;
                            job_ref
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
                    })
                    .collect()
            });
            results.extend(committed);
            start = end;
        }
        thumber.join().unwrap_or_default()
    });
    progress.end_copy();
    let secs = t0.elapsed().as_secs_f64();
    let mut per_clip: BTreeMap<usize, Vec<(usize, Done)>> = BTreeMap::new();
    // Only copies that were verified and renamed count as copied; bytes written for a copy that
    // failed do not.
    let mut verified_bytes = 0u64;
    for (ti, r) in results.into_iter().enumerate() {
        let ci = tasks[ti].clip;
        match r {
            Ok(d) => {
                if d.resumed {
                    report.totals.files_resumed += 1;
                } else {
                    report.totals.files_copied += 1;
                    verified_bytes = verified_bytes.saturating_add(d.size);
                }
                per_clip.entry(ci).or_default().push((ti, d));
            }
            Err(e) => {
                let c = &mut plan.clips[ci];
                c.status = ClipStatus::Failed;
                c.issues.push(Issue::error("copy", e));
            }
        }
    }
    report.totals.bytes_copied = verified_bytes;
    report.totals.copy_seconds = secs;
    report.totals.bytes_per_second = if secs > 0.0 {
        report.totals.bytes_copied as f64 / secs
    } else {
        0.0
    };

    // Record each complete version.
    let date = now_rfc3339();
    let mut registrations = Vec::new();
    // Per registration: the index in `versions_created` of a version created by this run, or
    // `None` for an existing version registered again (see below), and its ledger line.
    let mut ledger_lines: Vec<(Option<usize>, LedgerEntry)> = Vec::new();
    // The clips of each registration (same index as `registrations`).
    let mut reg_clips: Vec<Vec<usize>> = Vec::new();
    for gi in 0..plan.versions.len() {
        let g = plan.versions[gi].clone();
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
        if members.is_empty() || !g.dir.is_dir() {
            continue;
        }
        if members
            .iter()
            .any(|&c| plan.clips[c].status == ClipStatus::Failed)
        {
            continue; // resumed by the next run
        }
        if let Err(e) = shotline_fsio::sync_dir(&g.dir) {
            return Err(IngestError::Io(e.to_string()));
        }
        let mut files: Vec<(PathBuf, String, u64, PathBuf)> = Vec::new();
        let mut lclips = Vec::new();
        for &ci in &members {
            let done = per_clip.get(&ci).map(Vec::as_slice).unwrap_or(&[]);
            let c = &mut plan.clips[ci];
            let names: Vec<(String, String)> = done
                .iter()
                .map(|(ti, d)| {
                    let n = tasks[*ti]
                        .src
                        .file_name()
                        .map(crate::names::escape_os)
                        .unwrap_or_default();
                    (n, d.hash.clone())
                })
                .collect();
            let content = content_hash(names.iter().map(|(n, h)| (n.as_str(), h.as_str())), algo);
            c.content = Some(content.clone());
            lclips.push(LedgerClip {
                clip: c.key.clone(),
                fingerprint: c.fingerprint.clone(),
                content,
            });
            for (ti, d) in done {
                files.push((
                    tasks[*ti].dest.clone(),
                    d.hash.clone(),
                    d.size,
                    tasks[*ti].src.clone(),
                ));
            }
        }
        let already_recorded = handle
            .state
            .versions
            .get(&g.job_key)
            .is_some_and(|r| r.recorded);
        let mut rec = VersionRecord {
            key: g.key.clone(),
            version: g.version,
            dir: g.dir.clone(),
            files: files.len(),
            bytes: files.iter().map(|f| f.2).sum(),
            mhl: None,
            sidecar: Some(g.dir.join(SIDECAR_FILE)),
            thumbnail: None,
            registered: false,
            warnings: Vec::new(),
        };
        if !already_recorded {
            let gens =
                mhl::chain_generations(&g.dir).map_err(|e| IngestError::Io(e.to_string()))?;
            if gens.is_empty() {
                record_version(
                    &g.dir,
                    g.version,
                    &files,
                    &members,
                    &plan,
                    cfg,
                    algo,
                    &date,
                    buf_size,
                    thumbs.get(&gi),
                    &mut rec,
                )?;
            } else if let Some(last) = gens.last() {
                rec.mhl = Some(g.dir.join(mhl::MHL_DIR).join(&last.path));
                if g.dir.join(THUMB_FILE).is_file() {
                    rec.thumbnail = Some(g.dir.join(THUMB_FILE));
                }
            }
            let (main, pattern, missing_frames) =
                main_clip_fields(&plan, &templates, &g, g.version, &members)
                    .map_err(IngestError::Io)?;
            let mc = &plan.clips[main];
            reg_clips.push(members.clone());
            registrations.push(Registration {
                id: g.id.clone(),
                version: g.version,
                dir: g.dir.clone(),
                pattern,
                frame_range: mc.frame_range,
                missing_frames,
                media: mc.media.clone(),
                files: files.iter().map(|f| (f.0.clone(), f.1.clone())).collect(),
                bytes: rec.bytes,
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
            });
            ledger_lines.push((
                Some(report.versions_created.len()),
                LedgerEntry {
                    time: date.clone(),
                    job: job.clone(),
                    shot: match &g.id.sequence {
                        Some(s) => format!("{s}/{}", g.id.shot),
                        None => g.id.shot.clone(),
                    },
                    step: g.id.step.clone(),
                    resource: g.id.resource.clone(),
                    version: g.version,
                    dir: g.dir.display().to_string(),
                    files: files.len(),
                    bytes: rec.bytes,
                    algo: algo.name().into(),
                    clips: lclips,
                    registered: Some(false),
                },
            ));
        }
        for &ci in &members {
            plan.clips[ci].status = ClipStatus::Ingested;
        }
        report.versions_created.push(rec);
    }

    // Content already ingested into a folder that was never registered (its registration failed,
    // or there was no database then): without this, a re-run after fixing the cause would skip
    // it as already ingested forever and the version would never reach the database. It is
    // registered now, under its folder's number, in the same transaction as the new versions.
    if req.registrar.is_some() {
        let mut by_dir: BTreeMap<PathBuf, Vec<usize>> = BTreeMap::new();
        for (ci, c) in plan.clips.iter().enumerate() {
            if c.status != ClipStatus::AlreadyIngested {
                continue;
            }
            if let Some(a) = c.ingested_as.as_ref().filter(|a| !a.registered) {
                by_dir.entry(a.dir.clone()).or_default().push(ci);
            }
        }
        for (dir, members) in by_dir {
            match existing_registration(&plan, &templates, &members, algo) {
                Ok((reg, mut entry)) => {
                    entry.time = date.clone();
                    entry.job = job.clone();
                    reg_clips.push(members);
                    registrations.push(reg);
                    ledger_lines.push((None, entry));
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
    }

    // Register all new versions in one transaction.
    let mut reg_ok = vec![false; registrations.len()];
    if let (Some(r), false) = (&req.registrar, registrations.is_empty()) {
        // Each version is registered under its folder's number. A number the database already
        // has is an error for that version's clips; the others are registered without it.
        let mut pending: Vec<usize> = (0..registrations.len()).collect();
        while !pending.is_empty() {
            let batch: Vec<Registration> =
                pending.iter().map(|&i| registrations[i].clone()).collect();
            match r.register(&batch) {
                Ok(()) => {
                    crate::hooks::kill_at(crate::hooks::KillPoint::AfterRegistration);
                    for &i in &pending {
                        reg_ok[i] = true;
                        mark_registered(&mut report, &mut plan, ledger_lines[i].0, &reg_clips[i]);
                    }
                    break;
                }
                Err(RegisterError::AlreadyRegistered { index }) if index < pending.len() => {
                    let i = pending.remove(index);
                    reg_ok[i] = true;
                    mark_registered(&mut report, &mut plan, ledger_lines[i].0, &reg_clips[i]);
                }
                Err(RegisterError::Clash { index, message }) if index < pending.len() => {
                    let i = pending.remove(index);
                    let dir = &registrations[i].dir;
                    for &ci in &reg_clips[i] {
                        plan.clips[ci].issues.push(Issue::error(
                            "version-clash",
                            format!("copied to {} but not registered: {message}", dir.display()),
                        ));
                    }
                }
                Err(e) => {
                    plan.issues.push(Issue::error(
                        "registration",
                        format!("versions are on disk but were not registered: {e}"),
                    ));
                    // Already-ingested clips would otherwise read as done: say why they are not.
                    for &i in pending.iter().filter(|&&i| ledger_lines[i].0.is_none()) {
                        let dir = &registrations[i].dir;
                        for &ci in &reg_clips[i] {
                            plan.clips[ci].issues.push(Issue::error(
                                "registration",
                                format!(
                                    "already ingested into {} but not registered: {e}",
                                    dir.display()
                                ),
                            ));
                        }
                    }
                    break;
                }
            }
        }
    }
    // A version on disk that the database did not take is not "ingested" as far as the user
    // can tell: its clips say so.
    if req.registrar.is_some() {
        for (i, (created, _)) in ledger_lines.iter().enumerate() {
            if created.is_some() && !reg_ok[i] {
                for &ci in &reg_clips[i] {
                    plan.clips[ci].status = ClipStatus::NotRegistered;
                }
            }
        }
    }
    let existing = ledger::read(&ledger_path).map_err(IngestError::Io)?;
    for (i, (created, entry)) in ledger_lines.iter_mut().enumerate() {
        entry.registered = Some(reg_ok[i]);
        if created.is_none() && !reg_ok[i] {
            continue; // the version's line already says it is not registered
        }
        if !existing
            .iter()
            .any(|e| e.job == entry.job && e.dir == entry.dir && e.registered == entry.registered)
        {
            ledger::append(&ledger_path, entry).map_err(|e| {
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
    let failed = plan.clips.iter().any(|c| c.status == ClipStatus::Failed);
    report.plan = plan;
    report.finished = now_rfc3339();
    report.count();
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
    } else if let Some(h) = handle_opt.take() {
        h.finish()?;
    }
    report
        .save(&state_root.join("reports"), &stem)
        .map_err(|e| IngestError::Io(format!("cannot save report: {e}")))?;
    Ok(report)
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
        let active = plan.versions[gi]
            .clips
            .iter()
            .any(|&c| plan.clips[c].status == ClipStatus::Planned);
        if !active {
            continue;
        }
        let key = plan.versions[gi].job_key.clone();
        if let Some(r) = handle.state.versions.get(&key).filter(|r| r.dir.is_dir()) {
            plan.versions[gi].version = r.version;
            plan.versions[gi].dir = r.dir.clone();
            continue;
        }
        match take_version(registrar, &plan.versions[gi]) {
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
            Err(e) => {
                for c in plan.versions[gi].clips.clone() {
                    if plan.clips[c].status == ClipStatus::Planned {
                        plan.clips[c].status = ClipStatus::Blocked;
                        plan.clips[c]
                            .issues
                            .push(Issue::error("version", e.clone()));
                    }
                }
            }
        }
    }
    handle.save()?;

    Ok(())
}

/// Phase "copy tasks": one task per file of each planned clip, to its destination path; a clip
/// whose destination cannot be built is blocked.
fn copy_tasks(plan: &mut Plan, templates: &Templates) -> Vec<Task> {
    let mut tasks: Vec<Task> = Vec::new();
    for (ci, c) in plan.clips.iter_mut().enumerate() {
        if c.status != ClipStatus::Planned {
            continue;
        }
        let Some(gi) = c.version_group else { continue };
        let g = &plan.versions[gi];
        for f in &c.files {
            match plan::dest_path(templates, g, f, &c.ext) {
                Ok(dest) => tasks.push(Task {
                    clip: ci,
                    src: f.source.clone(),
                    dest,
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

/// The dry run's stand-in for registration: asks the database whether it would take versions
/// of each planned target, and blocks the clips it would refuse, as the real run would fail
/// them.
fn check_targets_dry(req: &Request, plan: &mut Plan) -> Result<(), IngestError> {
    let Some(r) = &req.registrar else {
        return Ok(());
    };
    let planned: Vec<usize> = (0..plan.versions.len())
        .filter(|&gi| {
            plan.versions[gi]
                .clips
                .iter()
                .any(|&c| plan.clips[c].status == ClipStatus::Planned)
        })
        .collect();
    let targets: Vec<&crate::matching::ShotId> =
        planned.iter().map(|&gi| &plan.versions[gi].id).collect();
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
        for c in plan.versions[gi].clips.clone() {
            let clip = &mut plan.clips[c];
            if clip.status == ClipStatus::Planned {
                clip.status = ClipStatus::Blocked;
                clip.issues.push(Issue::error(
                    "registration",
                    format!("would be copied but not registered: {}", p.message),
                ));
            }
        }
    }
    Ok(())
}

/// Notes a registration that the database holds: on the version this run created
/// (`created`: its index in `versions_created`), else on the already-ingested clips it was for.
fn mark_registered(report: &mut Report, plan: &mut Plan, created: Option<usize>, clips: &[usize]) {
    match created {
        Some(v) => report.versions_created[v].registered = true,
        None => {
            for &ci in clips {
                plan.clips[ci].status = ClipStatus::Registered;
            }
        }
    }
}

/// The main clip of a version (its first image sequence, else its first clip), that clip's file
/// name pattern in the folder numbered `version` (`NAME_v001.####.exr`), and its missing frames:
/// what the tracking database records for the version.
fn main_clip_fields(
    plan: &Plan,
    templates: &Templates,
    g: &plan::VersionGroup,
    version: u32,
    members: &[usize],
) -> Result<(usize, String, FrameSet), String> {
    let main = members
        .iter()
        .copied()
        .find(|&c| plan.clips[c].kind == ClipKind::Sequence)
        .or_else(|| members.first().copied())
        .ok_or_else(|| format!("version {} has no clips", g.key))?;
    let mc = &plan.clips[main];
    let pattern = mc
        .files
        .first()
        .map(|f| {
            let mut f = f.clone();
            f.frame = f
                .frame
                .as_ref()
                .map(|t| "#".repeat(t.trim_start_matches('-').len()));
            plan::dest_name(templates, g, version, &f, &mc.ext)
        })
        .transpose()?
        .unwrap_or_default();
    let missing = shotline_frames::FrameSet::from_frames(
        mc.files
            .iter()
            .filter_map(|f| f.frame.as_deref().and_then(|t| t.parse().ok())),
    )
    .gaps();
    Ok((main, pattern, missing))
}

/// The registration of an existing version folder that already-ingested `members` (all in that
/// folder, per the ledger) went into, with the same fields a new version gets, and its ledger
/// line (to append, marked registered, once the database has it). Refused when the clips now
/// map to another shot/step/resource, when only some of the version's clips are in this run (the
/// database would get a partial file list), or when a file is missing or has another size in the
/// folder (what would be registered is not what was ingested).
fn existing_registration(
    plan: &Plan,
    templates: &Templates,
    members: &[usize],
    algo: HashAlgo,
) -> Result<(Registration, LedgerEntry), String> {
    let first = members.first().map(|&c| &plan.clips[c]).ok_or("no clips")?;
    let a = first.ingested_as.as_ref().ok_or("not already ingested")?;
    let entry = &a.entry;
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
    let g = first
        .version_group
        .and_then(|gi| plan.versions.get(gi))
        .ok_or("the clip has no version")?;
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
    let present = |content: &str| {
        members
            .iter()
            .any(|&c| plan.clips[c].content.as_deref() == Some(content))
    };
    if let Some(missing) = entry.clips.iter().find(|lc| !present(&lc.content)) {
        return Err(format!(
            "its clip {} is not in this delivery; ingest the whole delivery again to register it",
            missing.clip
        ));
    }
    let mut files = Vec::new();
    let mut bytes = 0u64;
    for &ci in members {
        let c = &plan.clips[ci];
        if c.hashes.len() != c.files.len() {
            return Err(format!("{}: the source checksums are unknown", c.key));
        }
        for (f, h) in c.files.iter().zip(&c.hashes) {
            let path = a
                .dir
                .join(plan::dest_name(templates, g, a.version, f, &c.ext)?);
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
            bytes += f.size;
            files.push((path, h.clone()));
        }
    }
    let (main, pattern, missing_frames) = main_clip_fields(plan, templates, g, a.version, members)?;
    let mc = &plan.clips[main];
    let reg = Registration {
        id: g.id.clone(),
        version: a.version,
        dir: a.dir.clone(),
        pattern,
        frame_range: mc.frame_range,
        missing_frames,
        media: mc.media.clone(),
        files,
        bytes,
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
    };
    Ok((reg, entry.clone()))
}

/// Takes the next version number of a group from the store's one allocator: through the
/// tracking database when the project has one (number reserved, folder created and the
/// reservation recorded in one crash-safe step; registration consumes it), else on disk alone.
fn take_version(
    registrar: Option<&dyn crate::Registrar>,
    g: &plan::VersionGroup,
) -> Result<crate::Allocated, String> {
    let layout = plan::GroupFolders::new(g);
    match registrar {
        Some(r) => r.allocate(&g.id, &layout),
        None => crate::record::allocate_on_disk(&layout),
    }
    .map_err(|e| e.to_string())
}
