//! What this machine has: CPU threads, memory and NVIDIA GPUs. NVML is loaded at run time, so a
//! machine without the driver reports "no GPU" instead of failing.

use serde::Serialize;

/// A snapshot of the machine's resources (`shotline sysinfo`).
#[derive(Debug, Clone, Serialize)]
pub struct MachineInfo {
    /// Host name.
    pub host: String,
    /// Operating system, e.g. `Linux 12 (bookworm)`.
    pub os: String,
    /// CPU model.
    pub cpu: String,
    /// Physical cores, when known.
    pub cores: Option<usize>,
    /// Hardware threads (logical CPUs) available to this process.
    pub threads: usize,
    /// Total memory, bytes.
    pub memory_total: u64,
    /// Memory available now, bytes.
    pub memory_available: u64,
    /// NVIDIA GPUs, by NVML index.
    pub gpus: Vec<GpuInfo>,
    /// Why no GPU is listed (no driver, NVML error), when that is the case.
    pub gpu_note: Option<String>,
}

/// One NVIDIA GPU.
#[derive(Debug, Clone, Serialize)]
pub struct GpuInfo {
    /// NVML index, as `CUDA_VISIBLE_DEVICES` counts them.
    pub index: u32,
    /// Model name.
    pub name: String,
    /// UUID.
    pub uuid: Option<String>,
    /// Memory total, bytes.
    pub memory_total: Option<u64>,
    /// Memory in use, bytes.
    pub memory_used: Option<u64>,
    /// GPU utilisation, percent.
    pub utilization: Option<u32>,
}

impl MachineInfo {
    /// A machine described rather than measured: `threads` CPU threads, `memory` bytes and
    /// GPUs with these indices. For schedulers and tests that must not depend on the machine
    /// they run on (a worker given two GPUs assigns `CUDA_VISIBLE_DEVICES` on any host).
    pub fn described(threads: usize, memory: u64, gpus: &[u32]) -> MachineInfo {
        MachineInfo {
            host: crate::procs::render_host(),
            os: String::new(),
            cpu: String::new(),
            cores: None,
            threads,
            memory_total: memory,
            memory_available: memory,
            gpus: gpus
                .iter()
                .map(|&index| GpuInfo {
                    index,
                    name: format!("described GPU {index}"),
                    uuid: None,
                    memory_total: None,
                    memory_used: None,
                    utilization: None,
                })
                .collect(),
            gpu_note: None,
        }
    }

    /// Reads the machine. Never fails: what cannot be read is left empty or explained.
    pub fn detect() -> MachineInfo {
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        let (cpu, memory_total, memory_available) = match sysinfo::System::new() {
            Ok(mut sys) => {
                sys.refresh_memory();
                sys.refresh_cpu_list(sysinfo::CpuRefreshKind::nothing());
                let cpu = sys
                    .cpus()
                    .first()
                    .map(|c| c.brand().trim().to_string())
                    .unwrap_or_default();
                (cpu, sys.total_memory(), sys.available_memory())
            }
            Err(_) => (String::new(), 0, 0),
        };
        let (gpus, gpu_note) = detect_gpus();
        MachineInfo {
            host: crate::procs::render_host(),
            os: sysinfo::System::long_os_version().unwrap_or_default(),
            cpu,
            cores: sysinfo::System::physical_core_count().ok(),
            threads,
            memory_total,
            memory_available,
            gpus,
            gpu_note,
        }
    }
}

/// GPUs through NVML, or the reason there are none.
fn detect_gpus() -> (Vec<GpuInfo>, Option<String>) {
    let nvml = match nvml_wrapper::Nvml::init() {
        Ok(n) => n,
        Err(e) => {
            return (
                Vec::new(),
                Some(format!("no NVIDIA GPU: NVML unavailable ({e})")),
            )
        }
    };
    let count = match nvml.device_count() {
        Ok(c) => c,
        Err(e) => return (Vec::new(), Some(format!("no NVIDIA GPU: {e}"))),
    };
    let mut gpus = Vec::new();
    for index in 0..count {
        let Ok(d) = nvml.device_by_index(index) else {
            continue;
        };
        let mem = d.memory_info().ok();
        gpus.push(GpuInfo {
            index,
            name: d.name().unwrap_or_else(|_| "NVIDIA GPU".into()),
            uuid: d.uuid().ok(),
            memory_total: mem.as_ref().map(|m| m.total),
            memory_used: mem.as_ref().map(|m| m.used),
            utilization: d.utilization_rates().ok().map(|u| u.gpu),
        });
    }
    let note = gpus.is_empty().then(|| "no NVIDIA GPU found".to_string());
    (gpus, note)
}

#[cfg(test)]
mod tests {
    #[test]
    fn detect_never_fails() {
        let m = super::MachineInfo::detect();
        assert!(m.threads >= 1);
        assert!(m.gpus.is_empty() == m.gpu_note.is_some());
    }
}
