//! Live updates. One poller thread (not one per browser) reads the audit trail's new events and
//! the render queue's job list every `poll` and broadcasts what changed; each `/api/v1/events`
//! stream forwards the broadcast as Server-Sent Events.

use std::convert::Infallible;
use std::path::PathBuf;
use std::thread::JoinHandle;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use shotline_store::{EventQuery, Store};
use tokio::sync::{broadcast, watch};

use crate::auth::{Caller, Via};
use crate::App;

/// Events read per poll at most; more than this in one interval shows as a `resync`.
const BATCH: u64 = 200;

/// Open streams check their credential at least this often (see `watch_credentials`).
const RECHECK: Duration = Duration::from_secs(60);

/// One message to every open stream.
#[derive(Debug, Clone)]
pub struct LiveEvent {
    /// SSE event name: `status`, `version`, `audit`, `render` or `resync`.
    pub name: &'static str,
    /// JSON payload.
    pub data: String,
}

/// What the poller watches.
pub struct PollerSetup {
    /// The project database.
    pub db: PathBuf,
    /// The render queue's folder.
    pub render_dir: PathBuf,
    /// The render queue refused the database (see `render_refusal`): no `render` events.
    pub render_unavailable: bool,
    /// How often to look.
    pub poll: Duration,
    /// Bumped when sessions or tokens change (from this server or the command line).
    pub credentials: watch::Sender<u64>,
}

/// Starts the poller thread; it ends when `stop` turns true.
pub fn start_poller(
    setup: PollerSetup,
    tx: broadcast::Sender<LiveEvent>,
    stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let poll = setup.poll;
        let mut poller = Poller {
            db: setup.db,
            render_dir: setup.render_dir,
            render_unavailable: setup.render_unavailable,
            store: None,
            last_event: None,
            last_jobs: String::new(),
            credentials: setup.credentials,
            last_credentials: String::new(),
            last_check: std::time::Instant::now(),
        };
        while !*stop.borrow() {
            poller.watch_credentials();
            if tx.receiver_count() > 0 {
                poller.tick(&tx);
            } else {
                // Nobody listening: keep the cursor current so a new listener gets only news.
                poller.catch_up();
            }
            sleep_unless_stopped(poll, &stop);
        }
    })
}

fn sleep_unless_stopped(poll: Duration, stop: &watch::Receiver<bool>) {
    let step = Duration::from_millis(50);
    let mut left = poll;
    while !left.is_zero() && !*stop.borrow() {
        let d = left.min(step);
        std::thread::sleep(d);
        left = left.saturating_sub(d);
    }
}

struct Poller {
    db: PathBuf,
    render_dir: PathBuf,
    render_unavailable: bool,
    store: Option<Store>,
    last_event: Option<i64>,
    last_jobs: String,
    credentials: watch::Sender<u64>,
    last_credentials: String,
    last_check: std::time::Instant,
}

impl Poller {
    fn store(&mut self) -> Option<&Store> {
        if self.store.is_none() {
            self.store = Store::open_read_only(&self.db, 5000).ok();
        }
        self.store.as_ref()
    }

    fn new_events(&mut self) -> Vec<shotline_store::Event> {
        let q = EventQuery {
            limit: Some(BATCH),
            ..EventQuery::default()
        };
        let events = match self.store().map(|s| s.events(&q)) {
            Some(Ok(ev)) => ev,
            _ => {
                // A read failure (locked, replaced by a restore): reopen next time.
                self.store = None;
                return Vec::new();
            }
        };
        let last = self.last_event;
        self.last_event = events.last().map(|e| e.id).or(last);
        match last {
            None => Vec::new(),
            Some(l) => events.into_iter().filter(|e| e.id > l).collect(),
        }
    }

    /// A password changed or a token was revoked on the command line: tell open streams to
    /// check their credential again. Also every [`RECHECK`], whatever the marker says: a
    /// credential made and removed between two polls can leave the marker as it was (SQLite
    /// reuses the highest id), and a stream opened with it must still end.
    fn watch_credentials(&mut self) {
        let marker = crate::accounts::open(&self.db, 5000)
            .and_then(|c| crate::session::credentials_marker(&c, &self.db));
        let due = self.last_check.elapsed() >= RECHECK;
        if let Ok(m) = marker {
            if m != self.last_credentials || due {
                self.last_credentials = m;
                self.last_check = std::time::Instant::now();
                self.credentials.send_modify(|g| *g = g.wrapping_add(1));
            }
        }
    }

    fn catch_up(&mut self) {
        self.new_events();
        self.last_jobs.clear();
    }

    fn tick(&mut self, tx: &broadcast::Sender<LiveEvent>) {
        let events = self.new_events();
        if events.len() as u64 >= BATCH {
            let _ = tx.send(LiveEvent {
                name: "resync",
                data: "{}".into(),
            });
        }
        for e in events {
            let name = match e.action.split('.').next() {
                Some("status") => "status",
                Some("version") => "version",
                _ => "audit",
            };
            if let Ok(data) = serde_json::to_string(&e) {
                let _ = tx.send(LiveEvent { name, data });
            }
        }
        self.render(tx);
    }

    fn render(&mut self, tx: &broadcast::Sender<LiveEvent>) {
        if self.render_unavailable {
            return;
        }
        let data = jobs_snapshot(&self.db, &self.render_dir);
        if data != self.last_jobs {
            self.last_jobs = data.clone();
            let _ = tx.send(LiveEvent {
                name: "render",
                data,
            });
        }
    }
}

/// The open jobs as the `render` event's JSON (an unreadable queue reads as empty: the next
/// poll tries again).
fn jobs_snapshot(db: &std::path::Path, render_dir: &std::path::Path) -> String {
    let jobs = match shotline_render::Queue::open_read_only(db, render_dir) {
        Ok(Some(q)) => q.list(false).unwrap_or_default(),
        _ => Vec::new(),
    };
    serde_json::json!({ "jobs": jobs }).to_string()
}

/// `GET /api/v1/events`: the live stream for a logged-in caller. It starts with a `render`
/// event (the queue now), then forwards what the poller broadcasts; it closes when the
/// caller's session or token ends and when the server shuts down, so graceful shutdown never
/// waits on a browser.
pub async fn stream(
    State(app): State<App>,
    caller: Caller,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let (db, dir) = (app.db.clone(), app.render_dir.clone());
    let first = if app.render_unavailable.is_some() {
        // The stream still opens with a `render` event (clients wait for it): an empty queue.
        r#"{"jobs":[]}"#.to_string()
    } else {
        crate::api::blocking(move || Ok(jobs_snapshot(&db, &dir)))
            .await
            .unwrap_or_else(|_| r#"{"jobs":[]}"#.to_string())
    };
    let first = futures_util::stream::iter([Ok(Event::default().event("render").data(first))]);
    let watched = Watched {
        rx: app.live.subscribe(),
        stop: app.shutdown.clone(),
        credentials: app.credentials.subscribe(),
        via: caller.via,
        app,
    };
    let s = futures_util::stream::unfold(watched, |mut w| async move {
        if *w.stop.borrow() {
            return None;
        }
        let event = loop {
            tokio::select! {
                _ = w.stop.changed() => return None,
                changed = w.credentials.changed() => {
                    // Logged out, password changed, token revoked: the stream ends with them.
                    if changed.is_err() || !w.still_valid().await {
                        return None;
                    }
                }
                got = w.rx.recv() => break match got {
                Ok(ev) => Event::default().event(ev.name).data(ev.data),
                // Too slow a reader missed some: tell the page to reload what it shows.
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    Event::default().event("resync").data("{}")
                }
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
            }
        };
        Some((Ok(event), w))
    });
    Sse::new(futures_util::StreamExt::chain(first, s)).keep_alive(KeepAlive::default())
}

/// One open stream: what it forwards, and the credential it was opened with.
struct Watched {
    rx: broadcast::Receiver<LiveEvent>,
    stop: watch::Receiver<bool>,
    credentials: watch::Receiver<u64>,
    via: Via,
    app: App,
}

impl Watched {
    async fn still_valid(&self) -> bool {
        let (app, via) = (self.app.clone(), self.via.clone());
        // A check that fails (database busy for the whole timeout) ends the stream too: the
        // browser reconnects, and the new request is authenticated like any other.
        matches!(
            crate::api::blocking(move || crate::auth::still_valid(&app, &via)).await,
            Ok(true)
        )
    }
}
