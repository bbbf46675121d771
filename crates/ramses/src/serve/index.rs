//! The Ramses view of a shotline project: every object with its stable uuid and its data
//! dictionary, built from the store in a handful of queries (never one per shot) and rebuilt
//! only when the database changed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};
use shotline_store::{
    Actor, Asset, ItemKind, Project, Role, Shot, State, Status, Step, Store, User, Version,
    VersionQuery,
};

use crate::error::Result;
use crate::ids::object_uuid;
use crate::objects::ObjectType;

/// A shotline thing as Ramses sees it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Obj {
    Project,
    Sequence(String),
    Shot(String),
    AssetGroup(String),
    Asset(String),
    Step(ItemKind, String),
    State(State),
    User(String),
    Status(ItemKind, String, String),
    /// A pipe between two steps, defined by a Ramses client (its uuid is its id).
    Pipe(String),
    /// A file going through pipes, defined by a Ramses client (its uuid is its id).
    PipeFile(String),
    /// A file type by short name: the media registry's, or one a Ramses client defined.
    FileType(String),
}

impl Obj {
    pub(crate) fn ram_type(&self) -> ObjectType {
        match self {
            Obj::Project => ObjectType::Project,
            Obj::Sequence(_) => ObjectType::Sequence,
            Obj::Shot(_) => ObjectType::Shot,
            Obj::AssetGroup(_) => ObjectType::AssetGroup,
            Obj::Asset(_) => ObjectType::Asset,
            Obj::Step(..) => ObjectType::Step,
            Obj::State(_) => ObjectType::State,
            Obj::User(_) => ObjectType::User,
            Obj::Status(..) => ObjectType::Status,
            Obj::Pipe(_) => ObjectType::Pipe,
            Obj::PipeFile(_) => ObjectType::PipeFile,
            Obj::FileType(_) => ObjectType::FileType,
        }
    }

    /// The key recorded in the store and hashed into the uuid (`shot:SH010`).
    pub(crate) fn key(&self) -> String {
        match self {
            Obj::Project => "project".into(),
            Obj::Sequence(c) => format!("sequence:{c}"),
            Obj::Shot(c) => format!("shot:{c}"),
            Obj::AssetGroup(c) => format!("group:{c}"),
            Obj::Asset(c) => format!("asset:{c}"),
            Obj::Step(k, c) => format!("step:{k}:{c}"),
            Obj::State(s) => format!("state:{s}"),
            Obj::User(n) => format!("user:{n}"),
            Obj::Status(k, i, s) => format!("status:{k}:{i}:{s}"),
            Obj::Pipe(id) => format!("pipe:{id}"),
            Obj::PipeFile(id) => format!("pipefile:{id}"),
            Obj::FileType(s) => format!("filetype:{s}"),
        }
    }

    pub(crate) fn from_key(key: &str) -> Option<Obj> {
        let (head, rest) = key.split_once(':').unwrap_or((key, ""));
        let kind = |k: &str| k.parse::<ItemKind>().ok();
        Some(match head {
            "project" => Obj::Project,
            "sequence" => Obj::Sequence(rest.into()),
            "shot" => Obj::Shot(rest.into()),
            "group" => Obj::AssetGroup(rest.into()),
            "asset" => Obj::Asset(rest.into()),
            "step" => {
                let (k, c) = rest.split_once(':')?;
                Obj::Step(kind(k)?, c.into())
            }
            "state" => Obj::State(rest.parse().ok()?),
            "user" => Obj::User(rest.into()),
            "pipe" => Obj::Pipe(rest.into()),
            "pipefile" => Obj::PipeFile(rest.into()),
            "filetype" => Obj::FileType(rest.into()),
            "status" => {
                let mut p = rest.splitn(3, ':');
                let (k, i, s) = (p.next()?, p.next()?, p.next()?);
                Obj::Status(kind(k)?, i.into(), s.into())
            }
            _ => return None,
        })
    }
}

/// Data keys shotline models for each type; anything else a client sets is kept as extra.
pub(crate) fn modeled(t: ObjectType) -> &'static [&'static str] {
    match t {
        // Only the code is in the store; names, comments and colours are the client's.
        ObjectType::Sequence | ObjectType::AssetGroup => &["shortName", "project"],
        // Pipeline definitions are entirely the client's data (validated on write).
        ObjectType::Pipe | ObjectType::PipeFile => &[],
        ObjectType::FileType => &["shortName"],
        ObjectType::Status => &[
            "state",
            "completionRatio",
            "user",
            "assignedUser",
            "step",
            "item",
            "itemType",
            "version",
            "published",
            "date",
            "project",
        ],
        _ => &[
            "shortName",
            "name",
            "project",
            "sequence",
            "duration",
            "frameIn",
            "frameOut",
            "handles",
            "assetGroup",
            "type",
            "role",
            "width",
            "height",
            "framerate",
            "pixelAspectRatio",
            "folderPath",
            "completionRatio",
            "color",
        ],
    }
}

/// A file type Ramses clients see without anyone defining it: one per image format and one per
/// movie container of the media file-kind registry (the one place file kinds are decided).
pub(crate) struct BuiltinFileType {
    pub short: &'static str,
    pub name: String,
    pub extensions: Vec<&'static str>,
    pub previewable: bool,
}

/// The registry's kinds as Ramses file types, in registry order.
pub(crate) fn builtin_file_types() -> impl Iterator<Item = BuiltinFileType> {
    use shotline_media::{FileKind, IMAGE_EXTENSIONS, MOVIE_EXTENSIONS};
    let mut images: Vec<BuiltinFileType> = Vec::new();
    for ext in IMAGE_EXTENSIONS {
        let kind = FileKind::from_extension(ext);
        match images
            .iter_mut()
            .find(|t| FileKind::from_extension(t.short) == kind)
        {
            Some(t) => t.extensions.push(ext),
            None => images.push(BuiltinFileType {
                short: ext,
                name: format!("{} image", ext.to_ascii_uppercase()),
                extensions: vec![ext],
                previewable: true,
            }),
        }
    }
    let movies = MOVIE_EXTENSIONS.iter().map(|ext| BuiltinFileType {
        short: ext,
        name: format!("{} movie", ext.to_ascii_uppercase()),
        extensions: vec![ext],
        previewable: true,
    });
    images.into_iter().chain(movies)
}

/// Whether a file type comes from the registry (and so cannot be changed through Ramses).
pub(crate) fn is_builtin_file_type(short: &str) -> bool {
    builtin_file_types().any(|t| t.short == short)
}

/// How complete each state says a task is, and its colour (what Ramses shows).
fn state_look(s: State) -> (i64, &'static str, &'static str) {
    match s {
        State::Todo => (0, "#636363", "To do"),
        State::Wip => (50, "#3da5d9", "Work in progress"),
        State::Review => (80, "#e8a33d", "Waiting for review"),
        State::Retake => (50, "#d9534f", "Retake"),
        State::Approved => (100, "#5cb85c", "Approved"),
        State::Final => (100, "#2e7d32", "Final"),
        State::Omit => (0, "#222222", "Omitted"),
    }
}

/// Ramses' spelling of a role.
fn role_name(r: Role) -> &'static str {
    match r {
        Role::Standard => "standard",
        Role::Lead => "lead",
        Role::ProjectAdmin => "project",
        Role::Admin => "admin",
    }
}

/// `2026-11-20T10:00:00.000000Z` → `2026-11-20 10:00:00`, the date format Ramses uses.
pub(crate) fn ramses_date(stored: &str) -> String {
    stored.get(..19).unwrap_or(stored).replace('T', " ")
}

/// A snapshot of the project as Ramses objects.
#[derive(Debug)]
pub(crate) struct Index {
    pub project: Project,
    pub root: PathBuf,
    pub shots: Vec<Shot>,
    pub assets: Vec<Asset>,
    pub steps: Vec<Step>,
    pub sequences: Vec<String>,
    pub groups: Vec<String>,
    pub users: Vec<User>,
    /// Pipes, pipe files and client-defined file types, by id / short name, sorted.
    pub pipes: Vec<String>,
    pub pipe_files: Vec<String>,
    pub file_types: Vec<String>,
    shot_at: HashMap<String, usize>,
    asset_at: HashMap<String, usize>,
    statuses: HashMap<(ItemKind, String, String), Status>,
    latest: HashMap<(ItemKind, String, String), Version>,
    uuid_of: HashMap<Obj, String>,
    by_uuid: HashMap<String, Obj>,
    extra: HashMap<String, Map<String, Value>>,
}

impl Index {
    /// Reads the project in one query per table.
    pub(crate) fn load(store: &Store, actor: &Actor) -> Result<Index> {
        let project = store.project().clone();
        let shots = store.shots(None)?;
        let assets = store.assets(None)?;
        let steps = store.steps(None)?;
        let mut users = store.users()?;
        if !users.iter().any(|u| u.name == actor.user) {
            users.push(User {
                name: actor.user.clone(),
                role: Role::Standard,
                created_at: project.created_at.clone(),
            });
        }
        let statuses = store
            .statuses(None)?
            .into_iter()
            .map(|s| ((s.item.kind, s.item.code.clone(), s.step.clone()), s))
            .collect();
        let mut latest = HashMap::new();
        store.versions_each::<shotline_store::StoreError>(
            &VersionQuery {
                latest: true,
                resource: Some(String::new()),
                ..VersionQuery::default()
            },
            |v| {
                latest.insert((v.item.kind, v.item.code.clone(), v.step.clone()), v);
                Ok(())
            },
        )?;
        // Every sequence and group, including empty ones Ramses clients created.
        let sequences = store.sequence_codes()?;
        let groups = store.asset_group_codes()?;
        let mut ix = Index {
            root: PathBuf::from(&project.root),
            shot_at: shots
                .iter()
                .enumerate()
                .map(|(i, s)| (s.code.clone(), i))
                .collect(),
            asset_at: assets
                .iter()
                .enumerate()
                .map(|(i, a)| (a.code.clone(), i))
                .collect(),
            project,
            shots,
            assets,
            steps,
            sequences,
            groups,
            users,
            pipes: Vec::new(),
            pipe_files: Vec::new(),
            file_types: builtin_file_types().map(|t| t.short.to_string()).collect(),
            statuses,
            latest,
            uuid_of: HashMap::new(),
            by_uuid: HashMap::new(),
            extra: HashMap::new(),
        };
        ix.assign_uuids(store)?;
        Ok(ix)
    }

    fn assign_uuids(&mut self, store: &Store) -> Result<()> {
        let mut all = vec![Obj::Project];
        all.extend(self.sequences.iter().cloned().map(Obj::Sequence));
        all.extend(self.groups.iter().cloned().map(Obj::AssetGroup));
        all.extend(self.shots.iter().map(|s| Obj::Shot(s.code.clone())));
        all.extend(self.assets.iter().map(|a| Obj::Asset(a.code.clone())));
        all.extend(self.steps.iter().map(|s| Obj::Step(s.kind, s.code.clone())));
        all.extend(State::ALL.iter().map(|s| Obj::State(*s)));
        all.extend(self.users.iter().map(|u| Obj::User(u.name.clone())));
        all.extend(self.file_types.iter().cloned().map(Obj::FileType));
        for step in &self.steps {
            let codes: Vec<&String> = match step.kind {
                ItemKind::Shot => self.shots.iter().map(|s| &s.code).collect(),
                ItemKind::Asset => self.assets.iter().map(|a| &a.code).collect(),
            };
            for c in codes {
                all.push(Obj::Status(step.kind, c.clone(), step.code.clone()));
            }
        }
        let code = self.project.code.clone();
        for o in all {
            let uuid = object_uuid(&code, o.ram_type().as_str(), &o.key());
            self.by_uuid.insert(uuid.clone(), o.clone());
            self.uuid_of.insert(o, uuid);
        }
        // Uuids given by Ramses clients win over derived ones; extra keys ride along.
        for row in store.ramses_objects()? {
            let Some(o) = Obj::from_key(&row.key) else {
                continue;
            };
            match &o {
                Obj::Pipe(id) => self.pipes.push(id.clone()),
                Obj::PipeFile(id) => self.pipe_files.push(id.clone()),
                Obj::FileType(s) if !self.file_types.contains(s) => self.file_types.push(s.clone()),
                _ => {}
            }
            if let Some(old) = self.uuid_of.insert(o.clone(), row.uuid.clone()) {
                self.by_uuid.remove(&old);
            }
            self.by_uuid.insert(row.uuid.clone(), o);
            if !row.extra.is_empty() {
                self.extra.insert(row.uuid, row.extra);
            }
        }
        self.pipes.sort();
        self.pipe_files.sort();
        self.file_types.sort();
        Ok(())
    }

    pub(crate) fn uuid(&self, o: &Obj) -> String {
        self.uuid_of
            .get(o)
            .cloned()
            .unwrap_or_else(|| object_uuid(&self.project.code, o.ram_type().as_str(), &o.key()))
    }

    pub(crate) fn find(&self, uuid: &str) -> Option<&Obj> {
        self.by_uuid.get(uuid)
    }

    pub(crate) fn project_uuid(&self) -> String {
        self.uuid(&Obj::Project)
    }

    pub(crate) fn extra(&self, uuid: &str) -> Option<&Map<String, Value>> {
        self.extra.get(uuid)
    }

    pub(crate) fn shot(&self, code: &str) -> Option<&Shot> {
        self.shot_at.get(code).map(|&i| &self.shots[i])
    }

    pub(crate) fn asset(&self, code: &str) -> Option<&Asset> {
        self.asset_at.get(code).map(|&i| &self.assets[i])
    }

    pub(crate) fn status(&self, kind: ItemKind, item: &str, step: &str) -> Option<&Status> {
        self.statuses
            .get(&(kind, item.to_string(), step.to_string()))
    }

    /// Every object of a type (`RamItem`: shots and assets; `RamObject`: everything).
    pub(crate) fn all_of(&self, t: ObjectType) -> Vec<Obj> {
        let mut out: Vec<Obj> = Vec::new();
        let want = |x: ObjectType| {
            t == x
                || t == ObjectType::Object
                || (t == ObjectType::Item && matches!(x, ObjectType::Shot | ObjectType::Asset))
        };
        if want(ObjectType::Project) {
            out.push(Obj::Project);
        }
        if want(ObjectType::Sequence) {
            out.extend(self.sequences.iter().cloned().map(Obj::Sequence));
        }
        if want(ObjectType::Shot) {
            out.extend(self.shots.iter().map(|s| Obj::Shot(s.code.clone())));
        }
        if want(ObjectType::AssetGroup) {
            out.extend(self.groups.iter().cloned().map(Obj::AssetGroup));
        }
        if want(ObjectType::Asset) {
            out.extend(self.assets.iter().map(|a| Obj::Asset(a.code.clone())));
        }
        if want(ObjectType::Step) {
            out.extend(self.steps.iter().map(|s| Obj::Step(s.kind, s.code.clone())));
        }
        if want(ObjectType::State) {
            out.extend(State::ALL.iter().map(|s| Obj::State(*s)));
        }
        if want(ObjectType::User) {
            out.extend(self.users.iter().map(|u| Obj::User(u.name.clone())));
        }
        if want(ObjectType::Pipe) {
            out.extend(self.pipes.iter().cloned().map(Obj::Pipe));
        }
        if want(ObjectType::PipeFile) {
            out.extend(self.pipe_files.iter().cloned().map(Obj::PipeFile));
        }
        if want(ObjectType::FileType) {
            out.extend(self.file_types.iter().cloned().map(Obj::FileType));
        }
        if want(ObjectType::Status) {
            let mut keys: Vec<_> = self.statuses.keys().collect();
            keys.sort();
            out.extend(
                keys.into_iter()
                    .map(|(k, i, s)| Obj::Status(*k, i.clone(), s.clone())),
            );
        }
        out
    }

    /// The data dictionary of an object, with the extra keys clients stored in it.
    pub(crate) fn data(&self, o: &Obj) -> Map<String, Value> {
        let mut d = self.modeled_data(o);
        let m = modeled(o.ram_type());
        if let Some(extra) = self.extra.get(&self.uuid(o)) {
            for (k, v) in extra.iter().filter(|(k, _)| !m.contains(&k.as_str())) {
                d.insert(k.clone(), v.clone());
            }
        }
        d
    }

    fn modeled_data(&self, o: &Obj) -> Map<String, Value> {
        let p = &self.project;
        let project = self.project_uuid();
        let v = match o {
            Obj::Project => json!({
                "shortName": p.code, "name": p.name, "comment": "",
                "width": p.width, "height": p.height, "framerate": p.fps,
                "pixelAspectRatio": p.pixel_aspect, "folderPath": p.root,
            }),
            Obj::Sequence(c) => {
                json!({"shortName": c, "name": c, "comment": "", "project": project})
            }
            Obj::AssetGroup(c) => {
                json!({"shortName": c, "name": c, "comment": "", "project": project})
            }
            Obj::Shot(c) => match self.shot(c) {
                Some(s) => {
                    let fps = s.fps.unwrap_or(p.fps);
                    let seq = s
                        .sequence
                        .as_ref()
                        .map(|q| self.uuid(&Obj::Sequence(q.clone())))
                        .unwrap_or_default();
                    json!({
                        "shortName": s.code, "name": if s.name.is_empty() { &s.code } else { &s.name },
                        "comment": "", "sequence": seq, "project": project,
                        "duration": s.frame_count() as f64 / fps,
                        "frameIn": s.frame_in, "frameOut": s.frame_out, "handles": s.handles,
                    })
                }
                None => json!({}),
            },
            Obj::Asset(c) => match self.asset(c) {
                Some(a) => {
                    let group = a
                        .group
                        .as_ref()
                        .map(|g| self.uuid(&Obj::AssetGroup(g.clone())))
                        .unwrap_or_default();
                    json!({
                        "shortName": a.code, "name": if a.name.is_empty() { &a.code } else { &a.name },
                        "comment": "", "assetGroup": group, "tags": [], "project": project,
                    })
                }
                None => json!({}),
            },
            Obj::Step(k, c) => {
                let name = self
                    .steps
                    .iter()
                    .find(|s| s.kind == *k && &s.code == c)
                    .map(|s| {
                        if s.name.is_empty() {
                            c.clone()
                        } else {
                            s.name.clone()
                        }
                    })
                    .unwrap_or_else(|| c.clone());
                json!({"shortName": c, "name": name, "comment": "", "type": k.as_str(), "project": project})
            }
            Obj::State(s) => {
                let (ratio, color, name) = state_look(*s);
                json!({"shortName": s.as_str(), "name": name, "comment": "",
                       "completionRatio": ratio, "color": color})
            }
            Obj::User(n) => {
                let role = self
                    .users
                    .iter()
                    .find(|u| &u.name == n)
                    .map(|u| u.role)
                    .unwrap_or(Role::Standard);
                json!({"shortName": n, "name": n, "comment": "", "role": role_name(role)})
            }
            Obj::Status(k, i, s) => self.status_data(*k, i, s),
            Obj::Pipe(_) | Obj::PipeFile(_) => json!({}),
            Obj::FileType(s) => match builtin_file_types().find(|t| t.short == s) {
                Some(t) => json!({"shortName": t.short, "name": t.name, "comment": "",
                                  "extensions": t.extensions, "previewable": t.previewable}),
                None => json!({"shortName": s, "name": s, "comment": "", "extensions": [s]}),
            },
        };
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    fn status_data(&self, kind: ItemKind, item: &str, step: &str) -> Value {
        let item_obj = match kind {
            ItemKind::Shot => Obj::Shot(item.to_string()),
            ItemKind::Asset => Obj::Asset(item.to_string()),
        };
        let st = self.status(kind, item, step);
        let latest = self.latest.get(&(kind, item.to_string(), step.to_string()));
        let state = st.map(|s| s.state).unwrap_or(State::Todo);
        let user = st
            .map(|s| self.uuid(&Obj::User(s.updated_by.clone())))
            .unwrap_or_default();
        let assigned = st
            .and_then(|s| s.assignee.clone())
            .map(|a| self.uuid(&Obj::User(a)))
            .unwrap_or_default();
        json!({
            "state": self.uuid(&Obj::State(state)),
            "completionRatio": st.map(|s| s.completion).unwrap_or(0),
            "comment": "",
            "user": user,
            "assignedUser": assigned,
            "step": self.uuid(&Obj::Step(kind, step.to_string())),
            "item": self.uuid(&item_obj),
            "itemType": kind.as_str(),
            "version": latest.map(|v| v.number).unwrap_or(0),
            "published": latest.map(|v| v.published).unwrap_or(false),
            "date": ramses_date(st.map(|s| s.updated_at.as_str()).unwrap_or(self.project.created_at.as_str())),
            "project": self.project_uuid(),
        })
    }

    /// The folder of an object in the Ramses tree of the project root.
    pub(crate) fn path(&self, o: &Obj) -> Option<PathBuf> {
        let p = &self.project.code;
        let root = self.root.as_path();
        let shot_dir = |c: &str| root.join("05-SHOTS").join(format!("{p}_S_{c}"));
        let asset_dir = |c: &str| -> Option<PathBuf> {
            let a = self.asset(c)?;
            let mut d = root.join("04-ASSETS");
            if let Some(g) = &a.group {
                d.push(g);
            }
            Some(d.join(format!("{p}_A_{c}")))
        };
        Some(match o {
            Obj::Project => root.to_path_buf(),
            Obj::Sequence(_) => root.join("05-SHOTS"),
            Obj::AssetGroup(g) => root.join("04-ASSETS").join(g),
            Obj::Shot(c) => shot_dir(c),
            Obj::Asset(c) => asset_dir(c)?,
            Obj::Step(_, c) => root.join("02-PROD").join(format!("{p}_G_{c}")),
            Obj::Status(ItemKind::Shot, i, s) => shot_dir(i).join(format!("{p}_S_{i}_{s}")),
            Obj::Status(ItemKind::Asset, i, s) => asset_dir(i)?.join(format!("{p}_A_{i}_{s}")),
            Obj::State(_) | Obj::User(_) | Obj::Pipe(_) | Obj::PipeFile(_) | Obj::FileType(_) => {
                return None
            }
        })
    }

    /// The object of `want` type a path points into (`.../05-SHOTS/PROJ_S_SH010/...`).
    pub(crate) fn object_at(&self, path: &Path, want: ObjectType) -> Option<Obj> {
        let p = &self.project.code;
        let inside = path.starts_with(&self.root);
        let mut item: Option<Obj> = None;
        let mut step: Option<(ItemKind, String)> = None;
        for comp in path.components() {
            let name = comp.as_os_str().to_string_lossy();
            let stem = name.split('.').next().unwrap_or("");
            let parts: Vec<&str> = stem.split('_').collect();
            if parts.len() < 3 || parts[0] != p {
                continue;
            }
            let kind = match parts[1] {
                "S" => ItemKind::Shot,
                "A" => ItemKind::Asset,
                "G" if parts.len() == 3 => {
                    step = self
                        .steps
                        .iter()
                        .find(|s| s.code == parts[2])
                        .map(|s| (s.kind, s.code.clone()));
                    continue;
                }
                _ => continue,
            };
            let code = parts[2].to_string();
            item = Some(match kind {
                ItemKind::Shot => Obj::Shot(code),
                ItemKind::Asset => Obj::Asset(code),
            });
            if let Some(s) = parts.get(3) {
                if self.steps.iter().any(|x| x.kind == kind && x.code == *s) {
                    step = Some((kind, s.to_string()));
                }
            }
        }
        let exists = |o: &Obj| match o {
            Obj::Shot(c) => self.shot(c).is_some(),
            Obj::Asset(c) => self.asset(c).is_some(),
            _ => true,
        };
        let item = item.filter(exists);
        match want {
            ObjectType::Project if inside || item.is_some() => Some(Obj::Project),
            ObjectType::Shot => item.filter(|o| matches!(o, Obj::Shot(_))),
            ObjectType::Asset => item.filter(|o| matches!(o, Obj::Asset(_))),
            ObjectType::Item | ObjectType::Object => item,
            ObjectType::Step => step.map(|(k, c)| Obj::Step(k, c)),
            ObjectType::Status => match (item, step) {
                (Some(Obj::Shot(i)), Some((k, s))) | (Some(Obj::Asset(i)), Some((k, s))) => {
                    Some(Obj::Status(k, i, s))
                }
                _ => None,
            },
            ObjectType::Sequence => match item {
                Some(Obj::Shot(c)) => self.shot(&c)?.sequence.clone().map(Obj::Sequence),
                _ => None,
            },
            ObjectType::AssetGroup => match item {
                Some(Obj::Asset(c)) => self.asset(&c)?.group.clone().map(Obj::AssetGroup),
                _ => None,
            },
            _ => None,
        }
    }
}
