//! The worker: runs the queue on this machine. It starts tasks by priority while their
//! resources fit the budget (machine minus reserve), watches their processes through an
//! [`Executor`], stops them on cancel or timeout (process group SIGTERM, SIGKILL after the
//! grace period), verifies their frames and records every step in the queue.

use std::collections::HashMap;
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use shotline_config::{RenderConfig, RenderReserve};

use crate::control::Stop;
use crate::dispatch::{Candidate, NextState};
use crate::error::{RenderError, Result};
use crate::event::Event;
use crate::executor::{ExecEvent, Execution, Executor, ExitInfo, Launch};
use crate::job::ResolvedJob;
use crate::machine::MachineInfo;
use crate::model::{JobId, Outcome};
use crate::progress::{ProgressParser, ProgressRules};
use crate::queue::Queue;
use crate::template::{self, Values};

/// How a worker runs.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Most tasks at once (0: resources only).
    pub max_concurrent: u32,
    /// Kept free for the interactive session.
    pub reserve: RenderReserve,
    /// SIGTERM → SIGKILL delay.
    pub kill_grace: Duration,
    /// How often the queue is re-read for cancels, pauses and new jobs.
    pub poll: Duration,
    /// Return once nothing is running and nothing can start.
    pub exit_when_idle: bool,
    /// Return once this job is finished (`submit --wait`).
    pub until_job: Option<JobId>,
}

impl WorkerOptions {
    /// Options from the `render:` config section.
    pub fn from_config(cfg: &RenderConfig) -> WorkerOptions {
        WorkerOptions {
            max_concurrent: cfg.max_concurrent,
            reserve: cfg.reserve.clone(),
            kill_grace: Duration::from_secs(cfg.kill_grace_secs),
            poll: Duration::from_millis(cfg.poll_ms.max(10)),
            exit_when_idle: false,
            until_job: None,
        }
    }
}

/// What the worker schedules within.
#[derive(Debug, Clone)]
struct Budget {
    threads: u32,
    memory: u64,
    gpus: Vec<u32>,
}

impl Drop for Worker<'_> {
    /// Even when unwinding (a panicking event callback, say), no task process outlives its
    /// worker unrecorded: whatever still runs is killed, and the next worker requeues it.
    fn drop(&mut self) {
        for r in self.running.values_mut() {
            if r.exited.is_none() {
                r.exec.kill();
            }
        }
    }
}

/// Whether a task needing `(threads, gpus, memory)` fits beside the running tasks' `(threads,
/// memory, gpus)`; the GPU indices to give it when it does (the lowest free ones).
fn fit(
    budget: &Budget,
    in_use: &[(u32, u64, &[u32])],
    (threads, gpus, memory): (u32, u32, u64),
) -> Option<Vec<u32>> {
    let used_threads: u32 = in_use.iter().map(|u| u.0).sum();
    let used_mem: u64 = in_use.iter().map(|u| u.1).sum();
    if used_threads + threads > budget.threads {
        return None;
    }
    if memory > 0 && used_mem + memory > budget.memory {
        return None;
    }
    let free: Vec<u32> = budget
        .gpus
        .iter()
        .copied()
        .filter(|g| !in_use.iter().any(|u| u.2.contains(g)))
        .collect();
    if free.len() < gpus as usize {
        return None;
    }
    Some(free.into_iter().take(gpus as usize).collect())
}

/// The executable `PATH` would run for a bare command name, so each start is one `execve`
/// instead of a walk over `PATH`. Names with a `/` are left alone.
fn which(name: &str) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    if name.contains('/') || name.is_empty() {
        return None;
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .filter(|d| d.is_absolute())
        .map(|d| d.join(name))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
        .map(|p| p.to_string_lossy().into_owned())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StopReason {
    Cancel,
    Timeout,
    Interrupt,
}

struct Running {
    job: JobId,
    task_id: i64,
    index: i64,
    number: i64,
    failures: i64,
    chunk: crate::chunk::Chunk,
    log: String,
    exec: Box<dyn Execution>,
    deadline: Option<Instant>,
    stop: Option<(StopReason, Instant)>,
    killed: bool,
    exited: Option<(ExitInfo, Instant)>,
    closed: bool,
    threads: u32,
    gpus: Vec<u32>,
    memory: u64,
    frames_done: u64,
    fraction: f64,
    saved_at: Instant,
    log_error: Option<String>,
}

/// A worker bound to a queue; see [`Worker::run`].
pub struct Worker<'q> {
    queue: &'q mut Queue,
    exec: Box<dyn Executor>,
    opts: WorkerOptions,
    budget: Budget,
    host: String,
    id: i64,
    running: HashMap<i64, Running>,
    jobs: HashMap<JobId, Arc<(ResolvedJob, ProgressRules)>>,
    tx: Sender<ExecEvent>,
    rx: Receiver<ExecEvent>,
    stats: (u64, u64, u64),
    /// Candidates read from the queue, reused until used up or the next poll, so a busy queue
    /// costs one query per 64 task starts (claims re-check every task in the database).
    pending: std::collections::VecDeque<Candidate>,
    /// Resolved executables (`PATH` looked up once per name, not once per task).
    programs: HashMap<String, String>,
    _lock: std::fs::File,
}

impl<'q> Worker<'q> {
    /// Prepares a worker: takes this host's worker lock (one worker per queue and host, so the
    /// machine budget is never counted twice), measures the machine and registers.
    pub fn new(
        queue: &'q mut Queue,
        exec: Box<dyn Executor>,
        opts: WorkerOptions,
    ) -> Result<Worker<'q>> {
        let host = crate::procs::host_name();
        std::fs::create_dir_all(queue.dir())
            .map_err(|e| RenderError::io(format!("cannot create {}", queue.dir().display()), e))?;
        let lock_path = queue.dir().join(format!("worker-{host}.lock"));
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| RenderError::io(format!("cannot open {}", lock_path.display()), e))?;
        // SAFETY: flock on a descriptor we own; released when the file is closed.
        let rc = unsafe {
            libc::flock(
                std::os::fd::AsRawFd::as_raw_fd(&lock),
                libc::LOCK_EX | libc::LOCK_NB,
            )
        };
        if rc != 0 {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
                return Err(RenderError::Busy(format!(
                    "another render worker already runs this queue on {host} (lock {})",
                    lock_path.display()
                )));
            }
            return Err(RenderError::io(
                format!("cannot lock {}", lock_path.display()),
                e,
            ));
        }
        let m = MachineInfo::detect();
        let reserve_gpus = opts.reserve.gpus as usize;
        let budget = Budget {
            threads: (m.threads as u32)
                .saturating_sub(opts.reserve.threads)
                .max(1),
            memory: m.memory_total.saturating_sub(opts.reserve.memory.0),
            gpus: m.gpus.iter().map(|g| g.index).skip(reserve_gpus).collect(),
        };
        let id = queue.register_worker(&host, crate::procs::me())?;
        let (tx, rx) = channel();
        Ok(Worker {
            queue,
            exec,
            opts,
            budget,
            host,
            id,
            running: HashMap::new(),
            jobs: HashMap::new(),
            tx,
            rx,
            stats: (0, 0, 0),
            pending: Default::default(),
            programs: HashMap::new(),
            _lock: lock,
        })
    }

    /// Runs until stopped (or idle / the awaited job is finished, per the options), calling
    /// `on_event` for everything that happens. Never returns with a task process still running:
    /// stopping either lets tasks finish (drain) or stops and requeues them.
    pub fn run(&mut self, stop: &Stop, on_event: &mut dyn FnMut(&Event)) -> Result<()> {
        on_event(&Event::WorkerStarted {
            worker: self.id,
            host: self.host.clone(),
            threads: self.budget.threads,
            gpus: self.budget.gpus.clone(),
            memory: self.budget.memory,
            max_concurrent: self.opts.max_concurrent,
        });
        for (job, task, reason) in self.queue.reap_orphans(None)? {
            on_event(&Event::Requeued { job, task, reason });
        }
        let result = self.run_loop(stop, on_event);
        if result.is_err() {
            // Never leave processes behind on an internal error.
            for r in self.running.values_mut() {
                r.exec.kill();
            }
        }
        let _ = self.queue.heartbeat(self.id, true);
        let (started, done, failed) = self.stats;
        on_event(&Event::WorkerStopped {
            started,
            done,
            failed,
        });
        result
    }

    fn run_loop(&mut self, stop: &Stop, on_event: &mut dyn FnMut(&Event)) -> Result<()> {
        let (mut draining, mut interrupting) = (false, false);
        let mut last_poll = Instant::now() - self.opts.poll;
        let mut last_beat = Instant::now();
        let mut dirty = true;
        loop {
            let level = stop.level();
            if level >= 2 && !interrupting {
                interrupting = true;
                draining = true;
                on_event(&Event::Stopping {
                    running: self.running.len(),
                    requeue: true,
                });
                let grace = self.opts.kill_grace;
                for r in self.running.values_mut() {
                    if r.stop.is_none() && r.exited.is_none() {
                        r.exec.terminate();
                        r.stop = Some((StopReason::Interrupt, Instant::now() + grace));
                    }
                }
            } else if level == 1 && !draining {
                draining = true;
                on_event(&Event::Stopping {
                    running: self.running.len(),
                    requeue: false,
                });
            }
            if last_poll.elapsed() >= self.opts.poll {
                last_poll = Instant::now();
                dirty = true;
                self.pending.clear();
                self.check_cancels()?;
                self.check_dependencies(on_event)?;
                if last_beat.elapsed() >= Duration::from_secs(5) {
                    last_beat = Instant::now();
                    self.queue.heartbeat(self.id, false)?;
                }
            }
            self.check_deadlines();
            if self.finalize_ready(on_event)? {
                dirty = true;
            }
            let mut idle = false;
            if dirty && !draining {
                dirty = false;
                idle = self.schedule(on_event)? && self.running.is_empty();
            }
            if let Some(job) = self.opts.until_job {
                if !draining && !self.queue.has_work(job)? {
                    draining = true;
                }
            }
            if self.running.is_empty() && (draining || (idle && self.opts.exit_when_idle)) {
                return Ok(());
            }
            let wait = self.next_wait();
            match self.rx.recv_timeout(wait) {
                Ok(ev) => {
                    self.handle(ev, on_event)?;
                    while let Ok(ev) = self.rx.try_recv() {
                        self.handle(ev, on_event)?;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {}
            }
        }
    }

    /// How long to sleep: until the next poll, deadline or kill escalation.
    fn next_wait(&self) -> Duration {
        let now = Instant::now();
        let mut wait = self.opts.poll;
        for r in self.running.values() {
            let at = match (r.stop, r.deadline, r.exited) {
                (_, _, Some((_, t))) => Some(t + Duration::from_secs(2)),
                (Some((_, kill_at)), _, _) if !r.killed => Some(kill_at),
                (None, Some(d), _) => Some(d),
                _ => None,
            };
            if let Some(at) = at {
                wait = wait.min(at.saturating_duration_since(now));
            }
        }
        wait.max(Duration::from_millis(1))
    }

    fn handle(&mut self, ev: ExecEvent, on_event: &mut dyn FnMut(&Event)) -> Result<()> {
        match ev {
            ExecEvent::Progress {
                attempt,
                frames_done,
                fraction,
            } => {
                if let Some(r) = self.running.get_mut(&attempt) {
                    let frames_changed = frames_done != r.frames_done;
                    r.frames_done = frames_done;
                    r.fraction = fraction;
                    if frames_changed || r.saved_at.elapsed() >= Duration::from_millis(500) {
                        r.saved_at = Instant::now();
                        self.queue.set_progress(r.task_id, frames_done, fraction)?;
                    }
                    on_event(&Event::TaskProgress {
                        job: r.job,
                        task: r.index,
                        frames_done,
                        frame_count: r.chunk.count,
                        progress: fraction,
                    });
                }
            }
            ExecEvent::Exited { attempt, status } => {
                if let Some(r) = self.running.get_mut(&attempt) {
                    r.exited = Some((status, Instant::now()));
                    r.exec.cleanup();
                }
            }
            ExecEvent::LogFailed { attempt, message } => {
                if let Some(r) = self.running.get_mut(&attempt) {
                    r.log_error = Some(message);
                }
            }
            ExecEvent::OutputClosed { attempt } => {
                if let Some(r) = self.running.get_mut(&attempt) {
                    r.closed = true;
                }
            }
        }
        Ok(())
    }

    fn check_cancels(&mut self) -> Result<()> {
        let tasks: Vec<i64> = self
            .running
            .values()
            .filter(|r| r.stop.is_none())
            .map(|r| r.task_id)
            .collect();
        let cancelled = self.queue.cancelled_among(&tasks)?;
        let grace = self.opts.kill_grace;
        for r in self.running.values_mut() {
            if cancelled.contains(&r.task_id) && r.stop.is_none() && r.exited.is_none() {
                r.exec.terminate();
                r.stop = Some((StopReason::Cancel, Instant::now() + grace));
            }
        }
        Ok(())
    }

    fn check_deadlines(&mut self) {
        let now = Instant::now();
        let grace = self.opts.kill_grace;
        for r in self.running.values_mut() {
            if r.exited.is_some() {
                continue;
            }
            match r.stop {
                None if r.deadline.is_some_and(|d| now >= d) => {
                    r.exec.terminate();
                    r.stop = Some((StopReason::Timeout, now + grace));
                }
                Some((_, kill_at)) if !r.killed && now >= kill_at => {
                    r.exec.kill();
                    r.killed = true;
                }
                _ => {}
            }
        }
    }

    /// Finishes attempts whose process exited and whose output was read (or 2 s after the exit
    /// when something still holds the pipe). True when any finished.
    fn finalize_ready(&mut self, on_event: &mut dyn FnMut(&Event)) -> Result<bool> {
        let ready: Vec<i64> = self
            .running
            .iter()
            .filter(|(_, r)| matches!(r.exited, Some((_, t)) if r.closed || t.elapsed() >= Duration::from_secs(2)))
            .map(|(a, _)| *a)
            .collect();
        for attempt in &ready {
            if let Some(r) = self.running.remove(attempt) {
                self.finalize(*attempt, r, on_event)?;
            }
        }
        Ok(!ready.is_empty())
    }

    fn finalize(
        &mut self,
        attempt: i64,
        r: Running,
        on_event: &mut dyn FnMut(&Event),
    ) -> Result<()> {
        let (status, _) = r.exited.unwrap_or((
            ExitInfo {
                code: None,
                signal: None,
            },
            Instant::now(),
        ));
        let job = self.job(r.job)?;
        let (outcome, message) = match r.stop.map(|s| s.0) {
            Some(StopReason::Cancel) => (Outcome::Cancelled, Some("cancelled by user".to_string())),
            Some(StopReason::Interrupt) => (
                Outcome::Interrupted,
                Some("worker stopped; requeued".to_string()),
            ),
            Some(StopReason::Timeout) => (
                Outcome::Timeout,
                Some(format!(
                    "ran past the timeout of {}s and was stopped",
                    job.0.timeout_secs.unwrap_or(0)
                )),
            ),
            None if !status.success() => (
                Outcome::Failed,
                Some(format!("the renderer {}", status.describe())),
            ),
            None => match job.0.output_pattern().filter(|_| job.0.verify) {
                Some(p) => match crate::verify::verify_chunk(&p, &r.chunk) {
                    Ok(()) => (Outcome::Ok, None),
                    Err(m) => (Outcome::VerifyFailed, Some(m)),
                },
                None => (Outcome::Ok, None),
            },
        };
        let next = match outcome {
            Outcome::Ok => NextState::Done,
            Outcome::Cancelled => NextState::Cancelled,
            Outcome::Interrupted | Outcome::Lost => NextState::Queued,
            _ if r.failures < job.0.retries as i64 => NextState::Queued,
            _ => NextState::Failed,
        };
        let message = match (message, r.log_error.clone()) {
            (Some(m), Some(l)) => Some(format!("{m}; {l}")),
            (m, l) => m.or(l),
        };
        let message = match (next, message) {
            (NextState::Queued, Some(m)) if outcome.is_failure() => {
                Some(format!("{m} (attempt {}, retrying)", r.number))
            }
            (NextState::Failed, Some(m)) if r.number > 1 => {
                Some(format!("{m} (after {} attempts)", r.number))
            }
            (_, m) => m,
        };
        let has_work = self.queue.finish_attempt(
            attempt,
            r.task_id,
            r.job,
            outcome,
            Some(status),
            message.as_deref(),
            next,
            r.frames_done,
        )?;
        match next {
            NextState::Done => self.stats.1 += 1,
            NextState::Failed => self.stats.2 += 1,
            _ => {}
        }
        on_event(&Event::TaskFinished {
            job: r.job,
            task: r.index,
            attempt: r.number,
            outcome: outcome.as_str().into(),
            state: match next {
                NextState::Done => "done",
                NextState::Queued => "queued",
                NextState::Failed => "failed",
                NextState::Cancelled => "cancelled",
            }
            .into(),
            message,
            log: r.log,
        });
        if has_work {
            return Ok(());
        }
        self.job_finished(r.job, on_event)
    }

    fn job_finished(&mut self, job: JobId, on_event: &mut dyn FnMut(&Event)) -> Result<()> {
        if self.queue.has_work(job)? {
            return Ok(());
        }
        let s = self.queue.summary(job)?;
        if s.state.is_final() {
            self.jobs.remove(&job);
            on_event(&Event::JobFinished {
                job,
                name: s.name,
                state: s.state.as_str().into(),
            });
            if s.state != crate::model::JobState::Done {
                // Jobs waiting for this one can now never start.
                self.check_dependencies(on_event)?;
            }
        }
        Ok(())
    }

    /// Fails the queued tasks of jobs whose dependencies ended without being done.
    fn check_dependencies(&mut self, on_event: &mut dyn FnMut(&Event)) -> Result<()> {
        for job in self.queue.fail_broken_dependencies()? {
            on_event(&Event::TaskRejected {
                job,
                task: None,
                reason: "a job it depends on did not finish".into(),
            });
            self.job_finished(job, on_event)?;
        }
        Ok(())
    }

    fn job(&mut self, id: JobId) -> Result<Arc<(ResolvedJob, ProgressRules)>> {
        if let Some(j) = self.jobs.get(&id) {
            return Ok(j.clone());
        }
        let spec = self.queue.job_spec(id)?;
        let rules = ProgressRules::compile(&spec.progress)?;
        let j = Arc::new((spec, rules));
        self.jobs.insert(id, j.clone());
        Ok(j)
    }

    /// Starts what fits. True when nothing was startable (the queue is idle for us).
    fn schedule(&mut self, on_event: &mut dyn FnMut(&Event)) -> Result<bool> {
        let max = self.opts.max_concurrent as usize;
        if max > 0 && self.running.len() >= max {
            return Ok(false);
        }
        if self.pending.is_empty() {
            self.pending = self.queue.candidates(64)?.into();
            if self.pending.is_empty() {
                return Ok(true);
            }
        }
        let mut left = std::collections::VecDeque::new();
        while let Some(c) = self.pending.pop_front() {
            if max > 0 && self.running.len() >= max {
                left.push_back(c);
                continue;
            }
            let job = self.job(c.job)?;
            let need = self.needs(&job.0);
            if let Some(reason) = self.never_fits(&need) {
                self.queue.fail_task(c.task_id, c.job, &reason)?;
                on_event(&Event::TaskRejected {
                    job: c.job,
                    task: Some(c.index),
                    reason,
                });
                self.job_finished(c.job, on_event)?;
                continue;
            }
            match self.fits(&need) {
                Some(gpus) => self.start(c, &job, need, gpus, on_event)?,
                None => left.push_back(c),
            }
        }
        self.pending = left;
        Ok(false)
    }

    /// (threads, gpus, memory) one task of `job` takes.
    fn needs(&self, job: &ResolvedJob) -> (u32, u32, u64) {
        let threads = match job.resources.threads {
            0 => {
                let share = match self.opts.max_concurrent {
                    0 => self.budget.threads,
                    n => self.budget.threads / n,
                };
                share.max(1)
            }
            t => t,
        };
        (threads, job.resources.gpus, job.resources.memory.0)
    }

    fn never_fits(&self, (threads, gpus, memory): &(u32, u32, u64)) -> Option<String> {
        if *threads > self.budget.threads {
            return Some(format!(
                "needs {threads} threads but {} are available on {} after the reserve (render.reserve.threads)",
                self.budget.threads, self.host
            ));
        }
        if *gpus as usize > self.budget.gpus.len() {
            return Some(format!(
                "needs {gpus} GPU(s) but {} are available on {} after the reserve (see `shotline sysinfo`)",
                self.budget.gpus.len(),
                self.host
            ));
        }
        if *memory > self.budget.memory && self.budget.memory > 0 {
            return Some(format!(
                "needs {memory} bytes of memory but {} are available on {} after the reserve",
                self.budget.memory, self.host
            ));
        }
        None
    }

    /// The GPUs to give when the task fits now.
    fn fits(&self, need: &(u32, u32, u64)) -> Option<Vec<u32>> {
        let in_use: Vec<(u32, u64, &[u32])> = self
            .running
            .values()
            .map(|r| (r.threads, r.memory, r.gpus.as_slice()))
            .collect();
        fit(&self.budget, &in_use, *need)
    }

    fn start(
        &mut self,
        c: Candidate,
        job: &Arc<(ResolvedJob, ProgressRules)>,
        (threads, _, memory): (u32, u32, u64),
        gpus: Vec<u32>,
        on_event: &mut dyn FnMut(&Event),
    ) -> Result<()> {
        let spec = &job.0;
        let gpu_list = gpus
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let job_dir = self.queue.job_dir(c.job);
        let Some(claim) = self.queue.claim(
            &c,
            self.exec.name(),
            &self.host,
            self.id,
            threads,
            &gpu_list,
        )?
        else {
            return Ok(());
        };
        let (attempt, number, log) = (claim.attempt, claim.number, claim.log.clone());
        self.stats.0 += 1;
        let tmp = job_dir.join("tmp");
        let mut v = Values::new();
        v.insert("start", c.chunk.first.to_string());
        v.insert("end", c.chunk.last.to_string());
        v.insert("step", c.chunk.step.to_string());
        v.insert("count", c.chunk.count.to_string());
        v.insert("frames", c.chunk.range());
        v.insert("output", spec.output.clone().unwrap_or_default());
        v.insert(
            "scene",
            spec.scene
                .as_ref()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
        );
        v.insert("layer", spec.layer.clone().unwrap_or_default());
        v.insert("threads", threads.to_string());
        v.insert("gpu", gpu_list.clone());
        v.insert("job", c.job.to_string());
        v.insert("task", c.index.to_string());
        v.insert("tmp", tmp.to_string_lossy().into_owned());
        let launch = (|| -> Result<Launch> {
            let mut args = Vec::with_capacity(spec.command.len());
            for a in &spec.command {
                args.push(template::expand(a, &v)?);
            }
            let mut program = args.remove(0);
            if !spec.env.contains_key("PATH") {
                program = self
                    .programs
                    .entry(program.clone())
                    .or_insert_with(|| which(&program).unwrap_or(program))
                    .clone();
            }
            let mut env = vec![
                ("CUDA_VISIBLE_DEVICES".to_string(), gpu_list.clone()),
                ("OMP_NUM_THREADS".to_string(), threads.to_string()),
                ("SHOTLINE_THREADS".to_string(), threads.to_string()),
                ("SHOTLINE_JOB".to_string(), c.job.to_string()),
                ("SHOTLINE_TASK".to_string(), c.index.to_string()),
                ("SHOTLINE_FRAMES".to_string(), c.chunk.range()),
                (
                    "SHOTLINE_JOB_TMP".to_string(),
                    tmp.to_string_lossy().into_owned(),
                ),
            ];
            for (k, val) in &spec.env {
                env.push((k.clone(), template::expand(val, &v)?));
            }
            Ok(Launch {
                attempt,
                program,
                args,
                env,
                cwd: spec.cwd.clone(),
                log: log.clone(),
                parser: ProgressParser::new(job.1.clone(), c.chunk.count),
            })
        })();
        let log_s = log.to_string_lossy().into_owned();
        let started = launch.and_then(|l| self.exec.launch(l, self.tx.clone()));
        let exec = match started {
            Ok(mut e) => {
                let recorded = match e.proc_id() {
                    Some(id) => claim.set_proc(id),
                    None => Ok(()),
                }
                .and_then(|()| claim.commit());
                if let Err(err) = recorded {
                    // The queue cannot know about it: it must not run.
                    e.kill();
                    return Err(err);
                }
                e
            }
            Err(e) => {
                claim.commit()?;
                let next = if c.failures < spec.retries as i64 {
                    NextState::Queued
                } else {
                    NextState::Failed
                };
                let msg = format!("cannot start the renderer: {e}");
                self.queue.finish_attempt(
                    attempt,
                    c.task_id,
                    c.job,
                    Outcome::Failed,
                    None,
                    Some(&msg),
                    next,
                    0,
                )?;
                if next == NextState::Failed {
                    self.stats.2 += 1;
                }
                on_event(&Event::TaskFinished {
                    job: c.job,
                    task: c.index,
                    attempt: number,
                    outcome: Outcome::Failed.as_str().into(),
                    state: if next == NextState::Failed {
                        "failed"
                    } else {
                        "queued"
                    }
                    .into(),
                    message: Some(msg),
                    log: log_s,
                });
                return self.job_finished(c.job, on_event);
            }
        };
        let pid = exec.proc_id();
        on_event(&Event::TaskStarted {
            job: c.job,
            name: spec.name.clone(),
            task: c.index,
            attempt: number,
            frames: c.chunk.range(),
            frame_count: c.chunk.count,
            pid: pid.map(|p| p.pid),
            threads,
            gpus: gpus.clone(),
            log: log_s.clone(),
        });
        let now = Instant::now();
        self.running.insert(
            attempt,
            Running {
                job: c.job,
                task_id: c.task_id,
                index: c.index,
                number,
                failures: c.failures,
                chunk: c.chunk,
                log: log_s,
                exec,
                deadline: spec.timeout_secs.map(|s| now + Duration::from_secs(s)),
                stop: None,
                killed: false,
                exited: None,
                closed: false,
                threads,
                gpus,
                memory,
                frames_done: 0,
                fraction: 0.0,
                saved_at: now,
                log_error: None,
            },
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::executor::LocalExecutor;
    use crate::spec::JobSpec;

    fn setup(yaml: &str) -> (tempfile::TempDir, Queue, JobId) {
        let dir = tempfile::tempdir().unwrap();
        let mut q =
            Queue::open(&dir.path().join("q.db"), &dir.path().join("render"), 5000).unwrap();
        let spec = JobSpec::parse(yaml, std::path::Path::new("j.yaml")).unwrap();
        let id = crate::submit(&mut q, &spec, dir.path(), &Default::default()).unwrap();
        (dir, q, id)
    }

    fn opts() -> WorkerOptions {
        WorkerOptions {
            max_concurrent: 2,
            reserve: Default::default(),
            kill_grace: Duration::from_secs(1),
            poll: Duration::from_millis(20),
            exit_when_idle: true,
            until_job: None,
        }
    }

    #[test]
    fn runs_a_job_and_reports_events() {
        let (_dir, mut q, id) = setup(
            "frames: 1-4\nchunk: 2\ncommand: [sh, -c, 'echo 50%; echo frame {start}-{end}']\n",
        );
        let mut events = Vec::new();
        let mut w = Worker::new(&mut q, Box::new(LocalExecutor), opts()).unwrap();
        w.run(&Stop::new(), &mut |e| events.push(e.clone()))
            .unwrap();
        drop(w);
        let started = events
            .iter()
            .filter(|e| matches!(e, Event::TaskStarted { .. }))
            .count();
        assert_eq!(started, 2);
        assert!(events
            .iter()
            .any(|e| matches!(e, Event::TaskProgress { progress, .. } if *progress == 0.25)));
        assert!(
            matches!(events.iter().rev().nth(1), Some(Event::JobFinished { state, .. }) if state == "done")
        );
        let s = q.summary(id).unwrap();
        assert_eq!((s.state, s.frames_done), (crate::model::JobState::Done, 4));
        let log = q.log_path(id, 1, None).unwrap().unwrap();
        assert!(std::fs::read_to_string(log).unwrap().contains("frame 3-4"));
    }

    #[test]
    fn resources_fit_and_gpus_are_assigned() {
        // A machine with 8 threads, 16 GiB for renders and GPUs 1..=3 (GPU 0 reserved).
        let b = Budget {
            threads: 8,
            memory: 16 << 30,
            gpus: vec![1, 2, 3],
        };
        assert_eq!(fit(&b, &[], (4, 2, 0)), Some(vec![1, 2]));
        let busy: [u32; 2] = [1, 2];
        let in_use = [(4, 8 << 30, &busy[..])];
        assert_eq!(
            fit(&b, &in_use, (4, 1, 0)),
            Some(vec![3]),
            "GPUs in use are skipped"
        );
        assert_eq!(fit(&b, &in_use, (4, 2, 0)), None, "only one GPU left");
        assert_eq!(fit(&b, &in_use, (5, 0, 0)), None, "threads exhausted");
        assert_eq!(fit(&b, &in_use, (1, 0, 9 << 30)), None, "memory exhausted");
        assert_eq!(fit(&b, &in_use, (1, 0, 8 << 30)), Some(vec![]));
    }

    #[test]
    fn one_worker_per_host_and_queue() {
        let (dir, mut q, _) = setup("frames: 1\ncommand: [true]\n");
        let mut q2 =
            Queue::open(&dir.path().join("q.db"), &dir.path().join("render"), 5000).unwrap();
        let _w = Worker::new(&mut q, Box::new(LocalExecutor), opts()).unwrap();
        assert!(matches!(
            Worker::new(&mut q2, Box::new(LocalExecutor), opts()),
            Err(RenderError::Busy(_))
        ));
    }

    #[test]
    fn missing_program_fails_with_the_reason() {
        let (_dir, mut q, id) = setup("frames: 1\nretries: 1\ncommand: [/nonexistent/renderer]\n");
        Worker::new(&mut q, Box::new(LocalExecutor), opts())
            .unwrap()
            .run(&Stop::new(), &mut |_| {})
            .unwrap();
        let t = &q.tasks(id).unwrap()[0];
        assert_eq!((t.state.as_str(), t.attempts), ("failed", 2));
        assert!(
            t.message.as_deref().unwrap().contains("cannot start"),
            "{t:?}"
        );
    }
}
