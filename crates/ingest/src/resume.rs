//! Job state for resuming an interrupted ingest.
//!
//! Before any byte is copied, the versions taken are saved in the job's `state.json`; each file
//! verified is appended to `journal.jsonl`. A re-run of the same command (same job ID) takes the
//! lock, finds the state, reuses the same version folders and skips journalled files whose
//! destination is still there with the right size. A completed job removes its state.

use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use shotline_fsio::{write_atomic, Overwrite};

/// A version folder taken by a job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Reserved {
    /// Version number.
    pub version: u32,
    /// The folder.
    pub dir: PathBuf,
    /// MHL, sidecar and ledger line are written.
    pub recorded: bool,
}

/// What `state.json` holds.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct JobState {
    /// Job ID.
    pub job: String,
    /// Versions taken, by group key.
    pub versions: BTreeMap<String, Reserved>,
}

/// One verified file from the journal.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Verified {
    /// Destination path.
    pub dest: PathBuf,
    /// Checksum.
    pub hash: String,
    /// Bytes.
    pub size: u64,
}

/// An open, locked job.
pub struct Job {
    dir: PathBuf,
    _lock: File,
    /// The saved state (empty for a fresh job).
    pub state: JobState,
    /// True when an interrupted run was found.
    pub resumed: bool,
    journal: Mutex<File>,
    verified: HashMap<PathBuf, Verified>,
}

/// An error opening or writing the job state; names the file.
#[derive(Debug, thiserror::Error)]
#[error("ingest job state {path}: {message}")]
pub struct JobError {
    /// The file.
    pub path: PathBuf,
    /// What went wrong.
    pub message: String,
}

fn jerr(path: &Path, e: impl std::fmt::Display) -> JobError {
    JobError {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Blocks until this process holds an exclusive lock on `f` (released when `f` closes, also
/// when the process is killed).
fn lock_exclusive(f: &File) -> std::io::Result<()> {
    f.lock()
}

impl Job {
    /// Opens (creating) the job folder under `jobs_dir` and takes its lock, waiting for another
    /// run of the same job to finish first.
    pub fn open(jobs_dir: &Path, job: &str) -> Result<Job, JobError> {
        let dir = jobs_dir.join(job);
        std::fs::create_dir_all(&dir).map_err(|e| jerr(&dir, e))?;
        let lock_path = dir.join("lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| jerr(&lock_path, e))?;
        lock_exclusive(&lock).map_err(|e| jerr(&lock_path, e))?;
        let state_path = dir.join("state.json");
        let (state, resumed) = match std::fs::read(&state_path) {
            Ok(b) => (
                serde_json::from_slice(&b).map_err(|e| jerr(&state_path, e))?,
                true,
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (
                JobState {
                    job: job.to_string(),
                    ..JobState::default()
                },
                false,
            ),
            Err(e) => return Err(jerr(&state_path, e)),
        };
        let journal_path = dir.join("journal.jsonl");
        let mut verified = HashMap::new();
        if let Ok(f) = File::open(&journal_path) {
            // A torn last line (killed mid-write) is ignored: that file is simply re-checked.
            for line in std::io::BufReader::new(f).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<Verified>(&line) {
                    verified.insert(v.dest.clone(), v);
                }
            }
        }
        let journal = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&journal_path)
            .map_err(|e| jerr(&journal_path, e))?;
        Ok(Job {
            dir,
            _lock: lock,
            state,
            resumed,
            journal: Mutex::new(journal),
            verified,
        })
    }

    /// Saves the state atomically.
    pub fn save(&self) -> Result<(), JobError> {
        let p = self.dir.join("state.json");
        let b = serde_json::to_vec_pretty(&self.state).map_err(|e| jerr(&p, e))?;
        write_atomic(&p, &b, Overwrite::Replace).map_err(|e| jerr(&p, e))
    }

    /// A journalled file whose destination still has the journalled size.
    pub fn already_verified(&self, dest: &Path) -> Option<&Verified> {
        let v = self.verified.get(dest)?;
        let m = std::fs::metadata(dest).ok()?;
        (m.is_file() && m.len() == v.size).then_some(v)
    }

    /// Appends a verified file to the journal.
    pub fn journal(&self, v: &Verified) -> Result<(), JobError> {
        let p = self.dir.join("journal.jsonl");
        let mut line = serde_json::to_vec(v).map_err(|e| jerr(&p, e))?;
        line.push(b'\n');
        let mut f = self.journal.lock().unwrap_or_else(|e| e.into_inner());
        f.write_all(&line).map_err(|e| jerr(&p, e))
    }

    /// Removes state and journal after a complete run (the lock file stays for waiters).
    pub fn finish(self) -> Result<(), JobError> {
        for name in ["state.json", "journal.jsonl"] {
            let p = self.dir.join(name);
            match std::fs::remove_file(&p) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(jerr(&p, e)),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_and_journal_survive_reopen() {
        let d = tempfile::tempdir().unwrap();
        let dest = d.path().join("f.exr");
        std::fs::write(&dest, b"abc").unwrap();
        {
            let mut j = Job::open(d.path(), "job1").unwrap();
            assert!(!j.resumed);
            j.state.versions.insert(
                "SH1/PLATE".into(),
                Reserved {
                    version: 2,
                    dir: d.path().into(),
                    recorded: false,
                },
            );
            j.save().unwrap();
            j.journal(&Verified {
                dest: dest.clone(),
                hash: "h".into(),
                size: 3,
            })
            .unwrap();
        }
        let j = Job::open(d.path(), "job1").unwrap();
        assert!(j.resumed);
        assert_eq!(j.state.versions["SH1/PLATE"].version, 2);
        assert!(j.already_verified(&dest).is_some());
        std::fs::write(&dest, b"abcd").unwrap();
        assert!(j.already_verified(&dest).is_none(), "size changed");
        j.finish().unwrap();
        assert!(!Job::open(d.path(), "job1").unwrap().resumed);
    }
}
