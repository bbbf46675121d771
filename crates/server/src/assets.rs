//! The asset library's API: assets by group (folder-like browsing) with the newest version of
//! each step and resource, its tags and ratings; and setting a version's tags and the caller's
//! rating. Both writes are CSRF-checked and go through the store as the caller, so its role
//! rules hold (a standard user tags only their own versions; anyone rates for themselves).

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use shotline_store::{Actor, Asset, ItemKind, RatingSummary, Store, Version, VersionQuery};

use crate::api::{blocking, read_store};
use crate::auth::Caller;
use crate::error::Result;
use crate::App;

pub(crate) fn router(app: App) -> Router {
    Router::new()
        .route("/api/v1/assets", get(library))
        .route("/api/v1/versions/{id}/tags", put(set_tags))
        .route("/api/v1/versions/{id}/rating", put(set_rating))
        .with_state(app)
}

#[derive(Debug, Deserialize)]
struct LibraryQuery {
    group: Option<String>,
}

/// One folder of the library.
#[derive(Debug, Serialize)]
struct Group {
    /// Group code; `null` for assets in no group.
    code: Option<String>,
    count: usize,
}

/// An asset's newest version of one step × resource.
#[derive(Debug, Serialize)]
struct Card {
    #[serde(flatten)]
    version: Version,
    label: String,
    rating: Option<RatingSummary>,
}

#[derive(Debug, Serialize)]
struct AssetView {
    #[serde(flatten)]
    asset: Asset,
    versions: Vec<Card>,
}

/// The groups, and the assets of `?group=` (all when absent; `?group=` empty: those in no
/// group), each with its newest versions: three queries whatever the number of assets.
async fn library(
    State(app): State<App>,
    caller: Caller,
    Query(q): Query<LibraryQuery>,
) -> Result<Json<Value>> {
    blocking(move || {
        let store = read_store(&app)?;
        let assets = store.assets(None)?;
        let groups = groups_of(&assets);
        let chosen: Vec<Asset> = assets
            .into_iter()
            .filter(|a| match &q.group {
                None => true,
                Some(g) if g.is_empty() => a.group.is_none(),
                Some(g) => a.group.as_deref() == Some(g.as_str()),
            })
            .collect();
        let views = with_versions(&store, chosen, &caller.user)?;
        Ok(Json(json!({"groups": groups, "assets": views})))
    })
    .await
}

fn groups_of(assets: &[Asset]) -> Vec<Group> {
    let mut counts: BTreeMap<Option<String>, usize> = BTreeMap::new();
    for a in assets {
        *counts.entry(a.group.clone()).or_default() += 1;
    }
    counts
        .into_iter()
        .map(|(code, count)| Group { code, count })
        .collect()
}

fn with_versions(store: &Store, assets: Vec<Asset>, user: &str) -> Result<Vec<AssetView>> {
    let mut ratings = store.rating_summaries(user)?;
    let mut cards: BTreeMap<String, Vec<Card>> = BTreeMap::new();
    let latest = store.versions(&VersionQuery {
        kind: Some(ItemKind::Asset),
        latest: true,
        ..VersionQuery::default()
    })?;
    for v in latest {
        cards.entry(v.item.code.clone()).or_default().push(Card {
            label: v.label(),
            rating: ratings.remove(&v.id),
            version: v,
        });
    }
    Ok(assets
        .into_iter()
        .map(|a| AssetView {
            versions: cards.remove(&a.code).unwrap_or_default(),
            asset: a,
        })
        .collect())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TagsBody {
    #[serde(default)]
    add: Vec<String>,
    #[serde(default)]
    remove: Vec<String>,
}

async fn set_tags(
    State(app): State<App>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Json(body): Json<TagsBody>,
) -> Result<Json<Value>> {
    caller.check_csrf(&headers)?;
    blocking(move || {
        let mut store = Store::open(&app.db, app.busy_timeout_ms)?;
        let tags = store.retag_version(&Actor::named(&caller.user), id, &body.add, &body.remove)?;
        Ok(Json(json!({"id": id, "tags": tags})))
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RatingBody {
    rating: i64,
}

async fn set_rating(
    State(app): State<App>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Json(body): Json<RatingBody>,
) -> Result<Json<Value>> {
    caller.check_csrf(&headers)?;
    blocking(move || {
        let mut store = Store::open(&app.db, app.busy_timeout_ms)?;
        store.rate_version(&Actor::named(&caller.user), id, body.rating)?;
        let summary = store.rating_summaries(&caller.user)?.remove(&id);
        Ok(Json(json!({"id": id, "rating": summary})))
    })
    .await
}
