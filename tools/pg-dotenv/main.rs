//! pg-dotenv: read and edit .env files without ever damaging them.

mod check;
mod commands;
mod edit;
mod format;
mod interpolate;
mod parse;
mod pgenv;
mod quote;
mod read;
mod write;

use clap::{Parser, Subcommand};
use std::ffi::OsString;
use std::path::PathBuf;

/// Read and edit .env files without ever damaging them
#[derive(Parser, Debug)]
#[command(name = "pg-dotenv", version)]
struct Cli {
    /// The .env file; repeat for reads (later files win) [default: .env]
    #[arg(
        short = 'f',
        long = "file",
        env = "DOTENV_FILE",
        value_name = "FILE",
        global = true
    )]
    file: Vec<PathBuf>,
    /// Take values as written: no $VAR / ${VAR} expansion
    #[arg(long, global = true)]
    no_interpolate: bool,
    /// How long a writer waits for another writer's lock
    #[arg(
        long,
        env = "DOTENV_LOCK_TIMEOUT",
        value_name = "DURATION",
        default_value = "10s",
        global = true
    )]
    lock_timeout: String,
    /// Write even a read-only (0444) file (its mode is kept)
    #[arg(long, global = true)]
    force: bool,
    /// A file that may be missing, read after the -f files (repeatable;
    /// `-f FILE?` says the same)
    #[arg(long, value_name = "FILE", global = true)]
    optional: Vec<PathBuf>,
    #[command(flatten)]
    log: pgkit::cli::LogArgs,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Print KEY's value; exit 1 when absent
    Get {
        /// The key
        key: String,
        /// Print this instead when KEY is absent (exit 0)
        #[arg(long, value_name = "VALUE", allow_hyphen_values = true)]
        default: Option<String>,
    },
    /// Set keys: KEY VALUE, KEY=VALUE, or KEY +DEFAULT (only if absent; ++X is the literal +X)
    Set {
        /// Read the value of the one KEY from stdin (keeps a secret off argv;
        /// one trailing newline is dropped)
        #[arg(long)]
        stdin: bool,
        /// +DEFAULT also fills a key that is present but empty (KEY=)
        #[arg(long)]
        if_empty: bool,
        /// KEY VALUE | KEY=VALUE | KEY +DEFAULT, repeated; applied atomically.
        /// A value starting with - needs KEY=VALUE or `--` first: set -- K -5
        #[arg(required = true, value_name = "PAIR")]
        pairs: Vec<OsString>,
    },
    /// Remove keys (every occurrence)
    Unset {
        /// The keys
        #[arg(required = true)]
        keys: Vec<String>,
    },
    /// Print every key and value, in file order
    List {
        /// Output format: dotenv, shell, export (both safe to eval) or json
        #[arg(
            long,
            value_enum,
            default_value = "dotenv",
            hide_possible_values = true
        )]
        format: format::Format,
    },
    /// Set KEY to a new random secret, only if it is absent
    Generate {
        /// The key
        key: String,
        /// Number of characters
        #[arg(long, default_value_t = 32)]
        length: usize,
        /// Characters to draw from: alnum, hex or base64url (A-Z a-z 0-9 - _)
        #[arg(long, value_enum, default_value = "alnum", hide_possible_values = true)]
        charset: commands::Charset,
        /// Print the value (the new one, or the one already set)
        #[arg(long)]
        print: bool,
        /// Also replace a key that is present but empty (KEY= from a .env.example)
        #[arg(long)]
        if_empty: bool,
    },
    /// Print `export PGHOST=… PGPASSWORD=…` from DATABASE_URL or POSTGRES_* keys
    Pgenv {
        /// Read {PREFIX}DATABASE_URL and {PREFIX}POSTGRES_* instead
        #[arg(long, value_name = "PREFIX", default_value = "")]
        prefix: String,
    },
    /// Compare with an example file: list missing and extra keys; exit 1 when
    /// keys are missing (CI)
    Check {
        /// The example file (.env.example)
        #[arg(long, value_name = "FILE")]
        example: PathBuf,
        /// Append the missing keys with the example's values and comments
        #[arg(long)]
        fix: bool,
    },
    /// Run a command with the file's values in its environment
    Run {
        /// Let the file's values replace variables already set
        #[arg(long = "override")]
        override_env: bool,
        /// The command and its arguments (after --)
        #[arg(
            required = true,
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "CMD"
        )]
        cmd: Vec<OsString>,
    },
}

fn main() -> std::process::ExitCode {
    pgkit::cli::run("pg-dotenv", || {
        let cli: Cli = pgkit::cli::parse_or_man(include_str!("man.roff"))?;
        cli.log.apply()?;
        // One duration grammar for every tool: a bare number is milliseconds.
        let lock_timeout =
            pgkit::duration::parse_ms_or_duration(&cli.lock_timeout).map_err(|e| {
                // From the command line a usage error, from DOTENV_LOCK_TIMEOUT a
                // configuration error.
                let flag = std::env::args().any(|a| a.starts_with("--lock-timeout"));
                let err = if flag {
                    pgkit::Error::usage("Invalid --lock-timeout")
                } else {
                    pgkit::Error::config("Invalid DOTENV_LOCK_TIMEOUT")
                };
                err.cause(e)
                    .suggest("Give a duration with a unit: 500ms, 10s, 1m")
            })?;
        // `-f FILE?`: FILE may be missing (unless a file named `FILE?` exists).
        let mut optional = Vec::new();
        let mut files: Vec<PathBuf> = cli
            .file
            .into_iter()
            .map(|f| match f.to_str().and_then(|s| s.strip_suffix('?')) {
                Some(stem) if !f.exists() => {
                    optional.push(PathBuf::from(stem));
                    PathBuf::from(stem)
                }
                _ => f,
            })
            .collect();
        if files.is_empty() {
            files.push(PathBuf::from(".env"));
        }
        for f in cli.optional {
            optional.push(f.clone());
            files.push(f);
        }
        let ctx = commands::Ctx {
            files,
            optional,
            interpolate: !cli.no_interpolate,
            lock_timeout,
            force: cli.force,
        };
        match cli.cmd {
            Cmd::Get { key, default } => commands::get(&ctx, &key, default.as_deref()),
            Cmd::Set {
                stdin,
                if_empty,
                pairs,
            } => commands::set(&ctx, stdin, if_empty, &pairs),
            Cmd::Unset { keys } => commands::unset(&ctx, &keys),
            Cmd::List { format } => commands::list(&ctx, format),
            Cmd::Generate {
                key,
                length,
                charset,
                print,
                if_empty,
            } => commands::generate(&ctx, &key, length, charset, print, if_empty),
            Cmd::Pgenv { prefix } => commands::pgenv(&ctx, &prefix),
            Cmd::Run { override_env, cmd } => commands::run(&ctx, override_env, &cmd),
            Cmd::Check { example, fix } => check::run(&ctx, &example, fix),
        }
    })
}
