//! The dashboard's shot page, asset library, media and ingest-report routes end to end: a real
//! project (EXR frames published, a review movie made by `shotline review` with ffmpeg, an
//! asset published from PNG frames with alpha), the real `shotline serve`, spoken to over
//! loopback HTTP, and a real headless Chromium driven over WebDriver. Tools the README
//! promises fail the test when missing under `CI`.

mod support;
mod track_support;
#[path = "dashboard_support/webdriver.rs"]
mod webdriver;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};
use track_support::Project;
use webdriver::{http, login, serve, Browser, Resp, Server, WebDriver};

/// What the set-up made.
struct Studio {
    p: Project,
    /// SH010 COMP v001: EXR frames 1001-1005 with 1003 missing (published by ana).
    comp: i64,
    /// The h264 review movie of `comp` (made by ana).
    review: i64,
    movie: PathBuf,
    /// robot MOD v001: RGBA PNG frames (published by boss).
    robot: i64,
}

fn passwd(p: &Project, name: &str) {
    p.cmd("boss")
        .args(["user", "passwd", name])
        .write_stdin(format!("{name}-password\n"))
        .assert()
        .success();
}

/// A 64×36 project with users boss (admin), lead1 (lead) and ana (standard), a published comp
/// of SH010 with a review movie, and asset `robot` (group chars) with an alpha version.
fn studio() -> Studio {
    let p = Project {
        dir: tempfile::tempdir().unwrap(),
    };
    p.ok(
        "boss",
        &[
            "init", "--code", "DEMO", "--width", "64", "--height", "36", "--fps", "24",
        ],
    );
    p.ok("boss", &["step", "add", "COMP", "--kind", "shot"]);
    p.ok("boss", &["step", "add", "MOD", "--kind", "asset"]);
    p.ok(
        "boss",
        &["shot", "add", "SH010", "--in", "1001", "--out", "1005"],
    );
    p.ok("boss", &["asset", "add", "robot", "--group", "chars"]);
    p.ok("boss", &["asset", "add", "tree", "--group", "props"]);
    p.ok("boss", &["db", "user", "set", "lead1", "--role", "lead"]);
    p.ok("boss", &["db", "user", "set", "ana", "--role", "standard"]);
    for u in ["boss", "lead1", "ana"] {
        passwd(&p, u);
    }
    let dir = p.frames("comp", 1001..=1005);
    std::fs::remove_file(dir.join("comp.1003.exr")).unwrap();
    let pat = dir.join("comp.####.exr");
    let v = p.json(
        "ana",
        &[
            "publish",
            "--shot",
            "SH010",
            "--step",
            "COMP",
            pat.to_str().unwrap(),
            "--force",
            "-m",
            "first comp",
        ],
    );
    let comp = v["version"]["id"].as_i64().unwrap();
    let r = p.json(
        "ana",
        &["review", "--version", &comp.to_string(), "--preset", "h264"],
    );
    let review = r["version"]["id"].as_i64().unwrap();
    let movie = PathBuf::from(r["output"].as_str().unwrap());
    let robot = alpha_asset(&p);
    Studio {
        p,
        comp,
        review,
        movie,
        robot,
    }
}

/// PNG frames with a transparent left half, published as robot MOD by boss.
fn alpha_asset(p: &Project) -> i64 {
    let dir = p.root().join("assets/robot/mod/v001");
    std::fs::create_dir_all(&dir).unwrap();
    let st = Command::new("ffmpeg")
        .args(["-v", "error", "-f", "lavfi", "-i"])
        .arg("testsrc2=s=64x36:r=24,format=rgba,geq=r='r(X,Y)':g='g(X,Y)':b='b(X,Y)':a='if(lt(X,32),0,255)'")
        .args(["-frames:v", "3", "-start_number", "1"])
        .arg(dir.join("robot.%04d.png"))
        .status()
        .unwrap();
    assert!(st.success());
    let pat = dir.join("robot.####.png");
    let v = p.json(
        "boss",
        &[
            "publish",
            "--asset",
            "robot",
            "--step",
            "MOD",
            pat.to_str().unwrap(),
            "--force",
        ],
    );
    v["version"]["id"].as_i64().unwrap()
}

fn get(s: &Server, b: Option<&Browser>, path: &str, extra: &[(&str, &str)]) -> Resp {
    let mut h: Vec<(&str, &str)> = extra.to_vec();
    if let Some(b) = b {
        h.push(("Cookie", &b.cookie));
    }
    http(&s.addr, "GET", path, &h, None)
}

/// A mutation from a browser session, with its CSRF token unless `csrf` is false.
fn send(s: &Server, b: &Browser, method: &str, path: &str, body: Value, csrf: bool) -> Resp {
    let mut h = vec![("Cookie", b.cookie.as_str())];
    if csrf {
        h.push(("X-CSRF-Token", b.csrf.as_str()));
    }
    http(&s.addr, method, path, &h, Some(&body))
}

fn tools() -> Option<Vec<PathBuf>> {
    shotline_testkit::require_tools(&["ffmpeg", "ffprobe"])
}

fn tags_in_store(p: &Project, id: i64) -> Value {
    p.json("boss", &["versions", "show", &id.to_string()])["tags"].clone()
}

#[test]
fn media_is_found_through_the_store_streamed_with_ranges_and_needs_a_login() {
    if tools().is_none() {
        return;
    }
    let st = studio();
    let s = serve(st.p.root());
    let thumb = format!("/api/v1/versions/{}/thumbnail", st.review);
    let movie = format!("/api/v1/versions/{}/review", st.comp);
    for path in [&thumb, &movie] {
        assert_eq!(get(&s, None, path, &[]).status, 401, "{path}");
    }
    let b = login(&s, "ana");

    // The review's thumbnail is the JPEG `shotline review` wrote; the comp shows it too.
    let r = get(&s, Some(&b), &thumb, &[]);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("image/jpeg"));
    assert_eq!(
        r.body,
        std::fs::read(st.movie.with_extension("jpg")).unwrap()
    );
    let etag = r.header("etag").unwrap().to_string();
    assert!(r.header("last-modified").unwrap().ends_with(" GMT"));
    let again = get(&s, Some(&b), &thumb, &[("If-None-Match", &etag)]);
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    let comp_thumb = get(
        &s,
        Some(&b),
        &format!("/api/v1/versions/{}/thumbnail", st.comp),
        &[],
    );
    assert_eq!(comp_thumb.body, r.body);
    // The alpha asset's thumbnail is its middle PNG frame.
    let png = get(
        &s,
        Some(&b),
        &format!("/api/v1/versions/{}/thumbnail", st.robot),
        &[],
    );
    assert_eq!(png.header("content-type"), Some("image/png"));
    assert_eq!(
        png.body,
        std::fs::read(st.p.root().join("assets/robot/mod/v001/robot.0002.png")).unwrap()
    );

    // The movie of the comp (its review version), whole and in ranges.
    let bytes = std::fs::read(&st.movie).unwrap();
    let len = bytes.len();
    let whole = get(&s, Some(&b), &movie, &[]);
    assert_eq!(whole.status, 200);
    assert_eq!(whole.header("content-type"), Some("video/mp4"));
    assert_eq!(whole.header("accept-ranges"), Some("bytes"));
    assert_eq!(whole.body, bytes);
    let part = get(&s, Some(&b), &movie, &[("Range", "bytes=10-99")]);
    assert_eq!(part.status, 206);
    assert_eq!(
        part.header("content-range"),
        Some(format!("bytes 10-99/{len}").as_str())
    );
    assert_eq!(part.body, bytes[10..100]);
    let tail = get(&s, Some(&b), &movie, &[("Range", "bytes=-16")]);
    assert_eq!(tail.status, 206);
    assert_eq!(tail.body, bytes[len - 16..]);
    let past = get(&s, Some(&b), &movie, &[("Range", &format!("bytes={len}-"))]);
    assert_eq!(past.status, 416);
    assert_eq!(
        past.header("content-range"),
        Some(format!("bytes */{len}").as_str())
    );
    // A stale If-Range gets the whole (new) file, not a piece of it.
    let stale = get(
        &s,
        Some(&b),
        &movie,
        &[("Range", "bytes=0-9"), ("If-Range", "\"old\"")],
    );
    assert_eq!(stale.status, 200);
    // No review of the asset; unknown version.
    let none = format!("/api/v1/versions/{}/review", st.robot);
    assert_eq!(get(&s, Some(&b), &none, &[]).status, 404);
    assert_eq!(
        get(&s, Some(&b), "/api/v1/versions/999/thumbnail", &[]).status,
        404
    );
}

#[test]
fn media_that_resolves_outside_the_project_is_refused() {
    if tools().is_none() {
        return;
    }
    let st = studio();
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("secret.jpg");
    std::fs::write(&secret, b"not for the web").unwrap();
    let jpeg = st.movie.with_extension("jpg");
    std::fs::remove_file(&jpeg).unwrap();
    std::os::unix::fs::symlink(&secret, &jpeg).unwrap();
    let s = serve(st.p.root());
    let b = login(&s, "ana");
    let r = get(
        &s,
        Some(&b),
        &format!("/api/v1/versions/{}/thumbnail", st.review),
        &[],
    );
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(
        r.text().contains("outside the project root"),
        "{}",
        r.text()
    );
    assert!(!r.text().contains("not for the web"));
}

#[test]
fn shot_history_comments_tags_and_ratings_check_csrf_and_roles() {
    if tools().is_none() {
        return;
    }
    let st = studio();
    let s = serve(st.p.root());
    for path in [
        "/api/v1/shots/SH010/history",
        "/api/v1/assets",
        "/api/v1/ingest/reports",
    ] {
        assert_eq!(get(&s, None, path, &[]).status, 401, "{path}");
    }
    let ana = login(&s, "ana");
    let lead = login(&s, "lead1");

    let h = get(&s, Some(&ana), "/api/v1/shots/SH010/history", &[]).json();
    let comp = &h["steps"][0];
    assert_eq!(comp["step"], "COMP");
    let versions = comp["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 2, "{h}");
    assert_eq!(versions[0]["id"], st.comp);
    assert_eq!(versions[0]["files"]["missing_frames"], "1003");
    assert_eq!(versions[0]["used_by"], json!([st.review]));
    assert_eq!(versions[0]["review"], st.review);
    assert_eq!(versions[1]["uses"], json!([st.comp]));
    assert!(h["audit"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["action"] == "version.publish"));
    assert_eq!(
        get(&s, Some(&ana), "/api/v1/shots/SH999/history", &[]).status,
        404
    );

    // Comments: CSRF, then stored as a status note in the audit trail.
    let comment = json!({"step": "COMP", "text": "edge flicker at 1004"});
    let path = "/api/v1/shots/SH010/comments";
    assert_eq!(
        send(&s, &ana, "POST", path, comment.clone(), false).status,
        403
    );
    let r = send(&s, &ana, "POST", path, comment, true);
    assert_eq!(r.status, 200, "{}", r.text());
    let empty = send(
        &s,
        &ana,
        "POST",
        path,
        json!({"step": "COMP", "text": " "}),
        true,
    );
    assert_eq!(empty.status, 400);
    let h = get(&s, Some(&ana), "/api/v1/shots/SH010/history", &[]).json();
    assert_eq!(h["comments"][0]["text"], "edge flicker at 1004");
    assert_eq!(h["comments"][0]["user"], "ana");

    // Tags: CSRF; a standard user may not tag boss's version, a lead may.
    let tags = format!("/api/v1/versions/{}/tags", st.robot);
    let add = json!({"add": ["hero"]});
    assert_eq!(
        send(&s, &lead, "PUT", &tags, add.clone(), false).status,
        403
    );
    let r = send(&s, &ana, "PUT", &tags, add.clone(), true);
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(r.text().contains("lead"), "{}", r.text());
    assert_eq!(tags_in_store(&st.p, st.robot), json!([]));
    let r = send(&s, &lead, "PUT", &tags, add, true);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["tags"], json!(["hero"]));
    assert_eq!(tags_in_store(&st.p, st.robot), json!(["hero"]));
    let bad = send(&s, &lead, "PUT", &tags, json!({"add": ["no spaces"]}), true);
    assert_eq!(bad.status, 400);

    // Ratings: anyone rates for themselves, 1 to 5.
    let rating = format!("/api/v1/versions/{}/rating", st.robot);
    assert_eq!(
        send(&s, &ana, "PUT", &rating, json!({"rating": 4}), false).status,
        403
    );
    assert_eq!(
        send(&s, &ana, "PUT", &rating, json!({"rating": 9}), true).status,
        400
    );
    assert_eq!(
        send(&s, &ana, "PUT", &rating, json!({"rating": 4}), true).status,
        200
    );
    let r = send(&s, &lead, "PUT", &rating, json!({"rating": 2}), true);
    assert_eq!(r.json()["rating"]["average"], 3.0);
    assert_eq!(r.json()["rating"]["mine"], 2);

    // The library: groups as folders, the robot's version with its tag and ratings.
    let lib = get(&s, Some(&ana), "/api/v1/assets?group=chars", &[]).json();
    assert_eq!(
        lib["groups"],
        json!([{"code": "chars", "count": 1}, {"code": "props", "count": 1}])
    );
    let robot = &lib["assets"][0];
    assert_eq!(robot["code"], "robot");
    assert_eq!(robot["versions"][0]["tags"], json!(["hero"]));
    assert_eq!(robot["versions"][0]["rating"]["count"], 2);
    assert_eq!(robot["versions"][0]["rating"]["mine"], 4);
    assert_eq!(
        lib["assets"].as_array().unwrap().len(),
        1,
        "only the chars group"
    );
}

/// A real `shotline ingest` of EXR plates into a project: its saved report is listed and served
/// as saved, the version's thumbnail is the PNG ingest wrote, and ids that are not a report's
/// name (a symlink out of the folder, a path) are 404.
#[test]
fn ingest_reports_are_listed_from_the_project_and_ids_never_reach_the_disk() {
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path().join("p");
    support::project_with_shot(&project);
    let delivery = tmp.path().join("delivery");
    support::exr_seq(&delivery, "SQ010_SH020_plate_v003.", 1001..=1003, 5);
    let (code, r) = support::json(&project, &["ingest", "--json", delivery.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{r:#}");
    let saved = PathBuf::from(r["saved"][0].as_str().unwrap());
    let id = saved.file_stem().unwrap().to_str().unwrap().to_string();
    let reports = saved.parent().unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("leak.json"), "{\"secret\": 1}").unwrap();
    std::os::unix::fs::symlink(outside.path().join("leak.json"), reports.join("leak.json"))
        .unwrap();
    support::shotline(&project)
        .args(["user", "passwd", support::USER])
        .write_stdin(format!("{}-password\n", support::USER))
        .assert()
        .success();
    let s = serve(&project);
    let b = login(&s, support::USER);
    let list = get(&s, Some(&b), "/api/v1/ingest/reports", &[]).json();
    assert_eq!(list["reports"].as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list["reports"][0]["id"], id.as_str());
    assert_eq!(list["reports"][0]["totals"]["ingested"], 1);
    assert_eq!(list["reports"][0]["versions_created"], 1);
    let one = get(&s, Some(&b), &format!("/api/v1/ingest/reports/{id}"), &[]).json();
    let on_disk: Value = serde_json::from_slice(&std::fs::read(&saved).unwrap()).unwrap();
    assert_eq!(one["report"], on_disk);
    for bad in ["leak", "..%2F..%2Fshotline.yaml", "%2E%2E", "nope"] {
        let r = get(&s, Some(&b), &format!("/api/v1/ingest/reports/{bad}"), &[]);
        assert_eq!(r.status, 404, "{bad}: {}", r.text());
    }
    // The ingested version's thumbnail is the PNG ingest wrote into its folder.
    let dir = PathBuf::from(r["versions_created"][0]["dir"].as_str().unwrap());
    let versions = support::json_lines(&support::ok(&project, &["versions", "ls", "--json"]));
    let vid = versions[0]["id"].as_i64().unwrap();
    let png = get(
        &s,
        Some(&b),
        &format!("/api/v1/versions/{vid}/thumbnail"),
        &[],
    );
    assert_eq!(png.status, 200, "{}", png.text());
    assert_eq!(png.header("content-type"), Some("image/png"));
    assert_eq!(png.body, std::fs::read(dir.join("_thumbnail.png")).unwrap());
}

/// Polls the CLI until `f` holds (the browser's write lands asynchronously).
fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    for _ in 0..300 {
        if f() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("{what} never happened");
}

fn screenshot(driver: &WebDriver, name: &str) {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    driver.screenshot(&path);
    assert!(std::fs::metadata(&path).unwrap().len() > 1000);
}

/// The shot page and the asset library in a real headless Chromium: log in, open the shot,
/// see its thumbnail and the review movie load, then tag and rate the robot in the library and
/// read both back through the CLI.
#[test]
fn shot_page_and_asset_library_in_headless_chromium() {
    let Some(browser) = shotline_testkit::require_tools(&["chromium", "chromedriver"]) else {
        return;
    };
    if tools().is_none() {
        return;
    }
    let st = studio();
    let s = serve(st.p.root());
    let driver = WebDriver::start(&browser[1], &browser[0], st.p.root());
    driver.go(&format!("http://{}/", s.addr));
    driver.type_into("#login-user", "lead1");
    driver.type_into("#login-password", "lead1-password");
    driver.click("#login-submit");
    driver.wait_for("#who");
    driver.go(&format!("http://{}/#/shot/SH010", s.addr));
    driver.wait_for(&format!("#version-{}", st.comp));
    driver.wait_until(
        "the comp's thumbnail to load",
        &format!(
            "const i = document.querySelector('#version-{} img'); \
             return !!i && i.complete && i.naturalWidth > 0;",
            st.comp
        ),
    );
    driver.wait_until(
        "the review movie's metadata to load",
        "const v = document.getElementById('shot-movie'); return !!v && v.readyState >= 1;",
    );
    let src = driver.execute(
        "return document.getElementById('shot-movie').currentSrc;",
        json!([]),
    );
    assert!(
        src.as_str()
            .unwrap()
            .ends_with(&format!("/api/v1/versions/{}/review", st.review)),
        "{src}"
    );
    screenshot(&driver, "dashboard-shot.png");
    // Approval from the shot page, as a lead: the store's rule passes and the page redraws.
    driver.click("#shot-status-COMP option[value='APPROVED']");
    driver.type_into("#shot-status-comment-COMP", "approved in dailies");
    driver.click("#shot-status-set-COMP");
    eventually("the approval in the store", || {
        st.p.lines("boss", &["status", "ls", "SH010"])
            .first()
            .is_some_and(|r| r["state"] == "APPROVED")
    });
    driver.wait_until(
        "the approval comment on the page",
        "const c = document.getElementById('shot-comments'); \
         return !!c && c.textContent.includes('approved in dailies');",
    );

    driver.click("nav a[href='#/assets']");
    let input = format!("#tag-input-{}", st.robot);
    // Enter in the field submits, as the keyboard user expects.
    driver.type_into(&input, "hero\u{E007}");
    driver.wait_until(
        "the tag to show",
        &format!(
            "return document.getElementById('tags-{}').textContent.includes('hero');",
            st.robot
        ),
    );
    driver.click(&format!("#rate-{}-4", st.robot));
    driver.wait_until(
        "the rating to show",
        &format!(
            "return document.getElementById('rating-{}').textContent.startsWith('4.0');",
            st.robot
        ),
    );
    driver.wait_until(
        "the alpha thumbnail to load",
        &format!(
            "const i = document.querySelector('#tile-{} img'); \
             return !!i && i.complete && i.naturalWidth > 0;",
            st.robot
        ),
    );
    screenshot(&driver, "dashboard-assets.png");
    eventually("the tag in the store", || {
        tags_in_store(&st.p, st.robot) == json!(["hero"])
    });
    let rated = st.p.lines("boss", &["log", "--action", "version.rate"]);
    assert_eq!(rated.len(), 1, "{rated:?}");
    assert_eq!(rated[0]["user"], "lead1");
    assert_eq!(rated[0]["details"]["rating"], 4);
}
