//! The append-only ingest ledger: one JSON line per version created.
//!
//! The ledger answers "was this clip already ingested?" (by fingerprint, then content checksum)
//! without a database, and is an audit trail that survives database restores. Lines are written
//! with one `write` on an `O_APPEND` file and fsynced, so concurrent ingests never interleave.

use std::io::{BufRead, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

/// One clip inside a ledger line.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LedgerClip {
    /// Clip key in its delivery.
    pub clip: String,
    /// Hash of the clip's file names and sizes: cheap to compute before copying.
    pub fingerprint: String,
    /// Hash of the clip's file names and content checksums.
    pub content: String,
}

/// One version created by an ingest.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LedgerEntry {
    /// RFC 3339 time of recording.
    pub time: String,
    /// The ingest job.
    pub job: String,
    /// Shot, as `SEQ/SHOT` or `SHOT`.
    pub shot: String,
    /// Step.
    pub step: String,
    /// Resource, if any.
    pub resource: Option<String>,
    /// Version number taken.
    pub version: u32,
    /// The version folder.
    pub dir: String,
    /// Files in the version (excluding sidecar, thumbnail, MHL).
    pub files: usize,
    /// Bytes copied.
    pub bytes: u64,
    /// Checksum algorithm.
    pub algo: String,
    /// The clips in this version.
    pub clips: Vec<LedgerClip>,
}

/// Reads every entry; malformed lines are returned as errors naming the line.
pub fn read(path: &Path) -> Result<Vec<LedgerEntry>, String> {
    let f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("cannot read ledger {}: {e}", path.display())),
    };
    let mut out = Vec::new();
    for (i, line) in std::io::BufReader::new(f).lines().enumerate() {
        let line = line.map_err(|e| format!("cannot read ledger {}: {e}", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let e: LedgerEntry = serde_json::from_str(&line).map_err(|e| {
            format!(
                "ledger {} line {}: not a ledger entry: {e}",
                path.display(),
                i + 1
            )
        })?;
        out.push(e);
    }
    Ok(out)
}

/// Appends one entry as a single line and fsyncs.
pub fn append(path: &Path, entry: &LedgerEntry) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut line = serde_json::to_vec(entry).map_err(std::io::Error::other)?;
    line.push(b'\n');
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    f.write_all(&line)?;
    f.sync_data()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_and_reads_back() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("l/ledger.jsonl");
        let e = LedgerEntry {
            time: "t".into(),
            job: "j".into(),
            shot: "SH1".into(),
            step: "PLATE".into(),
            resource: None,
            version: 1,
            dir: "/x".into(),
            files: 2,
            bytes: 3,
            algo: "xxh128".into(),
            clips: vec![],
        };
        append(&p, &e).unwrap();
        append(&p, &e).unwrap();
        assert_eq!(read(&p).unwrap().len(), 2);
        std::fs::write(&p, "{bad\n").unwrap();
        assert!(read(&p).unwrap_err().contains("line 1"));
    }
}
