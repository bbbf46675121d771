//! `render ls`, `render status`, `render logs`: reading the queue from any shell.

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, Result};
use serde::Serialize;
use shotline_render::{JobState, Queue};

use super::{open_queue, pct, split_job_task};
use crate::context::Ctx;
use crate::output::{Exit, Style};

const LS_EXAMPLES: &str = "\
Examples:
  shotline render ls                 active jobs and those finished in the last day
  shotline render ls --all --json    every job: {\"jobs\": [JobSummary…]} (docs/render.md)";

/// Arguments of `render ls`.
#[derive(Debug, clap::Args)]
#[command(after_help = LS_EXAMPLES)]
pub struct LsArgs {
    /// Include jobs finished more than a day ago.
    #[arg(long)]
    pub all: bool,
}

const STATUS_EXAMPLES: &str = "\
Examples:
  shotline render status 12              tasks, attempts, progress, pids, errors
  shotline render status sh010_light     the latest job of that name
  shotline render status 12 --json | jq '.task_list[] | select(.state==\"failed\")'
Exit codes: 0 job fine or still running, 1 job failed, 2 no such job.";

/// A job by id or name.
#[derive(Debug, clap::Args)]
#[command(after_help = STATUS_EXAMPLES)]
pub struct JobArg {
    /// Job id or name.
    #[arg(value_name = "JOB")]
    pub job: String,
}

const LOGS_EXAMPLES: &str = "\
Examples:
  shotline render logs 12            the latest attempt log of every task
  shotline render logs 12/3          task 3's latest attempt
  shotline render logs 12/3 --attempt 1
  shotline render logs 12 -f         follow every task until the job is finished
--json prints {\"job\", \"task\", \"attempt\", \"line\"} per line.";

/// Arguments of `render logs`.
#[derive(Debug, clap::Args)]
#[command(after_help = LOGS_EXAMPLES)]
pub struct LogsArgs {
    /// `JOB` or `JOB/TASK` (task index as in `render status`).
    #[arg(value_name = "JOB[/TASK]")]
    pub target: String,
    /// Keep printing new output until the job (or task) is finished.
    #[arg(short, long)]
    pub follow: bool,
    /// A specific attempt number (default: the latest).
    #[arg(long)]
    pub attempt: Option<i64>,
}

#[derive(Serialize)]
struct Jobs<'a> {
    jobs: &'a [shotline_render::JobSummary],
}

fn state_cell(ctx: &Ctx, s: JobState) -> String {
    let style = match s {
        JobState::Done => Style::Green,
        JobState::Failed => Style::Red,
        JobState::Running => Style::Cyan,
        JobState::Cancelled | JobState::Cancelling | JobState::Paused | JobState::Blocked => {
            Style::Yellow
        }
        JobState::Queued => Style::Dim,
    };
    ctx.out.paint(s.as_str(), style)
}

/// `render ls`.
pub fn ls(a: &LsArgs, ctx: &Ctx) -> Result<Exit> {
    // Listing never writes: a read-only database, or one that never held a job, lists empty.
    let jobs = match super::open_queue_read_only(ctx)? {
        // Farm jobs' states come from the farm first, which writes to the queue.
        Some(queue) if queue.has_farm_work()? => {
            drop(queue);
            let mut queue = open_queue(ctx)?;
            super::farm::sync(ctx, &mut queue)?;
            queue.list(a.all)?
        }
        Some(queue) => queue.list(a.all)?,
        None => Vec::new(),
    };
    if ctx.out.json() {
        ctx.out.json_doc(&Jobs { jobs: &jobs })?;
        return Ok(Exit::Clean);
    }
    if jobs.is_empty() {
        ctx.out
            .note("no render jobs (submit one with `shotline render submit`)");
        return Ok(Exit::Clean);
    }
    let rows: Vec<Vec<String>> = jobs
        .iter()
        .map(|j| {
            vec![
                j.id.to_string(),
                j.name.clone(),
                state_cell(ctx, j.state),
                j.preset.clone(),
                j.frames.clone(),
                format!("{}/{}", j.tasks.done, j.tasks.total),
                format!("{}/{}", j.frames_done, j.frame_count),
                pct(j.progress),
                j.priority.to_string(),
                j.submitted_at.clone(),
                j.submitted_by.clone().unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    ctx.out.table(
        &[
            "ID",
            "NAME",
            "STATE",
            "PRESET",
            "FRAMES",
            "TASKS",
            "DONE",
            "PROGRESS",
            "PRIO",
            "SUBMITTED",
            "BY",
        ],
        &rows,
    )?;
    Ok(Exit::Clean)
}

/// `render status JOB`.
pub fn status(a: &JobArg, ctx: &Ctx) -> Result<Exit> {
    let mut queue = open_queue(ctx)?;
    super::farm::sync(ctx, &mut queue)?;
    let id = queue.find(&a.job)?;
    let d = queue.detail(id)?;
    let failed = d.job.state == JobState::Failed;
    if ctx.out.json() {
        ctx.out.json_doc(&d)?;
        return Ok(Exit::problems_if(failed));
    }
    let j = &d.job;
    let out = &ctx.out;
    out.line(format!(
        "job {} {}  {}  {} frames {} ({}/{} done, {})",
        j.id,
        out.paint(&j.name, Style::Bold),
        state_cell(ctx, j.state),
        j.preset,
        j.frames,
        j.frames_done,
        j.frame_count,
        pct(j.progress)
    ))?;
    if !j.after.is_empty() {
        out.line(format!("after   {:?}", j.after))?;
    }
    if let Some(o) = &d.output {
        out.line(format!("output  {o}"))?;
    }
    out.line(format!(
        "by      {} at {}",
        j.submitted_by.as_deref().unwrap_or("-"),
        j.submitted_at
    ))?;
    out.line(format!("folder  {}", j.dir))?;
    let rows: Vec<Vec<String>> = d
        .task_list
        .iter()
        .map(|t| {
            let a = t.attempt.as_ref();
            vec![
                t.index.to_string(),
                t.frames.clone(),
                t.state.clone(),
                t.attempts.to_string(),
                format!("{}/{}", t.frames_done, t.frame_count),
                pct(t.progress),
                // A local task's process, or a farm task's id (`123_4`) while it is there.
                a.and_then(|a| a.pid.map(|p| p.to_string()).or(a.farm_task.clone()))
                    .filter(|_| t.state == "running" || t.state == "queued")
                    .unwrap_or_default(),
                t.message.clone().unwrap_or_default(),
            ]
        })
        .collect();
    out.table(
        &[
            "TASK", "FRAMES", "STATE", "ATTEMPTS", "DONE", "PROGRESS", "PID/FARM", "MESSAGE",
        ],
        &rows,
    )?;
    Ok(Exit::problems_if(failed))
}

#[derive(Serialize)]
struct LogLine<'a> {
    job: i64,
    task: i64,
    attempt: i64,
    line: &'a str,
}

/// `render logs JOB[/TASK] [-f]`.
pub fn logs(a: &LogsArgs, ctx: &Ctx) -> Result<Exit> {
    let mut queue = open_queue(ctx)?;
    let (job_key, task) = split_job_task(&a.target);
    let id = queue.find(job_key)?;
    let farm = super::farm::sync(ctx, &mut queue)?;
    let task: Option<i64> = task.map(|t| t.parse()).transpose().context("task index")?;
    let tasks: Vec<i64> = match task {
        Some(t) => vec![t],
        None => queue.tasks(id)?.iter().map(|t| t.index).collect(),
    };
    let prefix = tasks.len() > 1;
    // Per task: (log, attempt number, bytes printed, partial line).
    let mut state: BTreeMap<i64, (PathBuf, i64, u64, Vec<u8>)> = BTreeMap::new();
    loop {
        let mut all_final = true;
        for &t in &tasks {
            let Some((path, number)) = queue.log_of(id, t, a.attempt)? else {
                all_final &= !a.follow || task_final(&queue, id, t)?;
                continue;
            };
            let entry = state
                .entry(t)
                .or_insert_with(|| (path.clone(), number, 0, Vec::new()));
            if entry.0 != path {
                // A retry started a new log: finish the old one first.
                print_new(ctx, id, t, entry, prefix)?;
                flush_partial(ctx, id, t, entry, prefix)?;
                *entry = (path.clone(), number, 0, Vec::new());
            }
            if !prefix && !a.follow && !ctx.out.json() {
                ctx.out.note(format!("==> {} <==", path.display()));
            }
            print_new(ctx, id, t, entry, prefix)?;
            let final_now = task_final(&queue, id, t)?;
            if final_now {
                // Drain what was written before the end.
                print_new(ctx, id, t, entry, prefix)?;
                flush_partial(ctx, id, t, entry, prefix)?;
            }
            all_final &= final_now || a.attempt.is_some();
        }
        if !a.follow || all_final {
            for (t, entry) in state.iter_mut() {
                flush_partial(ctx, id, *t, entry, prefix)?;
            }
            return Ok(Exit::Clean);
        }
        ctx.out.flush();
        if farm {
            // A farm's state comes from its scheduler: ask it once a second, not five times.
            std::thread::sleep(super::farm::POLL);
            super::farm::sync(ctx, &mut queue)?;
        } else {
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

fn task_final(queue: &Queue, id: i64, index: i64) -> Result<bool> {
    Ok(queue
        .tasks(id)?
        .iter()
        .find(|t| t.index == index)
        .is_none_or(|t| matches!(t.state.as_str(), "done" | "failed" | "cancelled")))
}

fn print_new(
    ctx: &Ctx,
    job: i64,
    task: i64,
    entry: &mut (PathBuf, i64, u64, Vec<u8>),
    prefix: bool,
) -> Result<()> {
    let Ok(mut f) = std::fs::File::open(&entry.0) else {
        return Ok(());
    };
    f.seek(SeekFrom::Start(entry.2))?;
    let mut buf = Vec::new();
    f.read_to_end(&mut buf)?;
    entry.2 += buf.len() as u64;
    entry.3.extend_from_slice(&buf);
    while let Some(i) = entry.3.iter().position(|&b| b == b'\n') {
        let line: Vec<u8> = entry.3.drain(..=i).collect();
        emit(
            ctx,
            job,
            task,
            entry.1,
            &String::from_utf8_lossy(&line[..line.len() - 1]),
            prefix,
        )?;
    }
    Ok(())
}

fn flush_partial(
    ctx: &Ctx,
    job: i64,
    task: i64,
    entry: &mut (PathBuf, i64, u64, Vec<u8>),
    prefix: bool,
) -> Result<()> {
    if !entry.3.is_empty() {
        let line = String::from_utf8_lossy(&entry.3).into_owned();
        entry.3.clear();
        emit(ctx, job, task, entry.1, &line, prefix)?;
    }
    Ok(())
}

fn emit(ctx: &Ctx, job: i64, task: i64, attempt: i64, line: &str, prefix: bool) -> Result<()> {
    if ctx.out.json() {
        ctx.out.json_line(&LogLine {
            job,
            task,
            attempt,
            line,
        })?;
    } else if prefix {
        ctx.out.line(format!(
            "{} {line}",
            ctx.out.paint(format!("[{task}]"), Style::Dim)
        ))?;
    } else {
        ctx.out.line(line)?;
    }
    Ok(())
}
