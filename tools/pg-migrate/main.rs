//! pg-migrate (being built).

use clap::Parser;

/// pg-migrate
#[derive(Parser, Debug)]
#[command(name = "pg-migrate", version)]
struct Cli {
    #[command(flatten)]
    log: pgkit::cli::LogArgs,
}

fn main() -> std::process::ExitCode {
    pgkit::cli::run("pg-migrate", || {
        let cli: Cli = pgkit::cli::parse()?;
        cli.log.apply()?;
        Err(pgkit::Error::new(
            pgkit::Exit::Failure,
            "not implemented yet",
        ))
    })
}
