//! `pg-tmp start`: start a throwaway server, print its URL, leave it running.

use crate::cli::StartArgs;
use crate::throwaway::{
    create_and_start, existing_server, options, register, server_url, start_existing,
};
use crate::{postmaster, registry, ttl, util};
use pgkit::cli::Summary;
use pgkit::{out, Error, Exit, Result};

pub fn run(mut args: StartArgs) -> Result<Summary> {
    args.server.dir = args.server.dir.map(|d| util::absolute(&d));
    let ttl = args
        .ttl
        .as_deref()
        .map(|t| util::duration_flag("--ttl", t))
        .transpose()?;
    // A zero TTL would hand out a URL to a server already being removed
    // (issue 16, defect 11): refuse it before anything starts.
    if ttl.is_some_and(|t| t.is_zero()) {
        return Err(Error::usage("--ttl must be longer than 0").suggest(
            "Give a positive duration (e.g. 30m), or leave --ttl out to keep the server",
        ));
    }
    let opts = options(&args.server)?;
    let (server, restarted) = match existing_server(args.server.dir.as_deref())? {
        Some(s) => {
            postmaster::stale_pid_removed(&s);
            if !s.is_running() {
                // Not on a port another directory claims (made by an older
                // pg-tmp): two servers would answer to one URL.
                registry::check_unclaimed(&registry::claims(), s.port(), Some(s.base_dir()))?;
                start_existing(&s)?;
            }
            (s, true)
        }
        None => (create_and_start(opts)?, false),
    };
    let tls = server.ca_cert().is_some();
    let url = server_url(&server, "postgres", tls);
    let port = server.port();
    let mut summary = Summary::ok(if restarted {
        "Server running"
    } else {
        "Server started"
    })
    .field("dir", server.base_dir().display().to_string())
    .field("port", port)
    .field("socketDir", server.socket_dir().display().to_string());
    if let Some(ca) = server.ca_cert() {
        summary = summary.field("caCert", ca.display().to_string());
    }
    register(port, server.base_dir());
    if let Some(ttl) = ttl {
        ttl::spawn(server.base_dir(), ttl)?;
        summary = summary.field("ttlMs", ttl.as_millis() as u64);
    }
    // The server is the user's from here on: `prune` leaves it alone. Until
    // now, a kill of this process leaves a server `prune` removes.
    if !restarted {
        server.hand_over()?;
    }
    let dir = server.keep();
    if let Err(e) = out::println(&url) {
        // The server runs whether or not its URL was read: the summary line
        // (a closed stdout) or the error says where, so it can be stopped.
        if e.code != Exit::Ok {
            return Err(e.field("dir", dir.display().to_string()).suggest(format!(
                "Stop the server with: pg-tmp stop --dir {}",
                dir.display()
            )));
        }
    }
    Ok(summary)
}
