//! pg-seed: optional, idempotent development data — SQL and CSV seed files
//! applied once and tracked, and synthetic rows with `pg-seed generate`.

mod all;
mod checks;
mod cli;
mod commands;
mod csv;
mod discovery;
mod fill;
mod ident;
mod introspect;
mod partition;
mod pattern;
mod rowgen;
mod sql;
mod staged;
mod statements;
mod tracking;
mod values;

fn main() -> std::process::ExitCode {
    pgkit::cli::run("pg-seed", || {
        let cli: cli::Cli = pgkit::cli::parse_or_man(include_str!("man.roff"))?;
        cli.log.apply()?;
        commands::run(&cli)
    })
}
