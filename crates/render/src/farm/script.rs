//! The batch script of a Slurm job array: one script per shotline job, selecting its chunk's
//! command by `SLURM_ARRAY_TASK_ID`. Every placeholder is filled at submit exactly as the local
//! worker fills it, arguments are shell-quoted, and the exit status is left in a result file
//! (written to a temp name, then renamed) for the queue to read back.

use std::fmt::Write;
use std::path::Path;

use crate::error::Result;
use crate::job::ResolvedJob;
use crate::launch::{placeholder_values, shell_line, task_env, TaskSlot};
use crate::model::JobId;
use crate::template;

/// Threads a task gets when the job does not say (`--cpus-per-task`).
pub(crate) fn task_threads(job: &ResolvedJob) -> u32 {
    job.resources.threads.max(1)
}

/// The script text. `results` is the folder of the result files.
pub(crate) fn batch_script(
    job: &ResolvedJob,
    id: JobId,
    tmp: &Path,
    results: &Path,
) -> Result<String> {
    let mut s = String::new();
    let _ = writeln!(s, "#!/bin/bash");
    let _ = writeln!(
        s,
        "# shotline render job {id} ({}): one Slurm array task per chunk. Written by shotline; \
         the result file tells the queue how the task ended.",
        job.name.replace('\n', " ")
    );
    let _ = writeln!(s, "set -u");
    let _ = writeln!(
        s,
        "task=${{SLURM_ARRAY_TASK_ID:?this script runs as a Slurm array task}}"
    );
    let _ = writeln!(
        s,
        "result={}/task-$(printf %04d \"$task\").slurm-${{SLURM_ARRAY_JOB_ID}}.exit",
        shell_line([results.to_string_lossy()])
    );
    let _ = writeln!(s, "case $task in");
    let threads = task_threads(job);
    for (index, chunk) in job.chunks.iter().enumerate() {
        let slot = TaskSlot {
            job: id,
            index: index as i64,
            chunk,
            threads,
            gpus: &[],
            tmp: tmp.to_path_buf(),
        };
        let values = placeholder_values(job, &slot);
        let args = job
            .command
            .iter()
            .map(|a| template::expand(a, &values))
            .collect::<Result<Vec<_>>>()?;
        // Slurm sets CUDA_VISIBLE_DEVICES to the GPUs it gives the task (`--gres`).
        let mut env: Vec<(String, String)> = task_env(&slot)
            .into_iter()
            .filter(|(k, _)| k != "CUDA_VISIBLE_DEVICES")
            .collect();
        for (k, v) in &job.env {
            env.push((k.clone(), template::expand(v, &values)?));
        }
        let exports: Vec<String> = env
            .iter()
            .map(|(k, v)| shell_line([format!("{k}={v}")]))
            .collect();
        let _ = writeln!(
            s,
            "  {index}) env=({}); cmd=({}); line={} ;;",
            exports.join(" "),
            shell_line(&args),
            shell_line([shell_line(&args)])
        );
    }
    let _ = writeln!(
        s,
        "  *) echo \"shotline: job {id} has no task $task\" >&2; exit 2 ;;"
    );
    let _ = writeln!(s, "esac");
    let _ = writeln!(
        s,
        "cd {} || {{ rc=$?; printf '%s\\n' \"$rc\" > \"$result.tmp.$$\" && mv -f \"$result.tmp.$$\" \"$result\"; exit $rc; }}",
        shell_line([job.cwd.to_string_lossy()])
    );
    let _ = writeln!(s, "printf '# shotline: %s\\n' \"$line\"");
    let _ = writeln!(s, "env \"${{env[@]}}\" \"${{cmd[@]}}\" </dev/null");
    let _ = writeln!(s, "rc=$?");
    let _ = writeln!(
        s,
        "printf '%s\\n' \"$rc\" > \"$result.tmp.$$\" && mv -f \"$result.tmp.$$\" \"$result\""
    );
    let _ = writeln!(s, "exit $rc");
    Ok(s)
}

/// Array indices as Slurm's `--array` list, runs collapsed (`0-3,7,9-12`).
pub(crate) fn index_list(indices: &[i64]) -> String {
    let mut sorted = indices.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let start = sorted[i];
        let mut end = start;
        while i + 1 < sorted.len() && sorted[i + 1] == end + 1 {
            i += 1;
            end = sorted[i];
        }
        out.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
        i += 1;
    }
    out.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::JobSpec;

    #[test]
    fn index_lists_collapse_runs() {
        assert_eq!(index_list(&[0, 1, 2, 3, 7, 9, 10, 11, 12]), "0-3,7,9-12");
        assert_eq!(index_list(&[5]), "5");
        assert_eq!(index_list(&[3, 1, 2, 2]), "1-3");
    }

    #[test]
    fn script_runs_each_chunk_with_its_environment() {
        let dir = tempfile::tempdir().unwrap();
        let spec = JobSpec::parse(
            "frames: 1-5\nchunk: 2\ncommand: [sh, -c, 'echo \"$SHOTLINE_FRAMES {start}-{end} $A\" > out.$SHOTLINE_TASK', x]\nenv: {A: \"it's {task}\"}\n",
            Path::new("j.yaml"),
        )
        .unwrap();
        let job = ResolvedJob::resolve(&spec, dir.path(), &Default::default()).unwrap();
        let text = batch_script(&job, 3, dir.path(), dir.path()).unwrap();
        let script = dir.path().join("s.sh");
        std::fs::write(&script, text).unwrap();
        for task in 0..3 {
            let out = std::process::Command::new("bash")
                .arg(&script)
                .env("SLURM_ARRAY_TASK_ID", task.to_string())
                .env("SLURM_ARRAY_JOB_ID", "77")
                .output()
                .unwrap();
            assert!(out.status.success(), "{out:?}");
            assert!(String::from_utf8_lossy(&out.stdout).starts_with("# shotline: sh -c"));
        }
        assert_eq!(
            std::fs::read_to_string(dir.path().join("out.1")).unwrap(),
            "3-4 3-4 it's 1\n"
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("task-0002.slurm-77.exit")).unwrap(),
            "0\n"
        );
    }
}
