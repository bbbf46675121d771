//! Stable Ramses uuids for shotline objects: UUIDv5 (RFC 9562, SHA-1 name-based) of the
//! project code, the object type and its code, so `ramses serve` gives the same uuid for the
//! same shot on every machine and every restart without storing anything. Objects a Ramses
//! client created with its own uuid keep that uuid (recorded in the store).

use sha1::{Digest, Sha1};

/// The namespace of shotline's Ramses uuids (a fixed random v4 uuid).
const NAMESPACE: [u8; 16] = [
    0x6b, 0x1f, 0x3c, 0x52, 0x8e, 0x0d, 0x4a, 0x7b, 0x9c, 0x21, 0x5e, 0x43, 0xd0, 0x88, 0x1a, 0x6f,
];

/// The UUIDv5 of `name` in shotline's namespace, as Ramses spells uuids (lower-case, hyphens).
pub fn uuid_v5(name: &str) -> String {
    let mut h = Sha1::new();
    h.update(NAMESPACE);
    h.update(name.as_bytes());
    let digest = h.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    format_uuid(&b)
}

fn format_uuid(b: &[u8; 16]) -> String {
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// The uuid of an object of `ram_type` (`RamShot`) keyed `key` (`shot:SH010`) in `project`.
pub fn object_uuid(project: &str, ram_type: &str, key: &str) -> String {
    uuid_v5(&format!("{project}/{ram_type}/{key}"))
}

/// Whether `s` looks like a uuid (five hyphenated groups of letters and digits), the test
/// Ramses' own API applies.
pub fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_version5_uuids() {
        let a = object_uuid("DEMO", "RamShot", "shot:SH010");
        assert_eq!(a, object_uuid("DEMO", "RamShot", "shot:SH010"));
        assert_ne!(a, object_uuid("DEMO", "RamShot", "shot:SH020"));
        assert_ne!(a, object_uuid("OTHER", "RamShot", "shot:SH010"));
        assert!(is_uuid(&a));
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "5", "version nibble: {a}");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"), "variant: {a}");
        assert!(!is_uuid("SH010"));
    }
}
