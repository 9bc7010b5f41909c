//! The command line.

use crate::layout::Format;
use crate::retention::{Rules, Span};
use clap::{Args, Parser, Subcommand};
use pgkit::conn::ConnArgs;
use pgkit::{Error, Result};
use std::path::PathBuf;
use std::time::Duration;

/// Dumps you can trust, rotated without ever losing the last good one.
#[derive(Parser, Debug)]
#[command(name = "pg-dump-rotate", version)]
pub struct Cli {
    /// The dump directory (one subdirectory per source)
    #[arg(long, env = "DUMP_DIR", default_value = "dbdumps", global = true)]
    pub dir: PathBuf,
    #[command(subcommand)]
    pub cmd: Cmd,
    #[command(flatten)]
    pub log: pgkit::cli::LogArgs,
}

/// The commands.
// Parsed once per run: the size of the largest variant (dump's flags)
// costs nothing, boxing it would only add noise.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Dump a database into DIR/SOURCE/, checksummed, atomically
    Dump(DumpArgs),
    /// List dumps per source, newest first
    List(ListArgs),
    /// Recompute checksums and read whole archives
    Verify(VerifyArgs),
    /// Remove old dumps by retention rules
    Purge(PurgeArgs),
    /// Exit 1 unless each source's newest good dump is fresh and big enough (monitoring)
    Check(CheckArgs),
    /// Verify a dump, then restore it with pg_restore
    Restore(RestoreArgs),
}

/// `dump`.
#[derive(Args, Debug)]
pub struct DumpArgs {
    #[command(flatten)]
    pub conn: ConnArgs,
    /// Source name, the dump's subdirectory [default: the database name]
    #[arg(long, env = "DUMP_SOURCE", conflicts_with = "all_databases")]
    pub source: Option<String>,
    /// Dump every connectable database of the server (templates never), each
    /// as its own source, and the cluster's roles and tablespaces as `_globals`
    #[arg(long)]
    pub all_databases: bool,
    /// With --all-databases: skip databases matching PATTERN (`*`, `?`, `[a-z]`; repeatable)
    #[arg(long, value_name = "PATTERN", requires = "all_databases")]
    pub exclude_database: Vec<String>,
    /// With --all-databases: source names are PREFIX + database name (and PREFIX_globals)
    #[arg(
        long,
        value_name = "PREFIX",
        default_value = "",
        hide_default_value = true,
        requires = "all_databases"
    )]
    pub source_prefix: String,
    /// With --all-databases: keep the roles' password hashes in `_globals`
    /// (default: pg_dumpall --no-role-passwords)
    #[arg(long, requires = "all_databases")]
    pub with_role_passwords: bool,
    /// Dump format: custom (.pgdump), plain (.sql, .sql.gz) or directory (.dir)
    #[arg(long, env = "DUMP_FORMAT", value_enum, default_value = "custom")]
    pub format: Format,
    /// Compression, passed to pg_dump --compress (e.g. 6, gzip:9, lz4, zstd:3 on
    /// 16+; plain format: gzip only, written as .sql.gz) [default: zstd:1 with
    /// pg_dump 16+, else pg_dump's gzip; plain: none]
    #[arg(long, env = "DUMP_COMPRESS", value_name = "METHOD")]
    pub compress: Option<String>,
    /// Parallel pg_dump jobs (directory format only); with --all-databases,
    /// the number of databases dumped at a time
    #[arg(long, short = 'j', env = "DUMP_JOBS")]
    pub jobs: Option<u32>,
    /// Dump this table's definition but not its data (repeatable; pg_dump patterns)
    #[arg(long, value_name = "PATTERN")]
    pub exclude_table_data: Vec<String>,
    /// Do not dump ownership (pg_dump --no-owner)
    #[arg(long)]
    pub no_owner: bool,
    /// Record each table's exact row count, taken in the dump's own snapshot,
    /// for `verify --restore`
    #[arg(long, env = "DUMP_COUNT_ROWS")]
    pub count_rows: bool,
    /// After a successful dump, apply the retention rules to this source
    #[arg(long)]
    pub purge: bool,
    /// Accepted for symmetry with purge: dump --purge never asks
    #[arg(long, short = 'y')]
    pub yes: bool,
    #[command(flatten)]
    pub retention: RetentionArgs,
    /// How long to wait for another dump/purge of this source
    #[arg(
        long,
        env = "DUMP_LOCK_WAIT",
        default_value = "30s",
        value_name = "DURATION"
    )]
    pub lock_wait: String,
    /// After the dump, upload it (sidecar and manifest too) to S3-compatible storage
    #[arg(long, env = "DUMP_REMOTE", value_name = "s3://BUCKET/PREFIX")]
    pub remote: Option<String>,
    /// Part size of multipart uploads to --remote (S3 needs at least 5MiB)
    #[arg(
        long,
        env = "DUMP_REMOTE_PART_SIZE",
        default_value = crate::remote::DEFAULT_PART_SIZE,
        value_name = "SIZE"
    )]
    pub remote_part_size: String,
}

/// `--remote [URL]` of list, verify and purge: the URL given, or
/// `DUMP_REMOTE` for a bare `--remote`. Never taken from the environment
/// alone: `DUMP_REMOTE` set for `dump` must not turn a local purge remote.
pub fn remote_url(v: &Option<Option<String>>) -> Result<Option<String>> {
    match v {
        None => Ok(None),
        Some(Some(u)) => Ok(Some(u.clone())),
        Some(None) => std::env::var("DUMP_REMOTE")
            .ok()
            .filter(|u| !u.trim().is_empty())
            .map(Some)
            .ok_or_else(|| {
                Error::usage("--remote without a URL needs DUMP_REMOTE")
                    .suggest("Pass --remote s3://BUCKET/PREFIX, or set DUMP_REMOTE")
            }),
    }
}

/// The retention rules (shared by `purge` and `dump --purge`).
#[derive(Args, Debug, Clone, Default)]
pub struct RetentionArgs {
    /// Keep the newest N dumps
    #[arg(long, env = "DUMP_KEEP_LAST", value_name = "N")]
    pub keep_last: Option<u32>,
    /// Keep the newest dump of each of the last N hours that have one
    #[arg(long, env = "DUMP_KEEP_HOURLY", value_name = "N")]
    pub keep_hourly: Option<u32>,
    /// Keep the newest dump of each of the last N days that have one
    #[arg(long, env = "DUMP_KEEP_DAILY", value_name = "N")]
    pub keep_daily: Option<u32>,
    /// Keep the newest dump of each of the last N ISO weeks that have one
    #[arg(long, env = "DUMP_KEEP_WEEKLY", value_name = "N")]
    pub keep_weekly: Option<u32>,
    /// Keep the newest dump of each of the last N months that have one
    #[arg(long, env = "DUMP_KEEP_MONTHLY", value_name = "N")]
    pub keep_monthly: Option<u32>,
    /// Keep the newest dump of each of the last N years that have one
    #[arg(long, env = "DUMP_KEEP_YEARLY", value_name = "N")]
    pub keep_yearly: Option<u32>,
    /// Keep every dump within DURATION of the newest good one, in restic's units: 7d, 2m (months), 1y2m3d4h
    #[arg(long, env = "DUMP_KEEP_WITHIN", value_name = "DURATION")]
    pub keep_within: Option<String>,
    /// Remove .partial leftovers older than this (purge --remote: uploads cut short, and unfinished multipart uploads, by last write)
    #[arg(
        long,
        env = "DUMP_PARTIAL_AGE",
        default_value = "24h",
        value_name = "DURATION"
    )]
    pub partial_age: String,
}

impl RetentionArgs {
    /// The rules, with `keep_last` from `purge N` when given.
    pub fn rules(&self, positional: Option<u32>) -> Result<Rules> {
        if positional.is_some() && self.keep_last.is_some() {
            return Err(Error::usage("Give either N or --keep-last, not both"));
        }
        Ok(Rules {
            last: positional.or(self.keep_last),
            hourly: self.keep_hourly,
            daily: self.keep_daily,
            weekly: self.keep_weekly,
            monthly: self.keep_monthly,
            yearly: self.keep_yearly,
            within: self
                .keep_within
                .as_deref()
                .map(|s| {
                    Span::parse(s).map_err(|e| {
                        Error::usage("Invalid --keep-within").cause(e).suggest(
                            "Use restic's units: a number then y (years), m (months), d (days) or h (hours), combined as in 1y2m3d4h",
                        )
                    })
                })
                .transpose()?
                .filter(|s| !s.is_zero()),
        })
    }

    /// `--partial-age`.
    pub fn partial_age(&self) -> Result<Duration> {
        duration("--partial-age", &self.partial_age)
    }
}

/// Parses a duration flag; a bad one is a usage error.
pub fn duration(flag: &str, s: &str) -> Result<Duration> {
    pgkit::duration::parse(s).map_err(|e| {
        Error::usage(format!("Invalid {flag}"))
            .cause(e)
            .suggest("Use a number with a unit: 30s, 5m, 24h, 7d")
    })
}

/// `list`.
#[derive(Args, Debug)]
pub struct ListArgs {
    /// Only this source
    #[arg(long, env = "DUMP_SOURCE")]
    pub source: Option<String>,
    /// JSON output (one array)
    #[arg(long)]
    pub json: bool,
    /// Act on the S3 remote instead of DIR (URL, or DUMP_REMOTE when bare)
    #[arg(long, value_name = "s3://BUCKET/PREFIX", num_args = 0..=1)]
    pub remote: Option<Option<String>>,
}

/// `verify`.
#[derive(Args, Debug)]
#[command(group = clap::ArgGroup::new("scope").args(["all", "restore"]).multiple(true))]
pub struct VerifyArgs {
    /// Dumps to verify
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Verify every dump in DIR (or in --source)
    #[arg(long, conflicts_with = "files")]
    pub all: bool,
    /// With --all: only this source; with --restore alone: its newest good dump
    #[arg(long, requires = "scope", conflicts_with = "files")]
    pub source: Option<String>,
    /// Restore drill: restore into a throwaway server and compare with the
    /// tables and row counts recorded at dump time (exit 5 naming the first
    /// table that differs)
    #[arg(long)]
    pub restore: bool,
    /// With --restore: parallel pg_restore jobs (custom and directory dumps)
    #[arg(long, short = 'j', requires = "restore", value_name = "N")]
    pub jobs: Option<u32>,
    /// Act on the S3 remote instead of DIR: FILEs are s3:// URLs or SOURCE/NAME (URL, or DUMP_REMOTE when bare)
    #[arg(long, value_name = "s3://BUCKET/PREFIX", num_args = 0..=1)]
    pub remote: Option<Option<String>>,
}

/// `check`.
#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Sources to check (repeatable) [default: every source in DIR]
    #[arg(long, env = "DUMP_SOURCE", value_delimiter = ',')]
    pub source: Vec<String>,
    /// The newest good dump must be younger than this (e.g. 26h)
    #[arg(long, env = "DUMP_MAX_AGE", value_name = "DURATION")]
    pub max_age: String,
    /// The newest good dump must be at least this big (bytes; K, M, G suffixes)
    #[arg(long, env = "DUMP_MIN_SIZE", value_name = "BYTES")]
    pub min_size: Option<String>,
    /// Also write a Prometheus textfile-collector file (atomically)
    #[arg(long, env = "DUMP_METRICS_FILE", value_name = "PATH")]
    pub metrics_file: Option<PathBuf>,
    /// Check the S3 remote's committed uploads instead of DIR (URL, or DUMP_REMOTE when bare)
    #[arg(long, value_name = "s3://BUCKET/PREFIX", num_args = 0..=1)]
    pub remote: Option<Option<String>>,
}

/// `purge`.
#[derive(Args, Debug)]
pub struct PurgeArgs {
    /// Keep the newest N dumps per source (same as --keep-last N)
    #[arg(value_name = "N")]
    pub n: Option<u32>,
    #[command(flatten)]
    pub retention: RetentionArgs,
    /// Only this source
    #[arg(long, env = "DUMP_SOURCE")]
    pub source: Option<String>,
    /// Print what would be removed and why each dump is kept; change nothing
    #[arg(long, short = 'n')]
    pub dry_run: bool,
    /// Do not ask for confirmation
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// With --dry-run: JSON output
    #[arg(long)]
    pub json: bool,
    /// Purge the S3 remote only (its own rules), not DIR (URL, or DUMP_REMOTE when bare)
    #[arg(long, value_name = "s3://BUCKET/PREFIX", num_args = 0..=1)]
    pub remote: Option<Option<String>>,

    /// How long to wait for a dump of the same source to finish
    #[arg(
        long,
        env = "DUMP_LOCK_WAIT",
        default_value = "30s",
        value_name = "DURATION"
    )]
    pub lock_wait: String,
}

/// `restore`.
#[derive(Args, Debug)]
pub struct RestoreArgs {
    /// The dump to restore: a path, or s3://BUCKET/PREFIX/SOURCE/NAME (downloaded and verified first)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    #[command(flatten)]
    pub conn: ConnArgs,
    /// Target connection string (same as --dsn)
    #[arg(long, value_name = "DSN", conflicts_with = "dsn")]
    pub to: Option<String>,
    /// Target database name on the resolved server
    #[arg(long, value_name = "NAME")]
    pub db: Option<String>,
    /// Create the target database when it does not exist
    #[arg(long)]
    pub create_db: bool,
    /// Restore into a database that already holds objects (they are dropped and replaced)
    #[arg(long)]
    pub force: bool,
    /// Parallel pg_restore jobs (then not one transaction; a plain .sql ignores it)
    #[arg(long, short = 'j')]
    pub jobs: Option<u32>,
    /// Keep the dump's object owners (default: --no-owner)
    #[arg(long)]
    pub keep_owner: bool,
    /// First replay the cluster's roles and tablespaces dumped with it
    /// (`dump --all-databases` records which `_globals` dump that is)
    #[arg(long)]
    pub with_globals: bool,
}
