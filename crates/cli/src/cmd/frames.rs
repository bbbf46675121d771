//! `shotline frames` (in progress).

use anyhow::Result;

use crate::context::Ctx;
use crate::output::Exit;

/// Arguments of `shotline frames`.
#[derive(Debug, clap::Args)]
pub struct FramesArgs {}

/// Runs the command.
pub fn run(_args: &FramesArgs, _ctx: &Ctx) -> Result<Exit> {
    anyhow::bail!("shotline frames is not built yet")
}
