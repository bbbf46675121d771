//! `shotline disk` (in progress).

use anyhow::Result;

use crate::context::Ctx;
use crate::output::Exit;

/// Arguments of `shotline disk`.
#[derive(Debug, clap::Args)]
pub struct DiskArgs {}

/// Runs the command.
pub fn run(_args: &DiskArgs, _ctx: &Ctx) -> Result<Exit> {
    anyhow::bail!("shotline disk is not built yet")
}
