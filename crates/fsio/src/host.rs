//! The machine's name, as recorded next to what shotline writes.

/// This machine's name, or `$HOSTNAME`/`$COMPUTERNAME`, or `unknown` if nothing says.
///
/// The audit trail, locks, the render queue (to tell this host's tasks from others' in a shared
/// queue) and ASC MHL manifests all record which machine did the work; one implementation keeps
/// them naming it the same way.
pub fn host_name() -> String {
    #[cfg(unix)]
    {
        let uname = rustix::system::uname();
        let name = uname.nodename().to_string_lossy().trim().to_string();
        if !name.is_empty() {
            return name;
        }
    }
    std::env::var("HOSTNAME")
        .or_else(|_| std::env::var("COMPUTERNAME"))
        .unwrap_or_else(|_| "unknown".to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn host_name_is_never_empty() {
        assert!(!super::host_name().is_empty());
    }
}
