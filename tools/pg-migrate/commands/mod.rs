//! The subcommands.

mod adopt;
mod baseline;
mod down;
mod new;
mod repair;
mod status;
mod up;
mod verify;

use crate::cli::{Cli, Command};
use pgkit::cli::Summary;
use pgkit::{Error, Result};

/// Runs the command line.
pub fn run(cli: Cli) -> Result<Summary> {
    match cli.command {
        None => up::run(&cli.up),
        Some(Command::Up(a)) => up::run(&a),
        Some(Command::Down(a)) => down::run(&a),
        Some(Command::Status(a)) => status::run(&a),
        Some(Command::Verify(a)) => verify::run(&a),
        Some(Command::New(a)) => new::run(&a),
        Some(Command::Baseline(a)) => baseline::run(&a),
        Some(Command::Repair(a)) => repair::run(&a),
        Some(Command::Adopt(a)) => adopt::run(&a),
    }
}

/// Parses a VERSION argument in the folder's version form (digits; a
/// diesel version may keep its dashes, a Flyway one its dots).
pub fn version_arg(flag: &str, v: &str) -> Result<String> {
    crate::files::normalize_version(v).ok_or_else(|| {
        Error::usage("Invalid version")
            .cause(format!("{flag} {v:?} is not a version of this folder"))
            .suggest("Give the version part of a migration file name, e.g. 003 or 20240101120000")
    })
}
