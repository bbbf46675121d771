//! Scheduling: the machine's budget (what it has minus the reserve), what one task needs, and
//! whether that fits beside the running tasks, choosing which GPUs it gets.

use shotline_config::RenderReserve;

use crate::job::ResolvedJob;
use crate::machine::MachineInfo;

/// What the worker schedules within: the machine minus the reserve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Budget {
    /// CPU threads.
    pub threads: u32,
    /// Memory, bytes.
    pub memory: u64,
    /// GPU indices tasks may use.
    pub gpus: Vec<u32>,
}

impl Budget {
    /// The budget of `machine` after `reserve` (the lowest-numbered GPUs are kept, since they
    /// usually drive the displays).
    pub fn of(machine: &MachineInfo, reserve: &RenderReserve) -> Budget {
        Budget {
            threads: u32::try_from(machine.threads)
                .unwrap_or(u32::MAX)
                .saturating_sub(reserve.threads)
                .max(1),
            memory: machine.memory_total.saturating_sub(reserve.memory.0),
            gpus: machine
                .gpus
                .iter()
                .map(|g| g.index)
                .skip(reserve.gpus as usize)
                .collect(),
        }
    }
}

/// What one task takes from the budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Need {
    /// CPU threads.
    pub threads: u32,
    /// Number of GPUs.
    pub gpus: u32,
    /// Memory, bytes (0: not counted).
    pub memory: u64,
}

impl Need {
    /// What a task of `job` needs; `threads: 0` is an even share of the budget among
    /// `max_concurrent` tasks (all of it when there is no limit).
    pub fn of(job: &ResolvedJob, budget: &Budget, max_concurrent: u32) -> Need {
        let threads = match job.resources.threads {
            0 => match max_concurrent {
                0 => budget.threads,
                n => budget.threads / n,
            }
            .max(1),
            t => t,
        };
        Need {
            threads,
            gpus: job.resources.gpus,
            memory: job.resources.memory.0,
        }
    }
}

/// What a running task holds.
#[derive(Debug, Clone, Copy)]
pub struct InUse<'a> {
    /// CPU threads.
    pub threads: u32,
    /// Memory, bytes.
    pub memory: u64,
    /// GPU indices.
    pub gpus: &'a [u32],
}

/// Why a task can never run here, whatever else finishes.
pub fn never_fits(budget: &Budget, need: &Need, host: &str) -> Option<String> {
    if need.threads > budget.threads {
        return Some(format!(
            "needs {} threads but {} are available on {host} after the reserve (render.reserve.threads)",
            need.threads, budget.threads
        ));
    }
    if need.gpus as usize > budget.gpus.len() {
        return Some(format!(
            "needs {} GPU(s) but {} are available on {host} after the reserve (see `shotline sysinfo`)",
            need.gpus,
            budget.gpus.len()
        ));
    }
    if need.memory > budget.memory && budget.memory > 0 {
        return Some(format!(
            "needs {} bytes of memory but {} are available on {host} after the reserve",
            need.memory, budget.memory
        ));
    }
    None
}

/// Whether `need` fits beside the running tasks; the GPU indices to give it when it does (the
/// lowest free ones).
pub fn fit(budget: &Budget, in_use: &[InUse<'_>], need: &Need) -> Option<Vec<u32>> {
    let used_threads = in_use.iter().fold(0u32, |a, u| a.saturating_add(u.threads));
    let used_mem = in_use.iter().fold(0u64, |a, u| a.saturating_add(u.memory));
    if used_threads.saturating_add(need.threads) > budget.threads {
        return None;
    }
    if need.memory > 0 && used_mem.saturating_add(need.memory) > budget.memory {
        return None;
    }
    let free: Vec<u32> = budget
        .gpus
        .iter()
        .copied()
        .filter(|g| !in_use.iter().any(|u| u.gpus.contains(g)))
        .collect();
    if free.len() < need.gpus as usize {
        return None;
    }
    Some(free.into_iter().take(need.gpus as usize).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn need(threads: u32, gpus: u32, memory: u64) -> Need {
        Need {
            threads,
            gpus,
            memory,
        }
    }

    #[test]
    fn resources_fit_and_gpus_are_assigned() {
        // A machine with 8 threads, 16 GiB for renders and GPUs 1..=3 (GPU 0 reserved).
        let b = Budget {
            threads: 8,
            memory: 16 << 30,
            gpus: vec![1, 2, 3],
        };
        assert_eq!(fit(&b, &[], &need(4, 2, 0)), Some(vec![1, 2]));
        let busy: [u32; 2] = [1, 2];
        let in_use = [InUse {
            threads: 4,
            memory: 8 << 30,
            gpus: &busy,
        }];
        assert_eq!(
            fit(&b, &in_use, &need(4, 1, 0)),
            Some(vec![3]),
            "GPUs in use are skipped"
        );
        assert_eq!(fit(&b, &in_use, &need(4, 2, 0)), None, "only one GPU left");
        assert_eq!(fit(&b, &in_use, &need(5, 0, 0)), None, "threads exhausted");
        assert_eq!(
            fit(&b, &in_use, &need(1, 0, 9 << 30)),
            None,
            "memory exhausted"
        );
        assert_eq!(fit(&b, &in_use, &need(1, 0, 8 << 30)), Some(vec![]));
        assert_eq!(fit(&b, &in_use, &need(u32::MAX, 0, u64::MAX)), None);
    }

    #[test]
    fn the_reserve_keeps_the_lowest_gpus() {
        let m = MachineInfo::described(8, 32 << 30, &[0, 1, 2]);
        let reserve = RenderReserve {
            threads: 2,
            gpus: 1,
            memory: shotline_config::ByteSize(16 << 30),
        };
        assert_eq!(
            Budget::of(&m, &reserve),
            Budget {
                threads: 6,
                memory: 16 << 30,
                gpus: vec![1, 2]
            }
        );
    }
}
