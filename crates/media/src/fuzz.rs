//! Property tests that mutate real files of every natively read format (bit flips, cuts, random
//! bytes and huge sizes at header offsets) and probe them: never a panic, never one allocation
//! above the read cap, always a verdict. A bounded number of cases per format keeps this to a
//! few seconds; `fuzz/` holds the cargo-fuzz targets for long runs. The committed corpus under
//! `tests/corpus/<format>/` is replayed every run: a file named `ok_*`, `truncated_*`,
//! `corrupt_*` or `unreadable_*` must get that status.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use proptest::prelude::*;

use crate::source::MAX_HEAD;
use crate::testdata::*;
use crate::{probe_with, MediaInfo, ProbeOptions, Status};

/// Largest single allocation a probe may make: the header cap plus room for bookkeeping.
const MAX_ALLOC: usize = MAX_HEAD + 1024 * 1024;

thread_local! {
    static WATCHING: Cell<bool> = const { Cell::new(false) };
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

/// Records the largest allocation made on a thread while it is watching.
struct Watch;

#[allow(unsafe_code)] // a counting allocator must implement the unsafe GlobalAlloc trait
unsafe impl GlobalAlloc for Watch {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

fn note(size: usize) {
    let _ = WATCHING.try_with(|w| {
        if w.get() {
            let _ = LARGEST.try_with(|l| l.set(l.get().max(size)));
        }
    });
}

#[global_allocator]
static ALLOC: Watch = Watch;

/// Probes `path` (movies go nowhere: no ffprobe) and checks the allocation bound.
fn probe_checked(path: &Path) -> MediaInfo {
    let opts = ProbeOptions {
        ffprobe: None,
        ffprobe_configured: "ffprobe".into(),
        ffprobe_timeout: std::time::Duration::from_secs(1),
        batch_size: 1,
    };
    LARGEST.with(|l| l.set(0));
    WATCHING.with(|w| w.set(true));
    let info = probe_with(path, &opts);
    WATCHING.with(|w| w.set(false));
    let largest = LARGEST.with(Cell::get);
    assert!(
        largest <= MAX_ALLOC,
        "{}: one allocation of {largest} bytes ({:?})",
        path.display(),
        info.reason
    );
    if !info.status.is_ok() {
        assert!(
            info.reason.is_some(),
            "{}: a verdict without a reason",
            path.display()
        );
    }
    info
}

/// One pristine file per format, written once by the test-data helpers.
fn originals() -> &'static [(&'static str, Vec<u8>)] {
    static FILES: OnceLock<Vec<(&'static str, Vec<u8>)>> = OnceLock::new();
    FILES.get_or_init(|| {
        let d = tempfile::tempdir().expect("tempdir");
        let p = |n: &str| d.path().join(n);
        write_exr(&p("a.exr"), &ExrSpec::rgb(16, 8)).expect("exr");
        write_exr(&p("t.exr"), &ExrSpec::rgba(16, 8).tiled(8, 8)).expect("tiled exr");
        write_dpx(&p("a.dpx"), &DpxSpec::rgb10(16, 8, true)).expect("dpx");
        write_cineon(&p("a.cin"), 16, 8).expect("cineon");
        write_image(&p("a.tif"), 16, 8).expect("tiff");
        write_image(&p("a.png"), 16, 8).expect("png");
        write_image(&p("a.jpg"), 16, 8).expect("jpeg");
        write_tga(&p("a.tga"), 16, 8).expect("tga");
        write_hdr(&p("a.hdr"), 16, 8).expect("hdr");
        [
            "a.exr", "t.exr", "a.dpx", "a.cin", "a.tif", "a.png", "a.jpg", "a.tga", "a.hdr",
        ]
        .into_iter()
        .map(|n| (n, std::fs::read(p(n)).expect("read back")))
        .collect()
    })
}

/// One way to damage a file.
#[derive(Debug, Clone)]
enum Mutation {
    /// Flip bit `bit` of the byte at (position modulo length).
    Flip { at: usize, bit: u8 },
    /// Keep only (len modulo length) bytes.
    Cut { len: usize },
    /// Overwrite bytes in the first 2 KiB (where the headers are).
    Bytes { at: usize, bytes: Vec<u8> },
    /// Write an absurd 32-bit size, both byte orders, at a 4-aligned header offset.
    Huge { at: usize, value: u32 },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Mutation::Flip { at, bit }),
        any::<usize>().prop_map(|len| Mutation::Cut { len }),
        (0usize..2048, proptest::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(at, bytes)| Mutation::Bytes { at, bytes }),
        (
            0usize..512,
            prop_oneof![
                Just(u32::MAX),
                Just(0x7fff_ffff),
                Just(0x0100_0000),
                any::<u32>()
            ]
        )
            .prop_map(|(at, value)| Mutation::Huge { at: at * 4, value }),
    ]
}

fn apply(data: &mut Vec<u8>, m: &Mutation) {
    let n = data.len();
    if n == 0 {
        return;
    }
    match m {
        Mutation::Flip { at, bit } => data[at % n] ^= 1 << bit,
        Mutation::Cut { len } => data.truncate(len % n),
        Mutation::Bytes { at, bytes } => {
            for (i, b) in bytes.iter().enumerate() {
                if let Some(slot) = data.get_mut(at + i) {
                    *slot = *b;
                }
            }
        }
        Mutation::Huge { at, value } => {
            let be = value.to_be_bytes();
            let le = value.to_le_bytes();
            let bytes = if at % 8 == 0 { be } else { le };
            for (i, b) in bytes.iter().enumerate() {
                if let Some(slot) = data.get_mut(at + i) {
                    *slot = *b;
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_headers_never_panic_or_overallocate(
        which in 0usize..9,
        muts in proptest::collection::vec(mutation(), 1..4),
    ) {
        let (name, original) = &originals()[which];
        let mut data = original.clone();
        for m in &muts {
            apply(&mut data, m);
        }
        let d = tempfile::tempdir().expect("tempdir");
        let path = d.path().join(name);
        std::fs::write(&path, &data).expect("write");
        let info = probe_checked(&path);
        prop_assert!(matches!(info.status, Status::Ok | Status::Truncated | Status::Corrupt | Status::Unreadable));
    }
}

/// Every committed corpus file, with the status its name promises.
fn corpus() -> Vec<(PathBuf, Option<Status>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut out = Vec::new();
    for dir in std::fs::read_dir(&root).expect("tests/corpus exists") {
        let dir = dir.expect("corpus dir").path();
        for f in std::fs::read_dir(&dir).expect("format dir") {
            let p = f.expect("corpus file").path();
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            let want = [
                ("ok_", Status::Ok),
                ("truncated_", Status::Truncated),
                ("corrupt_", Status::Corrupt),
                ("unreadable_", Status::Unreadable),
            ]
            .into_iter()
            .find(|(pre, _)| name.starts_with(pre))
            .map(|(_, s)| s);
            out.push((p, want));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn corpus_replays_with_the_promised_status() {
    let files = corpus();
    assert!(files.len() >= 9, "corpus has {} files", files.len());
    for (path, want) in files {
        let info = probe_checked(&path);
        if let Some(want) = want {
            assert_eq!(info.status, want, "{}: {:?}", path.display(), info.reason);
        }
    }
}

/// The committed corpus is exactly what the generator writes (pristine files and a few damaged
/// ones), so it can never drift from the writers. After adding a format, write it with
/// `SHOTLINE_WRITE_CORPUS=1 cargo test -p shotline-media --lib corpus_is_what_the_generator_writes`.
#[test]
fn corpus_is_what_the_generator_writes() {
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let write = std::env::var_os("SHOTLINE_WRITE_CORPUS").is_some();
    let scratch = tempfile::tempdir().expect("temp dir");
    let root = if write {
        committed.clone()
    } else {
        scratch.path().to_path_buf()
    };
    for (name, data) in originals() {
        let (stem, ext) = name.split_once('.').unwrap_or((name, ""));
        let fmt = match ext {
            "tif" => "tiff",
            "jpg" => "jpeg",
            "cin" => "cineon",
            e => e,
        };
        let dir = root.join(fmt);
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join(format!("ok_{stem}.{ext}")), data).expect("write");
        std::fs::write(
            dir.join(format!("truncated_{stem}_half.{ext}")),
            &data[..data.len() / 2],
        )
        .expect("write");
        let mut huge = data.clone();
        apply(
            &mut huge,
            &Mutation::Huge {
                at: 8,
                value: u32::MAX,
            },
        );
        std::fs::write(dir.join(format!("huge_{stem}.{ext}")), huge).expect("write");
    }
    if write {
        return;
    }
    for entry in walk_files(scratch.path()) {
        let rel = entry.strip_prefix(scratch.path()).expect("inside");
        let want = std::fs::read(&entry).expect("read generated");
        let have = std::fs::read(committed.join(rel)).unwrap_or_else(|e| {
            panic!(
                "corpus file {} is missing ({e}); regenerate it",
                rel.display()
            )
        });
        assert!(
            have == want,
            "corpus file {} differs from the generator's; regenerate it",
            rel.display()
        );
    }
}

fn walk_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("list").flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk_files(&p));
        } else {
            out.push(p);
        }
    }
    out
}
