//! The walker on real trees built in a temp dir.

use super::*;

fn touch(root: &Path, rel: &str) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, b"abc").unwrap();
}

fn tree() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    for f in [
        "b/p.0001.exr",
        "b/p.0002.exr",
        "a/q.0001.exr",
        "a/z/deep.1.exr",
        "top.txt",
        ".hidden/x.0001.exr",
        ".dot.txt",
    ] {
        touch(t.path(), f);
    }
    t
}

/// `(dir relative to root, number of sequences, number of files)` per listed directory.
fn run(root: &Path, opts: &WalkOptions) -> (Vec<(String, usize, usize)>, Vec<String>) {
    let mut dirs = Vec::new();
    let mut other = Vec::new();
    walk(&[root.to_path_buf()], opts, |ev| {
        match ev {
            WalkEvent::Dir(d) => {
                let rel = d
                    .grouping
                    .dir
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                dirs.push((rel, d.grouping.sequences.len(), d.grouping.files.len()));
            }
            WalkEvent::Error(e) => other.push(format!("error {e}")),
            WalkEvent::Cycle { link, .. } => other.push(format!(
                "cycle {}",
                link.strip_prefix(root).unwrap().display()
            )),
        }
        ControlFlow::Continue(())
    });
    (dirs, other)
}

#[test]
fn depth_first_in_name_order_without_hidden() {
    let t = tree();
    let opts = WalkOptions {
        recursive: true,
        ..Default::default()
    };
    let (dirs, other) = run(t.path(), &opts);
    let names: Vec<&str> = dirs.iter().map(|d| d.0.as_str()).collect();
    assert_eq!(names, vec!["", "a", "a/z", "b"]);
    assert_eq!(dirs[0], ("".into(), 0, 1));
    assert_eq!(dirs[3], ("b".into(), 1, 0));
    assert!(other.is_empty(), "{other:?}");
}

#[test]
fn hidden_and_non_recursive() {
    let t = tree();
    let opts = WalkOptions {
        recursive: true,
        hidden: true,
        ..Default::default()
    };
    let (dirs, _) = run(t.path(), &opts);
    assert_eq!(dirs[0], ("".into(), 0, 2));
    assert_eq!(dirs[1].0, ".hidden");
    let (dirs, _) = run(t.path(), &WalkOptions::default());
    assert_eq!(dirs.len(), 1);
}

#[test]
fn stats_only_when_asked() {
    let t = tree();
    let mut seen = Vec::new();
    let opts = WalkOptions {
        recursive: true,
        stat: true,
        ..Default::default()
    };
    walk(&[t.path().join("b")], &opts, |ev| {
        if let WalkEvent::Dir(d) = ev {
            seen.push(d.grouping.sequences[0].stat);
        }
        ControlFlow::Continue(())
    });
    assert_eq!(seen[0].unwrap().bytes, 6);
    assert!(seen[0].unwrap().mtime.is_some());
    let mut none = Vec::new();
    walk(&[t.path().join("b")], &WalkOptions::default(), |ev| {
        if let WalkEvent::Dir(d) = ev {
            none.push(d.grouping.sequences[0].stat);
        }
        ControlFlow::Continue(())
    });
    assert_eq!(none, vec![None]);
}

#[cfg(unix)]
#[test]
fn symlinked_dirs_are_not_files_and_cycles_are_caught() {
    let t = tree();
    std::os::unix::fs::symlink(t.path().join("a"), t.path().join("a/z/back")).unwrap();
    std::os::unix::fs::symlink(t.path().join("b"), t.path().join("linkb")).unwrap();
    let opts = WalkOptions {
        recursive: true,
        ..Default::default()
    };
    let mut links = Vec::new();
    walk(&[t.path().to_path_buf()], &opts, |ev| {
        if let WalkEvent::Dir(d) = ev {
            assert!(d
                .grouping
                .files
                .iter()
                .all(|f| f.name != "linkb" && f.name != "back"));
            links.extend(d.subdirs.into_iter().filter(|s| s.link).map(|s| s.name));
        }
        ControlFlow::Continue(())
    });
    assert_eq!(links, vec![OsString::from("linkb"), OsString::from("back")]);
    let opts = WalkOptions {
        recursive: true,
        follow_links: true,
        ..Default::default()
    };
    let (dirs, other) = run(t.path(), &opts);
    let names: Vec<&str> = dirs.iter().map(|d| d.0.as_str()).collect();
    assert_eq!(names, vec!["", "a", "a/z", "b", "linkb"]);
    assert_eq!(other, vec!["cycle a/z/back"]);
}

#[test]
fn missing_root_is_an_error_event_and_break_stops() {
    let t = tree();
    let (dirs, other) = run(&t.path().join("nope"), &WalkOptions::default());
    assert!(dirs.is_empty());
    assert!(other[0].contains("nope"), "{other:?}");
    let mut n = 0;
    let opts = WalkOptions {
        recursive: true,
        threads: Some(3),
        ..Default::default()
    };
    let s = walk(&[t.path().to_path_buf()], &opts, |_| {
        n += 1;
        ControlFlow::Break(())
    });
    assert_eq!(n, 1);
    assert!(s.stopped);
}

/// Groups everything but `.mov` files (what the media registry does for movies).
struct NoMovies;

impl Classify for NoMovies {
    fn groups_as_frames(&self, ext: &str) -> bool {
        !ext.eq_ignore_ascii_case("mov")
    }
}

#[test]
fn classifier_keeps_numbered_movies_as_files_while_grouping() {
    let t = tempfile::tempdir().unwrap();
    for f in [
        "m/r_v001.mov",
        "m/r_v002.mov",
        "m/p.0001.exr",
        "m/p.0002.exr",
    ] {
        touch(t.path(), f);
    }
    let blind = WalkOptions {
        recursive: true,
        ..Default::default()
    };
    let (dirs, _) = run(t.path(), &blind);
    assert_eq!(dirs[1], ("m".into(), 2, 0));
    let opts = WalkOptions {
        recursive: true,
        classify: Some(&NoMovies),
        ..Default::default()
    };
    let (dirs, other) = run(t.path(), &opts);
    assert_eq!(dirs[1], ("m".into(), 1, 2));
    assert!(other.is_empty(), "{other:?}");
    assert!(format!("{opts:?}").contains("classify"));
}

#[test]
fn prune_drops_subdirectories_and_never_descends() {
    let t = tree();
    let skip = t.path().join("a");
    let opts = WalkOptions {
        recursive: true,
        prune: Some(Arc::new(move |p: &Path| p != skip)),
        ..Default::default()
    };
    let (dirs, other) = run(t.path(), &opts);
    let names: Vec<&str> = dirs.iter().map(|d| d.0.as_str()).collect();
    assert_eq!(names, vec!["", "b"]);
    assert!(other.is_empty(), "{other:?}");
}
