//! `shotline init`: a project's shotline.yaml and database, never over existing ones.

use anyhow::{bail, Context as _, Result};
use serde::Serialize;
use shotline_fsio::Overwrite;
use shotline_store::{NewProject, Project, Store};

use super::common;
use super::InitArgs;
use crate::context::Ctx;
use crate::output::Exit;

#[derive(Serialize)]
struct Report<'a> {
    config: String,
    database: String,
    admin: &'a str,
    project: &'a Project,
}

/// Runs `init`.
pub fn run(a: &InitArgs, ctx: &Ctx) -> Result<Exit> {
    let dir = if a.dir.is_absolute() {
        a.dir.clone()
    } else {
        ctx.cwd.join(&a.dir)
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let dir = dir
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", dir.display()))?;
    let config_path = dir.join(shotline_config::FILE_NAME);
    if config_path.exists() {
        bail!(
            "{} already exists; init never overwrites a project (edit it, or init another folder)",
            config_path.display()
        );
    }
    let folder = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "project".into());
    let code = match &a.code {
        Some(c) => c.clone(),
        None => folder
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                }
            })
            .collect(),
    };
    let name = a.name.clone().unwrap_or_else(|| folder.clone());
    let positive = |x: f64| x.is_finite() && x > 0.0;
    if !positive(a.fps) || a.width == 0 || a.height == 0 || !positive(a.pixel_aspect) {
        bail!(
            "invalid project format: --fps, --width, --height and --pixel-aspect must be positive"
        );
    }
    let store_cfg = shotline_config::StoreConfig {
        path: a.db.clone(),
        ..Default::default()
    };
    let db = shotline_store::default_db_path(&dir, &store_cfg);
    let actor = common::actor();
    let project = NewProject {
        code: code.clone(),
        name: name.clone(),
        root: dir.to_string_lossy().into_owned(),
        fps: a.fps,
        width: a.width,
        height: a.height,
        pixel_aspect: a.pixel_aspect,
        start_frame: a.start_frame,
    };
    let store = Store::create(&db, &project, &actor)?;
    let yaml = config_text(a, &code, &name)?;
    shotline_fsio::write_atomic(&config_path, yaml.as_bytes(), Overwrite::Never).with_context(
        || {
            format!(
                "the database {} was created, but not the config",
                db.display()
            )
        },
    )?;
    let report = Report {
        config: config_path.to_string_lossy().into_owned(),
        database: db.to_string_lossy().into_owned(),
        admin: &actor.user,
        project: store.project(),
    };
    if ctx.out.json() {
        ctx.out.json_doc(&report)?;
    } else {
        ctx.out.line(format!(
            "Created project {code} ({name}): {} and {}",
            report.config, report.database
        ))?;
        ctx.out.note(format!(
            "{} is the project's admin; next: shotline step add COMP --kind shot",
            actor.user
        ));
    }
    Ok(Exit::Clean)
}

/// The config written by init: the project section, and the store path when not default.
fn config_text(a: &InitArgs, code: &str, name: &str) -> Result<String> {
    // JSON strings are valid YAML double-quoted scalars, so quoting through serde_json is exact.
    let q = |s: &str| serde_json::to_string(s);
    let mut y = format!(
        "# shotline project configuration (written by `shotline init`).\n\
         project:\n  code: {}\n  name: {}\n  fps: {}\n  width: {}\n  height: {}\n  pixel_aspect: {}\n  start_frame: {}\n",
        q(code)?,
        q(name)?,
        a.fps,
        a.width,
        a.height,
        a.pixel_aspect,
        a.start_frame
    );
    if let Some(db) = &a.db {
        // A PostgreSQL URL goes to `store.url` (it never holds a password: refused earlier).
        let key = if shotline_store::target::is_postgres_url(db) {
            "url"
        } else {
            "path"
        };
        y.push_str(&format!("store:\n  {key}: {}\n", q(&db.to_string_lossy())?));
    }
    Ok(y)
}
