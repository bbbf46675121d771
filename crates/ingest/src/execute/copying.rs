//! The copy phase: one task per file, copied and verified in durability batches while the
//! thumbnails are made, then tallied.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;

use super::Settings;
use crate::copy::{commit, stage, sync_filesystem, CopyOptions, StageResult, Staged};
use crate::mhl;
use crate::plan::{self, ClipStatus, Issue, Plan};
use crate::record::{CopiedFile, THUMB_FILE};
use crate::report::Totals;
use crate::resume::{Job, Verified};
use crate::scan::ClipKind;
use crate::{IngestError, Progress, Request};

/// Most files in one batch.
const BATCH_FILES: usize = 1000;

/// One file to copy.
pub(super) struct Task {
    /// Index of its clip in the plan.
    clip: usize,
    src: PathBuf,
    dest: PathBuf,
    size: u64,
}

/// One file copied and verified (now or by an interrupted run).
pub(super) struct Done {
    hash: String,
    size: u64,
    /// Verified before this run, or already present with the same content.
    resumed: bool,
}

/// A thumbnail made from a source frame while the copy runs.
pub(super) struct ThumbJob {
    /// Index of the version in the plan.
    group: usize,
    source: PathBuf,
    out: PathBuf,
}

/// What the copy phase produced.
pub(super) struct CopyOutcome {
    /// One result per task, in task order.
    pub(super) results: Vec<Result<Done, String>>,
    /// Early thumbnails, by version index.
    pub(super) thumbs: BTreeMap<usize, Result<(), String>>,
    pub(super) seconds: f64,
}

/// What copying one batch needs.
struct CopyContext<'a> {
    pool: &'a rayon::ThreadPool,
    opts: &'a CopyOptions,
    job: &'a Job,
    progress: &'a dyn Progress,
}

/// Phase "copy tasks": one task per file of each planned clip, to its destination path; a clip
/// whose destination cannot be built is blocked.
pub(super) fn copy_tasks(plan: &mut Plan) -> Vec<Task> {
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
pub(super) fn thumbnail_jobs(plan: &Plan, handle: &Job) -> Vec<ThumbJob> {
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
pub(super) fn copy_files(
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
pub(super) fn tally_copies(
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
