//! Who is acting: the audit trail and the role checks need a user name, and locks need to know
//! which machine and process hold them.

/// Environment variable naming the acting user; wins over the OS login (farm jobs run as a
/// service account but publish for the artist who submitted them).
pub const USER_ENV: &str = "SHOTLINE_USER";

/// The acting user, machine and process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// User name.
    pub user: String,
    /// Host name.
    pub host: String,
    /// Process id.
    pub pid: u32,
}

impl Actor {
    /// `$SHOTLINE_USER`, else the OS login (`$USER`, `$LOGNAME`, `$USERNAME`), else the
    /// account name of the process's uid (from the password database), else `uid<N>`.
    pub fn from_env() -> Actor {
        let user = [USER_ENV, "USER", "LOGNAME", "USERNAME"]
            .iter()
            .filter_map(|k| std::env::var(k).ok())
            .map(|v| v.trim().to_string())
            .find(|v| !v.is_empty())
            .unwrap_or_else(os_uid_name);
        Actor::named(&user)
    }

    /// An actor with the given user name on this machine and process.
    pub fn named(user: &str) -> Actor {
        Actor {
            user: user.to_string(),
            host: hostname(),
            pid: std::process::id(),
        }
    }

    /// `user@host:pid`, how locks and events name a holder.
    pub fn owner(&self) -> String {
        format!("{}@{}:{}", self.user, self.host, self.pid)
    }
}

/// The account name of this process's uid (cron jobs and containers often run without
/// `$USER`), or `uid<N>` when the password database has no entry for it.
#[cfg(unix)]
pub(crate) fn os_uid_name() -> String {
    let uid = nix::unistd::Uid::current();
    match nix::unistd::User::from_uid(uid) {
        Ok(Some(u)) if !u.name.is_empty() => u.name,
        _ => format!("uid{uid}"),
    }
}

#[cfg(not(unix))]
pub(crate) fn os_uid_name() -> String {
    "unknown".to_string()
}

/// This machine's name (`unknown` if the OS will not say); see [`shotline_fsio::host_name`].
pub use shotline_fsio::host_name as hostname;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_format() {
        let a = Actor {
            user: "ana".into(),
            host: "ws1".into(),
            pid: 42,
        };
        assert_eq!(a.owner(), "ana@ws1:42");
        assert!(!hostname().is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn uid_name_comes_from_the_password_database() {
        let name = os_uid_name();
        assert!(!name.is_empty());
        if nix::unistd::Uid::current().is_root() {
            assert_eq!(name, "root");
        }
    }
}
