//! Writes a `show-renders` tree of real EXR frames for `bench/validate.sh`:
//! `DIR/show{S}/shots/sh{NNN}/renders/{seq}/sh{NNN}_{seq}_v001.{frame}.exr`, 16x16 RGB half zip,
//! every frame encoded separately (headers checks mean something per file). One frame in every
//! tenth shot is truncated and one removed, so the run has findings to report.
//! Usage: `make_show DIR SHOWS SHOTS SEQS FRAMES`.

use std::path::PathBuf;

use rayon::prelude::*;
use shotline_media::testdata::{truncate_file, write_exr, ExrSpec};

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num = |i: usize, d: usize| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(d);
    let dir = PathBuf::from(
        args.first()
            .map_or("bench/out/validate-tree", |s| s.as_str()),
    );
    let (shows, shots, seqs, frames) = (num(1, 2), num(2, 50), num(3, 2), num(4, 500));
    let mut jobs = Vec::new();
    for show in 0..shows {
        for shot in 0..shots {
            for seq in 0..seqs {
                jobs.push((show, shot * 10 + 10, seq));
            }
        }
    }
    let spec = ExrSpec::rgb(16, 16).fps(24, 1);
    jobs.par_iter().try_for_each(|&(show, shot, seq)| {
        let name = ["comp", "lgt", "fx", "roto"][seq % 4];
        let d = dir.join(format!("show{show}/shots/sh{shot:03}/renders/{name}{seq}"));
        std::fs::create_dir_all(&d)?;
        (1001..1001 + frames as i64)
            .into_par_iter()
            .try_for_each(|f| {
                let mut s = spec.clone();
                s.seed = f as u32;
                let p = d.join(format!("sh{shot:03}_{name}_v001.{f:04}.exr"));
                write_exr(&p, &s)?;
                if shot % 100 == 0 && seq == 0 && f == 1010 {
                    let len = std::fs::metadata(&p)?.len();
                    truncate_file(&p, len / 2)?;
                }
                if shot % 100 == 0 && seq == 0 && f == 1020 {
                    std::fs::remove_file(&p)?;
                }
                Ok::<(), std::io::Error>(())
            })
    })?;
    println!("wrote {} sequences under {}", jobs.len(), dir.display());
    Ok(())
}
