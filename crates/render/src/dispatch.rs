//! The worker's side of the queue: registering, claiming tasks, recording attempts and their
//! ends. Each state change is one short transaction, so other shells always read a consistent
//! queue and two workers can never claim the same task: on SQLite the claim holds the file's
//! write lock (`BEGIN IMMEDIATE`); on PostgreSQL, where workers on several hosts share the
//! queue, it locks the task's row with `FOR UPDATE SKIP LOCKED`, so a worker skips a task
//! another is claiming instead of waiting for it or claiming it too.

use shotline_store::sql::{params, Backend, Tx};

use crate::chunk::Chunk;
use crate::clock::now_ms;
use crate::error::{DbContext, Result};
use crate::model::{JobId, Outcome};
use crate::procs::ProcId;
use crate::queue::Queue;

/// A task that may start.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    pub task_id: i64,
    pub job: JobId,
    pub index: i64,
    pub chunk: Chunk,
    pub failures: i64,
}

/// A claimed task whose transaction is still open (see [`Queue::claim`]).
pub(crate) struct Claim<'c> {
    tx: Tx<'c>,
    pub attempt: i64,
    pub number: i64,
    pub log: std::path::PathBuf,
}

impl Claim<'_> {
    /// Records the attempt's process.
    pub fn set_proc(&self, id: ProcId) -> Result<()> {
        self.tx
            .execute(
                "UPDATE render_attempts SET pid = ?1, proc_start = ?2 WHERE id = ?3",
                params![id.pid, id.start as i64, self.attempt],
            )
            .db("recording a process")?;
        Ok(())
    }

    /// Commits the claim (and the process, if recorded).
    pub fn commit(self) -> Result<()> {
        self.tx.commit().db("claiming a task")
    }
}

/// Where a finished attempt sends its task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NextState {
    Done,
    Queued,
    Failed,
    Cancelled,
}

impl NextState {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            NextState::Done => "done",
            NextState::Queued => "queued",
            NextState::Failed => "failed",
            NextState::Cancelled => "cancelled",
        }
    }
}

impl Queue {
    /// Records this process as a worker.
    pub(crate) fn register_worker(&self, host: &str, me: ProcId) -> Result<i64> {
        let now = now_ms();
        self.conn
            .query_row(
                "INSERT INTO render_workers (host, pid, proc_start, started_at, heartbeat_at) VALUES (?1, ?2, ?3, ?4, ?4) RETURNING id",
                params![host, me.pid, me.start as i64, now],
                |r| r.get(0),
            )
            .db("registering the worker")
    }

    /// Keeps the worker's heartbeat fresh (or marks it stopped).
    pub(crate) fn heartbeat(&self, worker: i64, stopped: bool) -> Result<()> {
        let now = now_ms();
        let sql = if stopped {
            "UPDATE render_workers SET heartbeat_at = ?1, stopped_at = ?1 WHERE id = ?2"
        } else {
            "UPDATE render_workers SET heartbeat_at = ?1 WHERE id = ?2"
        };
        self.conn
            .execute(sql, params![now, worker])
            .db("updating the worker heartbeat")?;
        Ok(())
    }

    /// Queued tasks of active jobs whose dependencies are done, by priority.
    pub(crate) fn candidates(&self, limit: usize) -> Result<Vec<Candidate>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT t.id, t.job_id, t.idx, t.first_frame, t.last_frame, t.step, t.frame_count, t.failures
                 FROM render_tasks t JOIN render_jobs j ON j.id = t.job_id
                 WHERE t.state = 'queued' AND j.control = 'active' AND j.executor = 'local'
                   AND NOT EXISTS (SELECT 1 FROM render_job_deps d JOIN render_tasks dt ON dt.job_id = d.depends_on
                                   WHERE d.job_id = j.id AND dt.state != 'done')
                 ORDER BY j.priority DESC, j.id, t.idx LIMIT ?1",
            )
            .db("reading the queue")?;
        let rows = stmt
            .query_map(params![limit as i64], |r| {
                Ok(Candidate {
                    task_id: r.get(0)?,
                    job: r.get(1)?,
                    index: r.get(2)?,
                    chunk: Chunk {
                        first: r.get(3)?,
                        last: r.get(4)?,
                        step: r.get(5)?,
                        count: r.get::<i64>(6)? as u64,
                    },
                    failures: r.get(7)?,
                })
            })
            .db("reading the queue")?;
        rows.collect::<Result<_, _>>().db("reading the queue")
    }

    /// Claims a queued task and opens its attempt, in a transaction left open so the process
    /// id is committed together with the claim: no moment exists where the queue says
    /// "running" without naming the process. `None` when someone else took the task first.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn claim(
        &mut self,
        c: &Candidate,
        executor: &str,
        host: &str,
        worker: i64,
        threads: u32,
        gpus: &str,
    ) -> Result<Option<Claim<'_>>> {
        let tx = self.conn.plain_tx().db("claiming a task")?;
        // PostgreSQL: lock the task's row (not its job's: other workers go on claiming the
        // job's other tasks), skipping it when another worker holds it.
        let lock = match tx.backend() {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE OF t SKIP LOCKED",
        };
        let claimable: Option<i64> = tx
            .query_opt(
                &format!(
                    "SELECT t.id FROM render_tasks t JOIN render_jobs j ON j.id = t.job_id
                     WHERE t.id = ?1 AND t.state = 'queued' AND j.control = 'active'{lock}"
                ),
                params![c.task_id],
            )
            .and_then(|r| r.map(|r| r.get(0)).transpose())
            .db("claiming a task")?;
        if claimable.is_none() {
            return Ok(None);
        }
        let number: Option<i64> = tx
            .query_opt(
                "UPDATE render_tasks SET state = 'running', attempts = attempts + 1, frames_done = 0, progress = 0, message = NULL
                 WHERE id = ?1 AND state = 'queued' RETURNING attempts",
                params![c.task_id],
            )
            .and_then(|r| r.map(|r| r.get(0)).transpose())
            .db("claiming a task")?;
        let Some(number) = number else {
            return Ok(None);
        };
        let log = self
            .dir
            .join("jobs")
            .join(c.job.to_string())
            .join("logs")
            .join(format!("task-{:04}.attempt-{number}.log", c.index));
        let attempt: i64 = tx
            .query_row(
                "INSERT INTO render_attempts (task_id, number, executor, host, worker_id, threads, gpus, log_path, started_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING id",
                params![c.task_id, number, executor, host, worker, threads, gpus, log.to_string_lossy(), now_ms()],
                |r| r.get(0),
            )
            .db("recording an attempt")?;
        Ok(Some(Claim {
            tx,
            attempt,
            number,
            log,
        }))
    }

    /// Stores live progress.
    pub(crate) fn set_progress(&self, task: i64, frames_done: u64, progress: f64) -> Result<()> {
        self.conn
            .execute(
                "UPDATE render_tasks SET frames_done = ?1, progress = ?2 WHERE id = ?3 AND state = 'running'",
                params![frames_done as i64, progress, task],
            )
            .db("recording progress")?;
        Ok(())
    }

    /// Closes an attempt and moves its task on, in one transaction. Returns whether the job
    /// still has queued or running tasks.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn finish_attempt(
        &mut self,
        attempt: i64,
        task: i64,
        job: JobId,
        outcome: Outcome,
        exit: Option<crate::executor::ExitInfo>,
        message: Option<&str>,
        next: NextState,
        frames_done: u64,
    ) -> Result<bool> {
        let tx = self.conn.plain_tx().db("finishing an attempt")?;
        let closed = tx.execute(
            "UPDATE render_attempts SET outcome = ?1, ended_at = ?2, exit_code = ?3, signal = ?4, message = ?5
             WHERE id = ?6 AND outcome IS NULL",
            params![outcome.as_str(), now_ms(), exit.and_then(|e| e.code), exit.and_then(|e| e.signal), message, attempt],
        )
        .db("finishing an attempt")?;
        if closed == 0 {
            // Someone else (another shell reading a farm's state) closed it first: the task
            // has already moved on, and must not count the failure twice.
            drop(tx);
            return self.has_work(job);
        }
        let failure = i64::from(outcome.is_failure());
        let progress = if next == NextState::Done { 1.0 } else { 0.0 };
        tx.execute(
            "UPDATE render_tasks SET state = ?1, failures = failures + ?2, message = ?3, progress = ?4,
                 frames_done = CASE WHEN ?1 = 'done' THEN frame_count ELSE ?5 END
             WHERE id = ?6",
            params![next.as_str(), failure, message, progress, frames_done as i64, task],
        )
        .db("finishing an attempt")?;
        let has_work: bool = tx
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM render_tasks WHERE state IN ('queued','running') AND job_id = ?1)",
                params![job],
                |r| r.get(0),
            )
            .db("finishing an attempt")?;
        if !has_work {
            tx.execute(
                "UPDATE render_jobs SET finished_at = coalesce(finished_at, ?2) WHERE id = ?1",
                params![job, now_ms()],
            )
            .db("finishing an attempt")?;
        }
        tx.commit().db("finishing an attempt")?;
        Ok(has_work)
    }

    /// Fails a task that can never run here (needs more than the machine has), without an
    /// attempt.
    pub(crate) fn fail_task(&mut self, task: i64, job: JobId, message: &str) -> Result<()> {
        self.conn
            .execute(
                "UPDATE render_tasks SET state = 'failed', message = ?1 WHERE id = ?2 AND state = 'queued'",
                params![message, task],
            )
            .db("failing a task")?;
        self.touch_finished(job)
    }

    /// Running tasks among `tasks` whose job was cancelled.
    pub(crate) fn cancelled_among(&self, tasks: &[i64]) -> Result<Vec<i64>> {
        if tasks.is_empty() {
            return Ok(Vec::new());
        }
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT t.id FROM render_tasks t JOIN render_jobs j ON j.id = t.job_id
                 WHERE t.state = 'running' AND j.control = 'cancelled'",
            )
            .db("checking for cancels")?;
        let rows = stmt
            .query_map(params![], |r| r.get::<i64>(0))
            .db("checking for cancels")?;
        let all: Vec<i64> = rows.collect::<Result<_, _>>().db("checking for cancels")?;
        Ok(all.into_iter().filter(|t| tasks.contains(t)).collect())
    }

    /// Fails the queued tasks of jobs whose dependency ended without being done; returns the
    /// jobs affected.
    pub(crate) fn fail_broken_dependencies(&mut self) -> Result<Vec<JobId>> {
        let broken: Vec<(JobId, JobId, String)> = {
            let mut stmt = self
                .conn
                .prepare_cached(
                    "SELECT DISTINCT d.job_id, d.depends_on, dj.name FROM render_job_deps d
                     JOIN render_jobs dj ON dj.id = d.depends_on
                     WHERE EXISTS (SELECT 1 FROM render_tasks t WHERE t.job_id = d.job_id AND t.state = 'queued')
                       AND (SELECT executor FROM render_jobs WHERE id = d.job_id) = 'local'
                       AND NOT EXISTS (SELECT 1 FROM render_tasks t WHERE t.job_id = d.depends_on AND t.state IN ('queued','running'))
                       AND (dj.control = 'cancelled' OR EXISTS (SELECT 1 FROM render_tasks t WHERE t.job_id = d.depends_on AND t.state IN ('failed','cancelled')))",
                )
                .db("checking dependencies")?;
            let rows = stmt
                .query_map(params![], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .db("checking dependencies")?;
            rows.collect::<Result<_, _>>().db("checking dependencies")?
        };
        let mut jobs = Vec::new();
        for (job, dep, name) in broken {
            self.conn
                .execute(
                    "UPDATE render_tasks SET state = 'failed', message = ?1 WHERE job_id = ?2 AND state = 'queued'",
                    params![format!("dependency job {dep} ({name}) did not finish"), job],
                )
                .db("failing dependent tasks")?;
            self.touch_finished(job)?;
            jobs.push(job);
        }
        Ok(jobs)
    }

    /// True while a job has queued or running tasks (cheap; no aggregate over the job).
    pub(crate) fn has_work(&self, job: JobId) -> Result<bool> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM render_tasks WHERE state IN ('queued','running') AND job_id = ?1)",
            )
            .db("reading a job")?;
        stmt.query_row(params![job], |r| r.get(0))
            .db("reading a job")
    }
}
