//! Finalize: what an ended attempt means. Why it stopped and how it exited give the outcome
//! (frames verified when the job names an output); the outcome and the retry budget give the
//! task's next state; both give the message users read.

use crate::chunk::Chunk;
use crate::dispatch::NextState;
use crate::executor::ExitInfo;
use crate::job::ResolvedJob;
use crate::model::Outcome;

/// Why the worker stopped a task before it ended by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// A user cancelled its job.
    Cancel,
    /// It ran past the job's timeout.
    Timeout,
    /// The worker is stopping and requeues it.
    Interrupt,
}

/// An attempt's outcome and the reason users read.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// How the attempt ended.
    pub outcome: Outcome,
    /// Why, unless it went fine.
    pub message: Option<String>,
}

impl Verdict {
    fn new(outcome: Outcome, message: impl Into<String>) -> Verdict {
        Verdict {
            outcome,
            message: Some(message.into()),
        }
    }
}

/// The outcome of an attempt of `chunk` of `job` that was stopped for `stop` (if at all) and
/// ended with `status`.
pub(crate) fn judge(
    stop: Option<StopReason>,
    status: ExitInfo,
    job: &ResolvedJob,
    chunk: &Chunk,
) -> Verdict {
    match stop {
        Some(StopReason::Cancel) => Verdict::new(Outcome::Cancelled, "cancelled by user"),
        Some(StopReason::Interrupt) => {
            Verdict::new(Outcome::Interrupted, "worker stopped; requeued")
        }
        Some(StopReason::Timeout) => Verdict::new(
            Outcome::Timeout,
            format!(
                "ran past the timeout of {}s and was stopped",
                job.timeout_secs.unwrap_or(0)
            ),
        ),
        None if !status.success() => Verdict::new(
            Outcome::Failed,
            format!("the renderer {}", status.describe()),
        ),
        None => verify(job, chunk),
    }
}

/// Checks the frames of a successful exit, when the job asks for it.
fn verify(job: &ResolvedJob, chunk: &Chunk) -> Verdict {
    if !job.verify {
        return Verdict {
            outcome: Outcome::Ok,
            message: None,
        };
    }
    match job.output_pattern() {
        Ok(Some(p)) => match crate::verify::verify_chunk(&p, chunk) {
            Ok(()) => Verdict {
                outcome: Outcome::Ok,
                message: None,
            },
            Err(m) => Verdict::new(Outcome::VerifyFailed, m),
        },
        Ok(None) => Verdict {
            outcome: Outcome::Ok,
            message: None,
        },
        Err(e) => Verdict::new(
            Outcome::VerifyFailed,
            format!("cannot verify the frames: {e}"),
        ),
    }
}

/// Where the task goes after `outcome`, having failed `failures` times before.
pub(crate) fn next_state(outcome: Outcome, failures: i64, retries: u32) -> NextState {
    match outcome {
        Outcome::Ok => NextState::Done,
        Outcome::Cancelled => NextState::Cancelled,
        Outcome::Interrupted | Outcome::Lost => NextState::Queued,
        _ if failures < i64::from(retries) => NextState::Queued,
        _ => NextState::Failed,
    }
}

/// The message recorded and shown: the verdict's, a log problem, and the retry count.
pub(crate) fn message(
    verdict: &Verdict,
    log_error: Option<&str>,
    next: NextState,
    attempt_number: i64,
) -> Option<String> {
    let message = match (verdict.message.as_deref(), log_error) {
        (Some(m), Some(l)) => Some(format!("{m}; {l}")),
        (m, l) => m.or(l).map(str::to_string),
    };
    match (next, message) {
        (NextState::Queued, Some(m)) if verdict.outcome.is_failure() => {
            Some(format!("{m} (attempt {attempt_number}, retrying)"))
        }
        (NextState::Failed, Some(m)) if attempt_number > 1 => {
            Some(format!("{m} (after {attempt_number} attempts)"))
        }
        (_, m) => m,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(yaml: &str) -> ResolvedJob {
        let spec = crate::spec::JobSpec::parse(yaml, std::path::Path::new("j.yaml")).unwrap();
        ResolvedJob::resolve(&spec, std::path::Path::new("/tmp"), &Default::default()).unwrap()
    }

    const OK: ExitInfo = ExitInfo {
        code: Some(0),
        signal: None,
    };

    #[test]
    fn an_unusable_stored_pattern_fails_the_task_instead_of_skipping_verification() {
        let mut j = job("frames: 1\noutput: /tmp/x.%04d.exr\ncommand: [true]\n");
        j.output = Some("/tmp/no-frame-number-here".into());
        let v = judge(None, OK, &j, &j.chunks[0]);
        assert_eq!(v.outcome, Outcome::VerifyFailed);
        assert!(v.message.unwrap().contains("cannot verify"));
    }

    #[test]
    fn stops_and_exits_give_outcomes_and_retries_give_states() {
        let j = job("frames: 1\ncommand: [true]\n");
        let c = &j.chunks[0];
        assert_eq!(judge(None, OK, &j, c).outcome, Outcome::Ok);
        let failed = ExitInfo {
            code: Some(3),
            signal: None,
        };
        assert_eq!(judge(None, failed, &j, c).outcome, Outcome::Failed);
        assert_eq!(
            judge(Some(StopReason::Timeout), OK, &j, c).outcome,
            Outcome::Timeout
        );
        assert_eq!(next_state(Outcome::Failed, 0, 1), NextState::Queued);
        assert_eq!(next_state(Outcome::Failed, 1, 1), NextState::Failed);
        assert_eq!(next_state(Outcome::Interrupted, 9, 0), NextState::Queued);
        let v = judge(None, failed, &j, c);
        assert_eq!(
            message(&v, None, NextState::Failed, 2).unwrap(),
            "the renderer exited with code 3 (after 2 attempts)"
        );
    }
}
