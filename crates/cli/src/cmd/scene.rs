//! `shotline scene ls|audit|update`: media nodes of Fusion, Nuke and Maya scenes, read as text
//! and never executed; version control of their paths. The `--json` schemas are documented in
//! `docs/scene.md`.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use clap::Subcommand;
use serde::Serialize;
use shotline_scene::{
    Dcc, Finding, PathMap, Project, ResolvedNode, Scene, Severity, Status, Target, UpdatePlan,
    UpdateRequest, VersionIndex,
};

use crate::context::Ctx;
use crate::output::{Exit, Printer, Style};

const LS_EXAMPLES: &str = "\
Examples:
  shotline scene ls shots/SH010/comp/work/SH010_comp_v004.nk
  shotline scene ls *.comp --json | jq 'select(.status == \"outdated\")'

Statuses: latest, outdated, missing, unmanaged, other-project, untracked (in the project but in
no version folder), unresolved (an expression, not evaluated), output (a Write/Saver).
Formats: Fusion .comp/.setting, Nuke .nk, Maya ASCII .ma. Windows paths are mapped through
paths.map in shotline.yaml.";

const AUDIT_EXAMPLES: &str = "\
Examples:
  shotline scene audit SH010_comp_v004.nk
  shotline scene audit --strict --json lighting.ma | jq .summary.by_code

Checks: outdated, missing-media, range-mismatch, fps-mismatch, resolution-mismatch,
other-project, passthrough, output-without-input, output-dir-not-writable, unresolved-expression.
Exit codes: 0 clean, 1 errors found (or warnings with --strict), 2 unreadable scene or config.";

const UPDATE_EXAMPLES: &str = "\
Examples:
  shotline scene update SH010_comp_v004.nk --all --dry-run      what would change, as a diff
  shotline scene update SH010_comp_v004.nk --node Plate --to up
  shotline scene update lighting.ma --node charRN --to v003
  shotline scene update comp.comp --all                          every loader to its latest

Only the path strings (and the frame numbers a new version's range implies, trims kept) are
rewritten; every other byte stays. The previous file is kept in .shotline-backup/ beside the
scene. Refused when another user holds the store lock on the scene (scene:<path>) or its task
(shot/SH010/comp), or when the file cannot be written.
Exit codes: 0 updated (or nothing to do), 1 refused (locked, not writable), 2 bad input.";

/// `shotline scene …`.
#[derive(Debug, Subcommand)]
pub enum SceneCmd {
    /// Every media node of the scenes: path, range, version and status.
    #[command(after_help = LS_EXAMPLES)]
    Ls(FilesArgs),
    /// Check scenes: outdated or missing media, ranges, fps, format, outputs.
    #[command(after_help = AUDIT_EXAMPLES)]
    Audit(AuditArgs),
    /// Move nodes to another version, rewriting only their paths.
    #[command(after_help = UPDATE_EXAMPLES)]
    Update(UpdateArgs),
}

/// Scene files.
#[derive(Debug, clap::Args)]
pub struct FilesArgs {
    /// Scene files (.comp, .setting, .nk, .ma).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

/// Arguments of `scene audit`.
#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// Scene files (.comp, .setting, .nk, .ma).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Exit 1 on warnings too.
    #[arg(long)]
    pub strict: bool,
}

/// Arguments of `scene update`.
#[derive(Debug, clap::Args)]
pub struct UpdateArgs {
    /// The scene file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// A node to update (repeatable); see `scene ls` for the names.
    #[arg(long = "node", value_name = "NAME")]
    pub nodes: Vec<String>,
    /// Where to move: latest, up, down or a version (v003).
    #[arg(long, default_value = "latest", value_parser = parse_target)]
    pub to: Target,
    /// Every node that reads a version.
    #[arg(long, conflicts_with = "nodes")]
    pub all: bool,
    /// Print the change as a unified diff; write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

fn parse_target(s: &str) -> Result<Target, String> {
    s.parse()
}

/// Runs `scene …`.
pub fn run(cmd: &SceneCmd, ctx: &Ctx) -> Result<Exit> {
    match cmd {
        SceneCmd::Ls(a) => ls(a, ctx),
        SceneCmd::Audit(a) => audit(a, ctx),
        SceneCmd::Update(a) => update(a, ctx),
    }
}

/// Everything resolution needs, loaded once per command: the layout, the path map, every
/// registered version (one query) and the shots' cuts.
pub(crate) struct ProjectData {
    layout: shotline_layout::Layout,
    paths: PathMap,
    versions: VersionIndex,
    code: String,
    fps: Option<f64>,
    size: Option<(u32, u32)>,
    cuts: HashMap<String, shotline_frames::FrameSet>,
}

impl ProjectData {
    pub(crate) fn load(ctx: &Ctx) -> Result<ProjectData> {
        let cfg = &ctx.config.config;
        let layout = super::validate::load_layout(ctx)?.model;
        let paths = PathMap::new(&cfg.paths.map);
        let mut data = ProjectData {
            layout,
            paths,
            versions: VersionIndex::default(),
            code: cfg.project.code.clone(),
            fps: Some(cfg.project.fps),
            size: Some((cfg.project.width, cfg.project.height)),
            cuts: HashMap::new(),
        };
        let db = super::track::common::db_path(ctx);
        if db.is_file() {
            // An unusable database is a warning, never a reason to skip the audit: the version
            // folders on disk still say what is newest.
            if let Err(e) = data.read_store(ctx) {
                ctx.out.warn(format!(
                    "versions not read from the tracking database {}: {e:#}; using the version folders on disk",
                    db.display()
                ));
            }
        }
        Ok(data)
    }

    /// Every registered version (one lean streamed query: place and frames, no history), the
    /// project's fps and size, the cuts.
    fn read_store(&mut self, ctx: &Ctx) -> Result<()> {
        let store = super::track::common::open_ro(ctx)?;
        let mut all = Vec::new();
        store.version_places_each(|v| {
            all.push(v);
            Ok::<(), shotline_store::StoreError>(())
        })?;
        let p = store.project();
        if self.code.is_empty() {
            self.code = p.code.clone();
        }
        self.fps = Some(p.fps);
        self.size = Some((p.width, p.height));
        for s in store.shots(None)? {
            if let Some(cut) = shotline_scene_span(s.frame_in, s.frame_out) {
                self.cuts.insert(s.code, cut);
            }
        }
        self.versions = VersionIndex::from_places(all);
        tracing::info!(
            versions = self.versions.len(),
            shots = self.cuts.len(),
            "project loaded"
        );
        Ok(())
    }

    pub(crate) fn project(&self) -> Project<'_> {
        Project {
            layout: &self.layout,
            paths: &self.paths,
            versions: &self.versions,
            code: self.code.clone(),
            fps: self.fps,
            size: self.size,
            cuts: &self.cuts,
        }
    }
}

fn shotline_scene_span(a: i64, b: i64) -> Option<shotline_frames::FrameSet> {
    if b < a {
        return None;
    }
    shotline_frames::Run::new(a, b, 1)
        .ok()
        .and_then(|r| shotline_frames::FrameSet::from_runs([r]).ok())
}

fn abs(ctx: &Ctx, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        ctx.cwd.join(p)
    }
}

/// Reads and resolves one scene.
pub(crate) fn load_scene(
    ctx: &Ctx,
    data: &ProjectData,
    file: &Path,
) -> Result<(Scene, Vec<ResolvedNode>)> {
    let path = abs(ctx, file);
    let scene = shotline_scene::read_scene(&path)?;
    let nodes = shotline_scene::resolve(&scene, &data.project());
    Ok((scene, nodes))
}

#[derive(Serialize)]
struct LsRecord<'a> {
    scene: String,
    dcc: Dcc,
    #[serde(flatten)]
    node: &'a ResolvedNode,
}

fn ls(a: &FilesArgs, ctx: &Ctx) -> Result<Exit> {
    let data = ProjectData::load(ctx)?;
    for file in &a.files {
        let (scene, nodes) = load_scene(ctx, &data, file)?;
        if ctx.out.json() {
            for n in &nodes {
                ctx.out.json_line(&LsRecord {
                    scene: scene.path.display().to_string(),
                    dcc: scene.dcc,
                    node: n,
                })?;
            }
            continue;
        }
        ctx.out.line(ctx.out.paint(
            format!(
                "{} ({}, {} media nodes{})",
                scene.path.display(),
                scene.dcc.name(),
                nodes.len(),
                settings_text(&scene)
            ),
            Style::Bold,
        ))?;
        let rows: Vec<Vec<String>> = nodes.iter().map(|n| ls_row(&ctx.out, n)).collect();
        ctx.out.table(
            &["NODE", "KIND", "PATH", "RANGE", "ITEM", "VERSION", "STATUS"],
            &rows,
        )?;
    }
    Ok(Exit::Clean)
}

fn settings_text(scene: &Scene) -> String {
    let s = &scene.settings;
    let mut parts = Vec::new();
    if let Some(r) = &s.range {
        parts.push(format!("range {r}"));
    }
    if let Some(f) = s.fps {
        parts.push(format!("{f} fps"));
    }
    if let (Some(w), Some(h)) = (s.width, s.height) {
        parts.push(format!("{w}x{h}"));
    }
    if !s.render_layers.is_empty() {
        parts.push(format!("layers {}", s.render_layers.join(",")));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("; {}", parts.join(", "))
    }
}

fn status_cell(out: &Printer, n: &ResolvedNode) -> String {
    let text = match (n.status, &n.latest) {
        (Status::Outdated, Some(l)) => format!("outdated ({} newest)", l.version),
        (s, _) => s.name().to_string(),
    };
    let style = match n.status {
        Status::Latest | Status::Output => Style::Green,
        Status::Outdated | Status::Untracked | Status::Unresolved | Status::Unmanaged => {
            Style::Yellow
        }
        Status::Missing | Status::OtherProject => Style::Red,
    };
    out.paint(text, style)
}

fn ls_row(out: &Printer, n: &ResolvedNode) -> Vec<String> {
    let item = n
        .version
        .as_ref()
        .map(|v| {
            if v.resource.is_empty() {
                format!("{} {}", v.item, v.step)
            } else {
                format!("{} {}/{}", v.item, v.step, v.resource)
            }
        })
        .or_else(|| {
            n.fields.as_ref().and_then(|f| {
                Some(format!(
                    "{} {}",
                    f.item()?,
                    f.step.clone().unwrap_or_default()
                ))
            })
        })
        .unwrap_or_else(|| "-".into());
    let mut flags = Vec::new();
    if n.node.flags.disabled {
        flags.push("disabled");
    }
    if n.node.flags.has_input == Some(false) {
        flags.push("no input");
    }
    let kind = if flags.is_empty() {
        n.node.kind.name().to_string()
    } else {
        format!("{} ({})", n.node.kind.name(), flags.join(", "))
    };
    vec![
        n.node.name.clone(),
        kind,
        n.node
            .path
            .as_ref()
            .map(|p| p.text.clone())
            .unwrap_or_else(|| "-".into()),
        n.node
            .range
            .as_ref()
            .map(|r| r.to_string())
            .unwrap_or_else(|| "-".into()),
        item,
        n.version
            .as_ref()
            .map(|v| v.version.to_string())
            .unwrap_or_else(|| "-".into()),
        status_cell(out, n),
    ]
}

/// The `--json` document of `scene audit`.
#[derive(Serialize)]
struct AuditReport {
    schema: &'static str,
    ok: bool,
    strict: bool,
    scenes: Vec<SceneSummary>,
    findings: Vec<Finding>,
    summary: Summary,
}

#[derive(Serialize)]
pub(crate) struct SceneSummary {
    path: String,
    dcc: Dcc,
    settings: shotline_scene::SceneSettings,
    nodes: usize,
    by_status: BTreeMap<String, usize>,
}

#[derive(Serialize, Default)]
struct Summary {
    scenes: usize,
    nodes: usize,
    errors: usize,
    warnings: usize,
    by_code: BTreeMap<String, usize>,
}

/// Audits scenes and returns their findings with a per-scene summary (also used by
/// `render submit` before it queues a scene).
pub(crate) fn audit_files(
    ctx: &Ctx,
    data: &ProjectData,
    files: &[PathBuf],
) -> Result<(Vec<SceneSummary>, Vec<Finding>)> {
    let mut scenes = Vec::new();
    let mut findings = Vec::new();
    for file in files {
        let (scene, nodes) = load_scene(ctx, data, file)?;
        let f = shotline_scene::audit(&scene, &nodes, &data.project());
        let mut by_status = BTreeMap::new();
        for n in &nodes {
            *by_status.entry(n.status.name().to_string()).or_insert(0) += 1;
        }
        scenes.push(SceneSummary {
            path: scene.path.display().to_string(),
            dcc: scene.dcc,
            settings: scene.settings.clone(),
            nodes: nodes.len(),
            by_status,
        });
        findings.extend(f);
    }
    Ok((scenes, findings))
}

fn audit(a: &AuditArgs, ctx: &Ctx) -> Result<Exit> {
    let data = ProjectData::load(ctx)?;
    let (scenes, findings) = audit_files(ctx, &data, &a.files)?;
    let mut summary = Summary {
        scenes: scenes.len(),
        nodes: scenes.iter().map(|s| s.nodes).sum(),
        ..Summary::default()
    };
    for f in &findings {
        match f.severity {
            Severity::Error => summary.errors += 1,
            Severity::Warning => summary.warnings += 1,
        }
        *summary.by_code.entry(f.code.to_string()).or_insert(0) += 1;
    }
    let failed = summary.errors > 0 || (a.strict && summary.warnings > 0);
    if ctx.out.json() {
        ctx.out.json_doc(&AuditReport {
            schema: "shotline.scene.audit/1",
            ok: !failed,
            strict: a.strict,
            scenes,
            findings,
            summary,
        })?;
        return Ok(Exit::problems_if(failed));
    }
    for s in &scenes {
        ctx.out.line(ctx.out.paint(
            format!("{} ({}, {} media nodes)", s.path, s.dcc.name(), s.nodes),
            Style::Bold,
        ))?;
        for f in findings.iter().filter(|f| f.scene == s.path) {
            finding_line(&ctx.out, f)?;
        }
    }
    let verdict = if failed {
        ctx.out.paint("FAIL", Style::Red)
    } else {
        ctx.out.paint("OK", Style::Green)
    };
    ctx.out.line(format!(
        "{verdict}: {} scene(s), {} media nodes: {} errors, {} warnings",
        summary.scenes, summary.nodes, summary.errors, summary.warnings
    ))?;
    Ok(Exit::problems_if(failed))
}

pub(crate) fn finding_line(out: &Printer, f: &Finding) -> Result<()> {
    let sev = match f.severity {
        Severity::Error => out.paint("error  ", Style::Red),
        Severity::Warning => out.paint("warning", Style::Yellow),
    };
    let frames = f
        .frames
        .as_deref()
        .map(|r| format!(" [{r}]"))
        .unwrap_or_default();
    let node = f
        .node
        .as_deref()
        .map(|n| format!("{n}: "))
        .unwrap_or_default();
    out.line(format!("  {sev} {}: {node}{}{frames}", f.code, f.detail))?;
    Ok(())
}

#[derive(Serialize)]
struct UpdateReport<'a> {
    schema: &'static str,
    scene: String,
    dry_run: bool,
    written: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    backup: Option<String>,
    #[serde(flatten)]
    plan: &'a UpdatePlan,
    #[serde(skip_serializing_if = "Option::is_none")]
    diff: Option<String>,
}

fn update(a: &UpdateArgs, ctx: &Ctx) -> Result<Exit> {
    let data = ProjectData::load(ctx)?;
    let path = abs(ctx, &a.file);
    let dcc = Dcc::from_path(&path)
        .ok_or_else(|| shotline_scene::SceneError::UnknownFormat { path: path.clone() })?;
    let original =
        std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let scene = shotline_scene::read_scene_from(&path, dcc, &original[..])?;
    let project = data.project();
    let nodes = shotline_scene::resolve(&scene, &project);
    let req = UpdateRequest {
        nodes: a.nodes.clone(),
        all: a.all,
        to: a.to,
    };
    let plan = shotline_scene::update(&scene, &original, &nodes, &req, &project)?;
    let label = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    for s in &plan.skipped {
        ctx.out
            .note(format!("{}: left as it is: {}", s.node, s.reason));
    }
    if plan.edits.is_empty() {
        if ctx.out.json() {
            ctx.out.json_doc(&UpdateReport {
                schema: "shotline.scene.update/1",
                scene: path.display().to_string(),
                dry_run: a.dry_run,
                written: false,
                backup: None,
                plan: &plan,
                diff: None,
            })?;
        } else {
            ctx.out.line("nothing to change")?;
        }
        return Ok(Exit::Clean);
    }
    let diff = shotline_scene::unified_diff(&label, &original, &plan.edits);
    if a.dry_run {
        if ctx.out.json() {
            ctx.out.json_doc(&UpdateReport {
                schema: "shotline.scene.update/1",
                scene: path.display().to_string(),
                dry_run: true,
                written: false,
                backup: None,
                plan: &plan,
                diff: Some(diff),
            })?;
        } else {
            ctx.out.line(diff.trim_end())?;
        }
        return Ok(Exit::Clean);
    }
    if let Some(why) = not_writable(&path) {
        ctx.out.error(format!("{}: refused: {why}", path.display()));
        return Ok(Exit::Problems);
    }
    let locks = shotline_scene::lock_names(&path, &project);
    let mut held = None;
    if super::track::common::db_path(ctx).is_file() {
        let mut store = super::track::common::open_rw(ctx)?;
        let me = super::track::common::actor();
        let now = shotline_store::now();
        if let Some(l) = store.locks()?.into_iter().find(|l| {
            l.owner != me.owner()
                && l.expires_at > now
                && locks.iter().any(|n| n.eq_ignore_ascii_case(&l.what))
        }) {
            ctx.out.error(format!(
                "{}: refused: {} is locked by {} until {}",
                path.display(),
                l.what,
                l.owner,
                l.expires_at
            ));
            return Ok(Exit::Problems);
        }
        match store.acquire_lock(&me, &locks[0], 300) {
            Ok(_) => held = Some((store, me)),
            Err(shotline_store::StoreError::Locked {
                what,
                owner,
                expires,
            }) => {
                ctx.out.error(format!(
                    "{}: refused: {what} is locked by {owner} until {expires}",
                    path.display()
                ));
                return Ok(Exit::Problems);
            }
            Err(e) => return Err(e.into()),
        }
    }
    let new = shotline_scene::apply_edits(&original, &plan.edits);
    let stamp = shotline_store::now().replace([':', '-'], "");
    let written = shotline_scene::write_with_backup(&path, &original, &new, &stamp);
    if let Some((mut store, me)) = held {
        if let Err(e) = store.release_lock(&me, &locks[0]) {
            ctx.out
                .warn(format!("could not release the lock {}: {e}", locks[0]));
        }
    }
    let backup = written?;
    if ctx.out.json() {
        ctx.out.json_doc(&UpdateReport {
            schema: "shotline.scene.update/1",
            scene: path.display().to_string(),
            dry_run: false,
            written: true,
            backup: Some(backup.display().to_string()),
            plan: &plan,
            diff: Some(diff),
        })?;
    } else {
        for c in &plan.changes {
            ctx.out
                .line(format!("{}: {} → {}", c.node, c.from.label(), c.to.version))?;
        }
        ctx.out.note(format!(
            "updated {} ({} node(s), {} edit(s)); previous file kept at {}",
            path.display(),
            plan.changes.len(),
            plan.edits.len(),
            backup.display()
        ));
    }
    Ok(Exit::Clean)
}

/// Why the scene cannot be rewritten in place: the file or its folder is not writable, or the
/// file is marked read-only (no write bit for anyone). The mark is honoured even for root: a
/// studio marks delivered or approved scenes read-only, and a render node running as root must
/// not rewrite them.
fn not_writable(path: &Path) -> Option<String> {
    let dir = path.parent().unwrap_or(Path::new("."));
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.permissions().readonly() {
            return Some(format!(
                "the file {} is marked read-only (no write permission for anyone)",
                path.display()
            ));
        }
    }
    for (what, p) in [("the file", path), ("its folder", dir)] {
        if let Err(e) = rustix::fs::access(p, rustix::fs::Access::WRITE_OK) {
            return Some(format!("{what} {} is not writable: {e}", p.display()));
        }
    }
    None
}

/// What `publish` prints for a scene file.
#[derive(Serialize)]
struct PublishedScene<'a> {
    published: bool,
    version: &'a shotline_store::Version,
    uses: Vec<String>,
}

/// `publish` of a scene file (.comp, .setting, .nk, .ma): the file is read (so a broken scene
/// is refused), every node that reads a registered version is recorded as a `uses`
/// dependency (with any `--uses` given), and the file is registered as one version.
pub(crate) fn publish_scene(
    a: &super::track::PublishArgs,
    ctx: &Ctx,
    path: &Path,
    item: shotline_store::ItemRef,
    state: shotline_store::State,
) -> Result<Exit> {
    let path = path
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", path.display()))?;
    let data = ProjectData::load(ctx)?;
    let (_, nodes) = load_scene(ctx, &data, &path)?;
    let mut uses = a.uses.clone();
    let mut used = Vec::new();
    for n in nodes.iter().filter(|n| !n.node.kind.is_output()) {
        if let Some((v, id)) = n.version.as_ref().and_then(|v| Some((v, v.id?))) {
            if !uses.contains(&id) {
                uses.push(id);
                used.push(format!("{} (id {id})", v.label()));
            }
        }
    }
    let meta =
        std::fs::metadata(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let files = shotline_store::Files {
        dir: path
            .parent()
            .map(|d| d.display().to_string())
            .unwrap_or_default(),
        pattern: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        bytes: i64::try_from(meta.len()).unwrap_or(i64::MAX),
        file_count: 1,
        ..shotline_store::Files::default()
    };
    let new = shotline_store::NewVersion {
        item,
        step: a.step.clone(),
        resource: a.resource.clone(),
        number: None,
        state,
        files,
        comment: a.comment.clone(),
        source: "publish".into(),
        uses,
        tags: a.tags.clone(),
    };
    let mut store = super::track::common::open_rw(ctx)?;
    let v = store.publish(&super::track::common::actor(), new)?;
    if ctx.out.json() {
        ctx.out.json_doc(&PublishedScene {
            published: true,
            version: &v,
            uses: used,
        })?;
    } else {
        ctx.out.line(format!(
            "Published {} (id {}): scene {}",
            shotline_store::version_name(&v.item.code, &v.step, &v.resource, v.number),
            v.id,
            v.files.pattern
        ))?;
        for u in &used {
            ctx.out.line(format!("  uses {u}"))?;
        }
    }
    Ok(Exit::Clean)
}

/// What `render submit` does with a scene shotline reads before it queues anything: the
/// scene is audited (errors refuse the submit unless `force`), and `--layer all` on a Maya
/// scene becomes one spec per renderable layer. `Err(exit)` means: do not submit.
pub(crate) fn before_submit(
    ctx: &Ctx,
    spec: shotline_render::JobSpec,
    force: bool,
    wait: bool,
) -> Result<std::result::Result<Vec<shotline_render::JobSpec>, Exit>> {
    let Some(scene) = spec.scene.clone() else {
        return Ok(Ok(vec![spec]));
    };
    let all_layers = spec.layer.as_deref() == Some("all");
    let Some(dcc) = Dcc::from_path(&scene) else {
        if all_layers {
            anyhow::bail!(
                "--layer all needs a Maya ASCII scene (.ma) to read its render layers from; {} is not one",
                scene.display()
            );
        }
        return Ok(Ok(vec![spec]));
    };
    let data = ProjectData::load(ctx)?;
    let (_, findings) = audit_files(ctx, &data, std::slice::from_ref(&scene))?;
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    for f in &findings {
        let node = f
            .node
            .as_deref()
            .map(|n| format!("{n}: "))
            .unwrap_or_default();
        let text = format!("scene audit: {} {node}{}", f.code, f.detail);
        match f.severity {
            Severity::Error => ctx.out.error(text),
            Severity::Warning => ctx.out.warn(text),
        }
    }
    if errors > 0 && !force {
        ctx.out.error(format!(
            "not submitted: the audit of {} found {errors} error(s) (fix them, or --force to submit anyway)",
            scene.display()
        ));
        return Ok(Err(Exit::Problems));
    }
    if errors > 0 {
        ctx.out.warn(format!(
            "submitting despite {errors} audit error(s) (--force)"
        ));
    }
    if !all_layers {
        return Ok(Ok(vec![spec]));
    }
    if dcc != Dcc::Maya {
        anyhow::bail!(
            "--layer all reads render layers from Maya ASCII scenes (.ma); {} is a {} scene: name the write node or layer",
            scene.display(),
            dcc.name()
        );
    }
    if wait {
        anyhow::bail!(
            "--layer all queues one job per render layer; submit without --wait, then run `shotline render worker`"
        );
    }
    let parsed = shotline_scene::read_scene(&scene)?;
    let mut layers = parsed.settings.render_layers.clone();
    if layers.is_empty() {
        layers.push("defaultRenderLayer".into());
    }
    let base = spec.name.clone().unwrap_or_else(|| {
        scene
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "maya".into())
    });
    Ok(Ok(layers
        .into_iter()
        .map(|layer| {
            let mut s = spec.clone();
            s.name = Some(format!("{base}_{layer}"));
            s.layer = Some(layer);
            s
        })
        .collect()))
}
