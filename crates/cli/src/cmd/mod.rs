//! One module per command: its clap arguments and a `run` that calls the libraries and hands
//! reports to the printer.

pub mod disk;
pub mod frames;
pub mod ingest;
pub mod ls;
pub mod probe;
pub mod ramses;
pub mod render;
pub mod review;
pub mod scene;
pub mod serve;
pub mod track;
pub mod validate;

use anyhow::Result;

use crate::cli::Command;
use crate::context::Ctx;
use crate::output::Exit;

/// Runs the chosen command.
pub fn dispatch(cmd: &Command, ctx: &Ctx) -> Result<Exit> {
    match cmd {
        Command::Frames(a) => frames::run(a, ctx),
        Command::Ls(a) => ls::run(a, ctx),
        Command::Probe(a) => probe::run(a, ctx),
        Command::Validate(a) => validate::run(a, ctx),
        Command::Disk(a) => disk::run(a, ctx),
        Command::Init(a) => track::init(a, ctx),
        Command::Shot(c) => track::shot(c, ctx),
        Command::Asset(c) => track::asset(c, ctx),
        Command::Step(c) => track::step(c, ctx),
        Command::Publish(a) => track::publish(a, ctx),
        Command::Versions(c) => track::versions(c, ctx),
        Command::Status(c) => track::status(c, ctx),
        Command::Log(a) => track::log(a, ctx),
        Command::Db(c) => track::db(c, ctx),
        Command::Ingest(a) => ingest::run(a, ctx),
        Command::Render(c) => render::run(c, ctx),
        Command::Sysinfo(a) => render::sysinfo(a, ctx),
        Command::Review(a) => review::run(a, ctx),
        Command::Ramses(c) => ramses::run(c, ctx),
        Command::Scene(c) => scene::run(c, ctx),
        Command::Serve(a) => serve::run(a, ctx),
        Command::User(c) => serve::user(c, ctx),
    }
}
