//! Deadline: a job info file and a plugin info file for the CommandLine plugin, ready for
//! `deadlinecommand JOBINFO PLUGININFO`. Deadline cuts the sorted frame list into `ChunkSize`
//! frames per task and passes each task's first and last frame (`<STARTFRAME>`,
//! `<ENDFRAME>`), so a job is exported only when that cut gives exactly the queue's chunks.

use std::fmt::Write;

use super::{
    common_spelling, expand_all, file_stem, job_env, uniform_step, ExportFormat, Exportable,
    Metadata, Spelling,
};
use crate::chunk::Chunk;
use crate::error::{RenderError, Result};
use crate::job::ResolvedJob;
use crate::pattern::OutputPattern;

/// Deadline's priority range.
const PRIORITY_MAX: i64 = 100;

/// `(job info, plugin info)` file texts.
pub(super) fn files(job: &ResolvedJob, meta: &Metadata) -> Result<(String, String)> {
    let step = uniform_step(&job.chunks).ok_or_else(|| {
        RenderError::Invalid(
            "cannot export to deadline: the job's chunks step differently, and a Deadline task has one start and end frame only".into(),
        )
    })?;
    let chunk_size = check_chunks(&job.chunks, step)?;
    let spelling = spelling(job, meta, step, chunk_size);
    let mut command = expand_all(&job.command, &spelling, ExportFormat::Deadline)?.into_iter();
    let executable = command.next().unwrap_or_default();
    let arguments = command
        .map(|a| quote(&a))
        .collect::<Result<Vec<_>>>()?
        .join(" ");
    let env = job_env(job, meta, &spelling, ExportFormat::Deadline)?;

    let mut info = Lines::default();
    info.put("Plugin", "CommandLine");
    info.put("Name", &job.name);
    if let Some(batch) = batch_name(meta) {
        info.put("BatchName", &batch);
    }
    info.put("Comment", &meta.describe());
    info.opt("UserName", &meta.user);
    info.opt("Department", &meta.department);
    info.opt("Pool", &meta.pool);
    info.opt("Group", &meta.group);
    if job.priority != 0 {
        info.put("Priority", &job.priority.clamp(0, PRIORITY_MAX).to_string());
    }
    info.put("Frames", &frame_list(&job.chunks));
    info.put("ChunkSize", &chunk_size.to_string());
    if let Some(t) = job.timeout_secs {
        info.put("TaskTimeoutMinutes", &t.div_ceil(60).to_string());
    }
    info.put("OverrideTaskFailureDetection", "True");
    info.put(
        "FailureDetectionTaskErrors",
        &(u64::from(job.retries) + 1).to_string(),
    );
    if let Some(o) = &job.output {
        let p = OutputPattern::parse(o)?;
        info.put("OutputDirectory0", &p.dir().to_string_lossy());
        info.put("OutputFilename0", &p.file_name_hashes());
    }
    for (i, (k, v)) in env.iter().enumerate() {
        info.put(&format!("EnvironmentKeyValue{i}"), &format!("{k}={v}"));
    }
    let pairs = meta.pairs();
    for (i, (_, v)) in pairs.iter().enumerate() {
        info.put(&format!("ExtraInfo{i}"), v);
    }
    for (i, (k, v)) in pairs.iter().enumerate() {
        info.put(&format!("ExtraInfoKeyValue{i}"), &format!("{k}={v}"));
    }

    let mut plugin = Lines::default();
    plugin.put("Executable", &executable);
    plugin.put("Arguments", &arguments);
    plugin.put("StartupDirectory", &job.cwd.to_string_lossy());
    plugin.put("Shell", "default");
    plugin.put("ShellExecute", "False");
    plugin.put(
        "SingleFramesOnly",
        if chunk_size == 1 { "True" } else { "False" },
    );
    Ok((info.finish()?, plugin.finish()?))
}

/// A POSIX shell script submitting a chain's jobs in order with `deadlinecommand`, each
/// waiting job's job info given a `JobDependencies` line with the ids Deadline printed
/// (`JobID=…`) for the jobs it waits for. Stems are file-name safe, so they need no quoting
/// beyond single quotes; the script runs from its own folder.
pub(super) fn submit_script(chain: &[Exportable]) -> String {
    let mut s = String::from(
        "#!/bin/sh\n\
         # Submits these jobs to Deadline in dependency order (written by `shotline render export`).\n\
         # Deadline names a job only when it is submitted, so each waiting job's JobDependencies\n\
         # is filled in here with the ids it printed for the jobs that job waits for.\n\
         set -eu\n\
         cd \"$(dirname \"$0\")\"\n\
         submit() {\n\
         \x20   out=$(deadlinecommand \"$1\" \"$2\" 2>&1) || true\n\
         \x20   id=$(printf '%s\\n' \"$out\" | sed -n 's/^JobID=//p' | head -n 1)\n\
         \x20   if [ -z \"$id\" ]; then printf 'Deadline did not accept %s:\\n%s\\n' \"$1\" \"$out\" >&2; exit 1; fi\n\
         \x20   printf '%s\\n' \"$id\"\n\
         }\n",
    );
    for e in chain {
        let stem = file_stem(&e.job, &e.meta);
        let var = format!("job_{}", e.meta.job.unwrap_or_default());
        let mut info = format!("{stem}.job_info.job");
        if !e.meta.after.is_empty() {
            let ids: Vec<String> = e.meta.after.iter().map(|d| format!("$job_{d}")).collect();
            let with = format!("{stem}.job_info.submitted.job");
            let _ = writeln!(
                s,
                "{{ cat '{info}'; printf 'JobDependencies=%s\\n' \"{}\"; }} > '{with}'",
                ids.join(",")
            );
            info = with;
        }
        let _ = writeln!(s, "{var}=$(submit '{info}' '{stem}.plugin_info.job')");
        let _ = writeln!(s, "echo \"submitted {stem} as ${var}\"");
    }
    s
}

/// `BatchName`: groups a shot's jobs in the Monitor (`DEMO sh010`).
fn batch_name(meta: &Metadata) -> Option<String> {
    let parts: Vec<&str> = [&meta.project, &meta.shot]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .filter(|s| !s.is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// Deadline's tokens for the placeholders it can fill.
fn spelling(job: &ResolvedJob, meta: &Metadata, step: i64, chunk_size: u64) -> Spelling {
    let mut s = common_spelling(job, meta);
    s.insert("start", Ok("<STARTFRAME>".into()));
    s.insert("end", Ok("<ENDFRAME>".into()));
    s.insert("step", Ok(step.to_string()));
    s.insert(
        "frames",
        Ok(if step == 1 {
            "<STARTFRAME>-<ENDFRAME>".into()
        } else {
            format!("<STARTFRAME>-<ENDFRAME>x{step}")
        }),
    );
    s.insert(
        "count",
        if chunk_size == 1 {
            Ok("1".into())
        } else {
            Err("differs per task and Deadline has no token for it (use {start} and {end})".into())
        },
    );
    s.insert(
        "task",
        Err("is the task index, which Deadline does not pass to the command".into()),
    );
    s
}

/// Checks that Deadline's cut of the sorted frames into `ChunkSize` tasks gives exactly the
/// queue's chunks, and returns that size.
fn check_chunks(chunks: &[Chunk], step: i64) -> Result<u64> {
    let size = chunks.iter().map(|c| c.count).max().unwrap_or(1).max(1);
    let mut frames: Vec<i64> = chunks.iter().flat_map(|c| c.frames()).collect();
    frames.sort_unstable();
    frames.dedup();
    let theirs: Vec<&[i64]> = frames.chunks(size as usize).collect();
    let same = theirs.len() == chunks.len()
        && theirs.iter().zip(chunks).all(|(t, c)| {
            t.len() as u64 == c.count
                && t.first() == Some(&c.first)
                && t.last() == Some(&c.last)
                && t.windows(2).all(|w| w[1] - w[0] == step)
        });
    if !same {
        return Err(RenderError::Invalid(format!(
            "cannot export to deadline: Deadline cuts the sorted frames into tasks of {size} frames, which does not give this job's chunks ({}); use an ascending range with one step",
            chunks.iter().take(4).map(Chunk::range).collect::<Vec<_>>().join(", ")
        )));
    }
    Ok(size)
}

/// Deadline's frame list: the chunks' ranges (`1-19x2,21-39x2`).
fn frame_list(chunks: &[Chunk]) -> String {
    chunks
        .iter()
        .map(Chunk::range)
        .collect::<Vec<_>>()
        .join(",")
}

/// One argument of `Arguments`: grouped with `<QUOTE>` when it holds whitespace or is empty.
fn quote(arg: &str) -> Result<String> {
    if arg.contains('"') {
        return Err(RenderError::Invalid(format!(
            "cannot export to deadline: the argument {arg:?} holds a double quote, which Deadline's argument string cannot carry"
        )));
    }
    Ok(if arg.is_empty() || arg.chars().any(char::is_whitespace) {
        format!("<QUOTE>{arg}<QUOTE>")
    } else {
        arg.to_string()
    })
}

/// `Key=Value` lines; a value with a line break is an error (it would start a new key).
#[derive(Default)]
struct Lines {
    text: String,
    bad: Option<String>,
}

impl Lines {
    fn put(&mut self, key: &str, value: &str) {
        if value.contains(['\n', '\r']) {
            self.bad.get_or_insert_with(|| key.to_string());
        }
        let _ = writeln!(self.text, "{key}={value}");
    }

    fn opt(&mut self, key: &str, value: &Option<String>) {
        if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
            self.put(key, v);
        }
    }

    fn finish(self) -> Result<String> {
        match self.bad {
            Some(key) => Err(RenderError::Invalid(format!(
                "cannot export to deadline: the value of {key} holds a line break"
            ))),
            None => Ok(self.text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::job;
    use super::*;

    #[test]
    fn job_and_plugin_info() {
        let j = job("name: sh010\npreset: blender\nscene: 'a b.blend'\nframes: 1-20x2\nchunk: 5\noutput: r/sh010.%04d.exr\npriority: 70\nretries: 2\nenv: {OCIO: /ocio.config}\n");
        let meta = Metadata {
            project: Some("DEMO".into()),
            user: Some("ana".into()),
            job: Some(4),
            ..Default::default()
        };
        let (info, plugin) = files(&j, &meta).unwrap();
        for line in [
            "Plugin=CommandLine",
            "Frames=1-9x2,11-19x2",
            "ChunkSize=5",
            "Priority=70",
            "UserName=ana",
            "OutputDirectory0=/proj/r",
            "OutputFilename0=sh010.####.exr",
            "FailureDetectionTaskErrors=3",
            "ExtraInfoKeyValue1=user=ana",
        ] {
            assert!(info.lines().any(|l| l == line), "{line} missing in\n{info}");
        }
        assert!(info.contains("=OCIO=/ocio.config\n"), "{info}");
        assert!(plugin.contains("Executable=blender\n"), "{plugin}");
        assert!(plugin.contains("<QUOTE>/proj/a b.blend<QUOTE>"), "{plugin}");
        assert!(
            plugin.contains("-s <STARTFRAME> -e <ENDFRAME> -j 2 -a"),
            "{plugin}"
        );
    }

    #[test]
    fn chunks_deadline_cannot_cut_are_refused() {
        let j = job("frames: 5-8,1-4\nchunk: 4\ncommand: [r, '{start}', '{end}']\n");
        let err = files(&j, &Metadata::default()).unwrap_err().to_string();
        assert!(err.contains("deadline") && err.contains("5-8"), "{err}");
        let j = job("frames: 1-4\ncommand: [r, '{task}', '{start}']\n");
        assert!(files(&j, &Metadata::default())
            .unwrap_err()
            .to_string()
            .contains("{task}"));
    }
}
