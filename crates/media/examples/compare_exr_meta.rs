//! Times the `exr` crate's header-only read (`MetaData::read_from_file`) against shotline's own
//! EXR parser (`probe`, which also reads the offset tables and checks the last chunk) on the
//! same files, single-threaded. Usage: `compare_exr_meta DIR`.

use std::time::Instant;

fn main() {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "bench/out/probe".into());
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "exr"));
    files.sort();
    if files.is_empty() {
        eprintln!("no .exr files in {dir}");
        std::process::exit(2);
    }
    let opts = shotline_media::ProbeOptions::default();
    for round in 0..2 {
        let t = Instant::now();
        let mut ok = 0;
        for f in &files {
            if exr::meta::MetaData::read_from_file(f, false).is_ok() {
                ok += 1;
            }
        }
        let exr_crate = t.elapsed();
        let t = Instant::now();
        let mut ok2 = 0;
        for f in &files {
            if shotline_media::probe_with(f, &opts).status.is_ok() {
                ok2 += 1;
            }
        }
        let ours = t.elapsed();
        if round == 1 {
            let per = |d: std::time::Duration| d.as_secs_f64() * 1e6 / files.len() as f64;
            println!(
                "{} files: exr crate meta read {:.1} µs/file ({ok} ok), shotline probe {:.1} µs/file ({ok2} ok), ratio {:.2}x",
                files.len(),
                per(exr_crate),
                per(ours),
                exr_crate.as_secs_f64() / ours.as_secs_f64()
            );
        }
    }
}
