//! `shotline probe` (in progress).

use anyhow::Result;

use crate::context::Ctx;
use crate::output::Exit;

/// Arguments of `shotline probe`.
#[derive(Debug, clap::Args)]
pub struct ProbeArgs {}

/// Runs the command.
pub fn run(_args: &ProbeArgs, _ctx: &Ctx) -> Result<Exit> {
    anyhow::bail!("shotline probe is not built yet")
}
