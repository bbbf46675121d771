//! A daemon query, `command&key=value&key2=value2`: built here and nowhere else, so a value
//! that the daemon would split (`&`, `=`) is refused before anything is sent.

use crate::error::{RamsesError, Result};

/// A checked daemon query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    command: String,
    args: Vec<(String, String)>,
}

fn check(command: &str, what: &str, value: &str) -> Result<()> {
    match value.chars().find(|c| matches!(c, '&' | '=')) {
        Some(ch) => Err(RamsesError::BadValue {
            command: command.to_string(),
            what: what.to_string(),
            value: value.to_string(),
            ch,
        }),
        None => Ok(()),
    }
}

impl Query {
    /// A query with no arguments (`ping`). The command itself must not contain `&` or `=`.
    pub fn new(command: &str) -> Result<Query> {
        check(command, "command", command)?;
        Ok(Query {
            command: command.to_string(),
            args: Vec::new(),
        })
    }

    /// Adds `key=value`; refuses a key or value containing `&` or `=`.
    pub fn arg(mut self, key: &str, value: &str) -> Result<Query> {
        check(&self.command, "key", key)?;
        check(&self.command, key, value)?;
        self.args.push((key.to_string(), value.to_string()));
        Ok(self)
    }

    /// The command (`getData`).
    pub fn command(&self) -> &str {
        &self.command
    }

    /// The value given for `key`, if any.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.args
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// True for queries that change something in Ramses (they clear the client's cache).
    pub fn is_write(&self) -> bool {
        matches!(
            self.command.as_str(),
            "setData" | "create" | "setCurrentProject" | "setStatusModifiedBy"
        )
    }

    /// Parses a received query as the daemon does: split on `&`, each part split at its first
    /// `=`; a part without `=` is a key with an empty value. Returns `None` for an empty query.
    pub fn parse(text: &str) -> Option<Query> {
        let mut parts = text.split('&');
        let command = parts.next()?.trim();
        if command.is_empty() {
            return None;
        }
        let args = parts
            .filter(|p| !p.is_empty())
            .map(|p| match p.split_once('=') {
                Some((k, v)) => (k.to_string(), v.to_string()),
                None => (p.to_string(), String::new()),
            })
            .collect();
        Some(Query {
            command: command.to_string(),
            args,
        })
    }
}

impl std::fmt::Display for Query {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.command)?;
        for (k, v) in &self.args {
            write!(f, "&{k}={v}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_and_parses_back() {
        let q = Query::new("getShots")
            .unwrap()
            .arg("projectUuid", "p-1")
            .unwrap()
            .arg("sequenceUuid", "")
            .unwrap();
        assert_eq!(q.to_string(), "getShots&projectUuid=p-1&sequenceUuid=");
        assert_eq!(Query::parse(&q.to_string()).unwrap(), q);
        assert_eq!(Query::parse("ping").unwrap().command(), "ping");
        assert!(Query::parse("").is_none());
    }

    #[test]
    fn refuses_separators_in_values() {
        let e = Query::new("setData")
            .unwrap()
            .arg("data", r#"{"comment":"a=b"}"#)
            .unwrap_err();
        assert!(e.to_string().contains("'='"), "{e}");
        assert!(e.to_string().contains("data"), "{e}");
        assert!(Query::new("get&x").is_err());
        assert!(Query::new("getData").unwrap().arg("uuid", "a&b").is_err());
    }
}
