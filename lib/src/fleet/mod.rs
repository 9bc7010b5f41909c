//! Fleets: one command over many tenant databases or schemas (issue 19),
//! shared by pg-migrate and pg-wait. One job per file:
//!
//! - `args.rs`: the target-set flags and resolving them into targets;
//! - `target.rs`: a target (a database, or a schema in it) and where
//!   targets come from (a list file, a server's databases, their schemas);
//! - `glob.rs`: the shell patterns that pick databases and schemas;
//! - `shard.rs`: `--shard I/N`, a deterministic slice by a name's hash;
//! - `run.rs`: the scheduler, result lines and summary;
//! - `severity.rs`: which exit code of many is the run's.

mod args;
pub mod glob;
mod run;
pub mod severity;
pub mod shard;
pub mod target;

pub use args::{DatabaseSet, FleetArgs};
pub use run::{run, Options};
pub use shard::Shard;
pub use target::Target;
