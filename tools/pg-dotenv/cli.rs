//! The command line (clap definitions only; the commands are in commands/).

use clap::{Args, Parser, Subcommand};
use std::ffi::OsString;
use std::path::PathBuf;

/// Read and edit .env files without ever damaging them
#[derive(Parser, Debug)]
#[command(name = "pg-dotenv", version)]
pub struct Cli {
    /// The .env file; repeat for reads (later files win) [default: .env]
    #[arg(
        short = 'f',
        long = "file",
        env = "DOTENV_FILE",
        value_name = "FILE",
        global = true
    )]
    pub file: Vec<PathBuf>,
    /// Take values as written: no $VAR / ${VAR} expansion
    #[arg(long, global = true)]
    pub no_interpolate: bool,
    /// How long a writer waits for another writer's lock (a bare number is
    /// milliseconds)
    #[arg(
        long,
        env = "DOTENV_LOCK_TIMEOUT",
        value_name = "DURATION",
        default_value = "10s",
        global = true
    )]
    pub lock_timeout: String,
    /// Write even a read-only (0444) file (its mode is kept)
    #[arg(long, global = true)]
    pub force: bool,
    /// A file that may be missing, read after the -f files (repeatable;
    /// `-f FILE?` says the same)
    #[arg(long, value_name = "FILE", global = true)]
    pub optional: Vec<PathBuf>,
    #[command(flatten)]
    pub log: pgkit::cli::LogArgs,
    #[command(subcommand)]
    pub cmd: Cmd,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Print KEY's value; exit 1 when absent
    Get(GetArgs),
    /// Set keys: KEY VALUE, KEY=VALUE, or KEY +DEFAULT (only if absent; ++X is the literal +X)
    Set(SetArgs),
    /// Remove keys (every occurrence)
    Unset(UnsetArgs),
    /// Print every key and value, in file order
    List(ListArgs),
    /// Set KEY to a new random secret, only if it is absent
    Generate(GenerateArgs),
    /// Print `export PGHOST=… PGPASSWORD=…` from DATABASE_URL or POSTGRES_* keys
    Pgenv(PgenvArgs),
    /// Compare with an example file: list missing and extra keys; exit 1 when
    /// keys are missing (CI)
    Check(CheckArgs),
    /// Run a command with the file's values in its environment
    Run(RunArgs),
}

/// `get`.
#[derive(Args, Debug)]
pub struct GetArgs {
    /// The key
    pub key: String,
    /// Print this instead when KEY is absent (exit 0)
    #[arg(long, value_name = "VALUE", allow_hyphen_values = true)]
    pub default: Option<String>,
}

/// `set`.
#[derive(Args, Debug)]
pub struct SetArgs {
    /// Read the value of the one KEY from stdin (keeps a secret off argv;
    /// one trailing newline is dropped)
    #[arg(long)]
    pub stdin: bool,
    /// +DEFAULT also fills a key that is present but empty (KEY=)
    #[arg(long)]
    pub if_empty: bool,
    /// KEY VALUE | KEY=VALUE | KEY +DEFAULT, repeated; applied atomically.
    /// A value starting with - needs KEY=VALUE or `--` first: set -- K -5
    #[arg(required = true, value_name = "PAIR")]
    pub pairs: Vec<OsString>,
}

/// `unset`.
#[derive(Args, Debug)]
pub struct UnsetArgs {
    /// The keys
    #[arg(required = true)]
    pub keys: Vec<String>,
}

/// `list`.
#[derive(Args, Debug)]
pub struct ListArgs {
    /// Output format: dotenv, shell, export (both safe to eval) or json
    #[arg(
        long,
        value_enum,
        default_value = "dotenv",
        hide_possible_values = true
    )]
    pub format: crate::format::Format,
}

/// `generate`.
#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// The key
    pub key: String,
    /// Number of characters
    #[arg(long, default_value_t = 32)]
    pub length: usize,
    /// Characters to draw from: alnum, hex or base64url (A-Z a-z 0-9 - _)
    #[arg(long, value_enum, default_value = "alnum", hide_possible_values = true)]
    pub charset: Charset,
    /// Print the value (the new one, or the one already set)
    #[arg(long)]
    pub print: bool,
    /// Also replace a key that is present but empty (KEY= from a .env.example)
    #[arg(long)]
    pub if_empty: bool,
}

/// The `generate` character sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Charset {
    /// A-Z a-z 0-9.
    Alnum,
    /// 0-9 a-f.
    Hex,
    /// A-Z a-z 0-9 - _ (URL- and filename-safe).
    Base64url,
}

/// `pgenv`.
#[derive(Args, Debug)]
pub struct PgenvArgs {
    /// Read {PREFIX}DATABASE_URL and {PREFIX}POSTGRES_* instead
    #[arg(long, value_name = "PREFIX", default_value = "")]
    pub prefix: String,
}

/// `check`.
#[derive(Args, Debug)]
pub struct CheckArgs {
    /// The example file (.env.example)
    #[arg(long, value_name = "FILE")]
    pub example: PathBuf,
    /// Append the missing keys with the example's values and comments
    #[arg(long)]
    pub fix: bool,
}

/// `run`.
#[derive(Args, Debug)]
pub struct RunArgs {
    /// Let the file's values replace variables already set
    #[arg(long = "override")]
    pub override_env: bool,
    /// The command and its arguments (after --)
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "CMD"
    )]
    pub cmd: Vec<OsString>,
}
