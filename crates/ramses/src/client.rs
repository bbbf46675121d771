//! The daemon client: one query per connection, serialised, replies read until complete.

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{Map, Value};

use crate::complete::{JsonScanner, Scan};
use crate::error::{RamsesError, Result};
use crate::objects::{data_map, ObjectType, Ping, RamObject, StepFilter};
use crate::query::Query;

/// The port the Ramses client's daemon listens on unless configured otherwise.
pub const DEFAULT_PORT: u16 = 18185;

/// Where the daemon is and how long to wait for it.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientOptions {
    /// Host; `localhost` unless the config says otherwise (the daemon binds locally).
    pub host: String,
    /// Port.
    pub port: u16,
    /// Longest wait for the connection.
    pub connect_timeout: Duration,
    /// Longest silence while a reply is arriving.
    pub read_timeout: Duration,
    /// Longest wait for a whole reply, however it trickles in.
    pub total_timeout: Duration,
    /// How long a read reply is reused; any write clears the cache. Zero disables caching.
    pub cache_ttl: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            host: "localhost".into(),
            port: DEFAULT_PORT,
            connect_timeout: Duration::from_secs(2),
            read_timeout: Duration::from_secs(10),
            total_timeout: Duration::from_secs(60),
            cache_ttl: Duration::from_secs(2),
        }
    }
}

/// One reply as the daemon sends it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reply {
    /// The command the daemon thinks it answered.
    pub query: String,
    /// A message for humans (often empty).
    pub message: String,
    /// False when the daemon does not know the query.
    pub accepted: bool,
    /// False when it knew it but could not do it.
    pub success: bool,
    /// The answer (`null` on failure).
    pub content: Value,
}

/// A Ramses daemon client. Queries are serialised (the daemon handles one at a time and some
/// versions mix up concurrent replies); the client is `Sync` and can be shared.
#[derive(Debug)]
pub struct Client {
    opts: ClientOptions,
    /// Serialises queries; holds nothing.
    line: Mutex<()>,
    cache: Mutex<HashMap<String, (Instant, Value)>>,
    sent: AtomicU64,
}

impl ClientOptions {
    /// The options the `ramses:` config section gives: one timeout for connecting and between
    /// bytes, twelve of them for a whole reply.
    pub fn from_config(c: &shotline_config::RamsesConfig) -> ClientOptions {
        let t = Duration::from_millis(c.timeout_ms);
        ClientOptions {
            host: c.host.clone(),
            port: c.port,
            connect_timeout: t,
            read_timeout: t,
            total_timeout: t.saturating_mul(12),
            cache_ttl: Duration::from_millis(c.cache_ttl_ms),
        }
    }
}

impl Client {
    /// A client for the daemon at `opts.host:opts.port`. Nothing is sent until a query.
    pub fn new(opts: ClientOptions) -> Client {
        Client {
            opts,
            line: Mutex::new(()),
            cache: Mutex::new(HashMap::new()),
            sent: AtomicU64::new(0),
        }
    }

    /// `host:port`, as messages name it.
    pub fn address(&self) -> String {
        format!("{}:{}", self.opts.host, self.opts.port)
    }

    /// How many queries went over the wire (cache hits excluded).
    pub fn queries_sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// Forgets every cached reply.
    pub fn clear_cache(&self) {
        self.cache.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    /// Sends one query and reads its reply, whatever it says (no cache, no accepted/success
    /// check).
    pub fn send(&self, q: &Query) -> Result<Reply> {
        let _turn = self.line.lock().unwrap_or_else(|p| p.into_inner());
        self.sent.fetch_add(1, Ordering::Relaxed);
        let mut stream = self.connect()?;
        let addr = self.address();
        let io = |source| RamsesError::Io {
            addr: addr.clone(),
            source,
        };
        stream.set_nodelay(true).map_err(io)?;
        // One write: the daemon parses what arrives in one read.
        stream.write_all(q.to_string().as_bytes()).map_err(io)?;
        let bytes = self.read_reply(&mut stream, q.command())?;
        parse_reply(&addr, q.command(), &bytes)
    }

    /// Sends a query and returns its content when the daemon accepted it and succeeded.
    /// Read queries are answered from the cache within the TTL; a write clears the cache.
    pub fn call(&self, q: &Query) -> Result<Value> {
        let key = q.to_string();
        if q.is_write() {
            self.clear_cache();
        } else if let Some(v) = self.cached(&key) {
            return Ok(v);
        }
        let reply = self.send(q)?;
        let content = self.check(q, reply)?;
        if q.is_write() {
            self.clear_cache();
        } else if !self.opts.cache_ttl.is_zero() {
            self.cache
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(key, (Instant::now(), content.clone()));
        }
        Ok(content)
    }

    fn cached(&self, key: &str) -> Option<Value> {
        let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache
            .get(key)
            .filter(|(at, _)| at.elapsed() < self.opts.cache_ttl)
            .map(|(_, v)| v.clone())
    }

    fn check(&self, q: &Query, reply: Reply) -> Result<Value> {
        if !reply.accepted {
            return Err(RamsesError::Unknown {
                addr: self.address(),
                command: q.command().to_string(),
                message: reply.message,
            });
        }
        if !reply.success {
            return Err(RamsesError::Failed {
                addr: self.address(),
                command: q.command().to_string(),
                message: reply.message,
            });
        }
        Ok(reply.content)
    }

    fn connect(&self) -> Result<TcpStream> {
        let addr = self.address();
        let targets: Vec<SocketAddr> = (self.opts.host.as_str(), self.opts.port)
            .to_socket_addrs()
            .map_err(|e| RamsesError::Connect {
                addr: addr.clone(),
                reason: format!("cannot resolve the host ({e})"),
            })?
            .collect();
        let mut refused = None;
        let mut other = None;
        for t in &targets {
            match TcpStream::connect_timeout(t, self.opts.connect_timeout) {
                Ok(s) => return Ok(s),
                Err(e) if e.kind() == ErrorKind::ConnectionRefused => refused = Some(e),
                Err(e) => other = Some(e),
            }
        }
        match (refused, other) {
            (_, Some(e)) if matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock) => {
                Err(RamsesError::Connect {
                    addr,
                    reason: format!(
                        "no answer within {} ms",
                        self.opts.connect_timeout.as_millis()
                    ),
                })
            }
            (Some(source), _) => Err(RamsesError::NotRunning { addr, source }),
            (None, Some(e)) => Err(RamsesError::Connect {
                addr,
                reason: e.to_string(),
            }),
            (None, None) => Err(RamsesError::Connect {
                addr,
                reason: "the host name resolves to no address".into(),
            }),
        }
    }

    /// Reads until the scanner sees one complete JSON value, the peer closes, or a timeout.
    fn read_reply(&self, stream: &mut TcpStream, command: &str) -> Result<Vec<u8>> {
        let addr = self.address();
        let started = Instant::now();
        let deadline = started + self.opts.total_timeout;
        let mut scanner = JsonScanner::new();
        let mut buf = Vec::new();
        let mut chunk = vec![0u8; 64 * 1024];
        let timeout = |received: usize| RamsesError::Timeout {
            addr: addr.clone(),
            command: command.to_string(),
            received,
            waited_ms: started.elapsed().as_millis(),
        };
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(timeout(buf.len()));
            }
            stream
                .set_read_timeout(Some(left.min(self.opts.read_timeout)))
                .map_err(|source| RamsesError::Io {
                    addr: addr.clone(),
                    source,
                })?;
            let n = match stream.read(&mut chunk) {
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return Err(timeout(buf.len()))
                }
                Err(e) if e.kind() == ErrorKind::ConnectionReset && !buf.is_empty() => 0,
                Err(source) => return Err(RamsesError::Io { addr, source }),
            };
            if n == 0 {
                return Err(RamsesError::Closed {
                    addr,
                    command: command.to_string(),
                    received: buf.len(),
                });
            }
            let piece = &chunk[..n];
            buf.extend_from_slice(piece);
            match scanner.feed(piece) {
                Scan::Incomplete => {}
                Scan::Complete(end) => {
                    buf.truncate(end);
                    return Ok(buf);
                }
                Scan::Invalid(at, byte) => {
                    return Err(RamsesError::Garbage {
                        addr,
                        command: command.to_string(),
                        reason: format!(
                            "byte {at} is {:?}, expected a JSON object",
                            char::from(byte)
                        ),
                        start: start_of(&buf),
                    })
                }
            }
        }
    }

    // ----- typed queries -----

    /// `ping`: version and logged-in user.
    pub fn ping(&self) -> Result<Ping> {
        let c = self.call(&Query::new("ping")?)?;
        Ok(Ping {
            version: str_of(&c, "version"),
            ramses: str_of(&c, "ramses"),
            user_uuid: str_of(&c, "userUuid"),
        })
    }

    /// `getRamsesFolder`: the Ramses main folder.
    pub fn ramses_folder(&self) -> Result<String> {
        let c = self.call(&Query::new("getRamsesFolder")?)?;
        Ok(str_of(&c, "path"))
    }

    /// `getProjects`: every project with its data.
    pub fn projects(&self) -> Result<Vec<RamObject>> {
        let c = self.call(&Query::new("getProjects")?)?;
        objects_in("getProjects", &c, "projects")
    }

    /// `getCurrentProject`: `None` when no project is selected.
    pub fn current_project(&self) -> Result<Option<RamObject>> {
        let c = self.call(&Query::new("getCurrentProject")?)?;
        if str_of(&c, "uuid").is_empty() {
            return Ok(None);
        }
        RamObject::from_entry("getCurrentProject", &c).map(Some)
    }

    /// `setCurrentProject&uuid=`.
    pub fn set_current_project(&self, uuid: &str) -> Result<()> {
        self.call(&Query::new("setCurrentProject")?.arg("uuid", uuid)?)?;
        Ok(())
    }

    /// `getObjects&type=`: every object of a type, with its data, in one query.
    pub fn objects(&self, t: ObjectType) -> Result<Vec<RamObject>> {
        let c = self.call(&Query::new("getObjects")?.arg("type", t.as_str())?)?;
        objects_in("getObjects", &c, "objects")
    }

    /// `getData&uuid=`.
    pub fn data(&self, uuid: &str) -> Result<Map<String, Value>> {
        let c = self.call(&Query::new("getData")?.arg("uuid", uuid)?)?;
        data_map("getData", c.get("data"))
    }

    /// `setData&uuid=&data=`: replaces the object's data (read it first and merge to keep
    /// other tools' keys; see [`Client::update_data`]).
    pub fn set_data(&self, uuid: &str, data: &Map<String, Value>) -> Result<()> {
        let text = Value::Object(data.clone()).to_string();
        self.call(
            &Query::new("setData")?
                .arg("uuid", uuid)?
                .arg("data", &text)?,
        )?;
        Ok(())
    }

    /// Reads an object's data, applies `changes` over it (other keys kept) and writes it back.
    pub fn update_data(&self, uuid: &str, changes: &Map<String, Value>) -> Result<()> {
        let mut data = self.data(uuid)?;
        for (k, v) in changes {
            data.insert(k.clone(), v.clone());
        }
        self.set_data(uuid, &data)
    }

    /// `create&uuid=&data=&type=`.
    pub fn create(&self, uuid: &str, t: ObjectType, data: &Map<String, Value>) -> Result<()> {
        let text = Value::Object(data.clone()).to_string();
        self.call(
            &Query::new("create")?
                .arg("uuid", uuid)?
                .arg("data", &text)?
                .arg("type", t.as_str())?,
        )?;
        Ok(())
    }

    /// `getPath&uuid=`: the object's folder.
    pub fn path(&self, uuid: &str) -> Result<String> {
        let c = self.call(&Query::new("getPath")?.arg("uuid", uuid)?)?;
        Ok(str_of(&c, "path"))
    }

    /// `uuidFromPath&path=&type=`: `None` when the path is no such object.
    pub fn uuid_from_path(&self, path: &str, t: ObjectType) -> Result<Option<String>> {
        let c = self.call(
            &Query::new("uuidFromPath")?
                .arg("path", path)?
                .arg("type", t.as_str())?,
        )?;
        Ok(Some(str_of(&c, "uuid")).filter(|u| !u.is_empty()))
    }

    /// `getStatus&itemUuid=&stepUuid=`: `None` when the task has no status yet.
    pub fn status(&self, item: &str, step: &str) -> Result<Option<RamObject>> {
        let c = self.call(
            &Query::new("getStatus")?
                .arg("itemUuid", item)?
                .arg("stepUuid", step)?,
        )?;
        if str_of(&c, "uuid").is_empty() {
            return Ok(None);
        }
        RamObject::from_entry("getStatus", &c).map(Some)
    }

    /// `getShots&projectUuid=&sequenceUuid=`: shot uuids.
    pub fn shots(&self, project: &str, sequence: Option<&str>) -> Result<Vec<String>> {
        let q = Query::new("getShots")?
            .arg("projectUuid", project)?
            .arg("sequenceUuid", sequence.unwrap_or(""))?;
        uuids_in(&self.call(&q)?, "getShots", "shots")
    }

    /// `getAssets&projectUuid=&groupUuid=`: asset uuids.
    pub fn assets(&self, project: &str, group: Option<&str>) -> Result<Vec<String>> {
        let q = Query::new("getAssets")?
            .arg("projectUuid", project)?
            .arg("groupUuid", group.unwrap_or(""))?;
        uuids_in(&self.call(&q)?, "getAssets", "assets")
    }

    /// `getAssetGroups&projectUuid=`.
    pub fn asset_groups(&self, project: &str) -> Result<Vec<String>> {
        let q = Query::new("getAssetGroups")?.arg("projectUuid", project)?;
        uuids_in(&self.call(&q)?, "getAssetGroups", "assetGroups")
    }

    /// `getSequences&projectUuid=`.
    pub fn sequences(&self, project: &str) -> Result<Vec<String>> {
        let q = Query::new("getSequences")?.arg("projectUuid", project)?;
        uuids_in(&self.call(&q)?, "getSequences", "sequences")
    }

    /// `getPipes&projectUuid=`.
    pub fn pipes(&self, project: &str) -> Result<Vec<String>> {
        let q = Query::new("getPipes")?.arg("projectUuid", project)?;
        uuids_in(&self.call(&q)?, "getPipes", "pipes")
    }

    /// `getSteps&projectUuid=&type=`.
    pub fn steps(&self, project: &str, filter: StepFilter) -> Result<Vec<String>> {
        let q = Query::new("getSteps")?
            .arg("projectUuid", project)?
            .arg("type", filter.as_str())?;
        uuids_in(&self.call(&q)?, "getSteps", "steps")
    }

    /// Every object of a type with its data, belonging to `project` when the data says which
    /// project it is in: one `getObjects` query. Falls back to the listing query plus one
    /// `getData` each only for a daemon that does not know `getObjects`.
    pub fn objects_of_project(&self, t: ObjectType, project: &str) -> Result<Vec<RamObject>> {
        match self.objects(t) {
            Ok(all) => Ok(all
                .into_iter()
                .filter(|o| o.str_field("project").is_none_or(|p| p == project))
                .collect()),
            Err(RamsesError::Unknown { .. }) => self.objects_one_by_one(t, project),
            Err(e) => Err(e),
        }
    }

    /// The per-object path old clients take: list uuids, then one `getData` per object. Kept
    /// for daemons without `getObjects` and for the benchmark that measures the difference.
    pub fn objects_one_by_one(&self, t: ObjectType, project: &str) -> Result<Vec<RamObject>> {
        let uuids = match t {
            ObjectType::Shot => self.shots(project, None)?,
            ObjectType::Asset => self.assets(project, None)?,
            ObjectType::AssetGroup => self.asset_groups(project)?,
            ObjectType::Sequence => self.sequences(project)?,
            ObjectType::Pipe => self.pipes(project)?,
            ObjectType::Step => self.steps(project, StepFilter::All)?,
            other => {
                return Err(RamsesError::Unknown {
                    addr: self.address(),
                    command: format!("getObjects&type={other}"),
                    message: "no per-project listing query for this type".into(),
                })
            }
        };
        uuids
            .into_iter()
            .map(|uuid| {
                let data = self.data(&uuid)?;
                Ok(RamObject { uuid, data })
            })
            .collect()
    }
}

fn start_of(buf: &[u8]) -> String {
    String::from_utf8_lossy(&buf[..buf.len().min(80)]).into_owned()
}

fn parse_reply(addr: &str, command: &str, bytes: &[u8]) -> Result<Reply> {
    let garbage = |reason: String| RamsesError::Garbage {
        addr: addr.to_string(),
        command: command.to_string(),
        reason,
        start: start_of(bytes),
    };
    let v: Value = serde_json::from_slice(bytes).map_err(|e| garbage(e.to_string()))?;
    let Value::Object(m) = v else {
        return Err(garbage("expected a JSON object".into()));
    };
    let flag = |k: &str| m.get(k).and_then(Value::as_bool).unwrap_or(false);
    Ok(Reply {
        query: m
            .get("query")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        message: m
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        accepted: flag("accepted"),
        success: flag("success"),
        content: m.get("content").cloned().unwrap_or(Value::Null),
    })
}

fn str_of(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or("").to_string()
}

fn objects_in(command: &str, content: &Value, key: &str) -> Result<Vec<RamObject>> {
    match content.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|e| RamObject::from_entry(command, e))
            .collect(),
        Some(_) => Err(RamsesError::Shape {
            command: command.to_string(),
            what: format!("\"{key}\" list"),
        }),
    }
}

fn uuids_in(content: &Value, command: &str, key: &str) -> Result<Vec<String>> {
    match content.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.clone()),
                // Some daemon versions list objects rather than bare uuids.
                other => other
                    .get("uuid")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .ok_or_else(|| RamsesError::Shape {
                        command: command.to_string(),
                        what: format!("uuid strings in \"{key}\""),
                    }),
            })
            .collect(),
        Some(_) => Err(RamsesError::Shape {
            command: command.to_string(),
            what: format!("\"{key}\" list"),
        }),
    }
}
