//! Publishing: register one version and write its manifest beside the files.
//!
//! Order matters for crash safety. The version is committed first (the number is taken under
//! the write lock), then the manifest is written atomically and never over an existing file. A
//! kill before the commit leaves nothing; a kill after it leaves a version whose manifest is
//! absent, which `db check` reports; a manifest is never half-written.

use std::path::{Path, PathBuf};

use serde::Serialize;
use shotline_fsio::Overwrite;

use crate::actor::Actor;
use crate::error::{Result, StoreError};
use crate::model::{NewVersion, Version};
use crate::store::Store;
use crate::versions::version_name;

/// Version of the manifest JSON layout (bumped on incompatible changes).
pub const MANIFEST_VERSION: u32 = 1;

/// The publish manifest written beside the files (`<item>_<step>[_<resource>]_vNNN.publish.json`).
#[derive(Debug, Serialize)]
pub struct Manifest<'a> {
    /// Always [`MANIFEST_VERSION`].
    pub shotline_manifest: u32,
    /// Project code.
    pub project: &'a str,
    /// Host that published.
    pub host: &'a str,
    /// The version as recorded in the database.
    pub version: &'a Version,
}

/// Where the manifest of `v` goes: in the folder of its files.
pub fn manifest_path(v: &Version) -> PathBuf {
    let mut name = format!("{}_{}", v.item.code, v.step);
    if !v.resource.is_empty() {
        name.push('_');
        name.push_str(&v.resource);
    }
    Path::new(&v.files.dir).join(format!("{name}_v{:03}.publish.json", v.number))
}

impl Store {
    /// Registers `v` as the next version of its item × step × resource and writes its manifest.
    /// Returns the version; if the manifest cannot be written the error says the version was
    /// recorded (a failure is never silent, a success never false).
    pub fn publish(&mut self, actor: &Actor, v: NewVersion) -> Result<Version> {
        let mut done =
            self.register_with(actor, std::slice::from_ref(&v), |x| Some(manifest_path(x)))?;
        let version = done.pop().ok_or_else(|| StoreError::NotFound {
            kind: "registered version",
            name: v.item.code.clone(),
        })?;
        crate::hooks::pause_at("after-commit");
        let path = manifest_path(&version);
        let manifest = Manifest {
            shotline_manifest: MANIFEST_VERSION,
            project: &self.project.code,
            host: &actor.host,
            version: &version,
        };
        let write = serde_json::to_vec_pretty(&manifest)
            .map_err(|e| StoreError::Io {
                path: path.clone(),
                source: std::io::Error::other(e),
            })
            .and_then(|mut bytes| {
                bytes.push(b'\n');
                shotline_fsio::write_atomic_with(&path, &bytes, Overwrite::Never, || {
                    crate::hooks::pause_at("manifest-written")
                })
                .map_err(StoreError::from)
            });
        match write {
            Ok(()) => Ok(version),
            Err(e) => Err(StoreError::Manifest {
                version: version_name(
                    &version.item.code,
                    &version.step,
                    &version.resource,
                    version.number,
                ),
                id: version.id,
                source: Box::new(e),
            }),
        }
    }
}
