//! pg-seed's commands: applying seed files (the default) and `generate`.

pub mod generate;
pub mod seed;

use crate::cli::{Cli, Command};
use pgkit::cli::Summary;
use pgkit::Result;

/// Runs the command the command line names.
pub fn run(cli: &Cli) -> Result<Summary> {
    match &cli.command {
        // SKIP_SEED means "no seed data in this database" (production):
        // it holds for synthetic rows too.
        Some(Command::Generate(_)) if seed::skip_requested(cli)? => {
            Ok(Summary::ok("Seeding skipped").field("reason", "SKIP_SEED"))
        }
        Some(Command::Generate(g)) => generate::run(g),
        None => seed::run(cli),
    }
}
