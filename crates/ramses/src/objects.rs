//! Typed Ramses objects. On the wire an object is a uuid and a data dictionary (sometimes sent
//! as a JSON string, sometimes as an object); the typed views below read the documented keys
//! leniently (a number sent as a string is still a number) and keep every other key in `extra`,
//! so writing an object back never drops what another tool stored in it.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::error::{RamsesError, Result};

/// The Ramses object types the daemon knows (`getObjects&type=...`, `create&type=...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ObjectType {
    /// `RamProject`.
    Project,
    /// `RamSequence`.
    Sequence,
    /// `RamShot`.
    Shot,
    /// `RamAssetGroup`.
    AssetGroup,
    /// `RamAsset`.
    Asset,
    /// `RamStep`.
    Step,
    /// `RamState`.
    State,
    /// `RamStatus`.
    Status,
    /// `RamUser`.
    User,
    /// `RamPipe`.
    Pipe,
    /// `RamFileType`.
    FileType,
    /// `RamPipeFile`.
    PipeFile,
    /// `RamItem` (a shot or an asset).
    Item,
    /// `RamObject` (anything).
    Object,
}

impl ObjectType {
    /// Every type.
    pub const ALL: [ObjectType; 14] = [
        ObjectType::Project,
        ObjectType::Sequence,
        ObjectType::Shot,
        ObjectType::AssetGroup,
        ObjectType::Asset,
        ObjectType::Step,
        ObjectType::State,
        ObjectType::Status,
        ObjectType::User,
        ObjectType::Pipe,
        ObjectType::FileType,
        ObjectType::PipeFile,
        ObjectType::Item,
        ObjectType::Object,
    ];

    /// The daemon's spelling (`RamShot`).
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectType::Project => "RamProject",
            ObjectType::Sequence => "RamSequence",
            ObjectType::Shot => "RamShot",
            ObjectType::AssetGroup => "RamAssetGroup",
            ObjectType::Asset => "RamAsset",
            ObjectType::Step => "RamStep",
            ObjectType::State => "RamState",
            ObjectType::Status => "RamStatus",
            ObjectType::User => "RamUser",
            ObjectType::Pipe => "RamPipe",
            ObjectType::FileType => "RamFileType",
            ObjectType::PipeFile => "RamPipeFile",
            ObjectType::Item => "RamItem",
            ObjectType::Object => "RamObject",
        }
    }

    /// Parses the daemon's spelling.
    pub fn parse(s: &str) -> Option<ObjectType> {
        ObjectType::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

impl std::fmt::Display for ObjectType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which steps `getSteps` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StepFilter {
    /// Every step.
    All,
    /// Pre-production steps.
    PreProduction,
    /// Asset steps.
    AssetProduction,
    /// Shot steps.
    ShotProduction,
    /// Post-production steps.
    PostProduction,
    /// Asset and shot steps.
    Production,
}

impl StepFilter {
    /// The daemon's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            StepFilter::All => "ALL",
            StepFilter::PreProduction => "PRE_PRODUCTION",
            StepFilter::AssetProduction => "ASSET_PRODUCTION",
            StepFilter::ShotProduction => "SHOT_PRODUCTION",
            StepFilter::PostProduction => "POST_PRODUCTION",
            StepFilter::Production => "PRODUCTION",
        }
    }

    /// Parses the daemon's spelling; empty means all.
    pub fn parse(s: &str) -> Option<StepFilter> {
        [
            StepFilter::All,
            StepFilter::PreProduction,
            StepFilter::AssetProduction,
            StepFilter::ShotProduction,
            StepFilter::PostProduction,
            StepFilter::Production,
        ]
        .into_iter()
        .find(|f| f.as_str().eq_ignore_ascii_case(s))
        .or_else(|| s.is_empty().then_some(StepFilter::All))
    }

    /// Whether a step of Ramses type `step_type` (`shot`, `asset`, `pre`, `post`) is listed.
    pub fn admits(self, step_type: &str) -> bool {
        match self {
            StepFilter::All => true,
            StepFilter::PreProduction => step_type == "pre",
            StepFilter::AssetProduction => step_type == "asset",
            StepFilter::ShotProduction => step_type == "shot",
            StepFilter::PostProduction => step_type == "post",
            StepFilter::Production => matches!(step_type, "shot" | "asset"),
        }
    }
}

/// The daemon's answer to `ping`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ping {
    /// The daemon's version.
    pub version: String,
    /// `Ramses` or `Ramses-Client` for a real daemon.
    pub ramses: String,
    /// The logged-in user; empty when nobody is logged in (most queries then fail).
    pub user_uuid: String,
}

/// An object as the daemon sends it: a uuid and its data dictionary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RamObject {
    /// The uuid.
    pub uuid: String,
    /// Every data key as received.
    pub data: Map<String, Value>,
}

impl RamObject {
    /// Reads `{"uuid": ..., "data": ...}` where data is an object or a JSON string (both occur).
    pub fn from_entry(command: &str, entry: &Value) -> Result<RamObject> {
        let uuid = entry
            .get("uuid")
            .and_then(Value::as_str)
            .ok_or_else(|| RamsesError::Shape {
                command: command.to_string(),
                what: "\"uuid\" string in an object entry".into(),
            })?
            .to_string();
        let data = data_map(command, entry.get("data"))?;
        Ok(RamObject { uuid, data })
    }

    /// A string field, when present and a string.
    pub fn str_field(&self, key: &str) -> Option<&str> {
        self.data.get(key).and_then(Value::as_str)
    }

    /// The short name (`SH010`), or empty.
    pub fn short_name(&self) -> &str {
        self.str_field("shortName").unwrap_or("")
    }

    /// The display name, or empty.
    pub fn name(&self) -> &str {
        self.str_field("name").unwrap_or("")
    }

    /// The data read as one of the typed views below.
    pub fn typed<T: serde::de::DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_value(Value::Object(self.data.clone())).map_err(|e| RamsesError::Shape {
            command: "data".into(),
            what: format!("expected fields in object {} ({e})", self.uuid),
        })
    }
}

/// A data value that is an object, a JSON string holding an object, or absent (empty).
pub fn data_map(command: &str, v: Option<&Value>) -> Result<Map<String, Value>> {
    match v {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(m)) => Ok(m.clone()),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(Map::new()),
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(Value::Object(m)) => Ok(m),
            _ => Err(RamsesError::Shape {
                command: command.to_string(),
                what: format!("JSON object in the data string {s:?}"),
            }),
        },
        Some(other) => Err(RamsesError::Shape {
            command: command.to_string(),
            what: format!("data object (got {other})"),
        }),
    }
}

fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => s,
        Value::Null => String::new(),
        other => other.to_string(),
    })
}

fn lenient_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|f: &f64| f.is_finite()))
}

fn lenient_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite())
                .map(|f| f.round() as i64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}

fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Bool(b) => Some(b),
        Value::Number(n) => n.as_i64().map(|i| i != 0),
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Some(true),
            "false" | "0" | "no" | "" => Some(false),
            _ => None,
        },
        _ => None,
    })
}

fn lenient_strings<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Array(a) => a
            .into_iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        Value::String(s) => s
            .split(',')
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect(),
        _ => Vec::new(),
    })
}

macro_rules! data_struct {
    ($(#[$m:meta])* $name:ident { $($(#[$fm:meta])* $field:ident : $ty:ty = $with:literal as $key:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
        pub struct $name {
            /// Short name (`SH010`, `COMP`).
            #[serde(rename = "shortName", default, deserialize_with = "lenient_string")]
            pub short_name: String,
            /// Display name.
            #[serde(default, deserialize_with = "lenient_string")]
            pub name: String,
            /// Comment.
            #[serde(default, deserialize_with = "lenient_string")]
            pub comment: String,
            $($(#[$fm])* #[serde(rename = $key, default, deserialize_with = $with)] pub $field: $ty,)*
            /// Every other key, kept as received.
            #[serde(flatten)]
            pub extra: Map<String, Value>,
        }
    };
}

data_struct!(
    /// `RamProject` data.
    ProjectData {
        /// Width in pixels.
        width: Option<i64> = "lenient_i64" as "width",
        /// Height in pixels.
        height: Option<i64> = "lenient_i64" as "height",
        /// Frames per second.
        framerate: Option<f64> = "lenient_f64" as "framerate",
    }
);

data_struct!(
    /// `RamSequence` data.
    SequenceData {
        /// Project uuid.
        project: String = "lenient_string" as "project",
    }
);

data_struct!(
    /// `RamShot` data.
    ShotData {
        /// Sequence uuid.
        sequence: String = "lenient_string" as "sequence",
        /// Duration in seconds.
        duration: Option<f64> = "lenient_f64" as "duration",
    }
);

data_struct!(
    /// `RamAssetGroup` data.
    AssetGroupData {
        /// Project uuid.
        project: String = "lenient_string" as "project",
    }
);

data_struct!(
    /// `RamAsset` data.
    AssetData {
        /// Asset group uuid.
        asset_group: String = "lenient_string" as "assetGroup",
        /// Tags.
        tags: Vec<String> = "lenient_strings" as "tags",
    }
);

data_struct!(
    /// `RamStep` data.
    StepData {
        /// `shot`, `asset`, `pre` or `post`.
        step_type: String = "lenient_string" as "type",
        /// Project uuid.
        project: String = "lenient_string" as "project",
    }
);

data_struct!(
    /// `RamState` data.
    StateData {
        /// Completion the state implies, 0-100.
        completion_ratio: Option<i64> = "lenient_i64" as "completionRatio",
        /// `#rrggbb`.
        color: String = "lenient_string" as "color",
    }
);

data_struct!(
    /// `RamStatus` data (short name and name are usually empty).
    StatusData {
        /// State uuid.
        state: String = "lenient_string" as "state",
        /// Version number.
        version: Option<i64> = "lenient_i64" as "version",
        /// Completion, 0-100.
        completion_ratio: Option<i64> = "lenient_i64" as "completionRatio",
        /// Uuid of the user who changed it last.
        user: String = "lenient_string" as "user",
        /// Step uuid.
        step: String = "lenient_string" as "step",
        /// Item uuid.
        item: String = "lenient_string" as "item",
        /// `shot` or `asset`.
        item_type: String = "lenient_string" as "itemType",
        /// Whether the version is published.
        published: Option<bool> = "lenient_bool" as "published",
        /// Last change, `YYYY-MM-DD HH:MM:SS`.
        date: String = "lenient_string" as "date",
    }
);

data_struct!(
    /// `RamUser` data.
    UserData {
        /// `admin`, `project`, `lead` or `standard`.
        role: String = "lenient_string" as "role",
    }
);

data_struct!(
    /// `RamPipe` data.
    PipeData {
        /// Step the pipe leaves.
        output_step: String = "lenient_string" as "outputStep",
        /// Step the pipe enters.
        input_step: String = "lenient_string" as "inputStep",
    }
);

data_struct!(
    /// `RamFileType` data.
    FileTypeData {
        /// Extensions (`exr`, `blend`).
        extensions: Vec<String> = "lenient_strings" as "extensions",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_as_string_or_object_and_unknown_keys_kept() {
        let e = serde_json::json!({"uuid": "u", "data": "{\"shortName\":\"SH010\",\"duration\":\"4.5\",\"color\":\"#fff\"}"});
        let o = RamObject::from_entry("getData", &e).unwrap();
        let s: ShotData = o.typed().unwrap();
        assert_eq!((s.short_name.as_str(), s.duration), ("SH010", Some(4.5)));
        assert_eq!(s.extra["color"], "#fff");
        let back = serde_json::to_value(&s).unwrap();
        assert_eq!(back["color"], "#fff");
        let e = serde_json::json!({"uuid": "u", "data": {"published": "true", "version": 3.0}});
        let st: StatusData = RamObject::from_entry("x", &e).unwrap().typed().unwrap();
        assert_eq!((st.published, st.version), (Some(true), Some(3)));
        assert!(RamObject::from_entry("x", &serde_json::json!({"data": {}})).is_err());
        assert!(
            RamObject::from_entry("x", &serde_json::json!({"uuid": "u", "data": "[1]"})).is_err()
        );
    }

    #[test]
    fn names_round_trip() {
        for t in ObjectType::ALL {
            assert_eq!(ObjectType::parse(t.as_str()), Some(t));
        }
        assert_eq!(StepFilter::parse(""), Some(StepFilter::All));
        assert!(StepFilter::Production.admits("asset"));
        assert!(!StepFilter::ShotProduction.admits("asset"));
    }
}
