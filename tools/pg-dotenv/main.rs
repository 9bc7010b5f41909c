//! pg-dotenv: read and edit .env files without ever damaging them.

mod cli;
mod commands;
mod edit;
mod format;
mod interpolate;
mod parse;
mod pgenv;
mod quote;
mod read;
mod write;

fn main() -> std::process::ExitCode {
    pgkit::cli::run("pg-dotenv", || {
        let cli: cli::Cli = pgkit::cli::parse_or_man(include_str!("man.roff"))?;
        cli.log.apply()?;
        commands::run(cli)
    })
}
