//! `shotline render …` and `shotline sysinfo` (in progress).

use anyhow::Result;

use crate::context::Ctx;
use crate::output::Exit;

/// `shotline render` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum RenderCmd {
    /// List jobs.
    Ls,
}

/// Arguments of `shotline sysinfo`.
#[derive(Debug, clap::Args)]
pub struct SysinfoArgs {}

/// Runs a render subcommand.
pub fn run(_cmd: &RenderCmd, _ctx: &Ctx) -> Result<Exit> {
    anyhow::bail!("shotline render is not built yet")
}

/// Runs `shotline sysinfo`.
pub fn sysinfo(_args: &SysinfoArgs, _ctx: &Ctx) -> Result<Exit> {
    anyhow::bail!("shotline sysinfo is not built yet")
}
