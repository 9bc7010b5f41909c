//! `pg-tmp __ttl-watch` (hidden): the `start --ttl` watcher itself, which
//! `ttl::spawn` starts detached (see `ttl` for how activity is seen).

use crate::cli::TtlWatchArgs;
use crate::ttl::PID_FILE;
use crate::{postmaster, registry};
use pgkit::cli::Summary;
use pgkit::server::TempServer;
use pgkit::{interrupt, Result};
use std::time::{Duration, Instant};

/// The watcher itself.
pub fn run(args: TtlWatchArgs) -> Result<Summary> {
    let ttl = Duration::from_millis(args.ttl_ms);
    let poll = (ttl / 4).clamp(Duration::from_millis(100), Duration::from_secs(1));
    let server = TempServer::adopt(&args.dir)?;
    let mut client: Option<postgres::Client> = None;
    let mut sessions_seen: Option<i64> = None;
    let mut last_active = Instant::now();
    loop {
        interrupt::sleep(poll)?;
        if !server.state_path().exists() {
            // Stopped and deleted by someone else.
            return Ok(Summary::ok("Server gone"));
        }
        if client.as_ref().is_none_or(|c| c.is_closed()) {
            client = server.client("postgres").ok();
        }
        let Some(c) = client.as_mut() else {
            if server.postmaster_pid().is_none() {
                // Stopped with --keep: nothing to watch any more.
                return Ok(Summary::ok("Server stopped"));
            }
            continue;
        };
        match poll_activity(c) {
            Ok((backends, sessions)) => {
                let grew = matches!((sessions, sessions_seen), (Some(n), Some(o)) if n > o);
                if backends > 0 || grew {
                    last_active = Instant::now();
                }
                if sessions.is_some() {
                    sessions_seen = sessions;
                }
            }
            Err(_) => {
                client = None;
                continue;
            }
        }
        if last_active.elapsed() >= ttl {
            drop(client);
            let dir = server.base_dir().to_path_buf();
            let _ = std::fs::remove_file(dir.join(PID_FILE));
            postmaster::stop_and_remove(server)?;
            registry::remove(&dir);
            return Ok(Summary::ok("Server expired"));
        }
    }
}

/// (other client backends, sessions ever opened where the server counts them)
fn poll_activity(
    c: &mut postgres::Client,
) -> std::result::Result<(i64, Option<i64>), postgres::Error> {
    let row = c.query_one(
        "SELECT (SELECT count(*) FROM pg_stat_activity \
                  WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()), \
                current_setting('server_version_num')::int",
        &[],
    )?;
    let backends: i64 = row.get(0);
    let version: i32 = row.get(1);
    let sessions = if version >= 140000 {
        let r = c.query_one(
            "SELECT coalesce(sum(sessions), 0)::bigint FROM pg_stat_database",
            &[],
        )?;
        Some(r.get::<_, i64>(0))
    } else {
        None
    };
    Ok((backends, sessions))
}
