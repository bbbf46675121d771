//! Talking to Slurm through its own commands (`sbatch`, `squeue`, `scancel`, `scontrol`,
//! `sacct`), the interface every cluster offers to its users. Output is read in the
//! machine-readable forms (`--parsable`, `-h -o '%i|%T|%N|%r'`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{RenderError, Result};

/// One array task as `squeue` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TaskStatus {
    /// `PENDING`, `RUNNING`, `COMPLETED`, `FAILED`, `CANCELLED`, `TIMEOUT`, …
    pub state: String,
    /// The node it runs or ran on (empty while pending).
    pub node: String,
    /// Why it waits or ended (`Resources`, `Dependency`, `DependencyNeverSatisfied`, …).
    pub reason: String,
}

/// The Slurm commands, found in `bin_dir` or on `PATH`.
#[derive(Debug, Clone, Default)]
pub(crate) struct SlurmCli {
    pub bin_dir: Option<PathBuf>,
}

impl SlurmCli {
    fn command(&self, name: &str) -> Command {
        match &self.bin_dir {
            Some(d) => Command::new(d.join(name)),
            None => Command::new(name),
        }
    }

    /// Runs a Slurm command; its stdout, or an error with its stderr.
    fn run(&self, name: &str, args: &[String]) -> Result<String> {
        let out = self.command(name).args(args).output().map_err(|e| {
            RenderError::io(
                format!(
                    "cannot run {name} (is Slurm installed here? render.slurm.bin_dir names its folder)"
                ),
                e,
            )
        })?;
        if !out.status.success() {
            return Err(RenderError::Invalid(format!(
                "{name} failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Submits `script` with `args`; the new job's id.
    pub fn sbatch(&self, args: &[String], script: &Path) -> Result<String> {
        let mut all = vec!["--parsable".to_string()];
        all.extend(args.iter().cloned());
        all.push(script.to_string_lossy().into_owned());
        let out = self.run("sbatch", &all)?;
        // `--parsable` prints `id` or `id;cluster`.
        let id = out.trim().split(';').next().unwrap_or("").to_string();
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
            return Err(RenderError::Invalid(format!(
                "sbatch printed {:?} where a job id was expected",
                out.trim()
            )));
        }
        Ok(id)
    }

    /// Every array task of this user's jobs named `names` that Slurm still knows (pending,
    /// running, or finished within `MinJobAge`), keyed `job_task` (`123_4`). One call for the
    /// whole queue; names (unlike job ids) never make `squeue` fail once a job is purged.
    pub fn squeue(&self, names: &[String]) -> Result<HashMap<String, TaskStatus>> {
        let mut args: Vec<String> = ["--me", "-h", "-r", "-t", "all", "-o", "%i|%T|%N|%r"]
            .map(String::from)
            .to_vec();
        if !names.is_empty() {
            args.push(format!("--name={}", names.join(",")));
        }
        Ok(parse_squeue(&self.run("squeue", &args)?))
    }

    /// Cancels jobs (whole arrays or `123_4` tasks).
    pub fn scancel(&self, ids: &[String]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        self.run("scancel", ids).map(|_| ())
    }

    /// Holds (`scontrol hold`) or releases the pending tasks of jobs; running ones go on.
    pub fn hold(&self, ids: &[String], hold: bool) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut args = vec![if hold { "hold" } else { "release" }.to_string()];
        args.extend(ids.iter().cloned());
        self.run("scontrol", &args).map(|_| ())
    }

    /// Makes a pending job wait for `dependency` (`afterok:12:13`) instead.
    pub fn set_dependency(&self, job: &str, dependency: &str) -> Result<()> {
        self.run(
            "scontrol",
            &[
                "update".into(),
                format!("JobId={job}"),
                format!("Dependency={dependency}"),
            ],
        )
        .map(|_| ())
    }

    /// How a task Slurm no longer lists ended, from accounting (`None` where accounting is
    /// off or does not know it): `(state, exit code)`.
    pub fn sacct(&self, task: &str) -> Option<(String, Option<i32>)> {
        let args: Vec<String> = ["-n", "-X", "-P", "-o", "State,ExitCode", "-j", task]
            .map(String::from)
            .to_vec();
        let out = self.run("sacct", &args).ok()?;
        let line = out.lines().find(|l| !l.trim().is_empty())?;
        let (state, exit) = line.split_once('|')?;
        let code = exit.split(':').next().and_then(|c| c.trim().parse().ok());
        Some((state.split_whitespace().next()?.to_string(), code))
    }
}

/// `123_4|RUNNING|node1|None` lines → map.
pub(crate) fn parse_squeue(text: &str) -> HashMap<String, TaskStatus> {
    text.lines()
        .filter_map(|l| {
            let mut f = l.trim().splitn(4, '|');
            let id = f.next()?.trim();
            let state = f.next()?.trim();
            if id.is_empty() || state.is_empty() {
                return None;
            }
            Some((
                id.to_string(),
                TaskStatus {
                    state: state.to_string(),
                    node: f.next().unwrap_or("").trim().to_string(),
                    reason: f.next().unwrap_or("").trim().to_string(),
                },
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn squeue_lines() {
        let m = parse_squeue("12_0|RUNNING|vm|None\n12_1|PENDING||Dependency\n\ngarbage\n");
        assert_eq!(m.len(), 2);
        assert_eq!(m["12_0"].node, "vm");
        assert_eq!(m["12_1"].reason, "Dependency");
    }
}
