//! Which server a URL names.
//!
//! A trust-auth URL (`postgresql://postgres@127.0.0.1:PORT/postgres`) names
//! a port, not a server: once a server is gone and a newer one took its
//! port, both URLs would be the same string. So every server `start` makes
//! gets a random instance id, kept in its directory (`pg-tmp-instance`) and
//! carried in the URL it prints as `application_name=pg-tmp-ID`: a plain
//! libpq parameter every driver accepts, which also names the server's
//! sessions in `pg_stat_activity`. `stop URL` finds the directory by that id
//! and checks it against the directory's own record, so it can only ever
//! reach the server whose URL it was given.
//!
//! A server that was killed leaves a stale `postmaster.pid` whose process id
//! may belong to another process by now (another server's postmaster even):
//! `stale_pid_removed` checks the process really runs in this data directory
//! before anything signals it.

use pgkit::server::TempServer;
use pgkit::{Error, Exit, Result};
use std::fs;
use std::path::Path;

/// The file in a server's directory that holds its instance id.
pub const FILE: &str = "pg-tmp-instance";

/// What the URL's application_name starts with.
pub const PREFIX: &str = "pg-tmp-";

/// A new random instance id (16 hex digits).
pub fn new_id() -> String {
    crate::util::random_hex(8)
}

/// Whether `id` has the form `new_id` makes (it names a registry link).
pub fn valid(id: &str) -> bool {
    id.len() == 16 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The instance id recorded in a server directory.
pub fn read(dir: &Path) -> Option<String> {
    let id = fs::read_to_string(dir.join(FILE)).ok()?;
    let id = id.trim();
    valid(id).then(|| id.to_string())
}

/// The directory's instance id, made now for a directory that has none (a
/// server an older pg-tmp made).
pub fn ensure(dir: &Path) -> Result<String> {
    if let Some(id) = read(dir) {
        return Ok(id);
    }
    let id = new_id();
    let path = dir.join(FILE);
    fs::write(&path, format!("{id}\n"))
        .map_err(|e| Error::io(Exit::Failure, "write", &path, &e))?;
    Ok(id)
}

/// The instance id a URL's `application_name` carries.
pub fn of_application_name(name: &str) -> Option<String> {
    name.strip_prefix(PREFIX)
        .filter(|id| valid(id))
        .map(str::to_string)
}

/// `url` with the instance id as its application_name.
pub fn tag_url(url: &str, id: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}application_name={PREFIX}{id}")
}

/// Removes the data directory's `postmaster.pid` when the process it names
/// is not a postmaster of this data directory (the server was killed and its
/// process id was reused), so that `pg_ctl` neither reports it running nor
/// signals that process. True when it removed one.
///
/// A postmaster runs in its data directory (it changes into it at start):
/// `/proc/PID/cwd` says which process it is. When that cannot be read (no
/// permission: then `pg_ctl` could not signal it either), the file stays.
pub fn stale_pid_removed(server: &TempServer) -> bool {
    let Some(pid) = server.postmaster_pid() else {
        return false;
    };
    let data = server.data_dir();
    let ours = match fs::read_link(format!("/proc/{pid}/cwd")) {
        Ok(cwd) => {
            let canon = |p: &Path| fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
            canon(&cwd) == canon(&data)
        }
        // No such process (pg_ctl knows it is not running), or not ours
        // to look at (nor to signal).
        Err(_) => return false,
    };
    if ours {
        return false;
    }
    pgkit::log::warn(
        "Stale postmaster.pid: its process is not this server",
        serde_json::json!({"pid": pid, "dir": server.base_dir().display().to_string()}),
    );
    fs::remove_file(data.join("postmaster.pid")).is_ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_the_url() {
        let id = new_id();
        assert!(valid(&id), "{id}");
        let url = tag_url("postgresql://postgres@127.0.0.1:5/postgres", &id);
        assert_eq!(
            url,
            format!("postgresql://postgres@127.0.0.1:5/postgres?application_name=pg-tmp-{id}")
        );
        let kv = pgkit::conn::parse_dsn(&url).unwrap();
        let name = &kv.iter().find(|(k, _)| k == "application_name").unwrap().1;
        assert_eq!(of_application_name(name), Some(id.clone()));
        let tls = tag_url("postgresql://h:5/d?sslmode=require", &id);
        assert!(tls.ends_with(&format!("?sslmode=require&application_name=pg-tmp-{id}")));
        for bad in [
            "pg-tmp-",
            "pg-tmp-xyz",
            "psql",
            "pg-tmp-0123456789abcdef0",
            "pg-tmp-0123456789ABCDEF",
            "",
        ] {
            assert_eq!(of_application_name(bad), None, "{bad}");
        }
        assert!(!valid("../../etc/passwd"));
    }
}
