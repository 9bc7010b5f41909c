//! pg-dump-rotate: dumps you can trust, rotated without ever losing the last
//! good one. See man/pg-dump-rotate.1.

mod child;
mod cli;
mod commands;
mod confirm;
mod drill;
mod durable;
mod facts;
mod freshness;
mod globals;
mod gzip;
mod integrity;
mod layout;
mod lock;
mod metrics;
mod programs;
mod remote;
mod retention;

fn main() -> std::process::ExitCode {
    pgkit::cli::run("pg-dump-rotate", || {
        let cli: cli::Cli = pgkit::cli::parse_or_man(include_str!("man.roff"))?;
        cli.log.apply()?;
        commands::run(cli)
    })
}
