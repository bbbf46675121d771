//! ASC MHL v2 generations and the chain file.
//!
//! Each version folder gets `ascmhl/NNNN_<folder>_<date>_<time>Z.mhl` listing every file with its
//! size, mtime and checksum, and `ascmhl/ascmhl_chain.xml` listing each generation with the C4 ID
//! of its file, exactly as the reference `ascmhl` tool reads and verifies them. The hashes are the
//! ones proven during the copy, so no file is read again.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use shotline_fsio::{write_atomic, Overwrite};
use time::OffsetDateTime;

use crate::hash::{hash_bytes, HashAlgo};

/// Folder holding the manifests, inside the root it describes.
pub const MHL_DIR: &str = "ascmhl";
/// The chain file name.
pub const CHAIN_FILE: &str = "ascmhl_chain.xml";

/// One file in a generation.
#[derive(Debug, Clone)]
pub struct MhlEntry {
    /// Path relative to the root, with `/` separators.
    pub rel_path: String,
    /// Bytes.
    pub size: u64,
    /// Modification time written as `lastmodificationdate`.
    pub mtime: SystemTime,
    /// Checksum string in `algo`'s MHL form.
    pub hash: String,
}

/// Why a generation could not be written.
#[derive(Debug, thiserror::Error)]
pub enum MhlError {
    /// The chain file exists but cannot be read; nothing is written or removed.
    #[error("cannot read MHL chain {path}: {source}")]
    Read {
        /// The chain file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Filesystem error; names the path.
    #[error("cannot write MHL {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

fn xml_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            c => o.push(c),
        }
    }
    o
}

/// `2026-11-22T03:56:58+00:00`, the form ascmhl writes.
pub fn mhl_date(t: SystemTime) -> String {
    let d = OffsetDateTime::from(t);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}+00:00",
        d.year(),
        d.month() as u8,
        d.day(),
        d.hour(),
        d.minute(),
        d.second()
    )
}

/// One generation listed in the chain file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generation {
    /// Its sequence number (1, 2, …).
    pub sequence: u32,
    /// The manifest's path relative to the `ascmhl` folder.
    pub path: String,
    /// The C4 ID of the manifest file.
    pub c4: String,
}

/// The generations in `root`'s chain file: empty when there is no chain file; an error when it
/// exists but cannot be read (never guessed empty: a writer would then treat every manifest as
/// an orphan).
pub fn chain_generations(root: &Path) -> Result<Vec<Generation>, MhlError> {
    let path = root.join(MHL_DIR).join(CHAIN_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(MhlError::Read { path, source }),
    };
    let mut out = Vec::new();
    for block in text.split("<hashlist ").skip(1) {
        let nr = block
            .split("sequencenr=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .and_then(|s| s.parse().ok());
        let p = between(block, "<path>", "</path>");
        let c4 = between(block, "<c4>", "</c4>");
        if let (Some(sequence), Some(p), Some(c4)) = (nr, p, c4) {
            out.push(Generation {
                sequence,
                path: p.to_string(),
                c4: c4.to_string(),
            });
        }
    }
    Ok(out)
}

fn between<'a>(s: &'a str, a: &str, b: &str) -> Option<&'a str> {
    let start = s.find(a)? + a.len();
    let end = s[start..].find(b)? + start;
    Some(&s[start..end])
}

/// Writes a new generation for `root` and appends it to the chain. Returns the manifest path.
pub fn write_generation(
    root: &Path,
    algo: HashAlgo,
    entries: &[MhlEntry],
    now: SystemTime,
) -> Result<PathBuf, MhlError> {
    let dir = root.join(MHL_DIR);
    let ioe = |path: &Path| {
        let path = path.to_path_buf();
        move |source| MhlError::Io { path, source }
    };
    std::fs::create_dir_all(&dir).map_err(ioe(&dir))?;
    let chain = chain_generations(root)?;
    let chain_exists = dir.join(CHAIN_FILE).try_exists().map_err(ioe(&dir))?;
    if !chain_exists {
        // A manifest without a chain is an orphan of a run killed between the two writes.
        for e in std::fs::read_dir(&dir).map_err(ioe(&dir))?.flatten() {
            if e.path().extension().is_some_and(|x| x == "mhl") {
                std::fs::remove_file(e.path()).map_err(ioe(&e.path()))?;
            }
        }
    }
    let seq = chain
        .iter()
        .map(|c| c.sequence)
        .max()
        .unwrap_or(0)
        .saturating_add(1);
    let root_name = root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "root".into());
    let d = OffsetDateTime::from(now);
    let file_name = format!(
        "{seq:04}_{root_name}_{:04}-{:02}-{:02}_{:02}{:02}{:02}Z.mhl",
        d.year(),
        d.month() as u8,
        d.day(),
        d.hour(),
        d.minute(),
        d.second()
    );
    let date = mhl_date(now);
    let tag = algo.name();
    let mut x = String::with_capacity(256 + entries.len() * 300);
    x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    x.push_str("<hashlist version=\"2.0\" xmlns=\"urn:ASC:MHL:v2.0\">\n");
    x.push_str("  <creatorinfo>\n");
    x.push_str(&format!("    <creationdate>{date}</creationdate>\n"));
    x.push_str(&format!(
        "    <hostname>{}</hostname>\n",
        xml_escape(&shotline_fsio::host_name())
    ));
    x.push_str(&format!(
        "    <tool version=\"{}\">shotline</tool>\n",
        env!("CARGO_PKG_VERSION")
    ));
    x.push_str("  </creatorinfo>\n");
    x.push_str("  <processinfo>\n    <process>in-place</process>\n    <ignore>\n");
    for p in [".DS_Store", "ascmhl", "ascmhl/"] {
        x.push_str(&format!("      <pattern>{p}</pattern>\n"));
    }
    x.push_str("    </ignore>\n  </processinfo>\n  <hashes>\n");
    for e in entries {
        x.push_str("    <hash>\n");
        x.push_str(&format!(
            "      <path size=\"{}\" lastmodificationdate=\"{}\">{}</path>\n",
            e.size,
            mhl_date(e.mtime),
            xml_escape(&e.rel_path)
        ));
        x.push_str(&format!(
            "      <{tag} action=\"original\" hashdate=\"{date}\">{}</{tag}>\n",
            e.hash
        ));
        x.push_str("    </hash>\n");
    }
    x.push_str("  </hashes>\n</hashlist>\n");
    let mhl_path = dir.join(&file_name);
    write_atomic(&mhl_path, x.as_bytes(), Overwrite::Never)
        .map_err(|e| ioe(&mhl_path)(e.into()))?;
    let c4 = hash_bytes(x.as_bytes(), HashAlgo::C4);
    let mut c = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ascmhldirectory xmlns=\"urn:ASC:MHL:DIRECTORY:v2.0\">\n");
    let mut all = chain;
    all.push(Generation {
        sequence: seq,
        path: file_name,
        c4,
    });
    for g in &all {
        c.push_str(&format!(
            "  <hashlist sequencenr=\"{}\">\n    <path>{}</path>\n    <c4>{}</c4>\n  </hashlist>\n",
            g.sequence,
            xml_escape(&g.path),
            g.c4
        ));
    }
    c.push_str("</ascmhldirectory>\n");
    let chain_path = dir.join(CHAIN_FILE);
    write_atomic(&chain_path, c.as_bytes(), Overwrite::Replace)
        .map_err(|e| ioe(&chain_path)(e.into()))?;
    Ok(mhl_path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_generation_and_chain_with_c4() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("v001");
        std::fs::create_dir(&root).unwrap();
        std::fs::write(root.join("a&b.txt"), b"hello\n").unwrap();
        let e = MhlEntry {
            rel_path: "a&b.txt".into(),
            size: 6,
            mtime: SystemTime::UNIX_EPOCH,
            hash: hash_bytes(b"hello\n", HashAlgo::Xxh128),
        };
        let p1 = write_generation(
            &root,
            HashAlgo::Xxh128,
            std::slice::from_ref(&e),
            SystemTime::now(),
        )
        .unwrap();
        let text = std::fs::read_to_string(&p1).unwrap();
        assert!(text.contains("<path size=\"6\" lastmodificationdate=\"1970-01-01T00:00:00+00:00\">a&amp;b.txt</path>"));
        assert!(text.contains("<xxh128 action=\"original\""));
        assert!(p1
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("0001_v001_"));
        let p2 = write_generation(&root, HashAlgo::Xxh128, &[e], SystemTime::now()).unwrap();
        assert!(p2
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("0002_"));
        let chain = chain_generations(&root).unwrap();
        assert_eq!(chain.len(), 2);
        assert_eq!(chain[0].c4, hash_bytes(text.as_bytes(), HashAlgo::C4));
    }

    #[test]
    fn an_unreadable_chain_is_an_error_and_no_manifest_is_removed() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("v001");
        let mhl_dir = root.join(MHL_DIR);
        std::fs::create_dir_all(&mhl_dir).unwrap();
        std::fs::write(mhl_dir.join("0001_v001_x.mhl"), b"<hashlist/>").unwrap();
        // A directory under the chain's name: exists, cannot be read as a file.
        std::fs::create_dir(mhl_dir.join(CHAIN_FILE)).unwrap();
        let e = write_generation(&root, HashAlgo::Xxh128, &[], SystemTime::now()).unwrap_err();
        assert!(matches!(e, MhlError::Read { .. }), "{e}");
        assert!(mhl_dir.join("0001_v001_x.mhl").exists());
    }
}
