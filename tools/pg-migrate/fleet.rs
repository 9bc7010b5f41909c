//! `up`, `down`, `status` and `verify` over a fleet (`--all-databases`,
//! `--targets`, `--schemas`; see `pgkit::fleet`): each target runs the
//! command as a run on that database alone would (its own connection and
//! migration lock, its own session), and its answer becomes its result line.
//!
//! In a schema-per-tenant layout each tenant schema keeps its own tracking
//! table (`--table`'s name, in that schema; its lock key is per schema), and
//! its migrations run with `search_path` set to that schema alone, from the
//! session's start: the per-file session reset comes back to it.

use crate::cli::CommonArgs;
use crate::session;
use crate::sql::ident;
use crate::tracking::Table;
use pgkit::cli::Summary;
use pgkit::fleet::{FleetArgs, Target};
use pgkit::{Error, Exit, Result};

/// Which command runs over the fleet (how its results read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `up`, `down`, `verify`: succeeded or failed.
    Change,
    /// `status`: up to date, behind or drifted.
    Status,
}

/// Runs `cmd` over the targets of `fleet`. `common` is the command's
/// common options (in `args`, reached again through `set`).
pub fn run<A: Clone + Sync>(
    fleet: &FleetArgs,
    args: &A,
    set: fn(&mut A) -> &mut CommonArgs,
    cmd: fn(&A) -> Result<Summary>,
    kind: Kind,
) -> Result<Summary> {
    let mut probe = args.clone();
    let common = set(&mut probe).clone();
    let table = Table::parse(&common.table)?;
    if !fleet.schemas.is_empty() && table.schema.is_some() {
        return Err(Error::usage("--schemas with a schema-qualified --table")
            .field("table", common.table.clone())
            .suggest("Give --table as a bare name: each tenant schema keeps its own tracking table of that name"));
    }
    let connect = |s: &pgkit::conn::Settings| session::connect_to(&common, s);
    let targets = fleet.resolve(&common.conn, "pg-migrate", &connect)?;
    let one = |t: &Target| -> Result<Summary> {
        let mut a = args.clone();
        let c = set(&mut a);
        c.target = Some(t.clone());
        if let Some(s) = &t.schema {
            c.table = format!("{}.{}", ident(s), ident(&table.name));
        }
        cmd(&a)
    };
    let classify = move |r: &Result<Summary>| -> &'static str {
        match (r, kind) {
            (Ok(s), Kind::Status) => {
                let n = |k: &str| s.fields.get(k).and_then(|v| v.as_u64()).unwrap_or(0);
                if n("drifted") > 0 {
                    "drifted"
                } else if n("pending") + n("failed") + n("missing") > 0 {
                    "behind"
                } else {
                    "ok"
                }
            }
            (Ok(s), Kind::Change) if s.code == Exit::Ok => "ok",
            _ => "failed",
        }
    };
    let outcomes: &[&str] = match kind {
        Kind::Status => &[
            "ok",
            "behind",
            "drifted",
            "failed",
            "interrupted",
            "skipped",
        ],
        Kind::Change => &["ok", "failed", "interrupted", "skipped"],
    };
    let opts = pgkit::fleet::Options {
        jobs: fleet.jobs as usize,
        fail_fast: fleet.fail_fast,
        canary: fleet.canary.map(|n| n as usize),
        result_keys: &["applied", "version", "pending", "drifted"],
        aliases: &[("version", "schemaVersion")],
        outcomes,
        classify: &classify,
    };
    Ok(pgkit::fleet::run(&targets, &opts, &one))
}
