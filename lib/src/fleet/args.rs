//! The target-set flags every fleet-capable command flattens into its
//! arguments, and turning them into the list of targets.

use crate::conn::{Client, ConnArgs, Settings};
use crate::error::Result;
use crate::fleet::shard::{self, Shard};
use crate::fleet::target::{self, Target};
use crate::log;
use serde_json::json;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Every database of one server as targets: the flags pg-migrate's fleets
/// and pg-wait share (each tool has its own `--targets`, which excludes
/// them).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct DatabaseSet {
    /// Every database of the server that accepts connections (never templates)
    #[arg(long, conflicts_with = "targets")]
    pub all_databases: bool,
    /// With --all-databases: only databases matching GLOB (repeatable)
    #[arg(long, value_name = "GLOB", num_args = 1.., action = clap::ArgAction::Append, requires = "all_databases")]
    pub database_pattern: Vec<String>,
    /// With --all-databases: skip databases matching GLOB (repeatable)
    #[arg(long, value_name = "GLOB", num_args = 1.., action = clap::ArgAction::Append, requires = "all_databases")]
    pub exclude_database: Vec<String>,
}

/// Many databases or schemas in one run.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct FleetArgs {
    #[command(flatten)]
    pub databases: DatabaseSet,
    /// A file of targets: one DSN or conninfo per line, '#' comment lines; '-' reads stdin
    #[arg(long, value_name = "FILE")]
    pub targets: Option<PathBuf>,
    /// Schema per tenant: every schema matching GLOB in each database is a target
    #[arg(long, value_name = "GLOB", num_args = 1.., action = clap::ArgAction::Append)]
    pub schemas: Vec<String>,
    /// How many targets at a time, each on its own connection
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=1024), value_name = "N")]
    pub jobs: u32,
    /// Stop starting targets after the first one fails (default: go on)
    #[arg(long)]
    pub fail_fast: bool,
    /// Run the first N targets first; stop before the rest if any of them fails
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub canary: Option<u32>,
    /// Take only slice I (from 0) of N of the targets, by a hash of each target's name
    #[arg(long, value_name = "I/N", value_parser = shard::parse_arg)]
    pub shard: Option<Shard>,
}

impl FleetArgs {
    /// Whether a target set was asked for (else the command runs once, on
    /// the one database the connection flags name).
    pub fn active(&self) -> bool {
        self.databases.all_databases || self.targets.is_some() || !self.schemas.is_empty()
    }

    /// The targets: from the list file, every database of the server the
    /// connection settings name (`connect` opens the listing connection,
    /// waiting first when the tool was asked to), or that one database; each
    /// expanded into its matching schemas with `--schemas`; duplicates
    /// dropped (same name), then `--shard`'s slice taken. Input order is
    /// kept (list order; names in byte order from the server).
    pub fn resolve(
        &self,
        conn: &ConnArgs,
        tool: &str,
        connect: &(dyn Fn(&Settings) -> Result<Client> + Sync),
    ) -> Result<Vec<Target>> {
        let mut list = if let Some(path) = &self.targets {
            let text = target::read_list(path)?;
            target::parse_list(&text, conn, tool)?
        } else {
            let base = Settings::resolve(conn, tool)?;
            if self.databases.all_databases {
                let mut c = connect(&base)?;
                target::databases(
                    &mut c,
                    &base,
                    &self.databases.database_pattern,
                    &self.databases.exclude_database,
                )?
            } else {
                vec![Target::database(base)]
            }
        };
        if !self.schemas.is_empty() {
            list = self.expand_schemas(&list, connect);
        }
        let mut seen = std::collections::HashSet::new();
        let before = list.len();
        list.retain(|t| seen.insert(t.name()));
        if list.len() < before {
            log::warn(
                "Duplicate targets skipped",
                json!({"duplicates": before - list.len()}),
            );
        }
        if let Some(s) = self.shard {
            list.retain(|t| s.holds(&t.name()));
        }
        if list.is_empty() {
            log::warn(
                "No targets",
                json!({"suggestion": "Check --database-pattern, --exclude-database, --schemas, the --targets list and --shard"}),
            );
        }
        log::info(
            "Targets",
            json!({
                "targets": list.len(),
                "shard": self.shard.map(|s| format!("{}/{}", s.index, s.count)),
                "jobs": self.jobs,
            }),
        );
        Ok(list)
    }
}

impl FleetArgs {
    /// Each database's matching schemas, listed `--jobs` databases at a
    /// time, in input order. A database whose schemas cannot be listed
    /// (unreachable, refused, dropped meanwhile) stays as one target
    /// carrying that error: it ends failed while the others' tenants run.
    fn expand_schemas(
        &self,
        list: &[Target],
        connect: &(dyn Fn(&Settings) -> Result<Client> + Sync),
    ) -> Vec<Target> {
        let slots: Vec<Mutex<Option<Vec<Target>>>> =
            list.iter().map(|_| Mutex::new(None)).collect();
        let next = AtomicUsize::new(0);
        let workers = (self.jobs.max(1) as usize).min(list.len());
        std::thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(t) = list.get(i) else { return };
                    let listed = connect(&t.settings)
                        .and_then(|mut c| target::schemas(&mut c, t, &self.schemas));
                    let got = listed.unwrap_or_else(|e| {
                        let mut failed = t.clone();
                        failed.unlisted = Some(Box::new(e));
                        vec![failed]
                    });
                    if let Ok(mut slot) = slots[i].lock() {
                        *slot = Some(got);
                    }
                });
            }
        });
        slots
            .into_iter()
            .filter_map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner()))
            .flatten()
            .collect()
    }
}
