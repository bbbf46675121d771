//! `shotline sysinfo`: what this machine offers renders.

use anyhow::Result;
use serde::Serialize;
use shotline_render::MachineInfo;

use crate::context::Ctx;
use crate::output::{human_bytes, Exit};

const EXAMPLES: &str = "\
Examples:
  shotline sysinfo                CPU, memory, GPUs and what the render queue may use
  shotline sysinfo --json | jq .available

Without an NVIDIA driver the GPU list is empty and gpu_note says why (not an error).
The render budget is the machine minus render.reserve in shotline.yaml.";

/// Arguments of `shotline sysinfo`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct SysinfoArgs {}

#[derive(Serialize)]
struct Report<'a> {
    #[serde(flatten)]
    machine: &'a MachineInfo,
    reserve: &'a shotline_config::RenderReserve,
    available: Available,
    max_concurrent: u32,
}

#[derive(Serialize)]
struct Available {
    threads: usize,
    gpus: Vec<u32>,
    memory: u64,
}

/// Prints the machine and the render budget.
pub fn run(_args: &SysinfoArgs, ctx: &Ctx) -> Result<Exit> {
    let m = MachineInfo::detect();
    let cfg = &ctx.config.config.render;
    let available = Available {
        threads: m
            .threads
            .saturating_sub(cfg.reserve.threads as usize)
            .max(1),
        gpus: m
            .gpus
            .iter()
            .map(|g| g.index)
            .skip(cfg.reserve.gpus as usize)
            .collect(),
        memory: m.memory_total.saturating_sub(cfg.reserve.memory.0),
    };
    if ctx.out.json() {
        ctx.out.json_doc(&Report {
            machine: &m,
            reserve: &cfg.reserve,
            available,
            max_concurrent: cfg.max_concurrent,
        })?;
        return Ok(Exit::Clean);
    }
    let out = &ctx.out;
    out.line(format!("host      {}  ({})", m.host, m.os))?;
    let cores = m.cores.map(|c| format!("{c} cores, ")).unwrap_or_default();
    out.line(format!(
        "cpu       {}  ({cores}{} threads)",
        m.cpu, m.threads
    ))?;
    out.line(format!(
        "memory    {} total, {} available",
        human_bytes(m.memory_total),
        human_bytes(m.memory_available)
    ))?;
    if m.gpus.is_empty() {
        out.line(format!(
            "gpus      none ({})",
            m.gpu_note.as_deref().unwrap_or("no NVIDIA GPU")
        ))?;
    }
    for g in &m.gpus {
        let mem = match (g.memory_used, g.memory_total) {
            (Some(u), Some(t)) => format!("{} / {}", human_bytes(u), human_bytes(t)),
            _ => "memory unknown".into(),
        };
        let util = g
            .utilization
            .map(|u| format!(", {u}% busy"))
            .unwrap_or_default();
        out.line(format!("gpu {}     {}  ({mem}{util})", g.index, g.name))?;
    }
    let gpus = if available.gpus.is_empty() {
        "no GPUs".to_string()
    } else {
        format!("GPUs {:?}", available.gpus)
    };
    out.line(format!(
        "renders   {} threads, {gpus}, {} (reserve: {} threads, {} GPUs, {}); at most {} tasks at once",
        available.threads,
        human_bytes(available.memory),
        cfg.reserve.threads,
        cfg.reserve.gpus,
        human_bytes(cfg.reserve.memory.0),
        if cfg.max_concurrent == 0 { "unlimited".to_string() } else { cfg.max_concurrent.to_string() }
    ))?;
    Ok(Exit::Clean)
}
