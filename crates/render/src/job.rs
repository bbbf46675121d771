//! Turning a [`JobSpec`] into a [`ResolvedJob`]: absolute paths, the preset's command template,
//! progress patterns and the task plan. The resolved job is what the queue stores, so a worker
//! never needs the spec file or the submitting shell's directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use shotline_config::RenderConfig;

use crate::chunk::{self, Chunk, Stepping};
use crate::error::{RenderError, Result};
use crate::pattern::OutputPattern;
use crate::progress::ProgressRules;
use crate::spec::{Command, JobRef, JobSpec, Preset, ProgressSpec, Resources};
use crate::template;

/// A job ready to queue: everything a worker needs, with absolute paths.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResolvedJob {
    /// Display name.
    pub name: String,
    /// The preset (for progress patterns and listings).
    pub preset: Preset,
    /// Absolute scene path, if any.
    pub scene: Option<PathBuf>,
    /// The frame range as given.
    pub frames: String,
    /// Command template: program then arguments, placeholders unexpanded.
    pub command: Vec<String>,
    /// Extra environment (placeholders unexpanded).
    pub env: BTreeMap<String, String>,
    /// Working directory.
    pub cwd: PathBuf,
    /// Absolute expected output pattern (printf spelling).
    pub output: Option<String>,
    /// Verify frames after each task.
    pub verify: bool,
    /// Render layer.
    pub layer: Option<String>,
    /// Per-task needs.
    pub resources: Resources,
    /// Higher first.
    pub priority: i64,
    /// Extra attempts after a failure.
    pub retries: u32,
    /// Per-task time limit in seconds.
    pub timeout_secs: Option<u64>,
    /// Progress patterns in force.
    pub progress: ProgressSpec,
    /// Jobs this one waits for, as written.
    pub after: Vec<JobRef>,
    /// Copy the scene into the job folder at submit.
    pub snapshot_scene: bool,
    /// The tasks.
    pub chunks: Vec<Chunk>,
}

impl ResolvedJob {
    /// Resolves `spec`, whose relative paths are against `base` (the spec file's directory).
    pub fn resolve(spec: &JobSpec, base: &Path, config: &RenderConfig) -> Result<ResolvedJob> {
        let abs = |p: &Path| {
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                base.join(p)
            }
        };
        let scene = spec.scene.as_deref().map(abs);
        let output = match &spec.output {
            Some(o) => Some(OutputPattern::parse(o)?.absolute(base)),
            None => default_output(spec, base)?,
        };
        let exe = |default: &str| {
            config
                .executables
                .get(spec.preset.name())
                .cloned()
                .unwrap_or_else(|| default.to_string())
        };
        let command = match &spec.command {
            Some(Command::Args(a)) => a.clone(),
            Some(Command::Line(l)) => template::split(l)?,
            None => preset_command(spec, output.as_ref(), &exe)?,
        };
        if command.is_empty() {
            return Err(RenderError::Invalid(
                "the command is empty: give `command` or a preset other than generic".into(),
            ));
        }
        for a in command.iter().chain(spec.env.values()) {
            template::check(a)?;
        }
        for k in spec.env.keys() {
            crate::spec::check_env_key(k).map_err(RenderError::Invalid)?;
        }
        let cwd = spec
            .cwd
            .as_deref()
            .map(abs)
            .unwrap_or_else(|| base.to_path_buf());
        if spec.cwd.is_some() && !cwd.is_dir() {
            return Err(RenderError::Invalid(format!(
                "`cwd`: the folder {} does not exist (relative paths are against {})",
                cwd.display(),
                base.display()
            )));
        }
        if matches!(
            spec.preset,
            Preset::Blender | Preset::Maya | Preset::Nuke | Preset::Houdini | Preset::Fusion
        ) && spec.command.is_none()
            && scene.is_none()
        {
            return Err(RenderError::Invalid(format!(
                "the {} preset needs `scene`",
                spec.preset.name()
            )));
        }
        let stepping = if template::uses(&command, "frames")
            || (template::uses(&command, "end") && template::uses(&command, "step"))
        {
            Stepping::Stepped
        } else if template::uses(&command, "end") || template::uses(&command, "count") {
            Stepping::Consecutive
        } else {
            Stepping::Single
        };
        let chunk_size = if spec.chunk == 0 { 10 } else { spec.chunk };
        let chunks = chunk::plan(&spec.frames, spec.include_last, chunk_size, stepping)?;
        let progress = merge_progress(spec.preset, &spec.progress);
        ProgressRules::compile(&progress)?;
        let name = spec.name.clone().unwrap_or_else(|| {
            scene
                .as_deref()
                .and_then(Path::file_stem)
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "job".into())
        });
        Ok(ResolvedJob {
            name,
            preset: spec.preset,
            scene,
            frames: spec.frames.clone(),
            command,
            env: spec.env.clone(),
            cwd,
            verify: spec.verify.unwrap_or(output.is_some()) && output.is_some(),
            output: output.map(|o| o.to_string()),
            layer: spec.layer.clone(),
            resources: spec.resources.clone(),
            priority: spec.priority,
            retries: spec.retries,
            timeout_secs: spec.timeout.map(|d| d.0).filter(|s| *s > 0),
            progress,
            after: spec.after.clone(),
            snapshot_scene: spec.snapshot_scene,
            chunks,
        })
    }

    /// The output pattern, parsed (`None`: the job names no output). A stored pattern that
    /// no longer parses is an error, never "nothing to verify".
    pub fn output_pattern(&self) -> Result<Option<OutputPattern>> {
        self.output
            .as_deref()
            .map(|o| {
                OutputPattern::parse(o).map_err(|e| {
                    RenderError::Invalid(format!("the job's output pattern {o:?} is unusable: {e}"))
                })
            })
            .transpose()
    }
}

/// The output of a job whose spec names none. Today: none (nothing is verified). This is the
/// seam where the project's one layout (`shotline-layout`) will supply the shot's render path
/// from the scene and the layout templates, so every renderer writes where review looks.
pub fn default_output(_spec: &JobSpec, _base: &Path) -> Result<Option<OutputPattern>> {
    Ok(None)
}

/// The preset's patterns, with the spec's overrides on top.
fn merge_progress(preset: Preset, over: &ProgressSpec) -> ProgressSpec {
    let base = ProgressRules::preset(preset);
    ProgressSpec {
        percent: over.percent.clone().or(base.percent),
        frame_done: over.frame_done.clone().or(base.frame_done),
        frames_of: over.frames_of.clone().or(base.frames_of),
    }
}

/// The command line of a preset (REFERENCE.md), frame arguments last.
fn preset_command(
    spec: &JobSpec,
    output: Option<&OutputPattern>,
    exe: &dyn Fn(&str) -> String,
) -> Result<Vec<String>> {
    let s = |x: &str| x.to_string();
    let mut c: Vec<String> = Vec::new();
    match spec.preset {
        Preset::Blender => {
            c.extend([exe("blender"), s("-b"), s("{scene}"), s("-noaudio")]);
            if let Some(engine) = &spec.renderer {
                c.extend([s("-E"), engine.clone()]);
            }
            if let Some(o) = output {
                c.extend([s("-o"), o.blender()]);
                if let Some(f) = o.extension().as_deref().and_then(blender_format) {
                    c.extend([s("-F"), s(f)]);
                }
            }
            c.extend([s("-t"), s("{threads}")]);
            c.extend(spec.args.iter().cloned());
            c.extend(["-s", "{start}", "-e", "{end}", "-j", "{step}", "-a"].map(s));
        }
        Preset::Maya => {
            let r = spec.renderer.clone().unwrap_or_else(|| s("arnold"));
            c.extend([exe("Render"), s("-r"), r]);
            c.extend(["-s", "{start}", "-e", "{end}", "-b", "{step}"].map(s));
            if spec.layer.is_some() {
                c.extend([s("-rl"), s("{layer}")]);
            }
            if let Some(o) = output {
                c.extend([s("-rd"), o.dir().to_string_lossy().into_owned()]);
            }
            c.extend([s("-n"), s("{threads}")]);
            c.extend(spec.args.iter().cloned());
            c.push(s("{scene}"));
        }
        Preset::Nuke => {
            c.extend([exe("nuke"), s("-x"), s("-m"), s("{threads}")]);
            if spec.layer.is_some() {
                c.extend([s("-X"), s("{layer}")]);
            }
            c.extend(spec.args.iter().cloned());
            c.extend([s("-F"), s("{start}-{end}x{step}"), s("{scene}")]);
        }
        Preset::Houdini => {
            c.extend([exe("husk"), s("--threads"), s("{threads}")]);
            if spec.layer.is_some() {
                c.extend([s("--settings"), s("{layer}")]);
            }
            if let Some(o) = output {
                c.extend([s("-o"), o.houdini()]);
            }
            c.extend(spec.args.iter().cloned());
            c.extend(
                [
                    "--frame",
                    "{start}",
                    "--frame-count",
                    "{count}",
                    "--frame-inc",
                    "{step}",
                    "{scene}",
                ]
                .map(s),
            );
        }
        Preset::Fusion => {
            c.extend([exe("FusionRenderNode"), s("{scene}"), s("-render")]);
            c.extend(spec.args.iter().cloned());
            c.extend(
                [
                    "-start", "{start}", "-end", "{end}", "-step", "{step}", "-quit",
                ]
                .map(s),
            );
        }
        Preset::Generic => {
            return Err(RenderError::Invalid(
                "the generic preset needs `command` (e.g. [\"render.sh\", \"{start}\", \"{end}\"])"
                    .into(),
            ))
        }
    }
    Ok(c)
}

/// Blender's `-F` format for an output extension.
fn blender_format(ext: &str) -> Option<&'static str> {
    Some(match ext {
        "exr" => "OPEN_EXR",
        "png" => "PNG",
        "jpg" | "jpeg" => "JPEG",
        "tif" | "tiff" => "TIFF",
        "dpx" => "DPX",
        "hdr" => "HDR",
        "tga" => "TARGA",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(yaml: &str) -> Result<ResolvedJob> {
        let spec = JobSpec::parse(yaml, Path::new("j.yaml"))?;
        ResolvedJob::resolve(&spec, Path::new("/proj"), &RenderConfig::default())
    }

    #[test]
    fn blender_preset_command() {
        let j = resolve(
            "preset: blender\nscene: s.blend\nframes: 1-10x2\nchunk: 2\noutput: out/a.%04d.exr\n",
        )
        .unwrap();
        assert_eq!(j.command[..4], ["blender", "-b", "{scene}", "-noaudio"]);
        assert!(j
            .command
            .windows(2)
            .any(|w| w == ["-o", "/proj/out/a.####"]));
        assert!(j.command.windows(2).any(|w| w == ["-F", "OPEN_EXR"]));
        assert_eq!(j.command.last().unwrap(), "-a");
        assert_eq!(j.chunks.len(), 3);
        assert_eq!(j.chunks[0].range(), "1-3x2");
        assert!(j.verify);
    }

    #[test]
    fn generic_without_step_renders_single_frames() {
        let j = resolve("command: echo {start}\nframes: 1-5x2\nchunk: 10\n").unwrap();
        assert_eq!(j.chunks.len(), 3);
        let err = resolve("command: echo {strat}\nframes: 1\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("strat"), "{err}");
        assert!(resolve("frames: 1-3\n").is_err());
        assert!(resolve("preset: nuke\nframes: 1-3\n").is_err());
    }

    #[test]
    fn a_cwd_that_does_not_exist_and_bad_env_keys_are_errors() {
        let err = resolve("frames: 1\ncwd: /nonexistent/shots\ncommand: [true]\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`cwd`") && err.contains("/nonexistent/shots"),
            "{err}"
        );
        let mut spec = JobSpec::parse("frames: 1\ncommand: [true]\n", Path::new("j.yaml")).unwrap();
        spec.env.insert("A=B".into(), "x".into());
        let err = ResolvedJob::resolve(&spec, Path::new("/"), &Default::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("A=B"), "{err}");
    }
}
