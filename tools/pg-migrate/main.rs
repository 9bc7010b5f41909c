//! pg-migrate: SQL migrations applied exactly once, safely under concurrency.
mod apply;
mod checksum;
mod cli;
mod commands;
mod dump;
mod files;
mod fleet;
mod foreign;
mod layout;
mod lock;
mod plan;
mod position;
mod script;
mod sequence;
mod session;
mod splitter;
mod sql;
mod tracking;
mod watch;

fn main() -> std::process::ExitCode {
    pgkit::cli::run("pg-migrate", || {
        let argv = cli::subcommand_first(std::env::args_os().collect());
        let parsed: cli::Cli = pgkit::cli::parse_or_man_from(include_str!("man.roff"), argv)?;
        parsed.log.apply()?;
        commands::run(parsed)
    })
}
