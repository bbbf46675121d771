//! Walks a tree and prints what it found: a quick way to time the walker alone
//! (`cargo run --release -p shotline-sequences --example walk_count -- DIR [THREADS]`).

use std::ops::ControlFlow;
use std::path::PathBuf;

fn main() {
    let mut args = std::env::args().skip(1);
    let root = PathBuf::from(args.next().unwrap_or_else(|| ".".into()));
    let threads = args.next().and_then(|t| t.parse().ok());
    let opts = shotline_sequences::WalkOptions {
        recursive: true,
        threads,
        ..Default::default()
    };
    let mut sequences = 0usize;
    let summary = shotline_sequences::walk(&[root], &opts, |ev| {
        if let shotline_sequences::WalkEvent::Dir(d) = ev {
            sequences += d.grouping.sequences.len();
        }
        ControlFlow::Continue(())
    });
    println!(
        "{} dirs, {} files, {} sequences, {} errors",
        summary.dirs, summary.files, sequences, summary.errors
    );
}
