//! Launch: turning a claimed task into the exact process to start: the command template
//! expanded for its chunk, the program resolved on `PATH` once per name, and the environment
//! (threads, GPUs, job facts) the renderer sees.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::chunk::Chunk;
use crate::error::Result;
use crate::executor::Launch;
use crate::job::ResolvedJob;
use crate::model::JobId;
use crate::progress::{ProgressParser, ProgressRules};
use crate::template::{self, Values};

/// The facts of one claimed task that its command line and environment are made from.
#[derive(Debug, Clone)]
pub struct TaskSlot<'a> {
    /// The job.
    pub job: JobId,
    /// The task's index in the job.
    pub index: i64,
    /// Its frames.
    pub chunk: &'a Chunk,
    /// Threads given to it.
    pub threads: u32,
    /// GPUs given to it (indices as `CUDA_VISIBLE_DEVICES` counts them).
    pub gpus: &'a [u32],
    /// The job's temporary folder.
    pub tmp: PathBuf,
}

impl TaskSlot<'_> {
    /// `0,1`: the GPUs as `CUDA_VISIBLE_DEVICES` and `{gpu}` spell them.
    pub fn gpu_list(&self) -> String {
        gpu_list(self.gpus)
    }
}

/// `0,1` for GPUs 0 and 1; empty for none (which hides every GPU from CUDA).
pub fn gpu_list(gpus: &[u32]) -> String {
    gpus.iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// Where a log goes and how big it may grow.
#[derive(Debug, Clone)]
pub struct LogSpec {
    /// The attempt's log file.
    pub path: PathBuf,
    /// Cap in bytes (0: none).
    pub max_bytes: u64,
}

/// Builds [`Launch`]es, remembering where each program was found.
#[derive(Debug, Default)]
pub struct Launcher {
    /// Resolved executables (`PATH` looked up once per name, not once per task).
    programs: HashMap<String, String>,
}

impl Launcher {
    /// The launch of attempt `attempt` of `slot`'s task of `job`.
    pub fn build(
        &mut self,
        job: &ResolvedJob,
        rules: &ProgressRules,
        slot: &TaskSlot<'_>,
        attempt: i64,
        log: LogSpec,
    ) -> Result<Launch> {
        let values = placeholder_values(job, slot);
        let mut args = Vec::with_capacity(job.command.len());
        for a in &job.command {
            args.push(template::expand(a, &values)?);
        }
        // The command is never empty: resolving the job checks it.
        let mut program = if args.is_empty() {
            String::new()
        } else {
            args.remove(0)
        };
        if !job.env.contains_key("PATH") {
            program = self
                .programs
                .entry(program.clone())
                .or_insert_with(|| which(&program).unwrap_or(program))
                .clone();
        }
        let mut env = task_env(slot);
        for (k, val) in &job.env {
            env.push((k.clone(), template::expand(val, &values)?));
        }
        Ok(Launch {
            attempt,
            program,
            args,
            env,
            cwd: job.cwd.clone(),
            log: log.path,
            log_max_bytes: log.max_bytes,
            parser: ProgressParser::new(rules.clone(), slot.chunk.count),
        })
    }
}

/// The values of the command template's placeholders for one task.
pub(crate) fn placeholder_values(job: &ResolvedJob, slot: &TaskSlot<'_>) -> Values {
    let mut v = Values::new();
    v.insert("start", slot.chunk.first.to_string());
    v.insert("end", slot.chunk.last.to_string());
    v.insert("step", slot.chunk.step.to_string());
    v.insert("count", slot.chunk.count.to_string());
    v.insert("frames", slot.chunk.range());
    v.insert("output", job.output.clone().unwrap_or_default());
    v.insert(
        "scene",
        job.scene
            .as_ref()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
    );
    v.insert("layer", job.layer.clone().unwrap_or_default());
    v.insert("threads", slot.threads.to_string());
    v.insert("gpu", slot.gpu_list());
    v.insert("job", slot.job.to_string());
    v.insert("task", slot.index.to_string());
    v.insert("tmp", slot.tmp.to_string_lossy().into_owned());
    v
}

/// The environment every task gets: its threads and GPUs, and what it renders.
pub(crate) fn task_env(slot: &TaskSlot<'_>) -> Vec<(String, String)> {
    let threads = slot.threads.to_string();
    vec![
        ("CUDA_VISIBLE_DEVICES".into(), slot.gpu_list()),
        ("OMP_NUM_THREADS".into(), threads.clone()),
        ("SHOTLINE_THREADS".into(), threads),
        ("SHOTLINE_JOB".into(), slot.job.to_string()),
        ("SHOTLINE_TASK".into(), slot.index.to_string()),
        ("SHOTLINE_FRAMES".into(), slot.chunk.range()),
        (
            "SHOTLINE_JOB_TMP".into(),
            slot.tmp.to_string_lossy().into_owned(),
        ),
    ]
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

/// A command line a POSIX shell runs as these exact arguments: the log's first line, so a
/// failed render can be copied and re-run by hand.
pub fn shell_line<S: AsRef<str>>(args: impl IntoIterator<Item = S>) -> String {
    args.into_iter()
        .map(|a| shell_quote(a.as_ref()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// One argument, single-quoted unless it only holds characters no shell treats specially.
fn shell_quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c));
    if plain {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_line_quotes_what_a_shell_would_split_or_expand() {
        assert_eq!(
            shell_line([
                "blender",
                "-b",
                "/a b/sh010.blend",
                "it's",
                "",
                "$HOME",
                "-o",
                "r/#.exr"
            ]),
            r#"blender -b '/a b/sh010.blend' 'it'\''s' '' '$HOME' -o 'r/#.exr'"#
        );
    }

    #[test]
    fn shell_line_round_trips_through_sh() {
        let args = ["printf", "%s|", "a b", "it's", "$x", "*", "\"q\""];
        let out = std::process::Command::new("sh")
            .args(["-c", &shell_line(args)])
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "a b|it's|$x|*|\"q\"|");
    }
}
