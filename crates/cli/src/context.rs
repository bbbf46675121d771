//! What every command receives: loaded config, the printer, the working directory.

use std::path::PathBuf;

use anyhow::{Context as _, Result};

use crate::cli::GlobalArgs;
use crate::output::Printer;

/// Per-invocation context, built once in `main` before dispatch.
pub struct Ctx {
    /// Where all output goes.
    pub out: Printer,
    /// The configuration in force and the file it came from.
    pub config: shotline_config::Loaded,
    /// The current directory at start-up.
    pub cwd: PathBuf,
    /// The global flags as given.
    pub global: GlobalArgs,
}

impl Ctx {
    /// Loads config and sets up logging. Errors here are configuration errors (exit 2).
    pub fn new(global: &GlobalArgs) -> Result<Ctx> {
        init_logging(global)?;
        let cwd = std::env::current_dir().context("cannot read the current directory")?;
        let config = shotline_config::load(global.config.as_deref(), None, &cwd)?;
        if let Some(p) = &config.path {
            tracing::debug!(config = %p.display(), "loaded config");
        }
        let out = Printer::new(global.json, global.quiet);
        for w in &config.warnings {
            out.warn(w);
        }
        Ok(Ctx {
            out,
            config,
            cwd,
            global: global.clone(),
        })
    }

    /// The project root: the directory of the config file, or the current directory.
    pub fn project_root(&self) -> PathBuf {
        self.config.base_dir(&self.cwd)
    }

    /// Resolves a path from the config against the project root.
    #[allow(dead_code)]
    pub fn resolve(&self, p: &std::path::Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.project_root().join(p)
        }
    }
}

/// Logs go to stderr (or `--log-file`), never stdout, so `--json` output stays clean.
/// `SHOTLINE_LOG` overrides the level with an env-filter directive.
fn init_logging(g: &GlobalArgs) -> Result<()> {
    use tracing_subscriber::EnvFilter;
    let level = if g.quiet {
        "error"
    } else {
        match g.verbose {
            0 => "warn",
            1 => "info",
            2 => "debug",
            _ => "trace",
        }
    };
    let filter = EnvFilter::try_from_env("SHOTLINE_LOG").unwrap_or_else(|_| EnvFilter::new(level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    match &g.log_file {
        Some(path) => {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("cannot open log file {}", path.display()))?;
            builder
                .with_ansi(false)
                .with_writer(std::sync::Mutex::new(file))
                .init();
        }
        None => builder
            .with_ansi(crate::output::stderr_color())
            .with_writer(std::io::stderr)
            .init(),
    }
    Ok(())
}
