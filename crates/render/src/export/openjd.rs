//! Open Job Description (template schema 2023-09): one step per shotline job whose task
//! parameter space is the job's chunks (`Index`, `Start`, `End`, `Step`, `Count`, `Frames`
//! associated one to one), job parameters for the scene, output and threads, a job
//! environment with the metadata, and the command run through `env` so each task gets its
//! working directory and variables. Checked by `openjd check`, run by `openjd run` in the tests.

use serde_json::{json, Map, Value};

use super::{common_spelling, expand_all, ExportFormat, Metadata, Spelling};
use crate::error::{RenderError, Result};
use crate::job::ResolvedJob;

/// Most values one task parameter's list may hold in the 2023-09 schema.
const MAX_LIST: usize = 1024;
/// Longest job name the schema accepts.
const MAX_NAME: usize = 128;

/// The template as pretty JSON.
pub(super) fn template(job: &ResolvedJob, meta: &Metadata) -> Result<String> {
    if job.chunks.len() > MAX_LIST {
        return Err(RenderError::Invalid(format!(
            "cannot export to openjd: the job has {} chunks and an Open Job Description task parameter holds at most {MAX_LIST} values; use a larger `chunk`",
            job.chunks.len()
        )));
    }
    let spelling = spelling(job, meta);
    let command = expand_all(&job.command, &spelling, ExportFormat::Openjd)?;
    let mut args = vec![
        "-C".to_string(),
        job.cwd.to_string_lossy().into_owned(),
        "SHOTLINE_TASK={{Task.Param.Index}}".to_string(),
        "SHOTLINE_FRAMES={{Task.Param.Frames}}".to_string(),
    ];
    for (k, v) in &job.env {
        let v = expand_all(std::slice::from_ref(v), &spelling, ExportFormat::Openjd)?;
        args.push(format!("{k}={}", v.concat()));
    }
    args.extend(command);
    let mut run = Map::new();
    run.insert("command".into(), json!("env"));
    run.insert("args".into(), json!(args));
    if let Some(t) = job.timeout_secs {
        run.insert("timeout".into(), json!(t));
    }
    let mut step = Map::new();
    step.insert("name".into(), json!("render"));
    step.insert(
        "description".into(),
        json!(format!("{} frames {}", job.name, job.frames)),
    );
    step.insert("parameterSpace".into(), parameter_space(job));
    if let Some(h) = host_requirements(job) {
        step.insert("hostRequirements".into(), h);
    }
    step.insert(
        "script".into(),
        json!({"actions": {"onRun": Value::Object(run)}}),
    );
    let template = json!({
        "specificationVersion": "jobtemplate-2023-09",
        "name": job_name(&job.name),
        "description": meta.describe(),
        "parameterDefinitions": parameters(job),
        "jobEnvironments": [{
            "name": "shotline",
            "description": "shotline job metadata and thread count",
            "variables": variables(meta),
        }],
        "steps": [Value::Object(step)],
    });
    serde_json::to_string_pretty(&template)
        .map(|mut s| {
            s.push('\n');
            s
        })
        .map_err(|e| RenderError::Invalid(format!("cannot encode the job template: {e}")))
}

/// Placeholders as OpenJD format strings.
fn spelling(job: &ResolvedJob, meta: &Metadata) -> Spelling {
    let mut s = common_spelling(job, meta);
    for (name, param) in [
        ("start", "Start"),
        ("end", "End"),
        ("step", "Step"),
        ("count", "Count"),
        ("frames", "Frames"),
        ("task", "Index"),
    ] {
        s.insert(name, Ok(format!("{{{{Task.Param.{param}}}}}")));
    }
    if job.scene.is_some() {
        s.insert("scene", Ok("{{Param.Scene}}".into()));
    }
    if job.output.is_some() {
        s.insert("output", Ok("{{Param.Output}}".into()));
    }
    s.insert("threads", Ok("{{Param.Threads}}".into()));
    s.insert("tmp", Ok("{{Session.WorkingDirectory}}".into()));
    s
}

/// A job name the schema takes: no format-string braces, at most [`MAX_NAME`] characters.
fn job_name(name: &str) -> String {
    let clean = name.replace("{{", "{ {").replace("}}", "} }");
    clean.chars().take(MAX_NAME).collect()
}

/// Job parameters: the scene and output (so a farm can path-map or override them) and threads.
fn parameters(job: &ResolvedJob) -> Value {
    let mut p = Vec::new();
    if let Some(scene) = &job.scene {
        p.push(
            json!({"name": "Scene", "type": "STRING", "description": "the scene file",
                      "default": scene.to_string_lossy()}),
        );
    }
    if let Some(output) = &job.output {
        p.push(json!({"name": "Output", "type": "STRING",
                      "description": "where the frames land (printf pattern)", "default": output}));
    }
    p.push(json!({"name": "Threads", "type": "INT", "minValue": 0,
                  "description": "CPU threads per task (0: the renderer's default)",
                  "default": job.resources.threads}));
    Value::Array(p)
}

/// The chunks as associated task parameters: task `i` gets value `i` of each list.
fn parameter_space(job: &ResolvedJob) -> Value {
    let c = &job.chunks;
    let ints = |f: &dyn Fn(usize) -> i64| -> Vec<i64> { (0..c.len()).map(f).collect() };
    json!({
        "taskParameterDefinitions": [
            {"name": "Index", "type": "INT", "range": ints(&|i| i as i64)},
            {"name": "Start", "type": "INT", "range": ints(&|i| c[i].first)},
            {"name": "End", "type": "INT", "range": ints(&|i| c[i].last)},
            {"name": "Step", "type": "INT", "range": ints(&|i| c[i].step)},
            {"name": "Count", "type": "INT", "range": ints(&|i| c[i].count as i64)},
            {"name": "Frames", "type": "STRING", "range": c.iter().map(|k| k.range()).collect::<Vec<_>>()},
        ],
        "combination": "(Index, Start, End, Step, Count, Frames)",
    })
}

/// What a host must offer: the job's threads, memory (MiB) and GPUs.
fn host_requirements(job: &ResolvedJob) -> Option<Value> {
    let r = &job.resources;
    let mut amounts = Vec::new();
    if r.threads > 0 {
        amounts.push(json!({"name": "amount.worker.vcpu", "min": r.threads}));
    }
    let mib = r.memory.0.div_ceil(1 << 20);
    if mib > 0 {
        amounts.push(json!({"name": "amount.worker.memory", "min": mib}));
    }
    if r.gpus > 0 {
        amounts.push(json!({"name": "amount.worker.gpu", "min": r.gpus}));
    }
    (!amounts.is_empty()).then(|| json!({ "amounts": amounts }))
}

/// The job environment: metadata and thread variables every task sees.
fn variables(meta: &Metadata) -> Value {
    let mut v = Map::new();
    for (k, val) in meta.pairs() {
        v.insert(super::env_name(k), json!(val));
    }
    v.insert("OMP_NUM_THREADS".into(), json!("{{Param.Threads}}"));
    v.insert("SHOTLINE_THREADS".into(), json!("{{Param.Threads}}"));
    Value::Object(v)
}

#[cfg(test)]
mod tests {
    use super::super::tests::job;
    use super::*;

    #[test]
    fn chunks_become_associated_task_parameters() {
        let j = job("name: sh010\nframes: 1-10x2\nchunk: 2\ncommand: [render, '{start}', '{end}', '{step}']\nenv: {A: '{frames}'}\nresources: {threads: 4, memory: 1GiB}\n");
        let meta = Metadata {
            project: Some("DEMO".into()),
            job: Some(3),
            ..Default::default()
        };
        let t: Value = serde_json::from_str(&template(&j, &meta).unwrap()).unwrap();
        assert_eq!(t["specificationVersion"], "jobtemplate-2023-09");
        let space = &t["steps"][0]["parameterSpace"];
        assert_eq!(
            space["taskParameterDefinitions"][1]["range"],
            json!([1, 5, 9])
        );
        assert_eq!(
            space["taskParameterDefinitions"][5]["range"],
            json!(["1-3x2", "5-7x2", "9"])
        );
        let args = t["steps"][0]["script"]["actions"]["onRun"]["args"]
            .as_array()
            .unwrap();
        assert!(args.contains(&json!("A={{Task.Param.Frames}}")));
        assert_eq!(
            args[args.len() - 3..],
            [
                json!("{{Task.Param.Start}}"),
                json!("{{Task.Param.End}}"),
                json!("{{Task.Param.Step}}")
            ]
        );
        assert_eq!(
            t["jobEnvironments"][0]["variables"]["SHOTLINE_PROJECT"],
            "DEMO"
        );
        assert_eq!(t["jobEnvironments"][0]["variables"]["SHOTLINE_JOB"], "3");
        assert_eq!(t["steps"][0]["hostRequirements"]["amounts"][1]["min"], 1024);
    }
}
