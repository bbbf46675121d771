//! `shotline serve` end to end: the real binary on a project in a temp dir, spoken to over
//! loopback HTTP with a minimal client (auth, roles, CSRF, tokens, rate limit, concurrent writes,
//! live events, graceful shutdown).

mod track_support;
#[path = "dashboard_support/webdriver.rs"]
mod webdriver;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};
use track_support::Project;
use webdriver::{http, Resp, Server, WebDriver};

/// A project with users boss (admin, the creator), lead1 (lead) and ana (standard), each with
/// a password, and shots SH010..SH100.
fn project() -> Project {
    with_users_and_shots(Project::new())
}

/// [`project`] on `p` (a SQLite or a PostgreSQL project).
fn with_users_and_shots(p: Project) -> Project {
    for i in 2..=10 {
        p.ok(
            "boss",
            &["shot", "add", &shot_code(i), "--in", "1", "--out", "10"],
        );
    }
    p.ok("boss", &["db", "user", "set", "lead1", "--role", "lead"]);
    p.ok("boss", &["db", "user", "set", "ana", "--role", "standard"]);
    for u in ["boss", "lead1", "ana"] {
        passwd(&p, "boss", u, &format!("{u}-password")).success();
    }
    p
}

/// SH010, SH020, ... SH100.
fn shot_code(i: usize) -> String {
    format!("SH{:03}", i * 10)
}

fn passwd(p: &Project, actor: &str, name: &str, pw: &str) -> assert_cmd::assert::Assert {
    p.cmd(actor)
        .args(["user", "passwd", name])
        .write_stdin(format!("{pw}\n"))
        .assert()
}

fn serve(p: &Project) -> Server {
    serve_with(p, &[])
}

fn serve_with(p: &Project, extra: &[&str]) -> Server {
    match p.pg() {
        Some(url) => webdriver::serve_with_args(
            p.root(),
            &[("SHOTLINE_DB", std::ffi::OsStr::new(&url))],
            extra,
        ),
        None => webdriver::serve_with_args(p.root(), &[], extra),
    }
}

fn request(
    s: &Server,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> Resp {
    http(&s.addr, method, path, headers, body)
}

/// A logged-in browser: its cookie and CSRF token.
struct Browser {
    cookie: String,
    csrf: String,
}

fn login(s: &Server, user: &str) -> Browser {
    let r = request(
        s,
        "POST",
        "/api/v1/login",
        &[],
        Some(&json!({"user": user, "password": format!("{user}-password")})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let set = r.header("set-cookie").unwrap().to_string();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    Browser {
        cookie: set.split(';').next().unwrap().to_string(),
        csrf: r.json()["csrf"].as_str().unwrap().to_string(),
    }
}

fn set_state(s: &Server, b: &Browser, shot: &str, state: &str) -> Resp {
    request(
        s,
        "PUT",
        &format!("/api/v1/shots/{shot}/steps/COMP/status"),
        &[("Cookie", &b.cookie), ("X-CSRF-Token", &b.csrf)],
        Some(&json!({"state": state, "comment": "from the web"})),
    )
}

fn cell(s: &Server, b: &Browser, shot: &str) -> Value {
    let grid = request(s, "GET", "/api/v1/shots", &[("Cookie", &b.cookie)], None).json();
    grid["shots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == shot)
        .unwrap()["steps"]["COMP"]
        .clone()
}

#[test]
fn nothing_is_served_anonymously_and_logins_are_checked_and_limited() {
    let p = project();
    let s = serve(&p);
    for path in [
        "/api/v1/shots",
        "/api/v1/shots/SH010",
        "/api/v1/render/jobs",
        "/api/v1/events",
    ] {
        assert_eq!(request(&s, "GET", path, &[], None).status, 401, "{path}");
    }
    let put = request(
        &s,
        "PUT",
        "/api/v1/shots/SH010/steps/COMP/status",
        &[],
        Some(&json!({"state": "WIP"})),
    );
    assert_eq!(put.status, 401);
    let forged = request(
        &s,
        "GET",
        "/api/v1/shots",
        &[("Cookie", "shotline_session=abc")],
        None,
    );
    assert_eq!(forged.status, 401);
    // The dashboard and the API description are public; every response has the headers.
    let index = request(&s, "GET", "/", &[], None);
    assert_eq!(index.status, 200);
    assert!(index.text().contains("shotline"));
    assert_eq!(index.header("x-frame-options"), Some("DENY"));
    let api = request(&s, "GET", "/api/v1/openapi.json", &[], None).json();
    assert!(api["paths"]["/shots"].is_object());
    // Logout ends the session.
    let b = login(&s, "lead1");
    let out = request(
        &s,
        "POST",
        "/api/v1/logout",
        &[("Cookie", &b.cookie), ("X-CSRF-Token", &b.csrf)],
        None,
    );
    assert_eq!(out.status, 204);
    assert_eq!(
        request(&s, "GET", "/api/v1/shots", &[("Cookie", &b.cookie)], None).status,
        401
    );
    // Wrong passwords are refused, then the name is locked out for a while (429), even with
    // the right password.
    for _ in 0..5 {
        let r = request(
            &s,
            "POST",
            "/api/v1/login",
            &[],
            Some(&json!({"user": "ana", "password": "nope-nope"})),
        );
        assert_eq!(r.status, 401, "{}", r.text());
        assert!(r.header("set-cookie").is_none());
    }
    let r = request(
        &s,
        "POST",
        "/api/v1/login",
        &[],
        Some(&json!({"user": "ana", "password": "ana-password"})),
    );
    assert_eq!(r.status, 429, "{}", r.text());
    // ... and so is this address for other names until the window passes.
    let r = request(
        &s,
        "POST",
        "/api/v1/login",
        &[],
        Some(&json!({"user": "lead1", "password": "lead1-password"})),
    );
    assert_eq!(r.status, 429, "{}", r.text());
}

#[test]
fn status_changes_need_csrf_and_the_stores_role_rules() {
    let p = project();
    let s = serve(&p);
    let ana = login(&s, "ana");
    // No or a wrong CSRF token: refused, nothing written.
    for token in ["", "0000"] {
        let r = request(
            &s,
            "PUT",
            "/api/v1/shots/SH010/steps/COMP/status",
            &[("Cookie", &ana.cookie), ("X-CSRF-Token", token)],
            Some(&json!({"state": "WIP"})),
        );
        assert_eq!(r.status, 403, "{}", r.text());
    }
    assert_eq!(cell(&s, &ana, "SH010")["state"], "TODO");
    // An artist may set WIP, not APPROVED (a decision needs a lead).
    assert_eq!(set_state(&s, &ana, "SH010", "WIP").status, 200);
    let r = set_state(&s, &ana, "SH010", "APPROVED");
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("lead"),
        "{}",
        r.text()
    );
    let lead = login(&s, "lead1");
    let r = set_state(&s, &lead, "SH010", "APPROVED");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["status"]["updated_by"], "lead1");
    // The grid may be reused for as long as it took to build: poll.
    eventually(|| (cell(&s, &ana, "SH010")["state"] == "APPROVED").then_some(()));
    // A change made against the state a page showed (WIP) after someone else decided: 409,
    // naming what it is now; nothing written.
    let r = request(
        &s,
        "PUT",
        "/api/v1/shots/SH010/steps/COMP/status",
        &[("Cookie", &lead.cookie), ("X-CSRF-Token", &lead.csrf)],
        Some(&json!({"state": "RETAKE", "if_state": "WIP"})),
    );
    assert_eq!(r.status, 409, "{}", r.text());
    assert!(
        r.text().contains("is APPROVED (set by lead1"),
        "{}",
        r.text()
    );
    assert_eq!(cell(&s, &ana, "SH010")["state"], "APPROVED");
    // Bad input is a 400 naming the value; unknown shots a 404.
    let r = set_state(&s, &lead, "SH010", "DONE");
    assert_eq!(r.status, 400);
    assert!(r.text().contains("DONE"), "{}", r.text());
    assert_eq!(set_state(&s, &lead, "NOPE", "WIP").status, 404);
    // The audit trail names the web user.
    let log = p.lines("boss", &["log"]);
    assert!(log
        .iter()
        .any(|e| e["action"] == "status.set" && e["user"] == "lead1"));
    // The shot page has the statuses and the trail.
    let d = request(
        &s,
        "GET",
        "/api/v1/shots/SH010",
        &[("Cookie", &ana.cookie)],
        None,
    )
    .json();
    assert_eq!(d["statuses"][0]["state"], "APPROVED");
    assert!(d["audit"].as_array().unwrap().len() >= 2);
}

#[test]
fn api_tokens_work_without_csrf_and_credentials_are_guarded() {
    let p = project();
    // Artists cannot set someone else's password; passwords never come from argv.
    passwd(&p, "ana", "boss", "hijacked-pw").code(2);
    passwd(&p, "boss", "ana", "short").code(2);
    passwd(&p, "boss", "ghost", "ghost-password").code(2);
    p.cmd("boss")
        .args(["user", "passwd", "ana", "pw-on-argv"])
        .assert()
        .code(2);
    let t = p.json("ana", &["user", "token", "ana", "--label", "script"]);
    let token = t["token"].as_str().unwrap();
    assert!(token.starts_with("slt_"));
    let db = std::fs::read(p.db()).unwrap();
    assert!(
        !String::from_utf8_lossy(&db).contains(token),
        "token stored in clear"
    );
    let s = serve(&p);
    let auth = format!("Bearer {token}");
    let r = request(
        &s,
        "PUT",
        "/api/v1/shots/SH020/steps/COMP/status",
        &[("Authorization", &auth)],
        Some(&json!({"state": "REVIEW"})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["status"]["updated_by"], "ana");
    let me = request(
        &s,
        "GET",
        "/api/v1/session",
        &[("Authorization", &auth)],
        None,
    )
    .json();
    assert_eq!(me["user"], "ana");
    assert_eq!(me["role"], "standard");
    let bad = request(
        &s,
        "GET",
        "/api/v1/shots",
        &[("Authorization", "Bearer slt_nope")],
        None,
    );
    assert_eq!(bad.status, 401);
}

/// On SQLite and, with a test server, on PostgreSQL (the store's writer lock there).
#[test]
fn concurrent_writers_lose_nothing() {
    for p in Project::on_both() {
        concurrent_writers_lose_nothing_on(&with_users_and_shots(p));
    }
}

fn concurrent_writers_lose_nothing_on(p: &Project) {
    let s = serve(p);
    let lead = login(&s, "lead1");
    let shots: Vec<String> = (1..=10).map(shot_code).collect();
    std::thread::scope(|sc| {
        for (i, shot) in shots.iter().enumerate() {
            let (s, lead) = (&s, &lead);
            sc.spawn(move || {
                for round in 0..3 {
                    let r = request(
                        s,
                        "PUT",
                        &format!("/api/v1/shots/{shot}/steps/COMP/status"),
                        &[("Cookie", &lead.cookie), ("X-CSRF-Token", &lead.csrf)],
                        Some(&json!({"state": "WIP", "completion": i * 10 + round})),
                    );
                    assert_eq!(r.status, 200, "{}", r.text());
                }
            });
        }
    });
    for (i, shot) in shots.iter().enumerate() {
        eventually(|| (cell(&s, &lead, shot)["completion"] == i * 10 + 2).then_some(()));
    }
    let log = p.lines("boss", &["log", "--action", "status."]);
    assert_eq!(log.len(), 30);
}

#[test]
fn events_stream_status_changes_and_shutdown_is_graceful() {
    let p = project();
    let mut s = serve(&p);
    let lead = login(&s, "lead1");
    let mut stream = TcpStream::connect(&s.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "GET /api/v1/events HTTP/1.1\r\nHost: {}\r\nCookie: {}\r\nAccept: text/event-stream\r\n\r\n",
        s.addr, lead.cookie
    )
    .unwrap();
    let mut reader = BufReader::new(stream);
    let mut seen = String::new();
    // The first render snapshot shows the stream is live; then a change arrives as `status`.
    while !seen.contains("event: render") {
        let mut l = String::new();
        assert!(
            reader.read_line(&mut l).unwrap() > 0,
            "stream ended: {seen}"
        );
        seen.push_str(&l);
    }
    assert!(seen.starts_with("HTTP/1.1 200"), "{seen}");
    assert_eq!(set_state(&s, &lead, "SH030", "REVIEW").status, 200);
    let mut l = String::new();
    loop {
        l.clear();
        assert!(
            reader.read_line(&mut l).unwrap() > 0,
            "stream ended: {seen}"
        );
        seen.push_str(&l);
        if l.starts_with("data:") && l.contains("SH030 COMP") {
            break;
        }
    }
    assert!(seen.contains("event: status"), "{seen}");
    // SIGTERM with the stream still open: the server closes it and exits cleanly.
    nix_kill(&s.child, "TERM");
    let status = s.child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    let mut rest = String::new();
    let _ = reader.read_to_string(&mut rest);
}

/// Opens `/api/v1/events` with these headers and waits for the first render snapshot (the
/// stream is live). `Connection: close`, so a stream the server ends reads as end of file.
fn open_events(s: &Server, headers: &[(&str, &str)]) -> BufReader<TcpStream> {
    let mut stream = TcpStream::connect(&s.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut req = format!(
        "GET /api/v1/events HTTP/1.1\r\nHost: {}\r\nAccept: text/event-stream\r\nConnection: close\r\n",
        s.addr
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    stream.write_all(req.as_bytes()).unwrap();
    let mut reader = BufReader::new(stream);
    let mut seen = String::new();
    while !seen.contains("event: render") {
        let mut l = String::new();
        assert!(
            reader.read_line(&mut l).unwrap() > 0,
            "stream ended: {seen}"
        );
        seen.push_str(&l);
    }
    assert!(seen.starts_with("HTTP/1.1 200"), "{seen}");
    reader
}

/// Reads until the server ends the stream (the last chunk, or the connection closing); a
/// stream still open after a minute (keep-alive comments arrive every 15 s) fails the test.
fn wait_stream_end(reader: &mut BufReader<TcpStream>) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        assert!(
            std::time::Instant::now() < deadline,
            "the event stream stayed open"
        );
        let mut l = String::new();
        let n = reader
            .read_line(&mut l)
            .unwrap_or_else(|e| panic!("the event stream stayed open: {e}"));
        if n == 0 || l == "0\r\n" {
            return;
        }
    }
}

fn shots_status(s: &Server, b: &Browser) -> u16 {
    request(s, "GET", "/api/v1/shots", &[("Cookie", &b.cookie)], None).status
}

#[test]
fn sessions_survive_a_restart_and_end_on_logout_and_password_change() {
    let p = project();
    let s = serve_with(&p, &["--session-idle-mins", "30"]);
    let first = login(&s, "ana");
    let second = login(&s, "ana");
    let lead = login(&s, "lead1");
    drop(s);
    // A restarted server knows every session; the database holds only their hashes.
    let s = serve(&p);
    for b in [&first, &second, &lead] {
        assert_eq!(shots_status(&s, b), 200);
    }
    let secret = first.cookie.split_once('=').unwrap().1.to_string();
    let bytes = track_support::db_bytes(&p.db());
    assert!(
        !String::from_utf8_lossy(&bytes).contains(&secret),
        "session token stored in clear"
    );
    // Logging out ends this session and its event stream, not the user's other session.
    let mut stream = open_events(&s, &[("Cookie", &first.cookie)]);
    let out = request(
        &s,
        "POST",
        "/api/v1/logout",
        &[("Cookie", &first.cookie), ("X-CSRF-Token", &first.csrf)],
        None,
    );
    assert_eq!(out.status, 204);
    wait_stream_end(&mut stream);
    assert_eq!(shots_status(&s, &first), 401);
    assert_eq!(shots_status(&s, &second), 200);
    // A password change, from the command line while the server runs, ends all of ana's
    // sessions and streams at once; lead1 stays logged in.
    let mut stream = open_events(&s, &[("Cookie", &second.cookie)]);
    let out = p
        .cmd("boss")
        .args(["user", "passwd", "ana", "--json"])
        .write_stdin("ana-password-2\n")
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["sessions_ended"], 1);
    wait_stream_end(&mut stream);
    assert_eq!(shots_status(&s, &second), 401);
    assert_eq!(shots_status(&s, &lead), 200);
    // The cookie lives as long as the idle limit the server was given.
    let s = serve_with(&p, &["--session-idle-mins", "1"]);
    let r = request(
        &s,
        "POST",
        "/api/v1/login",
        &[],
        Some(&json!({"user": "lead1", "password": "lead1-password"})),
    );
    assert!(
        r.header("set-cookie").unwrap().contains("Max-Age=60"),
        "{:?}",
        r.headers
    );
    p.fails("boss", &["serve", "--session-idle-mins", "0"], 2);
}

#[test]
fn api_tokens_are_listed_and_revoked_at_once() {
    let p = project();
    let t = p.json("ana", &["user", "token", "ana", "--label", "script"]);
    let id = t["id"].as_i64().unwrap().to_string();
    let token = t["token"].as_str().unwrap().to_string();
    let ls = p.json("ana", &["user", "token", "ls", "ana"]);
    assert_eq!(ls.as_array().unwrap().len(), 1, "{ls}");
    assert_eq!(ls[0]["label"], "script");
    assert!(ls[0].get("token").is_none() && !ls.to_string().contains(&token));
    // A lead is not a project_admin: neither listing nor revoking someone else's tokens.
    let err = p.fails("lead1", &["user", "token", "ls", "ana"], 2);
    assert!(err.contains("project_admin"), "{err}");
    p.fails("lead1", &["user", "token", "revoke", &id], 2);
    p.fails("ana", &["user", "token", "revoke", "9999"], 2);
    let s = serve(&p);
    let auth = format!("Bearer {token}");
    assert_eq!(
        request(
            &s,
            "GET",
            "/api/v1/shots",
            &[("Authorization", &auth)],
            None
        )
        .status,
        200
    );
    let mut stream = open_events(&s, &[("Authorization", &auth)]);
    let out = p.json("ana", &["user", "token", "revoke", &id]);
    assert_eq!(out["revoked"]["user"], "ana");
    let r = request(
        &s,
        "GET",
        "/api/v1/shots",
        &[("Authorization", &auth)],
        None,
    );
    assert_eq!(r.status, 401);
    assert!(r.text().contains("revoked"), "{}", r.text());
    wait_stream_end(&mut stream);
    assert_eq!(p.json("boss", &["user", "token", "ls", "ana"]), json!([]));
}

fn grid(s: &Server, b: &Browser, query: &str) -> Value {
    let r = request(
        s,
        "GET",
        &format!("/api/v1/shots?{query}"),
        &[("Cookie", &b.cookie)],
        None,
    );
    assert_eq!(r.status, 200, "{query}: {}", r.text());
    r.json()
}

fn codes(v: &Value) -> Vec<String> {
    v["shots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_grid_filters_pages_and_answers_not_modified() {
    let p = project();
    p.ok("boss", &["shot", "set", "SH020", "--sequence", "SQ2"]);
    p.ok("boss", &["shot", "set", "SH030", "--sequence", "SQ2"]);
    let plate = p.frames("plate", 1..=10);
    let plate = plate.to_str().unwrap();
    let v = p.json(
        "boss",
        &[
            "publish", "--shot", "SH020", "--step", "COMP", "--tag", "hero", plate,
        ],
    );
    let s = serve(&p);
    let lead = login(&s, "lead1");
    let r = request(
        &s,
        "PUT",
        "/api/v1/shots/SH030/steps/COMP/status",
        &[("Cookie", &lead.cookie), ("X-CSRF-Token", &lead.csrf)],
        Some(&json!({"state": "WIP", "assignee": "ana"})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let all = grid(&s, &lead, "");
    assert_eq!(all["total"], 10);
    assert_eq!(all["next_cursor"], Value::Null);
    assert_eq!(all["facets"]["sequences"], json!(["SQ2"]));
    assert_eq!(all["facets"]["assignees"], json!(["ana"]));
    assert_eq!(all["facets"]["tags"], json!(["hero"]));
    let sh020 = &all["shots"][1];
    assert_eq!(sh020["tags"], json!(["hero"]));
    let latest = &sh020["steps"]["COMP"]["latest"];
    assert_eq!(latest["id"], v["version"]["id"]);
    assert_eq!(latest["has_thumbnail"], false);
    // Filters run on the server.
    assert_eq!(codes(&grid(&s, &lead, "sequence=SQ2")), ["SH020", "SH030"]);
    assert_eq!(codes(&grid(&s, &lead, "status=WIP")), ["SH030"]);
    assert_eq!(codes(&grid(&s, &lead, "assignee=ana")), ["SH030"]);
    assert_eq!(codes(&grid(&s, &lead, "tag=hero")), ["SH020"]);
    assert_eq!(codes(&grid(&s, &lead, "q=sh10")), ["SH100"]);
    assert_eq!(codes(&grid(&s, &lead, "q=sq2&status=TODO")), ["SH020"]);
    // Pages follow the cursor to the end.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = grid(&s, &lead, &format!("limit=4&cursor={cursor}"));
        assert_eq!(page["total"], 10);
        seen.extend(codes(&page));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_string(),
            None => break,
        }
    }
    assert_eq!(seen, codes(&all));
    // Bad values are a 400 naming them.
    for (q, word) in [
        ("status=DONE", "DONE"),
        ("limit=0", "limit"),
        ("colour=red", "colour"),
    ] {
        let r = request(
            &s,
            "GET",
            &format!("/api/v1/shots?{q}"),
            &[("Cookie", &lead.cookie)],
            None,
        );
        assert_eq!(r.status, 400, "{q}");
        assert!(r.text().contains(word), "{q}: {}", r.text());
    }
    // The same grid again: same ETag, and 304 when the browser has it; a change moves it.
    let get = |extra: &[(&str, &str)]| {
        let mut h = vec![("Cookie", lead.cookie.as_str())];
        h.extend_from_slice(extra);
        request(&s, "GET", "/api/v1/shots?limit=5", &h, None)
    };
    let a = get(&[]);
    let etag = a.header("etag").unwrap().to_string();
    assert_eq!(get(&[]).header("etag"), Some(etag.as_str()));
    let cached = get(&[("If-None-Match", &etag)]);
    assert_eq!(cached.status, 304);
    assert!(cached.text().is_empty());
    // Gzipped for clients that accept it.
    let gz = get(&[("Accept-Encoding", "gzip")]);
    assert_eq!(gz.header("content-encoding"), Some("gzip"));
    assert!(
        gz.text().is_empty()
            || gz
                .headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("content-length"))
    );
    // After a change the grid is rebuilt (a grid may be reused for as long as it took to
    // build, so poll), and the old tag no longer matches.
    assert_eq!(set_state(&s, &lead, "SH010", "REVIEW").status, 200);
    let fresh = eventually(|| {
        let r = get(&[("If-None-Match", &etag)]);
        (r.status == 200 && r.json()["shots"][0]["steps"]["COMP"]["state"] == "REVIEW").then_some(r)
    });
    assert_ne!(fresh.header("etag"), Some(etag.as_str()));
    // A review movie's version has a thumbnail.
    p.ok(
        "boss",
        &[
            "publish",
            "--shot",
            "SH020",
            "--step",
            "COMP",
            "--resource",
            "review",
            plate,
        ],
    );
    eventually(|| {
        let g = grid(&s, &lead, "q=SH020");
        (g["shots"][0]["steps"]["COMP"]["latest"]["has_thumbnail"] == true).then_some(())
    });
}

/// Polls `f` (every 50 ms, up to a minute) until it gives a value.
fn eventually<T>(f: impl Fn() -> Option<T>) -> T {
    for _ in 0..1200 {
        if let Some(v) = f() {
            return v;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("the condition never held");
}

/// A command job whose tasks report progress through `Rendered frame N` lines, sleeping
/// `pause` seconds between frames.
fn progress_job(p: &Project, name: &str, frames: &str, pause: &str) {
    let script = p.root().join("frames.sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\nfor f in $(seq $1 $2); do echo \"Rendered frame $f\"; sleep {pause}; done\n"),
    )
    .unwrap();
    let mut perm = std::fs::metadata(&script).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o755);
    std::fs::set_permissions(&script, perm).unwrap();
    std::fs::write(
        p.root().join(format!("{name}.yaml")),
        format!(
            "name: {name}\nframes: {frames}\nchunk: 100\nprogress: {{frame_done: '^Rendered frame'}}\ncommand: [./frames.sh, '{{start}}', '{{end}}']\n"
        ),
    )
    .unwrap();
    p.ok("boss", &["render", "submit", &format!("{name}.yaml")]);
}

#[test]
fn render_jobs_cancel_and_retry_need_a_lead_and_csrf_and_logs_come_from_the_queue() {
    let p = project();
    progress_job(&p, "quick", "1-3", "0");
    let s = serve(&p);
    let ana = login(&s, "ana");
    let lead = login(&s, "lead1");
    let post = |b: &Browser, csrf: &str, action: &str| {
        request(
            &s,
            "POST",
            &format!("/api/v1/render/jobs/1/{action}"),
            &[("Cookie", &b.cookie), ("X-CSRF-Token", csrf)],
            None,
        )
    };
    // An artist may look, not cancel; a lead needs the CSRF token.
    let r = post(&ana, &ana.csrf, "cancel");
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(r.text().contains("lead"), "{}", r.text());
    assert_eq!(post(&lead, "", "cancel").status, 403);
    assert_eq!(post(&lead, "nope", "retry").status, 403);
    let job = |b: &Browser| {
        request(
            &s,
            "GET",
            "/api/v1/render/jobs/1",
            &[("Cookie", &b.cookie)],
            None,
        )
        .json()
    };
    assert_eq!(job(&ana)["job"]["task_list"][0]["state"], "queued");
    let r = post(&lead, &lead.csrf, "cancel");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["state"], "cancelled");
    assert_eq!(job(&ana)["job"]["task_list"][0]["state"], "cancelled");
    let r = post(&lead, &lead.csrf, "retry");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["changed"], 1);
    // An API token needs no CSRF token, but the same role.
    let t = p.json("ana", &["user", "token", "ana"]);
    let auth = format!("Bearer {}", t["token"].as_str().unwrap());
    let r = request(
        &s,
        "POST",
        "/api/v1/render/jobs/1/cancel",
        &[("Authorization", &auth)],
        None,
    );
    assert_eq!(r.status, 403);
    assert_eq!(post(&lead, &lead.csrf, "nothing").status, 404);
    let r = request(
        &s,
        "POST",
        "/api/v1/render/jobs/77/cancel",
        &[("Cookie", &lead.cookie), ("X-CSRF-Token", &lead.csrf)],
        None,
    );
    assert_eq!(r.status, 404, "{}", r.text());
    // No attempt yet: an empty log. Then a worker renders it and the log is there.
    let log = |q: &str| {
        request(
            &s,
            "GET",
            &format!("/api/v1/render/jobs/1/tasks/0/log{q}"),
            &[("Cookie", &ana.cookie)],
            None,
        )
    };
    let empty = log("").json();
    assert_eq!(empty["attempt"], Value::Null);
    assert_eq!(empty["text"], "");
    p.ok("boss", &["render", "worker", "--until-idle"]);
    let l = log("").json();
    assert_eq!(l["attempt"], 1);
    assert!(
        l["text"].as_str().unwrap().contains("Rendered frame 3"),
        "{l}"
    );
    let tail = log("?tail=20").json();
    assert_eq!(tail["truncated"], true);
    assert_eq!(tail["text"], "Rendered frame 3\n");
    assert_eq!(log("?tail=0").status, 400);
    let r = request(
        &s,
        "GET",
        "/api/v1/render/jobs/1/tasks/9/log",
        &[("Cookie", &ana.cookie)],
        None,
    );
    assert_eq!(r.status, 404, "{}", r.text());
    assert_eq!(job(&ana)["job"]["state"], "done");
    // Anonymous: nothing.
    assert_eq!(
        request(&s, "GET", "/api/v1/render/jobs/1/tasks/0/log", &[], None).status,
        401
    );
    assert_eq!(
        request(&s, "POST", "/api/v1/render/jobs/1/retry", &[], None).status,
        401
    );
}

fn nix_kill(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{sig}"), &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
}

/// The dashboard in a real headless Chromium, driven over WebDriver (chromedriver's JSON
/// protocol, spoken with the same small HTTP client): log in, see the grid, change a status,
/// then watch a real render job's progress bar move on the render page and read a task log.
/// Screenshots go under the test output folder; the grid's load time is printed, not asserted.
#[test]
fn dashboard_in_headless_chromium() {
    let Some(tools) = shotline_testkit::require_tools(&["chromium", "chromedriver"]) else {
        return;
    };
    let p = project();
    progress_job(&p, "slow", "1-40", "0.25");
    let s = serve(&p);
    let driver = WebDriver::start(&tools[1], &tools[0], p.root());
    driver.go(&format!("http://{}/", s.addr));
    driver.type_into("#login-user", "lead1");
    driver.type_into("#login-password", "lead1-password");
    driver.click("#login-submit");
    driver.wait_for("#status-SH010-COMP");
    driver.wait_for("#shot-SH100");
    driver.wait_for("#shot-SH010 a[href='#/shot/SH010']");
    // The cell's state button opens the status menu.
    driver.click("button#status-SH010-COMP");
    driver.click("select#status-SH010-COMP option[value='WIP']");
    let mut state = Value::Null;
    for _ in 0..100 {
        state = p
            .lines("boss", &["status", "ls"])
            .into_iter()
            .find(|r| r["item"]["code"] == "SH010")
            .map(|r| r["state"].clone())
            .unwrap_or(Value::Null);
        if state == "WIP" {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(state, "WIP");
    let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let shot = out.join("dashboard-grid.png");
    driver.screenshot(&shot);
    assert!(std::fs::metadata(&shot).unwrap().len() > 1000);
    let ms = driver.wait_script("return document.body.dataset.gridMs || null");
    eprintln!("grid of 10 shots loaded and drawn in {ms} ms");
    // Typing in the search box asks the server for the matching shots only.
    driver.type_into("#search", "SH05");
    driver.wait_until("the search to narrow the grid", "return document.querySelectorAll('#grid tbody tr').length === 1 && !!document.getElementById('shot-SH050')");

    // The render page: the job's bar moves while a real worker renders it.
    driver.click("nav a[data-page='render']");
    driver.wait_for("#job-1 progress");
    let progress = || {
        driver
            .script("return document.querySelector('#job-1 progress').value")
            .as_f64()
            .unwrap_or(-1.0)
    };
    let before = progress();
    assert!(before < 0.05, "{before}");
    let mut worker = Command::new(assert_cmd::cargo::cargo_bin("shotline"))
        .current_dir(p.root())
        .env("SHOTLINE_USER", "boss")
        .env_remove("SHOTLINE_CONFIG")
        .env_remove("SHOTLINE_DB")
        .args(["render", "worker", "--until-idle"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first_move = None;
    let mut later = None;
    for _ in 0..600 {
        let v = progress();
        match first_move {
            None if v > before => first_move = Some(v),
            Some(f) if v > f => {
                later = Some(v);
                break;
            }
            _ => {}
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let (first, later) = (
        first_move.expect("the bar never moved"),
        later.expect("the bar moved once only"),
    );
    eprintln!("job 1 progress bar: {before} -> {first} -> {later}");
    driver.screenshot(&out.join("dashboard-render.png"));
    // Its tasks and the log, from the page.
    driver.click("#job-1 button[aria-label='job 1 tasks']");
    driver.wait_for("#task-1-0 progress");
    driver.click("#task-1-0 button");
    driver.wait_until(
        "the task log",
        "return document.getElementById('log').textContent.includes('Rendered frame')",
    );
    driver.screenshot(&out.join("dashboard-render-log.png"));
    let status = worker.wait().unwrap();
    assert!(status.success());
    driver.wait_until(
        "the bar to reach the end",
        "return document.querySelector('#job-1 progress').value === 1",
    );
}

/// A grid larger than the window threshold (1,000 rows) keeps only the rows near the viewport in
/// the page: every shot is loaded and counted, the page holds a bounded number of rows, and
/// scrolling to the end draws the last shot where the whole grid would have it.
#[test]
fn a_large_grid_draws_only_the_rows_near_the_viewport() {
    let Some(tools) = shotline_testkit::require_tools(&["chromium", "chromedriver"]) else {
        return;
    };
    let p = project();
    let mut csv = String::from("code,sequence,in,out\n");
    for i in 1..=2500 {
        csv.push_str(&format!("BG{i:05},SQ{:02},1001,1100\n", i / 100));
    }
    let file = p.root().join("many.csv");
    std::fs::write(&file, csv).unwrap();
    p.ok("boss", &["shot", "import", file.to_str().unwrap()]);
    let s = serve(&p);
    let driver = WebDriver::start(&tools[1], &tools[0], p.root());
    driver.go(&format!("http://{}/", s.addr));
    driver.type_into("#login-user", "lead1");
    driver.type_into("#login-password", "lead1-password");
    driver.click("#login-submit");
    driver.wait_until(
        "every shot loaded",
        "return document.body.dataset.gridRows === '2510';",
    );
    let drawn = |driver: &WebDriver| {
        driver
            .script("return document.querySelectorAll('#grid tbody tr:not(.spacer)').length;")
            .as_u64()
            .unwrap()
    };
    let first = drawn(&driver);
    assert!(
        (1..400).contains(&first),
        "{first} rows in the page for a 2,510-row grid"
    );
    assert_eq!(
        driver.script("return document.getElementById('grid').getAttribute('aria-rowcount');"),
        "2511"
    );
    driver.script("window.scrollTo(0, document.body.scrollHeight); return true;");
    driver.wait_until(
        "the grid's last row drawn",
        "const rows = document.querySelectorAll('#grid tbody tr:not(.spacer)');
         return rows.length > 0 && rows[rows.length - 1].getAttribute('aria-rowindex') === '2511';",
    );
    let last = drawn(&driver);
    assert!((1..400).contains(&last), "{last} rows after scrolling");
    // The last row sits at the bottom of the table, where the whole grid would put it.
    let gap = driver.script(
        "const t = document.getElementById('grid').getBoundingClientRect();
         const rows = document.querySelectorAll('#grid tbody tr:not(.spacer)');
         const r = rows[rows.length - 1].getBoundingClientRect();
         return Math.round(t.bottom - r.bottom);",
    );
    assert!(
        gap.as_i64().unwrap().abs() <= 2,
        "last row {gap} px above the table's end"
    );
    let shot = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard-large-grid.png");
    driver.screenshot(&shot);
}

/// Reads a live stream until an event `name` whose data contains `needle`; returns the data.
fn next_event(reader: &mut BufReader<TcpStream>, name: &str, needle: &str) -> String {
    let mut event = String::new();
    loop {
        let mut l = String::new();
        assert!(
            reader.read_line(&mut l).unwrap() > 0,
            "the stream ended before a {name} event with {needle:?}"
        );
        if let Some(e) = l.strip_prefix("event:") {
            event = e.trim().to_string();
        } else if let Some(data) = l.strip_prefix("data:") {
            if event == name && data.contains(needle) {
                return data.trim().to_string();
            }
        }
    }
}

/// Issue 18: `shotline serve` on a project whose tracking database is on PostgreSQL. Sessions,
/// tokens (made and revoked on the command line while it runs), the grid, a status change with
/// the store's role and `if_state` rules, a publish reaching `/api/v1/events`, and the render
/// endpoints on the same database;
/// sessions surviving a restart.
#[test]
fn serves_a_postgres_project() {
    let Some(p) = Project::new_on_postgres() else {
        return;
    };
    let p = with_users_and_shots(p);
    let mut s = serve(&p);
    for path in ["/api/v1/shots", "/api/v1/render/jobs", "/api/v1/events"] {
        assert_eq!(request(&s, "GET", path, &[], None).status, 401, "{path}");
    }
    let ana = login(&s, "ana");
    let lead = login(&s, "lead1");
    let me = request(
        &s,
        "GET",
        "/api/v1/session",
        &[("Cookie", &ana.cookie)],
        None,
    )
    .json();
    assert_eq!(
        (me["user"].as_str(), me["role"].as_str()),
        (Some("ana"), Some("standard"))
    );
    let all = grid(&s, &ana, "");
    assert_eq!(codes(&all), (1..=10).map(shot_code).collect::<Vec<_>>());
    assert_eq!(cell(&s, &ana, "SH010")["state"], "TODO");
    let mut events = open_events(&s, &[("Cookie", &lead.cookie)]);
    // The store's role rules: an artist may set WIP, a decision needs a lead.
    assert_eq!(set_state(&s, &ana, "SH010", "WIP").status, 200);
    let r = set_state(&s, &ana, "SH010", "APPROVED");
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(r.text().contains("lead"), "{}", r.text());
    let r = set_state(&s, &lead, "SH010", "APPROVED");
    assert_eq!(r.status, 200, "{}", r.text());
    next_event(&mut events, "status", "SH010 COMP");
    // A change made against a stale view: 409 naming the state now, nothing written.
    let r = request(
        &s,
        "PUT",
        "/api/v1/shots/SH010/steps/COMP/status",
        &[("Cookie", &lead.cookie), ("X-CSRF-Token", &lead.csrf)],
        Some(&json!({"state": "RETAKE", "if_state": "WIP"})),
    );
    assert_eq!(r.status, 409, "{}", r.text());
    assert!(
        r.text().contains("is APPROVED (set by lead1"),
        "{}",
        r.text()
    );
    eventually(|| (cell(&s, &ana, "SH010")["state"] == "APPROVED").then_some(()));
    // A publish from the command line reaches open streams and the grid.
    let dir = p.frames("comp", 1001..=1005);
    p.ok(
        "ana",
        &[
            "publish",
            "--shot",
            "SH010",
            "--step",
            "COMP",
            dir.to_str().unwrap(),
        ],
    );
    next_event(&mut events, "version", "SH010");
    eventually(|| (cell(&s, &ana, "SH010")["latest"]["number"] == 1).then_some(()));
    // API tokens: no CSRF; revoked on the command line, refused at once and its stream ends.
    let t = p.json("ana", &["user", "token", "ana", "--label", "script"]);
    let auth = format!("Bearer {}", t["token"].as_str().unwrap());
    let r = request(
        &s,
        "PUT",
        "/api/v1/shots/SH020/steps/COMP/status",
        &[("Authorization", &auth)],
        Some(&json!({"state": "REVIEW"})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["status"]["updated_by"], "ana");
    let mut token_stream = open_events(&s, &[("Authorization", &auth)]);
    p.json("ana", &["user", "token", "revoke", &t["id"].to_string()]);
    let r = request(
        &s,
        "GET",
        "/api/v1/shots",
        &[("Authorization", &auth)],
        None,
    );
    assert_eq!(r.status, 401, "{}", r.text());
    wait_stream_end(&mut token_stream);
    // The render queue runs on the same PostgreSQL database: its endpoints answer.
    let r = request(
        &s,
        "GET",
        "/api/v1/render/jobs",
        &[("Cookie", &lead.cookie)],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.json()["jobs"].is_array(), "{}", r.text());
    assert_eq!(shots_status(&s, &lead), 200);
    // Logout ends the session (stored on PostgreSQL), not the others.
    let out = request(
        &s,
        "POST",
        "/api/v1/logout",
        &[("Cookie", &ana.cookie), ("X-CSRF-Token", &ana.csrf)],
        None,
    );
    assert_eq!(out.status, 204);
    assert_eq!(shots_status(&s, &ana), 401);
    assert_eq!(shots_status(&s, &lead), 200);
    nix_kill(&s.child, "TERM");
    assert_eq!(s.child.wait().unwrap().code(), Some(0));
    // Sessions live in the database: a restarted server knows them.
    let s = serve(&p);
    assert_eq!(shots_status(&s, &lead), 200);
    assert_eq!(shots_status(&s, &ana), 401);
}

/// A PostgreSQL server that does not answer: `serve` stops before listening, exit 2, naming
/// the server and database (no panic, no hang).
#[test]
fn an_unreachable_postgres_server_is_a_clear_error() {
    let p = Project::new();
    let out = p
        .cmd("boss")
        .env(
            "SHOTLINE_DB",
            "postgres://shotline@127.0.0.1:1/nowhere?sslmode=disable",
        )
        .args(["serve", "--bind", "127.0.0.1:0"])
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("127.0.0.1:1/nowhere"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
