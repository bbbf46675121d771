//! shotline-ramses: interop with Ramses (RxLaboratory), the production tracker many small
//! studios run, whose add-ons (Blender, Maya, Fusion) and Python API talk to a local daemon.
//!
//! - [`Client`]: the daemon client. One query per connection, serialised; the reply is read
//!   until one complete JSON value has arrived (no size limit, split packets, optional trailing
//!   whitespace) under connect/read timeouts; values that would corrupt the query (`&`, `=`) are
//!   refused before sending; read replies are cached for a TTL that any write clears; listings
//!   with data come from one `getObjects` query instead of one `getData` per object.
//! - [`objects`]: typed Ramses objects (project, sequence, shot, asset group, asset, step,
//!   state, status, user, pipe, file type) over their data dictionaries, keeping unknown keys.
//! - [`metadata`]: `_ramses_data.json` sidecars read, merged and written atomically.
//! - [`serve`]: a headless Ramses daemon answering from the shotline store, so Ramses add-ons
//!   and scripts work on render nodes and in CI with no Ramses client running.
//! - [`mirror`]: pushes publishes and status changes to Ramses through the store's outbox.
//!
//! File names and the `_published` tree come from `shotline_layout` (the one layout).

#![warn(missing_docs)]

mod client;
mod complete;
mod error;
pub mod ids;
pub mod metadata;
pub mod mirror;
pub mod objects;
mod query;
pub mod serve;

pub use client::{Client, ClientOptions, Reply, DEFAULT_PORT};
pub use complete::{JsonScanner, Scan};
pub use error::{RamsesError, Result};
pub use objects::{ObjectType, Ping, RamObject, StepFilter};
pub use query::Query;
