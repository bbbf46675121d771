//! The worker: runs the queue on this machine. The loop here only dispatches: it starts tasks
//! by priority while they fit ([`crate::schedule`]), builds their processes
//! ([`crate::launch`]) and hands them to an [`Executor`] (supervision of the process tree
//! lives in [`crate::supervise`]), stops them on cancel or timeout (SIGTERM to the tree,
//! SIGKILL after the grace period), judges how they ended ([`crate::finalize`]) and records
//! every step in the queue.

use std::collections::{HashMap, VecDeque};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use shotline_config::{RenderConfig, RenderReserve};

use crate::control::Stop;
use crate::dispatch::{Candidate, NextState};
use crate::error::{RenderError, Result};
use crate::event::Event;
use crate::executor::{ExecEvent, Execution, Executor, ExitInfo};
use crate::finalize::{self, StopReason};
use crate::job::ResolvedJob;
use crate::launch::{gpu_list, Launcher, LogSpec, TaskSlot};
use crate::machine::MachineInfo;
use crate::model::{JobId, Outcome};
use crate::progress::ProgressRules;
use crate::queue::Queue;
use crate::schedule::{fit, never_fits, Budget, InUse, Need};

/// How long after its exit an attempt is finalized even if its output is still open.
const EXIT_GRACE: Duration = Duration::from_secs(2);

/// How often a worker looks for dead workers of other hosts (one query over open attempts).
const STALL_CHECK_EVERY: Duration = Duration::from_secs(30);

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
    /// Another host's worker silent this long is dead and its running tasks are requeued
    /// (`None`: never; see [`Queue::reap_stalled_hosts`]).
    pub stalled_after: Option<Duration>,
    /// Most bytes one attempt's log keeps (head and tail; 0: no cap).
    pub log_max_bytes: u64,
    /// Return once nothing is running and nothing can start.
    pub exit_when_idle: bool,
    /// Return once this job is finished (`submit --wait`).
    pub until_job: Option<JobId>,
}

impl WorkerOptions {
    /// Options from the `render:` config section (whose values are bounded at load).
    pub fn from_config(cfg: &RenderConfig) -> WorkerOptions {
        WorkerOptions {
            max_concurrent: cfg.max_concurrent,
            reserve: cfg.reserve.clone(),
            kill_grace: Duration::from_secs(cfg.kill_grace_secs),
            poll: Duration::from_millis(cfg.poll_ms.max(10)),
            stalled_after: (cfg.stalled_host_secs > 0)
                .then(|| Duration::from_secs(cfg.stalled_host_secs)),
            log_max_bytes: cfg.log_max_bytes.0,
            exit_when_idle: false,
            until_job: None,
        }
    }
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

/// A task the worker is stopping: why, and when SIGTERM turns into SIGKILL.
#[derive(Debug, Clone, Copy)]
struct Stopping {
    reason: StopReason,
    /// `None`: the grace period is too long to count (it never is, config bounds it).
    kill_at: Option<Instant>,
}

/// A task whose leader exited: how, and when.
#[derive(Debug, Clone, Copy)]
struct Exited {
    status: ExitInfo,
    at: Instant,
}

/// One running attempt, as the worker tracks it.
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
    stop: Option<Stopping>,
    killed: bool,
    exited: Option<Exited>,
    closed: bool,
    threads: u32,
    gpus: Vec<u32>,
    memory: u64,
    frames_done: u64,
    fraction: f64,
    saved_at: Instant,
    log_error: Option<String>,
}

impl Running {
    /// Sends SIGTERM to its tree and starts the grace period, once.
    fn begin_stop(&mut self, reason: StopReason, grace: Duration) {
        if self.stop.is_none() && self.exited.is_none() {
            self.exec.terminate();
            self.stop = Some(Stopping {
                reason,
                kill_at: Instant::now().checked_add(grace),
            });
        }
    }

    /// Ready to finalize: exited, and its output read (or the exit is a while ago).
    fn ready(&self) -> bool {
        matches!(self.exited, Some(e) if self.closed || e.at.elapsed() >= EXIT_GRACE)
    }
}

/// Counts reported when the worker stops.
#[derive(Debug, Clone, Copy, Default)]
struct Stats {
    started: u64,
    done: u64,
    failed: u64,
}

/// A job as the worker uses it: resolved spec and compiled progress patterns.
struct JobInfo {
    spec: ResolvedJob,
    rules: ProgressRules,
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
    jobs: HashMap<JobId, Arc<JobInfo>>,
    tx: Sender<ExecEvent>,
    rx: Receiver<ExecEvent>,
    stats: Stats,
    /// Candidates read from the queue, reused until used up or the next poll, so a busy queue
    /// costs one query per 64 task starts (claims re-check every task in the database).
    pending: VecDeque<Candidate>,
    launcher: Launcher,
    _lock: std::fs::File,
}

impl<'q> Worker<'q> {
    /// Prepares a worker on this machine as measured ([`MachineInfo::detect`]).
    pub fn new(
        queue: &'q mut Queue,
        exec: Box<dyn Executor>,
        opts: WorkerOptions,
    ) -> Result<Worker<'q>> {
        Worker::with_machine(queue, exec, opts, &MachineInfo::detect())
    }

    /// Prepares a worker scheduling within `machine` (measured, or described for tests and
    /// for farms that know better): takes this host's worker lock (one worker per queue and
    /// host, so the machine budget is never counted twice) and registers.
    pub fn with_machine(
        queue: &'q mut Queue,
        exec: Box<dyn Executor>,
        opts: WorkerOptions,
        machine: &MachineInfo,
    ) -> Result<Worker<'q>> {
        let host = crate::procs::render_host();
        let lock = take_worker_lock(queue, &host)?;
        let budget = Budget::of(machine, &opts.reserve);
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
            stats: Stats::default(),
            pending: VecDeque::new(),
            launcher: Launcher::default(),
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
        self.requeue_stalled_hosts(on_event)?;
        let result = self.run_loop(stop, on_event);
        if result.is_err() {
            // Never leave processes behind on an internal error.
            for r in self.running.values_mut() {
                r.exec.kill();
            }
        }
        let beat = self.queue.heartbeat(self.id, true);
        on_event(&Event::WorkerStopped {
            started: self.stats.started,
            done: self.stats.done,
            failed: self.stats.failed,
        });
        result.and(beat)
    }

    /// Requeues what dead workers of other hosts were running (when configured), reporting
    /// each task as requeued.
    fn requeue_stalled_hosts(&mut self, on_event: &mut dyn FnMut(&Event)) -> Result<()> {
        let Some(after) = self.opts.stalled_after else {
            return Ok(());
        };
        for (job, task, reason) in self.queue.reap_stalled_hosts(after)? {
            on_event(&Event::Requeued { job, task, reason });
        }
        Ok(())
    }

    fn run_loop(&mut self, stop: &Stop, on_event: &mut dyn FnMut(&Event)) -> Result<()> {
        let (mut draining, mut interrupting) = (false, false);
        // `None`: poll at once.
        let mut last_poll: Option<Instant> = None;
        let mut last_beat = Instant::now();
        let mut last_stall_check = Instant::now();
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
                    r.begin_stop(StopReason::Interrupt, grace);
                }
            } else if level == 1 && !draining {
                draining = true;
                on_event(&Event::Stopping {
                    running: self.running.len(),
                    requeue: false,
                });
            }
            if last_poll.is_none_or(|t| t.elapsed() >= self.opts.poll) {
                last_poll = Some(Instant::now());
                dirty = true;
                self.pending.clear();
                self.check_cancels()?;
                self.check_dependencies(on_event)?;
                if last_beat.elapsed() >= Duration::from_secs(5) {
                    last_beat = Instant::now();
                    self.queue.heartbeat(self.id, false)?;
                }
                if last_stall_check.elapsed() >= STALL_CHECK_EVERY {
                    last_stall_check = Instant::now();
                    self.requeue_stalled_hosts(on_event)?;
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
                (_, _, Some(e)) => e.at.checked_add(EXIT_GRACE),
                (Some(s), _, _) if !r.killed => s.kill_at,
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
                    r.exited = Some(Exited {
                        status,
                        at: Instant::now(),
                    });
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
            if cancelled.contains(&r.task_id) {
                r.begin_stop(StopReason::Cancel, grace);
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
                    r.begin_stop(StopReason::Timeout, grace);
                }
                Some(Stopping {
                    kill_at: Some(kill_at),
                    ..
                }) if !r.killed && now >= kill_at => {
                    r.exec.kill();
                    r.killed = true;
                }
                _ => {}
            }
        }
    }

    /// Finishes attempts whose process exited and whose output was read (or a while after
    /// the exit when something still holds the pipe). True when any finished.
    fn finalize_ready(&mut self, on_event: &mut dyn FnMut(&Event)) -> Result<bool> {
        let ready: Vec<i64> = self
            .running
            .iter()
            .filter(|(_, r)| r.ready())
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
        let status = r.exited.map_or(
            ExitInfo {
                code: None,
                signal: None,
            },
            |e| e.status,
        );
        let job = self.job(r.job)?;
        let verdict = finalize::judge(r.stop.map(|s| s.reason), status, &job.spec, &r.chunk);
        let next = finalize::next_state(verdict.outcome, r.failures, job.spec.retries);
        let message = finalize::message(&verdict, r.log_error.as_deref(), next, r.number);
        let has_work = self.queue.finish_attempt(
            attempt,
            r.task_id,
            r.job,
            verdict.outcome,
            Some(status),
            message.as_deref(),
            next,
            r.frames_done,
        )?;
        self.count(next);
        on_event(&Event::TaskFinished {
            job: r.job,
            task: r.index,
            attempt: r.number,
            outcome: verdict.outcome.as_str().into(),
            state: next.as_str().into(),
            message,
            log: r.log,
        });
        if has_work {
            return Ok(());
        }
        self.job_finished(r.job, on_event)
    }

    fn count(&mut self, next: NextState) {
        match next {
            NextState::Done => self.stats.done += 1,
            NextState::Failed => self.stats.failed += 1,
            _ => {}
        }
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

    fn job(&mut self, id: JobId) -> Result<Arc<JobInfo>> {
        if let Some(j) = self.jobs.get(&id) {
            return Ok(j.clone());
        }
        let spec = self.queue.job_spec(id)?;
        let rules = ProgressRules::compile(&spec.progress)?;
        let j = Arc::new(JobInfo { spec, rules });
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
        let mut left = VecDeque::new();
        while let Some(c) = self.pending.pop_front() {
            if max > 0 && self.running.len() >= max {
                left.push_back(c);
                continue;
            }
            let job = self.job(c.job)?;
            let need = Need::of(&job.spec, &self.budget, self.opts.max_concurrent);
            if let Some(reason) = never_fits(&self.budget, &need, &self.host) {
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

    /// The GPUs to give when the task fits now.
    fn fits(&self, need: &Need) -> Option<Vec<u32>> {
        let in_use: Vec<InUse<'_>> = self
            .running
            .values()
            .map(|r| InUse {
                threads: r.threads,
                memory: r.memory,
                gpus: &r.gpus,
            })
            .collect();
        fit(&self.budget, &in_use, need)
    }

    fn start(
        &mut self,
        c: Candidate,
        job: &Arc<JobInfo>,
        need: Need,
        gpus: Vec<u32>,
        on_event: &mut dyn FnMut(&Event),
    ) -> Result<()> {
        let job_dir = self.queue.job_dir(c.job);
        let Some(claim) = self.queue.claim(
            &c,
            self.exec.name(),
            &self.host,
            self.id,
            need.threads,
            &gpu_list(&gpus),
        )?
        else {
            return Ok(());
        };
        let (attempt, number, log) = (claim.attempt, claim.number, claim.log.clone());
        self.stats.started += 1;
        let slot = TaskSlot {
            job: c.job,
            index: c.index,
            chunk: &c.chunk,
            threads: need.threads,
            gpus: &gpus,
            tmp: job_dir.join("tmp"),
        };
        let launch = self.launcher.build(
            &job.spec,
            &job.rules,
            &slot,
            attempt,
            LogSpec {
                path: log.clone(),
                max_bytes: self.opts.log_max_bytes,
            },
        );
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
                return self.fail_start(&c, job, attempt, number, log_s, &e, on_event);
            }
        };
        let pid = exec.proc_id();
        on_event(&Event::TaskStarted {
            job: c.job,
            name: job.spec.name.clone(),
            task: c.index,
            attempt: number,
            frames: c.chunk.range(),
            frame_count: c.chunk.count,
            pid: pid.map(|p| p.pid),
            threads: need.threads,
            gpus: gpus.clone(),
            log: log_s.clone(),
        });
        let now = Instant::now();
        let deadline = job
            .spec
            .timeout_secs
            .and_then(|s| now.checked_add(Duration::from_secs(s)));
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
                deadline,
                stop: None,
                killed: false,
                exited: None,
                closed: false,
                threads: need.threads,
                gpus,
                memory: need.memory,
                frames_done: 0,
                fraction: 0.0,
                saved_at: now,
                log_error: None,
            },
        );
        Ok(())
    }

    /// Records an attempt whose process could not start (requeued while retries are left).
    #[allow(clippy::too_many_arguments)]
    fn fail_start(
        &mut self,
        c: &Candidate,
        job: &JobInfo,
        attempt: i64,
        number: i64,
        log: String,
        err: &RenderError,
        on_event: &mut dyn FnMut(&Event),
    ) -> Result<()> {
        let outcome = Outcome::Failed;
        let next = finalize::next_state(outcome, c.failures, job.spec.retries);
        let msg = format!("cannot start the renderer: {err}");
        self.queue.finish_attempt(
            attempt,
            c.task_id,
            c.job,
            outcome,
            None,
            Some(&msg),
            next,
            0,
        )?;
        self.count(next);
        on_event(&Event::TaskFinished {
            job: c.job,
            task: c.index,
            attempt: number,
            outcome: outcome.as_str().into(),
            state: next.as_str().into(),
            message: Some(msg),
            log,
        });
        self.job_finished(c.job, on_event)
    }
}

/// Takes this host's worker lock on the queue (released when the file is closed).
fn take_worker_lock(queue: &Queue, host: &str) -> Result<std::fs::File> {
    std::fs::create_dir_all(queue.dir())
        .map_err(|e| RenderError::io(format!("cannot create {}", queue.dir().display()), e))?;
    let safe: String = host
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let lock_path = queue.dir().join(format!("worker-{safe}.lock"));
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| RenderError::io(format!("cannot open {}", lock_path.display()), e))?;
    match lock.try_lock() {
        Ok(()) => Ok(lock),
        Err(std::fs::TryLockError::WouldBlock) => Err(RenderError::Busy(format!(
            "another render worker already runs this queue on {host} (lock {})",
            lock_path.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => Err(RenderError::io(
            format!("cannot lock {}", lock_path.display()),
            e,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::JobSpec;
    use crate::supervise::LocalExecutor;

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
            stalled_after: None,
            log_max_bytes: 1 << 20,
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
        let mut w = Worker::new(&mut q, Box::new(LocalExecutor::new()), opts()).unwrap();
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
    fn one_worker_per_host_and_queue() {
        let (dir, mut q, _) = setup("frames: 1\ncommand: [true]\n");
        let mut q2 =
            Queue::open(&dir.path().join("q.db"), &dir.path().join("render"), 5000).unwrap();
        let _w = Worker::new(&mut q, Box::new(LocalExecutor::new()), opts()).unwrap();
        assert!(matches!(
            Worker::new(&mut q2, Box::new(LocalExecutor::new()), opts()),
            Err(RenderError::Busy(_))
        ));
    }

    #[test]
    fn missing_program_fails_with_the_reason() {
        let (_dir, mut q, id) = setup("frames: 1\nretries: 1\ncommand: [/nonexistent/renderer]\n");
        Worker::new(&mut q, Box::new(LocalExecutor::new()), opts())
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

    fn run_with(q: &mut Queue, o: WorkerOptions, m: &MachineInfo) -> Vec<Event> {
        let mut events = Vec::new();
        Worker::with_machine(q, Box::new(LocalExecutor::new()), o, m)
            .unwrap()
            .run(&Stop::new(), &mut |e| events.push(e.clone()))
            .unwrap();
        events
    }

    #[test]
    fn a_child_that_calls_setsid_does_not_outlive_its_timed_out_task() {
        // The task double-forks a `sleep` into its own session, then hangs.
        let (dir, mut q, id) = setup(
            "frames: 1\ntimeout: 1\ncommand: [sh, -c, '(setsid sh -c \"echo \\$\\$ > {tmp}/grand.pid; exec sleep 300\" &); sleep 300']\n",
        );
        let m = MachineInfo::described(4, 0, &[]);
        run_with(&mut q, opts(), &m);
        let t = &q.tasks(id).unwrap()[0];
        let log = std::fs::read_to_string(q.log_path(id, 0, None).unwrap().unwrap()).unwrap();
        assert_eq!(t.state.as_str(), "failed", "{t:?}");
        assert!(
            t.message.as_deref().unwrap_or("").contains("timeout"),
            "{t:?}\n{log}"
        );
        let pid_file = q.job_dir(id).join("tmp").join("grand.pid");
        let pid: i32 = std::fs::read_to_string(&pid_file)
            .unwrap_or_else(|e| panic!("{}: {e}", pid_file.display()))
            .trim()
            .parse()
            .unwrap();
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let state = stat
            .rsplit_once(')')
            .map(|(_, r)| r.trim_start().chars().next());
        assert!(
            stat.is_empty() || state == Some(Some('Z')),
            "the setsid child {pid} still runs: {stat}"
        );
        drop(dir);
    }

    #[test]
    fn gpus_of_a_described_machine_are_assigned_and_exported() {
        let (_dir, mut q, id) = setup(
            "frames: 1-2\nchunk: 1\nresources: {gpus: 1, threads: 1}\ncommand: [sh, -c, 'echo gpu=$CUDA_VISIBLE_DEVICES']\n",
        );
        let m = MachineInfo::described(4, 8 << 30, &[0, 1]);
        let events = run_with(&mut q, opts(), &m);
        let mut given: Vec<Vec<u32>> = events
            .iter()
            .filter_map(|e| match e {
                Event::TaskStarted { gpus, .. } => Some(gpus.clone()),
                _ => None,
            })
            .collect();
        given.sort();
        assert_eq!(given, vec![vec![0], vec![1]]);
        let mut seen: Vec<String> = (0..2)
            .map(|i| {
                let log = q.log_path(id, i, None).unwrap().unwrap();
                let text = std::fs::read_to_string(log).unwrap();
                text.lines()
                    .find(|l| l.starts_with("gpu="))
                    .unwrap_or("")
                    .to_string()
            })
            .collect();
        seen.sort();
        assert_eq!(seen, ["gpu=0", "gpu=1"]);
        // Three GPUs never fit a two-GPU machine: rejected with the reason.
        let spec = JobSpec::parse(
            "frames: 1\nresources: {gpus: 3}\ncommand: [true]\n",
            std::path::Path::new("j.yaml"),
        )
        .unwrap();
        let big = crate::submit(&mut q, &spec, _dir.path(), &Default::default()).unwrap();
        run_with(&mut q, opts(), &m);
        let t = &q.tasks(big).unwrap()[0];
        assert!(
            t.message
                .as_deref()
                .unwrap_or("")
                .contains("needs 3 GPU(s) but 2"),
            "{t:?}"
        );
    }

    #[test]
    fn a_chatty_renderer_gets_a_capped_log_with_head_tail_and_a_quoted_command() {
        let (_dir, mut q, id) = setup(
            "frames: 1\ncommand: [sh, -c, 'echo FIRST; i=0; while [ $i -lt 2000 ]; do echo 0123456789; i=$((i+1)); done; echo LAST']\n",
        );
        let mut o = opts();
        o.log_max_bytes = 1000;
        run_with(&mut q, o, &MachineInfo::described(2, 0, &[]));
        let log = std::fs::read_to_string(q.log_path(id, 0, None).unwrap().unwrap()).unwrap();
        let first = log.lines().next().unwrap();
        assert!(
            first.starts_with("# shotline: ") && first.contains(" -c 'echo FIRST; i=0;"),
            "{first}"
        );
        assert!(
            log.contains("\nFIRST\n") && log.ends_with("LAST\n"),
            "{log}"
        );
        assert!(log.contains("bytes of output dropped"), "{log}");
        assert!(log.len() < 1300, "{}", log.len());
    }
}
