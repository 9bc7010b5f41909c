//! pg-seed's command line: the clap definitions (the man page's OPTIONS
//! come from here too).

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Apply SQL and CSV seed files once (tracked by checksum), or generate
/// synthetic rows with `pg-seed generate`.
#[derive(Parser, Debug)]
#[command(
    name = "pg-seed",
    version,
    args_conflicts_with_subcommands = true,
    disable_help_subcommand = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub seed: SeedArgs,
    #[command(flatten)]
    pub conn: pgkit::conn::ConnArgs,
    #[command(flatten)]
    pub wait: WaitArgs,
    #[command(flatten)]
    pub log: pgkit::cli::LogArgs,
}

/// What to do with a seed file that changed since it was applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnChange {
    // Plain comments, not doc comments: clap would turn help texts on the
    // values into a long --help (man pg-seed, TRACKING, describes them).
    // Stop with exit 4, naming the file.
    Fail,
    // Leave it as applied (logged at warn).
    Skip,
    // Apply it again and record the new checksum.
    Rerun,
}

/// The seeding flags.
#[derive(clap::Args, Debug, Clone)]
pub struct SeedArgs {
    /// Directory of *.sql and *.csv seed files, applied in lexical order
    #[arg(long, env = "SEEDS_DIR", value_name = "DIR", default_value = "seeds")]
    pub dir: PathBuf,
    /// Apply this file instead of the directory (repeatable)
    #[arg(long = "file", value_name = "PATH")]
    pub files: Vec<PathBuf>,
    /// Tracking table, optionally schema-qualified
    #[arg(long, value_name = "TABLE", default_value = "schema_seeds")]
    pub table: String,
    /// An applied file whose content changed: fail (exit 4), skip or rerun
    #[arg(long, value_enum, value_name = "MODE", default_value = "fail")]
    pub on_change: OnChange,
    /// Skip all seeding when this table has rows (repeatable)
    #[arg(long = "if-empty", value_name = "TABLE")]
    pub if_empty: Vec<String>,
    /// Skip seeding without connecting (true/false/1/0/yes/no)
    #[arg(long, env = "SKIP_SEED", value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub skip: Option<String>,
    /// Log a failed seed at warn and exit 0 (bad flags/config still fail)
    #[arg(long)]
    pub non_fatal: bool,
    /// List what would be applied, skipped or refused (exits as a run would)
    #[arg(long)]
    pub dry_run: bool,
}

/// Waiting for the server first.
#[derive(clap::Args, Debug, Clone)]
pub struct WaitArgs {
    /// Wait until the database accepts logins first
    #[arg(long)]
    pub wait: bool,
    /// How long --wait waits (ms or with a unit: 30s, 5m)
    #[arg(
        long,
        env = "DB_TIMEOUT",
        value_name = "DURATION",
        default_value = "300000"
    )]
    pub timeout: String,
}

/// Subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Fill a table with synthetic rows of the right types
    Generate(GenerateArgs),
}

/// `pg-seed generate` flags.
#[derive(clap::Args, Debug, Clone)]
pub struct GenerateArgs {
    /// Table to fill (as in SQL: schema-qualified or on the search_path)
    #[arg(
        long,
        value_name = "TABLE",
        required_unless_present = "all",
        conflicts_with = "all"
    )]
    pub table: Option<String>,
    /// Number of rows (per table with --all) [default with --all: 100]
    #[arg(long, value_name = "N", required_unless_present = "all")]
    pub rows: Option<u64>,
    /// Fill every table of the chosen schemas, in dependency order, in one transaction
    #[arg(long, conflicts_with_all = ["with_parents", "columns"])]
    pub all: bool,
    /// With --all: only tables of this schema (repeatable) [default: every non-system schema]
    #[arg(long = "schema", value_name = "SCHEMA", requires = "all")]
    pub schemas: Vec<String>,
    /// With --all: rows for one table, TABLE=N (repeatable)
    #[arg(long = "rows-per-table", value_name = "TABLE=N", requires = "all")]
    pub rows_per_table: Vec<String>,
    /// With --all: leave this table out, as schema.table or table (repeatable)
    #[arg(long = "exclude", value_name = "TABLE", requires = "all")]
    pub exclude: Vec<String>,
    /// With --all: print the plan (order, rows, columns left to the database) and change nothing
    #[arg(long, requires = "all")]
    pub dry_run: bool,
    /// Random seed: the same seed, schema and N give the same rows [default: random, logged]
    #[arg(long, value_name = "SEED")]
    pub seed: Option<u64>,
    /// Generate exactly these columns (comma-separated; may name identity or defaulted ones)
    #[arg(long, value_name = "COLS", value_delimiter = ',')]
    pub columns: Vec<String>,
    /// Generate rows in empty parent tables first, in dependency order
    #[arg(long)]
    pub with_parents: bool,
    /// Rows per generated parent table [default: max(1, rows/10)]
    #[arg(long, value_name = "N")]
    pub parent_rows: Option<u64>,
    #[command(flatten)]
    pub conn: pgkit::conn::ConnArgs,
    #[command(flatten)]
    pub wait: WaitArgs,
}
