//! One module per config section; each is owned by the concern that reads it.

mod ingest;
mod layout;
mod naming;
mod paths;
mod probe;
mod project;
mod ramses;
mod render;
mod review;
mod store;
mod thresholds;

pub use ingest::*;
pub use layout::*;
pub use naming::*;
pub use paths::*;
pub use probe::*;
pub use project::*;
pub use ramses::*;
pub use render::*;
pub use review::*;
pub use store::*;
pub use thresholds::*;
