//! `ramses serve`: a headless Ramses daemon over a shotline project. Ramses add-ons and
//! scripts (and our own [`crate::Client`]) connect to it as to the Ramses client's daemon, so
//! they work on render nodes, in CI and on servers where the desktop client cannot run.
//!
//! Networking only lives here: a std listener on localhost (unless told otherwise), a thread
//! per connection up to a cap, one query per connection. The answers come from
//! [`Backend`], which reads and writes through the store (role rules, audit trail).

mod backend;
mod index;

use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use backend::Backend;

use crate::complete::{JsonScanner, Scan};
use crate::error::{RamsesError, Result};

/// How the server listens.
#[derive(Debug, Clone, PartialEq)]
pub struct ServeOptions {
    /// Address to bind: localhost unless the user asks for another.
    pub bind: IpAddr,
    /// Port (0 picks a free one; see [`Server::local_addr`]).
    pub port: u16,
    /// Connections served at once; more are answered "busy" and closed.
    pub max_connections: usize,
    /// How long a connection may stay silent before it is dropped.
    pub idle_timeout: Duration,
    /// Largest query accepted (a `setData` carries a whole data dictionary).
    pub max_query_bytes: usize,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: crate::DEFAULT_PORT,
            max_connections: 64,
            idle_timeout: Duration::from_secs(10),
            max_query_bytes: 64 * 1024 * 1024,
        }
    }
}

/// A bound server, ready to [`Server::run`].
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    backend: Mutex<Backend>,
    active: AtomicUsize,
    opts: ServeOptions,
}

impl Server {
    /// Binds the listener. A port in use is an error naming it.
    pub fn bind(backend: Backend, opts: ServeOptions) -> Result<Server> {
        let addr = SocketAddr::new(opts.bind, opts.port);
        let listener = TcpListener::bind(addr).map_err(|e| RamsesError::Connect {
            addr: addr.to_string(),
            reason: format!("cannot listen here: {e}"),
        })?;
        Ok(Server {
            listener,
            shared: Arc::new(Shared {
                backend: Mutex::new(backend),
                active: AtomicUsize::new(0),
                opts,
            }),
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> Result<SocketAddr> {
        self.listener
            .local_addr()
            .map_err(|source| RamsesError::Io {
                addr: "listener".into(),
                source,
            })
    }

    /// Accepts connections until `stop` is set (checked after each connection).
    pub fn run(self, stop: &AtomicBool) -> Result<()> {
        for conn in self.listener.incoming() {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            let Ok(conn) = conn else { continue };
            let shared = Arc::clone(&self.shared);
            if shared.active.fetch_add(1, Ordering::SeqCst) >= shared.opts.max_connections {
                shared.active.fetch_sub(1, Ordering::SeqCst);
                refuse_busy(conn, shared.opts.max_connections);
                continue;
            }
            let spawned = std::thread::Builder::new()
                .name("ramses-conn".into())
                .spawn(move || {
                    serve_connection(conn, &shared);
                    shared.active.fetch_sub(1, Ordering::SeqCst);
                });
            if spawned.is_err() {
                self.shared.active.fetch_sub(1, Ordering::SeqCst);
            }
        }
        Ok(())
    }

    /// Runs the server on a background thread (tests, benchmarks).
    pub fn spawn(self) -> std::thread::JoinHandle<Result<()>> {
        std::thread::spawn(move || self.run(&AtomicBool::new(false)))
    }
}

fn refuse_busy(mut conn: TcpStream, cap: usize) {
    let reply = backend::reply(
        "",
        true,
        false,
        &format!("busy: {cap} connections are being served; try again"),
        serde_json::Value::Null,
    );
    let _ = conn.write_all(reply.to_string().as_bytes());
}

fn serve_connection(mut conn: TcpStream, shared: &Shared) {
    let _ = conn.set_nodelay(true);
    let text = match read_query(&mut conn, &shared.opts) {
        Ok(Some(t)) => t,
        Ok(None) => return,
        Err(message) => {
            let reply = backend::reply("", false, false, &message, serde_json::Value::Null);
            let _ = conn.write_all(reply.to_string().as_bytes());
            return;
        }
    };
    let reply = {
        let mut b = shared.backend.lock().unwrap_or_else(|p| p.into_inner());
        b.answer(&text)
    };
    let _ = conn.write_all(reply.to_string().as_bytes());
    let _ = conn.flush();
}

/// Reads one query. The protocol has no terminator, so a query is complete when the peer
/// half-closes, or when what arrived is a whole query (a `data=` value is complete JSON) and
/// nothing more is waiting. `Ok(None)`: the peer left without sending anything.
fn read_query(conn: &mut TcpStream, opts: &ServeOptions) -> Result<Option<String>, String> {
    conn.set_read_timeout(Some(opts.idle_timeout))
        .map_err(|e| e.to_string())?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        match conn.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                if buf.is_empty() {
                    return Ok(None);
                }
                break;
            }
            Err(_) => return Ok(None),
        }
        if buf.len() > opts.max_query_bytes {
            return Err(format!(
                "query larger than {} bytes refused",
                opts.max_query_bytes
            ));
        }
        if looks_complete(&buf) && !more_waiting(conn) {
            break;
        }
    }
    if buf.is_empty() {
        return Ok(None);
    }
    String::from_utf8(buf).map(Some).map_err(|e| {
        format!(
            "the query is not UTF-8 text (byte {})",
            e.utf8_error().valid_up_to()
        )
    })
}

/// Whether the bytes so far can be a whole query: text, and a `data=` value (the only one
/// large enough to be split by the network) holding complete JSON.
fn looks_complete(buf: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(buf) else {
        return false;
    };
    let Some(at) = text.find("&data=") else {
        return true;
    };
    let value = &text[at + "&data=".len()..];
    let value = value.split('&').next().unwrap_or("");
    if value.trim().is_empty() {
        return true;
    }
    let mut s = JsonScanner::new();
    matches!(
        s.feed(value.as_bytes()),
        Scan::Complete(_) | Scan::Invalid(..)
    )
}

fn more_waiting(conn: &TcpStream) -> bool {
    if conn.set_nonblocking(true).is_err() {
        return false;
    }
    let mut one = [0u8; 1];
    let more = matches!(conn.peek(&mut one), Ok(n) if n > 0);
    let _ = conn.set_nonblocking(false);
    more
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_values_must_be_whole() {
        assert!(looks_complete(b"ping"));
        assert!(looks_complete(b"getData&uuid=abc"));
        assert!(!looks_complete(b"setData&uuid=abc&data={\"a\": [1,"));
        assert!(looks_complete(b"setData&uuid=abc&data={\"a\": [1]}"));
        assert!(looks_complete(b"create&uuid=abc&data={}&type=RamShot"));
        assert!(!looks_complete(b"\xff"));
    }
}
