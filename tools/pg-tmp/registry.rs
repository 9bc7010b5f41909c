//! How `pg-tmp stop URL` finds a server's directory from its URL.
//!
//! The URL `start` prints carries the server's instance id
//! (`application_name=pg-tmp-ID`, see `instance`); `start` links
//! `$TMPDIR/pgkit-tmp-registry/ID` (a symlink, default
//! `/tmp/pgkit-tmp-registry/ID`) to the server's directory. A port does not
//! identify a server: a newer one may have taken it since. A URL whose host
//! is the server's socket directory (`?host=/…/sock`) names the directory
//! itself, and must carry the id too. The link is trusted only when it is
//! ours (the directory is shared by every user) and the directory's own
//! records agree on the id and the port.

use crate::instance;
use pgkit::server::TempServer;
use pgkit::{Error, Exit, Result};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The registry directory.
pub fn root() -> PathBuf {
    std::env::temp_dir().join("pgkit-tmp-registry")
}

/// Records that the server with instance `id` lives in `dir`.
pub fn add(id: &str, dir: &Path) -> Result<()> {
    let root = root();
    if !root.is_dir() {
        fs::create_dir_all(&root).map_err(|e| Error::io(Exit::Failure, "create", &root, &e))?;
        // Shared by every user of the host, like /tmp itself.
        let _ = fs::set_permissions(&root, fs::Permissions::from_mode(0o1777));
    }
    let link = root.join(id);
    let _ = fs::remove_file(&link);
    std::os::unix::fs::symlink(dir, &link).map_err(|e| Error::io(Exit::Failure, "link", &link, &e))
}

/// Forgets the server of instance `id` if the link points at `dir`.
pub fn remove(id: Option<&str>, dir: &Path) {
    let Some(id) = id.filter(|i| instance::valid(i)) else {
        return;
    };
    let link = root().join(id);
    if fs::read_link(&link).is_ok_and(|t| same(&t, dir)) {
        let _ = fs::remove_file(&link);
    }
}

/// Whether two paths name the same directory (which may be gone already).
fn same(a: &Path, b: &Path) -> bool {
    a == b || matches!((fs::canonicalize(a), fs::canonicalize(b)), (Ok(x), Ok(y)) if x == y)
}

/// Whether `dir` holds the server of instance `id` on `port`.
fn holds(dir: &Path, id: &str, port: u16) -> bool {
    instance::read(dir).as_deref() == Some(id)
        && TempServer::adopt(dir).is_ok_and(|s| s.port() == port)
}

/// The directory of the pg-tmp server a URL points at.
pub fn find(url: &str) -> Result<PathBuf> {
    let kv = pgkit::conn::parse_dsn(url)?;
    let get = |k: &str| {
        kv.iter()
            .rev()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    let host = get("host").unwrap_or_default();
    let port: u16 = match get("port") {
        None => 5432,
        Some(p) => p.parse().map_err(|_| {
            Error::usage("Invalid URL").cause(format!("invalid port number: {p:?}"))
        })?,
    };
    let local =
        host.starts_with('/') || matches!(host.as_str(), "" | "127.0.0.1" | "localhost" | "::1");
    if !local {
        return Err(Error::usage("Not a local pg-tmp server")
            .cause(format!("host {host:?} is not this machine"))
            .suggest("pg-tmp stops only servers it started on this host; give --dir"));
    }
    let Some(id) = get("application_name").and_then(|a| instance::of_application_name(&a)) else {
        return Err(Error::usage("Not a URL that pg-tmp start printed")
            .cause(format!(
                "it has no application_name={}… naming the server, and a port alone may belong to a newer server by now",
                instance::PREFIX
            ))
            .field("port", port)
            .suggest("Give the URL exactly as pg-tmp start printed it, or the server's directory with --dir"));
    };
    let not_found = || {
        Error::new(Exit::NoInput, "No pg-tmp server known for this URL")
            .cause("its server was stopped or deleted already")
            .field("port", port)
            .field("instance", format!("{}{id}", instance::PREFIX))
            .suggest("Give the server's directory with --dir (pg-tmp start --dir DIR)")
    };
    if host.starts_with('/') {
        let base = Path::new(&host)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        if holds(&base, &id, port) {
            return Ok(base);
        }
        return Err(not_found());
    }
    let link = root().join(&id);
    // The registry is shared by every user (mode 1777, as /tmp): only our own
    // links count, or another user could have us run their "pg_ctl" from a
    // state file they wrote, or delete their choice of directory.
    let ours = fs::symlink_metadata(&link).is_ok_and(|m| {
        use std::os::unix::fs::MetadataExt;
        // SAFETY: geteuid has no preconditions.
        m.uid() == unsafe { libc::geteuid() }
    });
    if !ours {
        return Err(not_found());
    }
    let dir = fs::read_link(&link).map_err(|_| not_found())?;
    if holds(&dir, &id, port) {
        Ok(dir)
    } else {
        let _ = fs::remove_file(&link);
        Err(not_found())
    }
}
