//! The command line: `pg-migrate [up] …`, `down`, `status`, `verify`, `new`,
//! `baseline`, `repair`. Every subcommand takes the common options; `up` is
//! the default, so `pg-migrate --dir migrations` applies pending migrations.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::time::Duration;

/// Applies SQL migrations exactly once, transactionally, safely under
/// concurrency; tracks them in a table with checksums.
#[derive(Parser, Debug)]
#[command(name = "pg-migrate", version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// (`up` options when no subcommand is given)
    #[command(flatten)]
    pub up: UpArgs,
    #[command(flatten)]
    pub log: pgkit::cli::LogArgs,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Apply pending migrations in order (the default)
    Up(UpArgs),
    /// Revert applied migrations with their .down.sql files, newest first
    Down(DownArgs),
    /// Show applied and pending migrations (a table, or --json)
    Status(StatusArgs),
    /// Check every applied migration's checksum against its file
    Verify(VerifyArgs),
    /// Create a migration in the folder's layout (YYYYMMDDHHmmSS_description.up.sql and .down.sql for pgkit's); print the paths
    New(NewArgs),
    /// Record every migration up to VERSION as applied without running it
    Baseline(BaselineArgs),
    /// Accept a changed file's checksum (--filename), or clear failed rows
    Repair(RepairArgs),
    /// Record another tool's migration history (dbmate, goose, sqlx, diesel, Flyway, ...) as applied
    Adopt(AdoptArgs),
}

/// How concurrent runners are kept apart.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockMode {
    /// A session advisory lock, polled with pg_try_advisory_lock
    Advisory,
    /// A lease row in a lock table, with an expiry (works through PgBouncer transaction pooling)
    Lease,
    /// No lock (a single runner by construction)
    None,
}

/// Options every subcommand that touches the database takes.
#[derive(Args, Debug, Clone)]
pub struct CommonArgs {
    #[command(flatten)]
    pub conn: pgkit::conn::ConnArgs,
    /// Directory of migration files
    #[arg(
        long,
        env = "MIGRATIONS_DIR",
        default_value = "migrations",
        value_name = "DIR"
    )]
    pub dir: PathBuf,
    /// The folder's layout: another tool's folder runs as that tool runs it
    #[arg(
        long,
        env = "MIGRATIONS_LAYOUT",
        value_enum,
        default_value = "auto",
        value_name = "LAYOUT"
    )]
    pub layout: crate::layout::Layout,
    /// Tracking table, optionally schema-qualified (app.schema_migrations)
    #[arg(
        long,
        env = "MIGRATIONS_TABLE",
        default_value = "schema_migrations",
        value_name = "TABLE"
    )]
    pub table: String,
    /// How concurrent runners are kept apart
    #[arg(long, env = "MIGRATIONS_LOCK_MODE", value_enum, default_value_t = LockMode::Advisory, value_name = "MODE")]
    pub lock_mode: LockMode,
    /// How long to wait for another runner's lock before exiting 75
    #[arg(long, env = "MIGRATIONS_LOCK_WAIT", default_value = "60s", value_parser = parse_duration, value_name = "DURATION")]
    pub lock_wait: Duration,
    /// Lease lifetime in lease mode (renewed while running; a crashed runner's lease expires)
    #[arg(long, env = "MIGRATIONS_LEASE_TTL", default_value = "30s", value_parser = parse_duration, value_name = "DURATION")]
    pub lease_ttl: Duration,
    /// Wait for the database to accept logins first (pg-wait's logic)
    #[arg(long)]
    pub wait: bool,
    /// Deadline for --wait: milliseconds or a duration
    #[arg(
        long,
        env = "DB_TIMEOUT",
        default_value = "300000",
        value_name = "DURATION"
    )]
    pub wait_timeout: String,
    /// In a fleet run: the one target this run is for (its settings win
    /// over the connection flags).
    #[arg(skip)]
    pub target: Option<pgkit::fleet::Target>,
}

/// `up`.
#[derive(Args, Debug, Clone)]
pub struct UpArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub fleet: pgkit::fleet::FleetArgs,
    #[command(flatten)]
    pub exec: ExecArgs,
    /// Apply pending migrations up to and including this version
    #[arg(long, value_name = "VERSION")]
    pub to: Option<String>,
    /// Apply all pending migrations in one transaction: all or nothing
    #[arg(long)]
    pub single_transaction: bool,
    /// Print the plan (pending files, one per line) and change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Apply a pending migration older than the newest applied one
    #[arg(long, env = "MIGRATIONS_ALLOW_OUT_OF_ORDER")]
    pub allow_out_of_order: bool,
    /// After a successful run, write `pg_dump --schema-only` to FILE (without pg-migrate's own tables)
    #[arg(long, value_name = "FILE")]
    pub dump_schema: Option<PathBuf>,
    /// The pg_dump program for --dump-schema
    #[arg(long, env = "PG_DUMP", default_value = "pg_dump", value_name = "PATH")]
    pub pg_dump: String,
}

/// Options for commands that run migration SQL.
#[derive(Args, Debug, Clone)]
pub struct ExecArgs {
    /// SET LOCAL lock_timeout for each migration (e.g. 5s): DDL gives up instead of queueing
    #[arg(long, env = "MIGRATIONS_LOCK_TIMEOUT", value_parser = parse_duration, value_name = "DURATION")]
    pub lock_timeout: Option<Duration>,
    /// SET LOCAL statement_timeout for each migration
    #[arg(long, env = "MIGRATIONS_STATEMENT_TIMEOUT", value_parser = parse_duration, value_name = "DURATION")]
    pub statement_timeout: Option<Duration>,
}

/// `down`.
#[derive(Args, Debug, Clone)]
pub struct DownArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub fleet: pgkit::fleet::FleetArgs,
    #[command(flatten)]
    pub exec: ExecArgs,
    /// How many migrations to revert
    #[arg(long, default_value_t = 1, conflicts_with = "to", value_name = "N")]
    pub steps: u32,
    /// Revert every migration newer than this version
    #[arg(long, value_name = "VERSION")]
    pub to: Option<String>,
}

/// `status`.
#[derive(Args, Debug, Clone)]
pub struct StatusArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub fleet: pgkit::fleet::FleetArgs,
    /// JSON on stdout instead of a table
    #[arg(long)]
    pub json: bool,
    /// Exit 3 when anything is pending, drifted, missing or failed
    #[arg(long)]
    pub exit_code: bool,
}

/// `verify`.
#[derive(Args, Debug, Clone)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub fleet: pgkit::fleet::FleetArgs,
}

/// `new`.
#[derive(Args, Debug, Clone)]
pub struct NewArgs {
    /// What the migration does (slugified into the file name)
    #[arg(value_name = "DESCRIPTION", required = true, num_args = 1..)]
    pub description: Vec<String>,
    /// Directory of migration files (created when missing)
    #[arg(
        long,
        env = "MIGRATIONS_DIR",
        default_value = "migrations",
        value_name = "DIR"
    )]
    pub dir: PathBuf,
    /// The layout to create the file in (auto: the folder's)
    #[arg(
        long,
        env = "MIGRATIONS_LAYOUT",
        value_enum,
        default_value = "auto",
        value_name = "LAYOUT"
    )]
    pub layout: crate::layout::Layout,
}

/// `adopt`.
#[derive(Args, Debug, Clone)]
pub struct AdoptArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Whose history to adopt (auto: the one tool whose table is there)
    #[arg(long, value_enum, default_value = "auto", value_name = "TOOL")]
    pub from: crate::foreign::Tool,
    /// Print the mapping of the tool's versions to files; record nothing
    #[arg(long, short = 'n')]
    pub dry_run: bool,
}

/// `baseline`.
#[derive(Args, Debug, Clone)]
pub struct BaselineArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Record every migration up to and including this version
    #[arg(value_name = "VERSION")]
    pub version: String,
}

/// `repair`.
#[derive(Args, Debug, Clone)]
pub struct RepairArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// The applied file whose current checksum to accept, or whose failed row to clear
    #[arg(long, value_name = "FILENAME")]
    pub filename: Option<String>,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    pgkit::duration::parse(s)
}

/// Lets the options come before the subcommand, as users write them
/// (`pg-migrate --dir db/migrations status`): the first subcommand name among
/// the arguments is moved in front of them. Option values are recognised
/// from the clap definition, so `--table status` stays a table name.
pub fn subcommand_first(args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    use clap::CommandFactory;
    let cmd = Cli::command();
    let subs: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    let mut takes_value: Vec<String> = Vec::new();
    let all = std::iter::once(&cmd).chain(cmd.get_subcommands());
    for c in all {
        for a in c.get_arguments() {
            if a.get_action().takes_values() && !a.is_positional() {
                if let Some(l) = a.get_long() {
                    takes_value.push(format!("--{l}"));
                }
                if let Some(s) = a.get_short() {
                    takes_value.push(format!("-{s}"));
                }
            }
        }
    }
    let mut i = 1;
    while i < args.len() {
        let t = args[i].to_string_lossy();
        if t == "--" {
            break;
        }
        if t.starts_with('-') {
            i += if !t.contains('=') && takes_value.iter().any(|v| *v == t) {
                2
            } else {
                1
            };
            continue;
        }
        if i > 1 && subs.iter().any(|s| *s == t) {
            let mut out = args;
            let sub = out.remove(i);
            out.insert(1, sub);
            return out;
        }
        break;
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reorder(a: &[&str]) -> Vec<String> {
        subcommand_first(a.iter().map(Into::into).collect())
            .into_iter()
            .map(|s| s.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn options_may_come_before_the_subcommand() {
        assert_eq!(
            reorder(&["pg-migrate", "--dir", "m", "status", "--json"]),
            ["pg-migrate", "status", "--dir", "m", "--json"]
        );
        assert_eq!(
            reorder(&["pg-migrate", "--table", "status", "--wait"]),
            ["pg-migrate", "--table", "status", "--wait"]
        );
        assert_eq!(
            reorder(&["pg-migrate", "--dsn=x", "-d", "y", "down", "--steps", "2"]),
            ["pg-migrate", "down", "--dsn=x", "-d", "y", "--steps", "2"]
        );
        assert_eq!(
            reorder(&["pg-migrate", "up", "--dir", "new"]),
            ["pg-migrate", "up", "--dir", "new"]
        );
        assert_eq!(
            reorder(&["pg-migrate", "--dry-run"]),
            ["pg-migrate", "--dry-run"]
        );
    }
}
