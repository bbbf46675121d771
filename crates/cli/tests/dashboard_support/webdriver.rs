//! The dashboard tests' plumbing: a `shotline serve` child, a minimal loopback HTTP/1.1 client
//! (bodies as bytes, so media can be compared), and a WebDriver client for chromedriver.
//! tests/server.rs uses the WebDriver client from here too (one client for every browser test).
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

/// A running server; killed when dropped.
pub struct Server {
    pub child: Child,
    pub addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.text()))
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// `shotline serve` on a free loopback port in `root`.
pub fn serve(root: &Path) -> Server {
    serve_with_env(root, &[])
}

/// [`serve`] with extra environment variables (a farm's `SLURM_CONF`).
pub fn serve_with_env(root: &Path, env: &[(&str, &std::ffi::OsStr)]) -> Server {
    serve_with_args(root, env, &[])
}

/// [`serve`] with extra environment variables and extra `serve` arguments. The variables are
/// set last, so `SHOTLINE_DB` serves a project whose database is on PostgreSQL.
pub fn serve_with_args(root: &Path, env: &[(&str, &std::ffi::OsStr)], extra: &[&str]) -> Server {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("shotline"))
        .current_dir(root)
        .env("SHOTLINE_USER", "boss")
        .env_remove("SHOTLINE_CONFIG")
        .env_remove("SHOTLINE_DB")
        .envs(env.iter().copied())
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--poll-ms",
            "100",
            "--json",
        ])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
    Server {
        child,
        addr: v["listening"].as_str().unwrap().to_string(),
    }
}

/// One HTTP/1.1 exchange over a fresh loopback connection.
pub fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> Resp {
    let mut conn = TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() {
        req.push_str("Content-Type: application/json\r\n");
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    conn.write_all(req.as_bytes()).unwrap();
    let mut reader = BufReader::new(conn);
    let mut head = String::new();
    loop {
        let mut l = String::new();
        if reader.read_line(&mut l).unwrap() == 0 || l == "\r\n" {
            break;
        }
        head.push_str(&l);
    }
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_string(), v.trim().to_string()))
        .collect();
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    let length = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .map(|(_, v)| v.trim().parse::<usize>().unwrap());
    let body = if chunked {
        read_chunked(&mut reader)
    } else if let Some(n) = length {
        let mut buf = vec![0; n];
        reader.read_exact(&mut buf).unwrap();
        buf
    } else if method == "HEAD" || status == 304 || status == 204 {
        Vec::new()
    } else {
        let mut rest = Vec::new();
        reader.read_to_end(&mut rest).unwrap();
        rest
    };
    Resp {
        status,
        headers,
        body,
    }
}

fn read_chunked(reader: &mut impl BufRead) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let mut size = String::new();
        reader.read_line(&mut size).unwrap();
        let n = usize::from_str_radix(size.trim().split(';').next().unwrap(), 16).unwrap();
        let mut chunk = vec![0; n + 2];
        reader.read_exact(&mut chunk).unwrap();
        chunk.truncate(n);
        out.extend_from_slice(&chunk);
        if n == 0 {
            return out;
        }
    }
}

/// A logged-in browser: its cookie and CSRF token.
pub struct Browser {
    pub cookie: String,
    pub csrf: String,
}

/// Logs `user` in with the password `<user>-password`.
pub fn login(s: &Server, user: &str) -> Browser {
    let r = http(
        &s.addr,
        "POST",
        "/api/v1/login",
        &[],
        Some(&json!({"user": user, "password": format!("{user}-password")})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let set = r.header("set-cookie").unwrap().to_string();
    Browser {
        cookie: set.split(';').next().unwrap().to_string(),
        csrf: r.json()["csrf"].as_str().unwrap().to_string(),
    }
}

/// A chromedriver process and one browser session.
pub struct WebDriver {
    child: Child,
    addr: String,
    session: String,
    _profile: tempfile::TempDir,
}

impl WebDriver {
    pub fn start(
        chromedriver: &std::path::Path,
        chromium: &std::path::Path,
        _root: &std::path::Path,
    ) -> WebDriver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let addr = format!("127.0.0.1:{port}");
        for _ in 0..200 {
            if TcpStream::connect(&addr).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let profile = tempfile::tempdir().unwrap();
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless", "--no-sandbox", "--disable-gpu",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run", "--window-size=1280,800",
                    format!("--user-data-dir={}", profile.path().display())]
            }
        }}});
        let r = http(&addr, "POST", "/session", &[], Some(&caps));
        assert_eq!(r.status, 200, "{}", r.text());
        let session = r.json()["value"]["sessionId"].as_str().unwrap().to_string();
        WebDriver {
            child,
            addr,
            session,
            _profile: profile,
        }
    }

    pub fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Resp {
        http(
            &self.addr,
            method,
            &format!("/session/{}{path}", self.session),
            &[],
            body,
        )
    }

    pub fn go(&self, url: &str) {
        let r = self.call("POST", "/url", Some(&json!({"url": url})));
        assert_eq!(r.status, 200, "{}", r.text());
    }

    pub fn find(&self, css: &str) -> Option<String> {
        let r = self.call(
            "POST",
            "/element",
            Some(&json!({"using": "css selector", "value": css})),
        );
        (r.status == 200).then(|| {
            r.json()["value"]["element-6066-11e4-a52e-4f735466cecf"]
                .as_str()
                .unwrap_or_else(|| panic!("no element id in {}", r.text()))
                .to_string()
        })
    }

    pub fn wait_for(&self, css: &str) -> String {
        for _ in 0..300 {
            if let Some(e) = self.find(css) {
                return e;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("{css} never appeared");
    }

    pub fn type_into(&self, css: &str, text: &str) {
        let e = self.wait_for(css);
        let r = self.call(
            "POST",
            &format!("/element/{e}/value"),
            Some(&json!({"text": text})),
        );
        assert_eq!(r.status, 200, "{}", r.text());
    }

    pub fn click(&self, css: &str) {
        let e = self.wait_for(css);
        let r = self.call("POST", &format!("/element/{e}/click"), Some(&json!({})));
        assert_eq!(r.status, 200, "{}", r.text());
    }

    /// Runs `script` (a function body; `arguments` are `args`) in the page; its return value.
    pub fn execute(&self, script: &str, args: Value) -> Value {
        let r = self.call(
            "POST",
            "/execute/sync",
            Some(&json!({"script": script, "args": args})),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()["value"].clone()
    }

    /// Runs JavaScript (a function body without arguments) in the page; its return value.
    pub fn script(&self, js: &str) -> Value {
        self.execute(js, json!([]))
    }

    /// Polls a script until it returns something other than null or false; that value.
    pub fn wait_script(&self, js: &str) -> Value {
        for _ in 0..600 {
            let v = self.script(js);
            if !v.is_null() && v != Value::Bool(false) {
                return v;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("{js} stayed null/false");
    }

    /// Polls `script` until it returns true (generous: the machine is shared and loaded).
    pub fn wait_until(&self, what: &str, script: &str) {
        for _ in 0..600 {
            if self.execute(script, json!([])) == Value::Bool(true) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("{what} never happened");
    }

    pub fn screenshot(&self, to: &std::path::Path) {
        let r = self.call("GET", "/screenshot", None);
        assert_eq!(r.status, 200);
        let png = base64_decode(r.json()["value"].as_str().unwrap());
        std::fs::write(to, png).unwrap();
    }
}

impl Drop for WebDriver {
    fn drop(&mut self) {
        let _ = self.call("DELETE", "", None);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Standard base64 (the screenshot's encoding).
fn base64_decode(text: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("bad base64 byte {c}"),
    };
    let bytes: Vec<u8> = text
        .bytes()
        .filter(|c| !c.is_ascii_whitespace() && *c != b'=')
        .collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            n |= u32::from(val(*c)) << (18 - 6 * i);
        }
        let b = n.to_be_bytes();
        out.extend_from_slice(&b[1..chunk.len()]);
    }
    out
}
