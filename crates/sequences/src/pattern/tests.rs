//! Pattern parsing in every style, and finding patterns on disk.

use super::*;

fn p(s: &str) -> SequencePattern {
    parse_pattern(s).unwrap_or_else(|e| panic!("{e}"))
}

fn parts(s: &str) -> (String, String, String, usize, Option<String>) {
    let x = p(s);
    (
        x.dir.to_string_lossy().into_owned(),
        x.head.to_string_lossy().into_owned(),
        x.tail.to_string_lossy().into_owned(),
        x.padding,
        x.range.map(|r| r.to_string()),
    )
}

fn want(
    d: &str,
    h: &str,
    t: &str,
    pad: usize,
    r: Option<&str>,
) -> (String, String, String, usize, Option<String>) {
    (d.into(), h.into(), t.into(), pad, r.map(String::from))
}

#[test]
fn every_style() {
    assert_eq!(
        parts("plate.####.exr"),
        want(".", "plate.", ".exr", 4, None)
    );
    assert_eq!(parts("plate.#.exr"), want(".", "plate.", ".exr", 4, None));
    assert_eq!(parts("plate.##.exr"), want(".", "plate.", ".exr", 2, None));
    assert_eq!(
        parts("plate.@@@@.exr"),
        want(".", "plate.", ".exr", 4, None)
    );
    assert_eq!(parts("plate.@.exr"), want(".", "plate.", ".exr", 1, None));
    assert_eq!(
        parts("plate.%04d.exr"),
        want(".", "plate.", ".exr", 4, None)
    );
    assert_eq!(parts("plate.%d.exr"), want(".", "plate.", ".exr", 1, None));
    assert_eq!(parts("plate.$F4.exr"), want(".", "plate.", ".exr", 4, None));
    assert_eq!(parts("plate.$F.exr"), want(".", "plate.", ".exr", 1, None));
    assert_eq!(
        parts("plate.${F3}.exr"),
        want(".", "plate.", ".exr", 3, None)
    );
    assert_eq!(parts("tex.<UDIM>.tx"), want(".", "tex.", ".tx", 4, None));
}

#[test]
fn ranges_inside_and_after() {
    assert_eq!(
        parts("plate.1001-1100#.exr"),
        want(".", "plate.", ".exr", 4, Some("1001-1100"))
    );
    assert_eq!(
        parts("plate.1-10@@@.exr"),
        want(".", "plate.", ".exr", 3, Some("1-10"))
    );
    assert_eq!(
        parts("plate.%04d.exr 1001-1100"),
        want(".", "plate.", ".exr", 4, Some("1001-1100"))
    );
    assert_eq!(
        parts("plate.####.exr 1-10x2"),
        want(".", "plate.", ".exr", 4, Some("1-9x2"))
    );
    assert_eq!(
        parts("plate.-5-5#.exr"),
        want(".", "plate.", ".exr", 4, Some("-5-5"))
    );
    // A `-` after a letter is no sign, and letters are never a range.
    assert_eq!(
        parts("plate-1-5#.exr"),
        want(".", "plate-", ".exr", 4, Some("1-5"))
    );
    assert_eq!(parts("box#.exr"), want(".", "box", ".exr", 4, None));
    assert_eq!(
        parts("shot_v2x#.exr"),
        want(".", "shot_v2x", ".exr", 4, None)
    );
}

#[test]
fn printf_percent_escape_round_trips() {
    assert_eq!(
        parts("50%%_plate.%04d.exr"),
        want(".", "50%_plate.", ".exr", 4, None)
    );
    let x = p("50%%_plate.%04d.exr");
    let seq = Sequence {
        dir: x.dir,
        head: x.head,
        tail: x.tail,
        padding: x.padding,
        frames: FrameSet::default(),
        missing: FrameSet::default(),
        stat: None,
    };
    assert_eq!(seq.pattern(crate::PadStyle::Printf), "50%%_plate.%04d.exr");
    assert_eq!(seq.pattern(crate::PadStyle::Hash), "50%_plate.#.exr");
}

#[test]
fn directories_and_versions() {
    assert_eq!(
        parts("/show/sh010/comp_v002.####.exr"),
        want("/show/sh010/", "comp_v002.", ".exr", 4, None)
    );
    assert_eq!(
        parts("out/render.%04d"),
        want("out/", "render.", "", 4, None)
    );
    // The last token is the frame.
    assert_eq!(
        parts("a_@@_b.####.exr"),
        want(".", "a_@@_b.", ".exr", 4, None)
    );
}

#[test]
fn errors_name_the_pattern_and_what_was_expected() {
    for (bad, needle) in [
        ("plate.exr", "no frame token"),
        ("plate.#@@.exr", "mixed padding"),
        ("plate.%4d.exr", "pads with spaces"),
        ("plate.%00d.exr", "out of range"),
        ("plate.%099d.exr", "out of range"),
        ("plate.1-5#.exr 1-5", "two frame ranges"),
    ] {
        let e = parse_pattern(bad).unwrap_err();
        assert!(e.to_string().contains(needle), "{bad}: {e}");
        assert!(
            e.to_string().contains(bad.split(' ').next().unwrap()),
            "{e}"
        );
    }
}

#[test]
fn match_name_respects_padding_and_sign() {
    let x = p("c.####.exr");
    assert_eq!(x.match_name("c.1001.exr".as_ref()), Some(1001));
    assert_eq!(x.match_name("c.10001.exr".as_ref()), Some(10001));
    assert_eq!(x.match_name("c.0042.exr".as_ref()), Some(42));
    assert_eq!(x.match_name("c.-001.exr".as_ref()), Some(-1));
    assert_eq!(x.match_name("c.01001.exr".as_ref()), None);
    assert_eq!(x.match_name("c.042.exr".as_ref()), None);
    assert_eq!(x.match_name("c.exr".as_ref()), None);
    assert_eq!(x.match_name("c.1001.exr.bak".as_ref()), None);
    assert_eq!(p("f-#.exr").match_name("f--001.exr".as_ref()), None);
}

#[test]
fn find_on_disk_lists_frames_and_missing() {
    let dir = tempfile::tempdir().unwrap();
    for f in [
        "p.1001.exr",
        "p.1002.exr",
        "p.1005.exr",
        "p.01003.exr",
        "other.1003.exr",
    ] {
        std::fs::write(dir.path().join(f), b"").unwrap();
    }
    std::fs::create_dir(dir.path().join("p.1004.exr")).unwrap();
    let pat = format!("{}/p.####.exr", dir.path().display());
    let s = find_on_disk(&p(&pat)).unwrap();
    assert_eq!(s.frames, FrameSet::from_frames([1001, 1002, 1005]));
    assert_eq!(s.missing.to_string(), "1003-1004");
    let s = find_on_disk(&p(&format!("{pat} 1000-1010"))).unwrap();
    assert_eq!(s.missing.to_string(), "1000,1003-1004,1006-1010");
    let s = find_on_disk(&p(&format!("{pat} 1000-1010x2"))).unwrap();
    assert_eq!(
        s.missing,
        FrameSet::from_frames([1000, 1004, 1006, 1008, 1010])
    );
    let s = find_on_disk(&p(&format!("{}/none.####.exr", dir.path().display()))).unwrap();
    assert!(s.is_empty());
    let err = find_on_disk(&p(&format!("{}/nodir/x.#.exr", dir.path().display()))).unwrap_err();
    assert!(err.to_string().contains("nodir"), "{err}");
}

#[test]
fn pattern_names_frames_and_respells() {
    let x = p("/r/sh.####.exr");
    assert_eq!(x.frame_name(7), OsString::from("sh.0007.exr"));
    assert_eq!(x.frame_path(-1), PathBuf::from("/r/sh.-001.exr"));
    assert_eq!(p("sh.%d.exr").frame_path(12), PathBuf::from("sh.12.exr"));
    assert_eq!(x.pattern(crate::PadStyle::Houdini), "sh.$F4.exr");
    let s = x.sequence_of(vec![3, 1, 1]);
    assert_eq!(s.frames, FrameSet::from_frames([1, 3]));
    assert_eq!(s.missing.to_string(), "2");
    let names: Vec<(i64, OsString)> = s.frame_names().collect();
    assert_eq!(names[1], (3, OsString::from("sh.0003.exr")));
}
