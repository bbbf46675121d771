//! `shotline validate` (in progress).

use anyhow::Result;

use crate::context::Ctx;
use crate::output::Exit;

/// Arguments of `shotline validate`.
#[derive(Debug, clap::Args)]
pub struct ValidateArgs {}

/// Runs the command.
pub fn run(_args: &ValidateArgs, _ctx: &Ctx) -> Result<Exit> {
    anyhow::bail!("shotline validate is not built yet")
}
