//! pg-dump-rotate: dumps you can trust, rotated without ever losing the last
//! good one. See man/pg-dump-rotate.1.

mod args;
mod child;
mod dump;
mod gzip;
mod layout;
mod list;
mod lock;
mod programs;
mod purge;
mod restore;
mod retention;
mod verify;

use args::{Cli, Cmd};

fn main() -> std::process::ExitCode {
    pgkit::cli::run("pg-dump-rotate", || {
        let cli: Cli = pgkit::cli::parse_or_man(include_str!("man.roff"))?;
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
