//! Streaming checksums for copies and MHL manifests.
//!
//! One [`Hasher`] is fed while bytes are copied so that a file is read once; the digest strings
//! are exactly what ASC MHL v2 writes (lowercase hex, or a C4 ID), so a hash computed here can be
//! compared with one read from any MHL file.

use std::fmt;
use std::io::Read;
use std::path::Path;
use std::str::FromStr;

use md5::Digest as _;

/// A checksum algorithm. The names are the ASC MHL v2 element names.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum HashAlgo {
    /// XXH3 128-bit: the default, fast on every CPU and collision-safe for deliveries.
    #[default]
    Xxh128,
    /// XXH64, what many DIT tools still write.
    Xxh64,
    /// XXH3 64-bit.
    Xxh3,
    /// MD5, for facilities that require it.
    Md5,
    /// SHA-1.
    Sha1,
    /// C4 ID (SHA-512, base58), the SMPTE ST 2114 content identifier.
    C4,
}

impl HashAlgo {
    /// Every algorithm, in the order of the documentation.
    pub const ALL: [HashAlgo; 6] = [
        HashAlgo::Xxh128,
        HashAlgo::Xxh64,
        HashAlgo::Xxh3,
        HashAlgo::Md5,
        HashAlgo::Sha1,
        HashAlgo::C4,
    ];

    /// The element name used in MHL files and in config (`xxh128`, `md5`, …).
    pub fn name(self) -> &'static str {
        match self {
            HashAlgo::Xxh128 => "xxh128",
            HashAlgo::Xxh64 => "xxh64",
            HashAlgo::Xxh3 => "xxh3",
            HashAlgo::Md5 => "md5",
            HashAlgo::Sha1 => "sha1",
            HashAlgo::C4 => "c4",
        }
    }

    /// A fresh streaming hasher.
    pub fn hasher(self) -> Hasher {
        let state = match self {
            HashAlgo::Xxh128 => State::Xxh128(Box::new(xxhash_rust::xxh3::Xxh3::new())),
            HashAlgo::Xxh3 => State::Xxh3(Box::new(xxhash_rust::xxh3::Xxh3::new())),
            HashAlgo::Xxh64 => State::Xxh64(xxhash_rust::xxh64::Xxh64::new(0)),
            HashAlgo::Md5 => State::Md5(md5::Md5::new()),
            HashAlgo::Sha1 => State::Sha1(sha1::Sha1::new()),
            HashAlgo::C4 => State::C4(Box::new(sha2::Sha512::new())),
        };
        Hasher { state }
    }
}

impl fmt::Display for HashAlgo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown algorithm name; lists the accepted ones.
#[derive(Debug, thiserror::Error)]
#[error("unknown hash algorithm {0:?}: expected one of xxh128, xxh64, xxh3, md5, sha1, c4")]
pub struct UnknownAlgo(pub String);

impl FromStr for HashAlgo {
    type Err = UnknownAlgo;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        match lower.as_str() {
            "xxh128" | "xxh3-128" | "xxh3_128" => Ok(HashAlgo::Xxh128),
            "xxh64" => Ok(HashAlgo::Xxh64),
            "xxh3" | "xxh3-64" | "xxh3_64" => Ok(HashAlgo::Xxh3),
            "md5" => Ok(HashAlgo::Md5),
            "sha1" => Ok(HashAlgo::Sha1),
            "c4" => Ok(HashAlgo::C4),
            _ => Err(UnknownAlgo(s.to_string())),
        }
    }
}

enum State {
    Xxh128(Box<xxhash_rust::xxh3::Xxh3>),
    Xxh3(Box<xxhash_rust::xxh3::Xxh3>),
    Xxh64(xxhash_rust::xxh64::Xxh64),
    Md5(md5::Md5),
    Sha1(sha1::Sha1),
    C4(Box<sha2::Sha512>),
}

/// A running checksum: feed bytes with [`Hasher::update`], read the MHL string with
/// [`Hasher::finish`].
pub struct Hasher {
    state: State,
}

impl Hasher {
    /// Adds bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        match &mut self.state {
            State::Xxh128(h) | State::Xxh3(h) => h.update(bytes),
            State::Xxh64(h) => h.update(bytes),
            State::Md5(h) => h.update(bytes),
            State::Sha1(h) => h.update(bytes),
            State::C4(h) => h.update(bytes),
        }
    }

    /// The digest as MHL writes it: lowercase hex, or a 90-character C4 ID.
    pub fn finish(self) -> String {
        match self.state {
            State::Xxh128(h) => format!("{:032x}", h.digest128()),
            State::Xxh3(h) => format!("{:016x}", h.digest()),
            State::Xxh64(h) => format!("{:016x}", h.digest()),
            State::Md5(h) => hex(&h.finalize()),
            State::Sha1(h) => hex(&h.finalize()),
            State::C4(h) => c4_id(&h.finalize()),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// C4 ID of a SHA-512 digest: base58 of the 512-bit number, left-padded with `1` to 88
/// characters, prefixed `c4` (as the ascmhl reference implementation does).
fn c4_id(sha512: &[u8]) -> String {
    const CHARSET: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    let mut num: Vec<u8> = sha512.to_vec();
    let mut digits = Vec::with_capacity(88);
    while num.iter().any(|&b| b != 0) {
        let mut rem: u32 = 0;
        for b in num.iter_mut() {
            let cur = (rem << 8) | u32::from(*b);
            *b = (cur / 58) as u8;
            rem = cur % 58;
        }
        digits.push(CHARSET[rem as usize]);
    }
    while digits.len() < 88 {
        digits.push(b'1');
    }
    digits.reverse();
    let mut s = String::from("c4");
    s.push_str(&String::from_utf8_lossy(&digits));
    s
}

/// Checksum of a whole file, read in `buf_size` chunks. Used to verify copies and existing files.
pub fn hash_file(path: &Path, algo: HashAlgo, buf_size: usize) -> std::io::Result<(String, u64)> {
    let mut f = std::fs::File::open(path)?;
    let mut h = algo.hasher();
    let mut buf = vec![0u8; buf_size.max(4096)];
    let mut total = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        total += n as u64;
    }
    Ok((h.finish(), total))
}

/// Checksum of in-memory bytes (small files: sidecars, thumbnails, MHL files).
pub fn hash_bytes(bytes: &[u8], algo: HashAlgo) -> String {
    let mut h = algo.hasher();
    h.update(bytes);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference values from `ascmhl-debug hash` / python xxhash and hashlib for b"hello\n".
    #[test]
    fn digests_match_reference_tools() {
        let d = b"hello\n";
        assert_eq!(
            hash_bytes(d, HashAlgo::Xxh128),
            "6bba86c7e069f56d5a10b435f1c8e49c"
        );
        assert_eq!(
            hash_bytes(d, HashAlgo::Md5),
            "b1946ac92492d2347c6235b4d2611184"
        );
        assert_eq!(
            hash_bytes(d, HashAlgo::Sha1),
            "f572d396fae9206628714fb2ce00f72e94f2258f"
        );
        assert_eq!(hash_bytes(d, HashAlgo::Xxh64), "e4c191d091bd8853");
        assert_eq!(hash_bytes(d, HashAlgo::Xxh3), "99fc819aaba2462a");
        assert_eq!(
            hash_bytes(d, HashAlgo::C4),
            "c45dkQrAqUiR8WzPGgn6fAGji3VAVeAE7cKVG4G53ou9dTk4Nzb9vFYEwzy9jq5ZKQKM64DMpPpVbYe2bMsZP2yYKi"
        );
    }

    #[test]
    fn streaming_equals_one_shot() {
        for algo in HashAlgo::ALL {
            let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
            let mut h = algo.hasher();
            for chunk in data.chunks(777) {
                h.update(chunk);
            }
            assert_eq!(h.finish(), hash_bytes(&data, algo), "{algo}");
        }
    }

    #[test]
    fn names_round_trip_and_bad_name_is_error() {
        for algo in HashAlgo::ALL {
            assert_eq!(algo.name().parse::<HashAlgo>().unwrap(), algo);
        }
        let e = "crc32".parse::<HashAlgo>().unwrap_err();
        assert!(e.to_string().contains("crc32"));
    }
}
