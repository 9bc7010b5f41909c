//! How `pg-tmp stop URL` finds a server's directory from its URL.
//!
//! `start` links `$TMPDIR/pgkit-tmp-registry/<port>` (a symlink, default
//! `/tmp/pgkit-tmp-registry/<port>`) to the server's directory; a port
//! identifies one server on this host. A URL whose host is the server's
//! socket directory (`?host=/…/sock`) names the directory itself. The link
//! is trusted only when it is ours (the directory is shared by every user)
//! and the directory's state file agrees on the port.

use pgkit::server::{TempServer, STATE_FILE};
use pgkit::{Error, Exit, Result};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The registry directory.
pub fn root() -> PathBuf {
    std::env::temp_dir().join("pgkit-tmp-registry")
}

/// Records that the server on `port` lives in `dir`.
pub fn add(port: u16, dir: &Path) -> Result<()> {
    let root = root();
    if !root.is_dir() {
        fs::create_dir_all(&root).map_err(|e| Error::io(Exit::Failure, "create", &root, &e))?;
        // Shared by every user of the host, like /tmp itself.
        let _ = fs::set_permissions(&root, fs::Permissions::from_mode(0o1777));
    }
    let link = root.join(port.to_string());
    let _ = fs::remove_file(&link);
    std::os::unix::fs::symlink(dir, &link).map_err(|e| Error::io(Exit::Failure, "link", &link, &e))
}

/// Forgets the server on `port` if the link points at `dir`.
pub fn remove(port: u16, dir: &Path) {
    let link = root().join(port.to_string());
    if fs::read_link(&link).is_ok_and(|t| same(&t, dir)) {
        let _ = fs::remove_file(&link);
    }
}

/// Whether two paths name the same directory (which may be gone already).
fn same(a: &Path, b: &Path) -> bool {
    a == b || matches!((fs::canonicalize(a), fs::canonicalize(b)), (Ok(x), Ok(y)) if x == y)
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
    if host.starts_with('/') {
        let base = Path::new(&host)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        if base.join(STATE_FILE).is_file() {
            return Ok(base);
        }
    } else if !matches!(host.as_str(), "" | "127.0.0.1" | "localhost" | "::1") {
        return Err(Error::usage("Not a local pg-tmp server")
            .cause(format!("host {host:?} is not this machine"))
            .suggest("pg-tmp stops only servers it started on this host; give --dir"));
    }
    let link = root().join(port.to_string());
    let not_found = || {
        Error::new(Exit::NoInput, "No pg-tmp server known for this URL")
            .field("port", port)
            .suggest("Give the server's directory with --dir (pg-tmp start --dir DIR)")
    };
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
    match TempServer::adopt(&dir) {
        Ok(s) if s.port() == port => Ok(dir),
        _ => {
            let _ = fs::remove_file(&link);
            Err(not_found())
        }
    }
}
