//! Fuzzing the parser with proptest in every `cargo test` (a bounded number of cases, a few
//! seconds), plus the committed corpus of tricky inputs in `tests/corpus/`, replayed on every
//! run. The cargo-fuzz target `fuzz/fuzz_targets/frames_parse.rs` checks the same properties
//! without a case limit.

use proptest::prelude::*;
use shotline_frames::FrameSet;

/// Longest spelling the checks print; sets without a short spelling are only counted.
const SPELLING_CAP: usize = 1 << 16;

/// The properties every input must keep: no panic (the test would fail), an error column
/// inside the expression (its length when it ended too early), and a spelling that parses back
/// to the same frames.
fn check(expr: &str) -> Result<(), TestCaseError> {
    match FrameSet::parse(expr) {
        Err(e) => {
            prop_assert!(e.column <= expr.chars().count(), "{:?}: {}", expr, e);
            prop_assert_eq!(&e.expr, expr);
        }
        Ok(set) => {
            let Ok(text) = set.to_string_capped(SPELLING_CAP) else {
                return Ok(());
            };
            if set.is_empty() {
                // `1-1y1` holds no frames; the empty set prints "" (which, deliberately, is
                // not an expression).
                prop_assert_eq!(text, "");
                return Ok(());
            }
            let back = FrameSet::parse(&text);
            prop_assert!(back.is_ok(), "{:?} printed {:?}: {:?}", expr, text, back);
            let back = back.unwrap_or_default();
            prop_assert_eq!(back.len(), set.len(), "{:?} printed {:?}", expr, &text);
            prop_assert_eq!(back.first(), set.first());
            prop_assert_eq!(back.last(), set.last());
            prop_assert_eq!((back.min(), back.max()), (set.min(), set.max()));
            // Printing the parsed spelling is not always byte-identical (greedy run merging
            // can cut a list differently the second time), but it must print.
            prop_assert!(back.to_string_capped(SPELLING_CAP).is_ok());
            if set.len() <= 4096 {
                prop_assert!(set.iter().eq(back.iter()), "{:?} printed {:?}", expr, text);
            }
        }
    }
    Ok(())
}

/// Every line of every file in `tests/corpus/`.
fn corpus() -> Vec<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            out.push((format!("{}:{}", f.display(), i + 1), line.to_string()));
        }
    }
    out
}

#[test]
fn corpus_replays_cleanly() {
    let lines = corpus();
    assert!(lines.len() > 40, "the corpus went missing");
    for (at, expr) in lines {
        if let Err(e) = check(&expr) {
            panic!("{at}: {expr:?}: {e}");
        }
    }
}

/// Tokens of the syntax, so random expressions are mostly nearly valid.
fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        (-1_000i64..1_000).prop_map(|n| n.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        prop::sample::select(vec![
            "-",
            ",",
            "x",
            "y",
            ":",
            " ",
            "X",
            "--",
            "9223372036854775808"
        ])
        .prop_map(str::to_string),
        "\\PC{1,3}",
    ]
}

/// A structured part `a-b<k>n` with small numbers (so frames can be compared one by one).
fn part() -> impl Strategy<Value = String> {
    (
        -60i64..60,
        -60i64..60,
        prop::sample::select(vec!["x", "y", ":", ""]),
        -12i64..13,
    )
        .prop_map(|(a, b, k, n)| {
            if k.is_empty() {
                format!("{a}-{b}")
            } else {
                format!("{a}-{b}{k}{n}")
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 2000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_strings_never_panic(expr in "\\PC{0,40}") {
        check(&expr)?;
    }

    #[test]
    fn token_soup_never_panics(tokens in prop::collection::vec(token(), 0..12)) {
        check(&tokens.concat())?;
    }

    #[test]
    fn structured_expressions_round_trip(parts in prop::collection::vec(part(), 1..6)) {
        check(&parts.join(","))?;
    }
}
