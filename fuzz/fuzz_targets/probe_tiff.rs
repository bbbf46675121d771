//! cargo-fuzz target: arbitrary bytes probed as a `.tif` file. Seed it with
//! `crates/media/tests/corpus/tiff/`. The prober reads files, so each input is written to a
//! per-process scratch file first.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("shotline-fuzz-{}.tif", std::process::id()));
    if std::fs::write(&path, data).is_ok() {
        let _ = shotline_media::probe(&path);
    }
});
