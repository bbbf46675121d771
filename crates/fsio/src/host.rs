//! The machine's name, as recorded next to what shotline writes.

/// This machine's name, or `$HOSTNAME`/`$COMPUTERNAME`, or `unknown` if nothing says.
///
/// The audit trail, locks, the render queue (to tell this host's tasks from others' in a shared
/// queue) and ASC MHL manifests all record which machine did the work; one implementation keeps
/// them naming it the same way.
pub fn host_name() -> String {
    #[cfg(unix)]
    {
        let mut buf = [0u8; 256];
        // SAFETY: the buffer is valid for its length; gethostname NUL-terminates on success or
        // truncates, and we stop at the first NUL or the end either way.
        let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
        if rc == 0 {
            let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
            let name = String::from_utf8_lossy(&buf[..end]).trim().to_string();
            if !name.is_empty() {
                return name;
            }
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
