//! pg-dump-rotate (being built).

use clap::Parser;

/// pg-dump-rotate
#[derive(Parser, Debug)]
#[command(name = "pg-dump-rotate", version)]
struct Cli {
    #[command(flatten)]
    log: pgkit::cli::LogArgs,
}

fn main() -> std::process::ExitCode {
    pgkit::cli::run("pg-dump-rotate", || {
        let cli: Cli = pgkit::cli::parse()?;
        cli.log.apply()?;
        Err(pgkit::Error::new(
            pgkit::Exit::Failure,
            "not implemented yet",
        ))
    })
}
