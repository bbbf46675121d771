//! Job specs: what a user writes (YAML, JSON or flags) and how it is checked. Parsing keeps line
//! and column (serde_saphyr, serde_json) so a typo in a spec is an error pointing at it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use shotline_config::ByteSize;

use crate::error::{RenderError, Result};

/// A render job as written by the user. Every field but `frames` has a default; see
/// `docs/render.md` for the full schema.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct JobSpec {
    /// A name for listings; defaults to the scene's file stem.
    pub name: Option<String>,
    /// The renderer preset, which supplies the command line and progress patterns.
    pub preset: Preset,
    /// The scene file (`{scene}`), relative to the spec's directory.
    pub scene: Option<PathBuf>,
    /// Frames in frame-range syntax (`1001-1100`, `1-100x5`, `1,5,9`).
    pub frames: String,
    /// Frames per task (default 10). Stepped ranges give stepped chunks (`1-37x4` in chunks
    /// of 10). Written, it must be 1 or more.
    #[serde(deserialize_with = "chunk")]
    pub chunk: u32,
    /// Also render the end frame of every `a-bxN` range even where the step skips it.
    pub include_last: bool,
    /// Expected output pattern (`renders/sh010.%04d.exr`), verified after every task.
    pub output: Option<String>,
    /// Render layer / write node / ROP (`{layer}`).
    pub layer: Option<String>,
    /// Maya renderer (`-r`) or Blender engine (`-E`).
    pub renderer: Option<String>,
    /// A command template replacing the preset's (a list of arguments, or one string split
    /// like a shell would, without running a shell).
    pub command: Option<Command>,
    /// Extra arguments placed before the frame arguments of a preset's command line.
    pub args: Vec<String>,
    /// What one task needs; the scheduler starts it only when this fits.
    pub resources: Resources,
    /// Extra environment for the renderer (placeholders expanded). Keys are non-empty and
    /// hold no `=` or NUL.
    #[serde(deserialize_with = "env")]
    pub env: BTreeMap<String, String>,
    /// Higher runs first.
    pub priority: i64,
    /// Extra attempts after a failed one (crash, timeout, bad output); at most
    /// [`MAX_RETRIES`].
    #[serde(deserialize_with = "retries")]
    pub retries: u32,
    /// Per-task time limit (`90s`, `15m`, `2h`, or seconds); none by default.
    pub timeout: Option<Duration>,
    /// Jobs (ids or names) that must be done before this one starts.
    pub after: Vec<JobRef>,
    /// Working directory of the renderer; defaults to the spec's directory.
    pub cwd: Option<PathBuf>,
    /// Progress patterns overriding the preset's.
    pub progress: ProgressSpec,
    /// Copy the scene into the job's folder at submit, so later saves by the artist do not
    /// change what renders.
    pub snapshot_scene: bool,
    /// Check the frames after each task (default true when `output` is set).
    pub verify: Option<bool>,
    /// The shot the frames belong to: with `step` and no `output`, the output path comes from
    /// the project layout (`shot_render` / `shot_render_file`, `docs/layout.md`); it also
    /// names the review movie's slate. A safe path component.
    #[serde(deserialize_with = "shot")]
    pub shot: Option<String>,
    /// The pipeline step (`comp`, `LIGHT`), as `shot`.
    #[serde(deserialize_with = "step")]
    pub step: Option<String>,
    /// A review preset (`h264`, `prores422hq`, `review.presets`): when the job is done and its
    /// frames verified, a review movie is made of them (`docs/render.md`).
    pub review: Option<String>,
}

/// A command template: list form (`["blender", "-b", "{scene}"]`) or one string.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Command {
    /// Arguments as given.
    Args(Vec<String>),
    /// Split on whitespace; single and double quotes group.
    Line(String),
}

impl<'de> Deserialize<'de> for Command {
    /// A string, or a list whose items may be strings, numbers or booleans (`[sleep, 5]`).
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Arg(String);
        impl<'de> Deserialize<'de> for Arg {
            fn deserialize<D: serde::Deserializer<'de>>(
                d: D,
            ) -> std::result::Result<Self, D::Error> {
                struct V;
                impl serde::de::Visitor<'_> for V {
                    type Value = Arg;
                    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                        f.write_str("a command argument (string or number)")
                    }
                    fn visit_str<E: serde::de::Error>(
                        self,
                        v: &str,
                    ) -> std::result::Result<Arg, E> {
                        Ok(Arg(v.to_string()))
                    }
                    fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<Arg, E> {
                        Ok(Arg(v.to_string()))
                    }
                    fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<Arg, E> {
                        Ok(Arg(v.to_string()))
                    }
                    fn visit_f64<E: serde::de::Error>(self, v: f64) -> std::result::Result<Arg, E> {
                        Ok(Arg(v.to_string()))
                    }
                    fn visit_bool<E: serde::de::Error>(
                        self,
                        v: bool,
                    ) -> std::result::Result<Arg, E> {
                        Ok(Arg(v.to_string()))
                    }
                }
                d.deserialize_any(V)
            }
        }
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Command;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a command: a list of arguments or one string")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<Command, E> {
                Ok(Command::Line(v.to_string()))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<Command, A::Error> {
                let mut args = Vec::new();
                while let Some(Arg(a)) = seq.next_element()? {
                    args.push(a);
                }
                Ok(Command::Args(args))
            }
        }
        d.deserialize_any(V)
    }
}

/// A job named by id or by name.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum JobRef {
    /// Job id.
    Id(i64),
    /// Job name (the most recent job of that name).
    Name(String),
}

impl std::fmt::Display for JobRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JobRef::Id(i) => write!(f, "{i}"),
            JobRef::Name(n) => f.write_str(n),
        }
    }
}

/// What one task needs from the machine.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Resources {
    /// CPU threads (passed to the renderer); 0 = an even share of the machine.
    #[serde(deserialize_with = "threads")]
    pub threads: u32,
    /// NVIDIA GPUs, exposed through `CUDA_VISIBLE_DEVICES` and `{gpu}`.
    #[serde(deserialize_with = "gpus")]
    pub gpus: u32,
    /// Memory the task may use (bytes or `8GiB`), counted against the machine's memory.
    pub memory: ByteSize,
}

/// Regular expressions for renderers the presets do not know.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProgressSpec {
    /// One group: percent of the current frame (`(\d+)% done`).
    pub percent: Option<String>,
    /// Matches when a frame is written (`^Saved: `).
    pub frame_done: Option<String>,
    /// Two groups: frames done and total (`Frame \d+ \((\d+) of (\d+)\)`).
    pub frames_of: Option<String>,
}

/// Renderer presets: the command line (per `REFERENCE.md`) and progress patterns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// `blender -b scene -o … -s -e -j -a`.
    Blender,
    /// Maya's `Render -r <renderer> -s -e -b -rl -rd`.
    Maya,
    /// `nuke -x -F a-bxN`.
    Nuke,
    /// Houdini's `husk` for USD scenes.
    Houdini,
    /// Fusion Render Node.
    Fusion,
    /// Your own `command`.
    #[default]
    Generic,
}

impl Preset {
    /// The lowercase name used in specs and output.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Blender => "blender",
            Preset::Maya => "maya",
            Preset::Nuke => "nuke",
            Preset::Houdini => "houdini",
            Preset::Fusion => "fusion",
            Preset::Generic => "generic",
        }
    }

    /// Parses a preset name (flags).
    pub fn from_name(s: &str) -> Result<Preset> {
        Ok(match s {
            "blender" => Preset::Blender,
            "maya" => Preset::Maya,
            "nuke" => Preset::Nuke,
            "houdini" => Preset::Houdini,
            "fusion" => Preset::Fusion,
            "generic" => Preset::Generic,
            other => {
                return Err(RenderError::Invalid(format!(
                    "unknown preset {other:?}: expected blender, maya, nuke, houdini, fusion or generic"
                )))
            }
        })
    }
}

/// A duration written as seconds or `90s`, `15m`, `2h`, `1h30m`; at most
/// [`Duration::MAX_SECS`], so adding it to a clock can never overflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Duration(pub u64);

impl Duration {
    /// The longest duration accepted: 366 days.
    pub const MAX_SECS: u64 = 366 * 86_400;

    /// Parses `90`, `90s`, `15m`, `2h`, `1h30m`, `1d`.
    pub fn parse(text: &str) -> std::result::Result<Duration, String> {
        Duration::parse_unbounded(text)?.bounded(text)
    }

    /// The duration, unless it is longer than [`Duration::MAX_SECS`].
    fn bounded(self, text: &str) -> std::result::Result<Duration, String> {
        if self.0 > Duration::MAX_SECS {
            return Err(format!(
                "duration {text:?} is too long: at most {} seconds (366 days)",
                Duration::MAX_SECS
            ));
        }
        Ok(self)
    }

    fn parse_unbounded(text: &str) -> std::result::Result<Duration, String> {
        let t = text.trim();
        if let Ok(n) = t.parse::<u64>() {
            return Ok(Duration(n));
        }
        let bad =
            || format!("invalid duration {text:?}: expected seconds or e.g. 90s, 15m, 2h, 1h30m");
        let (mut total, mut num) = (0u64, String::new());
        for c in t.chars() {
            if c.is_ascii_digit() {
                num.push(c);
                continue;
            }
            let n: u64 = num.parse().map_err(|_| bad())?;
            num.clear();
            let mult = match c {
                's' => 1,
                'm' => 60,
                'h' => 3600,
                'd' => 86400,
                _ => return Err(bad()),
            };
            total = total.saturating_add(n.saturating_mul(mult));
        }
        if !num.is_empty() || t.is_empty() {
            return Err(bad());
        }
        Ok(Duration(total))
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Duration;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("seconds or a duration such as 90s, 15m, 2h")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<Duration, E> {
                Duration(v).bounded(&v.to_string()).map_err(E::custom)
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<Duration, E> {
                let v = u64::try_from(v).map_err(|_| {
                    E::custom(format!("invalid duration {v}: must not be negative"))
                })?;
                self.visit_u64(v)
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<Duration, E> {
                Duration::parse(v).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// Most extra attempts a job may ask for.
pub const MAX_RETRIES: u32 = 100;

/// A number within `lo..=hi`, or an error (located by the parser) naming the field.
fn within<'de, D: serde::Deserializer<'de>>(
    d: D,
    field: &str,
    lo: u32,
    hi: u32,
) -> std::result::Result<u32, D::Error> {
    let v = u32::deserialize(d)?;
    if v < lo || v > hi {
        return Err(serde::de::Error::custom(format!(
            "`{field}` must be between {lo} and {hi}, got {v}"
        )));
    }
    Ok(v)
}

fn chunk<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<u32, D::Error> {
    within(
        d,
        "chunk",
        1,
        crate::chunk::MAX_FRAMES.try_into().unwrap_or(u32::MAX),
    )
}

fn retries<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<u32, D::Error> {
    within(d, "retries", 0, MAX_RETRIES)
}

fn threads<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<u32, D::Error> {
    within(d, "resources.threads", 0, shotline_config::MAX_THREADS)
}

fn gpus<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<u32, D::Error> {
    within(d, "resources.gpus", 0, shotline_config::MAX_GPUS)
}

/// A shot or step code: one safe path component (it becomes part of the output path).
fn component<'de, D: serde::Deserializer<'de>>(
    d: D,
    field: &str,
) -> std::result::Result<Option<String>, D::Error> {
    let v = String::deserialize(d)?;
    shotline_layout::check_component(field, &v).map_err(serde::de::Error::custom)?;
    Ok(Some(v))
}

fn shot<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Option<String>, D::Error> {
    component(d, "shot")
}

fn step<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Option<String>, D::Error> {
    component(d, "step")
}

fn env<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<BTreeMap<String, String>, D::Error> {
    let map = BTreeMap::<String, String>::deserialize(d)?;
    for k in map.keys() {
        check_env_key(k).map_err(serde::de::Error::custom)?;
    }
    Ok(map)
}

/// An environment variable name the renderer can actually receive: not empty, no `=` (which
/// would split it) and no NUL.
pub fn check_env_key(key: &str) -> std::result::Result<(), String> {
    if key.is_empty() || key.contains('=') || key.contains('\0') {
        return Err(format!(
            "`env` key {key:?} is not a variable name: it must be non-empty and hold no `=`"
        ));
    }
    Ok(())
}

impl JobSpec {
    /// Reads a spec file: JSON when it ends in `.json` or starts with `{`, YAML otherwise.
    pub fn from_file(path: &Path) -> Result<JobSpec> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| RenderError::io(format!("cannot read job spec {}", path.display()), e))?;
        JobSpec::parse(&text, path)
    }

    /// Parses spec text; `path` only names the source in errors and picks the format.
    pub fn parse(text: &str, path: &Path) -> Result<JobSpec> {
        let json =
            path.extension().is_some_and(|e| e == "json") || text.trim_start().starts_with('{');
        let parsed = if json {
            serde_json::from_str::<JobSpec>(text).map_err(|e| e.to_string())
        } else {
            serde_saphyr::from_str::<JobSpec>(text).map_err(|e| e.to_string())
        };
        let spec = parsed.map_err(|message| RenderError::Spec {
            path: path.to_path_buf(),
            // The parser's snippet names its source `<input>`; name the real file instead.
            message: message.replace("<input>", &path.display().to_string()),
        })?;
        if spec.frames.trim().is_empty() {
            return Err(RenderError::Spec {
                path: path.to_path_buf(),
                message: "missing `frames` (a frame range such as 1001-1100)".into(),
            });
        }
        Ok(spec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_spec_parses() {
        let s = JobSpec::parse(
            "preset: blender\nscene: a.blend\nframes: 1-10\nchunk: 5\nresources: {threads: 2, memory: 2GiB}\ntimeout: 2m\nafter: [3, comp]\n",
            Path::new("job.yaml"),
        )
        .unwrap();
        assert_eq!(s.preset, Preset::Blender);
        assert_eq!(s.resources.memory.0, 2 << 30);
        assert_eq!(s.timeout, Some(Duration(120)));
        assert_eq!(s.after, vec![JobRef::Id(3), JobRef::Name("comp".into())]);
    }

    #[test]
    fn unknown_key_has_line_and_column() {
        let err = JobSpec::parse("frames: 1-10\nchunck: 5\n", Path::new("job.yaml"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("job.yaml") && err.contains("chunck") && err.contains('2'),
            "{err}"
        );
    }

    #[test]
    fn json_spec_and_missing_frames() {
        let s = JobSpec::parse(
            r#"{"frames": "1-3", "command": "echo {start}"}"#,
            Path::new("j.json"),
        )
        .unwrap();
        assert_eq!(s.command, Some(Command::Line("echo {start}".into())));
        let s = JobSpec::parse(
            "frames: 1\ncommand: [sleep, 5, true]\n",
            Path::new("j.yaml"),
        )
        .unwrap();
        assert_eq!(
            s.command,
            Some(Command::Args(vec![
                "sleep".into(),
                "5".into(),
                "true".into()
            ]))
        );
        assert!(JobSpec::parse("chunk: 2\n", Path::new("j.yaml")).is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(Duration::parse("1h30m").unwrap().0, 5400);
        assert_eq!(Duration::parse("45").unwrap().0, 45);
        assert!(Duration::parse("soon").is_err());
        assert!(Duration::parse("99999999999999").is_err());
        assert!(Duration::parse("99999999999999d").is_err());
    }

    #[test]
    fn accepted_but_wrong_values_are_errors_naming_file_field_and_line() {
        for (yaml, field) in [
            ("frames: 1-10\nchunk: 0\n", "chunk"),
            ("frames: 1-10\nenv: {'': x}\n", "env"),
            ("frames: 1-10\nenv: {'A=B': x}\n", "env"),
            ("frames: 1-10\ntimeout: 99999999999999\n", "too long"),
            (
                "frames: 1-10\nresources: {threads: 99999}\n",
                "resources.threads",
            ),
            ("frames: 1-10\nretries: 1000\n", "retries"),
            ("frames: 1-10\nshot: ../SH010\n", "shot"),
            ("frames: 1-10\nstep: ''\n", "step"),
        ] {
            let err = JobSpec::parse(yaml, Path::new("/shots/job.yaml"))
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("/shots/job.yaml")
                    && err.contains(field)
                    && err.contains('2')
                    && !err.contains("<input>"),
                "{yaml}: {err}"
            );
        }
    }
}
