//! `render:` section.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// The local render queue: what to keep free for the artist, how many tasks run side by side,
/// how long job folders are kept, and where renderer executables are.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RenderConfig {
    /// Resources kept free for the interactive session, so a workstation stays usable while
    /// it renders (seed 002 reserved cores and a GPU for Maya).
    pub reserve: RenderReserve,
    /// Most tasks running at once on this machine, whatever the resources say. `0` means no
    /// limit besides resources.
    pub max_concurrent: u32,
    /// Days a finished job's folder (temporary files, logs) is kept before cleanup removes it.
    pub keep_days: u32,
    /// Keep failed jobs' folders regardless of age, so a failure can always be investigated.
    pub keep_failed: bool,
    /// Where per-job folders (logs, temporary files) live; relative to the project root.
    /// `None` means a `render` folder beside the tracking database.
    pub dir: Option<PathBuf>,
    /// Seconds between SIGTERM and SIGKILL when a task is cancelled, timed out or stopped:
    /// renderers get a chance to flush, but a hung one cannot block the queue.
    pub kill_grace_secs: u64,
    /// Milliseconds between the worker's looks at the queue for cancels, pauses and new jobs.
    pub poll_ms: u64,
    /// Renderer executables per preset (`blender: /opt/blender-4.2/blender`), for studios that
    /// pin versions; presets fall back to the usual command names on `PATH`.
    pub executables: BTreeMap<String, String>,
}

impl Default for RenderConfig {
    fn default() -> Self {
        Self {
            reserve: RenderReserve::default(),
            max_concurrent: 2,
            keep_days: 7,
            keep_failed: true,
            dir: None,
            kill_grace_secs: 10,
            poll_ms: 250,
            executables: BTreeMap::new(),
        }
    }
}

/// Resources the queue must never take (`reserve: {threads: 4, gpus: 1, memory: 8GiB}`).
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RenderReserve {
    /// CPU threads kept free.
    pub threads: u32,
    /// GPUs kept free; the lowest-numbered ones, which usually drive the displays.
    pub gpus: u32,
    /// Memory kept free (bytes, or a size such as `8GiB`).
    pub memory: ByteSize,
}

/// A size in bytes that config and job specs may write as a number or as `512MiB`, `8GB`, `2g`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct ByteSize(pub u64);

impl ByteSize {
    /// Parses `8GiB`, `8G`, `8gb`, `512 MiB`, `1024` (bytes). Decimal (`GB`) and binary
    /// (`GiB`, `G`) units are both read as binary, as render wranglers mean them.
    pub fn parse(text: &str) -> Result<ByteSize, String> {
        let t = text.trim();
        let split = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let value: f64 = num
            .parse()
            .map_err(|_| format!("invalid size {text:?}: expected a number such as 8GiB"))?;
        let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
            "" | "b" => 1,
            "k" | "kb" | "kib" => 1 << 10,
            "m" | "mb" | "mib" => 1 << 20,
            "g" | "gb" | "gib" => 1 << 30,
            "t" | "tb" | "tib" => 1 << 40,
            other => {
                return Err(format!(
                    "invalid size {text:?}: unknown unit {other:?} (expected B, KiB, MiB, GiB, TiB)"
                ))
            }
        };
        if !value.is_finite() || value < 0.0 {
            return Err(format!("invalid size {text:?}: must not be negative"));
        }
        Ok(ByteSize((value * mult as f64) as u64))
    }
}

impl<'de> serde::Deserialize<'de> for ByteSize {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = ByteSize;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a size in bytes or a string such as 8GiB")
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
    fn sizes_parse() {
        assert_eq!(ByteSize::parse("8GiB").unwrap().0, 8 << 30);
        assert_eq!(ByteSize::parse("512 MB").unwrap().0, 512 << 20);
        assert_eq!(ByteSize::parse("1024").unwrap().0, 1024);
        assert!(ByteSize::parse("8 parsecs").is_err());
    }

    #[test]
    fn section_parses_with_line_numbers_on_error() {
        let c =
            crate::parse_str("render:\n  reserve: {threads: 4, gpus: 1, memory: 8GiB}\n").unwrap();
        assert_eq!(c.render.reserve.threads, 4);
        assert_eq!(c.render.reserve.memory.0, 8 << 30);
        let err = crate::parse_str("render:\n  max_concurent: 2\n").unwrap_err();
        assert!(err.contains('2'), "{err}");
    }
}
