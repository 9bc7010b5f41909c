//! `pg-tmp prune`: stop and delete the servers whose `start` or `run` was
//! killed before it finished (see `sweep` for what "stale" means).

use crate::cli::PruneArgs;
use crate::sweep::{candidates, owner_of, remove_server_dir, Owner};
use pgkit::cli::Summary;
use pgkit::{interrupt, log, out, Result};
use serde_json::json;

pub fn run(args: PruneArgs) -> Result<Summary> {
    let (mut removed, mut kept) = (0u64, 0u64);
    for dir in candidates() {
        interrupt::check()?;
        let owner = owner_of(&dir);
        let shown = dir.display().to_string();
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
    .field("kept", kept))
}
