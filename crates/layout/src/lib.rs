//! shotline-layout: the one project model.
//!
//! Every command that turns a path into a show/shot/step/version (or back) goes through this
//! crate: ingest's destinations, publish's version folders and manifest names, validate's and
//! disk's discovery, render's default output path, and what comes after (Ramses, scene audit,
//! review).
//!
//! - [`Template`]: the one template language (`{field}`, `{field:REGEX}`, `[optional]`).
//! - [`Layout`]: named templates from a [`Preset`] plus config overrides, below a root, with
//!   [`Layout::version_dir`], [`Layout::file_name`] and [`Layout::resolve`].
//! - [`Fields`]: typed field values (never a string map at the API surface).
//! - [`VersionNumber`]: the one place a version number is parsed and formatted (`v001`).
//! - [`check_component`]: the one check that a value substituted into a path is a single, safe
//!   path component, so nothing escapes the project root.
//! - Ramses names: [`parse_ramses_name`], [`format_ramses_name`], [`parse_ramses_published`],
//!   [`format_ramses_published`].

#![warn(missing_docs)]

mod component;
mod field;
mod layout;
mod preset;
mod ramses;
mod template;
mod version;

pub use component::{check_component, check_inside, UnsafeComponent};
pub use field::{Field, Fields, UnknownField};
pub use layout::{Layout, Place, Resolved, FILE_SUFFIX, VERSION_SUFFIX};
pub use preset::*;
pub use ramses::{
    format_ramses_name, format_ramses_published, parse_ramses_name, parse_ramses_published,
    RamsesKind, RamsesName, RamsesPublished,
};
pub use template::{FormatError, Template, TemplateError, Variant};
pub use version::{version_digits, version_label, ParseVersionError, VersionNumber};
