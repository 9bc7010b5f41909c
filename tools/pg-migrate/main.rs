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
mod sequence;
mod session;
mod splitter;
mod sql;
mod tracking;
mod watch;

fn main() -> std::process::ExitCode {
    pgkit::cli::run("pg-migrate", || {
        let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
        let cli: args::Cli = if argv.get(1).is_some_and(|a| a == "--generate-man") {
            pgkit::cli::parse_or_man(include_str!("man.roff"))?
        } else {
            pgkit::cli::parse_from(args::subcommand_first(argv))?
        };
        cli.log.apply()?;
        commands::run(cli)
    })
}
