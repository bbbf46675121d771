//! The values the store reads and writes. They serialise to the JSON documented in
//! `docs/tracking.md`, so field names here are a public contract.

use serde::Serialize;

use crate::error::StoreError;

macro_rules! text_enum {
    ($(#[$m:meta])* $name:ident, $what:literal { $($(#[$vm:meta])* $var:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        pub enum $name { $($(#[$vm])* #[serde(rename = $s)] $var),+ }
        impl $name {
            /// Every value, in order.
            pub const ALL: &'static [$name] = &[$($name::$var),+];
            /// The spelling stored in the database and shown to users.
            pub fn as_str(self) -> &'static str { match self { $($name::$var => $s),+ } }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.as_str()) }
        }
        impl std::str::FromStr for $name {
            type Err = StoreError;
            /// Case-insensitive; the error lists the accepted spellings.
            fn from_str(s: &str) -> Result<Self, StoreError> {
                $(if s.eq_ignore_ascii_case($s) { return Ok($name::$var); })+
                Err(StoreError::Invalid {
                    what: $what,
                    value: s.to_string(),
                    expected: format!("one of {}", [$($s),+].join(", ")),
                })
            }
        }
    };
}

text_enum!(
    /// Whether an item is a shot or an asset; steps are declared for one kind.
    ItemKind, "item kind" {
        /// A shot (frames in a cut).
        Shot = "shot",
        /// An asset (character, prop, set) used by shots.
        Asset = "asset",
    }
);

text_enum!(
    /// What a user may do. Ordered: each role can do everything the ones before it can.
    Role, "role" {
        /// Artists: publish work, move their tasks between TODO, WIP and REVIEW.
        Standard = "standard",
        /// Leads and supervisors: approve, create shots/assets/steps, import shot lists.
        Lead = "lead",
        /// Production: manage users up to project_admin, restore the database.
        ProjectAdmin = "project_admin",
        /// Everything, including granting admin.
        Admin = "admin",
    }
);

text_enum!(
    /// Production state of a task (item × step) and of a version.
    State, "state" {
        /// Not started.
        Todo = "TODO",
        /// Work in progress.
        Wip = "WIP",
        /// Waiting for review.
        Review = "REVIEW",
        /// Sent back by a lead.
        Retake = "RETAKE",
        /// Approved by a lead.
        Approved = "APPROVED",
        /// Delivered; only possible once approved.
        Final = "FINAL",
        /// Dropped from the edit.
        Omit = "OMIT",
    }
);

impl State {
    /// States that carry a lead's decision: setting them, or leaving them, needs lead or above.
    pub fn is_decision(self) -> bool {
        matches!(
            self,
            State::Approved | State::Final | State::Omit | State::Retake
        )
    }
}

/// The project a database belongs to (one per file today; the id keeps the schema ready for a
/// shared server).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Project {
    /// Database id.
    pub id: i64,
    /// Short code (`DEMO`).
    pub code: String,
    /// Human-readable name.
    pub name: String,
    /// Project root folder.
    pub root: String,
    /// Frames per second.
    pub fps: f64,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Pixel aspect ratio.
    pub pixel_aspect: f64,
    /// Default first frame of shots.
    pub start_frame: i64,
    /// Creation time (RFC 3339 UTC).
    pub created_at: String,
}

/// What `shotline init` records.
#[derive(Debug, Clone, PartialEq)]
pub struct NewProject {
    /// Short code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Root folder.
    pub root: String,
    /// Frames per second.
    pub fps: f64,
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
    /// Pixel aspect.
    pub pixel_aspect: f64,
    /// Default first frame.
    pub start_frame: i64,
}

/// A shot with its editorial data.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Shot {
    /// Item id.
    pub id: i64,
    /// Code (`SH010`), unique in the project.
    pub code: String,
    /// Display name.
    pub name: String,
    /// Editorial sequence code.
    pub sequence: Option<String>,
    /// First frame of the cut.
    pub frame_in: i64,
    /// Last frame of the cut.
    pub frame_out: i64,
    /// Handles each side.
    pub handles: i64,
    /// Frame rate when it differs from the project's.
    pub fps: Option<f64>,
    /// Source media (plate) reference.
    pub source: Option<String>,
    /// Timecode of `frame_in` (`HH:MM:SS:FF`).
    pub timecode_in: Option<String>,
    /// Creation time.
    pub created_at: String,
}

impl Shot {
    /// Frames in the cut (`frame_out - frame_in + 1`). The store bounds frame numbers (see
    /// [`crate::MAX_FRAME_ABS`]), so this cannot overflow; it saturates regardless.
    pub fn frame_count(&self) -> i64 {
        self.frame_out
            .saturating_sub(self.frame_in)
            .saturating_add(1)
            .max(0)
    }
}

/// Shot fields to set; `None` leaves a field alone (on creation: the default).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ShotFields {
    /// Display name.
    pub name: Option<String>,
    /// Editorial sequence code (created on first use).
    pub sequence: Option<String>,
    /// First frame.
    pub frame_in: Option<i64>,
    /// Last frame.
    pub frame_out: Option<i64>,
    /// Handles.
    pub handles: Option<i64>,
    /// Frame rate override.
    pub fps: Option<f64>,
    /// Source media.
    pub source: Option<String>,
    /// Timecode in.
    pub timecode_in: Option<String>,
}

impl ShotFields {
    /// True when nothing would change.
    pub fn is_empty(&self) -> bool {
        *self == ShotFields::default()
    }
}

/// A shot to create or update (by code).
#[derive(Debug, Clone, PartialEq)]
pub struct NewShot {
    /// Code.
    pub code: String,
    /// Fields.
    pub fields: ShotFields,
}

/// What happened to each row of a shot import.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ImportSummary {
    /// Codes created.
    pub created: Vec<String>,
    /// Codes whose fields changed.
    pub updated: Vec<String>,
    /// Codes already identical.
    pub unchanged: Vec<String>,
}

/// An asset.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Asset {
    /// Item id.
    pub id: i64,
    /// Code, unique in the project.
    pub code: String,
    /// Display name.
    pub name: String,
    /// Asset group (`chars`, `props`).
    pub group: Option<String>,
    /// Creation time.
    pub created_at: String,
}

/// A pipeline step (`COMP`, `ANIM`, `MOD`), declared for shots or for assets.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    /// Id.
    pub id: i64,
    /// Code.
    pub code: String,
    /// Which items it applies to.
    pub kind: ItemKind,
    /// Display name.
    pub name: String,
}

/// Names a shot or an asset.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ItemRef {
    /// Shot or asset.
    pub kind: ItemKind,
    /// Its code.
    pub code: String,
}

impl ItemRef {
    /// A shot by code.
    pub fn shot(code: impl Into<String>) -> ItemRef {
        ItemRef {
            kind: ItemKind::Shot,
            code: code.into(),
        }
    }
    /// An asset by code.
    pub fn asset(code: impl Into<String>) -> ItemRef {
        ItemRef {
            kind: ItemKind::Asset,
            code: code.into(),
        }
    }
}

impl std::fmt::Display for ItemRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.kind, self.code)
    }
}

/// The measured facts of a set of frames, as publish or ingest found them on disk.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Files {
    /// Absolute folder holding the files.
    pub dir: String,
    /// File name pattern (`plate.####.exr`) or a single file name.
    pub pattern: String,
    /// First frame present.
    pub first_frame: Option<i64>,
    /// Last frame present.
    pub last_frame: Option<i64>,
    /// Frames present, normalised range syntax (`1001-1100`).
    pub frame_range: String,
    /// Frames missing between first and last (`1003,1007-1009`); empty when complete.
    pub missing_frames: String,
    /// Image width.
    pub width: Option<u32>,
    /// Image height.
    pub height: Option<u32>,
    /// Frame rate read from the media.
    pub fps: Option<f64>,
    /// Timecode of the first frame.
    pub timecode: Option<String>,
    /// Total size in bytes.
    pub bytes: i64,
    /// Number of files.
    pub file_count: i64,
    /// Checksum summary (e.g. `xxh3:...` over the file list), when measured.
    pub checksum: Option<String>,
}

/// A version to register.
#[derive(Debug, Clone, PartialEq)]
pub struct NewVersion {
    /// The shot or asset.
    pub item: ItemRef,
    /// Step code.
    pub step: String,
    /// Resource within the step (`""` for the main one, `BG`, `matte`).
    pub resource: String,
    /// The number to register it under, when the caller already took one (ingest numbers its
    /// version folder with an atomic `mkdir`, and the database must agree with the disk). `None`
    /// takes the next number after the highest in the database. An explicit number that is
    /// already used is [`crate::StoreError::VersionExists`], never silently renumbered.
    pub number: Option<i64>,
    /// Version state.
    pub state: State,
    /// What was published.
    pub files: Files,
    /// Artist's comment.
    pub comment: String,
    /// Where it came from (`publish`, `ingest`, ...).
    pub source: String,
    /// Versions this one was made from.
    pub uses: Vec<i64>,
    /// Free tags.
    pub tags: Vec<String>,
}

/// A registered version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Version {
    /// Id (stable, global).
    pub id: i64,
    /// The shot or asset.
    pub item: ItemRef,
    /// Step code.
    pub step: String,
    /// Resource (`""` = main).
    pub resource: String,
    /// Version number within item × step × resource, from 1.
    pub number: i64,
    /// State.
    pub state: State,
    /// The files.
    pub files: Files,
    /// Who registered it.
    pub author: String,
    /// When (RFC 3339 UTC).
    pub created_at: String,
    /// Comment.
    pub comment: String,
    /// Origin.
    pub source: String,
    /// Whether it is published (immutable).
    pub published: bool,
    /// The publish manifest written beside the files, if any.
    pub manifest: Option<String>,
    /// Ids of versions it uses.
    pub uses: Vec<i64>,
    /// Tags.
    pub tags: Vec<String>,
}

impl Version {
    /// `v003`: how people say it.
    pub fn label(&self) -> String {
        crate::versions::label(self.number)
    }
}

/// Where a version is and what it holds, without its history: what a resolver of paths
/// (`scene audit`) needs of every version of a project, read in one lean query
/// ([`Store::version_places_each`](crate::Store::version_places_each)).
#[derive(Debug, Clone, PartialEq)]
pub struct VersionPlace {
    /// Database id.
    pub id: i64,
    /// The item.
    pub item: ItemRef,
    /// Step code.
    pub step: String,
    /// Resource (`""` = main).
    pub resource: String,
    /// Version number.
    pub number: i64,
    /// Folder of the files.
    pub dir: String,
    /// File pattern.
    pub pattern: String,
    /// Frames held (`1001-1100`), empty when none.
    pub frame_range: String,
    /// Frames per second measured at publish.
    pub fps: Option<f64>,
}

/// Which versions to list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VersionQuery {
    /// Only this item kind.
    pub kind: Option<ItemKind>,
    /// Only this item code.
    pub item: Option<String>,
    /// Only this step code.
    pub step: Option<String>,
    /// Only this resource.
    pub resource: Option<String>,
    /// Only the highest number per item × step × resource.
    pub latest: bool,
    /// At most this many, in listing order (item, step, resource, number).
    pub limit: Option<u64>,
}

/// Status of one task (item × step).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Status {
    /// The item.
    pub item: ItemRef,
    /// Step code.
    pub step: String,
    /// State.
    pub state: State,
    /// Assigned user.
    pub assignee: Option<String>,
    /// Completion percentage.
    pub completion: i64,
    /// Last change.
    pub updated_at: String,
    /// Who changed it.
    pub updated_by: String,
}

/// A status change; `None` fields keep their value.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusChange {
    /// The item.
    pub item: ItemRef,
    /// Step code.
    pub step: String,
    /// New state.
    pub state: Option<State>,
    /// New assignee (user name; created as standard if unknown).
    pub assignee: Option<String>,
    /// New completion, 0–100.
    pub completion: Option<i64>,
    /// Why (goes to the audit trail).
    pub comment: String,
    /// The state the caller last saw (`--if-state`, a dashboard cell): when the task is in
    /// another state now, someone changed it meanwhile and the change is refused with
    /// [`crate::StoreError::StatusChanged`] instead of silently overwriting their decision.
    /// `None` changes whatever the state is.
    pub if_state: Option<State>,
}

/// One audit-trail entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    /// Id (increasing).
    pub id: i64,
    /// When (RFC 3339 UTC).
    pub at: String,
    /// Who.
    pub user: String,
    /// From which machine.
    pub host: String,
    /// What (`version.publish`, `status.set`, `shot.create`, ...).
    pub action: String,
    /// Kind of entity (`version`, `shot`, `status`, `user`, `db`).
    pub entity_kind: String,
    /// Entity id, when it has one.
    pub entity_id: Option<i64>,
    /// Human name of the entity (`SH010 COMP v003`).
    pub entity: String,
    /// Details (before/after, counts).
    pub details: serde_json::Value,
}

/// Which events to list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventQuery {
    /// Only at or after this stored timestamp (see [`crate::parse_since`]).
    pub since: Option<String>,
    /// Only events whose entity name contains this text.
    pub entity: Option<String>,
    /// Only this user.
    pub user: Option<String>,
    /// Only actions starting with this prefix (`version.`).
    pub action: Option<String>,
    /// At most this many, newest kept.
    pub limit: Option<u64>,
}

/// A user and their role.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct User {
    /// Login name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// First seen.
    pub created_at: String,
}

/// A held lock.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lock {
    /// What is locked (`shot/SH010/COMP`).
    pub what: String,
    /// Holder, `user@host:pid`.
    pub owner: String,
    /// Since when.
    pub acquired_at: String,
    /// Last sign of life.
    pub heartbeat_at: String,
    /// When it lapses unless renewed.
    pub expires_at: String,
}
