//! `ramses:` section: the Ramses (RxLaboratory) daemon to talk to and whether shotline mirrors
//! its changes into it. See `docs/ramses.md`.

/// Highest accepted timeout: ten minutes. Longer is a typo, and would hang a publish's mirror.
pub const MAX_RAMSES_TIMEOUT_MS: u64 = 600_000;

/// The Ramses daemon and the mirror.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RamsesConfig {
    /// Host of the daemon. The Ramses daemon only listens locally, and its protocol has no
    /// authentication, so this stays `localhost` unless a tunnel is deliberately set up.
    #[serde(deserialize_with = "host")]
    pub host: String,
    /// Port of the daemon (Ramses' default 18185); also `ramses serve`'s default port.
    #[serde(deserialize_with = "port")]
    pub port: u16,
    /// Ramses project (short name or uuid) to mirror into; empty means the daemon's current
    /// project.
    pub project: String,
    /// Longest wait, in milliseconds, to connect and between bytes of a reply. 1 to 600000.
    #[serde(deserialize_with = "timeout_ms")]
    pub timeout_ms: u64,
    /// How long, in milliseconds, a read reply is reused; a write clears it. 0 disables.
    pub cache_ttl_ms: u64,
    /// With `true`, publish, ingest and `status set` also push to Ramses (through the outbox:
    /// never failing or blocking the local operation).
    pub sync: bool,
    /// Days a pushed outbox row is kept (for `ramses sync --json` history and auditing) before
    /// `ramses sync` deletes it. Rows Ramses refused are kept until resolved. 0 to 36500.
    #[serde(deserialize_with = "keep_days")]
    pub outbox_keep_days: u32,
}

impl Default for RamsesConfig {
    fn default() -> Self {
        Self {
            host: "localhost".into(),
            port: 18185,
            project: String::new(),
            timeout_ms: 5_000,
            cache_ttl_ms: 2_000,
            sync: false,
            outbox_keep_days: 30,
        }
    }
}

fn host<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let v = <String as serde::Deserialize>::deserialize(d)?;
    if v.is_empty() || v.chars().any(|c| c.is_whitespace() || c == '/') {
        return Err(serde::de::Error::custom(format!(
            "ramses.host {v:?} is not a host name: expected localhost, 127.0.0.1 or a host name"
        )));
    }
    Ok(v)
}

fn port<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u16, D::Error> {
    let v = <u64 as serde::Deserialize>::deserialize(d)?;
    match u16::try_from(v) {
        Ok(p) if p > 0 => Ok(p),
        _ => Err(serde::de::Error::custom(format!(
            "ramses.port is {v}: expected 1 to 65535"
        ))),
    }
}

fn timeout_ms<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let v = <u64 as serde::Deserialize>::deserialize(d)?;
    if (1..=MAX_RAMSES_TIMEOUT_MS).contains(&v) {
        Ok(v)
    } else {
        Err(serde::de::Error::custom(format!(
            "ramses.timeout_ms is {v}: expected 1 to {MAX_RAMSES_TIMEOUT_MS} milliseconds"
        )))
    }
}

/// Longest outbox retention accepted: a hundred years (the value is a day count; more is a typo).
pub const MAX_OUTBOX_KEEP_DAYS: u32 = 36_500;

fn keep_days<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let v = <u64 as serde::Deserialize>::deserialize(d)?;
    match u32::try_from(v) {
        Ok(n) if n <= MAX_OUTBOX_KEEP_DAYS => Ok(n),
        _ => Err(serde::de::Error::custom(format!(
            "ramses.outbox_keep_days is {v}: expected 0 to {MAX_OUTBOX_KEEP_DAYS} days"
        ))),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn defaults_and_checked_values() {
        let c = crate::parse_str("").unwrap();
        assert_eq!(
            (c.ramses.host.as_str(), c.ramses.port, c.ramses.sync),
            ("localhost", 18185, false)
        );
        let c =
            crate::parse_str("ramses:\n  port: 18200\n  project: DEMO\n  sync: true\n").unwrap();
        assert_eq!(
            (c.ramses.port, c.ramses.project.as_str(), c.ramses.sync),
            (18200, "DEMO", true)
        );
        assert_eq!(c.ramses.outbox_keep_days, 30);
        let c = crate::parse_str("ramses:\n  outbox_keep_days: 0\n").unwrap();
        assert_eq!(c.ramses.outbox_keep_days, 0);
        for (text, needle) in [
            ("ramses:\n  port: 70000\n", "1 to 65535"),
            ("ramses:\n  port: 0\n", "1 to 65535"),
            ("ramses:\n  timeout_ms: 0\n", "timeout_ms"),
            ("ramses:\n  host: \"\"\n", "not a host name"),
            ("ramses:\n  synk: true\n", "synk"),
            ("ramses:\n  outbox_keep_days: 40000\n", "outbox_keep_days"),
            ("ramses:\n  outbox_keep_days: -1\n", "outbox_keep_days"),
        ] {
            let e = crate::parse_str(text).unwrap_err();
            assert!(e.contains(needle) && e.contains('2'), "{text:?}: {e}");
        }
    }
}
