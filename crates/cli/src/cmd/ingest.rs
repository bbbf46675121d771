//! `shotline ingest` (in progress).

use anyhow::Result;

use crate::context::Ctx;
use crate::output::Exit;

/// Arguments of `shotline ingest`.
#[derive(Debug, clap::Args)]
pub struct IngestArgs {}

/// Runs the command.
pub fn run(_args: &IngestArgs, _ctx: &Ctx) -> Result<Exit> {
    anyhow::bail!("shotline ingest is not built yet")
}
