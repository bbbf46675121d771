//! Publishing: register one version and write its manifest beside the files.
//!
//! Order matters for crash safety. The version is committed first (the number is taken under
//! the write lock), then the manifest is written atomically and never over an existing file. A
//! kill before the commit leaves nothing; a kill after it leaves a version whose manifest is
//! absent, which `db check` reports; a manifest is never half-written.

use std::path::{Path, PathBuf};

use serde::Serialize;
use shotline_fsio::Overwrite;

use shotline_layout::VersionNumber;

use crate::actor::Actor;
use crate::allocate::VersionLayout;
use crate::error::{Result, StoreError};
use crate::model::{NewVersion, Version};
use crate::store::Store;
use crate::versions::version_name;

/// Version of the manifest JSON layout (bumped on incompatible changes).
pub const MANIFEST_VERSION: u32 = 1;

/// The publish manifest written beside the files
/// (`<item>_<step>[+<resource>]_vNNN.publish.json`, see [`ManifestNames`]).
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

/// How publish manifests are named in the folder of the files:
/// `<item>_<step>_vNNN.publish.json`, or `<item>_<step>+<resource>_vNNN.publish.json` for a
/// resource. `+` cannot appear in a step or resource code, so `--step COMP --resource BG`
/// (`SH010_COMP+BG_v001`) and `--step COMP_BG` (`SH010_COMP_BG_v001`) never share a name.
/// A [`VersionLayout`] of files, so publish numbers through the same allocator as everything
/// else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestNames {
    dir: PathBuf,
    stem: String,
}

impl ManifestNames {
    /// The manifests of `item` × `step` × `resource` in `dir`.
    pub fn new(dir: &Path, item: &str, step: &str, resource: &str) -> ManifestNames {
        let mut stem = format!("{item}_{step}");
        if !resource.is_empty() {
            stem.push('+');
            stem.push_str(resource);
        }
        ManifestNames {
            dir: dir.to_path_buf(),
            stem,
        }
    }

    /// The manifests of `v`'s key in the folder of its files.
    pub fn of(v: &Version) -> ManifestNames {
        ManifestNames::new(Path::new(&v.files.dir), &v.item.code, &v.step, &v.resource)
    }

    /// The manifest of version `n`.
    pub fn path(&self, n: VersionNumber) -> PathBuf {
        self.dir.join(self.entry_name(n))
    }
}

impl VersionLayout for ManifestNames {
    fn parent(&self) -> &Path {
        &self.dir
    }
    fn entry_name(&self, n: VersionNumber) -> String {
        format!("{}_{n}.publish.json", self.stem)
    }
    fn number_of(&self, name: &str) -> Option<VersionNumber> {
        let v = name
            .strip_prefix(self.stem.as_str())?
            .strip_prefix('_')?
            .strip_suffix(".publish.json")?;
        crate::allocate::parse_v_number(v)
    }
    fn creates_folder(&self) -> bool {
        false
    }
}

/// Where the manifest of `v` goes: in the folder of its files. An error only for a number
/// outside 1 to 999,999 (which the store never registers).
pub fn manifest_path(v: &Version) -> Result<PathBuf> {
    let n = VersionNumber::from_i64(v.number).ok_or_else(|| StoreError::Invalid {
        what: "version number",
        value: v.number.to_string(),
        expected: crate::versions::number_range(),
    })?;
    Ok(ManifestNames::of(v).path(n))
}

impl Store {
    /// Registers `v` as the next version of its item × step × resource and writes its manifest.
    /// Returns the version; if the manifest cannot be written the error says the version was
    /// recorded (a failure is never silent, a success never false).
    pub fn publish(&mut self, actor: &Actor, v: NewVersion) -> Result<Version> {
        let mut done = self.register_with(actor, std::slice::from_ref(&v), true)?;
        let version = done.pop().ok_or_else(|| StoreError::NotFound {
            kind: "registered version",
            name: v.item.code.clone(),
        })?;
        crate::hooks::pause_at("after-commit");
        let write = self.write_manifest(actor, &version);
        match write {
            Ok(_) => Ok(version),
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

impl Store {
    /// Writes the manifest of `version` atomically, never over an existing file; returns its
    /// path.
    pub(crate) fn write_manifest(&self, actor: &Actor, version: &Version) -> Result<PathBuf> {
        let path = manifest_path(version)?;
        let manifest = Manifest {
            shotline_manifest: MANIFEST_VERSION,
            project: &self.project.code,
            host: &actor.host,
            version,
        };
        let mut bytes = serde_json::to_vec_pretty(&manifest).map_err(|e| StoreError::Io {
            path: path.clone(),
            source: std::io::Error::other(e),
        })?;
        bytes.push(b'\n');
        shotline_fsio::write_atomic_with(&path, &bytes, Overwrite::Never, || {
            crate::hooks::pause_at("manifest-written")
        })?;
        Ok(path)
    }
}

impl Store {
    /// The latest version of `v`'s item × step × resource when it records the same files with
    /// the same measured summary (folder, pattern, frames, bytes, file count, checksum): a
    /// publish of byte-identical frames, which the caller should warn about or refuse.
    pub fn identical_latest(&self, v: &NewVersion) -> Result<Option<Version>> {
        let q = crate::model::VersionQuery {
            kind: Some(v.item.kind),
            item: Some(v.item.code.clone()),
            step: Some(v.step.clone()),
            resource: Some(v.resource.clone()),
            latest: true,
            limit: Some(1),
        };
        let frames = crate::frames::normalise("frame range", &v.files.frame_range)?;
        let same = |o: &Version| {
            let (a, b) = (&o.files, &v.files);
            a.dir == b.dir
                && a.pattern == b.pattern
                && a.frame_range == frames
                && a.bytes == b.bytes
                && a.file_count == b.file_count
                && a.checksum == b.checksum
        };
        Ok(self.versions(&q)?.into_iter().find(same))
    }
}
