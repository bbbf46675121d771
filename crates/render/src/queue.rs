//! The queue in the project's database (the SQLite file or the studio's PostgreSQL server):
//! `render_*` tables beside the tracking store's, with their own schema version
//! (`shotline_store::schema_render`), so `status` works from any shell and a restarted worker
//! finds what was running. On PostgreSQL the queue is shared by workers on several hosts.

use std::path::{Path, PathBuf};

use shotline_store::schema_render;
use shotline_store::sql::{params, Conn, OptionalExt, Row};
use shotline_store::{open_conn, OpenMode, StoreError};

use crate::clock::{now_ms, rfc3339};
use crate::error::{DbContext, RenderError, Result};
use crate::job::ResolvedJob;
use crate::model::*;
use crate::spec::JobRef;
use shotline_fsio::Overwrite;

/// A handle on the render queue: one database connection plus the folder for job files.
pub struct Queue {
    pub(crate) conn: Conn,
    pub(crate) db_path: PathBuf,
    pub(crate) dir: PathBuf,
    /// Whether `render_jobs` has `submitted_by` (false only for a queue opened read-only
    /// before migration 3 ran on it).
    has_submitter: bool,
}

impl Queue {
    /// Opens the queue in the database at `db` (a SQLite file, created if needed, or a
    /// PostgreSQL URL; through the store's shared connection settings) with job folders under
    /// `dir`, migrating the `render_*` tables.
    ///
    /// On SQLite the queue's connection uses `synchronous=NORMAL`: in WAL mode that never
    /// corrupts the file, and a power cut can at worst forget the last task transitions, which
    /// the next worker start repairs; FULL would cost an fsync per task transition.
    pub fn open(db: &Path, dir: &Path, busy_timeout_ms: u64) -> Result<Queue> {
        let fail =
            |e: StoreError| RenderError::Invalid(format!("cannot open the render queue: {e}"));
        let mut conn = open_conn(db, busy_timeout_ms, OpenMode::Create).map_err(fail)?;
        // The database's tracking schema must not be newer than this build (the same refusal
        // every other user of the database gives).
        shotline_store::schema::refuse_newer(&conn, db).map_err(fail)?;
        if conn.as_sqlite().is_some() {
            conn.batch("PRAGMA synchronous = NORMAL;")
                .db("setting pragmas")?;
        }
        schema_render::migrate_render(&mut conn, db).map_err(fail)?;
        Ok(Queue {
            conn,
            db_path: db.to_path_buf(),
            dir: dir.to_path_buf(),
            has_submitter: true,
        })
    }

    /// Opens the queue for reading only, changing nothing (no migration, no write lock, no
    /// table created on either backend): listings work on a read-only database or one where no
    /// job was ever submitted. `None` when the database does not exist or has no render tables
    /// yet (an empty queue).
    pub fn open_read_only(db: &Path, dir: &Path) -> Result<Option<Queue>> {
        let on_server = shotline_store::target::is_postgres_url(db);
        if !on_server && !db.exists() {
            return Ok(None);
        }
        let fail =
            |e: StoreError| RenderError::Invalid(format!("cannot read the render queue: {e}"));
        let conn = if on_server {
            open_conn(
                db,
                shotline_store::DEFAULT_BUSY_TIMEOUT_MS,
                OpenMode::ReadOnly,
            )
            .map_err(fail)?
        } else {
            Conn::Sqlite(open_reader(db)?)
        };
        // Every user of the database refuses a schema newer than it knows, readers included.
        shotline_store::schema::refuse_newer(&conn, db).map_err(fail)?;
        if !schema_render::table_exists(&conn, db, "render_jobs").map_err(fail)? {
            return Ok(None);
        }
        schema_render::refuse_newer_render(&conn, db).map_err(fail)?;
        let has_submitter =
            schema_render::column_exists(&conn, db, "render_jobs", "submitted_by").map_err(fail)?;
        Ok(Some(Queue {
            conn,
            db_path: db.to_path_buf(),
            dir: dir.to_path_buf(),
            has_submitter,
        }))
    }

    /// The database file.
    pub fn db_path(&self) -> &Path {
        &self.db_path
    }

    /// The folder holding job folders.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The folder of one job (logs, temporary files).
    pub fn job_dir(&self, id: JobId) -> PathBuf {
        self.dir.join("jobs").join(id.to_string())
    }

    /// Queues a job: resolves its dependencies, writes job and tasks in one transaction, makes
    /// its folder and, if asked, snapshots the scene there.
    pub fn submit(&mut self, job: &ResolvedJob) -> Result<JobId> {
        self.submit_as(job, "local")
    }

    /// Queues a job for `executor` (`local`, or a farm whose tasks the local worker leaves
    /// alone).
    pub(crate) fn submit_as(&mut self, job: &ResolvedJob, executor: &str) -> Result<JobId> {
        let mut job = job.clone();
        // The scene is copied before the write transaction: a multi-GB scene must not block
        // every other writer of the database while it is read.
        let staged = match (&job.scene, job.snapshot_scene) {
            (Some(scene), true) => Some(self.stage_snapshot(scene)?),
            _ => None,
        };
        let tx = self.conn.plain_tx().db("starting a submit")?;
        let mut deps = Vec::new();
        for r in &job.after {
            deps.push(find_in(&tx, r)?);
        }
        let now = now_ms();
        let id: i64 = tx
            .query_row(
            "INSERT INTO render_jobs (name, preset, frames, spec, priority, control, dir, submitted_at, executor, submitted_by)
             VALUES (?1, ?2, ?3, '', ?4, 'active', '', ?5, ?6, ?7) RETURNING id",
            params![
                job.name,
                job.preset.name(),
                job.frames,
                job.priority,
                now,
                executor,
                job.submitted_by
            ],
            |r| r.get(0),
        )
        .db("inserting the job")?;
        let dir = self.dir.join("jobs").join(id.to_string());
        std::fs::create_dir_all(dir.join("tmp"))
            .and_then(|_| std::fs::create_dir_all(dir.join("logs")))
            .map_err(|e| {
                RenderError::io(format!("cannot create job folder {}", dir.display()), e)
            })?;
        if let (Some(staged), Some(scene)) = (staged, job.scene.as_deref()) {
            let copy = dir.join("tmp").join(scene.file_name().unwrap_or_default());
            staged.persist(&copy).map_err(|e| {
                RenderError::io(
                    format!("cannot move the scene snapshot to {}", copy.display()),
                    e.error,
                )
            })?;
            shotline_fsio::sync_dir(&dir.join("tmp"))?;
            job.scene = Some(copy);
        }
        let spec = serde_json::to_string(&job)
            .map_err(|e| RenderError::Invalid(format!("cannot encode the job: {e}")))?;
        shotline_fsio::write_atomic(&dir.join("job.json"), spec.as_bytes(), Overwrite::Replace)?;
        tx.execute(
            "UPDATE render_jobs SET spec = ?1, dir = ?2 WHERE id = ?3",
            params![spec, dir.to_string_lossy(), id],
        )
        .db("storing the job spec")?;
        for d in deps {
            tx.execute(
                "INSERT INTO render_job_deps (job_id, depends_on) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                params![id, d],
            )
            .db("recording dependencies")?;
        }
        insert_tasks(&tx, id, &job.chunks)?;
        tx.commit().db("committing the submit")?;
        Ok(id)
    }

    /// Copies `scene` (streaming, fsynced) to a temp file beside the job folders, from where
    /// the submit renames it into the job's folder; the temp file is removed if that never
    /// happens.
    fn stage_snapshot(&self, scene: &Path) -> Result<tempfile::TempPath> {
        let staging = self.dir.join("staging");
        std::fs::create_dir_all(&staging)
            .map_err(|e| RenderError::io(format!("cannot create {}", staging.display()), e))?;
        let mut from = std::fs::File::open(scene).map_err(|e| {
            RenderError::io(format!("cannot read the scene {}", scene.display()), e)
        })?;
        let mut tmp = shotline_fsio::temp_builder(".snapshot-")
            .tempfile_in(&staging)
            .map_err(|e| {
                RenderError::io(
                    format!("cannot create a temp file in {}", staging.display()),
                    e,
                )
            })?;
        std::io::copy(&mut from, &mut tmp)
            .and_then(|_| tmp.as_file().sync_all())
            .map_err(|e| {
                RenderError::io(
                    format!(
                        "cannot copy the scene {} to {}",
                        scene.display(),
                        staging.display()
                    ),
                    e,
                )
            })?;
        Ok(tmp.into_temp_path())
    }

    /// Finds a job by id (`12`) or name (the most recent of that name).
    pub fn find(&self, key: &str) -> Result<JobId> {
        let r = match key.trim().parse::<i64>() {
            Ok(i) => JobRef::Id(i),
            Err(_) => JobRef::Name(key.trim().to_string()),
        };
        find_in(&self.conn, &r)
    }

    /// The resolved job as stored.
    pub fn job_spec(&self, id: JobId) -> Result<ResolvedJob> {
        let text: String = self
            .conn
            .query_row(
                "SELECT spec FROM render_jobs WHERE id = ?1",
                params![id],
                |r| r.get(0),
            )
            .optional()
            .db("reading a job")?
            .ok_or_else(|| RenderError::NoSuchJob(id.to_string()))?;
        serde_json::from_str(&text).map_err(|e| {
            RenderError::Invalid(format!("job {id} has an unreadable spec in the queue: {e}"))
        })
    }

    /// Jobs, newest first. Without `all`, finished jobs older than a day are left out.
    pub fn list(&self, all: bool) -> Result<Vec<JobSummary>> {
        let cutoff = if all { i64::MIN } else { now_ms() - 86_400_000 };
        let mut stmt = self
            .conn
            .prepare(&format!(
                "{} WHERE j.finished_at IS NULL OR j.finished_at >= ?1 GROUP BY j.id ORDER BY j.id DESC",
                self.summary_sql()
            ))
            .db("listing jobs")?;
        let rows = stmt
            .query_map(params![cutoff], summary_row)
            .db("listing jobs")?;
        let mut out = Vec::new();
        for r in rows {
            let mut s = r.db("listing jobs")?;
            s.after = self.deps(s.id)?;
            out.push(s);
        }
        Ok(out)
    }

    /// The summary query without its filter: `submitted_by` is read as NULL from a queue
    /// opened read-only before it had the column.
    fn summary_sql(&self) -> String {
        let submitter = if self.has_submitter {
            "j.submitted_by"
        } else {
            "NULL"
        };
        SUMMARY_SQL.replace("{submitter}", submitter)
    }

    /// One job's summary.
    pub fn summary(&self, id: JobId) -> Result<JobSummary> {
        let mut s = self
            .conn
            .query_row(
                &format!("{} WHERE j.id = ?1 GROUP BY j.id", self.summary_sql()),
                params![id],
                summary_row,
            )
            .optional()
            .db("reading a job")?
            .ok_or_else(|| RenderError::NoSuchJob(id.to_string()))?;
        s.after = self.deps(id)?;
        Ok(s)
    }

    pub(crate) fn deps(&self, id: JobId) -> Result<Vec<JobId>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT depends_on FROM render_job_deps WHERE job_id = ?1 ORDER BY depends_on",
            )
            .db("reading dependencies")?;
        let rows = stmt
            .query_map(params![id], |r| r.get(0))
            .db("reading dependencies")?;
        rows.collect::<Result<Vec<i64>, _>>()
            .db("reading dependencies")
    }

    /// A job with its tasks and their latest attempts.
    pub fn detail(&self, id: JobId) -> Result<JobDetail> {
        let job = self.summary(id)?;
        let spec = self.job_spec(id)?;
        Ok(JobDetail {
            job,
            output: spec.output.clone(),
            command: spec.command.clone(),
            task_list: self.tasks(id)?,
        })
    }

    /// Tasks of a job in index order, each with its latest attempt.
    pub fn tasks(&self, id: JobId) -> Result<Vec<TaskInfo>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, idx, first_frame, last_frame, step, frame_count, state, attempts, failures,
                        frames_done, progress, message
                 FROM render_tasks WHERE job_id = ?1 ORDER BY idx",
            )
            .db("reading tasks")?;
        let rows = stmt
            .query_map(params![id], |r| {
                let (first, last, step, count): (i64, i64, i64, i64) =
                    (r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?);
                let chunk = crate::chunk::Chunk {
                    first,
                    last,
                    step,
                    count: count as u64,
                };
                Ok(TaskInfo {
                    id: r.get(0)?,
                    index: r.get(1)?,
                    frames: chunk.range(),
                    frame_count: count as u64,
                    state: r.get(6)?,
                    attempts: r.get::<i64>(7)? as u64,
                    failures: r.get::<i64>(8)? as u64,
                    frames_done: r.get::<i64>(9)? as u64,
                    progress: r.get(10)?,
                    message: r.get(11)?,
                    attempt: None,
                })
            })
            .db("reading tasks")?;
        let mut tasks = rows.collect::<Result<Vec<_>, _>>().db("reading tasks")?;
        for t in &mut tasks {
            t.attempt = self.attempts(t.id)?.pop();
        }
        Ok(tasks)
    }

    /// All attempts of a task, oldest first.
    pub fn attempts(&self, task_id: i64) -> Result<Vec<AttemptInfo>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, number, executor, host, pid, threads, gpus, log_path, started_at, ended_at,
                        outcome, exit_code, signal, message, farm_task
                 FROM render_attempts WHERE task_id = ?1 ORDER BY number",
            )
            .db("reading attempts")?;
        let rows = stmt
            .query_map(params![task_id], |r| {
                Ok(AttemptInfo {
                    id: r.get(0)?,
                    number: r.get(1)?,
                    executor: r.get(2)?,
                    host: r.get(3)?,
                    pid: r.get(4)?,
                    threads: r.get(5)?,
                    gpus: r.get(6)?,
                    log: r.get(7)?,
                    started_at: rfc3339(r.get(8)?),
                    ended_at: r.get::<Option<i64>>(9)?.map(rfc3339),
                    outcome: r.get(10)?,
                    exit_code: r.get(11)?,
                    signal: r.get(12)?,
                    message: r.get(13)?,
                    farm_task: r.get(14)?,
                })
            })
            .db("reading attempts")?;
        rows.collect::<Result<Vec<_>, _>>().db("reading attempts")
    }

    /// Cancels a job: queued tasks are cancelled now, running ones are stopped by their worker
    /// (process tree SIGTERM, then SIGKILL). Tasks whose worker is gone are killed here.
    /// Returns how many tasks were still running.
    pub fn cancel(&mut self, id: JobId) -> Result<u64> {
        self.summary(id)?;
        let tx = self.conn.plain_tx().db("cancelling")?;
        tx.execute(
            "UPDATE render_jobs SET control = 'cancelled' WHERE id = ?1",
            params![id],
        )
        .db("cancelling")?;
        tx.execute(
            "UPDATE render_tasks SET state = 'cancelled', message = 'cancelled by user'
             WHERE job_id = ?1 AND state = 'queued'",
            params![id],
        )
        .db("cancelling")?;
        tx.commit().db("cancelling")?;
        self.reap_orphans(Some(id))?;
        self.touch_finished(id)?;
        let running: i64 = self
            .conn
            .query_row(
                "SELECT count(*) FROM render_tasks WHERE job_id = ?1 AND state = 'running'",
                params![id],
                |r| r.get(0),
            )
            .db("cancelling")?;
        Ok(running as u64)
    }

    /// Puts failed and cancelled tasks back in the queue with a fresh retry budget. Returns
    /// how many were requeued.
    pub fn retry(&mut self, id: JobId) -> Result<u64> {
        self.summary(id)?;
        let tx = self.conn.plain_tx().db("retrying")?;
        let n = tx
            .execute(
                "UPDATE render_tasks SET state = 'queued', failures = 0, message = NULL, progress = 0, frames_done = 0
                 WHERE job_id = ?1 AND state IN ('failed', 'cancelled')",
                params![id],
            )
            .db("retrying")?;
        tx.execute(
            "UPDATE render_jobs SET control = 'active', finished_at = NULL WHERE id = ?1 AND (?2 > 0 OR control = 'cancelled')",
            params![id, n as i64],
        )
        .db("retrying")?;
        tx.commit().db("retrying")?;
        Ok(n as u64)
    }

    /// Pauses (no new tasks start; running ones finish) or resumes a job. Returns false when the
    /// job was cancelled (nothing to pause or resume).
    pub fn set_paused(&mut self, id: JobId, paused: bool) -> Result<bool> {
        self.summary(id)?;
        let (from, to) = if paused {
            ("active", "paused")
        } else {
            ("paused", "active")
        };
        let n = self
            .conn
            .execute(
                "UPDATE render_jobs SET control = ?1 WHERE id = ?2 AND control IN (?1, ?3)",
                params![to, id, from],
            )
            .db("pausing")?;
        Ok(n > 0)
    }

    /// Sets `finished_at` once a job has no queued or running task (and clears it otherwise).
    pub(crate) fn touch_finished(&self, id: JobId) -> Result<()> {
        self.conn
            .execute(
                "UPDATE render_jobs SET finished_at = CASE
                    WHEN EXISTS (SELECT 1 FROM render_tasks WHERE job_id = ?1 AND state IN ('queued','running'))
                    THEN NULL ELSE coalesce(finished_at, ?2) END
                 WHERE id = ?1",
                params![id, now_ms()],
            )
            .db("updating a job")?;
        Ok(())
    }

    /// Finds running attempts on this host whose worker is gone, kills what is left of their
    /// process trees and puts the tasks back in the queue (or marks them cancelled when their
    /// job was cancelled). Returns `(job, task index, message)` per task.
    pub fn reap_orphans(&mut self, job: Option<JobId>) -> Result<Vec<(JobId, i64, String)>> {
        self.reap_orphans_of(&crate::procs::render_host(), job)
    }

    /// [`Queue::reap_orphans`] for the attempts recorded under `host`: a process id names a
    /// process on its own host only, so on a queue shared by several hosts each reaps its own.
    pub(crate) fn reap_orphans_of(
        &mut self,
        host: &str,
        job: Option<JobId>,
    ) -> Result<Vec<(JobId, i64, String)>> {
        let rows: Vec<OpenAttempt> = {
            let mut stmt = self
                .conn
                .prepare(
                    "SELECT a.id, t.id, t.job_id, t.idx, a.pid, a.proc_start, w.pid, w.proc_start, j.control
                     FROM render_attempts a JOIN render_tasks t ON t.id = a.task_id
                     JOIN render_jobs j ON j.id = t.job_id
                     LEFT JOIN render_workers w ON w.id = a.worker_id
                     WHERE a.outcome IS NULL AND a.host = ?1 AND a.executor = 'local' AND (CAST(?2 AS BIGINT) IS NULL OR t.job_id = ?2)",
                )
                .db("looking for lost tasks")?;
            let rows = stmt
                .query_map(params![host, job], |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                        r.get(7)?,
                        r.get(8)?,
                    ))
                })
                .db("looking for lost tasks")?;
            rows.collect::<Result<_, _>>()
                .db("looking for lost tasks")?
        };
        let mut out = Vec::new();
        for (attempt, task, job_id, idx, pid, pstart, wpid, wstart, control) in rows {
            let worker_alive = matches!((wpid, wstart), (Some(p), Some(s))
                if crate::procs::alive(crate::procs::ProcId { pid: p as i32, start: s as u64 }));
            if worker_alive {
                continue;
            }
            let mut msg = "its worker is gone".to_string();
            if let (Some(p), Some(s)) = (pid, pstart) {
                let leader = crate::procs::ProcId {
                    pid: p as i32,
                    start: s as u64,
                };
                // The worker is gone, so the leader is not ours to reap: only members found
                // in /proc (start time checked, signalled by pidfd) are killed, never the group.
                let worker = crate::procs::ProcId {
                    pid: wpid.unwrap_or(0) as i32,
                    start: wstart.unwrap_or(0) as u64,
                };
                let killed =
                    crate::procs::TaskTree::of_dead_worker(leader, worker, attempt).kill_all();
                msg = if killed > 0 {
                    format!("its worker is gone; killed {killed} leftover process(es) of pid {p}")
                } else {
                    format!("its worker is gone and process {p} is no longer running")
                };
            }
            if self.close_lost_attempt(attempt, task, &control, &msg)? {
                self.touch_finished(job_id)?;
                out.push((job_id, idx, msg));
            }
        }
        Ok(out)
    }

    /// Requeues the tasks that workers of *other* hosts were running when their heartbeat
    /// stopped more than `stalled_after` ago: on a queue shared by several hosts a render
    /// node that lost power or network would otherwise hold its frames as "running" forever
    /// (its own host reaps its orphans only when a worker starts there again). Nothing is
    /// killed: a process id means nothing on another host. If that host was only cut off, its
    /// late result is ignored (the attempt is already closed) and the task may render twice,
    /// the price of never losing frames. Several live workers may look at once: each attempt
    /// is closed by one of them only.
    pub fn reap_stalled_hosts(
        &mut self,
        stalled_after: std::time::Duration,
    ) -> Result<Vec<(JobId, i64, String)>> {
        let here = crate::procs::render_host();
        let limit = i64::try_from(stalled_after.as_millis()).unwrap_or(i64::MAX);
        let before = now_ms().saturating_sub(limit);
        let rows: Vec<SilentAttempt> = self
            .conn
            .query_map(
                "SELECT a.id, t.id, t.job_id, t.idx, a.host, w.heartbeat_at, j.control
                   FROM render_attempts a JOIN render_tasks t ON t.id = a.task_id
                   JOIN render_jobs j ON j.id = t.job_id
                   JOIN render_workers w ON w.id = a.worker_id
                  WHERE a.outcome IS NULL AND a.executor = 'local' AND a.host <> ?1
                    AND w.heartbeat_at < ?2",
                params![here, before],
                |r| {
                    Ok(SilentAttempt {
                        attempt: r.get(0)?,
                        task: r.get(1)?,
                        job: r.get(2)?,
                        index: r.get(3)?,
                        host: r.get(4)?,
                        heartbeat_at: r.get(5)?,
                        control: r.get(6)?,
                    })
                },
            )
            .db("looking for stalled hosts")?;
        let mut out = Vec::new();
        for a in rows {
            let silent = now_ms().saturating_sub(a.heartbeat_at) / 1000;
            let msg = format!(
                "its worker on {} stopped answering (no heartbeat for {silent} s); requeued by {here}",
                a.host
            );
            if self.close_lost_attempt(a.attempt, a.task, &a.control, &msg)? {
                self.touch_finished(a.job)?;
                out.push((a.job, a.index, msg));
            }
        }
        Ok(out)
    }

    /// Closes an open attempt as lost (cancelled when its job was cancelled) and puts its task
    /// back in the queue, in one transaction; `false` when someone closed it first.
    fn close_lost_attempt(
        &mut self,
        attempt: i64,
        task: i64,
        control: &str,
        msg: &str,
    ) -> Result<bool> {
        let (outcome, state) = if control == "cancelled" {
            (Outcome::Cancelled, "cancelled")
        } else {
            (Outcome::Lost, "queued")
        };
        let tx = self.conn.plain_tx().db("requeueing a lost task")?;
        let closed = tx
            .execute(
                "UPDATE render_attempts SET outcome = ?1, ended_at = ?2, message = ?3
                  WHERE id = ?4 AND outcome IS NULL",
                params![outcome.as_str(), now_ms(), msg, attempt],
            )
            .db("requeueing a lost task")?;
        if closed == 0 {
            return Ok(false);
        }
        tx.execute(
            "UPDATE render_tasks SET state = ?1, message = ?2, progress = 0, frames_done = 0 WHERE id = ?3",
            params![state, msg, task],
        )
        .db("requeueing a lost task")?;
        tx.commit().db("requeueing a lost task")?;
        Ok(true)
    }

    /// The log file of a job's task attempt (`None`: the latest attempt).
    pub fn log_path(&self, id: JobId, index: i64, attempt: Option<i64>) -> Result<Option<PathBuf>> {
        Ok(self.log_of(id, index, attempt)?.map(|(p, _)| p))
    }

    /// The log file of a job's task attempt (`None`: the latest attempt) and the attempt's
    /// number.
    pub fn log_of(
        &self,
        id: JobId,
        index: i64,
        attempt: Option<i64>,
    ) -> Result<Option<(PathBuf, i64)>> {
        let task: i64 = self
            .conn
            .query_row(
                "SELECT id FROM render_tasks WHERE job_id = ?1 AND idx = ?2",
                params![id, index],
                |r| r.get(0),
            )
            .optional()
            .db("reading a task")?
            .ok_or_else(|| RenderError::Invalid(format!("job {id} has no task {index}")))?;
        let atts = self.attempts(task)?;
        let pick = match attempt {
            Some(n) => atts.into_iter().find(|a| a.number == n),
            None => atts.into_iter().last(),
        };
        Ok(pick.map(|a| (PathBuf::from(a.log), a.number)))
    }

    /// Finished jobs (`done`/`cancelled`, and `failed` unless `keep_failed`) whose last task
    /// ended more than `keep_days` ago and whose folder still exists.
    pub fn expired(&self, keep_days: u32, keep_failed: bool) -> Result<Vec<JobSummary>> {
        let cutoff = now_ms() - keep_days as i64 * 86_400_000;
        Ok(self
            .list(true)?
            .into_iter()
            .filter(|j| j.state.is_final())
            .filter(|j| !(keep_failed && j.state == JobState::Failed))
            .filter(|j| self.finished_ms(j.id).is_some_and(|f| f <= cutoff))
            .filter(|j| Path::new(&j.dir).exists())
            .collect())
    }

    fn finished_ms(&self, id: JobId) -> Option<i64> {
        self.conn
            .query_row(
                "SELECT finished_at FROM render_jobs WHERE id = ?1",
                params![id],
                |r| r.get(0),
            )
            .ok()
            .flatten()
    }
}

/// Tasks per INSERT when queueing a job: one statement per 100 tasks rather than one per task
/// (a round trip each on PostgreSQL), well under both backends' parameter limits.
const TASKS_PER_INSERT: usize = 100;

/// Inserts a job's tasks, queued, in index order.
fn insert_tasks(tx: &Conn, job: JobId, chunks: &[crate::chunk::Chunk]) -> Result<()> {
    for (n, batch) in chunks.chunks(TASKS_PER_INSERT).enumerate() {
        let mut rows = Vec::with_capacity(batch.len());
        let mut values = Vec::with_capacity(batch.len() * 6);
        for (k, c) in batch.iter().enumerate() {
            let p = values.len();
            rows.push(format!(
                "(?{}, ?{}, ?{}, ?{}, ?{}, ?{}, 'queued')",
                p + 1,
                p + 2,
                p + 3,
                p + 4,
                p + 5,
                p + 6
            ));
            let idx = (n * TASKS_PER_INSERT + k) as i64;
            values.extend_from_slice(params![job, idx, c.first, c.last, c.step, c.count as i64]);
        }
        tx.execute(
            &format!(
                "INSERT INTO render_tasks (job_id, idx, first_frame, last_frame, step, frame_count, state) VALUES {}",
                rows.join(", ")
            ),
            &values,
        )
        .db("inserting tasks")?;
    }
    Ok(())
}

/// An unfinished attempt: attempt, task, job, task index, pid, start, worker pid, worker
/// start, job control.
type OpenAttempt = (
    i64,
    i64,
    i64,
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    String,
);

const SUMMARY_SQL: &str = "SELECT j.id, j.name, j.preset, j.priority, j.frames, j.control, j.dir, j.submitted_at, j.finished_at,
    count(t.id), sum(CASE WHEN t.state = 'queued' THEN 1 ELSE 0 END),
    sum(CASE WHEN t.state = 'running' THEN 1 ELSE 0 END), sum(CASE WHEN t.state = 'done' THEN 1 ELSE 0 END),
    sum(CASE WHEN t.state = 'failed' THEN 1 ELSE 0 END), sum(CASE WHEN t.state = 'cancelled' THEN 1 ELSE 0 END),
    sum(t.frame_count),
    sum(CASE WHEN t.state = 'done' THEN t.frame_count ELSE t.frames_done END),
    sum(CASE WHEN t.state = 'done' THEN t.frame_count ELSE t.progress * t.frame_count END),
    EXISTS (SELECT 1 FROM render_job_deps d JOIN render_tasks dt ON dt.job_id = d.depends_on
            WHERE d.job_id = j.id AND dt.state != 'done'),
    {submitter}
  FROM render_jobs j LEFT JOIN render_tasks t ON t.job_id = j.id";

/// An open attempt of another host's worker whose heartbeat went silent.
struct SilentAttempt {
    attempt: i64,
    task: i64,
    job: JobId,
    index: i64,
    host: String,
    heartbeat_at: i64,
    control: String,
}

fn summary_row(r: &Row) -> shotline_store::sql::Result<JobSummary> {
    let n = |i: usize| -> shotline_store::sql::Result<u64> {
        Ok(r.get::<Option<i64>>(i)?.unwrap_or(0).max(0) as u64)
    };
    let tasks = TaskCounts {
        total: n(9)?,
        queued: n(10)?,
        running: n(11)?,
        done: n(12)?,
        failed: n(13)?,
        cancelled: n(14)?,
    };
    let frame_count = n(15)?;
    let weighted: f64 = r.get::<Option<f64>>(17)?.unwrap_or(0.0);
    let control: String = r.get(5)?;
    let blocked: bool = r.get(18)?;
    let state = derive_state(&tasks, &control, blocked);
    Ok(JobSummary {
        id: r.get(0)?,
        name: r.get(1)?,
        preset: r.get(2)?,
        priority: r.get(3)?,
        frames: r.get(4)?,
        dir: r.get(6)?,
        submitted_at: rfc3339(r.get(7)?),
        submitted_by: r.get(19)?,
        finished_at: r.get::<Option<i64>>(8)?.map(rfc3339),
        state,
        frame_count,
        frames_done: n(16)?,
        progress: if frame_count > 0 {
            (weighted / frame_count as f64).clamp(0.0, 1.0)
        } else {
            0.0
        },
        tasks,
        after: Vec::new(),
    })
}

/// The job state from task counts, the user's control and dependencies.
pub(crate) fn derive_state(t: &TaskCounts, control: &str, blocked: bool) -> JobState {
    if t.running > 0 {
        if control == "cancelled" {
            JobState::Cancelling
        } else {
            JobState::Running
        }
    } else if t.queued > 0 {
        if control == "paused" {
            JobState::Paused
        } else if blocked {
            JobState::Blocked
        } else {
            JobState::Queued
        }
    } else if control == "cancelled" {
        JobState::Cancelled
    } else if t.failed > 0 {
        JobState::Failed
    } else if t.cancelled > 0 {
        JobState::Cancelled
    } else {
        JobState::Done
    }
}

/// A read-only connection; where SQLite cannot set up its shared memory (a read-only folder
/// holding a WAL database), the file is read as immutable instead.
fn open_reader(db: &Path) -> Result<shotline_store::rusqlite::Connection> {
    use shotline_store::rusqlite::{self, Connection, OpenFlags};
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let probe = |c: Connection| -> rusqlite::Result<Connection> {
        c.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))?;
        Ok(c)
    };
    let plain = Connection::open_with_flags(db, flags).and_then(probe);
    match plain {
        Ok(c) => Ok(c),
        Err(first) => {
            let uri = format!("file:{}?immutable=1", db.display());
            Connection::open_with_flags(uri, flags | OpenFlags::SQLITE_OPEN_URI)
                .and_then(probe)
                .map_err(|_| shotline_store::sql::SqlError::from(first))
                .db(&format!("opening {} read-only", db.display()))
        }
    }
}

fn find_in(conn: &Conn, r: &JobRef) -> Result<JobId> {
    let found: Option<i64> = match r {
        JobRef::Id(i) => conn
            .query_row(
                "SELECT id FROM render_jobs WHERE id = ?1",
                params![i],
                |r| r.get(0),
            )
            .optional(),
        JobRef::Name(n) => conn
            .query_row(
                "SELECT id FROM render_jobs WHERE name = ?1 ORDER BY id DESC LIMIT 1",
                params![n],
                |r| r.get(0),
            )
            .optional(),
    }
    .db("looking up a job")?;
    found.ok_or_else(|| RenderError::NoSuchJob(r.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::JobSpec;

    fn job(yaml: &str) -> ResolvedJob {
        let spec = JobSpec::parse(yaml, Path::new("j.yaml")).unwrap();
        ResolvedJob::resolve(&spec, Path::new("/tmp"), &Default::default()).unwrap()
    }

    #[test]
    fn submit_cancel_retry_pause() {
        let dir = tempfile::tempdir().unwrap();
        submit_cancel_retry_pause_on(&dir.path().join("db/shotline.db"), dir.path());
    }

    /// The same on PostgreSQL; a read-only listing before the first job creates nothing.
    #[test]
    fn submit_cancel_retry_pause_on_postgres() {
        let Some(url) = shotline_store::testdb::fresh_pg_url() else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let db = PathBuf::from(url);
        assert!(Queue::open_read_only(&db, dir.path()).unwrap().is_none());
        let conn = open_conn(&db, 5000, OpenMode::ReadOnly).unwrap();
        assert!(!schema_render::table_exists(&conn, &db, "render_schema_version").unwrap());
        drop(conn);
        submit_cancel_retry_pause_on(&db, dir.path());
        let ro = Queue::open_read_only(&db, dir.path()).unwrap().unwrap();
        assert_eq!(ro.list(true).unwrap().len(), 2);
    }

    fn submit_cancel_retry_pause_on(db: &Path, dir: &Path) {
        let mut q = Queue::open(db, &dir.join("render"), 5000).unwrap();
        // Opening again finds the schema in place.
        drop(Queue::open(db, &dir.join("render"), 5000).unwrap());
        let id = q
            .submit(&job(
                "name: a\nframes: 1-5\nchunk: 2\ncommand: [echo, '{start}', '{end}']\n",
            ))
            .unwrap();
        assert_eq!(q.find("a").unwrap(), id);
        assert_eq!(q.find(&id.to_string()).unwrap(), id);
        assert!(matches!(q.find("nope"), Err(RenderError::NoSuchJob(_))));
        let s = q.summary(id).unwrap();
        assert_eq!(
            (s.state, s.tasks.total, s.frame_count),
            (JobState::Queued, 3, 5)
        );
        assert!(q.job_dir(id).join("job.json").is_file());
        assert!(q.set_paused(id, true).unwrap());
        assert_eq!(q.summary(id).unwrap().state, JobState::Paused);
        assert!(q.set_paused(id, false).unwrap());
        assert_eq!(q.cancel(id).unwrap(), 0);
        assert_eq!(q.summary(id).unwrap().state, JobState::Cancelled);
        assert!(!q.set_paused(id, true).unwrap());
        assert_eq!(q.retry(id).unwrap(), 3);
        assert_eq!(q.summary(id).unwrap().state, JobState::Queued);
        let dep = q
            .submit(&job("name: b\nframes: 1\nafter: [a]\ncommand: [echo]\n"))
            .unwrap();
        assert_eq!(q.summary(dep).unwrap().after, vec![id]);
        assert_eq!(q.summary(dep).unwrap().state, JobState::Blocked);
        assert!(q
            .submit(&job("frames: 1\nafter: [missing]\ncommand: [echo]\n"))
            .is_err());
    }

    /// Two workers' connections on one PostgreSQL queue: while one holds its claim open, the
    /// other skips the task (no wait, no second claim) and takes the next one.
    #[test]
    fn a_claimed_task_is_skipped_by_another_worker_on_postgres() {
        let Some(url) = shotline_store::testdb::fresh_pg_url() else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let db = PathBuf::from(url);
        let render = dir.path().join("render");
        let mut a = Queue::open(&db, &render, 5000).unwrap();
        let mut b = Queue::open(&db, &render, 5000).unwrap();
        a.submit(&job("frames: 1-2\nchunk: 1\ncommand: [true]\n"))
            .unwrap();
        let me = crate::procs::me();
        let wa = a.register_worker("host-a", me).unwrap();
        let wb = b.register_worker("host-b", me).unwrap();
        let seen = b.candidates(8).unwrap();
        assert_eq!(seen.len(), 2);
        let first = a.candidates(8).unwrap().remove(0);
        let claim = a
            .claim(&first, "local", "host-a", wa, 1, "")
            .unwrap()
            .unwrap();
        assert!(b
            .claim(&seen[0], "local", "host-b", wb, 1, "")
            .unwrap()
            .is_none());
        let second = b
            .claim(&seen[1], "local", "host-b", wb, 1, "")
            .unwrap()
            .unwrap();
        second.commit().unwrap();
        claim.commit().unwrap();
        // Committed: a claimed task is no longer claimable by anyone.
        assert!(b
            .claim(&seen[0], "local", "host-b", wb, 1, "")
            .unwrap()
            .is_none());
        let hosts: Vec<String> = a
            .tasks(1)
            .unwrap()
            .into_iter()
            .map(|t| t.attempt.unwrap().host)
            .collect();
        assert_eq!(hosts, ["host-a", "host-b"]);
    }

    /// A task left running by a dead worker of another host is that host's to requeue: its
    /// process id means nothing here.
    #[test]
    fn orphans_are_reaped_by_their_own_host_only() {
        let dir = tempfile::tempdir().unwrap();
        let mut q =
            Queue::open(&dir.path().join("q.db"), &dir.path().join("render"), 5000).unwrap();
        let id = q.submit(&job("frames: 1\ncommand: [true]\n")).unwrap();
        let me = crate::procs::me();
        let dead = crate::procs::ProcId {
            pid: me.pid,
            start: me.start + 1,
        };
        let w = q.register_worker("host-b", dead).unwrap();
        let c = q.candidates(1).unwrap().remove(0);
        q.claim(&c, "local", "host-b", w, 1, "")
            .unwrap()
            .unwrap()
            .commit()
            .unwrap();
        assert!(q.reap_orphans_of("host-a", None).unwrap().is_empty());
        assert_eq!(q.summary(id).unwrap().state, JobState::Running);
        let reaped = q.reap_orphans_of("host-b", Some(id)).unwrap();
        assert_eq!(reaped.len(), 1, "{reaped:?}");
        assert_eq!(q.summary(id).unwrap().state, JobState::Queued);
    }

    /// A render node that died with a task running: after its heartbeat has been silent past
    /// the limit, a worker of another host requeues the task (once, however many look).
    #[test]
    fn tasks_of_a_silent_host_are_requeued_by_another() {
        let dir = tempfile::tempdir().unwrap();
        let mut q =
            Queue::open(&dir.path().join("q.db"), &dir.path().join("render"), 5000).unwrap();
        let id = q.submit(&job("frames: 1\ncommand: [true]\n")).unwrap();
        let w = q.register_worker("node-gone", crate::procs::me()).unwrap();
        let c = q.candidates(1).unwrap().remove(0);
        q.claim(&c, "local", "node-gone", w, 1, "")
            .unwrap()
            .unwrap()
            .commit()
            .unwrap();
        let limit = std::time::Duration::from_secs(60);
        // A fresh heartbeat: the node is busy, not dead.
        assert!(q.reap_stalled_hosts(limit).unwrap().is_empty());
        q.conn
            .execute(
                "UPDATE render_workers SET heartbeat_at = ?1 WHERE id = ?2",
                params![now_ms() - 61_000, w],
            )
            .unwrap();
        let reaped = q.reap_stalled_hosts(limit).unwrap();
        assert_eq!(reaped.len(), 1, "{reaped:?}");
        assert!(reaped[0].2.contains("node-gone"), "{}", reaped[0].2);
        assert_eq!(q.summary(id).unwrap().state, JobState::Queued);
        let attempt = q.tasks(id).unwrap().remove(0).attempt.unwrap();
        assert_eq!(attempt.outcome.as_deref(), Some("lost"));
        // Nothing left to requeue: a second look (another live worker) changes nothing.
        assert!(q.reap_stalled_hosts(limit).unwrap().is_empty());
    }

    #[test]
    fn scene_snapshot_lands_in_the_job_folder() {
        let dir = tempfile::tempdir().unwrap();
        let scene = dir.path().join("shot.blend");
        std::fs::write(&scene, b"scene v1").unwrap();
        let mut q =
            Queue::open(&dir.path().join("q.db"), &dir.path().join("render"), 5000).unwrap();
        let yaml = format!(
            "frames: 1\nscene: {}\nsnapshot_scene: true\ncommand: [echo, '{{scene}}']\n",
            scene.display()
        );
        let id = q.submit(&job(&yaml)).unwrap();
        std::fs::write(&scene, b"scene v2, saved by the artist later").unwrap();
        let stored = q.job_spec(id).unwrap().scene.unwrap();
        assert!(
            stored.starts_with(q.job_dir(id).join("tmp")),
            "{}",
            stored.display()
        );
        assert_eq!(std::fs::read(stored).unwrap(), b"scene v1");
    }

    #[test]
    fn a_version_1_queue_migrates_and_keeps_its_jobs_local() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("q.db");
        {
            let conn = shotline_store::connect(&db).unwrap();
            conn.execute_batch(schema_render::sqlite_migration(1).unwrap())
                .unwrap();
            conn.execute_batch(
                "CREATE TABLE render_schema_version (version INTEGER NOT NULL);
                 INSERT INTO render_schema_version VALUES (1);
                 INSERT INTO render_jobs (name, preset, frames, spec, priority, control, dir, submitted_at)
                 VALUES ('old', 'generic', '1', '', 0, 'active', '', 0);",
            )
            .unwrap();
        }
        let q = Queue::open(&db, &dir.path().join("render"), 5000).unwrap();
        assert_eq!(q.executor_of(1).unwrap(), "local");
        let v: i64 = q
            .conn
            .query_row(
                "SELECT version FROM render_schema_version",
                params![],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(v, schema_render::RENDER_SCHEMA_VERSION);
        assert!(!q.has_farm_work().unwrap());
    }

    #[test]
    fn the_submitter_is_recorded_and_an_older_queue_reads_as_unknown() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("q.db");
        {
            // A version 2 queue holding one job, as an older shotline left it.
            let conn = shotline_store::connect(&db).unwrap();
            conn.execute_batch(schema_render::sqlite_migration(1).unwrap())
                .unwrap();
            conn.execute_batch(schema_render::sqlite_migration(2).unwrap())
                .unwrap();
            conn.execute_batch(
                "CREATE TABLE render_schema_version (version INTEGER NOT NULL);
                 INSERT INTO render_schema_version VALUES (2);
                 INSERT INTO render_jobs (name, preset, frames, spec, priority, control, dir, submitted_at)
                 VALUES ('old', 'generic', '1', '', 0, 'active', '', 0);",
            )
            .unwrap();
        }
        let ro = Queue::open_read_only(&db, dir.path()).unwrap().unwrap();
        assert_eq!(ro.summary(1).unwrap().submitted_by, None);
        assert_eq!(ro.list(true).unwrap()[0].submitted_by, None);
        drop(ro);
        let mut q = Queue::open(&db, &dir.path().join("render"), 5000).unwrap();
        let mut j = job("name: new\nframes: 1\ncommand: [true]\n");
        j.submitted_by = Some("ana".into());
        let id = q.submit(&j).unwrap();
        assert_eq!(q.summary(id).unwrap().submitted_by.as_deref(), Some("ana"));
        assert_eq!(q.summary(1).unwrap().submitted_by, None);
        assert_eq!(q.job_spec(id).unwrap().submitted_by.as_deref(), Some("ana"));
    }

    #[test]
    fn states_derive_from_tasks() {
        let c = |queued, running, done, failed| TaskCounts {
            total: 4,
            queued,
            running,
            done,
            failed,
            cancelled: 0,
        };
        assert_eq!(
            derive_state(&c(1, 1, 0, 0), "cancelled", false),
            JobState::Cancelling
        );
        assert_eq!(
            derive_state(&c(1, 0, 0, 0), "active", true),
            JobState::Blocked
        );
        assert_eq!(
            derive_state(&c(0, 0, 3, 1), "active", false),
            JobState::Failed
        );
        assert_eq!(
            derive_state(&c(0, 0, 4, 0), "active", false),
            JobState::Done
        );
    }
}
