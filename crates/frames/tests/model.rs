//! The frame set against a naive model that lists every frame: same frames, same order, for
//! random expressions, and normalised spellings that parse back to the same frames.

use proptest::prelude::*;
use shotline_frames::FrameSet;

/// fileseq semantics the slow, obvious way.
fn model(parts: &[(i64, i64, char, i64)]) -> Vec<i64> {
    let mut out: Vec<i64> = Vec::new();
    let push = |out: &mut Vec<i64>, f: i64| {
        if !out.contains(&f) {
            out.push(f)
        }
    };
    for &(a, b, kind, n) in parts {
        let dir = if b < a { -1 } else { 1 };
        let all: Vec<i64> =
            std::iter::successors(Some(a), |&f| (f != b).then(|| f + dir)).collect();
        let every = |k: i64| -> Vec<i64> {
            all.iter()
                .copied()
                .filter(|f| (f - a).abs() % k == 0)
                .collect()
        };
        match kind {
            'x' => every(n.abs()).into_iter().for_each(|f| push(&mut out, f)),
            'y' => {
                let skip = every(n.abs());
                all.iter()
                    .filter(|f| !skip.contains(f))
                    .for_each(|&f| push(&mut out, f));
            }
            _ => {
                for k in (1..=n.abs()).rev() {
                    every(k).into_iter().for_each(|f| push(&mut out, f));
                }
            }
        }
    }
    out
}

fn spell(parts: &[(i64, i64, char, i64)]) -> String {
    parts
        .iter()
        .map(|&(a, b, k, n)| format!("{a}-{b}{k}{n}"))
        .collect::<Vec<_>>()
        .join(",")
}

fn part() -> impl Strategy<Value = (i64, i64, char, i64)> {
    (
        -300i64..300,
        -300i64..300,
        prop::sample::select(vec!['x', 'y', ':']),
        1i64..13,
    )
        .prop_map(|(a, b, k, n)| {
            // fileseq allows a negative step or stagger on a descending range.
            let n = if b < a && n % 2 == 0 { -n } else { n };
            (a, b, k, n)
        })
}

/// Short parts, so that a list of many stores many segments (and uses the value index).
fn short_part() -> impl Strategy<Value = (i64, i64, char, i64)> {
    (
        -200i64..200,
        -6i64..7,
        prop::sample::select(vec!['x', 'y', ':']),
        1i64..4,
    )
        .prop_map(|(a, d, k, n)| (a, a + d, k, n))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn long_lists_match_model(parts in prop::collection::vec(short_part(), 10..80)) {
        let expr = spell(&parts);
        let set = FrameSet::parse(&expr).unwrap();
        let want = model(&parts);
        prop_assert_eq!(set.iter().collect::<Vec<_>>(), want.clone(), "{}", expr);
        for f in -210..210 {
            prop_assert_eq!(set.contains(f), want.contains(&f), "{} {}", expr, f);
        }
        let back = FrameSet::parse(&set.to_string()).unwrap();
        prop_assert_eq!(back.iter().collect::<Vec<_>>(), want.clone());
        let (lo, hi) = (*want.iter().min().unwrap(), *want.iter().max().unwrap());
        let want_inv: Vec<i64> = (lo..=hi).filter(|f| !want.contains(f)).collect();
        prop_assert_eq!(set.invert().iter().collect::<Vec<_>>(), want_inv);
    }

    #[test]
    fn extremes_of_i64_match_model(
        parts in prop::collection::vec(part(), 1..5),
        high in any::<bool>(),
    ) {
        let base = if high { i64::MAX - 300 } else { i64::MIN + 300 };
        let parts: Vec<_> = parts.iter().map(|&(a, b, k, n)| (base + a, base + b, k, n)).collect();
        let expr = spell(&parts);
        let set = FrameSet::parse(&expr).unwrap();
        let want = model(&parts);
        prop_assert_eq!(set.iter().collect::<Vec<_>>(), want.clone(), "{}", expr);
        if let (Some(&lo), Some(&hi)) = (want.iter().min(), want.iter().max()) {
            let back = FrameSet::parse(&set.to_string()).unwrap();
            prop_assert_eq!(back.iter().collect::<Vec<_>>(), want.clone());
            let want_inv: Vec<i64> = (lo..=hi).filter(|f| !want.contains(f)).collect();
            prop_assert_eq!(set.invert().iter().collect::<Vec<_>>(), want_inv);
        }
    }

    #[test]
    fn difference_and_union_match_model(
        a in prop::collection::vec(short_part(), 1..30),
        b in prop::collection::vec(short_part(), 1..30),
    ) {
        let (sa, sb) = (FrameSet::parse(&spell(&a)).unwrap(), FrameSet::parse(&spell(&b)).unwrap());
        let (wa, wb) = (model(&a), model(&b));
        let diff: Vec<i64> = wa.iter().copied().filter(|f| !wb.contains(f)).collect();
        prop_assert_eq!(sa.difference(&sb).unwrap().iter().collect::<Vec<_>>(), diff.clone());
        let mut uni = wa.clone();
        uni.extend(wb.iter().copied().filter(|f| !wa.contains(f)));
        prop_assert_eq!(sa.union(&sb).unwrap().iter().collect::<Vec<_>>(), uni);
    }

    #[test]
    fn parse_matches_model(parts in prop::collection::vec(part(), 1..6)) {
        let expr = spell(&parts);
        let set = FrameSet::parse(&expr).unwrap();
        let want = model(&parts);
        let got: Vec<i64> = set.iter().collect();
        prop_assert_eq!(&got, &want, "{}", expr);
        prop_assert_eq!(set.len(), want.len() as u64);
        prop_assert_eq!(set.first(), want.first().copied());
        prop_assert_eq!(set.last(), want.last().copied());
        prop_assert_eq!(set.min(), want.iter().copied().min());
        prop_assert_eq!(set.max(), want.iter().copied().max());
        let norm = set.to_string();
        if want.is_empty() {
            prop_assert_eq!(&norm, "");
            prop_assert!(set.invert().is_empty());
            return Ok(());
        }
        let back = FrameSet::parse(&norm).unwrap();
        prop_assert_eq!(back.iter().collect::<Vec<_>>(), want.clone(), "{} -> {}", expr, norm);
        let runs: Vec<i64> = set.runs().flat_map(|r| r.iter().collect::<Vec<_>>()).collect();
        prop_assert_eq!(runs, want.clone());
        for f in -70..70 {
            prop_assert_eq!(set.contains(f), want.contains(&f));
        }
        let inv: Vec<i64> = set.invert().iter().collect();
        let (lo, hi) = (*want.iter().min().unwrap(), *want.iter().max().unwrap());
        let want_inv: Vec<i64> = (lo..=hi).filter(|f| !want.contains(f)).collect();
        prop_assert_eq!(inv, want_inv);
    }

    #[test]
    fn normalise_round_trips_frame_lists(frames in prop::collection::vec(-50i64..50, 0..40)) {
        let set = FrameSet::from_frames(frames.iter().copied());
        let mut want = Vec::new();
        for f in frames {
            if !want.contains(&f) {
                want.push(f);
            }
        }
        prop_assert_eq!(set.iter().collect::<Vec<_>>(), want.clone());
        let norm = set.to_string();
        if want.is_empty() {
            prop_assert_eq!(norm, "");
        } else {
            let back = FrameSet::parse(&norm).unwrap();
            prop_assert_eq!(back.iter().collect::<Vec<_>>(), want, "{}", norm);
        }
    }
}

proptest! {
    // Each case may resolve overlaps of unrelated steps by listing up to 10,000,000 frames.
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn huge_sets_are_consistent_without_listing(
        parts in prop::collection::vec(
            (-(1i64 << 40)..(1i64 << 40), -(1i64 << 40)..(1i64 << 40),
             prop::sample::select(vec!['x', 'y', ':']), 1i64..12),
            1..4,
        )
    ) {
        let expr = spell(&parts);
        let set = match FrameSet::parse(&expr) {
            Ok(set) => set,
            // Unrelated steps over trillions of frames are refused, never mis-stored.
            Err(e) => {
                prop_assert!(e.message.contains("10000000 frames"), "{}", e);
                return Ok(());
            }
        };
        let inv = set.invert();
        let (Some(lo), Some(hi)) = (set.min(), set.max()) else {
            prop_assert!(set.is_empty() && inv.is_empty());
            return Ok(());
        };
        prop_assert_eq!(set.len() as i128 + inv.len() as i128, hi as i128 - lo as i128 + 1);
        for f in set.iter().take(300) {
            prop_assert!(set.contains(f) && !inv.contains(f));
        }
        for f in inv.iter().take(300) {
            prop_assert!(!set.contains(f) && (lo..=hi).contains(&f));
        }
        if let Ok(norm) = set.to_string_capped(1 << 16) {
            let back = FrameSet::parse(&norm).unwrap();
            prop_assert_eq!((back.len(), back.first(), back.last()), (set.len(), set.first(), set.last()));
            prop_assert!(back.iter().take(3000).eq(set.iter().take(3000)), "{} -> {}", expr, norm);
        }
    }
}
