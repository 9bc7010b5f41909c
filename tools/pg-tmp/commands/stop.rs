//! `pg-tmp stop`: stop a server that `start` made and delete its directory.

use crate::cli::StopArgs;
use crate::{postmaster, registry, sweep, ttl, util};
use pgkit::cli::Summary;
use pgkit::server::TempServer;
use pgkit::{Error, Result};

pub fn run(args: StopArgs) -> Result<Summary> {
    let dir = match (&args.dir, &args.url) {
        (Some(d), _) => util::absolute(d),
        (None, Some(u)) => registry::find(u)?,
        (None, None) => return Err(Error::usage("Give a URL or --dir")),
    };
    if sweep::is_unnamed_server_dir(&dir) {
        // A start killed before it wrote the state file: no pg_ctl to ask,
        // but the directory is ours to remove (issue 16, defect 4).
        if args.keep {
            return Err(Error::usage("This server directory is half-made")
                .field("dir", dir.display().to_string())
                .suggest("Remove it with: pg-tmp stop --dir DIR (without --keep)"));
        }
        let was_running = sweep::remove_server_dir(&dir)?;
        return Ok(Summary::ok("Server stopped and deleted")
            .field("dir", dir.display().to_string())
            .field("wasRunning", was_running));
    }
    sweep::settle(&dir);
    let server = TempServer::adopt(&dir)?;
    let port = server.port();
    ttl::stop_watcher(&dir);
    // A killed server's postmaster.pid may name another process by now
    // (even the postmaster of the server now running on its port): only a
    // postmaster running in this directory is this server.
    postmaster::stale_pid_removed(&server);
    let was_running = server.is_running();
    if args.keep {
        if was_running {
            server.stop_server()?;
        }
    } else {
        postmaster::stop_and_remove(server)?;
        // The port is free again. A kept directory keeps claiming it, so
        // that `start --dir` brings the server back with the same URL.
        registry::remove(&dir);
    }
    Ok(Summary::ok(if args.keep {
        "Server stopped, directory kept"
    } else {
        "Server stopped and deleted"
    })
    .field("dir", dir.display().to_string())
    .field("port", port)
    .field("wasRunning", was_running))
}
