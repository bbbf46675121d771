//! The queue's side of farm jobs: which tasks still need submitting, which attempts are open on
//! the farm, and recording a submission (one array row, one attempt per task) in one
//! transaction.

use std::path::{Path, PathBuf};

use shotline_store::sql::{params, SqlError};

use crate::chunk::Chunk;
use crate::clock::now_ms;
use crate::error::{DbContext, RenderError, Result};
use crate::model::JobId;
use crate::queue::Queue;

/// An attempt open on a farm.
#[derive(Debug, Clone)]
pub(crate) struct OpenFarmAttempt {
    pub attempt: i64,
    pub task: i64,
    pub job: JobId,
    pub index: i64,
    pub number: i64,
    pub failures: i64,
    /// The task's state in the queue (`queued` while pending on the farm, `running`, or
    /// `cancelled` when a user cancelled it).
    pub state: String,
    /// `123_4`.
    pub farm_task: String,
    pub log: PathBuf,
    pub chunk: Chunk,
}

/// A task to send to the farm: queue id and index in its job.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TaskRef {
    pub id: i64,
    pub index: i64,
}

impl Queue {
    /// The executor a job was submitted to (`local`, `slurm`).
    pub fn executor_of(&self, id: JobId) -> Result<String> {
        self.conn
            .query_row(
                "SELECT executor FROM render_jobs WHERE id = ?1",
                params![id],
                |r| r.get(0),
            )
            .map_err(|e| match e {
                SqlError::NoRows => RenderError::NoSuchJob(id.to_string()),
                e => RenderError::Db {
                    context: "reading a job".into(),
                    source: e,
                },
            })
    }

    /// True when some farm job has an open attempt or a queued task not yet sent: a status
    /// read must ask the farm first.
    pub fn has_farm_work(&self) -> Result<bool> {
        self.conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM render_attempts WHERE executor != 'local' AND outcome IS NULL)
                     OR EXISTS (SELECT 1 FROM render_tasks t JOIN render_jobs j ON j.id = t.job_id
                                WHERE j.executor != 'local' AND t.state = 'queued')",
                params![],
                |r| r.get(0),
            )
            .db("looking for farm jobs")
    }

    /// Attempts open on the farm, of one job or all.
    pub(crate) fn farm_open_attempts(&self, job: Option<JobId>) -> Result<Vec<OpenFarmAttempt>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT a.id, t.id, t.job_id, t.idx, a.number, t.failures, t.state, a.farm_task, a.log_path,
                        t.first_frame, t.last_frame, t.step, t.frame_count
                 FROM render_attempts a JOIN render_tasks t ON t.id = a.task_id
                 WHERE a.executor != 'local' AND a.outcome IS NULL AND a.farm_task IS NOT NULL
                   AND (CAST(?1 AS BIGINT) IS NULL OR t.job_id = ?1)
                 ORDER BY t.job_id, t.idx",
            )
            .db("reading farm attempts")?;
        let rows = stmt
            .query_map(params![job], |r| {
                Ok(OpenFarmAttempt {
                    attempt: r.get(0)?,
                    task: r.get(1)?,
                    job: r.get(2)?,
                    index: r.get(3)?,
                    number: r.get(4)?,
                    failures: r.get(5)?,
                    state: r.get(6)?,
                    farm_task: r.get(7)?,
                    log: PathBuf::from(r.get::<String>(8)?),
                    chunk: Chunk {
                        first: r.get(9)?,
                        last: r.get(10)?,
                        step: r.get(11)?,
                        count: r.get::<i64>(12)?.max(0) as u64,
                    },
                })
            })
            .db("reading farm attempts")?;
        rows.collect::<Result<_, _>>().db("reading farm attempts")
    }

    /// Queued tasks of an active job that have no open attempt: what the next submission sends.
    pub(crate) fn farm_unsubmitted(&self, job: JobId) -> Result<Vec<TaskRef>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT t.id, t.idx FROM render_tasks t JOIN render_jobs j ON j.id = t.job_id
                 WHERE t.job_id = ?1 AND t.state = 'queued' AND j.control = 'active'
                   AND NOT EXISTS (SELECT 1 FROM render_attempts a WHERE a.task_id = t.id AND a.outcome IS NULL)
                 ORDER BY t.idx",
            )
            .db("reading tasks to submit")?;
        let rows = stmt
            .query_map(params![job], |r| {
                Ok(TaskRef {
                    id: r.get(0)?,
                    index: r.get(1)?,
                })
            })
            .db("reading tasks to submit")?;
        rows.collect::<Result<_, _>>().db("reading tasks to submit")
    }

    /// Farm jobs (array ids) of `job` that still have open attempts.
    pub(crate) fn farm_open_arrays(&self, job: JobId) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT f.farm_job FROM render_farm_arrays f WHERE f.job_id = ?1
                   AND EXISTS (SELECT 1 FROM render_attempts a JOIN render_tasks t ON t.id = a.task_id
                               WHERE t.job_id = ?1 AND a.outcome IS NULL
                                 AND a.farm_task LIKE f.farm_job || '\\_%' ESCAPE '\\')
                 ORDER BY f.id",
            )
            .db("reading farm submissions")?;
        let rows = stmt
            .query_map(params![job], |r| r.get(0))
            .db("reading farm submissions")?;
        rows.collect::<Result<_, _>>()
            .db("reading farm submissions")
    }

    /// Jobs that wait for `job`.
    pub(crate) fn dependents(&self, job: JobId) -> Result<Vec<JobId>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT job_id FROM render_job_deps WHERE depends_on = ?1 ORDER BY job_id",
            )
            .db("reading dependencies")?;
        let rows = stmt
            .query_map(params![job], |r| r.get(0))
            .db("reading dependencies")?;
        rows.collect::<Result<_, _>>().db("reading dependencies")
    }

    /// Records one farm submission: the array, and for each task a new attempt (its number,
    /// its farm task `farm_job_index`, its log in `logs`), all in one transaction.
    pub(crate) fn farm_record_submission(
        &mut self,
        job: JobId,
        farm: &str,
        farm_job: &str,
        tasks: &[TaskRef],
        threads: u32,
        logs: &Path,
    ) -> Result<()> {
        let now = now_ms();
        let tx = self.conn.plain_tx().db("recording a farm submission")?;
        let list: Vec<String> = tasks.iter().map(|t| t.index.to_string()).collect();
        tx.execute(
            "INSERT INTO render_farm_arrays (job_id, farm, farm_job, tasks, submitted_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![job, farm, farm_job, list.join(","), now],
        )
        .db("recording a farm submission")?;
        for t in tasks {
            let number: i64 = tx
                .query_row(
                    "UPDATE render_tasks SET attempts = attempts + 1, frames_done = 0, progress = 0, message = NULL
                     WHERE id = ?1 RETURNING attempts",
                    params![t.id],
                    |r| r.get(0),
                )
                .db("recording a farm submission")?;
            let log = logs.join(format!("task-{:04}.slurm-{farm_job}.log", t.index));
            tx.execute(
                "INSERT INTO render_attempts (task_id, number, executor, host, threads, gpus, log_path, started_at, farm_task)
                 VALUES (?1, ?2, ?3, '', ?4, '', ?5, ?6, ?7)",
                params![
                    t.id,
                    number,
                    farm,
                    threads,
                    log.to_string_lossy(),
                    now,
                    format!("{farm_job}_{}", t.index)
                ],
            )
            .db("recording a farm submission")?;
        }
        tx.commit().db("committing a farm submission")
    }

    /// A farm task started on `host`: the task runs, the attempt names its node.
    pub(crate) fn farm_mark_running(&self, attempt: i64, task: i64, host: &str) -> Result<()> {
        self.conn
            .execute(
                "UPDATE render_tasks SET state = 'running' WHERE id = ?1 AND state = 'queued'",
                params![task],
            )
            .db("recording a farm task start")?;
        self.conn
            .execute(
                "UPDATE render_attempts SET host = ?1 WHERE id = ?2 AND host != ?1",
                params![host, attempt],
            )
            .db("recording a farm task start")?;
        Ok(())
    }

    /// Fails the queued tasks of a job that could not be sent to the farm, with the reason.
    pub(crate) fn farm_fail_unsubmitted(&mut self, job: JobId, message: &str) -> Result<()> {
        self.conn
            .execute(
                "UPDATE render_tasks SET state = 'failed', message = ?1
                 WHERE job_id = ?2 AND state = 'queued'
                   AND NOT EXISTS (SELECT 1 FROM render_attempts a WHERE a.task_id = render_tasks.id AND a.outcome IS NULL)",
                params![message, job],
            )
            .db("failing unsubmitted tasks")?;
        self.touch_finished(job)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::ResolvedJob;
    use crate::spec::JobSpec;

    /// Every farm statement of the queue on both backends: a submission recorded, its task
    /// started on a node, the open attempts and arrays read back, the rest failed.
    fn farm_bookkeeping_on(db: &Path, dir: &Path) {
        let mut q = Queue::open(db, &dir.join("render"), 5000).unwrap();
        let spec = JobSpec::parse(
            "frames: 1-2\nchunk: 1\ncommand: [true]\n",
            Path::new("j.yaml"),
        )
        .unwrap();
        let job = ResolvedJob::resolve(&spec, Path::new("/tmp"), &Default::default()).unwrap();
        let id = q.submit_as(&job, "slurm").unwrap();
        assert_eq!(q.executor_of(id).unwrap(), "slurm");
        assert!(matches!(
            q.executor_of(id + 1),
            Err(RenderError::NoSuchJob(_))
        ));
        assert!(q.has_farm_work().unwrap());
        let todo = q.farm_unsubmitted(id).unwrap();
        assert_eq!(todo.len(), 2);
        q.farm_record_submission(id, "slurm", "77", &todo[..1], 2, &dir.join("logs"))
            .unwrap();
        assert_eq!(q.farm_unsubmitted(id).unwrap().len(), 1);
        let open = q.farm_open_attempts(Some(id)).unwrap();
        assert_eq!(open.len(), 1);
        assert_eq!((open[0].farm_task.as_str(), open[0].number), ("77_0", 1));
        assert_eq!(q.farm_open_attempts(None).unwrap().len(), 1);
        q.farm_mark_running(open[0].attempt, open[0].task, "node1")
            .unwrap();
        assert_eq!(q.farm_open_arrays(id).unwrap(), ["77"]);
        assert!(q.dependents(id).unwrap().is_empty());
        q.farm_fail_unsubmitted(id, "no farm").unwrap();
        let tasks = q.tasks(id).unwrap();
        assert_eq!(tasks[0].state, "running");
        assert_eq!(tasks[0].attempt.as_ref().unwrap().host, "node1");
        assert_eq!(tasks[1].state, "failed");
    }

    #[test]
    fn farm_bookkeeping_on_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        farm_bookkeeping_on(&dir.path().join("q.db"), dir.path());
    }

    #[test]
    fn farm_bookkeeping_on_postgres() {
        let Some(url) = shotline_store::testdb::fresh_pg_url() else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        farm_bookkeeping_on(&PathBuf::from(url), dir.path());
    }
}
