//! shotline-layout: the one project model.
//!
//! Every command that turns a path into a show/shot/step/version (or back) goes through this
//! crate: ingest's destinations, publish's version folders and manifest names, validate's and
//! disk's discovery, render's default output path, and what comes after (Ramses, scene audit,
//! review). Two vocabulary types live here because every other crate needs them and none of
//! them may define its own:
//!
//! - [`VersionNumber`]: the one place a version number is parsed and formatted (`v001`).
//! - [`check_component`]: the one check that a value substituted into a path (project code,
//!   shot, step, resource, state, fields parsed from names, values from the store, an EDL or the
//!   command line) is a single, safe path component, so nothing escapes the project root.

#![warn(missing_docs)]

mod component;
mod version;

pub use component::{check_component, check_inside, UnsafeComponent};
pub use version::{ParseVersionError, VersionNumber};
