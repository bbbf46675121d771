//! Sizes as people write them in config and job specs: `500 GiB`, `2T`, `750 GB`, `1024`.

/// A size in bytes, written as an integer or a human string. One type serves every section
/// (render memory reservations, disk thresholds, ingest reserves) so `8GB` means the same thing
/// everywhere: binary units `KiB MiB GiB TiB PiB` and the bare letters `K M G T P` (as `du`, `df`
/// and render wranglers use them) are powers of 1024; `kB MB GB TB PB` are powers of 1000, as
/// storage vendors and quotas mean them. Units are case-insensitive; fractions are allowed
/// (`1.5 TiB`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct ByteSize(pub u64);

impl ByteSize {
    /// Parses a human size; the error names the text and what was expected.
    pub fn parse(text: &str) -> Result<ByteSize, String> {
        let t = text.trim();
        let split = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let expected = || {
            format!(
                "invalid size {text:?}: expected a number and a unit such as \"500 GiB\", \"8G\" or \"750 GB\""
            )
        };
        let value: f64 = num.parse().map_err(|_| expected())?;
        let unit = unit.trim().to_ascii_lowercase();
        let (binary, decimal) = match unit.as_str() {
            "" | "b" => (Some(0), None),
            "k" | "kib" => (Some(1), None),
            "m" | "mib" => (Some(2), None),
            "g" | "gib" => (Some(3), None),
            "t" | "tib" => (Some(4), None),
            "p" | "pib" => (Some(5), None),
            "kb" => (None, Some(1)),
            "mb" => (None, Some(2)),
            "gb" => (None, Some(3)),
            "tb" => (None, Some(4)),
            "pb" => (None, Some(5)),
            _ => return Err(expected()),
        };
        let mult = match (binary, decimal) {
            (Some(p), _) => 1024f64.powi(p),
            (_, Some(p)) => 1000f64.powi(p),
            _ => 1.0,
        };
        let bytes = value * mult;
        if !bytes.is_finite() || bytes >= u64::MAX as f64 {
            return Err(format!("size {text:?} is too large"));
        }
        Ok(ByteSize(bytes.round() as u64))
    }
}

impl<'de> serde::Deserialize<'de> for ByteSize {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = ByteSize;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a size in bytes or a string such as \"500 GiB\"")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<ByteSize, E> {
                Ok(ByteSize(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<ByteSize, E> {
                u64::try_from(v)
                    .map(ByteSize)
                    .map_err(|_| E::custom(format!("invalid size {v}: must not be negative")))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ByteSize, E> {
                ByteSize::parse(v).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_and_decimal_units() {
        assert_eq!(ByteSize::parse("500 GiB").unwrap().0, 500 << 30);
        assert_eq!(ByteSize::parse("8G").unwrap().0, 8 << 30);
        assert_eq!(ByteSize::parse("8gib").unwrap().0, 8 << 30);
        assert_eq!(ByteSize::parse("2T").unwrap().0, 2 << 40);
        assert_eq!(ByteSize::parse("1.5 KiB").unwrap().0, 1536);
        assert_eq!(ByteSize::parse("750 GB").unwrap().0, 750_000_000_000);
        assert_eq!(ByteSize::parse("512 MB").unwrap().0, 512_000_000);
        assert_eq!(ByteSize::parse("1024").unwrap().0, 1024);
    }

    #[test]
    fn bad_sizes_say_what_was_expected() {
        for bad in ["lots", "5 XB", "-3G", ""] {
            let e = ByteSize::parse(bad).unwrap_err();
            assert!(e.contains("expected"), "{bad}: {e}");
        }
    }
}
