//! `shotline ramses ...`: talk to a Ramses daemon (ping, listings, sync of the outbox) and be
//! one (`serve`). The library (`shotline-ramses`) does the work; this module parses, calls it
//! and prints. JSON schemas are documented in `docs/ramses.md`.

use std::net::IpAddr;
use std::sync::atomic::AtomicBool;

use anyhow::{Context as _, Result};
use clap::{Args, Subcommand};
use serde::Serialize;
use serde_json::{Map, Value};
use shotline_ramses::mirror::{self, Mirror, MirrorOutcome};
use shotline_ramses::objects::{AssetData, ShotData, StatusData, StepData};
use shotline_ramses::serve::{Backend, ServeOptions, Server};
use shotline_ramses::{Client, ClientOptions, ObjectType, RamObject};
use shotline_store::{Status, Store, Version};

use super::track::common::{actor, open_rw};
use crate::context::Ctx;
use crate::output::Exit;

/// `shotline ramses ...`
#[derive(Debug, Subcommand)]
#[command(after_help = "\
Examples:
  shotline ramses ping                          is the daemon there, who is logged in
  shotline ramses shots --json                  every shot with its data, one query
  shotline ramses status --item SH010
  shotline ramses sync                          push what the mirror could not push yet
  shotline ramses serve                         be the daemon (localhost:18185) for add-ons

The daemon is ramses.host:ramses.port from shotline.yaml (localhost:18185 by default).
With ramses.sync: true, publish, ingest and status set also update Ramses (docs/ramses.md).")]
pub enum RamsesCmd {
    /// Check the daemon answers: its version and the logged-in user.
    #[command(after_help = "Example:\n  shotline ramses ping --json")]
    Ping,
    /// List the daemon's projects.
    #[command(after_help = "Example:\n  shotline ramses projects")]
    Projects,
    /// List the shots of the project with their data (one query).
    #[command(
        after_help = "Examples:\n  shotline ramses shots\n  shotline ramses shots --project DEMO --json"
    )]
    Shots(ListArgs),
    /// List the assets of the project with their data (one query).
    #[command(after_help = "Example:\n  shotline ramses assets --json")]
    Assets(ListArgs),
    /// List the steps of the project.
    #[command(after_help = "Example:\n  shotline ramses steps")]
    Steps(ListArgs),
    /// List task statuses (item × step) with their state, version and completion.
    #[command(
        after_help = "Examples:\n  shotline ramses status\n  shotline ramses status --item SH010 --json"
    )]
    Status {
        #[command(flatten)]
        list: ListArgs,
        /// Only this item (shot or asset short name).
        #[arg(long)]
        item: Option<String>,
    },
    /// Push the changes waiting in the outbox (exit 1 if some were refused or kept).
    #[command(after_help = "\
Examples:
  shotline ramses sync
  shotline ramses sync --json

Idempotent: a change is pushed once; one Ramses refused (unknown shot, step or state) is
reported and not retried; one that failed because the daemon is down, slow or wrong is kept.
Several processes may sync at once: each change is claimed by one of them.
Pushed rows older than ramses.outbox_keep_days (30 by default) are pruned and counted;
refused rows are kept until resolved.")]
    Sync {
        /// Ramses project (short name or uuid); default ramses.project, else the current one.
        #[arg(long)]
        project: Option<String>,
    },
    /// Answer Ramses daemon queries from this project (a headless Ramses daemon).
    #[command(after_help = "\
Examples:
  shotline ramses serve                          localhost:18185
  shotline ramses serve --port 18200
  SHOTLINE_USER=farm shotline ramses serve       writes are made (and role-checked) as farm

Ramses add-ons and Ramses-Py scripts connect to it as to the Ramses client, on render nodes,
in CI and on servers with no Ramses client. Writes (setData, create) go through the tracking
database's role rules and audit trail. Listens on localhost only unless --bind says otherwise;
the protocol has no authentication, so bind elsewhere only behind a firewall or tunnel.")]
    Serve(ServeArgs),
}

/// Options of the listing commands.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Ramses project (short name or uuid); default ramses.project, else the current one.
    #[arg(long)]
    pub project: Option<String>,
    /// Fetch the list, then one getData per object, as older clients do (slow; for
    /// comparisons and for daemons without getObjects).
    #[arg(long)]
    pub per_object: bool,
}

/// Options of `ramses serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Port to listen on (default ramses.port, 18185).
    #[arg(long)]
    pub port: Option<u16>,
    /// Address to listen on. Localhost unless given; anything else exposes an unauthenticated
    /// protocol to the network.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// Connections served at once; more are answered "busy".
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub max_connections: u64,
}

/// Runs `shotline ramses ...`.
pub fn run(cmd: &RamsesCmd, ctx: &Ctx) -> Result<Exit> {
    match cmd {
        RamsesCmd::Ping => ping(ctx),
        RamsesCmd::Projects => projects(ctx),
        RamsesCmd::Shots(a) => shots(ctx, a),
        RamsesCmd::Assets(a) => assets(ctx, a),
        RamsesCmd::Steps(a) => steps(ctx, a),
        RamsesCmd::Status { list, item } => status(ctx, list, item.as_deref()),
        RamsesCmd::Sync { project } => sync(ctx, project.as_deref()),
        RamsesCmd::Serve(a) => serve(ctx, a),
    }
}

/// The client for the configured daemon.
pub fn client(ctx: &Ctx) -> Client {
    Client::new(ClientOptions::from_config(&ctx.config.config.ramses))
}

fn configured_project<'a>(ctx: &'a Ctx, flag: Option<&'a str>) -> Option<&'a str> {
    flag.or(Some(ctx.config.config.ramses.project.as_str()))
        .filter(|p| !p.is_empty())
}

/// The Ramses project uuid the listings are about.
fn project_uuid(ctx: &Ctx, c: &Client, flag: Option<&str>) -> Result<String> {
    match configured_project(ctx, flag) {
        Some(p) => c
            .projects()?
            .into_iter()
            .find(|o| o.uuid == p || o.short_name().eq_ignore_ascii_case(p))
            .map(|o| o.uuid)
            .with_context(|| format!("the Ramses daemon on {} has no project {p:?}", c.address())),
        None => c
            .current_project()?
            .map(|o| o.uuid)
            .with_context(|| {
                format!(
                    "the Ramses daemon on {} has no current project; give --project or set ramses.project",
                    c.address()
                )
            }),
    }
}

#[derive(Serialize)]
struct PingReport {
    address: String,
    version: String,
    ramses: String,
    user_uuid: String,
}

fn ping(ctx: &Ctx) -> Result<Exit> {
    let c = client(ctx);
    let p = c.ping()?;
    let r = PingReport {
        address: c.address(),
        version: p.version,
        ramses: p.ramses,
        user_uuid: p.user_uuid,
    };
    if ctx.out.json() {
        ctx.out.json_doc(&r)?;
    } else {
        ctx.out.line(format!(
            "{} answers on {}: version {}, user {}",
            r.ramses,
            r.address,
            r.version,
            if r.user_uuid.is_empty() {
                "nobody logged in"
            } else {
                &r.user_uuid
            }
        ))?;
    }
    Ok(Exit::problems_if(r.user_uuid.is_empty()))
}

/// One listed object: uuid, names and the full data (JSON schema in docs/ramses.md).
#[derive(Serialize)]
struct Listed<T: Serialize> {
    uuid: String,
    short_name: String,
    name: String,
    #[serde(flatten)]
    fields: T,
    data: Map<String, Value>,
}

fn listed<T: Serialize>(o: RamObject, fields: T) -> Listed<T> {
    Listed {
        short_name: o.short_name().to_string(),
        name: o.name().to_string(),
        uuid: o.uuid,
        fields,
        data: o.data,
    }
}

fn projects(ctx: &Ctx) -> Result<Exit> {
    let list: Vec<Listed<()>> = client(ctx)
        .projects()?
        .into_iter()
        .map(|o| listed(o, ()))
        .collect();
    ctx.out
        .records(&list, &["SHORT NAME", "NAME", "UUID"], |l| {
            vec![l.short_name.clone(), l.name.clone(), l.uuid.clone()]
        })?;
    Ok(Exit::Clean)
}

fn fetch(ctx: &Ctx, a: &ListArgs, t: ObjectType) -> Result<Vec<RamObject>> {
    let c = client(ctx);
    let project = project_uuid(ctx, &c, a.project.as_deref())?;
    let list = if a.per_object {
        c.objects_one_by_one(t, &project)?
    } else {
        c.objects_of_project(t, &project)?
    };
    tracing::info!(queries = c.queries_sent(), "ramses queries sent");
    Ok(list)
}

#[derive(Serialize)]
struct ShotFields {
    sequence: String,
    duration: Option<f64>,
}

fn shots(ctx: &Ctx, a: &ListArgs) -> Result<Exit> {
    let list: Vec<Listed<ShotFields>> = fetch(ctx, a, ObjectType::Shot)?
        .into_iter()
        .map(|o| {
            let d: ShotData = o.typed().unwrap_or_default();
            listed(
                o,
                ShotFields {
                    sequence: d.sequence,
                    duration: d.duration,
                },
            )
        })
        .collect();
    ctx.out
        .records(&list, &["SHOT", "NAME", "DURATION", "UUID"], |l| {
            vec![
                l.short_name.clone(),
                l.name.clone(),
                l.fields
                    .duration
                    .map(|d| format!("{d:.2}s"))
                    .unwrap_or_default(),
                l.uuid.clone(),
            ]
        })?;
    Ok(Exit::Clean)
}

#[derive(Serialize)]
struct AssetFields {
    asset_group: String,
    tags: Vec<String>,
}

fn assets(ctx: &Ctx, a: &ListArgs) -> Result<Exit> {
    let list: Vec<Listed<AssetFields>> = fetch(ctx, a, ObjectType::Asset)?
        .into_iter()
        .map(|o| {
            let d: AssetData = o.typed().unwrap_or_default();
            listed(
                o,
                AssetFields {
                    asset_group: d.asset_group,
                    tags: d.tags,
                },
            )
        })
        .collect();
    ctx.out.records(&list, &["ASSET", "NAME", "UUID"], |l| {
        vec![l.short_name.clone(), l.name.clone(), l.uuid.clone()]
    })?;
    Ok(Exit::Clean)
}

#[derive(Serialize)]
struct StepFields {
    r#type: String,
}

fn steps(ctx: &Ctx, a: &ListArgs) -> Result<Exit> {
    let list: Vec<Listed<StepFields>> = fetch(ctx, a, ObjectType::Step)?
        .into_iter()
        .map(|o| {
            let d: StepData = o.typed().unwrap_or_default();
            listed(
                o,
                StepFields {
                    r#type: d.step_type,
                },
            )
        })
        .collect();
    ctx.out
        .records(&list, &["STEP", "NAME", "TYPE", "UUID"], |l| {
            vec![
                l.short_name.clone(),
                l.name.clone(),
                l.fields.r#type.clone(),
                l.uuid.clone(),
            ]
        })?;
    Ok(Exit::Clean)
}

/// One task status with its references resolved to short names.
#[derive(Serialize)]
struct StatusRow {
    uuid: String,
    item: String,
    item_type: String,
    step: String,
    state: String,
    completion: Option<i64>,
    version: Option<i64>,
    published: Option<bool>,
    date: String,
    comment: String,
}

fn status(ctx: &Ctx, a: &ListArgs, item: Option<&str>) -> Result<Exit> {
    let c = client(ctx);
    let project = project_uuid(ctx, &c, a.project.as_deref())?;
    let mut names = std::collections::HashMap::new();
    for t in [ObjectType::Shot, ObjectType::Asset, ObjectType::Step] {
        for o in c.objects_of_project(t, &project)? {
            names.insert(o.uuid.clone(), o.short_name().to_string());
        }
    }
    for o in c.objects(ObjectType::State)? {
        names.insert(o.uuid.clone(), o.short_name().to_string());
    }
    let name = |u: &str| names.get(u).cloned().unwrap_or_else(|| u.to_string());
    let rows: Vec<StatusRow> = c
        .objects(ObjectType::Status)?
        .into_iter()
        .filter_map(|o| {
            let d: StatusData = o.typed().ok()?;
            let row = StatusRow {
                uuid: o.uuid,
                item: name(&d.item),
                item_type: d.item_type,
                step: name(&d.step),
                state: name(&d.state),
                completion: d.completion_ratio,
                version: d.version,
                published: d.published,
                date: d.date,
                comment: d.comment,
            };
            // Statuses of other projects name items this project does not have.
            (names.contains_key(&d.item) && item.is_none_or(|i| i == row.item)).then_some(row)
        })
        .collect();
    ctx.out.records(
        &rows,
        &["ITEM", "STEP", "STATE", "%", "VERSION", "DATE"],
        |r| {
            vec![
                r.item.clone(),
                r.step.clone(),
                r.state.clone(),
                r.completion.map(|c| c.to_string()).unwrap_or_default(),
                r.version.map(|v| format!("v{v:03}")).unwrap_or_default(),
                r.date.clone(),
            ]
        },
    )?;
    Ok(Exit::Clean)
}

fn sync(ctx: &Ctx, project: Option<&str>) -> Result<Exit> {
    let mut store = open_rw(ctx)?;
    let c = client(ctx);
    let report = mirror::sync_and_prune(
        &mut store,
        &c,
        configured_project(ctx, project),
        ctx.config.config.ramses.outbox_keep_days,
    )?;
    if ctx.out.json() {
        ctx.out.json_doc(&report)?;
    } else {
        for p in report.refused.iter().chain(&report.kept) {
            if let mirror::Pushed::Refused { entity, reason, .. }
            | mirror::Pushed::Kept { entity, reason, .. } = p
            {
                ctx.out.warn(format!("{entity}: {reason}"));
            }
        }
        ctx.out.line(format!(
            "pushed {}, refused {}, kept for later {}, still pending {}, old pushed rows pruned {}",
            report.pushed.len(),
            report.refused.len(),
            report.kept.len(),
            report.pending,
            report.pruned
        ))?;
    }
    Ok(Exit::problems_if(
        !report.refused.is_empty() || !report.kept.is_empty(),
    ))
}

#[derive(Serialize)]
struct Serving {
    serving: String,
    project: String,
    user: String,
}

fn serve(ctx: &Ctx, a: &ServeArgs) -> Result<Exit> {
    let store = open_rw(ctx)?;
    let project = store.project().code.clone();
    let who = actor();
    let user = who.user.clone();
    let backend = Backend::new(store, who, concat!("shotline ", env!("CARGO_PKG_VERSION")));
    let opts = ServeOptions {
        bind: a.bind,
        port: a.port.unwrap_or(ctx.config.config.ramses.port),
        max_connections: usize::try_from(a.max_connections).unwrap_or(64),
        ..ServeOptions::default()
    };
    if !a.bind.is_loopback() {
        ctx.out.warn(format!(
            "listening on {}: the Ramses protocol has no authentication; anyone who can reach this port can read and change the project as {user}",
            a.bind
        ));
    }
    let server = Server::bind(backend, opts)?;
    let addr = server.local_addr()?;
    let line = Serving {
        serving: addr.to_string(),
        project,
        user,
    };
    if ctx.out.json() {
        ctx.out.json_line(&line)?;
    } else {
        ctx.out.line(format!(
            "serving {} as a Ramses daemon on {} (writes as {}); Ctrl-C stops",
            line.project, line.serving, line.user
        ))?;
    }
    ctx.out.flush();
    server.run(&AtomicBool::new(false))?;
    Ok(Exit::Clean)
}

// ----- the mirror hooks called by publish, ingest and status set -----
// The hook itself is `shotline_ramses::mirror::Mirror` (Python calls the same one); these only
// report its outcome through the printer.

fn report_mirror(ctx: &Ctx, outcome: &MirrorOutcome) {
    if outcome.is_incomplete() {
        ctx.out.warn(outcome.message());
    } else {
        ctx.out.note(outcome.message());
    }
}

/// After `status set`: mirror the new status when `ramses.sync` is on.
pub fn mirror_status(ctx: &Ctx, store: &mut Store, s: &Status, comment: &str) {
    if let Some(m) = Mirror::from_config(&ctx.config.config.ramses) {
        report_mirror(ctx, &m.push_status(store, s, comment));
    }
}

/// After `publish`: mirror the version when `ramses.sync` is on.
pub fn mirror_versions(ctx: &Ctx, store: &mut Store, versions: &[Version]) {
    if let Some(m) = Mirror::from_config(&ctx.config.config.ramses) {
        report_mirror(ctx, &m.push_versions(store, versions));
    }
}

/// After ingest registered versions (no printer there: through the log).
pub fn mirror_logged(m: &Mirror, store: &mut Store, versions: &[Version]) {
    let outcome = m.push_versions(store, versions);
    if outcome.is_incomplete() {
        tracing::warn!("{}", outcome.message());
    } else {
        tracing::info!("{}", outcome.message());
    }
}
