//! One test per REFERENCE.md "Sequence grouping" rule, and then some.

use super::*;
use crate::sequence::RangeIn;

fn g(names: &[&str]) -> Grouping {
    group("d", names.iter().map(|n| n.to_string()))
}

/// `(pattern in printf style, frames, missing)` of every sequence.
fn seqs(gr: &Grouping) -> Vec<(String, String, String)> {
    gr.sequences
        .iter()
        .map(|s| {
            (
                s.pattern(PadStyle::Printf),
                s.frames.to_string(),
                s.missing.to_string(),
            )
        })
        .collect()
}

fn files(gr: &Grouping) -> Vec<String> {
    gr.files
        .iter()
        .map(|f| f.name.to_string_lossy().into_owned())
        .collect()
}

fn t(p: &str, f: &str, m: &str) -> (String, String, String) {
    (p.to_string(), f.to_string(), m.to_string())
}

#[test]
fn frame_is_last_digit_run_and_version_stays_in_name() {
    let gr = g(&[
        "shot_v002.1001.exr",
        "shot_v002.1002.exr",
        "foo_0001_extra.exr",
    ]);
    assert_eq!(seqs(&gr), vec![t("shot_v002.%04d.exr", "1001-1002", "")]);
    assert_eq!(files(&gr), vec!["foo_0001_extra.exr"]);
}

#[test]
fn gaps_become_missing() {
    let gr = g(&["p.1001.exr", "p.1002.exr", "p.1004.exr", "p.1007.exr"]);
    assert_eq!(
        seqs(&gr),
        vec![t("p.%04d.exr", "1001-1002,1004,1007", "1003,1005-1006")]
    );
    assert_eq!(gr.sequences[0].len(), 4);
}

#[test]
fn minus_is_sign_only_after_separator_or_at_start() {
    let gr = g(&["a.-002.exr", "a.-001.exr", "a.0000.exr", "a.0001.exr"]);
    assert_eq!(seqs(&gr), vec![t("a.%04d.exr", "-2-1", "")]);
    let gr = g(&["file4-4.exr", "434-0000.exr", "2023-01-14_12-32-30.mov"]);
    let pats: Vec<String> = gr
        .sequences
        .iter()
        .map(|s| s.pattern(PadStyle::Printf))
        .collect();
    assert_eq!(
        pats,
        vec!["2023-01-14_12-32-%02d.mov", "434-%04d.exr", "file4-%d.exr"]
    );
    assert!(gr.sequences.iter().all(|s| s.frames.min().unwrap() >= 0));
}

#[test]
fn sign_counts_toward_width() {
    // -001 is width 4 and belongs with 0001, not with a 3-digit sequence.
    let gr = g(&["n.-001.exr", "n.0001.exr", "n.001.exr"]);
    assert_eq!(
        seqs(&gr),
        vec![t("n.%03d.exr", "1", ""), t("n.%04d.exr", "-1,1", "0")]
    );
}

#[test]
fn different_padding_is_different_sequence() {
    let gr = g(&["c.1001.exr", "c.1002.exr", "c.01001.exr", "c.01002.exr"]);
    assert_eq!(
        seqs(&gr),
        vec![
            t("c.%04d.exr", "1001-1002", ""),
            t("c.%05d.exr", "1001-1002", "")
        ]
    );
}

#[test]
fn numbers_wider_than_padding_join_it() {
    let gr = g(&["b.9998.exr", "b.9999.exr", "b.10000.exr", "b.10001.exr"]);
    assert_eq!(seqs(&gr), vec![t("b.%04d.exr", "9998-10001", "")]);
    let gr = g(&["z.0998.exr", "z.0999.exr", "z.1000.exr", "z.10000.exr"]);
    assert_eq!(
        seqs(&gr),
        vec![t("z.%04d.exr", "998-1000,10000", "1001-9999")]
    );
    let gr = g(&["u.1.exr", "u.2.exr", "u.10.exr", "u.100.exr"]);
    assert_eq!(seqs(&gr)[0].0, "u.%d.exr");
}

#[test]
fn duplicate_frame_at_two_paddings_warns_and_does_not_merge() {
    let gr = g(&["a.1.exr", "a.01.exr", "a.2.exr"]);
    assert_eq!(
        seqs(&gr),
        vec![t("a.%d.exr", "1-2", ""), t("a.%02d.exr", "1", "")]
    );
    assert_eq!(gr.warnings.len(), 1);
    let Warning::DuplicatePadding {
        paddings, frames, ..
    } = &gr.warnings[0];
    assert_eq!(*paddings, (1, 2));
    assert_eq!(frames.to_string(), "1");
    let msg = gr.warnings[0].to_string();
    assert!(
        msg.contains("a.%d.exr") && msg.contains("a.%02d.exr"),
        "{msg}"
    );
}

#[test]
fn single_frame_is_a_sequence() {
    let gr = g(&["hero.0042.exr"]);
    assert_eq!(seqs(&gr), vec![t("hero.%04d.exr", "42", "")]);
    assert_eq!(
        gr.sequences[0].format(PadStyle::Hash, RangeIn::Span),
        "hero.42#.exr"
    );
}

#[test]
fn huge_digit_runs_do_not_hang_or_overflow() {
    let forty = format!("scan.{}.exr", "7".repeat(40));
    let gr = g(&[
        "gettyimages-1364769281-2048x2048.jpg",
        &forty,
        "x.99999999999999999999.exr",
    ]);
    assert_eq!(
        seqs(&gr),
        vec![t("gettyimages-1364769281-2048x%04d.jpg", "2048", "")]
    );
    assert_eq!(
        files(&gr),
        vec![forty, "x.99999999999999999999.exr".to_string()]
    );
    let gr = g(&[
        "big.9223372036854775807.exr",
        "big.-9223372036854775807.exr",
    ]);
    assert_eq!(gr.sequences.len(), 1);
    assert_eq!(gr.sequences[0].frames.len(), 2);
}

#[test]
fn case_sensitive() {
    let gr = g(&["A.0001.exr", "a.0002.exr", "a.0003.EXR"]);
    assert_eq!(gr.sequences.len(), 3);
}

#[test]
fn plain_files_and_sorting() {
    let gr = g(&["z.txt", "b.0001.exr", "a.txt", "a.0001.exr", "README"]);
    assert_eq!(files(&gr), vec!["README", "a.txt", "z.txt"]);
    let heads: Vec<String> = gr
        .sequences
        .iter()
        .map(|s| s.head_str().into_owned())
        .collect();
    assert_eq!(heads, vec!["a.", "b."]);
}

#[test]
fn compound_extensions_and_no_extension() {
    let gr = g(&[
        "geo.1001.bgeo.sc",
        "geo.1002.bgeo.sc",
        "cache.0001",
        "cache.0002",
    ]);
    assert_eq!(
        seqs(&gr),
        vec![
            t("cache.%04d", "1-2", ""),
            t("geo.%04d.bgeo.sc", "1001-1002", "")
        ]
    );
}

#[test]
fn never_groups_across_directories() {
    let gs = group_paths([
        "s1/plate.1001.exr",
        "s2/plate.1002.exr",
        "s1/plate.1002.exr",
    ]);
    assert_eq!(gs.len(), 2);
    assert_eq!(gs[0].dir, PathBuf::from("s1"));
    assert_eq!(gs[0].sequences[0].frames.to_string(), "1001-1002");
    assert_eq!(gs[1].sequences[0].frames.to_string(), "1002");
    let gs = group_paths(["plate.1001.exr"]);
    assert_eq!(gs[0].dir, PathBuf::from("."));
}

#[test]
fn stats_are_totalled_per_sequence() {
    use std::time::{Duration, SystemTime};
    let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(100);
    let t1 = t0 + Duration::from_secs(50);
    let st = |bytes, mtime| {
        Some(FileStat {
            bytes,
            mtime: Some(mtime),
        })
    };
    let gr = group_entries(
        "d",
        vec![
            (OsString::from("p.1.exr"), st(10, t1)),
            (OsString::from("p.2.exr"), st(5, t0)),
            (OsString::from("n.txt"), st(7, t0)),
        ],
    );
    assert_eq!(
        gr.sequences[0].stat,
        Some(FileStat {
            bytes: 15,
            mtime: Some(t1)
        })
    );
    assert_eq!(gr.files[0].stat.unwrap().bytes, 7);
    assert_eq!(g(&["p.1.exr"]).sequences[0].stat, None);
}

#[cfg(unix)]
#[test]
fn non_utf8_names_group_without_panic() {
    use std::os::unix::ffi::OsStringExt;
    let names = vec![
        OsString::from_vec(b"caf\xe9.0001.exr".to_vec()),
        OsString::from_vec(b"caf\xe9.0002.exr".to_vec()),
        OsString::from_vec(b"\xff\xfe".to_vec()),
    ];
    let gr = group("d", names);
    assert_eq!(gr.sequences.len(), 1);
    let s = &gr.sequences[0];
    assert_eq!(
        s.frame_name(2),
        OsString::from_vec(b"caf\xe9.0002.exr".to_vec())
    );
    assert!(s.pattern(PadStyle::Hash).contains('\u{fffd}'));
    assert_eq!(gr.files.len(), 1);
}

#[test]
fn formats_in_every_style() {
    let gr = g(&["plate.1001.exr", "plate.1002.exr", "plate.1004.exr"]);
    let s = &gr.sequences[0];
    let cases = [
        (PadStyle::Hash, "plate.1001-1004#.exr"),
        (PadStyle::Nuke, "plate.####.exr 1001-1004"),
        (PadStyle::Printf, "plate.%04d.exr 1001-1004"),
        (PadStyle::Houdini, "plate.$F4.exr 1001-1004"),
        (PadStyle::Rv, "plate.1001-1004@@@@.exr"),
    ];
    for (style, want) in cases {
        assert_eq!(s.format(style, RangeIn::Span), want);
    }
    let frames = FrameSet::from_frames([1001, 1002, 1004]).to_string();
    assert_eq!(
        s.format(PadStyle::Hash, RangeIn::Frames),
        format!("plate.{frames}#.exr")
    );
    assert_eq!(s.pattern(PadStyle::Houdini), "plate.$F4.exr");
    let names: Vec<PathBuf> = s.frame_paths().map(|(_, p)| p).collect();
    assert_eq!(names[2], PathBuf::from("d/plate.1004.exr"));
    let u = &g(&["u.7.exr", "u.8.exr"]).sequences[0];
    assert_eq!(u.format(PadStyle::Hash, RangeIn::Span), "u.7-8@.exr");
    assert_eq!(u.format(PadStyle::Printf, RangeIn::None), "u.%d.exr");
    assert_eq!(u.format(PadStyle::Houdini, RangeIn::None), "u.$F.exr");
}

proptest::proptest! {
    /// Every name comes back exactly once: as a plain file, or as a frame whose re-formatted
    /// name (head + padded frame + tail) is the original name.
    #[test]
    fn every_name_is_accounted_for_exactly_once(
        names in proptest::collection::btree_set("[ab._-]{0,3}-?[0-9]{0,6}(\\.exr|\\.bgeo\\.sc|_x\\.exr|)", 0..40)
    ) {
        let gr = g(&names.iter().map(String::as_str).collect::<Vec<_>>());
        let mut back: Vec<String> = gr.files.iter().map(|f| f.name.to_string_lossy().into_owned()).collect();
        for s in &gr.sequences {
            for f in s.frames.iter() {
                back.push(s.frame_name(f).to_string_lossy().into_owned());
            }
        }
        back.sort();
        let want: Vec<String> = names.into_iter().collect();
        proptest::prop_assert_eq!(back, want);
    }
}

/// Movies are one file each, whatever digits end their name.
struct NoMovies;

impl crate::Classify for NoMovies {
    fn groups_as_frames(&self, ext: &str) -> bool {
        !ext.eq_ignore_ascii_case("mov")
    }
}

#[test]
fn classifier_keeps_movies_out_of_sequences() {
    let names = [
        "SH030_review_v001.mov",
        "SH030_review_v002.MOV",
        "plate.1001.exr",
    ];
    let g = crate::group_entries_with(
        "shots",
        names.iter().map(|n| (OsString::from(n), None)),
        &NoMovies,
    );
    assert_eq!(g.sequences.len(), 1);
    assert_eq!(g.sequences[0].tail, ".exr");
    let files: Vec<_> = g.files.iter().map(|f| f.name.clone()).collect();
    assert_eq!(files, ["SH030_review_v001.mov", "SH030_review_v002.MOV"]);

    // The same result from a format-blind grouping undone afterwards (the walker's path).
    let mut blind = crate::group("shots", names);
    assert_eq!(
        blind.sequences.len(),
        3,
        "format-blind grouping makes movie sequences"
    );
    blind.ungroup_with(&NoMovies);
    assert_eq!(blind, g);
}
