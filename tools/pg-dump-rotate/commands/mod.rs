//! One file per subcommand. `dump --purge` applies `purge`'s rules (the
//! only dependency between commands, and one-way).

pub mod all;
pub mod check;
pub mod dump;
pub mod list;
pub mod purge;
pub mod restore;
pub mod verify;

use crate::cli::{Cli, Cmd};
use pgkit::cli::Summary;
use pgkit::Result;

/// Runs the chosen subcommand.
pub fn run(cli: Cli) -> Result<Summary> {
    match cli.cmd {
        Cmd::Dump(a) if a.all_databases => all::run(&cli.dir, &a),
        Cmd::Dump(a) => dump::run(&cli.dir, &a),
        Cmd::List(a) => list::run(&cli.dir, &a),
        Cmd::Verify(a) => verify::run(&cli.dir, &a),
        Cmd::Purge(a) => purge::run(&cli.dir, &a),
        Cmd::Check(a) => check::run(&cli.dir, &a),
        Cmd::Restore(a) => restore::run(&a),
    }
}
