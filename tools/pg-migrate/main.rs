//! pg-migrate: SQL migrations applied exactly once, transactionally, safely
//! under concurrency. The logic lives in the modules beside this file.

mod apply;
mod args;
mod checksum;
mod commands;
mod dump;
mod files;
mod lock;
mod plan;
mod position;
mod session;
mod splitter;
mod sql;
mod tracking;
mod watch;

fn main() -> std::process::ExitCode {
    pgkit::cli::run("pg-migrate", || {
        let cli: args::Cli = pgkit::cli::parse_or_man(include_str!("man.roff"))?;
        cli.log.apply()?;
        commands::run(cli)
    })
}
