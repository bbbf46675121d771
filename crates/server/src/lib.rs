//! shotline-server: the studio server behind `shotline serve`.
//!
//! A JSON API over the project's tracking store and render queue (`/api/v1`, described by the
//! OpenAPI document at `/api/v1/openapi.json`), live updates as Server-Sent Events, and the web
//! dashboard, embedded in the binary. Every read and write goes through the store's public API,
//! so its transaction and role rules hold for the web exactly as for the command line.
//!
//! Security: argon2 passwords or API tokens (see [`accounts`]), HttpOnly SameSite=Strict session
//! cookies backed by the store's `server_sessions` table with idle expiry and a CSRF token on
//! every mutation, login rate limiting ([`session`]), no anonymous access to project data,
//! localhost bind by default, graceful shutdown on SIGINT/SIGTERM.

#![warn(missing_docs)]

pub mod accounts;
mod api;
mod assets;
mod auth;
mod error;
mod grid;
mod ingest;
mod live;
mod media;
mod render;
pub mod session;
mod shot;
#[cfg(test)]
mod testutil;
mod web;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, watch};

pub use error::{Result, ServerError};

/// The default address: this machine only. Serving the studio network is a deliberate
/// `--bind 0.0.0.0:8080` (behind a TLS reverse proxy; see `docs/server.md`).
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

/// What `shotline serve` was asked to do.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The project database: a SQLite file or a `postgres://` URL (as
    /// `shotline_store::default_db_path` gives it).
    pub db: PathBuf,
    /// The render queue's folder (job logs).
    pub render_dir: PathBuf,
    /// Where to listen.
    pub bind: SocketAddr,
    /// Busy timeout for each request's connection (SQLite's busy wait, PostgreSQL's lock and
    /// connect wait).
    pub busy_timeout_ms: u64,
    /// Mark the session cookie `Secure` (set when a TLS proxy is in front).
    pub secure_cookies: bool,
    /// How often the live-update poller looks at the store and the queue.
    pub poll: Duration,
    /// How long a browser session lives without use.
    pub session_idle: Duration,
    /// The project's render settings: a farm job is cancelled and retried on its farm with them.
    pub render: shotline_config::RenderConfig,
}

/// What the server found at start-up, for the command to report.
#[derive(Debug, Clone)]
pub struct Ready {
    /// The bound address.
    pub addr: SocketAddr,
    /// Why the render endpoints answer 503 on this database (the render queue refused it), or
    /// `None` when they work.
    pub render_unavailable: Option<String>,
}

/// Shared by every request.
pub(crate) struct Shared {
    pub db: PathBuf,
    pub render_dir: PathBuf,
    /// Why the render queue cannot be used on this database (see [`render_refusal`]).
    pub render_unavailable: Option<String>,
    pub render: shotline_config::RenderConfig,
    pub busy_timeout_ms: u64,
    pub secure_cookies: bool,
    pub sessions: session::Sessions,
    pub live: broadcast::Sender<live::LiveEvent>,
    pub shutdown: watch::Receiver<bool>,
    /// Bumped whenever a session or token may have ended: open event streams check theirs.
    pub credentials: watch::Sender<u64>,
    pub grid: grid::Cache,
}

/// Cheap to clone: the handlers' state.
pub(crate) type App = Arc<Shared>;

/// Runs the server until SIGINT or SIGTERM. `on_ready` is called once the socket listens,
/// with the bound address and what does not work on this database (the command prints them).
/// Open requests and event streams are finished or closed before this returns.
///
/// A database that cannot be opened (a PostgreSQL server that does not answer, a missing file)
/// fails here, before listening, with the store's error naming it.
pub fn serve(opts: &ServeOptions, on_ready: impl FnOnce(&Ready)) -> Result<()> {
    let render_unavailable = prepare(opts)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|source| ServerError::Io {
            what: "starting the server runtime".into(),
            source,
        })?;
    let result = rt.block_on(run(opts, render_unavailable, on_ready));
    // Requests still on a blocking thread get a moment to finish; then the process may exit.
    rt.shutdown_timeout(Duration::from_secs(5));
    result
}

/// Migrates the store if needed (the credential tables are part of its schema on both
/// backends), before any request; returns why the render queue cannot be used, if it cannot.
fn prepare(opts: &ServeOptions) -> Result<Option<String>> {
    drop(shotline_store::Store::open(&opts.db, opts.busy_timeout_ms)?);
    Ok(render_refusal(opts))
}

/// On PostgreSQL, whether the render queue accepts the database: a queue that refuses the URL
/// turns the render endpoints into a clear 503 instead of failing the server, and the rest of
/// the dashboard works. Asked once, at start-up (opening the queue migrates its tables, which a
/// read request must not do). On SQLite the queue always works and opens its tables on first
/// use, as before.
fn render_refusal(opts: &ServeOptions) -> Option<String> {
    if !shotline_store::target::is_postgres_url(&opts.db) {
        return None;
    }
    shotline_render::Queue::open(&opts.db, &opts.render_dir, opts.busy_timeout_ms)
        .err()
        .map(|e| format!("the render queue cannot use this PostgreSQL database: {e}"))
}

async fn run(
    opts: &ServeOptions,
    render_unavailable: Option<String>,
    on_ready: impl FnOnce(&Ready),
) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(opts.bind)
        .await
        .map_err(|source| ServerError::Io {
            what: format!("cannot listen on {}", opts.bind),
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ServerError::Io {
        what: "reading the bound address".into(),
        source,
    })?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let (live_tx, _) = broadcast::channel(1024);
    let (credentials, _) = watch::channel(0u64);
    let app: App = Arc::new(Shared {
        db: opts.db.clone(),
        render_dir: opts.render_dir.clone(),
        render_unavailable: render_unavailable.clone(),
        render: opts.render.clone(),
        busy_timeout_ms: opts.busy_timeout_ms,
        secure_cookies: opts.secure_cookies,
        sessions: session::Sessions::new(opts.session_idle),
        live: live_tx.clone(),
        shutdown: stop_rx.clone(),
        credentials: credentials.clone(),
        grid: grid::Cache::default(),
    });
    let poller = live::start_poller(
        live::PollerSetup {
            db: opts.db.clone(),
            render_dir: opts.render_dir.clone(),
            render_unavailable: render_unavailable.is_some(),
            poll: opts.poll,
            credentials,
        },
        live_tx,
        stop_rx.clone(),
    );
    let router = api::router(app.clone())
        .merge(render::router(app.clone()))
        .merge(shot::router(app.clone()))
        .merge(assets::router(app.clone()))
        .merge(media::router(app.clone()))
        .merge(ingest::router(app.clone()))
        .merge(web::router());
    // Large JSON (grids, job lists) is gzipped for clients that accept it; the grid arrives
    // already compressed from its cache and is left alone. Event streams and images are never
    // compressed.
    let router = router
        .layer(tower_http::compression::CompressionLayer::new().gzip(true))
        .layer(axum::middleware::map_response(web::security_headers));
    on_ready(&Ready {
        addr,
        render_unavailable,
    });
    let served = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(wait_for_signal(stop_tx))
    .await;
    let _ = poller.join();
    served.map_err(|source| ServerError::Io {
        what: "serving".into(),
        source,
    })
}

/// Resolves on SIGINT or SIGTERM, first telling event streams and the poller to stop (an open
/// SSE stream would otherwise hold the graceful shutdown forever).
async fn wait_for_signal(stop: watch::Sender<bool>) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {},
                    _ = term.recv() => {},
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
    let _ = stop.send(true);
}
