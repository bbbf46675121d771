//! Stopping a worker from outside: a shared level that Ctrl-C raises. Level 1 drains (running
//! tasks finish, nothing new starts); level 2 interrupts (running tasks are stopped and put back
//! in the queue). Signal handlers only touch an atomic, which is async-signal-safe.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

static SIGNALLED: AtomicUsize = AtomicUsize::new(0);

/// A handle to ask a worker to stop; clones share the level.
#[derive(Debug, Clone, Default)]
pub struct Stop(Arc<AtomicUsize>);

impl Stop {
    /// A fresh handle at level 0 (keep running).
    pub fn new() -> Stop {
        Stop::default()
    }

    /// Finish running tasks, start no new ones.
    pub fn drain(&self) {
        self.0.fetch_max(1, Ordering::SeqCst);
    }

    /// Stop running tasks now and requeue them.
    pub fn interrupt(&self) {
        self.0.fetch_max(2, Ordering::SeqCst);
    }

    /// The current level, including signals received by [`install_signal_handlers`].
    pub fn level(&self) -> usize {
        self.0
            .load(Ordering::SeqCst)
            .max(SIGNALLED.load(Ordering::SeqCst))
    }
}

extern "C" fn on_signal(sig: libc::c_int) {
    if sig == libc::SIGINT {
        SIGNALLED.fetch_add(1, Ordering::SeqCst);
    } else {
        SIGNALLED.fetch_max(2, Ordering::SeqCst);
    }
}

/// Routes SIGINT (each Ctrl-C raises the level by one) and SIGTERM/SIGHUP (straight to
/// interrupt) to every [`Stop`] handle, instead of killing the worker mid-transaction.
pub fn install_signal_handlers() {
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: the handler only performs atomic operations, which are async-signal-safe.
        unsafe {
            libc::signal(sig, on_signal as *const () as libc::sighandler_t);
        }
    }
}
