//! What `start` and `run` share: the server options from the flags, making
//! and starting a server, and finding one in `--dir`.

use crate::cli::ServerArgs;
use crate::{registry, sweep, util};
use pgkit::server::{Options, TempServer, STATE_FILE};
use pgkit::{interrupt, log, Error, Exit, Result};
use serde_json::json;
use std::path::Path;
use std::time::Duration;

/// Settings pg-tmp sets itself; `-c` must not override them.
const RESERVED: &[&str] = &["port", "unix_socket_directories", "ssl", "hba_file"];

/// The library options for the flags.
pub fn options(args: &ServerArgs) -> Result<Options> {
    let port = match args.port.as_str() {
        "auto" | "" => None,
        p => Some(p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| {
            Error::usage("Invalid --port")
                .cause(format!("{p:?} is not a port number"))
                .suggest("Give a number from 1 to 65535, or auto")
        })?),
    };
    let mut config = Vec::new();
    for s in &args.settings {
        let (name, value) = s.split_once('=').ok_or_else(|| {
            Error::usage("Invalid -c setting")
                .cause(format!("{s:?} is not name=value"))
                .suggest("Write -c name=value, e.g. -c log_statement=all")
        })?;
        let name = name.trim();
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
        {
            return Err(
                Error::usage("Invalid -c setting").cause(format!("{name:?} is not a setting name"))
            );
        }
        if RESERVED.contains(&name.to_ascii_lowercase().as_str()) {
            return Err(Error::usage("Invalid -c setting")
                .cause(format!("pg-tmp sets {name} itself"))
                .suggest("Use --port, --dir or --tls instead"));
        }
        // Quoted, so any value (lists, spaces) is one postgresql.conf value;
        // postgresql.conf reads backslash escapes inside quotes.
        let quoted = value.replace('\\', "\\\\").replace('\'', "''");
        config.push((name.to_string(), format!("'{quoted}'")));
    }
    if let Some(d) = &args.dir {
        reachable_by_server(d)?;
    }
    let password = args.password.then(util::random_password);
    if let Some(p) = &password {
        pgkit::redact::register(p);
    }
    Ok(Options {
        password,
        tls: args.tls,
        require_tls: false,
        port,
        config,
        bindir: Some(crate::binaries::server_bindir(
            args.pg_version,
            args.offline,
        )?),
        version: args.pg_version,
        dir: args.dir.clone(),
        no_watchdog: true,
    })
}

/// As root the server runs as `postgres`, which must be able to reach
/// `--dir`: every existing parent must be searchable by others.
fn reachable_by_server(dir: &Path) -> Result<()> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(());
    }
    let dir = util::absolute(dir);
    match pgkit::server::unreachable_ancestor(&dir) {
        None => Ok(()),
        Some(a) => Err(Error::usage("The postgres user cannot reach --dir")
            .field("dir", dir.display().to_string())
            .field("path", a.display().to_string())
            .suggest("Run as root, the server runs as postgres: use a directory under /tmp or /dev/shm, or chmod o+x its parents")),
    }
}

/// The URL printed for a server: TCP, with the password, sslmode=require
/// with TLS.
pub fn server_url(s: &TempServer, dbname: &str, tls: bool) -> String {
    let mut url = s.url(dbname);
    if tls {
        url.push_str("?sslmode=require");
    }
    url
}

/// Checks `--dir`: new, empty, or a pg-tmp server directory (then `Some`).
pub fn existing_server(dir: Option<&Path>) -> Result<Option<TempServer>> {
    let Some(dir) = dir else { return Ok(None) };
    if dir.join(STATE_FILE).is_file() {
        match sweep::owner_of(dir) {
            sweep::Owner::Dead => {
                return Err(Error::usage("The --dir directory holds a half-made server")
                    .cause("the pg-tmp that was making it ended before it finished")
                    .field("dir", dir.display().to_string())
                    .suggest(format!(
                        "Remove it with: pg-tmp stop --dir {} (or pg-tmp prune)",
                        dir.display()
                    )))
            }
            sweep::Owner::Alive => {
                return Err(Error::new(
                    Exit::TempFail,
                    "The --dir directory's server is being made by another process",
                )
                .field("dir", dir.display().to_string())
                .suggest("Wait for it to finish, or give another --dir"))
            }
            _ => return TempServer::adopt(dir).map(Some),
        }
    }
    if let Ok(mut rd) = std::fs::read_dir(dir) {
        if rd.next().is_some() {
            return Err(Error::usage("The --dir directory is not empty")
                .field("dir", dir.display().to_string())
                .suggest("Give a new or empty directory, or one a previous pg-tmp start made"));
        }
    }
    Ok(None)
}

/// Creates and starts a server, waiting until it accepts logins. A server
/// that does not come up is deleted; the error (2) carries its log's tail.
pub fn create_and_start(mut opts: Options) -> Result<TempServer> {
    // Only 127.0.0.1, as the URL says: with ::1 too, a taken IPv4 port
    // would leave a server reachable on ::1 only, and no error.
    if !opts.config.iter().any(|(k, _)| k == "listen_addresses") {
        opts.config
            .insert(0, ("listen_addresses".into(), "'127.0.0.1'".into()));
    }
    // A port another server directory of ours still claims is not ours to
    // take, even while its server is down: its URL must keep naming it.
    let claims = registry::claims();
    let auto_port = opts.port.is_none();
    log_shm_plan(opts.dir.as_deref());
    if let Some(port) = opts.port {
        registry::check_unclaimed(&claims, port, None)?;
    }
    let mut attempt = 0;
    loop {
        attempt += 1;
        let mut opts = opts.clone();
        if auto_port {
            opts.port = Some(registry::free_port(&claims)?);
        }
        // Registered before anything is made, so that a kill at any later
        // point leaves a directory `stop URL` and `prune` can find (the
        // state file, written first, names the port the link claims).
        if let (Some(dir), Some(port)) = (&opts.dir, opts.port) {
            register(port, dir);
        }
        let dir = opts.dir.clone();
        let s = match TempServer::create(opts) {
            Ok(s) => s,
            Err(e) => {
                // Nothing is left to claim the port: the link goes too.
                if let Some(d) = &dir {
                    registry::remove(d);
                }
                return Err(e);
            }
        };
        register(s.port(), s.base_dir());
        // Whatever fails from here deletes the directory (dropping `s`):
        // its link goes with it, in whichever namespace made it.
        let unlink = |s: &TempServer| registry::remove(s.base_dir());
        if let Err(e) = interrupt::check() {
            unlink(&s);
            return Err(e);
        }
        match start_existing(&s) {
            Ok(()) => return Ok(s),
            // A free port picked by us was taken before the server bound
            // it: pick another.
            Err(e)
                if auto_port
                    && attempt < 3
                    && e.error
                        .as_deref()
                        .is_some_and(|m| m.contains("already in use")) =>
            {
                log::debug("Port taken meanwhile, retrying", json!({"port": s.port()}));
                unlink(&s);
            }
            Err(e) => {
                unlink(&s);
                return Err(e);
            }
        }
    }
}

/// Says where the server's directory and its dynamic shared memory go, and
/// why (the free space in /dev/shm decides: issue 16, defect 6). Info when
/// /dev/shm is passed over, debug otherwise.
fn log_shm_plan(dir: Option<&Path>) {
    let plan = pgkit::server::shm_plan();
    let parent = dir.map(Path::to_path_buf).unwrap_or(plan.parent);
    let fields = json!({
        "shmFreeBytes": plan.shm_free,
        "dynamicSharedMemoryType": plan.dsm_type,
        "serverParent": parent.display().to_string(),
        "reason": plan.reason,
    });
    if plan.degraded {
        log::info(
            "Small or unusable /dev/shm: dynamic shared memory in the data directory",
            fields,
        );
    } else {
        log::debug("Shared memory placement", fields);
    }
}

/// Links `dir` in the registry; without the link only `stop --dir` (and
/// `prune`) find it, so a failure is a warning.
pub fn register(port: u16, dir: &Path) {
    if let Err(e) = registry::add(port, dir) {
        log::warn(
            "Cannot register the server for stop URL",
            json!({"error": e.to_string(), "suggestion": "Stop it with pg-tmp stop --dir"}),
        );
    }
}

pub fn start_existing(s: &TempServer) -> Result<()> {
    s.start_server().map_err(|mut e| {
        // The directory (and its log) goes away with the server; the log's
        // tail is in the error itself.
        e.fields.remove("logFile");
        let why = e.error.as_deref().unwrap_or_default();
        if e.code == Exit::NotReady && why.contains("could not resize shared memory segment") {
            e.suggest(
                "/dev/shm has too little room for dynamic shared memory: free space there, \
                 or leave dynamic_shared_memory_type to pg-tmp (or give -c dynamic_shared_memory_type=mmap)",
            )
        } else if e.code == Exit::NotReady {
            e.suggest("Check the settings given with -c, and that the port is free")
        } else {
            e
        }
    })?;
    interrupt::check()?;
    s.wait_ready(Duration::from_secs(30)).map_err(|e| {
        Error::new(
            Exit::NotReady,
            "The throwaway server does not accept logins",
        )
        .cause(e)
        .field("serverLog", s.log_tail(10))
    })
}
