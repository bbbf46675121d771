//! `cargo +nightly fuzz run frames_parse`: the frame-range parser on arbitrary bytes. It must
//! never panic, an error must point inside the expression, and a parsed set must print a
//! spelling that parses back to the same set (the properties of
//! `crates/frames/tests/fuzz.rs`, without a case limit).

#![no_main]

use libfuzzer_sys::fuzz_target;
use shotline_frames::FrameSet;

/// Longest spelling checked; sets without a short spelling are only counted.
const SPELLING_CAP: usize = 1 << 16;
/// Sets up to this many frames are also compared frame by frame.
const LIST_CAP: u64 = 4096;

fuzz_target!(|data: &[u8]| {
    let Ok(expr) = std::str::from_utf8(data) else {
        return;
    };
    let set = match FrameSet::parse(expr) {
        Ok(set) => set,
        Err(e) => {
            assert!(e.column <= expr.chars().count(), "{expr:?}: {e}");
            return;
        }
    };
    let Ok(text) = set.to_string_capped(SPELLING_CAP) else {
        return;
    };
    if set.is_empty() {
        assert_eq!(text, "");
        return;
    }
    let back = FrameSet::parse(&text).unwrap_or_else(|e| panic!("{expr:?} printed {text:?}: {e}"));
    assert_eq!(back.len(), set.len(), "{expr:?} printed {text:?}");
    assert_eq!((back.first(), back.last()), (set.first(), set.last()));
    assert_eq!((back.min(), back.max()), (set.min(), set.max()));
    if set.len() <= LIST_CAP {
        assert!(set.iter().eq(back.iter()), "{expr:?} printed {text:?}");
    }
});
