//! Farm executors: the queue's jobs rendered on a cluster instead of this machine.
//!
//! [`Slurm`] sends a job as **one** `sbatch` job array (one array task per chunk, `%N` from
//! `max_concurrent`), with the job's resources, the cluster's partition/account/QOS and
//! `--dependency=afterok` for `after`. The queue stays the record: each array task is an
//! attempt of its task, and [`Slurm::sync`] (one `squeue` call) brings states back, verifies
//! finished tasks' frames exactly as the local worker does, and sends failed tasks again (one
//! array of just those) until their retries are spent. `render ls|status|logs|cancel|retry`
//! call it first, so they work the same for both executors.
//!
//! The per-attempt [`crate::Executor`] seam does not fit here: it starts one process per
//! task, while a cluster wants one submission per job (a 1,000-chunk job is one `sbatch`).

mod script;
mod slurm;
mod store;

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use shotline_config::RenderConfig;
use shotline_fsio::Overwrite;

use crate::dispatch::NextState;
use crate::error::{RenderError, Result};
use crate::executor::ExitInfo;
use crate::finalize::{self, StopReason, Verdict};
use crate::job::ResolvedJob;
use crate::model::{JobId, JobState, Outcome};
use crate::progress::{ProgressParser, ProgressRules};
use crate::queue::Queue;
use slurm::{SlurmCli, TaskStatus};
use store::{OpenFarmAttempt, TaskRef};

/// The executor name recorded for Slurm jobs and attempts.
pub const SLURM: &str = "slurm";

/// Slurm job states of a task that has not started.
const PENDING_STATES: &[&str] = &[
    "PENDING",
    "REQUEUED",
    "REQUEUE_HOLD",
    "REQUEUE_FED",
    "CONFIGURING",
    "RESV_DEL_HOLD",
];
/// Slurm job states of a task that runs (or is being stopped).
const RUNNING_STATES: &[&str] = &[
    "RUNNING",
    "COMPLETING",
    "SUSPENDED",
    "STOPPED",
    "SIGNALING",
    "STAGE_OUT",
    "RESIZING",
];

/// True for a state of a task that has not ended.
fn not_ended(state: &str) -> bool {
    PENDING_STATES.contains(&state) || RUNNING_STATES.contains(&state)
}

/// What one [`Slurm::sync`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct SyncReport {
    /// Attempts that ended (done, failed, cancelled, retried).
    pub finished: u64,
    /// Tasks sent again (retries), in as many arrays as jobs.
    pub resubmitted: u64,
}

/// What a submission sent.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FarmSubmission {
    /// The Slurm job id of the array.
    pub farm_job: String,
    /// Array tasks in it.
    pub tasks: usize,
    /// The `sbatch` arguments used (the script is the job's `farm/tasks.sh`).
    pub args: Vec<String>,
}

/// A Slurm cluster reached through its commands.
#[derive(Debug, Clone)]
pub struct Slurm {
    cli: SlurmCli,
    cfg: shotline_config::SlurmConfig,
    throttle: u32,
}

impl Slurm {
    /// From `render:` config; `max_concurrent` overrides the array throttle
    /// (`render.slurm.max_concurrent`, else `render.max_concurrent`; 0: none).
    pub fn new(cfg: &RenderConfig, max_concurrent: Option<u32>) -> Slurm {
        Slurm {
            cli: SlurmCli {
                bin_dir: cfg.slurm.bin_dir.clone(),
            },
            cfg: cfg.slurm.clone(),
            throttle: max_concurrent
                .or(cfg.slurm.max_concurrent)
                .unwrap_or(cfg.max_concurrent),
        }
    }

    /// Queues `job` for Slurm and submits it as one array. If `sbatch` refuses it, the job's
    /// tasks fail with Slurm's reason and the error is returned.
    pub fn submit(&self, queue: &mut Queue, job: &ResolvedJob) -> Result<(JobId, FarmSubmission)> {
        let id = queue.submit_as(job, SLURM)?;
        match self.submit_queued(queue, id) {
            Ok(Some(s)) => Ok((id, s)),
            Ok(None) => Err(RenderError::Invalid(format!(
                "job {id} has no task to submit"
            ))),
            Err(e) => {
                queue.farm_fail_unsubmitted(id, &format!("not submitted to Slurm: {e}"))?;
                Err(e)
            }
        }
    }

    /// Sends a job's queued tasks that are not on the farm yet as one array.
    fn submit_queued(&self, queue: &mut Queue, id: JobId) -> Result<Option<FarmSubmission>> {
        let tasks = queue.farm_unsubmitted(id)?;
        if tasks.is_empty() {
            return Ok(None);
        }
        let job = queue.job_spec(id)?;
        let dependency = self.dependency(queue, id)?;
        let dir = queue.job_dir(id);
        let (farm_dir, logs) = (dir.join("farm"), dir.join("logs"));
        for d in [&farm_dir, &logs] {
            std::fs::create_dir_all(d)
                .map_err(|e| RenderError::io(format!("cannot create {}", d.display()), e))?;
        }
        let script = farm_dir.join("tasks.sh");
        let text = script::batch_script(&job, id, &dir.join("tmp"), &farm_dir)?;
        shotline_fsio::write_atomic(&script, text.as_bytes(), Overwrite::Replace)?;
        let args = self.sbatch_args(&job, id, &tasks, &logs, dependency.as_deref());
        let farm_job = self.cli.sbatch(&args, &script)?;
        queue.farm_record_submission(
            id,
            SLURM,
            &farm_job,
            &tasks,
            script::task_threads(&job),
            &logs,
        )?;
        Ok(Some(FarmSubmission {
            farm_job,
            tasks: tasks.len(),
            args,
        }))
    }

    /// `sbatch` arguments for `tasks` of `job`.
    fn sbatch_args(
        &self,
        job: &ResolvedJob,
        id: JobId,
        tasks: &[TaskRef],
        logs: &Path,
        dependency: Option<&str>,
    ) -> Vec<String> {
        let indices: Vec<i64> = tasks.iter().map(|t| t.index).collect();
        let mut array = script::index_list(&indices);
        if self.throttle > 0 {
            array.push_str(&format!("%{}", self.throttle));
        }
        let mut a = vec![
            format!("--job-name={}", slurm_job_name(id, &job.name)),
            format!("--array={array}"),
            format!("--output={}", logs.join("task-%4a.slurm-%A.log").display()),
            format!("--chdir={}", job.cwd.display()),
            format!("--cpus-per-task={}", script::task_threads(job)),
            format!("--comment=shotline job {id}"),
            "--no-requeue".to_string(),
        ];
        let mib = job.resources.memory.0.div_ceil(1 << 20);
        if mib > 0 {
            a.push(format!("--mem={mib}M"));
        }
        if job.resources.gpus > 0 {
            a.push(format!("--gres=gpu:{}", job.resources.gpus));
        }
        if let Some(t) = job.timeout_secs {
            a.push(format!("--time={}", t.div_ceil(60)));
        }
        for (flag, v) in [
            ("partition", &self.cfg.partition),
            ("account", &self.cfg.account),
            ("qos", &self.cfg.qos),
        ] {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                a.push(format!("--{flag}={v}"));
            }
        }
        if let Some(d) = dependency {
            a.push(format!("--dependency={d}"));
        }
        a.extend(self.cfg.sbatch_args.iter().cloned());
        a
    }

    /// `afterok:<arrays>` for the jobs `id` waits for that are not done yet; an error when one
    /// of them can never finish here (failed, cancelled, or waiting on the local queue).
    fn dependency(&self, queue: &Queue, id: JobId) -> Result<Option<String>> {
        let mut arrays = Vec::new();
        for dep in queue.deps(id)? {
            let s = queue.summary(dep)?;
            if s.state == JobState::Done {
                continue;
            }
            if s.state.is_final() {
                return Err(RenderError::Invalid(format!(
                    "job {id} waits for job {dep} ({}), which ended {}: retry it first",
                    s.name,
                    s.state.as_str()
                )));
            }
            if queue.executor_of(dep)? != SLURM {
                return Err(RenderError::Invalid(format!(
                    "job {id} waits for job {dep} ({}) on the local queue: a Slurm job can wait only for Slurm jobs or finished jobs",
                    s.name
                )));
            }
            arrays.extend(queue.farm_open_arrays(dep)?);
        }
        Ok((!arrays.is_empty()).then(|| format!("afterok:{}", arrays.join(":"))))
    }

    /// Brings Slurm's view into the queue (one `squeue` call): started tasks run, ended ones
    /// are judged (frames verified), failed ones are sent again within their retries.
    pub fn sync(&self, queue: &mut Queue, job: Option<JobId>) -> Result<SyncReport> {
        let _lock = farm_lock(queue)?;
        let open = queue.farm_open_attempts(job)?;
        let mut report = SyncReport::default();
        if open.is_empty() {
            return Ok(report);
        }
        let jobs = load_jobs(queue, &open)?;
        let names: BTreeSet<String> = jobs
            .iter()
            .map(|(id, (spec, _))| slurm_job_name(*id, &spec.name))
            .collect();
        let live = self.cli.squeue(&names.into_iter().collect::<Vec<_>>())?;
        let mut retry: BTreeSet<JobId> = BTreeSet::new();
        for a in &open {
            let (spec, rules) = &jobs[&a.job];
            match self.ended(queue, a, live.get(&a.farm_task))? {
                Ending::Pending => {}
                Ending::Running(host) => record_running(queue, a, &host, rules)?,
                ending => {
                    if self.close(queue, a, spec, ending)? == NextState::Queued {
                        retry.insert(a.job);
                    }
                    report.finished += 1;
                }
            }
        }
        for id in retry {
            if let Some(s) = self.submit_queued(queue, id)? {
                report.resubmitted += s.tasks as u64;
                self.repoint_dependents(queue, id)?;
            }
        }
        Ok(report)
    }

    /// Judges an ended attempt as the local worker judges one (frames verified after exit 0),
    /// closes it and moves its task on; returns where the task went.
    fn close(
        &self,
        queue: &mut Queue,
        a: &OpenFarmAttempt,
        spec: &ResolvedJob,
        ending: Ending,
    ) -> Result<NextState> {
        let no_exit = ExitInfo {
            code: None,
            signal: None,
        };
        let (verdict, exit, next) = match ending {
            Ending::Pending | Ending::Running(_) => return Ok(NextState::Queued),
            Ending::Ended(stop, exit) => {
                let v = finalize::judge(stop, exit, spec, &a.chunk);
                let next = finalize::next_state(v.outcome, a.failures, spec.retries);
                (v, exit, next)
            }
            Ending::Failed(message) => {
                let next = finalize::next_state(Outcome::Failed, a.failures, spec.retries);
                let v = Verdict {
                    outcome: Outcome::Failed,
                    message: Some(message),
                };
                (v, no_exit, next)
            }
            Ending::NeverRuns(message) => {
                self.cli.scancel(std::slice::from_ref(&a.farm_task))?;
                let v = Verdict {
                    outcome: Outcome::Cancelled,
                    message: Some(message),
                };
                (v, no_exit, NextState::Failed)
            }
        };
        // A user's cancel wins over however the task ended meanwhile.
        let next = if a.state == "cancelled" {
            NextState::Cancelled
        } else {
            next
        };
        finish(queue, a, &verdict, exit, next)?;
        Ok(next)
    }

    /// Where an open attempt stands, from `squeue` and the result file of its task.
    fn ended(
        &self,
        queue: &Queue,
        a: &OpenFarmAttempt,
        status: Option<&TaskStatus>,
    ) -> Result<Ending> {
        let Some(st) = status else {
            return Ok(self.forgotten(queue, a));
        };
        let result = read_result(queue, a);
        let killed = ExitInfo {
            code: None,
            signal: Some(15),
        };
        let state = st.state.as_str();
        Ok(match state {
            s if PENDING_STATES.contains(&s) => match st.reason.as_str() {
                "DependencyNeverSatisfied" => match broken_dependency(queue, a.job)? {
                    Some(message) => Ending::NeverRuns(message),
                    None => Ending::Pending,
                },
                _ => Ending::Pending,
            },
            s if RUNNING_STATES.contains(&s) => Ending::Running(st.node.clone()),
            "TIMEOUT" | "DEADLINE" => {
                Ending::Ended(Some(StopReason::Timeout), result.unwrap_or(killed))
            }
            "CANCELLED" => Ending::Ended(Some(StopReason::Cancel), result.unwrap_or(killed)),
            "OUT_OF_MEMORY" => Ending::Failed(format!(
                "Slurm task {} ran out of memory (raise the job's resources.memory)",
                a.farm_task
            )),
            _ => match result {
                Some(exit) if state == "COMPLETED" || state == "FAILED" => {
                    Ending::Ended(None, exit)
                }
                None if state == "COMPLETED" => Ending::Ended(
                    None,
                    ExitInfo {
                        code: Some(0),
                        signal: None,
                    },
                ),
                _ => Ending::Failed(format!(
                    "Slurm task {} ended {state} on {} ({}); see {}",
                    a.farm_task,
                    st.node,
                    st.reason,
                    a.log.display()
                )),
            },
        })
    }

    /// An attempt `squeue` no longer lists (purged after `MinJobAge`): its result file, else
    /// accounting (`sacct`), else a failure saying so.
    fn forgotten(&self, queue: &Queue, a: &OpenFarmAttempt) -> Ending {
        if let Some(exit) = read_result(queue, a) {
            return Ending::Ended(None, exit);
        }
        match self.cli.sacct(&a.farm_task) {
            Some((s, code)) if s == "COMPLETED" => Ending::Ended(
                None,
                ExitInfo {
                    code: code.or(Some(0)),
                    signal: None,
                },
            ),
            Some((s, _)) if not_ended(&s) => Ending::Pending,
            Some((s, code)) => Ending::Failed(format!(
                "Slurm task {} ended {s} (exit {})",
                a.farm_task,
                code.map_or("?".into(), |c| c.to_string())
            )),
            None => Ending::Failed(format!(
                "Slurm no longer knows task {} and it left no result (its node may have failed); see {}",
                a.farm_task,
                a.log.display()
            )),
        }
    }

    /// After a job's failed tasks were sent again, its dependents wait for the new arrays
    /// (the old array can no longer satisfy `afterok`).
    fn repoint_dependents(&self, queue: &Queue, id: JobId) -> Result<()> {
        for d in queue.dependents(id)? {
            if queue.executor_of(d)? != SLURM {
                continue;
            }
            let Some(dependency) = self.dependency(queue, d).ok().flatten() else {
                continue;
            };
            for array in queue.farm_open_arrays(d)? {
                self.cli.set_dependency(&array, &dependency)?;
            }
        }
        Ok(())
    }

    /// Cancels a Slurm job: `scancel` of its arrays, every open attempt closed as cancelled.
    /// Returns how many tasks were running.
    pub fn cancel(&self, queue: &mut Queue, id: JobId) -> Result<u64> {
        let _lock = farm_lock(queue)?;
        let arrays = queue.farm_open_arrays(id)?;
        queue.cancel(id)?;
        self.cli.scancel(&arrays)?;
        let mut running = 0;
        for a in queue.farm_open_attempts(Some(id))? {
            if a.state == "running" {
                running += 1;
            }
            let verdict = Verdict {
                outcome: Outcome::Cancelled,
                message: Some("cancelled by user (scancel)".into()),
            };
            finish(
                queue,
                &a,
                &verdict,
                ExitInfo {
                    code: None,
                    signal: None,
                },
                NextState::Cancelled,
            )?;
        }
        queue.touch_finished(id)?;
        Ok(running)
    }

    /// Pauses (`scontrol hold`: pending tasks wait, running ones finish) or resumes
    /// (`scontrol release`, and tasks due a retry are sent) a Slurm job. False when the job was
    /// cancelled.
    pub fn set_paused(&self, queue: &mut Queue, id: JobId, paused: bool) -> Result<bool> {
        let _lock = farm_lock(queue)?;
        if !queue.set_paused(id, paused)? {
            return Ok(false);
        }
        self.cli.hold(&queue.farm_open_arrays(id)?, paused)?;
        if !paused {
            self.submit_queued(queue, id)?;
        }
        Ok(true)
    }

    /// Requeues a Slurm job's failed and cancelled tasks (fresh retries) and sends just those
    /// as one array. Returns how many were requeued.
    pub fn retry(&self, queue: &mut Queue, id: JobId) -> Result<u64> {
        let _lock = farm_lock(queue)?;
        let n = queue.retry(id)?;
        if n > 0 {
            if let Err(e) = self.submit_queued(queue, id) {
                queue.farm_fail_unsubmitted(id, &format!("not submitted to Slurm: {e}"))?;
                return Err(e);
            }
            self.repoint_dependents(queue, id)?;
        }
        Ok(n)
    }
}

/// How an open attempt stands.
enum Ending {
    /// Waiting on the farm.
    Pending,
    /// Running on this node.
    Running(String),
    /// Ended: stopped by the farm (timeout, cancel) or by itself, with this exit.
    Ended(Option<StopReason>, ExitInfo),
    /// Ended without a usable exit (node failure, out of memory, forgotten).
    Failed(String),
    /// Can never run (its dependency failed).
    NeverRuns(String),
}

/// One shell at a time reads the farm's state into the queue and sends retries: two `render
/// status` calls at once would otherwise both resubmit the same failed tasks. Held until the
/// returned file is dropped.
fn farm_lock(queue: &Queue) -> Result<std::fs::File> {
    let path = queue.dir().join("farm.lock");
    std::fs::create_dir_all(queue.dir())
        .map_err(|e| RenderError::io(format!("cannot create {}", queue.dir().display()), e))?;
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| RenderError::io(format!("cannot open {}", path.display()), e))?;
    f.lock()
        .map_err(|e| RenderError::io(format!("cannot lock {}", path.display()), e))?;
    Ok(f)
}

/// The resolved jobs (and compiled progress patterns) of open attempts, each read once.
fn load_jobs(
    queue: &Queue,
    open: &[OpenFarmAttempt],
) -> Result<HashMap<JobId, (ResolvedJob, ProgressRules)>> {
    let mut jobs = HashMap::new();
    for a in open {
        if let std::collections::hash_map::Entry::Vacant(e) = jobs.entry(a.job) {
            let spec = queue.job_spec(a.job)?;
            let rules = ProgressRules::compile(&spec.progress)?;
            e.insert((spec, rules));
        }
    }
    Ok(jobs)
}

/// The Slurm job name of a shotline job (`shotline-12-sh010_light`): only characters every
/// Slurm tool prints as they are, so `squeue -n` finds the job's arrays again.
fn slurm_job_name(id: JobId, name: &str) -> String {
    let name: String = name
        .chars()
        .take(64)
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("shotline-{id}-{name}")
}

/// `dependency job 3 (name) did not finish` when a job waits for one that ended without
/// being done (the local queue's words).
fn broken_dependency(queue: &Queue, id: JobId) -> Result<Option<String>> {
    for dep in queue.deps(id)? {
        let s = queue.summary(dep)?;
        if s.state.is_final() && s.state != JobState::Done {
            return Ok(Some(format!(
                "dependency job {dep} ({}) did not finish",
                s.name
            )));
        }
    }
    Ok(None)
}

/// A task runs on `host`: the queue says so, with progress parsed from its log.
fn record_running(
    queue: &Queue,
    a: &OpenFarmAttempt,
    host: &str,
    rules: &ProgressRules,
) -> Result<()> {
    queue.farm_mark_running(a.attempt, a.task, host)?;
    let (frames, fraction) = read_progress(&a.log, rules, a.chunk.count);
    queue.set_progress(a.task, frames, fraction)
}

/// Closes an attempt and moves its task on.
fn finish(
    queue: &mut Queue,
    a: &OpenFarmAttempt,
    verdict: &Verdict,
    exit: ExitInfo,
    next: NextState,
) -> Result<()> {
    let message = finalize::message(verdict, None, next, a.number);
    let frames_done = if next == NextState::Done {
        a.chunk.count
    } else {
        0
    };
    queue.finish_attempt(
        a.attempt,
        a.task,
        a.job,
        verdict.outcome,
        Some(exit),
        message.as_deref(),
        next,
        frames_done,
    )?;
    Ok(())
}

/// The exit status the array task left (`None`: no result file yet).
fn read_result(queue: &Queue, a: &OpenFarmAttempt) -> Option<ExitInfo> {
    let farm_job = a.farm_task.split('_').next().unwrap_or("");
    let path = queue
        .job_dir(a.job)
        .join("farm")
        .join(format!("task-{:04}.slurm-{farm_job}.exit", a.index));
    let text = std::fs::read_to_string(path).ok()?;
    let rc: i32 = text.trim().parse().ok()?;
    // A shell reports death by signal N as 128 + N.
    Some(if (129..160).contains(&rc) {
        ExitInfo {
            code: None,
            signal: Some(rc - 128),
        }
    } else {
        ExitInfo {
            code: Some(rc),
            signal: None,
        }
    })
}

/// Progress of a running task, parsed from its log with the job's patterns.
fn read_progress(log: &Path, rules: &ProgressRules, frames: u64) -> (u64, f64) {
    /// Logs bigger than this are not re-read on every status (progress then shows 0).
    const MAX_READ: u64 = 8 << 20;
    let Ok(meta) = std::fs::metadata(log) else {
        return (0, 0.0);
    };
    if meta.len() > MAX_READ {
        return (0, 0.0);
    }
    let Ok(bytes) = std::fs::read(log) else {
        return (0, 0.0);
    };
    let mut p = ProgressParser::new(rules.clone(), frames);
    for line in String::from_utf8_lossy(&bytes).split(['\n', '\r']) {
        p.feed(line);
    }
    (p.frames_done(), p.fraction())
}
