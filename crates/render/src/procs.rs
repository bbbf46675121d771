//! Process facts from `/proc` and the whole process tree of a task. A pid alone is not an
//! identity (pids are reused), so every recorded process also carries its start time in clock
//! ticks since boot, and single processes are signalled through a pidfd opened before their
//! start time is re-checked.
//!
//! A task's tree is more than its process group: a renderer that calls `setsid` (or
//! double-forks) leaves the group and would escape cancel and timeout. Every task therefore
//! runs with a marker in its environment ([`TaskTree::marker`]), which children inherit; the
//! tree is the group, the session, every descendant and every process carrying the marker,
//! re-scanned from `/proc` until nothing is left.

use std::collections::HashSet;

use rustix::process::{Pid, PidfdFlags, Signal};

/// The environment variable that marks every process of one attempt.
pub const MARKER_VAR: &str = "SHOTLINE_ATTEMPT_KEY";

/// Most `/proc` scans while killing a tree: a fork bomb cannot keep the worker busy forever.
const MAX_KILL_ROUNDS: usize = 200;

/// Identity of a running process as stored in the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProcId {
    /// Process id (also the process group id: every task leads its own group).
    pub pid: i32,
    /// Start time in clock ticks since boot (`/proc/<pid>/stat` field 22).
    pub start: u64,
}

/// The fields of `/proc/<pid>/stat` the tree needs.
#[derive(Debug, Clone, Copy)]
struct Stat {
    state: char,
    parent: i32,
    group: i32,
    session: i32,
    start: u64,
}

impl Stat {
    fn is_gone(&self) -> bool {
        self.state == 'Z' || self.state == 'X'
    }
}

/// The stat of a process, if it exists.
fn stat(pid: i32) -> Option<Stat> {
    let bytes = read_proc_file(&format!("/proc/{pid}/stat"))?;
    let text = String::from_utf8_lossy(&bytes);
    // The command name may contain spaces and parentheses: split after the last ')'.
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some(Stat {
        state: fields.first()?.chars().next()?,
        parent: fields.get(1)?.parse().ok()?,
        group: fields.get(2)?.parse().ok()?,
        session: fields.get(3)?.parse().ok()?,
        start: fields.get(19)?.parse().ok()?,
    })
}

/// A `/proc` file read with plain `read` calls into a buffer sized for it. `fs::read` asks the
/// file's size first (a `statx`; `/proc` says 0) and starts with a small probe read: about
/// seven system calls a file where this takes four. The tree scan after every task reads one
/// `stat` per process on the host, so this is most of the worker's dispatch time.
fn read_proc_file(path: &str) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut f = std::fs::File::open(path).ok()?;
    let mut buf = vec![0u8; 1024];
    let mut len = 0;
    loop {
        if len == buf.len() {
            buf.resize(len * 2, 0);
        }
        match f.read(&mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    buf.truncate(len);
    Some(buf)
}

/// Start time of `pid`, if it runs.
pub fn start_time(pid: i32) -> Option<u64> {
    stat(pid).map(|s| s.start)
}

/// True when the process recorded as `id` still runs (same pid, same start, not a zombie).
pub fn alive(id: ProcId) -> bool {
    matches!(stat(id.pid), Some(s) if s.start == id.start && !s.is_gone())
}

/// The process tree of one task attempt: its leader and the marker its environment carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskTree {
    /// The process the worker started (leader of its own process group).
    pub leader: ProcId,
    /// How its processes' environment is recognised.
    marker: Marker,
}

/// `SHOTLINE_ATTEMPT_KEY=<value>` as it appears in `/proc/<pid>/environ`: exact for a live
/// executor, or any executor instance of a dead worker process.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Marker {
    Exact(String),
    AnyInstance { prefix: String, suffix: String },
}

impl Marker {
    fn matches(&self, entry: &[u8]) -> bool {
        match self {
            Marker::Exact(m) => entry == m.as_bytes(),
            Marker::AnyInstance { prefix, suffix } => {
                entry.len() > prefix.len() + suffix.len()
                    && entry.starts_with(prefix.as_bytes())
                    && entry.ends_with(suffix.as_bytes())
                    && entry[prefix.len()..entry.len() - suffix.len()]
                        .iter()
                        .all(u8::is_ascii_digit)
            }
        }
    }
}

impl TaskTree {
    /// The tree of attempt `attempt` started by executor `instance` of the worker process
    /// `worker`: the exact marker that executor put in the task's environment.
    pub fn new(leader: ProcId, worker: ProcId, instance: u64, attempt: i64) -> TaskTree {
        TaskTree {
            leader,
            marker: Marker::Exact(format!(
                "{MARKER_VAR}={}",
                marker_value(worker, instance, attempt)
            )),
        }
    }

    /// The tree of attempt `attempt` of a worker process that is gone, whichever of its
    /// executors started it (the executor instance is not recorded in the queue).
    pub fn of_dead_worker(leader: ProcId, worker: ProcId, attempt: i64) -> TaskTree {
        TaskTree {
            leader,
            marker: Marker::AnyInstance {
                prefix: format!("{MARKER_VAR}={}.{}.", worker.pid, worker.start),
                suffix: format!(".{attempt}"),
            },
        }
    }

    /// Live members, leader included while it runs: the group, the session, descendants and
    /// marked processes, all started no earlier than the leader (so a reused pid is never one).
    pub fn members(&self) -> Vec<ProcId> {
        let procs = live_processes(self.leader.start);
        let mut found: HashSet<i32> = HashSet::new();
        for (pid, s) in &procs {
            let by_id = *pid == self.leader.pid
                || s.group == self.leader.pid
                || s.session == self.leader.pid;
            if by_id || has_marker(*pid, &self.marker) {
                found.insert(*pid);
            }
        }
        // Descendants of members that cleared their environment, to a fixed point.
        loop {
            let before = found.len();
            for (pid, s) in &procs {
                if found.contains(&s.parent) {
                    found.insert(*pid);
                }
            }
            if found.len() == before {
                break;
            }
        }
        procs
            .iter()
            .filter(|(pid, _)| found.contains(pid))
            .map(|(pid, s)| ProcId {
                pid: *pid,
                start: s.start,
            })
            .collect()
    }

    /// Sends `signal` to every live member but the leader (whose group the caller signals
    /// while it holds the leader); returns how many were signalled.
    pub fn signal_escaped(&self, signal: Signal) -> usize {
        self.members()
            .into_iter()
            .filter(|m| m.pid != self.leader.pid)
            .filter(|m| signal_process(*m, signal))
            .count()
    }

    /// SIGKILLs every member, re-scanning until none is left (a member may fork while it is
    /// being killed); returns how many distinct processes were killed.
    pub fn kill_all(&self) -> usize {
        let mut killed: HashSet<ProcId> = HashSet::new();
        for _ in 0..MAX_KILL_ROUNDS {
            let members = self.members();
            if members.is_empty() {
                break;
            }
            for m in members {
                if signal_process(m, Signal::KILL) {
                    killed.insert(m);
                }
            }
            // Let the kernel turn the killed into zombies before the next scan.
            std::thread::yield_now();
        }
        killed.len()
    }
}

/// The marker value for an attempt: unique per host, since the worker's pid and start time
/// are, and the executor instance tells apart several queues run by one process (tests, the
/// Python module), whose attempt ids can be equal.
pub fn marker_value(worker: ProcId, instance: u64, attempt: i64) -> String {
    format!("{}.{}.{instance}.{attempt}", worker.pid, worker.start)
}

/// Every live process started at or after `since`, with its stat.
fn live_processes(since: u64) -> Vec<(i32, Stat)> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|pid| Some((pid, stat(pid)?)))
        .filter(|(_, s)| s.start >= since && !s.is_gone())
        .collect()
}

/// True when the environment of `pid` holds `marker` (`NAME=value`) as one entry.
fn has_marker(pid: i32, marker: &Marker) -> bool {
    let Some(env) = read_proc_file(&format!("/proc/{pid}/environ")) else {
        return false;
    };
    env.split(|b| *b == 0).any(|e| marker.matches(e))
}

/// Signals one process, only if it still is `id`: the pidfd pins the process, then its start
/// time is checked, so a pid reused meanwhile is never hit.
pub fn signal_process(id: ProcId, signal: Signal) -> bool {
    let Some(pid) = Pid::from_raw(id.pid).filter(|_| id.pid > 1) else {
        return false;
    };
    match rustix::process::pidfd_open(pid, PidfdFlags::empty()) {
        Ok(fd) => {
            start_time(id.pid) == Some(id.start)
                && rustix::process::pidfd_send_signal(&fd, signal).is_ok()
        }
        // No pidfd (Linux < 5.3): the start-time check narrows the window to the syscall.
        Err(_) => {
            start_time(id.pid) == Some(id.start)
                && rustix::process::kill_process(pid, signal).is_ok()
        }
    }
}

/// Sends `signal` to the process group `pgid`. Only for a group whose leader the caller has
/// not reaped (a running or zombie leader keeps the id from being reused); errors (group
/// already gone) are ignored, the caller only wants the group not to run.
pub fn signal_group(pgid: i32, signal: Signal) {
    if let Some(pid) = Pid::from_raw(pgid).filter(|_| pgid > 1) {
        let _ = rustix::process::kill_process_group(pid, signal);
    }
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

/// Environment variable naming this machine in the render queue, overriding the OS host
/// name: for hosts whose names collide (containers that all call themselves `localhost`), and
/// for tests that play several hosts on one machine.
pub const RENDER_HOST_ENV: &str = "SHOTLINE_RENDER_HOST";

/// The name this machine's workers and attempts are recorded under (`SHOTLINE_RENDER_HOST`,
/// else the host name). Process ids are only meaningful on their own host, so orphan reaping
/// and the worker lock go by this name.
pub fn render_host() -> String {
    match std::env::var(RENDER_HOST_ENV) {
        Ok(h) if !h.trim().is_empty() => h.trim().to_string(),
        _ => host_name(),
    }
}

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

    #[test]
    fn a_marked_process_that_left_the_group_is_found_and_killed() {
        use std::os::unix::process::CommandExt;
        let worker = me();
        // Executor instances and attempt ids no real executor of this test binary gets: the
        // worker tests run tasks marked with this same process as worker, and one with
        // instance 3 and attempt 7 would match (and kill) this test's process.
        const MINE: u64 = u64::MAX - 3;
        const OTHER: u64 = u64::MAX - 4;
        const ATTEMPT: i64 = i64::MAX - 7;
        // `sleep` itself in a process group of its own (as a render that calls setsid or
        // setpgid would be): only its marker ties it to the task. Spawned directly, not through
        // the setsid(1) binary, whose extra exec (and fork, when it finds itself a group
        // leader) made the marked process briefly unreadable or a different pid.
        let mut child = std::process::Command::new("sleep")
            .arg("300")
            .process_group(0)
            .env(MARKER_VAR, marker_value(worker, MINE, ATTEMPT))
            .spawn()
            .unwrap();
        let pid = child.id() as i32;
        let id = ProcId {
            pid,
            start: start_time(pid).unwrap(),
        };
        // A tree whose leader is this test process's own start: anything newer may belong.
        let tree = TaskTree::new(
            ProcId {
                pid: i32::MAX,
                start: id.start,
            },
            worker,
            MINE,
            ATTEMPT,
        );
        assert!(tree.members().contains(&id), "{:?}", tree.members());
        // Another executor of the same process with the same attempt id is not this tree.
        let leader = ProcId {
            pid: i32::MAX,
            start: id.start,
        };
        assert!(!TaskTree::new(leader, worker, OTHER, ATTEMPT)
            .members()
            .contains(&id));
        // Once the worker is gone, any of its executors' attempt 7 is.
        assert!(TaskTree::of_dead_worker(leader, worker, ATTEMPT)
            .members()
            .contains(&id));
        assert_eq!(tree.kill_all(), 1);
        let status = child.wait().unwrap();
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(9)
        );
        let other = TaskTree::new(id, worker, MINE, ATTEMPT - 1);
        assert!(other.members().is_empty());
    }
}
