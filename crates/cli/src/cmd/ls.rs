//! `shotline ls` (in progress).

use anyhow::Result;

use crate::context::Ctx;
use crate::output::Exit;

/// Arguments of `shotline ls`.
#[derive(Debug, clap::Args)]
pub struct LsArgs {}

/// Runs the command.
pub fn run(_args: &LsArgs, _ctx: &Ctx) -> Result<Exit> {
    anyhow::bail!("shotline ls is not built yet")
}
