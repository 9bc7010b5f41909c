//! pg-dump-rotate: dumps you can trust, rotated without ever losing the last
//! good one. See man/pg-dump-rotate.1.

mod args;
mod child;
mod dump;
mod layout;
mod list;
mod lock;
mod man;
mod programs;
mod purge;
mod restore;
mod retention;
mod verify;

use args::{Cli, Cmd};

fn main() -> std::process::ExitCode {
    pgkit::cli::run("pg-dump-rotate", || {
        // The COMMANDS section is built from the clap definitions, only when
        // the man page is asked for.
        let extra = if std::env::args_os()
            .nth(1)
            .is_some_and(|a| a == "--generate-man")
        {
            man::extra()
        } else {
            String::new()
        };
        let cli: Cli = pgkit::cli::parse_or_man(&extra)?;
        cli.log.apply()?;
        match cli.cmd {
            Cmd::Dump(a) => dump::run(&cli.dir, &a),
            Cmd::List(a) => list::run(&cli.dir, &a),
            Cmd::Verify(a) => verify::run(&cli.dir, &a),
            Cmd::Purge(a) => purge::run(&cli.dir, &a),
            Cmd::Restore(a) => restore::run(&a),
        }
    })
}
