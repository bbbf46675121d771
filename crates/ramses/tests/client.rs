//! The client against misbehaving daemons: a test double is the only way to reproduce what a
//! broken or hung Ramses client does (replies over 1 MB, one byte per write, slow, garbage,
//! closed mid-reply, never answering). The well-behaved daemon is `ramses serve`, tested from
//! the binary in `crates/cli/tests/ramses.rs`.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use shotline_ramses::{Client, ClientOptions, ObjectType, Query, RamsesError};

/// A one-connection-per-query server that answers every query with `behave`; returns its
/// port and a channel of the queries it received.
fn fake_daemon(
    behave: impl Fn(&mut TcpStream, &str) + Send + Sync + 'static,
) -> (u16, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    let behave = std::sync::Arc::new(behave);
    thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let tx = tx.clone();
            let behave = behave.clone();
            thread::spawn(move || {
                let mut buf = [0u8; 65536];
                let n = conn.read(&mut buf).unwrap_or(0);
                let q = String::from_utf8_lossy(&buf[..n]).into_owned();
                let _ = tx.send(q.clone());
                behave(&mut conn, &q);
            });
        }
    });
    (port, rx)
}

fn client(port: u16, read_ms: u64) -> Client {
    Client::new(ClientOptions {
        host: "127.0.0.1".into(),
        port,
        connect_timeout: Duration::from_secs(2),
        read_timeout: Duration::from_millis(read_ms),
        total_timeout: Duration::from_secs(30),
        cache_ttl: Duration::from_secs(60),
    })
}

fn reply(content: serde_json::Value) -> String {
    serde_json::to_string_pretty(&serde_json::json!({
        "query": "x", "message": "", "accepted": true, "success": true, "content": content
    }))
    .unwrap()
}

fn shots_reply(n: usize) -> String {
    let objects: Vec<_> = (0..n)
        .map(|i| {
            serde_json::json!({"uuid": format!("u-{i}"),
                "data": serde_json::json!({"shortName": format!("SH{i:05}"), "comment": "x".repeat(40)}).to_string()})
        })
        .collect();
    reply(serde_json::json!({ "objects": objects }))
}

#[test]
fn replies_over_one_megabyte_in_many_packets() {
    let body = shots_reply(20_000);
    assert!(body.len() > 1_000_000, "{}", body.len());
    let (port, _) = fake_daemon(move |c, _| {
        for chunk in body.as_bytes().chunks(1000) {
            c.write_all(chunk).unwrap();
        }
        // Socket left open, as the daemon does: the client must stop at the end of the value.
        thread::sleep(Duration::from_secs(5));
    });
    let got = client(port, 3000).objects(ObjectType::Shot).unwrap();
    assert_eq!(got.len(), 20_000);
    assert_eq!(got[19_999].short_name(), "SH19999");
}

#[test]
fn one_byte_per_write_and_slow_still_complete() {
    let body = reply(serde_json::json!({"version": "1.0", "ramses": "Ramses", "userUuid": "u-1"}));
    let (port, _) = fake_daemon(move |c, _| {
        let _ = c.set_nodelay(true);
        for (i, b) in body.as_bytes().iter().enumerate() {
            c.write_all(&[*b]).unwrap();
            if i % 20 == 0 {
                thread::sleep(Duration::from_millis(5));
            }
        }
        // Trailing newline terminator, then silence.
        let _ = c.write_all(b"\n");
        thread::sleep(Duration::from_secs(5));
    });
    let p = client(port, 2000).ping().unwrap();
    assert_eq!((p.ramses.as_str(), p.user_uuid.as_str()), ("Ramses", "u-1"));
}

#[test]
fn garbage_is_an_error_naming_what_came() {
    let (port, _) = fake_daemon(|c, _| {
        c.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n").unwrap();
    });
    let e = client(port, 2000).ping().unwrap_err();
    assert!(matches!(e, RamsesError::Garbage { .. }), "{e}");
    assert!(e.to_string().contains("HTTP/1.1"), "{e}");
    let (port, _) = fake_daemon(|c, _| {
        c.write_all(b"{\"accepted\": tru }").unwrap();
    });
    let e = client(port, 2000).ping().unwrap_err();
    assert!(matches!(e, RamsesError::Garbage { .. }), "{e}");
}

#[test]
fn closed_mid_reply_is_an_error_not_a_truncated_value() {
    let body = shots_reply(100);
    let (port, _) = fake_daemon(move |c, _| {
        c.write_all(&body.as_bytes()[..body.len() / 2]).unwrap();
    });
    let e = client(port, 2000).objects(ObjectType::Shot).unwrap_err();
    assert!(
        matches!(e, RamsesError::Closed { received, .. } if received > 0),
        "{e}"
    );
    assert!(e.is_transient());
}

#[test]
fn never_answering_times_out() {
    let (port, _) = fake_daemon(|_, _| thread::sleep(Duration::from_secs(10)));
    let started = std::time::Instant::now();
    let e = client(port, 300).ping().unwrap_err();
    assert!(matches!(e, RamsesError::Timeout { received: 0, .. }), "{e}");
    assert!(e.to_string().contains("ping"), "{e}");
    // Bounded by the read timeout, not the sleeping server (not a timing assertion on speed:
    // only that it did not wait for the server's 10 s).
    assert!(started.elapsed() < Duration::from_secs(9));
}

#[test]
fn daemon_not_running_is_named() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let e = client(port, 300).ping().unwrap_err();
    assert!(matches!(e, RamsesError::NotRunning { .. }), "{e}");
    assert!(
        e.to_string()
            .contains(&format!("not running on 127.0.0.1:{port}")),
        "{e}"
    );
}

#[test]
fn unknown_and_refused_queries_and_the_cache() {
    let (port, rx) = fake_daemon(|c, q| {
        let body = if q.starts_with("getData") {
            reply(serde_json::json!({"uuid": "u-1", "data": {"shortName": "SH010"}}))
        } else if q.starts_with("setData") {
            reply(serde_json::json!({}))
        } else if q.starts_with("getPath") {
            serde_json::json!({"query": "getPath", "message": "no such object",
                "accepted": true, "success": false, "content": null})
            .to_string()
        } else {
            serde_json::json!({"query": q, "message": "Unknown query", "accepted": false,
                "success": false, "content": null})
            .to_string()
        };
        c.write_all(body.as_bytes()).unwrap();
    });
    let c = client(port, 2000);
    let e = c.send(&Query::new("frobnicate").unwrap()).unwrap();
    assert!(!e.accepted);
    let e = c.call(&Query::new("frobnicate").unwrap()).unwrap_err();
    assert!(matches!(e, RamsesError::Unknown { .. }), "{e}");
    let e = c.path("u-9").unwrap_err();
    assert!(
        matches!(e, RamsesError::Failed { .. }) && e.to_string().contains("no such object"),
        "{e}"
    );
    while rx.try_recv().is_ok() {}
    // Cached within the TTL; a write clears it.
    assert_eq!(c.data("u-1").unwrap()["shortName"], "SH010");
    assert_eq!(c.data("u-1").unwrap()["shortName"], "SH010");
    let sent_before = c.queries_sent();
    c.data("u-1").unwrap();
    assert_eq!(c.queries_sent(), sent_before, "served from the cache");
    let mut m = serde_json::Map::new();
    m.insert("comment".into(), "ok".into());
    c.set_data("u-1", &m).unwrap();
    c.data("u-1").unwrap();
    assert_eq!(
        c.queries_sent(),
        sent_before + 2,
        "write, then a fresh read"
    );
    let sent: Vec<String> = rx.try_iter().collect();
    assert!(
        sent.contains(&"setData&uuid=u-1&data={\"comment\":\"ok\"}".to_string()),
        "{sent:?}"
    );
    // A value the daemon would split is refused before anything is sent.
    m.insert("comment".into(), "a&b".into());
    let before = c.queries_sent();
    assert!(matches!(
        c.set_data("u-1", &m).unwrap_err(),
        RamsesError::BadValue { .. }
    ));
    assert_eq!(c.queries_sent(), before);
}
