//! Image sequences on disk: grouping file names into sequences, parsing sequence patterns,
//! and walking trees fast.
//!
//! Everything that finds frames (`ls`, probe, validate, ingest, the render verifier) goes
//! through this crate so that every command agrees on what a sequence is. The rules are
//! REFERENCE.md's "Sequence grouping": the frame is the digit run right before the extension,
//! grouping is per directory, case-sensitive, padding- and sign-aware.
//!
//! - [`group`] / [`group_entries`] / [`group_paths`]: names in, [`Grouping`] out.
//! - [`Classify`]: which extensions may form sequences ([`group_entries_with`],
//!   [`Grouping::ungroup_with`]); the media registry implements it, [`GroupAll`] groups all.
//! - [`parse_pattern`] and [`find_on_disk`]: `plate.####.exr` in, the [`Sequence`] on disk out.
//! - [`walk`]: a parallel recursive listing, grouped, streamed one directory at a time in
//!   depth-first name order (`ls`, probe).
//! - [`walk_entries`]: the raw-entries walk, every directory's files with their stat (size,
//!   blocks, device, inode, links, mtime), unordered while walking and sorted once (`disk`,
//!   validate, ingest's delivery scan).
//!
//! Both walks, and [`find_on_disk`], read directories through one reader: `getdents` and one
//! `fstatat` per entry that needs it, names kept as the OS gave them.
//!
//! ```
//! let g = shotline_sequences::group("shots/sh010", ["plate.1001.exr", "plate.1002.exr", "notes.txt"]);
//! assert_eq!(g.sequences.len(), 1);
//! assert_eq!(g.files.len(), 1);
//! ```

#![warn(missing_docs)]

mod classify;
mod entries;
mod group;
mod name;
mod os;
pub use os::is_symlink_loop;
mod pattern;
mod read;
mod sequence;
mod walk;

pub use classify::{Classify, GroupAll};
pub use entries::{walk_entries, EntryListing, EntryOptions, EntryWalk};
pub use group::{
    group, group_entries, group_entries_with, group_paths, Grouping, PlainFile, Warning,
};
pub use pattern::{
    find_on_disk, parse_pattern, parse_pattern_path, FindError, PatternError, SequencePattern,
};
pub use read::{Entry, EntryKind, EntryStat};
pub use sequence::{FileStat, PadStyle, RangeIn, Sequence};
pub use walk::{walk, DirListing, Prune, SubDir, WalkError, WalkEvent, WalkOptions, WalkSummary};
