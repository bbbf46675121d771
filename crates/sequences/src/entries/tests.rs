use std::collections::HashSet;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::Arc;

use super::*;
use crate::EntryKind;

fn write(root: &Path, rel: &str, len: usize) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, vec![1u8; len]).unwrap();
}

/// `r/a.1.exr a.2.exr(hard link of a.1) .hidden/x  sub/b.txt  sub/.dot  link_dir -> sub
///  link_file -> sub/b.txt  dangling -> nowhere  <non-UTF-8 dir>/c\xff.exr`
fn tree() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    write(r, "a.1.exr", 10);
    std::fs::hard_link(r.join("a.1.exr"), r.join("a.2.exr")).unwrap();
    write(r, ".hidden/x", 1);
    write(r, "sub/b.txt", 7);
    write(r, "sub/.dot", 2);
    std::os::unix::fs::symlink(r.join("sub"), r.join("link_dir")).unwrap();
    std::os::unix::fs::symlink(r.join("sub/b.txt"), r.join("link_file")).unwrap();
    std::os::unix::fs::symlink(r.join("nowhere"), r.join("dangling")).unwrap();
    let odd = r.join(OsStr::from_bytes(b"d\xe9j\xe0"));
    std::fs::create_dir(&odd).unwrap();
    std::fs::write(odd.join(OsStr::from_bytes(b"c\xff.exr")), b"abc").unwrap();
    t
}

fn rel(root: &Path, l: &EntryListing) -> String {
    l.dir
        .strip_prefix(root)
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

fn find<'a>(w: &'a EntryWalk, root: &Path, dir: &str) -> &'a EntryListing {
    w.listings
        .iter()
        .find(|l| rel(root, l) == dir)
        .unwrap_or_else(|| panic!("no listing {dir}: {w:?}"))
}

fn entry<'a>(l: &'a EntryListing, name: &str) -> &'a Entry {
    l.files
        .iter()
        .find(|e| e.name == name)
        .unwrap_or_else(|| panic!("no entry {name} in {l:?}"))
}

#[test]
fn full_stat_links_as_themselves_hidden_dirs_and_odd_names() {
    let t = tree();
    let r = t.path();
    let opts = EntryOptions {
        stat: true,
        parallel: true,
        ..Default::default()
    };
    let w = walk_entries(r, &opts);
    assert!(w.errors.is_empty(), "{:?}", w.errors);
    let dirs: Vec<String> = w.listings.iter().map(|l| rel(r, l)).collect();
    assert_eq!(
        dirs,
        ["", ".hidden", "d\u{fffd}j\u{fffd}", "sub"],
        "sorted by path"
    );
    let root = find(&w, r, "");
    assert_eq!(root.depth, 0);
    let (a1, a2) = (entry(root, "a.1.exr"), entry(root, "a.2.exr"));
    let (s1, s2) = (a1.stat.unwrap(), a2.stat.unwrap());
    assert_eq!((s1.size, s1.nlink), (10, 2));
    assert_eq!((s1.dev, s1.ino), (s2.dev, s2.ino), "hard links: one inode");
    assert!(s1.mtime.is_some());
    // Links not followed: every link is an entry of its own, the directory one included.
    for name in ["link_dir", "link_file", "dangling"] {
        let e = entry(root, name);
        assert_eq!(e.kind, EntryKind::Symlink, "{name}");
        let own = std::fs::symlink_metadata(r.join(name)).unwrap().len();
        assert_eq!(e.stat.unwrap().size, own, "{name}: the link's own size");
    }
    let sub = find(&w, r, "sub");
    assert_eq!(sub.depth, 1);
    assert_eq!(
        entry(sub, ".dot").kind,
        EntryKind::File,
        "hidden files listed"
    );
    let odd = &w.listings[2];
    assert_eq!(odd.dir.file_name().unwrap().as_bytes(), b"d\xe9j\xe0");
    assert_eq!(
        odd.files[0].name.as_bytes(),
        b"c\xff.exr",
        "kept byte for byte"
    );
    assert_eq!(odd.files[0].name_str(), None);
    assert_eq!(odd.files[0].stat.unwrap().size, 3);
}

#[test]
fn followed_file_links_broken_links_and_linked_dirs_not_descended() {
    let t = tree();
    let r = t.path();
    let opts = EntryOptions {
        stat: true,
        follow_file_links: true,
        skip_hidden_dirs: true,
        parallel: true,
        ..Default::default()
    };
    let w = walk_entries(r, &opts);
    let dirs: Vec<String> = w.listings.iter().map(|l| rel(r, l)).collect();
    assert_eq!(dirs, ["", "d\u{fffd}j\u{fffd}", "sub"]);
    let root = find(&w, r, "");
    let lf = entry(root, "link_file");
    assert_eq!((lf.kind, lf.link), (EntryKind::File, true));
    assert_eq!(lf.stat.unwrap().size, 7, "the target's size");
    assert_eq!(entry(root, "dangling").kind, EntryKind::BrokenLink);
    assert!(root.files.iter().all(|e| e.name != "link_dir"));
    let linked: Vec<&OsString> = root
        .subdirs
        .iter()
        .filter(|s| s.link)
        .map(|s| &s.name)
        .collect();
    assert_eq!(linked, [&OsString::from("link_dir")]);
    assert!(
        root.subdirs.iter().all(|s| s.name != ".hidden"),
        "hidden directories skipped"
    );
}

#[test]
fn skip_set_prune_and_serial_agree_with_parallel() {
    let t = tree();
    let r = t.path();
    let skip: HashSet<_> = [r.join("sub")].into();
    let opts = EntryOptions {
        skip_dirs: Some(&skip),
        prune: Some(Arc::new(|p: &Path| !p.ends_with(".hidden"))),
        ..Default::default()
    };
    let serial = walk_entries(r, &opts);
    let parallel = walk_entries(
        r,
        &EntryOptions {
            parallel: true,
            ..opts.clone()
        },
    );
    let names = |w: &EntryWalk| -> Vec<String> { w.listings.iter().map(|l| rel(r, l)).collect() };
    assert_eq!(names(&serial), ["", "d\u{fffd}j\u{fffd}"]);
    assert_eq!(names(&serial), names(&parallel));
    let root = find(&serial, r, "");
    assert!(root.files.iter().all(|e| e.stat.is_none()), "no stat asked");
    assert_eq!(
        root.subdirs.len(),
        3,
        "skipped and pruned directories are still listed as subdirectories"
    );
}

#[test]
fn unreadable_directories_are_returned_not_swallowed() {
    let t = tempfile::tempdir().unwrap();
    let missing = t.path().join("missing");
    let w = walk_entries(&missing, &EntryOptions::default());
    assert!(w.listings.is_empty());
    assert_eq!(w.errors.len(), 1);
    assert_eq!(w.errors[0].path, missing);
    assert!(
        w.errors[0].to_string().contains("missing"),
        "{}",
        w.errors[0]
    );
    // A file where a directory was expected is an error too, not an empty listing.
    write(t.path(), "f", 1);
    let w = walk_entries(&t.path().join("f"), &EntryOptions::default());
    assert_eq!(w.errors.len(), 1);
}
