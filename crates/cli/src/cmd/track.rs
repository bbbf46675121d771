//! Tracking commands: `init`, `shot`, `asset`, `step`, `publish`, `versions`, `status`, `log`,
//! `db`. Argument types live here; each area's code in `track/<area>.rs`. The library
//! (`shotline-store`) does the work; these modules parse, call it and print. Commands, roles and
//! JSON schemas are documented in `docs/tracking.md`.

mod admin;
pub(crate) mod common;
mod init;
mod items;
mod publish;
mod report;

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand};

use crate::context::Ctx;
use crate::output::Exit;

/// Arguments of `shotline init`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  shotline init --code DEMO --name \"Demo Project\"          here, with defaults for the rest
  shotline init /show/demo --code DEMO --fps 23.976 --width 4096 --height 2160
  SHOTLINE_DB=/srv/db/demo.db shotline init --code DEMO     database elsewhere

Creates DIR/shotline.yaml and the tracking database (DIR/.shotline/shotline.db unless
SHOTLINE_DB or --db says otherwise); the user running it becomes the project's admin.
Refuses to overwrite an existing shotline.yaml or a database that already holds a project.")]
pub struct InitArgs {
    /// Project root folder (created if missing).
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Short project code (A-Z 0-9 _ -); defaults to the folder name in capitals.
    #[arg(long)]
    pub code: Option<String>,
    /// Human-readable name; defaults to the folder name.
    #[arg(long)]
    pub name: Option<String>,
    /// Frames per second.
    #[arg(long, default_value_t = 24.0)]
    pub fps: f64,
    /// Width in pixels.
    #[arg(long, default_value_t = 1920)]
    pub width: u32,
    /// Height in pixels.
    #[arg(long, default_value_t = 1080)]
    pub height: u32,
    /// Pixel aspect ratio.
    #[arg(long, default_value_t = 1.0)]
    pub pixel_aspect: f64,
    /// Default first frame of shots.
    #[arg(long, default_value_t = 1001)]
    pub start_frame: i64,
    /// Database file to create instead of the default, or an empty PostgreSQL database
    /// (postgres://user@host/db, no password) (written into shotline.yaml).
    #[arg(long, value_name = "PATH|URL")]
    pub db: Option<PathBuf>,
}

/// Shot fields shared by `shot add` and `shot set`.
#[derive(Debug, Args, Clone, Default)]
pub struct ShotFieldArgs {
    /// Display name.
    #[arg(long)]
    pub name: Option<String>,
    /// Editorial sequence code (created on first use; "" clears it).
    #[arg(long = "sequence", visible_alias = "seq")]
    pub sequence: Option<String>,
    /// First frame of the cut.
    #[arg(long = "in", value_name = "FRAME", allow_negative_numbers = true)]
    pub frame_in: Option<i64>,
    /// Last frame of the cut.
    #[arg(long = "out", value_name = "FRAME", allow_negative_numbers = true)]
    pub frame_out: Option<i64>,
    /// Handles, in frames, each side.
    #[arg(long)]
    pub handles: Option<i64>,
    /// Frame rate when it differs from the project's.
    #[arg(long)]
    pub fps: Option<f64>,
    /// Source media (plate) reference ("" clears it).
    #[arg(long)]
    pub source: Option<String>,
    /// Timecode of the first frame, HH:MM:SS:FF ("" clears it).
    #[arg(long, value_name = "TC")]
    pub timecode_in: Option<String>,
}

/// `shotline shot ...`
#[derive(Debug, Subcommand)]
#[command(after_help = "\
Examples:
  shotline shot add SH010 --sequence SQ01 --in 1001 --out 1100 --handles 8
  shotline shot import editorial/shots.csv      create or update shots from a shot list
  shotline shot set SH010 --out 1120             the cut changed
  shotline shot ls --sequence SQ01 --json        JSON Lines, one shot per line

Adding, importing and changing shots needs the lead role or above (docs/tracking.md).")]
pub enum ShotCmd {
    /// Create a shot.
    #[command(
        after_help = "Example:\n  shotline shot add SH010 --sequence SQ01 --in 1001 --out 1100 --handles 8"
    )]
    Add {
        /// Shot code (A-Z 0-9 _ - .).
        code: String,
        #[command(flatten)]
        fields: ShotFieldArgs,
    },
    /// List shots.
    #[command(
        after_help = "Example:\n  shotline shot ls --sequence SQ01\n  shotline shot ls --json | jq -r .code"
    )]
    Ls {
        /// Only shots of this editorial sequence.
        #[arg(long = "sequence", visible_alias = "seq")]
        sequence: Option<String>,
    },
    /// Create or update shots from a CSV shot list, in one transaction.
    #[command(after_help = "\
CSV header (case-insensitive, any order; only `code` required):
  code|shot, name, sequence|seq, frame_in|in, frame_out|out, handles, fps, source, timecode_in|tc_in
Empty cells leave a field as it is. Errors name the line and column; nothing is written then.

Examples:
  shotline shot import shots.csv
  shotline shot import shots.csv --dry-run --json     what would change")]
    Import {
        /// The CSV file.
        file: PathBuf,
        /// Check and report, write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Change fields of a shot.
    #[command(after_help = "Example:\n  shotline shot set SH010 --out 1120")]
    Set {
        /// Shot code.
        code: String,
        #[command(flatten)]
        fields: ShotFieldArgs,
    },
}

/// `shotline asset ...`
#[derive(Debug, Subcommand)]
#[command(after_help = "\
Examples:
  shotline asset add hero_robot --group chars --name \"Hero robot\"
  shotline asset ls --group chars
  shotline asset ls --json")]
pub enum AssetCmd {
    /// Create an asset (lead or above).
    #[command(after_help = "Example:\n  shotline asset add hero_car --group vehicles")]
    Add {
        /// Asset code (A-Z 0-9 _ - .).
        code: String,
        /// Display name.
        #[arg(long, default_value = "")]
        name: String,
        /// Asset group (chars, props, sets...), created on first use.
        #[arg(long)]
        group: Option<String>,
    },
    /// List assets.
    #[command(after_help = "Example:\n  shotline asset ls --group vehicles --json")]
    Ls {
        /// Only this group.
        #[arg(long)]
        group: Option<String>,
    },
}

/// Item kinds on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KindArg {
    /// Steps of shots (COMP, LGT, ANIM).
    Shot,
    /// Steps of assets (MOD, RIG, SURF).
    Asset,
}

impl From<KindArg> for shotline_store::ItemKind {
    fn from(k: KindArg) -> Self {
        match k {
            KindArg::Shot => shotline_store::ItemKind::Shot,
            KindArg::Asset => shotline_store::ItemKind::Asset,
        }
    }
}

/// `shotline step ...`
#[derive(Debug, Subcommand)]
#[command(after_help = "\
Examples:
  shotline step add COMP --kind shot --name Compositing
  shotline step add MOD --kind asset
  shotline step ls --kind shot")]
pub enum StepCmd {
    /// Declare a pipeline step (lead or above).
    #[command(
        after_help = "Example:\n  shotline step add COMP --kind shot\n  shotline step add MOD --kind asset"
    )]
    Add {
        /// Step code (A-Z 0-9 _ -).
        code: String,
        /// Whether the step applies to shots or assets.
        #[arg(long, value_enum)]
        kind: KindArg,
        /// Display name.
        #[arg(long, default_value = "")]
        name: String,
    },
    /// List steps.
    #[command(after_help = "Example:\n  shotline step ls --kind shot")]
    Ls {
        /// Only steps of this kind.
        #[arg(long, value_enum)]
        kind: Option<KindArg>,
    },
}

/// Arguments of `shotline publish`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  shotline publish --shot SH010 --step COMP renders/sh010/comp.%04d.exr --comment \"slap comp\"
  shotline publish --shot SH010 --step COMP renders/sh010/          the one sequence in a folder
  shotline publish --asset robot --step MOD --resource hi out/robot.####.exr --range 1-1
  shotline publish --shot SH010 --step COMP comp.####.exr --uses 42 --tag hero --json

The frames are verified first (missing, empty, truncated, corrupt frames; against the shot's
cut range unless --range is given); errors refuse the publish (exit 1) unless --force. The next
version number is taken atomically, the version recorded, and a manifest
<item>_<step>[+<resource>]_vNNN.publish.json written beside the files. Files are not moved.
Publishing APPROVED/FINAL versions needs the lead role (docs/tracking.md).")]
pub struct PublishArgs {
    /// The frames: a pattern (name.%04d.exr, name.####.exr, name.$F4.exr, name.@@@@.exr) or a
    /// folder holding exactly one image sequence.
    pub path: PathBuf,
    /// Shot to publish for.
    #[arg(long, conflicts_with = "asset", required_unless_present = "asset")]
    pub shot: Option<String>,
    /// Asset to publish for.
    #[arg(long)]
    pub asset: Option<String>,
    /// Step code (COMP, LGT, MOD...).
    #[arg(long)]
    pub step: String,
    /// Resource within the step (BG, matte...); empty = the main one.
    #[arg(long, default_value = "")]
    pub resource: String,
    /// Comment for the version.
    #[arg(long, short = 'm', default_value = "")]
    pub comment: String,
    /// Version state.
    #[arg(long, default_value = "WIP")]
    pub state: String,
    /// Expected frames in frame-range syntax (1001-1100, -5--1); default: the shot's cut, or
    /// the frames found for assets. Verification checks a contiguous span, so a stepped set
    /// (1001-1100x2) is refused for now.
    #[arg(long, value_name = "FRAMES", allow_hyphen_values = true)]
    pub range: Option<shotline_frames::FrameSet>,
    /// Id of a version this one was made from (repeatable).
    #[arg(long = "uses", value_name = "ID")]
    pub uses: Vec<i64>,
    /// A tag (repeatable).
    #[arg(long = "tag")]
    pub tags: Vec<String>,
    /// Refuse (exit 1) instead of warning when the frames are identical to the latest version
    /// (same folder, pattern, frames, size and file count).
    #[arg(long)]
    pub skip_identical: bool,
    /// Publish even when verification finds errors (they are recorded as missing frames).
    #[arg(long)]
    pub force: bool,
}

/// `shotline versions ...`
#[derive(Debug, Subcommand)]
#[command(after_help = "\
Examples:
  shotline versions ls --shot SH010 --step COMP
  shotline versions ls --latest                 the newest version of every shot/asset step
  shotline versions ls --json | jq -r '.files.dir'
  shotline versions show 42")]
pub enum VersionsCmd {
    /// List versions.
    #[command(
        after_help = "Example:\n  shotline versions ls --shot SH010 --step COMP --latest\n  shotline versions ls --json"
    )]
    Ls {
        /// Only this shot.
        #[arg(long, conflicts_with = "asset")]
        shot: Option<String>,
        /// Only this asset.
        #[arg(long)]
        asset: Option<String>,
        /// Only this step.
        #[arg(long)]
        step: Option<String>,
        /// Only this resource.
        #[arg(long)]
        resource: Option<String>,
        /// Only the highest version of each item × step × resource.
        #[arg(long)]
        latest: bool,
        /// At most this many.
        #[arg(long)]
        limit: Option<u64>,
    },
    /// Everything about one version.
    #[command(after_help = "Example:\n  shotline versions show 42 --json")]
    Show {
        /// Version id (the ID column of `versions ls`).
        id: i64,
    },
}

/// `shotline status ...`
#[derive(Debug, Subcommand)]
#[command(after_help = "\
Examples:
  shotline status set SH010 COMP --state REVIEW
  shotline status set SH010 COMP --state APPROVED --comment \"final look\"   lead or above
  shotline status set robot MOD --asset --assignee ana --completion 40
  shotline status set SH010 COMP --state APPROVED --if-state REVIEW   only if still REVIEW
  shotline status ls SH010

States: TODO WIP REVIEW RETAKE APPROVED FINAL OMIT. Anyone may set TODO/WIP/REVIEW;
APPROVED, RETAKE, FINAL and OMIT (and leaving them) need lead or above; FINAL needs APPROVED.")]
pub enum StatusCmd {
    /// Change the status of an item's step.
    #[command(after_help = "Example:\n  shotline status set SH010 COMP --state APPROVED")]
    Set {
        /// Shot code (asset code with --asset).
        item: String,
        /// Step code.
        step: String,
        /// The item is an asset.
        #[arg(long)]
        asset: bool,
        /// New state.
        #[arg(long)]
        state: Option<String>,
        /// Assign to this user ("" unassigns).
        #[arg(long)]
        assignee: Option<String>,
        /// Completion percentage, 0-100.
        #[arg(long)]
        completion: Option<i64>,
        /// Why (kept in the audit trail).
        #[arg(long, short = 'm', default_value = "")]
        comment: String,
        /// Only if the task is still in this state (the one you looked at): when someone
        /// changed it meanwhile, nothing is changed and the command exits 1 naming who did.
        #[arg(long, value_name = "STATE")]
        if_state: Option<String>,
    },
    /// List statuses.
    #[command(after_help = "Example:\n  shotline status ls SH010")]
    Ls {
        /// Only this item code.
        item: Option<String>,
    },
}

/// Arguments of `shotline log`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  shotline log --since 2h                     the last two hours
  shotline log --entity SH010 --action version.
  shotline log --since 2026-11-01 --user ana --json

Every change (publish, status, shot edits, roles, restores) is one event; the trail is
append-only (the database refuses updates and deletes).")]
pub struct LogArgs {
    /// Only events at or after: an RFC 3339 time, a date (2026-11-20) or an age (30m, 2h, 7d, 1w).
    #[arg(long)]
    pub since: Option<String>,
    /// Only events whose entity contains this text (SH010, "SH010 COMP").
    #[arg(long)]
    pub entity: Option<String>,
    /// Only this user.
    #[arg(long)]
    pub user: Option<String>,
    /// Only actions starting with this (version., status.set).
    #[arg(long)]
    pub action: Option<String>,
    /// At most the newest N events.
    #[arg(long)]
    pub limit: Option<u64>,
}

/// `shotline db ...`
#[derive(Debug, Subcommand)]
#[command(after_help = "\
Examples:
  shotline db backup /backups/demo-2026-11-20.db     consistent while others publish
  shotline db restore /backups/demo-2026-11-20.db    verified first; the old DB is kept
  shotline db check                                  integrity, foreign keys, orphans, sizes
  shotline db locks --json                           who holds what
  shotline db user set ana --role lead               project_admin or above")]
pub enum DbCmd {
    /// Copy the database to FILE (never overwrites FILE): SQLite's online backup, or
    /// `pg_dump --format=custom` on PostgreSQL.
    #[command(after_help = "Example:\n  shotline db backup /backups/demo-$(date +%F).db")]
    Backup {
        /// Where to write the copy.
        file: PathBuf,
    },
    /// Replace the database with a verified backup (project_admin or above); the database as
    /// it was is kept first. On PostgreSQL FILE is a `db backup` dump, restored in one
    /// transaction with `pg_restore`.
    #[command(after_help = "Example:\n  shotline db restore /backups/demo-2026-11-20.db")]
    Restore {
        /// The backup to restore.
        file: PathBuf,
    },
    /// Integrity check, foreign keys, orphans, unregistered version reservations, leftover
    /// temp files and sizes (exit 1 on problems).
    #[command(after_help = "Examples:\n  shotline db check --json\n  shotline db check --repair")]
    Check {
        /// Also repair: write missing publish manifests (never over an existing file) and
        /// remove leftover `.shotline-tmp-*` files older than --temp-age.
        #[arg(long)]
        repair: bool,
        /// With --repair: only remove temp files untouched for this many minutes (younger ones
        /// may belong to a write in progress).
        #[arg(long, value_name = "MINUTES", default_value_t = 60,
              value_parser = clap::value_parser!(u64).range(1..=525_600))]
        temp_age: u64,
    },
    /// Release a version-number reservation left by a writer that died before registering
    /// (listed by `db check`). Its folder stays, so the number is still never reused.
    #[command(after_help = "Example:\n  shotline db release-reservation 12")]
    ReleaseReservation {
        /// The reservation id shown by `db check`.
        id: i64,
    },
    /// Apply pending schema migrations.
    #[command(after_help = "Example:\n  shotline db migrate")]
    Migrate,
    /// Copy this SQLite project (every table: tracking, audit trail, render history) into an
    /// EMPTY PostgreSQL database in one transaction, verified by per-table row counts and
    /// checksums. The SQLite file is opened read-only. The URL carries no password: it comes
    /// from PGPASSWORD or a .pgpass file.
    #[command(after_help = "Examples:\n  createdb -h db.studio.lan show\n  \
                            PGPASSFILE=~/.pgpass shotline db migrate-to postgres://shotline@db.studio.lan/show\n  \
                            then set store.url in shotline.yaml")]
    MigrateTo {
        /// postgres://user@host:port/database (no password).
        url: String,
    },
    /// Locks held (who has what open, since when, until when).
    #[command(after_help = "Example:\n  shotline db locks")]
    Locks,
    /// Users and roles.
    #[command(subcommand)]
    User(UserCmd),
}

/// `shotline db user ...`
#[derive(Debug, Subcommand)]
pub enum UserCmd {
    /// Set a user's role: standard, lead, project_admin, admin.
    #[command(after_help = "Example:\n  shotline db user set alice lead")]
    Set {
        /// User name (as in $SHOTLINE_USER or the login).
        name: String,
        /// New role.
        #[arg(long)]
        role: String,
    },
    /// List users and roles.
    #[command(after_help = "Example:\n  shotline db user ls")]
    Ls,
}

/// `shotline init`.
pub fn init(a: &InitArgs, c: &Ctx) -> Result<Exit> {
    init::run(a, c)
}
/// `shotline shot`.
pub fn shot(a: &ShotCmd, c: &Ctx) -> Result<Exit> {
    items::shot(a, c)
}
/// `shotline asset`.
pub fn asset(a: &AssetCmd, c: &Ctx) -> Result<Exit> {
    items::asset(a, c)
}
/// `shotline step`.
pub fn step(a: &StepCmd, c: &Ctx) -> Result<Exit> {
    items::step(a, c)
}
/// `shotline publish`.
pub fn publish(a: &PublishArgs, c: &Ctx) -> Result<Exit> {
    publish::run(a, c)
}
/// `shotline versions`.
pub fn versions(a: &VersionsCmd, c: &Ctx) -> Result<Exit> {
    report::versions(a, c)
}
/// `shotline status`.
pub fn status(a: &StatusCmd, c: &Ctx) -> Result<Exit> {
    report::status(a, c)
}
/// `shotline log`.
pub fn log(a: &LogArgs, c: &Ctx) -> Result<Exit> {
    report::log(a, c)
}
/// `shotline db`.
pub fn db(a: &DbCmd, c: &Ctx) -> Result<Exit> {
    admin::run(a, c)
}
