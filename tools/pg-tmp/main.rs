//! pg-tmp (being built).

use clap::Parser;

/// pg-tmp
#[derive(Parser, Debug)]
#[command(name = "pg-tmp", version)]
struct Cli {
    #[command(flatten)]
    log: pgkit::cli::LogArgs,
}

fn main() -> std::process::ExitCode {
    pgkit::cli::run("pg-tmp", || {
        let cli: Cli = pgkit::cli::parse()?;
        cli.log.apply()?;
        Err(pgkit::Error::new(
            pgkit::Exit::Failure,
            "not implemented yet",
        ))
    })
}
