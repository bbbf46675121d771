//! Job descriptions for other farms: one resolved job written as an Open Job Description
//! template, Deadline job and plugin info files (CommandLine plugin) or a Tractor `.alf` script,
//! each carrying the same metadata (project, shot, step, user, shotline job id). The chunks are
//! the queue's own ([`crate::chunk::plan`]), so a job renders the same frames per task wherever
//! it runs.

mod deadline;
mod openjd;
mod tractor;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use shotline_fsio::Overwrite;

use crate::chunk::Chunk;
use crate::error::{RenderError, Result};
use crate::job::ResolvedJob;
use crate::model::JobId;
use crate::template::{self, Values};

/// The job description formats `render export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// Open Job Description job template (2023-09 schema), JSON.
    Openjd,
    /// Deadline job info + plugin info files for the CommandLine plugin.
    Deadline,
    /// Tractor job script (`.alf`).
    Tractor,
}

impl ExportFormat {
    /// Lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            ExportFormat::Openjd => "openjd",
            ExportFormat::Deadline => "deadline",
            ExportFormat::Tractor => "tractor",
        }
    }
}

/// Who and what a job is for, written into every format (Deadline's user, department and
/// extra info; Tractor's metadata and projects; OpenJD's description and environment).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Metadata {
    /// Project code or name.
    pub project: Option<String>,
    /// Shot.
    pub shot: Option<String>,
    /// Pipeline step (`lighting`, `comp`).
    pub step: Option<String>,
    /// Who submits.
    pub user: Option<String>,
    /// The shotline job id, when exported from the queue.
    pub job: Option<JobId>,
    /// Deadline department.
    pub department: Option<String>,
    /// Deadline pool / Tractor service key.
    pub pool: Option<String>,
    /// Deadline group.
    pub group: Option<String>,
    /// The job's temporary folder (`{tmp}`) when exported from the queue.
    pub tmp: Option<PathBuf>,
    /// The queued jobs this one waits for (`after`), exported with it.
    pub after: Vec<JobId>,
}

/// One job to export and what is known about it.
#[derive(Debug, Clone)]
pub struct Exportable {
    /// The resolved job.
    pub job: ResolvedJob,
    /// Its metadata.
    pub meta: Metadata,
}

impl Metadata {
    /// `key=value` pairs of what is known, in a fixed order.
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        let mut add = |k: &'static str, v: Option<String>| {
            if let Some(v) = v.filter(|v| !v.is_empty()) {
                out.push((k, v));
            }
        };
        add("project", self.project.clone());
        add("shot", self.shot.clone());
        add("step", self.step.clone());
        add("user", self.user.clone());
        add("shotline_job", self.job.map(|j| j.to_string()));
        out
    }

    /// `shotline job 12 · project DEMO · shot sh010 · step lighting · user ana`.
    pub fn describe(&self) -> String {
        let mut parts = vec![match self.job {
            Some(j) => format!("shotline job {j}"),
            None => "shotline job".to_string(),
        }];
        for (k, v) in self.pairs() {
            if k != "shotline_job" {
                parts.push(format!("{k} {v}"));
            }
        }
        parts.join(" · ")
    }
}

/// The variable a metadata key is exported as (`project` → `SHOTLINE_PROJECT`,
/// `shotline_job` → `SHOTLINE_JOB`).
fn env_name(key: &str) -> String {
    match key {
        "shotline_job" => "SHOTLINE_JOB".into(),
        k => format!("SHOTLINE_{}", k.to_ascii_uppercase()),
    }
}

/// What an export wrote.
#[derive(Debug, Clone, Serialize)]
pub struct Exported {
    /// The format.
    pub format: ExportFormat,
    /// Files written, in the order a farm tool takes them.
    pub files: Vec<PathBuf>,
    /// Tasks in the description (one per chunk).
    pub tasks: usize,
    /// Frames in the job.
    pub frame_count: u64,
    /// What the format could not carry and what to do instead (a job's `after` in an OpenJD
    /// template); empty when nothing was left out.
    pub notes: Vec<String>,
}

/// Writes `job` as `format` into `dir` (created if needed; every file written atomically).
pub fn export(
    job: &ResolvedJob,
    meta: &Metadata,
    format: ExportFormat,
    dir: &Path,
) -> Result<Exported> {
    let one = Exportable {
        job: job.clone(),
        meta: meta.clone(),
    };
    export_chain(&[one], format, dir)
}

/// Writes the last job of `chain` with the queued jobs it waits for (the jobs before it,
/// every job after the ones it waits for) as `format` into `dir`.
///
/// Why a chain: a farm names a job only when it is submitted, so a dependency can be carried
/// only by describing both jobs at once. Tractor gets one script whose tasks wait for the
/// tasks of the jobs they depend on; Deadline gets each job's files and a `submit.sh` that
/// submits them in order and fills each `JobDependencies` with the ids Deadline prints; an
/// OpenJD template describes one job, so only the last is written and [`Exported::notes`]
/// says which jobs it waits for.
pub fn export_chain(chain: &[Exportable], format: ExportFormat, dir: &Path) -> Result<Exported> {
    let Some(last) = chain.last() else {
        return Err(RenderError::Invalid("nothing to export".into()));
    };
    let mut notes = Vec::new();
    let (files, exported) = match format {
        ExportFormat::Openjd => {
            if !last.meta.after.is_empty() {
                notes.push(openjd_note(chain, last));
            }
            let file = (
                format!("{}.openjd.json", file_stem(&last.job, &last.meta)),
                openjd::template(&last.job, &last.meta)?,
            );
            (vec![file], std::slice::from_ref(last))
        }
        ExportFormat::Deadline => (deadline_files(chain)?, chain),
        ExportFormat::Tractor => (
            vec![(
                format!("{}.alf", file_stem(&last.job, &last.meta)),
                tractor::script(chain)?,
            )],
            chain,
        ),
    };
    std::fs::create_dir_all(dir)
        .map_err(|e| RenderError::io(format!("cannot create {}", dir.display()), e))?;
    let mut written = Vec::new();
    for (name, text) in files {
        let path = dir.join(name);
        shotline_fsio::write_atomic(&path, text.as_bytes(), Overwrite::Replace)?;
        written.push(path);
    }
    let chunks = || exported.iter().flat_map(|e| &e.job.chunks);
    Ok(Exported {
        format,
        files: written,
        tasks: chunks().count(),
        frame_count: chunks().map(|c| c.count).sum(),
        notes,
    })
}

/// Each job's Deadline files, then (for a chain) the script submitting them in order.
fn deadline_files(chain: &[Exportable]) -> Result<Vec<(String, String)>> {
    let mut files = Vec::new();
    for e in chain {
        let (info, plugin) = deadline::files(&e.job, &e.meta)?;
        let stem = file_stem(&e.job, &e.meta);
        files.push((format!("{stem}.job_info.job"), info));
        files.push((format!("{stem}.plugin_info.job"), plugin));
    }
    if let (true, Some(last)) = (chain.len() > 1, chain.last()) {
        files.push((
            format!("{}.submit.sh", file_stem(&last.job, &last.meta)),
            deadline::submit_script(chain),
        ));
    }
    Ok(files)
}

/// What an OpenJD export of a waiting job leaves to the user.
fn openjd_note(chain: &[Exportable], last: &Exportable) -> String {
    let waits: Vec<String> = last
        .meta
        .after
        .iter()
        .map(|id| {
            let name = chain
                .iter()
                .find(|e| e.meta.job == Some(*id))
                .map(|e| e.job.name.as_str())
                .unwrap_or("?");
            format!("job {id} ({name})")
        })
        .collect();
    format!(
        "an Open Job Description template describes one job and cannot name another: {} waits for {}; export and submit those first and submit this template once they are done",
        last.job.name,
        waits.join(", ")
    )
}

/// `job-12-sh010_lighting` (or the name alone for a spec): only characters every file system
/// and farm tool takes.
fn file_stem(job: &ResolvedJob, meta: &Metadata) -> String {
    let name: String = job
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let name = name.trim_start_matches('.');
    let name = if name.is_empty() { "job" } else { name };
    match meta.job {
        Some(id) => format!("job-{id}-{name}"),
        None => name.to_string(),
    }
}

/// How one format spells the placeholders it can fill: a value (a literal or the format's own
/// token) or why it cannot.
type Spelling = BTreeMap<&'static str, std::result::Result<String, String>>;

/// Expands the command (and `env` values) with a format's spellings; a placeholder the format
/// cannot fill is an error naming it, the format and what to do.
fn expand_all(args: &[String], spelling: &Spelling, format: ExportFormat) -> Result<Vec<String>> {
    let mut values = Values::new();
    for (name, v) in spelling {
        match v {
            Ok(v) => {
                values.insert(name, v.clone());
            }
            Err(why) if template::uses(args, name) => {
                return Err(RenderError::Invalid(format!(
                    "cannot export to {}: the command uses {{{name}}}, which {why}",
                    format.name()
                )))
            }
            Err(_) => {}
        }
    }
    args.iter().map(|a| template::expand(a, &values)).collect()
}

/// The values every format shares: the job's paths and the facts of the job.
fn common_spelling(job: &ResolvedJob, meta: &Metadata) -> Spelling {
    let mut s = Spelling::new();
    let text = |p: &Option<PathBuf>| p.as_ref().map(|p| p.to_string_lossy().into_owned());
    s.insert("output", Ok(job.output.clone().unwrap_or_default()));
    s.insert("scene", Ok(text(&job.scene).unwrap_or_default()));
    s.insert("layer", Ok(job.layer.clone().unwrap_or_default()));
    s.insert("threads", Ok(job.resources.threads.to_string()));
    // The farm hands GPUs to a task through CUDA_VISIBLE_DEVICES; there is no index to name.
    s.insert("gpu", Ok(String::new()));
    s.insert(
        "job",
        meta.job.map(|j| j.to_string()).ok_or_else(|| {
            "is only known for a queued job: export the job id, not the spec".to_string()
        }),
    );
    s.insert(
        "tmp",
        text(&meta.tmp).ok_or_else(|| {
            "is the job folder of a queued job: export the job id, not the spec".to_string()
        }),
    );
    s
}

/// The environment of every task as `KEY=VALUE` (job-level values only: the job's `env`
/// expanded with `spelling`, and the shotline variables that do not change per task).
fn job_env(
    job: &ResolvedJob,
    meta: &Metadata,
    spelling: &Spelling,
    format: ExportFormat,
) -> Result<Vec<(String, String)>> {
    let threads = job.resources.threads.to_string();
    let mut env = vec![
        ("OMP_NUM_THREADS".to_string(), threads.clone()),
        ("SHOTLINE_THREADS".to_string(), threads),
    ];
    if let Some(j) = meta.job {
        env.push(("SHOTLINE_JOB".into(), j.to_string()));
    }
    if let Some(t) = &meta.tmp {
        env.push(("SHOTLINE_JOB_TMP".into(), t.to_string_lossy().into_owned()));
    }
    for (k, v) in &job.env {
        let v = expand_all(std::slice::from_ref(v), spelling, format)?;
        env.push((k.clone(), v.into_iter().next().unwrap_or_default()));
    }
    Ok(env)
}

/// The uniform step of a job's chunks (1 when every chunk is one frame), or `None` when
/// chunks step differently.
fn uniform_step(chunks: &[Chunk]) -> Option<i64> {
    let mut steps = chunks.iter().filter(|c| c.count > 1).map(|c| c.step);
    let first = steps.next().unwrap_or(1);
    steps.all(|s| s == first).then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::JobSpec;

    pub(crate) fn job(yaml: &str) -> ResolvedJob {
        let spec = JobSpec::parse(yaml, Path::new("j.yaml")).unwrap();
        ResolvedJob::resolve(&spec, Path::new("/proj"), &Default::default()).unwrap()
    }

    #[test]
    fn file_stems_are_safe() {
        let mut j = job("name: 'sh 010/light'\nframes: 1\ncommand: [echo]\n");
        let meta = Metadata {
            job: Some(7),
            ..Default::default()
        };
        assert_eq!(file_stem(&j, &meta), "job-7-sh_010_light");
        j.name = "..".into();
        assert_eq!(file_stem(&j, &Metadata::default()), "job");
    }

    #[test]
    fn placeholders_a_format_cannot_fill_are_errors() {
        let j = job("frames: 1-4\ncommand: [echo, '{tmp}', '{start}']\n");
        let err = export(
            &j,
            &Metadata::default(),
            ExportFormat::Tractor,
            Path::new("/nonexistent/never-created"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("{tmp}") && err.contains("tractor"), "{err}");
    }
}
