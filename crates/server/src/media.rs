//! Media of a version: its thumbnail and its review movie, served to the dashboard.
//!
//! The request names only a version id; the file is found through the store (what publish,
//! ingest and `shotline review` recorded), canonicalised (symlinks resolved) and refused unless
//! it lies inside the project root. Movies honour single HTTP byte ranges so `<video>` can
//! seek, carry a strong ETag and Last-Modified, and are streamed in chunks, never read whole.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use axum::body::{Body, Bytes};
use axum::extract::{Path as UrlPath, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use shotline_frames::FrameSet;
use shotline_store::{Store, Version};

use crate::auth::Caller;
use crate::error::{Result, ServerError};
use crate::App;

/// Bytes read from disk per streamed chunk.
const CHUNK: usize = 256 * 1024;

pub(crate) fn router(app: App) -> Router {
    Router::new()
        .route("/api/v1/versions/{id}/thumbnail", get(thumbnail))
        .route("/api/v1/versions/{id}/review", get(review))
        .with_state(app)
}

async fn thumbnail(
    State(app): State<App>,
    _caller: Caller,
    UrlPath(id): UrlPath<i64>,
    headers: HeaderMap,
) -> Result<Response> {
    let file = crate::api::blocking(move || {
        let store = crate::api::read_store(&app)?;
        let path = thumbnail_path(&store, id)?;
        inside_project(&store, &path)
    })
    .await?;
    serve(file, &headers).await
}

async fn review(
    State(app): State<App>,
    _caller: Caller,
    UrlPath(id): UrlPath<i64>,
    headers: HeaderMap,
) -> Result<Response> {
    let file = crate::api::blocking(move || {
        let store = crate::api::read_store(&app)?;
        let movie =
            review_version(&store, id)?.ok_or_else(|| not_found("review movie of version", id))?;
        inside_project(&store, &files_path(&movie))
    })
    .await?;
    serve(file, &headers).await
}

fn not_found(kind: &'static str, id: i64) -> ServerError {
    ServerError::Store(shotline_store::StoreError::NotFound {
        kind,
        name: id.to_string(),
    })
}

/// The single file a version's files name (a movie: folder + file name).
fn files_path(v: &Version) -> PathBuf {
    Path::new(&v.files.dir).join(&v.files.pattern)
}

/// The review movie of version `id`: the version itself when it is one (resource `review`),
/// else the newest review version made from it.
pub(crate) fn review_version(store: &Store, id: i64) -> Result<Option<Version>> {
    let v = store.version(id)?;
    if v.resource == shotline_review::RESOURCE {
        return Ok(Some(v));
    }
    let mut newest: Option<Version> = None;
    for user in store.used_by(id)? {
        let u = store.version(user)?;
        if u.resource == shotline_review::RESOURCE && newest.as_ref().is_none_or(|n| u.id > n.id) {
            newest = Some(u);
        }
    }
    Ok(newest)
}

/// Where a version's thumbnail is, in order of preference: the PNG ingest wrote into the
/// version folder (keeps alpha), the JPEG `shotline review` wrote beside the review movie, or
/// the middle frame itself when the frames are an image format browsers show.
fn thumbnail_path(store: &Store, id: i64) -> Result<PathBuf> {
    let v = store.version(id)?;
    let ingest = Path::new(&v.files.dir).join(shotline_ingest::THUMB_FILE);
    if present(&ingest) {
        return Ok(ingest);
    }
    if let Some(movie) = review_version(store, id)? {
        let jpeg = files_path(&movie).with_extension("jpg");
        if present(&jpeg) {
            return Ok(jpeg);
        }
    }
    middle_image_frame(&v)
        .filter(|p| present(p))
        .ok_or_else(|| not_found("thumbnail of version", id))
}

/// True when something is at `path`, a symlink included (a link out of the project must be
/// found and refused, not skipped for the next candidate).
fn present(path: &Path) -> bool {
    path.symlink_metadata().is_ok()
}

/// The middle present frame of a PNG/JPEG/WebP/GIF version.
fn middle_image_frame(v: &Version) -> Option<PathBuf> {
    let ext = Path::new(&v.files.pattern)
        .extension()?
        .to_str()?
        .to_ascii_lowercase();
    if !matches!(ext.as_str(), "png" | "jpg" | "jpeg" | "webp" | "gif") {
        return None;
    }
    let pattern = Path::new(&v.files.dir).join(&v.files.pattern);
    let Ok(frames) = FrameSet::parse(&v.files.frame_range) else {
        return Some(pattern);
    };
    let Ok(seq) = shotline_sequences::parse_pattern_path(&pattern) else {
        return Some(pattern);
    };
    let middle = usize::try_from(frames.len() / 2).ok()?;
    let frame = frames.iter().nth(middle)?;
    Some(seq.frame_path(frame))
}

/// `path` with symlinks resolved, refused unless it is a regular file inside the project root.
fn inside_project(store: &Store, path: &Path) -> Result<PathBuf> {
    let root = Path::new(&store.project().root);
    let root = root.canonicalize().map_err(|source| ServerError::Io {
        what: format!("cannot resolve the project root {}", root.display()),
        source,
    })?;
    let real = path.canonicalize().map_err(|_| {
        ServerError::Store(shotline_store::StoreError::NotFound {
            kind: "media file",
            name: path.display().to_string(),
        })
    })?;
    if !real.starts_with(&root) {
        return Err(ServerError::Forbidden(format!(
            "{} resolves outside the project root",
            path.display()
        )));
    }
    if !real.is_file() {
        return Err(ServerError::Invalid {
            what: "media file",
            value: path.display().to_string(),
            expected: "a regular file".into(),
        });
    }
    Ok(real)
}

/// The MIME type browsers need to play or show a file, by extension.
fn content_type(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match ext.as_str() {
        "mp4" | "m4v" => "video/mp4",
        "mov" => "video/quicktime",
        "webm" => "video/webm",
        "mxf" => "application/mxf",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "gif" => "image/gif",
        _ => "application/octet-stream",
    }
}

/// What a `Range` header asks of a file of `len` bytes.
#[derive(Debug, PartialEq, Eq)]
enum Wanted {
    /// No (usable) range: the whole file.
    All,
    /// Bytes `start..=end`.
    Part { start: u64, end: u64 },
    /// A range that lies past the end.
    Unsatisfiable,
}

/// Parses a single `bytes=` range (`a-b`, `a-`, `-n`). Several ranges or another unit are
/// answered with the whole file, which RFC 9110 allows.
fn wanted(range: Option<&str>, len: u64) -> Wanted {
    let Some(spec) = range.and_then(|r| r.trim().strip_prefix("bytes=")) else {
        return Wanted::All;
    };
    if spec.contains(',') {
        return Wanted::All;
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return Wanted::All;
    };
    let (a, b) = (a.trim(), b.trim());
    let parsed = match (a.is_empty(), b.is_empty()) {
        (true, false) => b.parse::<u64>().ok().map(|n| {
            if n == 0 {
                None
            } else {
                Some((len.saturating_sub(n), len.saturating_sub(1)))
            }
        }),
        (false, _) => {
            let end = if b.is_empty() {
                Some(u64::MAX)
            } else {
                b.parse::<u64>().ok()
            };
            match (a.parse::<u64>().ok(), end) {
                (Some(s), Some(_)) if s >= len => Some(None),
                (Some(s), Some(e)) if s <= e => Some(Some((s, e.min(len.saturating_sub(1))))),
                _ => None,
            }
        }
        (true, true) => None,
    };
    match parsed {
        None => Wanted::All,
        Some(None) => Wanted::Unsatisfiable,
        Some(Some((start, _))) if len == 0 || start >= len => Wanted::Unsatisfiable,
        Some(Some((start, end))) => Wanted::Part { start, end },
    }
}

/// The validators of a file: a strong ETag from size and modification time, and the
/// modification time as an HTTP date.
struct Validators {
    etag: String,
    last_modified: Option<String>,
}

fn validators(len: u64, modified: Option<SystemTime>) -> Validators {
    let since = modified.and_then(|m| m.duration_since(SystemTime::UNIX_EPOCH).ok());
    let nanos = since.map(|d| d.as_nanos()).unwrap_or_default();
    Validators {
        etag: format!("\"{len:x}-{nanos:x}\""),
        last_modified: since.and_then(|d| http_date(d.as_secs())),
    }
}

/// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`).
fn http_date(secs: u64) -> Option<String> {
    let t = time::OffsetDateTime::from_unix_timestamp(i64::try_from(secs).ok()?).ok()?;
    let f = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    t.format(&f).ok()
}

/// Answers with `path` (already checked): 304 when the browser's copy is current, 206 for a
/// satisfiable range, 416 for one past the end, else 200 with the whole file, streamed.
async fn serve(path: PathBuf, headers: &HeaderMap) -> Result<Response> {
    let meta = std::fs::metadata(&path).map_err(|source| ServerError::Io {
        what: format!("cannot read {}", path.display()),
        source,
    })?;
    let len = meta.len();
    let v = validators(len, meta.modified().ok());
    let header_str = |name| {
        headers
            .get(name)
            .and_then(|h: &HeaderValue| h.to_str().ok())
    };
    if header_str(header::IF_NONE_MATCH).is_some_and(|m| m.split(',').any(|e| e.trim() == v.etag)) {
        return Ok(with_validators(StatusCode::NOT_MODIFIED, &v, Body::empty()).into_response());
    }
    // A range is honoured only while the browser's copy is the same file (If-Range).
    let range = match header_str(header::IF_RANGE) {
        Some(tag) if tag != v.etag => None,
        _ => header_str(header::RANGE),
    };
    let ctype = content_type(&path);
    let mut res = match wanted(range, len) {
        Wanted::Unsatisfiable => {
            let mut r = with_validators(StatusCode::RANGE_NOT_SATISFIABLE, &v, Body::empty());
            set(&mut r, header::CONTENT_RANGE, format!("bytes */{len}"));
            return Ok(r);
        }
        Wanted::All => {
            let mut r = with_validators(StatusCode::OK, &v, stream(path, 0, len)?);
            set(&mut r, header::CONTENT_LENGTH, len.to_string());
            r
        }
        Wanted::Part { start, end } => {
            let count = end - start + 1;
            let mut r =
                with_validators(StatusCode::PARTIAL_CONTENT, &v, stream(path, start, count)?);
            set(
                &mut r,
                header::CONTENT_RANGE,
                format!("bytes {start}-{end}/{len}"),
            );
            set(&mut r, header::CONTENT_LENGTH, count.to_string());
            r
        }
    };
    set(&mut res, header::CONTENT_TYPE, ctype.to_string());
    Ok(res)
}

fn with_validators(status: StatusCode, v: &Validators, body: Body) -> Response {
    let mut r = Response::new(body);
    *r.status_mut() = status;
    set(&mut r, header::ACCEPT_RANGES, "bytes".into());
    set(&mut r, header::ETAG, v.etag.clone());
    // Project media is behind a login: browsers may keep it but must ask again before reuse.
    set(&mut r, header::CACHE_CONTROL, "private, no-cache".into());
    if let Some(lm) = &v.last_modified {
        set(&mut r, header::LAST_MODIFIED, lm.clone());
    }
    r
}

fn set(r: &mut Response, name: header::HeaderName, value: String) {
    if let Ok(v) = HeaderValue::from_str(&value) {
        r.headers_mut().insert(name, v);
    }
}

/// A body reading `count` bytes of `path` from `start`, one chunk at a time on the blocking
/// pool: memory stays at one chunk per response whatever the file's size.
fn stream(path: PathBuf, start: u64, count: u64) -> Result<Body> {
    let mut file = std::fs::File::open(&path).map_err(|source| ServerError::Io {
        what: format!("cannot open {}", path.display()),
        source,
    })?;
    file.seek(SeekFrom::Start(start))
        .map_err(|source| ServerError::Io {
            what: format!("cannot seek in {}", path.display()),
            source,
        })?;
    let chunks = futures_util::stream::unfold(Some((file, count)), |state| async move {
        let (mut file, left) = state?;
        if left == 0 {
            return None;
        }
        let want = usize::try_from(left).map_or(CHUNK, |l| l.min(CHUNK));
        let read = tokio::task::spawn_blocking(move || {
            let mut buf = vec![0; want];
            let n = file.read(&mut buf)?;
            buf.truncate(n);
            Ok::<_, std::io::Error>((file, buf))
        })
        .await
        .map_err(std::io::Error::other)
        .and_then(|r| r);
        match read {
            Ok((_, buf)) if buf.is_empty() => Some((
                Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the file shrank while it was sent",
                )),
                None,
            )),
            Ok((file, buf)) => {
                let n = buf.len() as u64;
                Some((Ok(Bytes::from(buf)), Some((file, left.saturating_sub(n)))))
            }
            Err(e) => Some((Err(e), None)),
        }
    });
    Ok(Body::from_stream(chunks))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(wanted(None, 100), Wanted::All);
        assert_eq!(
            wanted(Some("bytes=0-9"), 100),
            Wanted::Part { start: 0, end: 9 }
        );
        assert_eq!(
            wanted(Some("bytes=90-"), 100),
            Wanted::Part { start: 90, end: 99 }
        );
        assert_eq!(
            wanted(Some("bytes=-10"), 100),
            Wanted::Part { start: 90, end: 99 }
        );
        assert_eq!(
            wanted(Some("bytes=50-500"), 100),
            Wanted::Part { start: 50, end: 99 }
        );
        assert_eq!(
            wanted(Some("bytes=-500"), 100),
            Wanted::Part { start: 0, end: 99 }
        );
        assert_eq!(wanted(Some("bytes=100-"), 100), Wanted::Unsatisfiable);
        assert_eq!(wanted(Some("bytes=-0"), 100), Wanted::Unsatisfiable);
        assert_eq!(wanted(Some("bytes=0-"), 0), Wanted::Unsatisfiable);
        assert_eq!(wanted(Some("bytes=9-3"), 100), Wanted::All);
        assert_eq!(wanted(Some("bytes=0-1,5-6"), 100), Wanted::All);
        assert_eq!(wanted(Some("items=0-1"), 100), Wanted::All);
        assert_eq!(wanted(Some("bytes=x-"), 100), Wanted::All);
        assert_eq!(
            wanted(Some("bytes=18446744073709551615-"), 100),
            Wanted::Unsatisfiable
        );
    }

    #[test]
    fn http_dates_and_types() {
        assert_eq!(
            http_date(784_111_777).unwrap(),
            "Sun, 06 Nov 1994 08:49:37 GMT"
        );
        assert_eq!(content_type(Path::new("a/b.MP4")), "video/mp4");
        assert_eq!(content_type(Path::new("a/_thumbnail.png")), "image/png");
        let v = validators(10, Some(SystemTime::UNIX_EPOCH));
        assert_eq!(v.etag, "\"a-0\"");
    }
}
