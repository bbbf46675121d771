//! The dashboard's reads and writes: reverse dependencies of many versions at once, rating
//! summaries, and retagging with its role rule.

use crate::tests::{nv, setup};
use crate::*;

#[test]
fn used_by_each_answers_for_many_versions_at_once() {
    let (d, _p, mut s, boss) = setup();
    let base = s
        .register_versions(&boss, &[nv(d.path(), "SH010", "COMP")])
        .unwrap();
    let mut a = nv(d.path(), "SH020", "COMP");
    a.uses = vec![base[0].id];
    let a = s.register_versions(&boss, &[a]).unwrap();
    let mut b = nv(d.path(), "SH020", "COMP");
    b.uses = vec![base[0].id, a[0].id];
    let b = s.register_versions(&boss, &[b]).unwrap();
    let m = s.used_by_each(&[base[0].id, a[0].id, b[0].id]).unwrap();
    assert_eq!(m[&base[0].id], [a[0].id, b[0].id]);
    assert_eq!(m[&a[0].id], [b[0].id]);
    assert!(!m.contains_key(&b[0].id));
    assert!(s.used_by_each(&[]).unwrap().is_empty());
}

#[test]
fn ratings_are_summarised_per_version_with_the_callers_own() {
    let (d, _p, mut s, boss) = setup();
    let v = s
        .register_versions(&boss, &[nv(d.path(), "SH010", "COMP")])
        .unwrap();
    let id = v[0].id;
    assert!(s.rating_summaries("boss").unwrap().is_empty());
    s.rate_version(&boss, id, 5).unwrap();
    s.rate_version(&Actor::named("ana"), id, 2).unwrap();
    s.rate_version(&boss, id, 4).unwrap();
    let r = &s.rating_summaries("ana").unwrap()[&id];
    assert_eq!((r.average, r.count, r.mine), (3.0, 2, Some(2)));
    assert_eq!(s.rating_summaries("zoe").unwrap()[&id].mine, None);
    assert!(s.rate_version(&boss, id, 0).is_err());
}

#[test]
fn retagging_needs_the_author_or_a_lead_and_is_audited() {
    let (d, _p, mut s, boss) = setup();
    let ana = Actor::named("ana");
    let v = s
        .register_versions(&ana, &[nv(d.path(), "SH010", "COMP")])
        .unwrap();
    let id = v[0].id;
    let add = |t: &str| vec![t.to_string()];
    assert_eq!(
        s.retag_version(&ana, id, &add("hero"), &[]).unwrap(),
        ["hero"]
    );
    let zoe = Actor::named("zoe");
    let err = s.retag_version(&zoe, id, &add("x"), &[]).unwrap_err();
    assert!(matches!(err, StoreError::Forbidden { .. }), "{err}");
    let tags = s
        .retag_version(&boss, id, &add("final"), &add("hero"))
        .unwrap();
    assert_eq!(tags, ["final"]);
    assert_eq!(s.version(id).unwrap().tags, ["final"]);
    assert!(s.retag_version(&boss, id, &add("two words"), &[]).is_err());
    assert!(s.retag_version(&boss, 9999, &add("x"), &[]).is_err());
    let events = s
        .events(&EventQuery {
            action: Some("version.tag".into()),
            ..EventQuery::default()
        })
        .unwrap();
    assert_eq!(events.len(), 2);
}
