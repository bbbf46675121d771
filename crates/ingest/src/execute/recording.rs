//! The record phase: each complete version folder recorded (sidecar, thumbnail, MHL), the
//! versions registered in the tracking database in one transaction (with already-ingested
//! versions that never were), and the ledger written.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::hash::HashAlgo;
use crate::ledger::{self, LedgerClip, LedgerEntry};
use crate::mhl;
use crate::plan::{self, content_hash, ClipStatus, Issue, Plan, PlannedClip, VersionGroup};
use crate::record::{
    record_version, CopiedFile, RecordSettings, RegisterError, Registration, VersionFiles,
    THUMB_FILE,
};
use crate::report::{Report, VersionRecord};
use crate::resume::Job;
use crate::scan::ClipKind;
use crate::sidecar::SIDECAR_FILE;
use crate::IngestError;

/// A version to register in the tracking database, and what follows from its registration.
pub(super) struct PendingRegistration {
    registration: Registration,
    /// The clips it is for.
    clips: Vec<usize>,
    /// Index in `versions_created` of a version this run created; `None` for an existing
    /// version registered again.
    created: Option<usize>,
    /// Its ledger line (appended, marked registered or not, after registration).
    ledger: LedgerEntry,
    registered: bool,
}

/// What a version folder holds after the copy: its files and, per clip, the ledger's record.
struct VersionContent {
    files: Vec<CopiedFile>,
    clips: Vec<LedgerClip>,
}

/// Phase "record": each version whose clips were all copied gets its sidecar, thumbnail and
/// MHL generation (unless an interrupted run recorded it) and is queued for registration with
/// its ledger line; its clips are ingested.
pub(super) fn record_versions(
    s: &RecordSettings<'_>,
    plan: &mut Plan,
    report: &mut Report,
    copied: &BTreeMap<usize, Vec<CopiedFile>>,
    thumbs: &BTreeMap<usize, Result<(), String>>,
    handle: &Job,
) -> Result<Vec<PendingRegistration>, IngestError> {
    let mut pending = Vec::new();
    for gi in 0..plan.versions.len() {
        let Some(members) = complete_members(plan, gi) else {
            continue;
        };
        let g = plan.versions[gi].clone();
        shotline_fsio::sync_dir(&g.dir).map_err(|e| IngestError::Io(e.to_string()))?;
        let content = version_content(plan, &members, copied, s.algo);
        let already_recorded = handle
            .state
            .versions
            .get(&g.job_key)
            .is_some_and(|r| r.recorded);
        let mut rec = VersionRecord {
            key: g.key.clone(),
            version: g.version,
            dir: g.dir.clone(),
            files: content.files.len(),
            bytes: content.files.iter().map(|f| f.size).sum(),
            mhl: None,
            sidecar: Some(g.dir.join(SIDECAR_FILE)),
            thumbnail: None,
            registered: false,
            warnings: Vec::new(),
        };
        if !already_recorded {
            record_or_reuse(
                plan,
                &g,
                &members,
                &content.files,
                s,
                thumbs.get(&gi),
                &mut rec,
            )?;
            let ledger = new_ledger_entry(s, &plan.job, &g, &rec, content.clips);
            let registration = registration(
                plan,
                &g,
                (g.version, &g.dir),
                &members,
                content.files,
                s.algo,
            )
            .map_err(IngestError::Io)?;
            pending.push(PendingRegistration {
                registration,
                clips: members.clone(),
                created: Some(report.versions_created.len()),
                ledger,
                registered: false,
            });
        }
        for &ci in &members {
            plan.clips[ci].status = ClipStatus::Ingested;
        }
        report.versions_created.push(rec);
    }
    Ok(pending)
}

/// The clips of version `gi` copied in this run, when they all were (a version with a failed
/// copy is resumed by the next run) and its folder exists.
fn complete_members(plan: &Plan, gi: usize) -> Option<Vec<usize>> {
    let g = &plan.versions[gi];
    let members: Vec<usize> = g
        .clips
        .iter()
        .copied()
        .filter(|&c| {
            matches!(
                plan.clips[c].status,
                ClipStatus::Planned | ClipStatus::Failed
            )
        })
        .collect();
    let complete = !members.is_empty()
        && g.dir.is_dir()
        && !members
            .iter()
            .any(|&c| plan.clips[c].status == ClipStatus::Failed);
    complete.then_some(members)
}

/// The files copied for `members` and their content checksums (set on each clip).
fn version_content(
    plan: &mut Plan,
    members: &[usize],
    copied: &BTreeMap<usize, Vec<CopiedFile>>,
    algo: HashAlgo,
) -> VersionContent {
    let mut out = VersionContent {
        files: Vec::new(),
        clips: Vec::new(),
    };
    for &ci in members {
        let done = copied.get(&ci).map(Vec::as_slice).unwrap_or(&[]);
        let names: Vec<(String, &str)> = done
            .iter()
            .map(|f| {
                let n = crate::names::escape_file_name(&f.source);
                (n, f.hash.as_str())
            })
            .collect();
        let content = content_hash(names.iter().map(|(n, h)| (n.as_str(), *h)), algo);
        let c = &mut plan.clips[ci];
        c.content = Some(content.clone());
        out.clips.push(LedgerClip {
            clip: c.key.clone(),
            fingerprint: c.fingerprint.clone(),
            content,
        });
        out.files.extend(done.iter().cloned());
    }
    out
}

/// Writes the version's records, or, when an interrupted run already wrote its MHL
/// generation, points the report at what is there.
fn record_or_reuse(
    plan: &Plan,
    g: &VersionGroup,
    members: &[usize],
    files: &[CopiedFile],
    s: &RecordSettings<'_>,
    early_thumb: Option<&Result<(), String>>,
    rec: &mut VersionRecord,
) -> Result<(), IngestError> {
    let gens = mhl::chain_generations(&g.dir).map_err(|e| IngestError::Io(e.to_string()))?;
    if gens.is_empty() {
        let v = VersionFiles {
            dir: &g.dir,
            version: g.version,
            files,
            clips: members.iter().map(|&c| &plan.clips[c]).collect(),
        };
        return record_version(&v, s, early_thumb, rec);
    }
    if let Some(last) = gens.last() {
        rec.mhl = Some(g.dir.join(mhl::MHL_DIR).join(&last.path));
        if g.dir.join(THUMB_FILE).is_file() {
            rec.thumbnail = Some(g.dir.join(THUMB_FILE));
        }
    }
    Ok(())
}

/// The ledger line of a version this run created (not registered until the database says so).
fn new_ledger_entry(
    s: &RecordSettings<'_>,
    job: &str,
    g: &VersionGroup,
    rec: &VersionRecord,
    clips: Vec<LedgerClip>,
) -> LedgerEntry {
    LedgerEntry {
        time: s.date.to_string(),
        job: job.to_string(),
        shot: match &g.id.sequence {
            Some(seq) => format!("{seq}/{}", g.id.shot),
            None => g.id.shot.clone(),
        },
        step: g.id.step.clone(),
        resource: g.id.resource.clone(),
        version: g.version,
        dir: g.dir.display().to_string(),
        files: rec.files,
        bytes: rec.bytes,
        algo: s.algo.name().into(),
        clips,
        registered: Some(false),
    }
}

/// What the tracking database records for a version (number and folder `at`) holding `files`
/// of `members`: its main clip's pattern, frames and media.
fn registration(
    plan: &Plan,
    g: &VersionGroup,
    (version, dir): (u32, &Path),
    members: &[usize],
    files: Vec<CopiedFile>,
    algo: HashAlgo,
) -> Result<Registration, String> {
    let main = main_clip(plan, g, version, members)?;
    let mc = &plan.clips[main.clip];
    Ok(Registration {
        id: g.id.clone(),
        version,
        dir: dir.to_path_buf(),
        pattern: main.pattern,
        frames: mc.frames.clone(),
        missing_frames: mc.frames.gaps(),
        media: mc.media.clone(),
        bytes: files.iter().map(|f| f.size).sum(),
        files,
        algo,
        content: mc.content.clone().unwrap_or_default(),
        comment: format!(
            "ingested from {}",
            members
                .iter()
                .map(|&c| plan.clips[c].key.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    })
}

/// The clip a version is registered by.
struct MainClip {
    /// Its index in the plan.
    clip: usize,
    /// Its file name pattern in the version folder (`NAME_v001.####.exr`).
    pattern: String,
}

/// The main clip of a version (its first image sequence, else its first clip) and that clip's
/// file name pattern in the folder numbered `version`.
fn main_clip(
    plan: &Plan,
    g: &VersionGroup,
    version: u32,
    members: &[usize],
) -> Result<MainClip, String> {
    let clip = members
        .iter()
        .copied()
        .find(|&c| plan.clips[c].kind == ClipKind::Sequence)
        .or_else(|| members.first().copied())
        .ok_or_else(|| format!("version {} has no clips", g.key))?;
    let mc = &plan.clips[clip];
    let pattern = mc
        .files
        .first()
        .map(|f| {
            let mut f = f.clone();
            f.frame = f
                .frame
                .as_ref()
                .map(|t| "#".repeat(t.trim_start_matches('-').len()));
            plan::dest_name(&plan.destinations, g, version, &f, &mc.ext)
        })
        .transpose()?
        .unwrap_or_default();
    Ok(MainClip { clip, pattern })
}

/// Phase "existing registrations": content already ingested into a folder that was never
/// registered (its registration failed, or there was no database then). Without this, a re-run
/// after fixing the cause would skip it as already ingested forever and the version would never
/// reach the database. It is registered now, under its folder's number, in the same
/// transaction as the new versions.
pub(super) fn existing_registrations(
    plan: &mut Plan,
    algo: HashAlgo,
    date: &str,
) -> Vec<PendingRegistration> {
    let mut by_dir: BTreeMap<PathBuf, Vec<usize>> = BTreeMap::new();
    for (ci, c) in plan.clips.iter().enumerate() {
        if c.status != ClipStatus::AlreadyIngested {
            continue;
        }
        if let Some(a) = c.ingested_as.as_ref().filter(|a| !a.registered) {
            by_dir.entry(a.dir.clone()).or_default().push(ci);
        }
    }
    let mut pending = Vec::new();
    for (dir, members) in by_dir {
        match existing_registration(plan, &members, algo) {
            Ok(mut p) => {
                p.ledger.time = date.to_string();
                p.ledger.job = plan.job.clone();
                pending.push(p);
            }
            Err(e) => {
                for ci in members {
                    plan.clips[ci].issues.push(Issue::error(
                        "registration",
                        format!(
                            "already ingested into {} but not registered: {e}",
                            dir.display()
                        ),
                    ));
                }
            }
        }
    }
    pending
}

/// The registration of an existing version folder that already-ingested `members` (all in that
/// folder, per the ledger) went into, with the same fields a new version gets, and its ledger
/// line (to append, marked registered, once the database has it). Refused when the clips now
/// map to another shot/step/resource, when only some of the version's clips are in this run (the
/// database would get a partial file list), or when a file is missing or has another size in the
/// folder (what would be registered is not what was ingested).
fn existing_registration(
    plan: &Plan,
    members: &[usize],
    algo: HashAlgo,
) -> Result<PendingRegistration, String> {
    let first = members.first().map(|&c| &plan.clips[c]).ok_or("no clips")?;
    let a = first.ingested_as.as_ref().ok_or("not already ingested")?;
    let entry = &a.entry;
    let g = first
        .version_group
        .and_then(|gi| plan.versions.get(gi))
        .ok_or("the clip has no version")?;
    check_same_target(plan, members, entry)?;
    check_whole_version(plan, members, entry)?;
    let mut files = Vec::new();
    for &ci in members {
        files.extend(files_in_folder(
            plan,
            g,
            (a.version, &a.dir),
            &plan.clips[ci],
        )?);
    }
    Ok(PendingRegistration {
        registration: registration(plan, g, (a.version, &a.dir), members, files, algo)?,
        clips: members.to_vec(),
        created: None,
        ledger: entry.clone(),
        registered: false,
    })
}

/// Refuses when the clips now map to another shot/step/resource than the ledger line says.
fn check_same_target(plan: &Plan, members: &[usize], entry: &LedgerEntry) -> Result<(), String> {
    let entry_key = format!(
        "{}/{}{}",
        entry.shot,
        entry.step,
        entry
            .resource
            .as_deref()
            .map(|r| format!("/{r}"))
            .unwrap_or_default()
    );
    if members.iter().any(|&c| {
        plan.clips[c]
            .version_group
            .and_then(|gi| plan.versions.get(gi))
            .is_none_or(|x| x.key != entry_key)
    }) {
        return Err(format!(
            "it was ingested as {entry_key} but now matches another shot/step/resource"
        ));
    }
    Ok(())
}

/// Refuses when a clip of the version (per its ledger line) is not in this run.
fn check_whole_version(plan: &Plan, members: &[usize], entry: &LedgerEntry) -> Result<(), String> {
    let present = |content: &str| {
        members
            .iter()
            .any(|&c| plan.clips[c].content.as_deref() == Some(content))
    };
    match entry.clips.iter().find(|lc| !present(&lc.content)) {
        Some(missing) => Err(format!(
            "its clip {} is not in this delivery; ingest the whole delivery again to register it",
            missing.clip
        )),
        None => Ok(()),
    }
}

/// A clip's files in an existing version folder (number and folder `at`), each checked to be
/// there with the size that was ingested, with its source checksum.
fn files_in_folder(
    plan: &Plan,
    g: &VersionGroup,
    (version, dir): (u32, &Path),
    c: &PlannedClip,
) -> Result<Vec<CopiedFile>, String> {
    if c.hashes.len() != c.files.len() {
        return Err(format!("{}: the source checksums are unknown", c.key));
    }
    let mut files = Vec::with_capacity(c.files.len());
    for (f, h) in c.files.iter().zip(&c.hashes) {
        let path = dir.join(plan::dest_name(&plan.destinations, g, version, f, &c.ext)?);
        match std::fs::metadata(&path) {
            Ok(m) if m.is_file() && m.len() == f.size => {}
            Ok(m) => {
                return Err(format!(
                    "{} has {} bytes, {} were ingested",
                    path.display(),
                    m.len(),
                    f.size
                ))
            }
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        }
        files.push(CopiedFile {
            dest: path,
            hash: h.clone(),
            size: f.size,
            source: f.source.clone(),
        });
    }
    Ok(files)
}

/// Phase "register": all versions in one transaction, each under its folder's number. A number
/// the database already has is an error for that version's clips; the others are registered
/// without it.
pub(super) fn register_all(
    registrar: &dyn crate::Registrar,
    pending: &mut [PendingRegistration],
    report: &mut Report,
    plan: &mut Plan,
) {
    let mut waiting: Vec<usize> = (0..pending.len()).collect();
    while !waiting.is_empty() {
        let batch: Vec<Registration> = waiting
            .iter()
            .map(|&i| pending[i].registration.clone())
            .collect();
        match registrar.register(&batch) {
            Ok(()) => {
                crate::hooks::kill_at(crate::hooks::KillPoint::AfterRegistration);
                for &i in &waiting {
                    mark_registered(report, plan, &mut pending[i]);
                }
                break;
            }
            Err(RegisterError::AlreadyRegistered { index }) if index < waiting.len() => {
                let i = waiting.remove(index);
                mark_registered(report, plan, &mut pending[i]);
            }
            Err(RegisterError::Clash { index, message }) if index < waiting.len() => {
                let p = &pending[waiting.remove(index)];
                let dir = p.registration.dir.display();
                for &ci in &p.clips {
                    plan.clips[ci].issues.push(Issue::error(
                        "version-clash",
                        format!("copied to {dir} but not registered: {message}"),
                    ));
                }
            }
            Err(e) => {
                plan.issues.push(Issue::error(
                    "registration",
                    format!("versions are on disk but were not registered: {e}"),
                ));
                // Already-ingested clips would otherwise read as done: say why they are not.
                for p in waiting.iter().map(|&i| &pending[i]) {
                    if p.created.is_some() {
                        continue;
                    }
                    for &ci in &p.clips {
                        plan.clips[ci].issues.push(Issue::error(
                            "registration",
                            format!(
                                "already ingested into {} but not registered: {e}",
                                p.registration.dir.display()
                            ),
                        ));
                    }
                }
                break;
            }
        }
    }
}

/// Notes a registration that the database holds: on the version this run created, else on the
/// already-ingested clips it was for.
fn mark_registered(report: &mut Report, plan: &mut Plan, p: &mut PendingRegistration) {
    p.registered = true;
    match p.created {
        Some(v) => report.versions_created[v].registered = true,
        None => {
            for &ci in &p.clips {
                plan.clips[ci].status = ClipStatus::Registered;
            }
        }
    }
}

/// A version on disk that the database did not take is not "ingested" as far as the user can
/// tell: its clips say so.
pub(super) fn mark_not_registered(pending: &[PendingRegistration], plan: &mut Plan) {
    for p in pending {
        if p.created.is_some() && !p.registered {
            for &ci in &p.clips {
                plan.clips[ci].status = ClipStatus::NotRegistered;
            }
        }
    }
}

/// Phase "ledger": a line per version recorded (marked registered or not), unless the ledger
/// already has that line; the job state notes the version as recorded.
pub(super) fn write_ledger(
    ledger_path: &Path,
    pending: &mut [PendingRegistration],
    handle: &mut Job,
) -> Result<(), IngestError> {
    let existing = ledger::read(ledger_path).map_err(IngestError::Io)?;
    for p in pending {
        let entry = &mut p.ledger;
        entry.registered = Some(p.registered);
        if p.created.is_none() && !p.registered {
            continue; // the version's line already says it is not registered
        }
        if !existing
            .iter()
            .any(|e| e.job == entry.job && e.dir == entry.dir && e.registered == entry.registered)
        {
            ledger::append(ledger_path, entry).map_err(|e| {
                IngestError::Io(format!(
                    "cannot append to ledger {}: {e}",
                    ledger_path.display()
                ))
            })?;
        }
        if let Some(r) = handle
            .state
            .versions
            .values_mut()
            .find(|r| r.dir.display().to_string() == entry.dir)
        {
            r.recorded = true;
        }
    }
    Ok(())
}
