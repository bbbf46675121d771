//! Writes N small real EXR frames (`plate.NNNN.exr`, 64x64 RGBA half, zip, timecode + fps) for
//! `bench/probe.sh`. Usage: `make_exrs DIR N`.

use std::path::PathBuf;

use shotline_media::testdata::{write_exr_sequence, ExrSpec};
use shotline_media::Timecode;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().unwrap_or_else(|| "bench/out/probe".into()));
    let n: i64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(5000);
    std::fs::create_dir_all(&dir)?;
    let spec = ExrSpec::rgba(64, 64)
        .fps(24, 1)
        .software("shotline bench")
        .timecode(Timecode::parse("01:00:00:00").unwrap_or(Timecode {
            hours: 1,
            minutes: 0,
            seconds: 0,
            frames: 0,
            drop_frame: false,
        }));
    let paths = write_exr_sequence(&dir, "plate.", 4, 1001..=1000 + n, &spec)?;
    println!("wrote {} frames to {}", paths.len(), dir.display());
    Ok(())
}
