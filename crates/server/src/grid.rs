//! The shot grid (`GET /api/v1/shots`): one row per shot, one cell per shot step.
//!
//! Built to stay fast at 10,000 shots with many readers while someone publishes:
//! - one query set whatever the number of shots (steps, shots, statuses, latest versions with
//!   a thumbnail flag, tags), joined here: no query per shot;
//! - the joined grid is kept in memory, keyed by a cheap change marker (the newest audit event
//!   and the newest version): a change costs one rebuild shared by every reader (the rebuild is
//!   single-flight), no change costs one tiny query. Under a stream of writes, a grid is reused
//!   for as long as it took to build (at most [`MAX_STALE`]), so rebuilding never takes more
//!   than about half the time and a reader paging through sees one grid, not one per page;
//! - each answer (filters + page) is serialised and gzipped once per marker and served from
//!   memory, with an `ETag` so a browser that has it gets `304 Not Modified`;
//! - filters (`sequence`, `status`, `assignee`, `tag`, `q`) and paging (`limit`, `cursor`) run
//!   on the server, so a page of 200 rows is a small answer.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use shotline_store::sql::{params, Conn, Row};
use shotline_store::{ItemKind, Shot, State as TaskState, Step, VersionNumber};

use crate::api::{blocking, read_store};
use crate::auth::Caller;
use crate::error::{Result, ServerError, SqlContext};
use crate::App;

/// Most rows one page may ask for.
pub const MAX_LIMIT: usize = 10_000;
/// Bodies smaller than this are not worth compressing.
const GZIP_ABOVE: usize = 1024;
/// The longest a grid older than the last change is served (while it is younger than its own
/// build time): the same order as the live updates' poll.
pub const MAX_STALE: std::time::Duration = std::time::Duration::from_secs(1);
/// Distinct answers kept per marker (filter and page combinations); more start over.
const KEEP_BODIES: usize = 256;

/// The grid built at one marker, and the answers served from it.
#[derive(Default)]
pub(crate) struct Cache {
    model: tokio::sync::Mutex<Option<Arc<Model>>>,
    bodies: Mutex<Bodies>,
}

#[derive(Default)]
struct Bodies {
    marker: Option<Marker>,
    by_query: HashMap<String, Arc<Body>>,
}

/// One serialised answer.
struct Body {
    etag: String,
    json: Vec<u8>,
    gzip: Option<Vec<u8>>,
}

/// The whole grid, joined.
struct Model {
    marker: Marker,
    built: std::time::Instant,
    took: std::time::Duration,
    steps: Vec<Step>,
    rows: Vec<GridRow>,
    facets: Facets,
}

/// Values the filter controls offer.
#[derive(Debug, Default, Serialize)]
struct Facets {
    sequences: BTreeSet<String>,
    assignees: BTreeSet<String>,
    tags: BTreeSet<String>,
}

/// One cell of the grid: a shot's task at one step.
#[derive(Debug, Serialize)]
struct Cell {
    state: TaskState,
    assignee: Option<String>,
    completion: i64,
    updated_at: Option<String>,
    latest: Option<LatestVersion>,
}

/// The newest version of a shot × step (any resource).
#[derive(Debug, Clone, Serialize)]
struct LatestVersion {
    /// Version id: the shot page and `/api/v1/versions/{id}/thumbnail` use it.
    id: i64,
    number: i64,
    label: String,
    resource: String,
    created_at: String,
    author: String,
    frame_range: String,
    /// True when a review movie (and so its thumbnail) exists for this version, or it is one.
    has_thumbnail: bool,
}

#[derive(Debug, Serialize)]
struct GridRow {
    #[serde(flatten)]
    shot: Shot,
    /// Tags on any version of the shot.
    tags: Vec<String>,
    steps: BTreeMap<String, Cell>,
}

/// Filters and paging of `GET /api/v1/shots`.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GridQuery {
    /// Only this editorial sequence.
    sequence: Option<String>,
    /// Only shots with a step in this state.
    status: Option<String>,
    /// Only shots with a step assigned to this user.
    assignee: Option<String>,
    /// Only shots with a version carrying this tag.
    tag: Option<String>,
    /// Case-insensitive text in the code, name or sequence.
    q: Option<String>,
    /// At most this many rows (default: all).
    limit: Option<usize>,
    /// Rows after this shot code (the previous page's `next_cursor`).
    cursor: Option<String>,
}

/// One answer.
#[derive(Serialize)]
struct Page<'a> {
    steps: &'a [Step],
    shots: Vec<&'a GridRow>,
    /// Rows matching the filters, all pages together.
    total: usize,
    /// Pass as `cursor` for the next page; `null` on the last.
    next_cursor: Option<&'a str>,
    facets: &'a Facets,
    /// The change marker this answer was built at.
    marker: String,
}

/// `GET /api/v1/shots`.
pub(crate) async fn shots(
    State(app): State<App>,
    _caller: Caller,
    headers: HeaderMap,
    Query(q): Query<GridQuery>,
) -> Result<Response> {
    let filter = Filter::of(&q)?;
    let a = app.clone();
    let marker = blocking(move || {
        let conn = crate::accounts::open(&a.db, a.busy_timeout_ms)?;
        change_marker(&conn, &a.db)
    })
    .await?;
    let key = serde_json::to_string(&q).map_err(|e| ServerError::Internal(e.to_string()))?;
    let model = app.grid.model(&app, marker).await?;
    // The tag names the data served (the grid's own marker), never only the request's.
    let etag = format!("\"g{}-{:016x}\"", model.marker, fnv(key.as_bytes()));
    if matches_etag(&headers, &etag) {
        return Ok(not_modified(&etag));
    }
    let body = match app.grid.body(model.marker, &key) {
        Some(b) => b,
        None => {
            let (tag, m) = (etag.clone(), model.clone());
            let body = Arc::new(blocking(move || render(&m, &filter, tag)).await?);
            app.grid.keep(model.marker, key, body.clone());
            body
        }
    };
    Ok(respond(&headers, &body))
}

/// A value that moves whenever anything the grid shows may have changed: every change to
/// shots, statuses, steps, users and tags leaves an audit event, every version has an id.
/// Plain ids, so the same on both backends: on PostgreSQL every store write holds the writer
/// lock from its first insert to its commit, so ids become visible in order and a reader never
/// sees a newer id before an older one.
fn change_marker(conn: &Conn, db: &std::path::Path) -> Result<Marker> {
    conn.query_row(
        "SELECT COALESCE((SELECT max(id) FROM events), 0),
                COALESCE((SELECT max(id) FROM versions), 0)",
        params![],
        |r| Ok(Marker(r.get(0)?, r.get(1)?)),
    )
    .sql(db, "reading the change marker")
}

/// The newest audit event and version ids: both only grow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Marker(i64, i64);

impl std::fmt::Display for Marker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.0, self.1)
    }
}

impl Cache {
    fn body(&self, marker: Marker, key: &str) -> Option<Arc<Body>> {
        let bodies = lock(&self.bodies);
        (bodies.marker == Some(marker))
            .then(|| bodies.by_query.get(key).cloned())
            .flatten()
    }

    fn keep(&self, marker: Marker, key: String, body: Arc<Body>) {
        let mut bodies = lock(&self.bodies);
        if bodies.marker != Some(marker) || bodies.by_query.len() >= KEEP_BODIES {
            bodies.marker = Some(marker);
            bodies.by_query.clear();
        }
        bodies.by_query.insert(key, body);
    }

    /// The grid at `marker` or newer, built at most once at a time: readers arriving while it
    /// is built wait for it instead of building their own.
    async fn model(&self, app: &App, marker: Marker) -> Result<Arc<Model>> {
        let mut slot = self.model.lock().await;
        // Built at this marker or later (another reader's rebuild), or recently enough.
        if let Some(m) = slot
            .as_ref()
            .filter(|m| m.marker >= marker || m.built.elapsed() < m.took.min(MAX_STALE))
        {
            return Ok(m.clone());
        }
        let a = app.clone();
        let model = Arc::new(blocking(move || build(&a)).await?);
        *slot = Some(model.clone());
        Ok(model)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Reads the whole grid: the marker first, so the data is never older than its marker.
fn build(app: &App) -> Result<Model> {
    let start = std::time::Instant::now();
    let conn = crate::accounts::open(&app.db, app.busy_timeout_ms)?;
    let marker = change_marker(&conn, &app.db)?;
    let store = read_store(app)?;
    let steps = store.steps(Some(ItemKind::Shot))?;
    let shots = store.shots(None)?;
    let mut cells: HashMap<(i64, String), Cell> = HashMap::new();
    let ids: HashMap<String, i64> = shots.iter().map(|s| (s.code.clone(), s.id)).collect();
    for s in store.statuses(None)? {
        if s.item.kind != ItemKind::Shot {
            continue;
        }
        if let Some(id) = ids.get(&s.item.code) {
            cells.insert(
                (*id, s.step),
                Cell {
                    state: s.state,
                    assignee: s.assignee,
                    completion: s.completion,
                    updated_at: Some(s.updated_at),
                    latest: None,
                },
            );
        }
    }
    let mut latest = latest_versions(&conn, &app.db)?;
    let mut tags = shot_tags(&conn, &app.db)?;
    let mut facets = Facets::default();
    let rows = shots
        .into_iter()
        .map(|shot| {
            let steps_of = steps
                .iter()
                .map(|st| {
                    let key = (shot.id, st.code.clone());
                    let mut cell = cells.remove(&key).unwrap_or(Cell {
                        state: TaskState::Todo,
                        assignee: None,
                        completion: 0,
                        updated_at: None,
                        latest: None,
                    });
                    cell.latest = latest.remove(&key);
                    if let Some(a) = &cell.assignee {
                        facets.assignees.insert(a.clone());
                    }
                    (st.code.clone(), cell)
                })
                .collect();
            if let Some(s) = &shot.sequence {
                facets.sequences.insert(s.clone());
            }
            let shot_tags = tags.remove(&shot.id).unwrap_or_default();
            facets.tags.extend(shot_tags.iter().cloned());
            GridRow {
                tags: shot_tags,
                shot,
                steps: steps_of,
            }
        })
        .collect();
    Ok(Model {
        marker,
        built: std::time::Instant::now(),
        took: start.elapsed(),
        steps,
        rows,
        facets,
    })
}

/// The newest version of every shot × step (by registration order, any resource), with
/// whether a review movie, and so a thumbnail, exists for it: one query.
fn latest_versions(
    conn: &Conn,
    db: &std::path::Path,
) -> Result<HashMap<(i64, String), LatestVersion>> {
    conn.query_map(
        "SELECT v.item_id, s.code, v.id, v.number, v.resource, v.created_at, u.name,
                    v.frame_range,
                    v.resource = 'review' OR EXISTS (
                      SELECT 1 FROM dependencies d JOIN versions r ON r.id = d.version_id
                      WHERE d.uses_id = v.id AND r.resource = 'review')
             FROM versions v
             JOIN steps s ON s.id = v.step_id
             JOIN users u ON u.id = v.author_id
             WHERE v.id IN (SELECT max(id) FROM versions WHERE item_kind = 'shot'
                            GROUP BY item_id, step_id)",
        params![],
        latest_version,
    )
    .map(|rows| rows.into_iter().collect())
    .sql(db, "reading the latest versions")
}

/// One row of [`latest_versions`]: its shot id and step code, and the version.
fn latest_version(r: &Row) -> shotline_store::sql::Result<((i64, String), LatestVersion)> {
    let number: i64 = r.get(3)?;
    Ok((
        (r.get(0)?, r.get(1)?),
        LatestVersion {
            id: r.get(2)?,
            number,
            label: VersionNumber::from_i64(number)
                .map(|n| n.to_string())
                .unwrap_or_else(|| format!("version {number}")),
            resource: r.get(4)?,
            created_at: r.get(5)?,
            author: r.get(6)?,
            frame_range: r.get(7)?,
            has_thumbnail: r.get(8)?,
        },
    ))
}

/// Tags on any version of each shot, by shot id: one query.
fn shot_tags(conn: &Conn, db: &std::path::Path) -> Result<HashMap<i64, Vec<String>>> {
    let rows: Vec<(i64, String)> = conn
        .query_map(
            "SELECT DISTINCT v.item_id, t.name FROM version_tags vt
             JOIN versions v ON v.id = vt.version_id JOIN tags t ON t.id = vt.tag_id
             WHERE v.item_kind = 'shot' ORDER BY v.item_id, t.name",
            params![],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .sql(db, "reading tags")?;
    let mut out: HashMap<i64, Vec<String>> = HashMap::new();
    for (item, tag) in rows {
        out.entry(item).or_default().push(tag);
    }
    Ok(out)
}

/// A checked [`GridQuery`].
struct Filter {
    sequence: Option<String>,
    status: Option<TaskState>,
    assignee: Option<String>,
    tag: Option<String>,
    text: Option<String>,
    limit: usize,
    cursor: Option<String>,
}

impl Filter {
    fn of(q: &GridQuery) -> Result<Filter> {
        let status = q
            .status
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(str::parse::<TaskState>)
            .transpose()?;
        let limit = match q.limit {
            None => usize::MAX,
            Some(n) if (1..=MAX_LIMIT).contains(&n) => n,
            Some(n) => {
                return Err(ServerError::Invalid {
                    what: "limit",
                    value: n.to_string(),
                    expected: format!("1 to {MAX_LIMIT}"),
                })
            }
        };
        let some = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
        Ok(Filter {
            sequence: some(&q.sequence),
            status,
            assignee: some(&q.assignee),
            tag: some(&q.tag),
            text: some(&q.q).map(|t| t.to_lowercase()),
            limit,
            cursor: some(&q.cursor),
        })
    }

    fn keeps(&self, r: &GridRow) -> bool {
        let cells = || r.steps.values();
        self.sequence
            .as_ref()
            .is_none_or(|s| r.shot.sequence.as_ref() == Some(s))
            && self.status.is_none_or(|st| cells().any(|c| c.state == st))
            && self
                .assignee
                .as_ref()
                .is_none_or(|a| cells().any(|c| c.assignee.as_ref() == Some(a)))
            && self.tag.as_ref().is_none_or(|t| r.tags.contains(t))
            && self.text.as_ref().is_none_or(|t| {
                r.shot.code.to_lowercase().contains(t)
                    || r.shot.name.to_lowercase().contains(t)
                    || r.shot
                        .sequence
                        .as_ref()
                        .is_some_and(|s| s.to_lowercase().contains(t))
            })
    }
}

/// Filters, pages, serialises and compresses one answer.
fn render(model: &Model, f: &Filter, etag: String) -> Result<Body> {
    let mut total = 0usize;
    let mut page: Vec<&GridRow> = Vec::new();
    let mut more = false;
    for r in &model.rows {
        if !f.keeps(r) {
            continue;
        }
        if f.cursor
            .as_ref()
            .is_some_and(|c| r.shot.code.as_str() <= c.as_str())
        {
            total += 1;
            continue;
        }
        total += 1;
        if page.len() < f.limit {
            page.push(r);
        } else {
            more = true;
        }
    }
    let next_cursor = if more {
        page.last().map(|r| r.shot.code.as_str())
    } else {
        None
    };
    let json = serde_json::to_vec(&Page {
        steps: &model.steps,
        shots: page,
        total,
        next_cursor,
        facets: &model.facets,
        marker: model.marker.to_string(),
    })
    .map_err(|e| ServerError::Internal(e.to_string()))?;
    let gzip = (json.len() > GZIP_ABOVE).then(|| gzip(&json)).transpose()?;
    Ok(Body { etag, json, gzip })
}

fn gzip(data: &[u8]) -> Result<Vec<u8>> {
    use std::io::Write as _;
    let mut enc = flate2::write::GzEncoder::new(
        Vec::with_capacity(data.len() / 8),
        flate2::Compression::fast(),
    );
    enc.write_all(data)
        .and_then(|()| enc.finish())
        .map_err(|source| ServerError::Io {
            what: "compressing the grid".into(),
            source,
        })
}

/// FNV-1a: a stable short hash of the query for the ETag (not a secret).
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn matches_etag(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| {
            let t = t.trim();
            t == "*" || t.trim_start_matches("W/") == etag
        })
}

fn not_modified(etag: &str) -> Response {
    let mut res = StatusCode::NOT_MODIFIED.into_response();
    if let Ok(v) = HeaderValue::from_str(etag) {
        res.headers_mut().insert(header::ETAG, v);
    }
    res
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|e| {
            let mut parts = e.split(';');
            let name = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| p.trim().replace(' ', "") == "q=0");
            name.eq_ignore_ascii_case("gzip") && !refused
        })
}

fn respond(headers: &HeaderMap, body: &Body) -> Response {
    let (bytes, gz) = match (&body.gzip, accepts_gzip(headers)) {
        (Some(g), true) => (g.clone(), true),
        _ => (body.json.clone(), false),
    };
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    if let Ok(v) = HeaderValue::from_str(&body.etag) {
        h.insert(header::ETAG, v);
    }
    if gz {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(k: header::HeaderName, v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(k, v.parse().unwrap());
        h
    }

    #[test]
    fn etags_match_lists_and_weak_forms() {
        let h = headers(header::IF_NONE_MATCH, "\"a\", W/\"g1.2-ff\"");
        assert!(matches_etag(&h, "\"g1.2-ff\""));
        assert!(!matches_etag(&h, "\"g1.3-ff\""));
        assert!(!matches_etag(&HeaderMap::new(), "\"x\""));
    }

    #[test]
    fn gzip_only_when_accepted() {
        assert!(accepts_gzip(&headers(
            header::ACCEPT_ENCODING,
            "br, gzip;q=0.8"
        )));
        assert!(!accepts_gzip(&headers(header::ACCEPT_ENCODING, "gzip;q=0")));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn bad_filters_name_the_value() {
        let q = GridQuery {
            status: Some("DONE".into()),
            ..GridQuery::default()
        };
        assert!(Filter::of(&q).is_err());
        let q = GridQuery {
            limit: Some(0),
            ..GridQuery::default()
        };
        let e = Filter::of(&q).err().unwrap().to_string();
        assert!(e.contains("limit") && e.contains("10000"), "{e}");
    }

    #[test]
    fn fnv_is_stable() {
        assert_eq!(fnv(b""), 0xcbf2_9ce4_8422_2325);
        assert_ne!(fnv(b"a"), fnv(b"b"));
    }
}
