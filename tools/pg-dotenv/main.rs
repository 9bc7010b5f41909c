//! pg-dotenv (being built).

use clap::Parser;

/// pg-dotenv
#[derive(Parser, Debug)]
#[command(name = "pg-dotenv", version)]
struct Cli {
    #[command(flatten)]
    log: pgkit::cli::LogArgs,
}

fn main() -> std::process::ExitCode {
    pgkit::cli::run("pg-dotenv", || {
        let cli: Cli = pgkit::cli::parse()?;
        cli.log.apply()?;
        Err(pgkit::Error::new(
            pgkit::Exit::Failure,
            "not implemented yet",
        ))
    })
}
