//! shotline-ingest: verified, atomic, parallel ingest of vendor deliveries into the project tree.
//!
//! A delivery is scanned ([`scan`]), each clip matched to a shot ([`matching`], [`edl`]), the
//! whole ingest planned and checked ([`plan`]) against the destinations the project layout names
//! ([`destination`]) and only then copied ([`copy`]): every file under a
//! temp name in its destination folder, hashed while copying, fsynced, read back and verified,
//! then renamed without ever replacing anything. Each version folder gets an ASC MHL generation
//! ([`mhl`]), a Ramses sidecar ([`sidecar`]), a thumbnail ([`thumb`]) and a ledger line
//! ([`ledger`]); an interrupted run resumes where it stopped ([`resume`]). The library never
//! prints: progress goes through [`Progress`], results come back as a [`report::Report`].

pub mod copy;
pub mod destination;
pub mod edl;
mod execute;
pub mod hash;
pub mod hooks;
pub mod ledger;
pub mod matching;
pub mod mhl;
pub mod names;
pub mod plan;
mod record;
pub mod report;
pub mod resume;
pub mod scan;
pub mod sidecar;
pub mod thumb;

use std::path::{Path, PathBuf};

pub use hash::HashAlgo;
pub use record::THUMB_FILE;
pub use record::{
    allocate_on_disk, Allocated, CopiedFile, RegisterError, Registrar, Registration, TargetProblem,
};
pub use report::Report;

use shotline_config::{IngestConfig, ProjectConfig};

/// Folder under the project root holding the ledger, job states and reports.
pub const STATE_DIR: &str = ".shotline/ingest";

/// Receives progress from a running ingest (the CLI draws bars with it). All methods default to
/// doing nothing.
pub trait Progress: Sync {
    /// A copy phase starts: `files` files, `bytes` bytes to write.
    fn start_copy(&self, _files: usize, _bytes: u64) {}
    /// `n` more bytes were written.
    fn bytes(&self, _n: u64) {}
    /// The copy phase ended.
    fn end_copy(&self) {}
}

/// What a media prober says about one frame or movie: integrity and the technical values the
/// plan compares with the project and the store records.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct FrameInfo {
    /// Why the file is damaged (truncated, corrupt, unreadable); `None` when it is fine.
    pub problem: Option<String>,
    /// Width in pixels.
    pub width: Option<u64>,
    /// Height in pixels.
    pub height: Option<u64>,
    /// Frames per second.
    pub fps: Option<f64>,
    /// SMPTE timecode of this frame.
    pub timecode: Option<String>,
}

/// A per-file media check (the CLI plugs in `shotline-media`'s prober).
pub type FrameCheck = dyn Fn(&Path) -> FrameInfo + Sync;

/// A [`Progress`] that ignores everything.
pub struct NoProgress;
impl Progress for NoProgress {}

/// What to ingest and how.
pub struct Request {
    /// Delivery folders.
    pub deliveries: Vec<PathBuf>,
    /// Project root (where `.shotline/` lives).
    pub project_root: PathBuf,
    /// The `ingest:` config.
    pub config: IngestConfig,
    /// The `project:` config (code for Ramses names).
    pub project: ProjectConfig,
    /// `CLIP=SHOT` overrides.
    pub overrides: Vec<String>,
    /// A CMX3600 EDL mapping clips to shots.
    pub edl: Option<PathBuf>,
    /// Plan and check only.
    pub dry_run: bool,
    /// Checksum algorithm (overrides config when set).
    pub hash: Option<HashAlgo>,
    /// Optional per-file media check (integrity, resolution, fps, timecode).
    pub frame_check: Option<Box<FrameCheck>>,
    /// Optional registration of created versions in a tracking database.
    pub registrar: Option<Box<dyn Registrar>>,
}

/// Why an ingest could not run at all (bad input or configuration; exit status 2).
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// Bad `ingest:` configuration.
    #[error("{0}")]
    Config(String),
    /// A delivery cannot be scanned.
    #[error(transparent)]
    Scan(#[from] scan::ScanError),
    /// The EDL cannot be read.
    #[error(transparent)]
    Edl(#[from] edl::EdlError),
    /// Matching rules or overrides are invalid.
    #[error(transparent)]
    Match(#[from] matching::MatchError),
    /// Destination templates are invalid.
    #[error(transparent)]
    Template(#[from] destination::DestinationError),
    /// The job state cannot be used.
    #[error(transparent)]
    Job(#[from] resume::JobError),
    /// Writing the ledger, report or state failed.
    #[error("{0}")]
    Io(String),
}

/// The job ID: a checksum of the deliveries and destination, so the same command finds the state
/// of its interrupted run.
pub fn job_id(deliveries: &[PathBuf], root: &Path) -> String {
    let mut parts: Vec<String> = deliveries
        .iter()
        .map(|d| {
            std::fs::canonicalize(d)
                .unwrap_or_else(|_| d.clone())
                .display()
                .to_string()
        })
        .collect();
    parts.sort();
    parts.push(
        std::fs::canonicalize(root)
            .unwrap_or_else(|_| root.to_path_buf())
            .display()
            .to_string(),
    );
    let h = hash::hash_bytes(parts.join("\n").as_bytes(), HashAlgo::Xxh128);
    h[..16].to_string()
}

/// Runs an ingest: scan, match, plan and check; then (unless `dry_run`) copy, verify and record.
/// Problems with clips are in the report (see [`Report::has_problems`]); an `Err` means the
/// ingest could not start.
pub fn ingest(req: &Request, progress: &dyn Progress) -> Result<Report, IngestError> {
    execute::run(req, progress)
}
