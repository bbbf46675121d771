//! Recording a complete version folder: Ramses sidecar, thumbnail and ASC MHL generation, plus
//! what a tracking database needs to register it ([`Registration`], [`Registrar`]).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use shotline_store::VersionLayout;

use crate::hash::{hash_file, HashAlgo};
use crate::matching::ShotId;
use crate::mhl::{self, MhlEntry};
use crate::plan::PlannedClip;
use crate::report::VersionRecord;
use crate::scan::ClipKind;
use crate::sidecar::{write_sidecar, SidecarFile, SIDECAR_FILE};
use crate::IngestError;

/// File name of the thumbnail inside a version folder.
pub const THUMB_FILE: &str = "_thumbnail.png";

/// One file copied and verified into a version folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopiedFile {
    /// Where it is in the version folder.
    pub dest: PathBuf,
    /// Checksum of its content.
    pub hash: String,
    /// Bytes.
    pub size: u64,
    /// The delivery file it was copied from.
    pub source: PathBuf,
}

/// A version to register in a tracking database.
#[derive(Debug, Clone)]
pub struct Registration {
    /// Shot/step/resource.
    pub id: ShotId,
    /// Version number taken on disk; the database registers the version under this number.
    pub version: u32,
    /// Version folder.
    pub dir: PathBuf,
    /// The main clip's file name pattern in the version folder (`name.####.exr` or a file name).
    pub pattern: String,
    /// Frames of the main clip (empty unless it is a sequence).
    pub frames: shotline_frames::FrameSet,
    /// Frames missing in the main clip (runs: a huge gap costs one run).
    pub missing_frames: shotline_frames::FrameSet,
    /// Media values of the main clip (resolution, fps, timecode).
    pub media: Option<crate::FrameInfo>,
    /// The files in the version folder and their checksums.
    pub files: Vec<CopiedFile>,
    /// Bytes in the version.
    pub bytes: u64,
    /// Checksum algorithm.
    pub algo: HashAlgo,
    /// Content checksum of the main clip.
    pub content: String,
    /// Where it came from.
    pub comment: String,
}

/// Why a batch of versions was not registered. Nothing in the batch was written either way.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegisterError {
    /// The database already has the number of the version at `index` in the batch (its
    /// folder was numbered by `mkdir` on disk, the database got that number some other way).
    /// Ingest reports it as an error for that version's clips and registers the others: a
    /// version is never silently renumbered, so the database and the disk always agree.
    #[error("{message}")]
    Clash {
        /// Index of the clashing version in the batch given to [`Registrar::register`].
        index: usize,
        /// The database's explanation, naming shot, step, resource and number.
        message: String,
    },
    /// The version at `index` is already in the database with the same folder and content: an
    /// earlier run of this ingest registered it and was killed before it could note that.
    /// Ingest counts it as registered and registers the others.
    #[error("version {index} of the batch is already registered with the same folder and content")]
    AlreadyRegistered {
        /// Index of that version in the batch given to [`Registrar::register`].
        index: usize,
    },
    /// Any other failure (database missing, locked, unknown shot, ...).
    #[error("{0}")]
    Failed(String),
}

/// A version number taken for a version group, with its folder (created, empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocated {
    /// The number taken.
    pub version: u32,
    /// The version folder claimed for it.
    pub dir: PathBuf,
    /// Whether the database holds a reservation for the number (consumed when the version is
    /// registered under it); `false` for a number taken on disk alone.
    pub reserved: bool,
}

/// The allocator of a project without a database: the store's numbering rule on disk alone
/// (one more than the highest version folder, claimed with an atomic `mkdir`).
pub fn allocate_on_disk(layout: &dyn VersionLayout) -> Result<Allocated, RegisterError> {
    let a = shotline_store::allocate_on_disk(layout)
        .map_err(|e| RegisterError::Failed(e.to_string()))?;
    Ok(Allocated {
        version: a.number.get(),
        dir: a.dir,
        reserved: false,
    })
}

/// Registers created versions in a tracking database, all in one transaction.
pub trait Registrar: Sync + Send {
    /// Takes the next version number of `id` and claims its folder in `layout`, recording the
    /// number in the database in the same crash-safe step (see `shotline_store`'s allocator),
    /// so no other writer (publish, another ingest) can take it. The default allocates on disk
    /// alone ([`allocate_on_disk`]).
    fn allocate(
        &self,
        _id: &ShotId,
        layout: &dyn VersionLayout,
    ) -> Result<Allocated, RegisterError> {
        allocate_on_disk(layout)
    }

    /// Registers every version under exactly its folder's number ([`Registration::version`]),
    /// or none of them.
    fn register(&self, versions: &[Registration]) -> Result<(), RegisterError>;

    /// Checks, writing nothing, that the database could take versions of each target (its shot
    /// and step exist), so a dry run reports what the real run would refuse. Returns a problem
    /// per refused target, by index in `targets`.
    fn check_targets(&self, _targets: &[&ShotId]) -> Result<Vec<TargetProblem>, RegisterError> {
        Ok(Vec::new())
    }
}

/// A target the database would refuse (see [`Registrar::check_targets`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetProblem {
    /// Index in the checked targets.
    pub index: usize,
    /// Why, naming the shot or step.
    pub message: String,
}

/// The run-wide settings that recording a version needs.
pub(crate) struct RecordSettings<'a> {
    /// The `ingest:` config (state, thumbnails).
    pub cfg: &'a shotline_config::IngestConfig,
    /// Checksum algorithm.
    pub algo: HashAlgo,
    /// Time of the record, RFC 3339.
    pub date: &'a str,
    /// Read buffer for hashing the sidecar and thumbnail.
    pub buf_size: usize,
}

/// One complete version folder to record.
pub(crate) struct VersionFiles<'a> {
    /// The version folder.
    pub dir: &'a Path,
    /// Its number.
    pub version: u32,
    /// The files copied into it.
    pub files: &'a [CopiedFile],
    /// The clips they came from.
    pub clips: Vec<&'a PlannedClip>,
}

/// Writes a version folder's sidecar, thumbnail (unless one was made during the copy:
/// `early_thumb`) and MHL generation, noting them in `rec`.
pub(crate) fn record_version(
    v: &VersionFiles<'_>,
    s: &RecordSettings<'_>,
    early_thumb: Option<&Result<(), String>>,
    rec: &mut VersionRecord,
) -> Result<(), IngestError> {
    let sidecar = write_version_sidecar(v, s)?;
    let mut extra = vec![sidecar];
    match early_thumb {
        Some(Ok(())) if v.dir.join(THUMB_FILE).is_file() => {
            rec.thumbnail = Some(v.dir.join(THUMB_FILE));
            extra.push(v.dir.join(THUMB_FILE));
        }
        Some(Err(e)) => rec.warnings.push(format!("no thumbnail: {e}")),
        _ => {}
    }
    if s.cfg.thumbnails && early_thumb.is_none() {
        if let Some(out) = write_version_thumbnail(v, rec) {
            extra.push(out);
        }
    }
    rec.mhl = Some(write_version_mhl(v, s, &extra)?);
    Ok(())
}

/// The Ramses sidecar listing each file, its source and checksum.
fn write_version_sidecar(
    v: &VersionFiles<'_>,
    s: &RecordSettings<'_>,
) -> Result<PathBuf, IngestError> {
    let side: Vec<SidecarFile> = v
        .files
        .iter()
        .map(|f| SidecarFile {
            name: f
                .dest
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            source: crate::names::escape_path(&f.source),
            hash: f.hash.clone(),
        })
        .collect();
    let comment = format!(
        "ingested by shotline from {}",
        v.clips
            .iter()
            .map(|c| c.key.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let path = v.dir.join(SIDECAR_FILE);
    write_sidecar(
        v.dir,
        v.version,
        &s.cfg.state,
        &comment,
        s.date,
        s.algo.name(),
        &side,
    )
    .map_err(|e| write_error("sidecar", &path, &e))?;
    Ok(path)
}

/// A thumbnail from the middle copied frame of the version's first sequence (else movie); a
/// frame that cannot be decoded is a warning on the version. Returns the file written.
fn write_version_thumbnail(v: &VersionFiles<'_>, rec: &mut VersionRecord) -> Option<PathBuf> {
    let clip = v
        .clips
        .iter()
        .find(|c| c.kind == ClipKind::Sequence)
        .or_else(|| v.clips.iter().find(|c| c.kind == ClipKind::Movie))?;
    let mine: Vec<&PathBuf> = v
        .files
        .iter()
        .filter(|f| clip.files.iter().any(|pf| pf.source == f.source))
        .map(|f| &f.dest)
        .collect();
    let frame = mine.get(mine.len() / 2)?;
    let out = v.dir.join(THUMB_FILE);
    match crate::thumb::write_thumbnail(frame, &out) {
        Ok(()) => {
            rec.thumbnail = Some(out.clone());
            Some(out)
        }
        Err(e) => {
            rec.warnings.push(format!("no thumbnail: {e}"));
            None
        }
    }
}

/// The ASC MHL generation: every copied file (with the checksum verified while copying) and the
/// `extra` files written here (hashed now).
fn write_version_mhl(
    v: &VersionFiles<'_>,
    s: &RecordSettings<'_>,
    extra: &[PathBuf],
) -> Result<PathBuf, IngestError> {
    let mut entries = Vec::with_capacity(v.files.len() + extra.len());
    for f in v.files {
        entries.push(mhl_entry(v.dir, &f.dest, f.hash.clone(), f.size)?);
    }
    for p in extra {
        let (h, size) =
            hash_file(p, s.algo, s.buf_size).map_err(|e| write_error("MHL entry for", p, &e))?;
        entries.push(mhl_entry(v.dir, p, h, size)?);
    }
    mhl::write_generation(v.dir, s.algo, &entries, SystemTime::now())
        .map_err(|e| IngestError::Io(e.to_string()))
}

fn write_error(what: &str, p: &Path, e: &dyn std::fmt::Display) -> IngestError {
    IngestError::Io(format!("cannot write {what} {}: {e}", p.display()))
}

fn mhl_entry(dir: &Path, p: &Path, hash: String, size: u64) -> Result<MhlEntry, IngestError> {
    let mtime = std::fs::metadata(p)
        .and_then(|m| m.modified())
        .map_err(|e| IngestError::Io(format!("cannot stat {}: {e}", p.display())))?;
    let rel = p
        .strip_prefix(dir)
        .unwrap_or(p)
        .to_string_lossy()
        .replace('\\', "/");
    Ok(MhlEntry {
        rel_path: rel,
        size,
        mtime,
        hash,
    })
}
