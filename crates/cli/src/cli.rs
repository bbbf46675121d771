//! Argument definitions shared by every command. Each command's own arguments live beside its
//! implementation in `cmd/<name>.rs`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::cmd;

/// shotline: the pipeline backbone for VFX and animation studios.
///
/// Find image sequences, probe media headers, check frames, track versions, ingest deliveries
/// and run renders, from one fast and safe tool.
#[derive(Debug, Parser)]
#[command(name = "shotline", version, about, long_about = None, propagate_version = true)]
#[command(
    after_help = "Exit codes: 0 clean, 1 problems found, 2 usage/config/input error.\n\
Config: shotline.yaml found walking up from the current directory, or --config, or SHOTLINE_CONFIG."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags accepted by every command.
#[derive(Debug, Args, Clone)]
pub struct GlobalArgs {
    /// Machine-readable output (JSON; JSON Lines for streaming commands).
    #[arg(long, global = true)]
    pub json: bool,
    /// More log detail on stderr (-v info, -vv debug, -vvv trace).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Only errors; no progress bars or summaries on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Config file to use instead of discovering shotline.yaml.
    #[arg(long, global = true, value_name = "PATH", env = "SHOTLINE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Write logs to this file instead of stderr.
    #[arg(long, global = true, value_name = "PATH")]
    pub log_file: Option<PathBuf>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse, normalise, list and invert frame ranges (fileseq syntax).
    Frames(cmd::frames::FramesArgs),
    /// List image sequences and files, like ls for frames.
    Ls(cmd::ls::LsArgs),
    /// Read media headers (EXR, DPX, TIFF, PNG, JPEG, movies) and check file integrity.
    Probe(cmd::probe::ProbeArgs),
    /// Check frames per show/shot: missing, truncated, mismatched, badly named.
    Validate(cmd::validate::ValidateArgs),
    /// Disk usage per show, shot, step and version.
    Disk(cmd::disk::DiskArgs),
    /// Create shotline.yaml and the tracking database for a project.
    Init(cmd::track::InitArgs),
    /// Manage shots.
    #[command(subcommand)]
    Shot(cmd::track::ShotCmd),
    /// Manage assets.
    #[command(subcommand)]
    Asset(cmd::track::AssetCmd),
    /// Manage pipeline steps.
    #[command(subcommand)]
    Step(cmd::track::StepCmd),
    /// Publish frames as a new version of a shot or asset step.
    Publish(cmd::track::PublishArgs),
    /// List and show versions.
    #[command(subcommand)]
    Versions(cmd::track::VersionsCmd),
    /// Set production status of an item and step.
    #[command(subcommand)]
    Status(cmd::track::StatusCmd),
    /// The audit trail.
    Log(cmd::track::LogArgs),
    /// Database maintenance: backup, restore, check.
    #[command(subcommand)]
    Db(cmd::track::DbCmd),
    /// Ingest vendor deliveries into the project tree.
    Ingest(cmd::ingest::IngestArgs),
    /// The local render queue.
    #[command(subcommand)]
    Render(cmd::render::RenderCmd),
    /// CPU, memory and GPU resources of this machine.
    Sysinfo(cmd::render::SysinfoArgs),
    /// Make a review movie (slate, burn-ins, display colour) of a published version.
    Review(cmd::review::ReviewArgs),
    /// Ramses interop: talk to the Ramses daemon, sync the mirror, or serve as one.
    #[command(subcommand)]
    Ramses(cmd::ramses::RamsesCmd),
    /// Media nodes of Fusion, Nuke and Maya scenes: list, audit, version up/down.
    #[command(subcommand)]
    Scene(cmd::scene::SceneCmd),
    /// The studio server: JSON API, live updates and the web dashboard.
    Serve(cmd::serve::ServeArgs),
    /// Server credentials: passwords and API tokens.
    #[command(subcommand)]
    User(cmd::serve::UserCmd),
}
