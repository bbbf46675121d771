//! Unit tests: every row of the syntax table in the field reference, every error form, huge
//! ranges, inversion and normalisation. The property tests live in `tests/model.rs`.

use crate::{pad_frame, FrameSet, Run, RunError, TooManyFrames};

fn frames(expr: &str) -> Vec<i64> {
    FrameSet::parse(expr).unwrap().iter().collect()
}

fn norm(expr: &str) -> String {
    FrameSet::parse(expr).unwrap().to_string()
}

/// Column (0-based) and message of the error for `expr`.
fn error(expr: &str) -> (usize, String) {
    let e = FrameSet::parse(expr).unwrap_err();
    assert_eq!(e.expr, expr);
    (e.column, e.message)
}

#[test]
fn ranges_go_either_direction() {
    assert_eq!(frames("1-5"), [1, 2, 3, 4, 5]);
    assert_eq!(frames("5-1"), [5, 4, 3, 2, 1]);
    assert_eq!(frames("-5--1"), [-5, -4, -3, -2, -1]);
    assert_eq!(frames("-3-3"), [-3, -2, -1, 0, 1, 2, 3]);
    assert_eq!(frames("-1--3"), [-1, -2, -3]);
    assert_eq!(frames("7-7"), [7]);
}

#[test]
fn step_counts_from_the_start_and_never_adds_the_end() {
    assert_eq!(frames("1-10x2"), [1, 3, 5, 7, 9]);
    assert_eq!(frames("20-1x5"), [20, 15, 10, 5]);
    assert_eq!(frames("1-10x4"), [1, 5, 9]);
    assert_eq!(frames("20-1x-1").len(), 20);
    assert_eq!(frames("20-1x-5"), [20, 15, 10, 5]);
    assert_eq!(frames("1-10x20"), [1]);
}

#[test]
fn fill_is_what_the_step_skips() {
    assert_eq!(frames("1-10y3"), [2, 3, 5, 6, 8, 9]);
    assert_eq!(frames("10-1y3"), [9, 8, 6, 5, 3, 2]);
    assert_eq!(frames("1-10y2"), [2, 4, 6, 8, 10]);
    assert_eq!(frames("1-10y1"), Vec::<i64>::new());
}

#[test]
fn stagger_steps_down_without_repeats() {
    assert_eq!(frames("1-10:2"), [1, 3, 5, 7, 9, 2, 4, 6, 8, 10]);
    assert_eq!(frames("1-10:3"), [1, 4, 7, 10, 3, 5, 9, 2, 6, 8]);
    assert_eq!(frames("10-1:3"), [10, 7, 4, 1, 8, 6, 2, 9, 5, 3]);
    assert_eq!(frames("1-3:9"), [1, 3, 2]);
    assert_eq!(frames("0--1:1"), [0, -1]);
    assert_eq!(frames("1-4:1"), [1, 2, 3, 4]);
}

#[test]
fn lists_keep_first_seen_order_and_drop_repeats() {
    assert_eq!(frames("17,-3,1"), [17, -3, 1]);
    assert_eq!(frames("1,,2"), [1, 2]);
    assert_eq!(frames("5,1-6,3"), [5, 1, 2, 3, 4, 6]);
    assert_eq!(frames(",1,"), [1]);
}

#[test]
fn spaces_are_ignored_between_tokens() {
    assert_eq!(frames("1 - 10 x 2"), frames("1-10x2"));
    assert_eq!(frames(" 1 , 2 "), [1, 2]);
    assert_eq!(frames("- 5 - -1"), frames("-5--1"));
}

#[test]
fn malformed_forms_point_at_the_offending_character() {
    let cases: &[(&str, usize, &str)] = &[
        ("1x5", 1, "needs a range"),
        ("1:5", 1, "needs a range"),
        ("1-", 2, "found the end"),
        ("1-20X5", 4, "lower case"),
        ("1-20Y5", 4, "lower case"),
        ("1-20x0", 5, "must not be zero"),
        ("1-20x-5", 5, "descending range"),
        ("1-20y-5", 5, "descending range"),
        ("5-5x-1", 4, "descending range"),
        ("1-20:-2", 5, "descending range"),
        ("1-20:0", 5, "must not be zero"),
        ("a-z", 0, "expected a frame number, found 'a'"),
        ("1-z", 2, "found 'z'"),
        ("1-10x", 5, "expected a step"),
        ("1-10x2x3", 6, "expected ','"),
        ("1.5", 1, "found '.'"),
        ("1 0", 2, "found '0'"),
        ("--5", 1, "found '-'"),
        ("1-10,x", 5, "found 'x'"),
        ("1-10#", 4, "found '#'"),
        ("1,2,3-", 6, "found the end"),
    ];
    for &(expr, column, needle) in cases {
        let (col, msg) = error(expr);
        assert_eq!(col, column, "{expr}: {msg}");
        assert!(msg.contains(needle), "{expr}: {msg}");
    }
}

#[test]
fn empty_expressions_are_errors() {
    for expr in ["", "   ", ",", " , ,"] {
        let (col, msg) = error(expr);
        assert_eq!(col, 0);
        assert!(msg.contains("empty expression"), "{msg}");
    }
}

#[test]
fn numbers_outside_i64_are_errors() {
    let (col, msg) = error("1-99999999999999999999");
    assert_eq!(col, 2);
    assert!(
        msg.contains("99999999999999999999 is out of range"),
        "{msg}"
    );
    assert_eq!(error("9223372036854775808").0, 0);
    assert_eq!(error("1-10x9223372036854775808").0, 5);
    assert_eq!(frames("9223372036854775807"), [i64::MAX]);
    assert_eq!(frames("-9223372036854775808"), [i64::MIN]);
    let (_, msg) = error("-9223372036854775808-9223372036854775807");
    assert!(msg.contains("2^64"), "{msg}");
}

#[test]
fn the_error_message_names_expression_and_column() {
    let e = FrameSet::parse("1-20X5").unwrap_err();
    let text = e.to_string();
    assert!(text.contains("\"1-20X5\""), "{text}");
    assert!(text.contains("character 5"), "{text}");
}

#[test]
fn huge_ranges_are_stored_as_runs() {
    let set = FrameSet::parse("1-1000000000").unwrap();
    assert_eq!(set.len(), 1_000_000_000);
    assert_eq!(set.to_string(), "1-1000000000");
    assert!(set.invert().is_empty());
    assert!(set.contains(999_999_999));
    assert_eq!(set.runs().count(), 1);

    let x3 = FrameSet::parse("1-1000000000x3").unwrap();
    assert_eq!(x3.len(), 333_333_334);
    assert_eq!(x3.last(), Some(1_000_000_000));
    assert_eq!(x3.to_string(), "1-1000000000x3");
    assert_eq!(x3.invert().to_string(), "1-999999999y3");
    assert_eq!(x3.invert().len(), 1_000_000_000 - 333_333_334);

    let y3 = FrameSet::parse("1-1000000000y3").unwrap();
    assert_eq!(y3.len(), 666_666_666);
    assert_eq!(y3.to_string(), "1-999999999y3");
    assert_eq!(y3.invert().to_string(), "4-999999997x3");
    assert!(!y3.contains(999_999_997) && y3.contains(999_999_998));

    let x2 = FrameSet::parse("1-1000000000x2").unwrap();
    assert_eq!(x2.invert().to_string(), "2-999999998x2");
    assert_eq!(x2.invert().len(), 499_999_999);
}

#[test]
fn overlapping_huge_runs_drop_repeats_without_listing() {
    let set = FrameSet::parse("1-1000000000,500-2000000000,3-7").unwrap();
    assert_eq!(set.len(), 2_000_000_000);
    assert_eq!(set.to_string(), "1-2000000000");

    let set = FrameSet::parse("1-1000000000x2,501-3000000001x2").unwrap();
    assert_eq!(set.len(), 1_500_000_001);
    assert_eq!(set.to_string(), "1-3000000001x2");

    let set = FrameSet::parse("2000000000-1,1-3000000000").unwrap();
    assert_eq!(set.to_string(), "2000000000-1,2000000001-3000000000");

    let set = FrameSet::parse("1-1000000000x2,1-1000000000x3").unwrap();
    assert_eq!(set.len(), 666_666_667);
    assert_eq!(set.to_string(), "1-999999999x2,4-1000000000x6");

    let set = FrameSet::parse("1-1000000000:3").unwrap();
    assert_eq!(set.len(), 1_000_000_000);
    assert_eq!(set.to_string(), "1-1000000000:3");
    assert!(set.invert().is_empty());
}

#[test]
fn unrelated_steps_over_billions_fail_cleanly() {
    let set = FrameSet::parse("1-1000000000x65537,1-1000000000").unwrap();
    assert_eq!(set.len(), 1_000_000_000);
    assert_eq!(set.runs().count(), 1 + 15_259);
    let (col, msg) = error("1-10,1-10000000000000x70001,1-10000000000000");
    assert_eq!(col, 28);
    assert!(msg.contains("10000000 frames"), "{msg}");
}

#[test]
fn invert_lists_missing_frames_ascending() {
    assert_eq!(norm("1-10x2,20"), "1-9x2,20");
    let inv = FrameSet::parse("1-10x2,20").unwrap().invert();
    assert_eq!(inv.to_string(), "2-10x2,11-19");
    let inv = FrameSet::parse("10,1,5").unwrap().invert();
    assert_eq!(inv.iter().collect::<Vec<_>>(), [2, 3, 4, 6, 7, 8, 9]);
    assert!(FrameSet::parse("5").unwrap().invert().is_empty());
    assert!(FrameSet::default().invert().is_empty());
    let ends = FrameSet::parse("-9223372036854775808,9223372036854775807").unwrap();
    let inv = ends.invert();
    assert_eq!(inv.len(), u64::MAX - 1);
    assert_eq!(inv.to_string(), "-9223372036854775807-9223372036854775806");
}

#[test]
fn try_invert_caps_the_slow_path_only() {
    let set = FrameSet::parse("1-1000000000x2").unwrap();
    assert_eq!(set.try_invert(10).unwrap().len(), 499_999_999);
}

#[test]
fn normalisation_compresses_runs_and_steps() {
    assert_eq!(norm("1,2,3,5,7,9,10"), "1-3,5-9x2,10");
    assert_eq!(
        FrameSet::from_frames([1, 2, 3, 5, 7, 9, 10]).to_string(),
        "1-3,5-9x2,10"
    );
    assert_eq!(norm("1-10x2"), "1-9x2");
    assert_eq!(norm("20-1x5"), "20-5x5");
    assert_eq!(norm("1,3"), "1,3");
    assert_eq!(norm("1,3,4,5"), "1,3-5");
    assert_eq!(norm("5,4,3,2"), "5-2");
    assert_eq!(norm("1001,1002,1004"), "1001-1002,1004");
    assert_eq!(norm("1,2,4,6,8"), "1-2,4-8x2");
    assert_eq!(norm("1-10y3"), "1-9y3");
    assert_eq!(norm("1-10:2"), "1-10:2");
    assert_eq!(FrameSet::default().to_string(), "");
}

#[test]
fn to_string_capped_refuses_huge_spellings() {
    let set = FrameSet::parse("1-1000000000x2,1-1000000000x3").unwrap();
    let inv = set.invert();
    assert_eq!(inv.len(), 333_333_333);
    assert!(inv.to_string_capped(1000).is_err());
    assert_eq!(set.to_string_capped(1000).unwrap(), set.to_string());
}

#[test]
fn first_last_min_max_follow_set_order() {
    let set = FrameSet::parse("5,-2,9,1").unwrap();
    assert_eq!((set.first(), set.last()), (Some(5), Some(1)));
    assert_eq!((set.min(), set.max()), (Some(-2), Some(9)));
    let empty = FrameSet::default();
    assert_eq!((empty.first(), empty.min(), empty.len()), (None, None, 0));
}

#[test]
fn to_vec_capped_refuses_big_sets() {
    let set = FrameSet::parse("1-1000000000").unwrap();
    assert_eq!(
        set.to_vec_capped(1000),
        Err(TooManyFrames {
            count: 1_000_000_000,
            cap: 1000
        })
    );
    assert_eq!(
        FrameSet::parse("3-1").unwrap().to_vec_capped(3).unwrap(),
        [3, 2, 1]
    );
}

#[test]
fn runs_are_lazy_and_in_set_order() {
    let set = FrameSet::parse("1-100x2,200-300,150").unwrap();
    let runs: Vec<Run> = set.runs().collect();
    assert_eq!(
        runs,
        [
            Run {
                start: 1,
                end: 99,
                step: 2
            },
            Run {
                start: 200,
                end: 300,
                step: 1
            },
            Run::single(150)
        ]
    );
    let y = FrameSet::parse("1-1000000000y3").unwrap();
    let first: Vec<String> = y.runs().take(2).map(|r| r.to_string()).collect();
    assert_eq!(first, ["2-3", "5-6"]);
}

#[test]
fn from_runs_drops_repeats_and_checks_runs() {
    let set = FrameSet::from_runs([
        Run::new(1, 1_000_000_000, 1).unwrap(),
        Run::new(500, 2_000_000_000, 1).unwrap(),
    ])
    .unwrap();
    assert_eq!(set.len(), 2_000_000_000);
    let bad = Run {
        start: 1,
        end: 10,
        step: 2,
    };
    assert_eq!(FrameSet::from_runs([bad]), Err(RunError::Unreachable(bad)));
    let zero = Run {
        start: 1,
        end: 1,
        step: 0,
    };
    assert_eq!(FrameSet::from_runs([zero]), Err(RunError::ZeroStep(zero)));
    assert!(Run::new(10, 1, 3).is_err());
    assert_eq!(Run::new(10, 1, -3).unwrap().len(), 4);
}

#[test]
fn from_frames_keeps_order_and_drops_repeats() {
    let set = FrameSet::from_frames([3, 1, 3, 2, 1]);
    assert_eq!(set.iter().collect::<Vec<_>>(), [3, 1, 2]);
    assert_eq!(set.to_string(), "3,1-2");
}

#[test]
fn difference_and_union_keep_order() {
    let expected = FrameSet::parse("1001-1100").unwrap();
    let found = FrameSet::parse("1001-1049,1051-1100").unwrap();
    assert_eq!(expected.difference(&found).unwrap().to_string(), "1050");
    let u = found.union(&expected).unwrap();
    assert_eq!(u.len(), 100);
    assert_eq!(u.last(), Some(1050));
}

#[test]
fn equality_is_frames_in_order() {
    assert_eq!(
        FrameSet::parse("1-3").unwrap(),
        FrameSet::from_frames([1, 2, 3])
    );
    assert_ne!(
        FrameSet::parse("1-3").unwrap(),
        FrameSet::parse("3-1").unwrap()
    );
}

#[test]
fn fills_with_steps_beyond_the_pattern_limit_are_runs() {
    let set = FrameSet::parse("1-1000000000y100000").unwrap();
    assert_eq!(set.len(), 1_000_000_000 - 10_000);
    assert_eq!(set.runs().count(), 10_000);
    assert_eq!(set.iter().take(3).collect::<Vec<_>>(), [2, 3, 4]);
    assert!(!set.contains(100_001) && set.contains(100_002));
    let (col, msg) = error("1-1000000000000000y100000");
    assert_eq!(col, 19);
    assert!(msg.contains("separate runs"), "{msg}");
}

#[test]
fn from_str_parses() {
    let set: FrameSet = "1-3".parse().unwrap();
    assert_eq!(set.len(), 3);
    assert!("1-".parse::<FrameSet>().is_err());
}

#[test]
fn pad_counts_the_sign() {
    assert_eq!(pad_frame(-1, 4), "-001");
    assert_eq!(pad_frame(7, 4), "0007");
    assert_eq!(pad_frame(12345, 4), "12345");
    assert_eq!(pad_frame(0, 0), "0");
    assert_eq!(pad_frame(-12, 2), "-12");
}

#[test]
fn negative_stagger_on_a_descending_range_is_the_stagger() {
    // fileseq: `20-1:-2` and `20-1:2` list the same frames.
    assert_eq!(frames("20-1:-2"), frames("20-1:2"));
    assert_eq!(
        frames("20-1:-2"),
        [20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1]
    );
    assert_eq!(frames("10-1:-3"), [10, 7, 4, 1, 8, 6, 2, 9, 5, 3]);
    assert_eq!(norm("20-1:-2"), "20-1:2");
}

#[test]
fn staggers_print_in_their_shortest_spelling() {
    assert_eq!(norm("1-10:2"), "1-10:2");
    assert_eq!(norm("1-100:3"), "1-100:3");
    assert_eq!(norm("1-10000:20"), "1-10000:20");
    assert_eq!(norm("10-1:3"), "10-1:3");
    // More passes than frames: only as many as there are frames count.
    assert_eq!(norm("1-4000:4001"), "1,4000-2");
    assert_eq!(norm("1-5000:4000"), "1-5000:4000");
    assert_eq!(norm("1-100:500"), "1,100-2");
    // Where the runs are strictly shorter they win.
    assert_eq!(norm("1-2:2"), "1-2");
    assert_eq!(norm("1-10:10"), "1,10-2");
    assert_eq!(norm("1-3:9"), "1-3:3");
    assert_eq!(norm("7-7:3"), "7");
    // After other parts, and followed by them.
    assert_eq!(norm("50,1-10:2,11-20"), "50,1-10:2,11-20");
    // A stagger overlapping earlier parts keeps only its new frames, as runs.
    assert_eq!(norm("5,1-10:2"), "5,1,3,7,9,2-10x2");
}

#[test]
fn stagger_sets_are_computed_without_listing() {
    let set = FrameSet::parse("1-100000:50").unwrap();
    assert_eq!(set.len(), 100_000);
    assert_eq!(
        (set.min(), set.max(), set.first()),
        (Some(1), Some(100_000), Some(1))
    );
    assert!(set.invert().is_empty());
    assert!(set.contains(77_777));
    let listed: Vec<i64> = set.iter().collect();
    assert_eq!(listed.len(), 100_000);
    assert_eq!(set.last(), listed.last().copied());
    let mut sorted = listed.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (1..=100_000).collect::<Vec<_>>());

    let set = FrameSet::parse("1-1000000000:4096").unwrap();
    assert_eq!(set.to_string(), "1-1000000000:4096");
    assert_eq!(set.iter().take(3).collect::<Vec<_>>(), [1, 4097, 8193]);
    assert!(set.runs().next().is_some());
    let with = FrameSet::parse("1-1000000000:4096,999999990-1000000010").unwrap();
    assert_eq!(with.to_string(), "1-1000000000:4096,1000000001-1000000010");
}

#[test]
fn interleaved_sparse_runs_invert_in_linear_time() {
    let set = FrameSet::parse("1-10000000000x65537,2-10000000000x65539").unwrap();
    let inv = set.try_invert(10_000_000).unwrap();
    let (lo, hi) = (set.min().unwrap(), set.max().unwrap());
    assert_eq!(inv.len(), (hi - lo + 1) as u64 - set.len());
    assert!(inv.to_string_capped(16 << 20).is_ok());
    // The cap bounds the work, not only the frames listed.
    assert!(set.try_invert(1000).is_err());
}

#[test]
fn missing_within_works_on_runs() {
    let set = FrameSet::from_frames([1001, 100_000_000]);
    assert_eq!(set.to_string(), "1001,100000000");
    assert_eq!(
        set.missing_within(1001, 100_000_000).to_string(),
        "1002-99999999"
    );
    assert_eq!(set.gaps().to_string(), "1002-99999999");
    assert_eq!(
        set.missing_within(990, 1010).to_string(),
        "990-1000,1002-1010"
    );
    assert_eq!(set.missing_within(1010, 990), set.missing_within(990, 1010));
    assert!(set.missing_within(1001, 1001).is_empty());
    assert_eq!(FrameSet::default().missing_within(1, 3).to_string(), "1-3");
    let set = FrameSet::parse("1-100x2").unwrap();
    assert_eq!(set.missing_within(0, 10).to_string(), "0-10x2");
}

#[test]
fn from_frames_keeps_runs_not_frames() {
    let set = FrameSet::from_frames((1..=1_000_000).chain([5, 2_000_000]));
    assert_eq!(set.to_string(), "1-1000000,2000000");
    assert_eq!(set.segs.len(), 2);
    let set = FrameSet::from_frames([3, 1, 2, 1, 3]);
    assert_eq!(set.iter().collect::<Vec<_>>(), [3, 1, 2]);
}

#[test]
fn pad_is_bounded() {
    assert_eq!(pad_frame(1, 65536).len(), crate::MAX_PAD);
    assert_eq!(pad_frame(-1, usize::MAX).len(), crate::MAX_PAD);
}

#[test]
fn normalising_twice_changes_nothing() {
    let once = norm("28-0x3,43--8y4");
    assert_eq!(
        once,
        "28-1x3,43-29y4,26,24,21-20,18-17,14,12,9-8,6-5,2--2x2,-3--4,-6--8"
    );
    assert_eq!(norm(&once), once);
}

#[test]
fn missing_from_a_huge_range_costs_runs_not_frames() {
    let range = FrameSet::parse("1-1000000000").unwrap();
    let present = FrameSet::from_frames([1, 5, 1_000_000_000]);
    let m = range.missing_from(&present);
    assert_eq!(m.to_string(), "2-4,6-999999999");
    assert!(m.segs.len() <= 2, "{:?}", m.segs);
    assert_eq!(
        range.missing_from(&FrameSet::default()).len(),
        1_000_000_000
    );
    let all = FrameSet::parse("1-3").unwrap();
    assert!(all
        .missing_from(&FrameSet::parse("1-3").unwrap())
        .is_empty());
    // Present frames outside the range are ignored.
    let m = FrameSet::parse("10-12")
        .unwrap()
        .missing_from(&FrameSet::parse("1-11").unwrap());
    assert_eq!(m.to_string(), "12");
}

#[test]
fn missing_from_a_huge_stepped_range_lists_nothing() {
    // 50 million expected frames, three of them present: the gaps are runs, not a list.
    let range = FrameSet::parse("1-100000000x2").unwrap();
    let m = range.missing_from(&FrameSet::from_frames([1, 2, 5, 99_999_999]));
    assert_eq!(m.len(), 50_000_000 - 3);
    assert!(!m.contains(1) && !m.contains(5) && !m.contains(2));
    assert!(m.contains(3) && m.contains(7) && m.contains(99_999_997));
    assert_eq!(m.to_string(), "3,7-99999997x2");
    let overlapping = FrameSet::parse("1-10,5-20x5").unwrap();
    let m = overlapping.missing_from(&FrameSet::from_frames([5, 10]));
    assert!(!m.contains(5) && !m.contains(10) && m.contains(15) && m.contains(1));
    assert_eq!(m.len(), overlapping.len() - 2);
}

#[test]
fn missing_from_descending_staggered_and_present_runs() {
    let m = FrameSet::parse("10-1")
        .unwrap()
        .missing_from(&FrameSet::parse("3-5").unwrap());
    assert_eq!(m.to_string(), "1-2,6-10");
    let m = FrameSet::parse("1-10:2")
        .unwrap()
        .missing_from(&FrameSet::parse("1-4").unwrap());
    assert_eq!(m.iter().collect::<Vec<_>>(), [5, 7, 9, 6, 8, 10]);
    // A present set with a step unrelated to the range's: exact, through cutting.
    let m = FrameSet::parse("1-30")
        .unwrap()
        .missing_from(&FrameSet::parse("1-30x7").unwrap());
    assert_eq!(m.len(), 30 - 5);
    assert!(!m.contains(8) && m.contains(9));
    // Agrees with `difference` wherever that one answers.
    for (a, b) in [
        ("1-100x3", "1-100x2"),
        ("5-50", "1-20,40-60x4"),
        ("1,3,9", "3"),
    ] {
        let (a, b) = (FrameSet::parse(a).unwrap(), FrameSet::parse(b).unwrap());
        let mut want: Vec<i64> = a.difference(&b).unwrap().iter().collect();
        let mut got: Vec<i64> = a.missing_from(&b).iter().collect();
        want.sort_unstable();
        got.sort_unstable();
        assert_eq!(got, want);
    }
}

#[test]
fn span_covers_first_to_last_gaps_included() {
    let set = FrameSet::parse("1003,1001,1010").unwrap();
    assert_eq!(set.span().unwrap().to_string(), "1001-1010");
    assert_eq!(
        FrameSet::parse("7").unwrap().span().unwrap().to_string(),
        "7"
    );
    assert!(FrameSet::default().span().is_none());
    assert_eq!(Run::span(10, 1).to_string(), "10-1");
    assert_eq!(Run::span(10, 1).len(), 10);
    assert!(Run::span(-5, 5).check().is_ok());
}

#[test]
fn plain_list_joins_only_consecutive_frames() {
    assert_eq!(crate::plain_list(&[1, 2, 3, 5, 7, 8]), "1-3,5,7-8");
    assert_eq!(crate::plain_list(&[]), "");
    assert_eq!(
        crate::plain_list(&[i64::MAX - 1, i64::MAX]),
        "9223372036854775806-9223372036854775807"
    );
}

#[test]
fn parse_with_ends_gives_the_written_ends() {
    let (set, ends) = FrameSet::parse_with_ends("1-10x4, -5--1, 7, 10-1x-2").unwrap();
    assert_eq!(ends, [10, -1, 1]);
    assert_eq!(set, FrameSet::parse("1-10x4, -5--1, 7, 10-1x-2").unwrap());
    assert!(FrameSet::parse_with_ends("1-").is_err());
}
