//! pg-tmp: a throwaway PostgreSQL server, and fresh migrated databases from a
//! template, in one command.

mod binaries;
mod cli;
mod commands;
mod postmaster;
mod registry;
mod sweep;
mod template;
mod throwaway;
mod ttl;
mod util;

fn main() -> std::process::ExitCode {
    let started = std::time::Instant::now();
    let code = pgkit::cli::run("pg-tmp", || {
        let cli: cli::Cli = pgkit::cli::parse_or_man(include_str!("man.roff"))?;
        cli.log.apply()?;
        commands::run(cli, started)
    });
    commands::exit_code(code)
}
