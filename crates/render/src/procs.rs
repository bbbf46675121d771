//! Process facts from `/proc` and process-group signals. A pid alone is not an identity (pids are
//! reused), so every recorded process also carries its start time in clock ticks since boot.

/// Identity of a running process as stored in the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcId {
    /// Process id (also the process group id: every task leads its own group).
    pub pid: i32,
    /// Start time in clock ticks since boot (`/proc/<pid>/stat` field 22).
    pub start: u64,
}

/// `(state, pgrp, starttime)` of a process, if it exists.
fn stat(pid: i32) -> Option<(char, i32, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may contain spaces and parentheses: split after the last ')'.
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let state = fields.first()?.chars().next()?;
    let pgrp = fields.get(2)?.parse().ok()?;
    let start = fields.get(19)?.parse().ok()?;
    Some((state, pgrp, start))
}

/// Start time of `pid`, if it runs.
pub fn start_time(pid: i32) -> Option<u64> {
    stat(pid).map(|s| s.2)
}

/// True when the process recorded as `id` still runs (same pid, same start, not a zombie).
pub fn alive(id: ProcId) -> bool {
    matches!(stat(id.pid), Some((state, _, start)) if start == id.start && state != 'Z' && state != 'X')
}

/// Live members of the process group led by `leader`, started no earlier than it: what is left
/// of a task's process tree even after its leader exited.
pub fn group_members(leader: ProcId) -> Vec<i32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| {
            matches!(stat(pid), Some((state, pgrp, start))
                if pgrp == leader.pid && start >= leader.start && state != 'Z' && state != 'X')
        })
        .collect()
}

/// Sends `signal` to the whole process group. Errors (group already gone) are ignored: the
/// caller only wants the group not to exist.
pub fn signal_group(pgid: i32, signal: i32) {
    if pgid > 1 {
        // SAFETY: kill(2) with a negative pid signals a process group; no memory is involved.
        unsafe {
            libc::kill(-pgid, signal);
        }
    }
}

/// Kills what remains of a recorded task's process group, only when its members provably
/// belong to that task (start times), so a reused pid is never hit.
pub fn kill_leftovers(leader: ProcId) -> usize {
    if !group_exists(leader.pid) {
        return 0;
    }
    let members = group_members(leader);
    if !members.is_empty() {
        signal_group(leader.pid, libc::SIGKILL);
    }
    members.len()
}

/// True when any process is in group `pgid` (a cheap probe before scanning `/proc`).
fn group_exists(pgid: i32) -> bool {
    if pgid <= 1 {
        return false;
    }
    // SAFETY: signal 0 only checks for existence and permission; nothing is delivered.
    let rc = unsafe { libc::kill(-pgid, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// This process's identity.
pub fn me() -> ProcId {
    let pid = std::process::id() as i32;
    ProcId {
        pid,
        start: start_time(pid).unwrap_or(0),
    }
}

/// The host name, to tell this machine's tasks from others' in a shared queue.
pub use shotline_fsio::host_name;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn me_is_alive_and_fake_is_not() {
        let id = me();
        assert!(alive(id));
        assert!(!alive(ProcId {
            pid: id.pid,
            start: id.start + 1
        }));
        assert!(!host_name().is_empty());
    }
}
