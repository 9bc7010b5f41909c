//! pgkit: what the pgkit tools share, and only that — libpq-compatible
//! connection settings, JSON-lines logging, the exit-code table, backoff,
//! interruption, redaction, and a throwaway PostgreSQL server for tests and
//! demos. Synchronous and lean.

pub mod backoff;
pub mod cli;
pub mod completions;
pub mod conn;
pub mod duration;
pub mod error;
pub mod exit;
pub mod fleet;
pub mod interrupt;
pub mod log;
pub mod manpage;
pub mod orphan;
pub mod out;
pub mod panic;
pub mod pginstall;
pub mod progress;
pub mod redact;
pub mod script;
pub mod server;
pub mod shell;
pub mod sql;
pub mod statements;
pub mod wait;

pub use error::{Error, Result};
pub use exit::Exit;
