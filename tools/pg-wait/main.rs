//! pg-wait (being built).

use clap::Parser;

/// pg-wait
#[derive(Parser, Debug)]
#[command(name = "pg-wait", version)]
struct Cli {
    #[command(flatten)]
    log: pgkit::cli::LogArgs,
}

fn main() -> std::process::ExitCode {
    pgkit::cli::run("pg-wait", || {
        let cli: Cli = pgkit::cli::parse()?;
        cli.log.apply()?;
        Err(pgkit::Error::new(
            pgkit::Exit::Failure,
            "not implemented yet",
        ))
    })
}
