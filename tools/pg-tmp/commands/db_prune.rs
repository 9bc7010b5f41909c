//! `pg-tmp db prune`: drop old pgtmp_ databases, and templates of other
//! migrations, never one in use.

use crate::cli::DbPruneArgs;
use crate::template::{
    admin, content_hash, exists, lock_key, sql_error, TEMPLATE_PREFIX, TEST_PREFIX,
};
use crate::util;
use pgkit::cli::Summary;
use pgkit::conn::Settings;
use pgkit::sql::quote_ident as ident;
use pgkit::{interrupt, log, out, Error, Result};
use serde_json::json;

/// What `drop_if_unused` found.
enum Unused {
    Dropped,
    /// Sessions were connected when it looked (how many).
    InUse(i64),
}

/// Drops `name` only if no session uses it, deciding at once: new
/// connections are refused first (`ALLOW_CONNECTIONS false`), then
/// `pg_stat_activity` is read; a database in use gets its connections back
/// and is kept. Then `DROP DATABASE` (no FORCE) finds nobody and does not
/// wait. A plain `DROP` would wait up to 5 s per database for its sessions
/// and drop one whose session ended meanwhile (issue 16, defect 11).
/// Counts one drop attempt: the name on stdout when dropped, else a warning
/// (`skipped`, e.g. "Database skipped") saying why.
fn tally(
    res: Result<Unused>,
    skipped_message: &str,
    name: &str,
    dropped: &mut u64,
    skipped: &mut u64,
) -> Result<()> {
    match res {
        Ok(Unused::Dropped) => {
            out::println(name)?;
            *dropped += 1;
        }
        Ok(Unused::InUse(n)) => {
            log::warn(
                skipped_message,
                json!({"database": name, "error": "in use", "sessions": n}),
            );
            *skipped += 1;
        }
        Err(e) => {
            log::warn(skipped_message, json!({"database": name, "error": e.error}));
            *skipped += 1;
        }
    }
    Ok(())
}

fn drop_if_unused(c: &mut postgres::Client, name: &str) -> Result<Unused> {
    let Some(is_template) = exists(c, name)? else {
        return Ok(Unused::Dropped);
    };
    let id = ident(name);
    let restore = |c: &mut postgres::Client| {
        let _ = c.batch_execute(&format!("ALTER DATABASE {id} WITH ALLOW_CONNECTIONS true"));
        if is_template {
            let _ = c.batch_execute(&format!("ALTER DATABASE {id} IS_TEMPLATE true"));
        }
    };
    c.batch_execute(&format!("ALTER DATABASE {id} WITH ALLOW_CONNECTIONS false"))
        .map_err(|e| sql_error("Cannot drop the database", &e))?;
    let sessions: i64 = match c.query_one(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
        &[&name],
    ) {
        Ok(r) => r.get(0),
        Err(e) => {
            restore(c);
            return Err(sql_error("Cannot read pg_stat_activity", &e));
        }
    };
    if sessions > 0 {
        restore(c);
        return Ok(Unused::InUse(sessions));
    }
    let dropped = (|| {
        if is_template {
            c.batch_execute(&format!("ALTER DATABASE {id} IS_TEMPLATE false"))?;
        }
        c.batch_execute(&format!("DROP DATABASE IF EXISTS {id}"))
    })();
    match dropped {
        Ok(()) => Ok(Unused::Dropped),
        Err(e) => {
            restore(c);
            // A session that was connecting while we looked.
            if e.code() == Some(&postgres::error::SqlState::OBJECT_IN_USE) {
                return Ok(Unused::InUse(1));
            }
            Err(sql_error("Cannot drop the database", &e).field("database", name.to_string()))
        }
    }
}

pub fn run(args: DbPruneArgs) -> Result<Summary> {
    let older_than = util::duration_flag("--older-than", &args.older_than)?;
    let settings = Settings::resolve(&args.conn, "pg-tmp")?;
    let keep_template = match &args.migrations {
        Some(m) => Some(format!(
            "{TEMPLATE_PREFIX}{}",
            &content_hash(m, args.seeds.as_deref())?[..16]
        )),
        None => {
            if args.seeds.is_some() {
                return Err(Error::usage("--seeds needs --migrations"));
            }
            None
        }
    };
    let (mut c, admin_settings) = admin(&settings)?;
    let _cancel = pgkit::conn::cancel_on_signal(&admin_settings, &c);
    let rows = c
        .query(
            "SELECT datname FROM pg_database WHERE datname LIKE 'pgtmp\\_%' OR datname LIKE 'pgtmpl\\_%' ORDER BY datname",
            &[],
        )
        .map_err(|e| sql_error("Cannot list the databases", &e))?;
    let now = chrono::Utc::now().timestamp();
    let (mut dropped, mut skipped) = (0u64, 0u64);
    for r in rows {
        interrupt::check()?;
        let name: String = r.get(0);
        if let Some(rest) = name.strip_prefix(TEST_PREFIX) {
            let Some(created) = rest.split('_').next().and_then(|s| s.parse::<i64>().ok()) else {
                continue;
            };
            if now.saturating_sub(created) < older_than.as_secs() as i64 {
                continue;
            }
            if args.dry_run {
                out::println(&name)?;
                dropped += 1;
                continue;
            }
            // No FORCE: a database still in use belongs to a running test.
            let res = drop_if_unused(&mut c, &name);
            tally(res, "Database skipped", &name, &mut dropped, &mut skipped)?;
        } else if let Some(rest) = name.strip_prefix(TEMPLATE_PREFIX) {
            let Some(keep) = &keep_template else { continue };
            if &name == keep {
                continue;
            }
            let Some(key) = rest.get(..16).and_then(lock_key) else {
                continue;
            };
            if args.dry_run {
                out::println(&name)?;
                dropped += 1;
                continue;
            }
            // A template being built right now is not stale.
            let locked: bool = c
                .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
                .map(|r| r.get(0))
                .map_err(|e| sql_error("Cannot take the template lock", &e))?;
            if !locked {
                log::warn("Template skipped: being built", json!({"database": name}));
                skipped += 1;
                continue;
            }
            let res = drop_if_unused(&mut c, &name);
            let _ = c.execute("SELECT pg_advisory_unlock($1)", &[&key]);
            tally(res, "Template skipped", &name, &mut dropped, &mut skipped)?;
        }
    }
    Ok(
        Summary::ok(if args.dry_run { "Would drop" } else { "Pruned" })
            .field("dropped", dropped)
            .field("skipped", skipped),
    )
}
