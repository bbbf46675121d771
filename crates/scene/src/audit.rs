//! Findings about a scene, with the stable codes and the severities `validate` uses.

use std::path::Path;

use shotline_frames::FrameSet;
use shotline_qc::Severity;

use crate::resolve::{Project, ResolvedNode, Status};
use crate::Scene;

/// The kind of problem. Codes are part of the JSON schema: never rename, only add.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Code {
    /// A newer version of what the node reads exists.
    Outdated,
    /// Nothing on disk where an input points.
    MissingMedia,
    /// The node's range, the frames on disk and the shot's cut disagree.
    RangeMismatch,
    /// The scene's (or the media's) frame rate is not the project's.
    FpsMismatch,
    /// The scene's frame size is not the project's.
    ResolutionMismatch,
    /// The node reads from another project.
    OtherProject,
    /// An output (Saver, Write) is disabled or in pass-through: it renders nothing.
    Passthrough,
    /// An output with nothing connected to its input.
    OutputWithoutInput,
    /// An output's folder cannot be written here.
    OutputDirNotWritable,
    /// A path that is an expression, kept as written and not evaluated.
    UnresolvedExpression,
}

impl Code {
    /// The default severity of the code.
    pub fn severity(self) -> Severity {
        use Code::*;
        match self {
            MissingMedia | OtherProject | OutputWithoutInput | OutputDirNotWritable => {
                Severity::Error
            }
            Outdated | RangeMismatch | FpsMismatch | ResolutionMismatch | Passthrough
            | UnresolvedExpression => Severity::Warning,
        }
    }

    /// The code as written in reports (`missing-media`).
    pub fn as_str(self) -> &'static str {
        use Code::*;
        match self {
            Outdated => "outdated",
            MissingMedia => "missing-media",
            RangeMismatch => "range-mismatch",
            FpsMismatch => "fps-mismatch",
            ResolutionMismatch => "resolution-mismatch",
            OtherProject => "other-project",
            Passthrough => "passthrough",
            OutputWithoutInput => "output-without-input",
            OutputDirNotWritable => "output-dir-not-writable",
            UnresolvedExpression => "unresolved-expression",
        }
    }

    /// Every code, in report order.
    pub const ALL: [Code; 10] = [
        Code::Outdated,
        Code::MissingMedia,
        Code::RangeMismatch,
        Code::FpsMismatch,
        Code::ResolutionMismatch,
        Code::OtherProject,
        Code::Passthrough,
        Code::OutputWithoutInput,
        Code::OutputDirNotWritable,
        Code::UnresolvedExpression,
    ];
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem found in a scene: `validate`'s shape (severity, code, path, frames, detail)
/// plus the scene file and the node.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Finding {
    /// Error or warning.
    pub severity: Severity,
    /// What kind of problem.
    pub code: Code,
    /// The scene file.
    pub scene: String,
    /// The node concerned (`None` for scene-wide findings).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// The path as written in the scene (or the scene file for scene-wide findings).
    pub path: String,
    /// The frames concerned, as a plain range list (`1051-1100`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frames: Option<String>,
    /// A sentence for humans with the numbers that matter.
    pub detail: String,
}

struct Out<'a> {
    scene: &'a Scene,
    findings: Vec<Finding>,
}

impl Out<'_> {
    fn add(&mut self, code: Code, node: Option<&ResolvedNode>, detail: String) -> &mut Finding {
        let path = node
            .and_then(|n| n.node.path.as_ref().map(|p| p.text.clone()))
            .unwrap_or_else(|| self.scene.path.display().to_string());
        let mut severity = code.severity();
        if code == Code::MissingMedia && node.is_some_and(|n| n.node.flags.disabled) {
            severity = Severity::Warning;
        }
        self.findings.push(Finding {
            severity,
            code,
            scene: self.scene.path.display().to_string(),
            node: node.map(|n| n.node.name.clone()),
            path,
            frames: None,
            detail,
        });
        self.findings.last_mut().expect("just pushed")
    }
}

/// Audits a resolved scene against the project.
pub fn audit(scene: &Scene, nodes: &[ResolvedNode], project: &Project<'_>) -> Vec<Finding> {
    let mut out = Out {
        scene,
        findings: Vec::new(),
    };
    scene_settings(&mut out, project);
    for n in nodes {
        if n.node.kind.is_output() {
            output(&mut out, n);
        } else {
            input(&mut out, n, scene, project);
        }
    }
    out.findings
}

fn scene_settings(out: &mut Out<'_>, project: &Project<'_>) {
    let s = &out.scene.settings;
    if let (Some(have), Some(want)) = (s.fps, project.fps) {
        if (have - want).abs() > 0.001 {
            out.add(
                Code::FpsMismatch,
                None,
                format!("the scene runs at {have} fps; the project is {want} fps"),
            );
        }
    }
    if let (Some(w), Some(h), Some((pw, ph))) = (s.width, s.height, project.size) {
        if (w, h) != (pw, ph) {
            out.add(
                Code::ResolutionMismatch,
                None,
                format!("the scene's format is {w}x{h}; the project is {pw}x{ph}"),
            );
        }
    }
    let shot = crate::resolve::scene_fields(&out.scene.path, project).and_then(|f| f.shot);
    if let (Some(range), Some(shot)) = (&s.range, shot) {
        if let Some(cut) = project.cuts.get(&shot) {
            if let Some(missing) = difference(cut, range) {
                let f = out.add(
                    Code::RangeMismatch,
                    None,
                    format!(
                        "the scene's range {} does not cover {shot}'s cut {}",
                        plain(range),
                        plain(cut)
                    ),
                );
                f.frames = Some(missing);
            }
        }
    }
}

fn output(out: &mut Out<'_>, n: &ResolvedNode) {
    if n.node.flags.disabled {
        out.add(
            Code::Passthrough,
            Some(n),
            format!(
                "{} {} is disabled: it renders nothing",
                n.node.class, n.node.name
            ),
        );
    } else if n.node.flags.has_input == Some(false) {
        out.add(
            Code::OutputWithoutInput,
            Some(n),
            format!(
                "{} {} has nothing connected to its input",
                n.node.class, n.node.name
            ),
        );
    }
    if n.node.flags.expression {
        out.add(
            Code::UnresolvedExpression,
            Some(n),
            "the output path is an expression; it was not evaluated".into(),
        );
        return;
    }
    if n.unmapped {
        out.add(
            Code::OutputDirNotWritable,
            Some(n),
            "a Windows path that no paths.map rule maps to this machine".into(),
        );
        return;
    }
    let Some(dir) = n.mapped.as_deref().and_then(Path::parent) else {
        return;
    };
    if let Some(why) = not_writable(dir) {
        out.add(Code::OutputDirNotWritable, Some(n), why);
    }
}

/// Why `dir` (or, when it does not exist yet, the folder it would be created in) cannot be
/// written; `None` when it can.
fn not_writable(dir: &Path) -> Option<String> {
    let existing = dir.ancestors().find(|a| a.exists())?;
    if !existing.is_dir() {
        return Some(format!("{} is not a folder", existing.display()));
    }
    match rustix::fs::access(existing, rustix::fs::Access::WRITE_OK) {
        Ok(()) => None,
        Err(e) => Some(if existing == dir {
            format!("{} cannot be written: {e}", dir.display())
        } else {
            format!(
                "{} does not exist and {} cannot be written to create it: {e}",
                dir.display(),
                existing.display()
            )
        }),
    }
}

fn input(out: &mut Out<'_>, n: &ResolvedNode, scene: &Scene, project: &Project<'_>) {
    match n.status {
        Status::Unresolved => {
            out.add(
                Code::UnresolvedExpression,
                Some(n),
                "the path is an expression; it was not evaluated, so nothing about it was checked"
                    .into(),
            );
            return;
        }
        Status::Missing => {
            let detail = if n.unmapped {
                "a Windows path that no paths.map rule maps to this machine".to_string()
            } else {
                match &n.mapped {
                    Some(m) => format!("nothing on disk at {}", m.display()),
                    None => "nothing on disk".into(),
                }
            };
            out.add(Code::MissingMedia, Some(n), detail);
        }
        Status::OtherProject => {
            out.add(
                Code::OtherProject,
                Some(n),
                format!(
                    "reads from another project ({})",
                    n.mapped.as_deref().unwrap_or(Path::new("")).display()
                ),
            );
        }
        _ => {}
    }
    if let (Some(v), Some(l)) = (&n.version, &n.latest) {
        if l.version > v.version {
            out.add(
                Code::Outdated,
                Some(n),
                format!(
                    "reads {}; the newest is {}{}",
                    v.label(),
                    l.version,
                    l.id.map(|i| format!(" (id {i})")).unwrap_or_default()
                ),
            );
        }
    }
    if let (Some(want), Some(disk)) = (&n.node.media_frames, &n.on_disk) {
        if n.exists && !n.node.flags.looped {
            if let Some(missing) = difference(want, disk) {
                let f = out.add(
                    Code::RangeMismatch,
                    Some(n),
                    format!(
                        "reads frames {}; the disk holds {}",
                        plain(want),
                        if disk.is_empty() {
                            "none".into()
                        } else {
                            plain(disk)
                        }
                    ),
                );
                f.frames = Some(missing);
            }
        }
    }
    let shot = n.fields.as_ref().and_then(|f| f.shot.clone());
    if let (Some(range), Some(shot)) = (&n.node.range, shot) {
        if let Some(cut) = project.cuts.get(&shot) {
            if let Some(missing) = difference(cut, range) {
                let f = out.add(
                    Code::RangeMismatch,
                    Some(n),
                    format!(
                        "covers {} in the scene; {shot}'s cut is {}",
                        plain(range),
                        plain(cut)
                    ),
                );
                f.frames = Some(missing);
            }
        }
    }
    if let (Some(v), Some(want)) = (&n.version, scene.settings.fps.or(project.fps)) {
        if let Some(have) = v.fps {
            if (have - want).abs() > 0.001 {
                out.add(
                    Code::FpsMismatch,
                    Some(n),
                    format!(
                        "{} was published at {have} fps; the scene runs at {want} fps",
                        v.label()
                    ),
                );
            }
        }
    }
}

/// The frames of `want` not in `have`, as a plain list, `None` when there are none.
fn difference(want: &FrameSet, have: &FrameSet) -> Option<String> {
    let d = want.difference(have).ok()?;
    (!d.is_empty()).then(|| plain(&d))
}

/// `1001-1003,1007`: ascending, runs folded, no step syntax (`validate`'s spelling, through
/// its one implementation).
pub(crate) fn plain(set: &FrameSet) -> String {
    match set.to_vec_capped(1_000_000) {
        Ok(mut frames) => {
            frames.sort_unstable();
            frames.dedup();
            shotline_qc::format_frames(&frames)
        }
        Err(_) => set.to_string(),
    }
}
