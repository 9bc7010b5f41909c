//! `pg-tmp prune`: stop and delete the servers whose `start` or `run` was
//! killed before it finished (see `sweep` for what "stale" means), and start
//! again the `--ttl` watchers that died.

use crate::cli::PruneArgs;
use crate::sweep::{candidates, owner_of, remove_server_dir, Owner};
use crate::{postmaster, ttl};
use pgkit::cli::Summary;
use pgkit::{interrupt, log, out, Result};
use serde_json::json;

pub fn run(args: PruneArgs) -> Result<Summary> {
    let (mut removed, mut kept, mut watchers) = (0u64, 0u64, 0u64);
    for dir in candidates() {
        interrupt::check()?;
        let owner = owner_of(&dir);
        let shown = dir.display().to_string();
        // A server handed over with --ttl whose watcher died: its TTL is
        // kept again (the watcher then ends it once idle that long).
        // Only for a server that runs: a stopped one has nothing to watch.
        if owner == Owner::Handed && postmaster::verified_pid(&dir.join("data")).is_some() {
            if let Some(t) = ttl::lost_watcher(&dir) {
                if !args.dry_run {
                    ttl::spawn(&dir, t)?;
                    log::info(
                        "TTL watcher restarted",
                        json!({"dir": shown, "ttlMs": t.as_millis() as u64}),
                    );
                }
                watchers += 1;
            }
        }
        if owner != Owner::Dead {
            log::debug(
                "Server directory kept",
                json!({"dir": shown, "owner": format!("{owner:?}").to_lowercase()}),
            );
            kept += 1;
            continue;
        }
        if args.dry_run {
            out::println(&shown)?;
            removed += 1;
            continue;
        }
        // Checked again just before: a `start` of this very directory
        // (`start --dir`) may have begun since.
        if owner_of(&dir) != Owner::Dead {
            kept += 1;
            continue;
        }
        let was_running = remove_server_dir(&dir)?;
        log::info(
            "Stale server removed",
            json!({"dir": shown, "wasRunning": was_running}),
        );
        out::println(&shown)?;
        removed += 1;
    }
    Ok(Summary::ok(if args.dry_run {
        "Would remove"
    } else {
        "Pruned"
    })
    .field("removed", removed)
    .field("kept", kept)
    .field("ttlWatchersRestarted", watchers))
}
