//! Turning a [`JobSpec`] into a [`ResolvedJob`]: absolute paths, the preset's command template,
//! progress patterns and the task plan. The resolved job is what the queue stores, so a worker
//! never needs the spec file or the submitting shell's directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use shotline_config::RenderConfig;
use shotline_layout::{Fields, Layout, Template};

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
    /// The shot the frames belong to (slate of the review movie).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shot: Option<String>,
    /// The step the frames belong to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// Review preset for a movie of the frames once the job is done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review: Option<String>,
    /// Who submits it (the tracking store's user), set by the submitting command, never by a
    /// spec file: recorded in the queue and named as the artist on a review slate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submitted_by: Option<String>,
}

impl ResolvedJob {
    /// Resolves `spec`, whose relative paths are against `base` (the spec file's directory),
    /// outside any project layout (a spec with `shot`/`step` and no `output` is refused).
    pub fn resolve(spec: &JobSpec, base: &Path, config: &RenderConfig) -> Result<ResolvedJob> {
        ResolvedJob::resolve_with(spec, base, config, None)
    }

    /// [`ResolvedJob::resolve`] in a project: `layout` supplies the default output of a
    /// shot/step ([`default_output`]).
    pub fn resolve_with(
        spec: &JobSpec,
        base: &Path,
        config: &RenderConfig,
        layout: Option<&Layout>,
    ) -> Result<ResolvedJob> {
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
            None => default_output(spec, layout)?,
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
        if spec.review.is_some() && output.is_none() {
            return Err(RenderError::Invalid(
                "`review` needs frames to make the movie of: give `output`, or `shot` and `step` for the layout's render path".into(),
            ));
        }
        if spec.review.is_some() && spec.verify == Some(false) {
            return Err(RenderError::Invalid(
                "`review` makes a movie of verified frames: it cannot be combined with `verify: false`".into(),
            ));
        }
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
            shot: spec.shot.clone(),
            step: spec.step.clone(),
            review: spec.review.clone(),
            submitted_by: None,
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

/// The layout's render folder of a shot's step when it names none (`layout.templates`).
pub const SHOT_RENDER: &str = "renders/[{sequence}/]{shot}/{step}";
/// The layout's render file name when it names none; `{frame}` is the padding, `{ext}` `exr`.
pub const SHOT_RENDER_FILE: &str = "{shot}_{step}.{frame}.{ext}";
/// The image format of a layout render path.
const RENDER_EXT: &str = "exr";

/// The output of a job whose spec names none: for a `shot` and `step`, the project layout's
/// render path (templates `shot_render` and `shot_render_file`, else [`SHOT_RENDER`] and
/// [`SHOT_RENDER_FILE`], below the layout root, 4-digit EXR frames), so every renderer
/// writes where review and publish look; otherwise none (nothing is verified).
pub fn default_output(spec: &JobSpec, layout: Option<&Layout>) -> Result<Option<OutputPattern>> {
    let (shot, step) = match (&spec.shot, &spec.step) {
        (None, None) => return Ok(None),
        (Some(shot), Some(step)) => (shot, step),
        _ => return Err(RenderError::Invalid(
            "`shot` and `step` go together (the layout's render path needs both), or give `output`"
                .into(),
        )),
    };
    let Some(layout) = layout else {
        return Err(RenderError::Invalid(format!(
            "no `output` for {shot} {step}: the render path comes from the project layout, so submit in a project (shotline.yaml) or give `output`"
        )));
    };
    let mut fields = Fields {
        shot: Some(shot.clone()),
        step: Some(step.clone()),
        frame: Some("%04d".into()),
        ext: Some(RENDER_EXT.into()),
        ..Fields::default()
    };
    fields.fill_from(layout.defaults());
    let folder = render_template(layout, "shot_render", SHOT_RENDER)?.format(&fields);
    let file = render_template(layout, "shot_render_file", SHOT_RENDER_FILE)?.format(&fields);
    let (folder, file) = match (folder, file) {
        (Ok(d), Ok(f)) => (d, f),
        (Err(e), _) | (_, Err(e)) => {
            return Err(RenderError::Invalid(format!(
                "the layout's render path for {shot} {step}: {e}"
            )))
        }
    };
    shotline_layout::check_component("shot_render_file", &file)
        .map_err(|e| RenderError::Invalid(format!("the layout's render file name: {e}")))?;
    let path = layout.root().join(folder).join(file);
    OutputPattern::parse(&path.to_string_lossy()).map(Some)
}

/// The layout's template `name`, else the built-in `text`.
fn render_template(layout: &Layout, name: &str, text: &str) -> Result<Template> {
    match layout.template(name) {
        Some(t) => Ok(t.clone()),
        None => Template::compile(name, text)
            .map_err(|e| RenderError::Invalid(format!("built-in template {name}: {e}"))),
    }
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

    fn project_layout(overrides: &[(&str, &str)]) -> Layout {
        let o = overrides
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Layout::new(Some(shotline_layout::Preset::Shots), &o, "/proj".into())
            .unwrap()
            .with_defaults(Fields {
                project: Some("DEMO".into()),
                ..Fields::default()
            })
    }

    #[test]
    fn shot_and_step_take_the_layout_render_path() {
        let spec = JobSpec::parse(
            "preset: blender\nscene: s.blend\nframes: 1-3\nshot: SH010\nstep: comp\nreview: h264\n",
            Path::new("j.yaml"),
        )
        .unwrap();
        let cfg = RenderConfig::default();
        let j =
            ResolvedJob::resolve_with(&spec, Path::new("/proj"), &cfg, Some(&project_layout(&[])))
                .unwrap();
        assert_eq!(
            j.output.as_deref(),
            Some("/proj/renders/SH010/comp/SH010_comp.%04d.exr")
        );
        assert!(j.verify);
        assert_eq!(
            (j.shot.as_deref(), j.step.as_deref(), j.review.as_deref()),
            (Some("SH010"), Some("comp"), Some("h264"))
        );
        let custom = project_layout(&[
            ("shot_render", "{project}/wip/{shot}/{step}"),
            ("shot_render_file", "{project}_{shot}_{step}.{frame}.{ext}"),
        ]);
        let j = ResolvedJob::resolve_with(&spec, Path::new("/proj"), &cfg, Some(&custom)).unwrap();
        assert_eq!(
            j.output.as_deref(),
            Some("/proj/DEMO/wip/SH010/comp/DEMO_SH010_comp.%04d.exr")
        );
        // Outside a project there is no layout to ask.
        let err = ResolvedJob::resolve(&spec, Path::new("/proj"), &cfg)
            .unwrap_err()
            .to_string();
        assert!(err.contains("layout") && err.contains("SH010"), "{err}");
    }

    #[test]
    fn review_needs_frames_and_shot_needs_step() {
        let err = resolve("frames: 1\ncommand: [true]\nreview: h264\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("`review`") && err.contains("output"), "{err}");
        let err = resolve("frames: 1\ncommand: [true]\nshot: SH010\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("`step`"), "{err}");
        let err = resolve(
            "frames: 1\ncommand: [true]\noutput: a.%04d.png\nverify: false\nreview: h264\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("verify"), "{err}");
    }
}
