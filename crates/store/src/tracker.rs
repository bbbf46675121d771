//! [`Tracker`]: what the pipeline needs from a production tracker, so that the embedded SQLite
//! [`Store`] can later be swapped for a Ramses daemon or a shared server without touching
//! publish or ingest.

use crate::actor::Actor;
use crate::error::Result;
use crate::model::{
    Asset, Event, EventQuery, ItemKind, NewVersion, Project, Shot, Status, StatusChange, Step,
    Version, VersionQuery,
};
use crate::store::Store;

/// A production-tracking backend.
pub trait Tracker {
    /// The project tracked.
    fn project(&self) -> Result<Project>;
    /// Shots, optionally in one editorial sequence.
    fn shots(&self, sequence: Option<&str>) -> Result<Vec<Shot>>;
    /// Assets, optionally in one group.
    fn assets(&self, group: Option<&str>) -> Result<Vec<Asset>>;
    /// Steps, optionally of one kind.
    fn steps(&self, kind: Option<ItemKind>) -> Result<Vec<Step>>;
    /// Registers versions atomically (all or none), numbering them.
    fn register_versions(&mut self, actor: &Actor, batch: &[NewVersion]) -> Result<Vec<Version>>;
    /// Registers one version and writes its publish manifest beside the files.
    fn publish(&mut self, actor: &Actor, version: NewVersion) -> Result<Version>;
    /// Lists versions.
    fn versions(&self, query: &VersionQuery) -> Result<Vec<Version>>;
    /// One version by id.
    fn version(&self, id: i64) -> Result<Version>;
    /// Changes a task status under the approval rules.
    fn set_status(&mut self, actor: &Actor, change: &StatusChange) -> Result<Status>;
    /// Reads the audit trail.
    fn events(&self, query: &EventQuery) -> Result<Vec<Event>>;
}

impl Tracker for Store {
    fn project(&self) -> Result<Project> {
        Ok(Store::project(self).clone())
    }
    fn shots(&self, sequence: Option<&str>) -> Result<Vec<Shot>> {
        Store::shots(self, sequence)
    }
    fn assets(&self, group: Option<&str>) -> Result<Vec<Asset>> {
        Store::assets(self, group)
    }
    fn steps(&self, kind: Option<ItemKind>) -> Result<Vec<Step>> {
        Store::steps(self, kind)
    }
    fn register_versions(&mut self, actor: &Actor, batch: &[NewVersion]) -> Result<Vec<Version>> {
        Store::register_versions(self, actor, batch)
    }
    fn publish(&mut self, actor: &Actor, version: NewVersion) -> Result<Version> {
        Store::publish(self, actor, version)
    }
    fn versions(&self, query: &VersionQuery) -> Result<Vec<Version>> {
        Store::versions(self, query)
    }
    fn version(&self, id: i64) -> Result<Version> {
        Store::version(self, id)
    }
    fn set_status(&mut self, actor: &Actor, change: &StatusChange) -> Result<Status> {
        Store::set_status(self, actor, change)
    }
    fn events(&self, query: &EventQuery) -> Result<Vec<Event>> {
        Store::events(self, query)
    }
}
