//! The answers of `ramses serve`: each daemon query, in its newer (`projectUuid=`, `uuid=`) and
//! older (`shortName=`, `filter=`, no project) forms, read from the [`Index`] and written
//! through the store, so role rules and the audit trail apply to Ramses clients too.

use std::path::Path;

use serde_json::{json, Map, Value};
use shotline_store::{
    Actor, ItemKind, ItemRef, NewShot, ShotFields, ShotWrite, State, StatusChange, Store,
};

use super::index::{is_builtin_file_type, modeled, Index, Obj};
use crate::error::Result;
use crate::objects::{data_map, ObjectType, StepFilter};
use crate::query::Query;

/// Builds a reply object as the Ramses daemon shapes it.
pub(crate) fn reply(
    query: &str,
    accepted: bool,
    success: bool,
    message: &str,
    content: Value,
) -> Value {
    json!({"query": query, "message": message, "accepted": accepted, "success": success, "content": content})
}

/// What a query handler returns: content, or a refusal message (`success=false`).
type Answer = std::result::Result<Value, String>;

/// The queries `ramses serve` knows (others get `accepted=false`).
pub const QUERIES: &[&str] = &[
    "ping",
    "raise",
    "getRamsesFolder",
    "getRamsesFolderPath",
    "getProjects",
    "getCurrentProject",
    "setCurrentProject",
    "getObjects",
    "getData",
    "setData",
    "create",
    "getPath",
    "uuidFromPath",
    "getStatus",
    "getAssets",
    "getShots",
    "getAssetGroups",
    "getSequences",
    "getPipes",
    "getSteps",
    "getStates",
    "getCurrentUser",
    "getShot",
    "getAsset",
    "getStep",
    "getState",
    "getProject",
];

/// The store, the acting user and the cached Ramses view of the project.
#[derive(Debug)]
pub struct Backend {
    store: Store,
    actor: Actor,
    index: Option<Index>,
    seen_version: i64,
    version: String,
}

impl Backend {
    /// Serves `store`'s project; writes are made as `actor` (who `ping` reports as logged in).
    pub fn new(store: Store, actor: Actor, version: &str) -> Backend {
        Backend {
            store,
            actor,
            index: None,
            seen_version: -1,
            version: version.to_string(),
        }
    }

    /// Answers one raw query text with the reply object to send.
    pub fn answer(&mut self, text: &str) -> Value {
        let text = text.trim_matches(|c: char| c.is_whitespace() || c == '\0');
        let Some(q) = Query::parse(text) else {
            return reply("", false, false, "Empty query", Value::Null);
        };
        let cmd = q.command().to_string();
        if !QUERIES.contains(&cmd.as_str()) {
            return reply(
                &cmd,
                false,
                false,
                &format!("Unknown query: {cmd}"),
                Value::Null,
            );
        }
        if let Err(e) = self.refresh() {
            return reply(&cmd, true, false, &e.to_string(), Value::Null);
        }
        match self.dispatch(&cmd, &q) {
            Ok(content) => reply(&cmd, true, true, "", content),
            Err(message) => reply(&cmd, true, false, &message, Value::Null),
        }
    }

    /// Rebuilds the view when another process changed the database.
    fn refresh(&mut self) -> Result<()> {
        let v = self.store.data_version()?;
        if self.index.is_none() || v != self.seen_version {
            self.index = Some(Index::load(&self.store, &self.actor)?);
            self.seen_version = v;
        }
        Ok(())
    }

    fn ix(&self) -> std::result::Result<&Index, String> {
        self.index
            .as_ref()
            .ok_or_else(|| "the project view is not loaded".to_string())
    }

    fn dispatch(&mut self, cmd: &str, q: &Query) -> Answer {
        match cmd {
            "ping" => self.ping(),
            "raise" => Ok(json!({})),
            "getRamsesFolder" | "getRamsesFolderPath" => {
                Ok(json!({"path": self.ix()?.root.display().to_string()}))
            }
            "getProjects" => {
                let ix = self.ix()?;
                Ok(json!({"projects": [entry(ix, &Obj::Project)]}))
            }
            "getCurrentProject" | "getProject" => Ok(entry(self.ix()?, &Obj::Project)),
            "setCurrentProject" => self.set_current_project(q),
            "getObjects" | "getStates" => {
                let t = match cmd {
                    "getStates" => ObjectType::State,
                    _ => object_type(q.get("type").unwrap_or(""))?,
                };
                let ix = self.ix()?;
                let objects: Vec<Value> = ix.all_of(t).iter().map(|o| entry(ix, o)).collect();
                let key = if cmd == "getStates" {
                    "states"
                } else {
                    "objects"
                };
                Ok(json!({ key: objects }))
            }
            "getData" => {
                let ix = self.ix()?;
                let uuid = q.get("uuid").unwrap_or("");
                let o = ix.find(uuid).ok_or_else(|| unknown_uuid(uuid))?;
                // An object here: Ramses-Py uses getData's data as a dict without parsing it.
                Ok(json!({"uuid": ix.uuid(o), "data": Value::Object(ix.data(o))}))
            }
            "getCurrentUser" => {
                let ix = self.ix()?;
                Ok(entry(ix, &Obj::User(self.actor.user.clone())))
            }
            "getShot" | "getAsset" | "getStep" | "getState" => self.by_short_name(cmd, q),
            "setData" => self.set_data(q),
            "create" => self.create(q),
            "getPath" => {
                let ix = self.ix()?;
                let uuid = q.get("uuid").unwrap_or("");
                let o = ix.find(uuid).ok_or_else(|| unknown_uuid(uuid))?;
                let path = ix
                    .path(o)
                    .map(|p| p.display().to_string())
                    .unwrap_or_default();
                Ok(json!({ "path": path }))
            }
            "uuidFromPath" => {
                let ix = self.ix()?;
                let t = object_type(q.get("type").unwrap_or("RamObject"))?;
                let path = q.get("path").unwrap_or("");
                let uuid = ix
                    .object_at(Path::new(path), t)
                    .map(|o| ix.uuid(&o))
                    .unwrap_or_default();
                Ok(json!({ "uuid": uuid }))
            }
            "getStatus" => self.get_status(q),
            "getShots" => self.list_shots(q),
            "getAssets" => self.list_assets(q),
            "getAssetGroups" => self.list(q, "assetGroups", |ix| {
                ix.groups.iter().cloned().map(Obj::AssetGroup).collect()
            }),
            "getSequences" => self.list(q, "sequences", |ix| {
                ix.sequences.iter().cloned().map(Obj::Sequence).collect()
            }),
            "getPipes" => self.list(q, "pipes", |ix| {
                ix.pipes.iter().cloned().map(Obj::Pipe).collect()
            }),
            "getSteps" => {
                let filter = StepFilter::parse(q.get("type").unwrap_or(""))
                    .ok_or_else(|| format!("unknown step type {:?}: expected ALL, PRE_PRODUCTION, ASSET_PRODUCTION, SHOT_PRODUCTION, POST_PRODUCTION or PRODUCTION", q.get("type").unwrap_or("")))?;
                self.list(q, "steps", |ix| {
                    ix.steps
                        .iter()
                        .filter(|s| filter.admits(s.kind.as_str()))
                        .map(|s| Obj::Step(s.kind, s.code.clone()))
                        .collect()
                })
            }
            other => Err(format!("Unknown query: {other}")),
        }
    }

    fn ping(&self) -> Answer {
        let ix = self.ix()?;
        Ok(json!({
            "version": self.version,
            "ramses": "Ramses",
            "userUuid": ix.uuid(&Obj::User(self.actor.user.clone())),
            "user": self.actor.user,
            "headless": true,
        }))
    }

    fn check_project(&self, q: &Query) -> std::result::Result<(), String> {
        let ix = self.ix()?;
        match q.get("projectUuid") {
            None | Some("") => Ok(()),
            Some(p) if p == ix.project_uuid() => Ok(()),
            Some(p) => Err(format!(
                "unknown project {p:?}: this daemon serves {} ({})",
                ix.project.code,
                ix.project_uuid()
            )),
        }
    }

    fn list(&self, q: &Query, key: &str, objs: impl Fn(&Index) -> Vec<Obj>) -> Answer {
        self.check_project(q)?;
        let ix = self.ix()?;
        let uuids: Vec<String> = objs(ix).iter().map(|o| ix.uuid(o)).collect();
        Ok(json!({ key: uuids }))
    }

    fn list_shots(&self, q: &Query) -> Answer {
        self.check_project(q)?;
        let ix = self.ix()?;
        let seq = q.get("sequenceUuid").filter(|s| !s.is_empty());
        let seq_code = match seq {
            Some(u) => match ix.find(u) {
                Some(Obj::Sequence(c)) => Some(c.clone()),
                _ => return Err(format!("unknown sequence {u:?}")),
            },
            None => None,
        };
        // Older clients filtered by a name fragment.
        let filter = q.get("filter").unwrap_or("").to_ascii_lowercase();
        let uuids: Vec<String> = ix
            .shots
            .iter()
            .filter(|s| seq_code.is_none() || s.sequence == seq_code)
            .filter(|s| filter.is_empty() || s.code.to_ascii_lowercase().contains(&filter))
            .map(|s| ix.uuid(&Obj::Shot(s.code.clone())))
            .collect();
        Ok(json!({ "shots": uuids }))
    }

    fn list_assets(&self, q: &Query) -> Answer {
        self.check_project(q)?;
        let ix = self.ix()?;
        let group = match q.get("groupUuid").filter(|s| !s.is_empty()) {
            Some(u) => match ix.find(u) {
                Some(Obj::AssetGroup(c)) => Some(c.clone()),
                _ => return Err(format!("unknown asset group {u:?}")),
            },
            None => None,
        };
        let uuids: Vec<String> = ix
            .assets
            .iter()
            .filter(|a| group.is_none() || a.group == group)
            .map(|a| ix.uuid(&Obj::Asset(a.code.clone())))
            .collect();
        Ok(json!({ "assets": uuids }))
    }

    fn set_current_project(&self, q: &Query) -> Answer {
        let ix = self.ix()?;
        let wanted = q.get("uuid").or(q.get("shortName")).unwrap_or("");
        if wanted == ix.project_uuid() || wanted.eq_ignore_ascii_case(&ix.project.code) {
            Ok(entry(ix, &Obj::Project))
        } else {
            Err(format!(
                "unknown project {wanted:?}: this daemon serves {} ({})",
                ix.project.code,
                ix.project_uuid()
            ))
        }
    }

    fn by_short_name(&self, cmd: &str, q: &Query) -> Answer {
        let ix = self.ix()?;
        let name = q.get("shortName").unwrap_or("");
        let t = match cmd {
            "getShot" => ObjectType::Shot,
            "getAsset" => ObjectType::Asset,
            "getStep" => ObjectType::Step,
            _ => ObjectType::State,
        };
        let found = ix.all_of(t).into_iter().find(|o| match o {
            Obj::Shot(c) | Obj::Asset(c) | Obj::Step(_, c) => c == name,
            Obj::State(s) => s.as_str().eq_ignore_ascii_case(name),
            _ => false,
        });
        match found {
            Some(o) => Ok(entry(ix, &o)),
            None => Err(format!("no {t} named {name:?}")),
        }
    }

    fn get_status(&self, q: &Query) -> Answer {
        let ix = self.ix()?;
        let item = q.get("itemUuid").unwrap_or("");
        let step = q.get("stepUuid").unwrap_or("");
        let o = status_of(ix, item, step)?;
        Ok(entry(ix, &o))
    }

    fn set_data(&mut self, q: &Query) -> Answer {
        let uuid = q.get("uuid").unwrap_or("").to_string();
        let data = parse_data(q)?;
        let o = self
            .ix()?
            .find(&uuid)
            .cloned()
            .ok_or_else(|| unknown_uuid(&uuid))?;
        let result = self.write_object(&uuid, &o, &data, false);
        self.index = None;
        result
    }

    fn create(&mut self, q: &Query) -> Answer {
        let uuid = q.get("uuid").unwrap_or("").to_string();
        if !crate::ids::is_uuid(&uuid) {
            return Err(format!("invalid uuid {uuid:?}: expected a uuid such as 1b4e28ba-2fa1-11d2-883f-0016d3cca427"));
        }
        if self.ix()?.find(&uuid).is_some() {
            return Err(format!("an object with uuid {uuid} already exists"));
        }
        let t = object_type(q.get("type").unwrap_or(""))?;
        let data = parse_data(q)?;
        let result = self.create_object(&uuid, t, &data);
        self.index = None;
        result
    }

    fn create_object(&mut self, uuid: &str, t: ObjectType, data: &Map<String, Value>) -> Answer {
        let short = data
            .get("shortName")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let name = data
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let need_short = || format!("creating a {t} needs a \"shortName\" in its data");
        let o = match t {
            ObjectType::Shot => {
                if short.is_empty() {
                    return Err(need_short());
                }
                let ix = self.ix()?;
                let sequence = match data.get("sequence").and_then(Value::as_str) {
                    Some(u) if !u.is_empty() => match ix.find(u) {
                        Some(Obj::Sequence(c)) => Some(c.clone()),
                        _ => return Err(format!("unknown sequence {u:?}")),
                    },
                    _ => None,
                };
                let start = ix.project.start_frame;
                let frames = duration_frames(data, ix.project.fps)?.unwrap_or(1);
                let fields = ShotFields {
                    name: Some(name),
                    sequence,
                    frame_in: Some(start),
                    frame_out: Some(
                        start
                            .checked_add(frames - 1)
                            .ok_or_else(|| "duration out of range".to_string())?,
                    ),
                    ..ShotFields::default()
                };
                self.store
                    .write_shots(&self.actor, &[NewShot { code: short.clone(), fields }], ShotWrite::Create)
                    .map_err(|e| e.to_string())?;
                Obj::Shot(short)
            }
            ObjectType::Asset => {
                if short.is_empty() {
                    return Err(need_short());
                }
                let group = match data.get("assetGroup").and_then(Value::as_str) {
                    Some(u) if !u.is_empty() => match self.ix()?.find(u) {
                        Some(Obj::AssetGroup(c)) => Some(c.clone()),
                        _ => return Err(format!("unknown asset group {u:?}")),
                    },
                    _ => None,
                };
                self.store
                    .add_asset(&self.actor, &short, &name, group.as_deref())
                    .map_err(|e| e.to_string())?;
                Obj::Asset(short)
            }
            ObjectType::Step => {
                if short.is_empty() {
                    return Err(need_short());
                }
                let kind = match data.get("type").and_then(Value::as_str).unwrap_or("") {
                    "shot" => ItemKind::Shot,
                    "asset" => ItemKind::Asset,
                    other => {
                        return Err(format!(
                            "step type {other:?} is not tracked by shotline: expected \"shot\" or \"asset\""
                        ))
                    }
                };
                self.store
                    .add_step(&self.actor, &short, kind, &name)
                    .map_err(|e| e.to_string())?;
                Obj::Step(kind, short)
            }
            ObjectType::Status => {
                let ix = self.ix()?;
                let item = data.get("item").and_then(Value::as_str).unwrap_or("");
                let step = data.get("step").and_then(Value::as_str).unwrap_or("");
                let o = status_of(ix, item, step)?;
                return self.write_object(uuid, &o, data, true);
            }
            ObjectType::Sequence | ObjectType::AssetGroup => {
                if short.is_empty() {
                    return Err(need_short());
                }
                let created = if t == ObjectType::Sequence {
                    self.store.add_sequence(&self.actor, &short)
                } else {
                    self.store.add_asset_group(&self.actor, &short)
                };
                created.map_err(|e| e.to_string())?;
                if t == ObjectType::Sequence {
                    Obj::Sequence(short)
                } else {
                    Obj::AssetGroup(short)
                }
            }
            ObjectType::Pipe => Obj::Pipe(uuid.to_string()),
            ObjectType::PipeFile => Obj::PipeFile(uuid.to_string()),
            ObjectType::FileType => {
                if short.is_empty() {
                    return Err(need_short());
                }
                shotline_layout::check_component("file type", &short)
                    .map_err(|e| e.to_string())?;
                if self.ix()?.file_types.contains(&short) {
                    return Err(format!("file type {short:?} already exists"));
                }
                Obj::FileType(short)
            }
            other => {
                return Err(format!(
                    "shotline does not create {other} objects through Ramses; shots, assets, steps, statuses, sequences, asset groups, pipes, pipe files and file types only"
                ))
            }
        };
        self.check_definition(&o, data)?;
        self.record(uuid, &o, data)?;
        self.index = None;
        self.refresh().map_err(|e| e.to_string())?;
        Ok(entry(self.ix()?, &o))
    }

    /// Applies a data dictionary to an object: modeled keys through the store (role rules,
    /// audit), other keys kept as extra data. `record` forces recording the uuid.
    fn write_object(
        &mut self,
        uuid: &str,
        o: &Obj,
        data: &Map<String, Value>,
        record: bool,
    ) -> Answer {
        match o {
            Obj::Status(kind, item, step) => self.write_status(*kind, item, step, data)?,
            Obj::Shot(code) => self.write_shot(code, data)?,
            _ => {
                self.refuse_modeled_changes(o, data)?;
                self.check_definition(o, data)?;
            }
        }
        let extra = extras(o.ram_type(), data);
        let had = self.ix()?.extra(uuid).cloned().unwrap_or_default();
        if record || extra != had {
            self.record(uuid, o, data)?;
        }
        self.index = None;
        self.refresh().map_err(|e| e.to_string())?;
        Ok(entry(self.ix()?, o))
    }

    /// Records the uuid and the client's data keys of an object: pipeline definitions (pipes,
    /// pipe files, file types) need a lead, as steps do; the rest follows its own write's rule.
    fn record(
        &mut self,
        uuid: &str,
        o: &Obj,
        data: &Map<String, Value>,
    ) -> std::result::Result<(), String> {
        let extra = extras(o.ram_type(), data);
        let (t, key) = (o.ram_type(), o.key());
        let done = match o {
            Obj::Pipe(_) | Obj::PipeFile(_) | Obj::FileType(_) => {
                self.store
                    .ramses_define_object(&self.actor, uuid, t.as_str(), &key, &extra)
            }
            _ => self
                .store
                .ramses_record_object(&self.actor, uuid, t.as_str(), &key, &extra),
        };
        done.map_err(|e| e.to_string())
    }

    /// Checks a pipeline definition's references before it is stored: a pipe's steps and pipe
    /// files, a pipe file's file type must be objects of this project; a file type from the
    /// media registry cannot be redefined.
    fn check_definition(
        &self,
        o: &Obj,
        data: &Map<String, Value>,
    ) -> std::result::Result<(), String> {
        let ix = self.ix()?;
        let reference = |key: &str, what: &str, ok: &dyn Fn(&Obj) -> bool| match data.get(key) {
            None | Some(Value::Null) => Ok(()),
            Some(Value::String(u)) if u.is_empty() => Ok(()),
            Some(Value::String(u)) => match ix.find(u) {
                Some(x) if ok(x) => Ok(()),
                _ => Err(format!("{key} {u:?} is not a {what} of this project")),
            },
            Some(v) => Err(format!("{key} is {v}: expected the uuid of a {what}")),
        };
        match o {
            Obj::Pipe(_) => {
                let step = |x: &Obj| matches!(x, Obj::Step(..));
                reference("inputStep", "step", &step)?;
                reference("outputStep", "step", &step)?;
                match data.get("pipeFiles") {
                    None | Some(Value::Null) => Ok(()),
                    Some(Value::Array(list)) => list.iter().try_for_each(|v| match v {
                        Value::String(u) if matches!(ix.find(u), Some(Obj::PipeFile(_))) => Ok(()),
                        other => Err(format!(
                            "pipeFiles holds {other}: expected uuids of pipe files of this project"
                        )),
                    }),
                    Some(v) => Err(format!(
                        "pipeFiles is {v}: expected a list of pipe file uuids"
                    )),
                }
            }
            Obj::PipeFile(_) => {
                let short = data.get("shortName").and_then(Value::as_str).unwrap_or("");
                if short.is_empty() {
                    return Err("a pipe file needs a \"shortName\" in its data".into());
                }
                reference("fileType", "file type", &|x| matches!(x, Obj::FileType(_)))
            }
            Obj::FileType(short) => {
                if let Some(v) = data.get("extensions") {
                    let strings = v.as_array().is_some_and(|a| a.iter().all(Value::is_string));
                    if !strings {
                        return Err(format!(
                            "extensions is {v}: expected a list of strings such as [\"exr\"]"
                        ));
                    }
                }
                if is_builtin_file_type(short) {
                    let current = ix.data(o);
                    for key in ["name", "extensions"] {
                        if let (Some(new), Some(old)) = (data.get(key), current.get(key)) {
                            if !same_value(new, old) {
                                return Err(format!(
                                    "file type {short} comes from shotline's file-kind registry; its {key} cannot be changed through Ramses"
                                ));
                            }
                        }
                    }
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn write_status(
        &mut self,
        kind: ItemKind,
        item: &str,
        step: &str,
        data: &Map<String, Value>,
    ) -> std::result::Result<(), String> {
        let ix = self.ix()?;
        let state = match data.get("state").and_then(Value::as_str) {
            Some(s) if !s.is_empty() => Some(match ix.find(s) {
                Some(Obj::State(st)) => *st,
                _ => s.parse::<State>().map_err(|_| {
                    format!("unknown state {s:?}: expected a RamState uuid or one of TODO, WIP, REVIEW, RETAKE, APPROVED, FINAL, OMIT")
                })?,
            }),
            _ => None,
        };
        let completion = match data.get("completionRatio") {
            None | Some(Value::Null) => None,
            Some(v) => Some(
                v.as_i64()
                    .or_else(|| v.as_f64().map(|f| f.round() as i64))
                    .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                    .ok_or_else(|| format!("completionRatio {v} is not a number from 0 to 100"))?,
            ),
        };
        let assignee = match data.get("assignedUser").and_then(Value::as_str) {
            Some("") => None,
            Some(u) => match ix.find(u) {
                Some(Obj::User(n)) => Some(n.clone()),
                _ => return Err(format!("unknown user {u:?} in assignedUser")),
            },
            None => None,
        };
        let current = ix.status(kind, item, step);
        let unchanged = current.is_some_and(|c| {
            state.is_none_or(|s| s == c.state)
                && completion.is_none_or(|p| p == c.completion)
                && assignee
                    .as_ref()
                    .is_none_or(|a| c.assignee.as_ref() == Some(a))
        }) || (current.is_none()
            && state.is_none_or(|s| s == State::Todo)
            && completion.is_none_or(|c| c == 0)
            && assignee.is_none());
        if unchanged {
            return Ok(());
        }
        let change = StatusChange {
            item: ItemRef {
                kind,
                code: item.to_string(),
            },
            step: step.to_string(),
            state,
            assignee,
            completion,
            comment: data
                .get("comment")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            if_state: None,
        };
        self.store
            .set_status(&self.actor, &change)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    fn write_shot(
        &mut self,
        code: &str,
        data: &Map<String, Value>,
    ) -> std::result::Result<(), String> {
        let ix = self.ix()?;
        let shot = ix
            .shot(code)
            .ok_or_else(|| format!("shot {code} no longer exists"))?;
        if let Some(s) = data.get("shortName").and_then(Value::as_str) {
            if s != shot.code {
                return Err(format!(
                    "renaming shot {} to {s:?} is not allowed through Ramses; shot codes name folders and versions",
                    shot.code
                ));
            }
        }
        let mut fields = ShotFields::default();
        if let Some(n) = data.get("name").and_then(Value::as_str) {
            if n != shot.name && !(shot.name.is_empty() && n == shot.code) {
                fields.name = Some(n.to_string());
            }
        }
        match data.get("sequence").and_then(Value::as_str) {
            Some("") if shot.sequence.is_some() => fields.sequence = Some(String::new()),
            Some(u) if !u.is_empty() => match ix.find(u) {
                Some(Obj::Sequence(c)) if shot.sequence.as_deref() != Some(c.as_str()) => {
                    fields.sequence = Some(c.clone())
                }
                Some(Obj::Sequence(_)) => {}
                _ => return Err(format!("unknown sequence {u:?}")),
            },
            _ => {}
        }
        let fps = shot.fps.unwrap_or(ix.project.fps);
        if let Some(frames) = duration_frames(data, fps)? {
            if frames != shot.frame_count() {
                fields.frame_out = Some(
                    shot.frame_in
                        .checked_add(frames - 1)
                        .ok_or_else(|| "duration out of range".to_string())?,
                );
            }
        }
        if fields.is_empty() {
            return Ok(());
        }
        self.store
            .write_shots(
                &self.actor,
                &[NewShot {
                    code: code.to_string(),
                    fields,
                }],
                ShotWrite::Update,
            )
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    fn refuse_modeled_changes(
        &self,
        o: &Obj,
        data: &Map<String, Value>,
    ) -> std::result::Result<(), String> {
        let ix = self.ix()?;
        let current = ix.data(o);
        for key in modeled(o.ram_type()) {
            if let (Some(new), Some(old)) = (data.get(*key), current.get(*key)) {
                if !same_value(new, old) {
                    return Err(format!(
                        "{key} of {} {} is managed by shotline and cannot be changed through Ramses (use the shotline commands)",
                        o.ram_type(),
                        o.key()
                    ));
                }
            }
        }
        Ok(())
    }
}

fn same_value(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => (x - y).abs() < 1e-9,
        _ => a == b,
    }
}

/// Keys of `data` shotline does not model for objects of type `t`.
fn extras(t: ObjectType, data: &Map<String, Value>) -> Map<String, Value> {
    let m = modeled(t);
    data.iter()
        .filter(|(k, _)| !m.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// `duration` (seconds) as a frame count at `fps`; `None` when absent.
fn duration_frames(
    data: &Map<String, Value>,
    fps: f64,
) -> std::result::Result<Option<i64>, String> {
    let Some(v) = data.get("duration") else {
        return Ok(None);
    };
    let secs = v
        .as_f64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
        .filter(|s: &f64| s.is_finite() && *s > 0.0 && *s < 1.0e6)
        .ok_or_else(|| format!("duration {v} is not a number of seconds above 0"))?;
    Ok(Some(((secs * fps).round() as i64).max(1)))
}

fn parse_data(q: &Query) -> std::result::Result<Map<String, Value>, String> {
    let raw = q.get("data").unwrap_or("");
    data_map(q.command(), Some(&Value::String(raw.to_string())))
        .map_err(|_| format!("data is not a JSON object: {raw:?}"))
}

fn object_type(s: &str) -> std::result::Result<ObjectType, String> {
    ObjectType::parse(s).ok_or_else(|| {
        format!(
            "unknown object type {s:?}: expected one of {}",
            ObjectType::ALL.map(|t| t.as_str()).join(", ")
        )
    })
}

fn unknown_uuid(uuid: &str) -> String {
    format!("no object with uuid {uuid:?} in this project")
}

fn status_of(ix: &Index, item: &str, step: &str) -> std::result::Result<Obj, String> {
    let (kind, code) = match ix.find(item) {
        Some(Obj::Shot(c)) => (ItemKind::Shot, c.clone()),
        Some(Obj::Asset(c)) => (ItemKind::Asset, c.clone()),
        _ => return Err(format!("no shot or asset with uuid {item:?}")),
    };
    match ix.find(step) {
        Some(Obj::Step(k, s)) if *k == kind => Ok(Obj::Status(kind, code, s.clone())),
        Some(Obj::Step(k, s)) => Err(format!("step {s} is a {k} step; {code} is a {kind}")),
        _ => Err(format!("no step with uuid {step:?}")),
    }
}

/// `{"uuid": ..., "data": "<JSON string>"}`: in listings and single objects data travels as a
/// string, as the Ramses daemon sends it (clients parse both); `getData` sends an object.
fn entry(ix: &Index, o: &Obj) -> Value {
    json!({"uuid": ix.uuid(o), "data": Value::Object(ix.data(o)).to_string()})
}
