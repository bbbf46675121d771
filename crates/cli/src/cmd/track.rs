//! Tracking commands: init, shot, asset, step, publish, versions, status, log, db (in progress).

use anyhow::Result;

use crate::context::Ctx;
use crate::output::Exit;

/// Arguments of `shotline init`.
#[derive(Debug, clap::Args)]
pub struct InitArgs {}
/// Arguments of `shotline publish`.
#[derive(Debug, clap::Args)]
pub struct PublishArgs {}
/// Arguments of `shotline log`.
#[derive(Debug, clap::Args)]
pub struct LogArgs {}

macro_rules! sub {
    ($name:ident) => {
        /// Subcommands.
        #[derive(Debug, clap::Subcommand)]
        pub enum $name {
            /// List.
            Ls,
        }
    };
}
sub!(ShotCmd);
sub!(AssetCmd);
sub!(StepCmd);
sub!(VersionsCmd);
sub!(StatusCmd);
sub!(DbCmd);

fn later() -> Result<Exit> {
    anyhow::bail!("tracking is not built yet")
}
/// `shotline init`.
pub fn init(_a: &InitArgs, _c: &Ctx) -> Result<Exit> {
    later()
}
/// `shotline shot`.
pub fn shot(_a: &ShotCmd, _c: &Ctx) -> Result<Exit> {
    later()
}
/// `shotline asset`.
pub fn asset(_a: &AssetCmd, _c: &Ctx) -> Result<Exit> {
    later()
}
/// `shotline step`.
pub fn step(_a: &StepCmd, _c: &Ctx) -> Result<Exit> {
    later()
}
/// `shotline publish`.
pub fn publish(_a: &PublishArgs, _c: &Ctx) -> Result<Exit> {
    later()
}
/// `shotline versions`.
pub fn versions(_a: &VersionsCmd, _c: &Ctx) -> Result<Exit> {
    later()
}
/// `shotline status`.
pub fn status(_a: &StatusCmd, _c: &Ctx) -> Result<Exit> {
    later()
}
/// `shotline log`.
pub fn log(_a: &LogArgs, _c: &Ctx) -> Result<Exit> {
    later()
}
/// `shotline db`.
pub fn db(_a: &DbCmd, _c: &Ctx) -> Result<Exit> {
    later()
}
