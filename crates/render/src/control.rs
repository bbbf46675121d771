//! Stopping a worker from outside: a shared level that Ctrl-C raises. Level 1 drains (running
//! tasks finish, nothing new starts); level 2 interrupts (running tasks are stopped and put back
//! in the queue).
//!
//! Which signals reach a [`Stop`] is the caller's choice ([`SignalHandlerKind`]): the binary
//! routes the terminal's, a DCC embedding the library keeps its own, and tests raise the level
//! directly, so nothing in the worker depends on process-wide signal state.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

use crate::error::{RenderError, Result};

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

    /// One step further: drain first, interrupt the next time (each Ctrl-C).
    pub fn escalate(&self) {
        let _ = self
            .0
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |l| {
                Some(l.saturating_add(1).min(2))
            });
    }

    /// The current level.
    pub fn level(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// Which process signals raise a [`Stop`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignalHandlerKind {
    /// SIGINT escalates (once: drain, twice: interrupt); SIGTERM and SIGHUP interrupt, instead
    /// of killing the worker mid-transaction.
    Standard,
    /// No signal is touched: the embedding program (or a test) drives the [`Stop`] itself.
    None,
}

/// Routes signals to `stop` as `kind` says. The handlers only wake a thread that raises the
/// level, so nothing unsafe runs in signal context.
pub fn install_signal_handlers(kind: SignalHandlerKind, stop: &Stop) -> Result<()> {
    match kind {
        SignalHandlerKind::None => Ok(()),
        SignalHandlerKind::Standard => {
            let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])
                .map_err(|e| RenderError::io("cannot install the signal handlers", e))?;
            let stop = stop.clone();
            std::thread::spawn(move || {
                for sig in signals.forever() {
                    if sig == SIGINT {
                        stop.escalate();
                    } else {
                        stop.interrupt();
                    }
                }
            });
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escalation_drains_then_interrupts() {
        let s = Stop::new();
        install_signal_handlers(SignalHandlerKind::None, &s).unwrap();
        assert_eq!(s.level(), 0);
        s.escalate();
        assert_eq!(s.level(), 1);
        s.escalate();
        s.escalate();
        assert_eq!(s.level(), 2);
    }
}
