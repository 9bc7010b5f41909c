//! Which pg-tmp server claims which port, and how `pg-tmp stop URL` finds a
//! server's directory from its URL.
//!
//! The URL `start` prints (`postgresql://postgres@127.0.0.1:PORT/postgres`)
//! names a port, not a server. So that it names one server all the same, a
//! server's port stays its own for as long as its directory exists, whether
//! its server runs or not: `start` links `$TMPDIR/pgkit-tmp-registry/PORT-HASH`
//! (a symlink; default `/tmp/pgkit-tmp-registry`, HASH from the directory's
//! path) to the server's directory, and no later `start` or `run` of this
//! user takes a port that a linked directory claims (`--port auto` skips it,
//! `--port N` is refused). `stop URL` resolves the URL's port to the one
//! directory claiming it; `throwaway::stop` then stops its server only if the
//! postmaster running is that directory's (see `postmaster`).
//!
//! The port a directory claims is its state file's (the link's name is for
//! people). Only this user's links count: the registry is shared by every
//! user (mode 1777, as /tmp), and another user's link could otherwise have us
//! run their "pg_ctl" from a state file they wrote, or delete their choice of
//! directory. A link whose directory is gone is removed on sight, when it
//! was made in our own mount namespace (its name ends `-mNS`): from another
//! one, its directory may only be out of our sight (`provably_gone`).

use pgkit::server::STATE_FILE;
use pgkit::{Error, Exit, Result};
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The registry directory.
pub fn root() -> PathBuf {
    std::env::temp_dir().join("pgkit-tmp-registry")
}

/// A server directory of this user's and the port it claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub dir: PathBuf,
    pub port: u16,
}

/// This process's mount namespace, as link names carry it.
fn our_mount_ns() -> Option<String> {
    pgkit::server::namespace_id("mnt")
}

/// The mount namespace a link was made in: its name's `-mNNN` suffix (None
/// for links of an older pg-tmp, which had none).
fn link_mount_ns(link: &Path) -> Option<String> {
    let name = link.file_name()?.to_str()?;
    let (_, ns) = name.rsplit_once("-m")?;
    (!ns.is_empty() && ns.bytes().all(|b| b.is_ascii_digit())).then(|| ns.to_string())
}

/// Whether a link whose directory we cannot find is proven dead: made in
/// our own mount namespace, where that directory would be visible. From
/// another namespace (another /dev/shm, a container sharing /tmp) or from an
/// older pg-tmp that did not say, a missing directory proves nothing: it may
/// live where we cannot see (issue 16, defect 5).
fn provably_gone(link: &Path) -> bool {
    matches!((link_mount_ns(link), our_mount_ns()), (Some(a), Some(b)) if a == b)
}

/// This user's links in the registry: (link, the directory it points at).
fn links() -> Vec<(PathBuf, PathBuf)> {
    let root = root();
    let Ok(entries) = fs::read_dir(&root) else {
        return Vec::new();
    };
    // SAFETY: geteuid has no preconditions.
    let uid = unsafe { libc::geteuid() };
    entries
        .flatten()
        .filter_map(|e| {
            let link = e.path();
            let meta = fs::symlink_metadata(&link).ok()?;
            if !meta.file_type().is_symlink() || meta.uid() != uid {
                return None;
            }
            let target = fs::read_link(&link).ok()?;
            // `add` writes absolute paths; a relative one is read as the
            // kernel would.
            Some((link, root.join(target)))
        })
        .collect()
}

/// The port in a server directory's state file.
fn state_port(dir: &Path) -> Option<u16> {
    let text = fs::read_to_string(dir.join(STATE_FILE)).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["port"].as_u64().and_then(|p| u16::try_from(p).ok())
}

/// Whether two paths name the same directory (which may be gone already).
fn same(a: &Path, b: &Path) -> bool {
    a == b || matches!((fs::canonicalize(a), fs::canonicalize(b)), (Ok(x), Ok(y)) if x == y)
}

/// Every server directory of this user's that still exists, with the port
/// it claims (whether its server runs or not).
pub fn claims() -> Vec<Claim> {
    let mut out: Vec<Claim> = Vec::new();
    for (link, dir) in links() {
        match fs::symlink_metadata(&dir) {
            Ok(_) => {}
            // Stopped and deleted (by an older pg-tmp, or by hand) — when
            // we can tell; else the link stays for whoever can see it.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if provably_gone(&link) {
                    let _ = fs::remove_file(&link);
                }
                continue;
            }
            Err(_) => continue,
        }
        let Some(port) = state_port(&dir) else {
            continue;
        };
        if !out.iter().any(|c| same(&c.dir, &dir)) {
            out.push(Claim { dir, port });
        }
    }
    out
}

/// The directories (other than `except`) that claim `port`.
fn claimants(claims: &[Claim], port: u16, except: Option<&Path>) -> Vec<PathBuf> {
    claims
        .iter()
        .filter(|c| c.port == port && !except.is_some_and(|e| same(e, &c.dir)))
        .map(|c| c.dir.clone())
        .collect()
}

/// Refuses `port` (75) when a server directory other than `except` claims it.
pub fn check_unclaimed(claims: &[Claim], port: u16, except: Option<&Path>) -> Result<()> {
    let Some(dir) = claimants(claims, port, except).into_iter().next() else {
        return Ok(());
    };
    let dir = dir.display().to_string();
    Err(
        Error::new(Exit::TempFail, "The port belongs to another pg-tmp server")
            .cause(
                "its directory still exists (its server may be down): a server keeps its port \
                 until it is stopped, so that its URL never names another server",
            )
            .field("port", port)
            .field("claimingDir", dir.clone())
            .suggest(format!(
                "Stop and delete that server with: pg-tmp stop --dir {dir}; or give another --port (or auto)"
            )),
    )
}

/// A free TCP port on 127.0.0.1 that no server directory claims.
pub fn free_port(claims: &[Claim]) -> Result<u16> {
    let claimed: Vec<u16> = claims.iter().map(|c| c.port).collect();
    pick_port(&claimed, || {
        let l = std::net::TcpListener::bind("127.0.0.1:0")?;
        Ok((l.local_addr()?.port(), l))
    })
}

/// The first port `next` offers that is not `claimed`. A claimed port is
/// held (its listener kept) while looking further, so it is not offered
/// again.
fn pick_port<L>(
    claimed: &[u16],
    mut next: impl FnMut() -> std::io::Result<(u16, L)>,
) -> Result<u16> {
    let mut held = Vec::new();
    for _ in 0..64 {
        let (port, listener) =
            next().map_err(|e| Error::new(Exit::Failure, "Cannot find a free port").cause(e))?;
        if !claimed.contains(&port) {
            return Ok(port);
        }
        held.push(listener);
    }
    Err(Error::new(Exit::Failure, "Cannot find a free port")
        .cause("every port offered is claimed by a pg-tmp server directory")
        .suggest("Stop servers you no longer need: pg-tmp stop --dir DIR"))
}

/// The registry link's name for `dir` on `port`, made in this mount
/// namespace: `PORT-HASH-mNS` (see `provably_gone`).
fn link_name(port: u16, dir: &Path) -> String {
    use sha2::{Digest, Sha256};
    use std::os::unix::ffi::OsStrExt;
    let digest = Sha256::digest(dir.as_os_str().as_bytes());
    let hash: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    match our_mount_ns() {
        Some(ns) => format!("{port}-{hash}-m{ns}"),
        None => format!("{port}-{hash}"),
    }
}

/// Records that the server in `dir` claims `port` (idempotent).
pub fn add(port: u16, dir: &Path) -> Result<()> {
    if links().iter().any(|(_, t)| same(t, dir)) {
        return Ok(());
    }
    let root = root();
    if !root.is_dir() {
        fs::create_dir_all(&root).map_err(|e| Error::io(Exit::Failure, "create", &root, &e))?;
        // Shared by every user of the host, like /tmp itself.
        let _ = fs::set_permissions(&root, fs::Permissions::from_mode(0o1777));
    }
    let link = root.join(link_name(port, dir));
    let _ = fs::remove_file(&link);
    std::os::unix::fs::symlink(dir, &link).map_err(|e| Error::io(Exit::Failure, "link", &link, &e))
}

/// The directories this user's links point at (those we can see and those
/// we cannot), for `pg-tmp prune`.
pub fn linked_dirs() -> Vec<PathBuf> {
    links().into_iter().map(|(_, t)| t).collect()
}

/// Forgets `dir`: its port is free again.
pub fn remove(dir: &Path) {
    for (link, target) in links() {
        if same(&target, dir) {
            let _ = fs::remove_file(&link);
        }
    }
}

/// The directory of the pg-tmp server a URL points at: the one directory of
/// this user's that claims its port (or, for a URL whose host is a server's
/// socket directory, that server's directory).
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
    let not_found = || {
        Error::new(Exit::NoInput, "No pg-tmp server known for this URL")
            .cause("no pg-tmp server directory of this user claims its port: stopped and deleted already, or not made by pg-tmp start")
            .field("port", port)
            .suggest("Give the server's directory with --dir (pg-tmp start --dir DIR)")
    };
    if host.starts_with('/') {
        // The socket directory is the server directory's `sock/`: it names
        // that directory, as --dir would (on the port its socket has).
        let base = Path::new(&host)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        return match state_port(&base) {
            Some(p) if p == port => Ok(base),
            _ => Err(not_found()),
        };
    }
    let dirs = claimants(&claims(), port, None);
    match dirs.as_slice() {
        [] => Err(not_found()),
        [dir] => Ok(dir.clone()),
        _ => Err(Error::usage("Several pg-tmp servers claim this port")
            .cause("the URL names a port, and more than one server directory claims it (made by an older pg-tmp, or a race)")
            .field("port", port)
            .field(
                "dirs",
                dirs.iter()
                    .map(|d| d.display().to_string())
                    .collect::<Vec<_>>(),
            )
            .suggest("Stop the one you mean with: pg-tmp stop --dir DIR")),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_claimed_port_is_never_picked_nor_offered_twice() {
        // Offered 5001 and 5002 (claimed), then 5003.
        let mut offered = [5001u16, 5002, 5003].into_iter();
        let mut seen = Vec::new();
        let port = pick_port(&[5001, 5002], || {
            let p = offered.next().unwrap();
            seen.push(p);
            Ok((p, ()))
        })
        .unwrap();
        assert_eq!(port, 5003);
        assert_eq!(seen, [5001, 5002, 5003]);
        // Nothing but claimed ports: an error, not a claimed port.
        let e = pick_port(&[7], || Ok((7u16, ()))).unwrap_err();
        assert_eq!(e.code, Exit::Failure);
        // The real thing: a port the OS says is free, and not claimed.
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let busy = l.local_addr().unwrap().port();
        let claims = [Claim {
            dir: PathBuf::from("/nonexistent"),
            port: busy,
        }];
        assert_ne!(free_port(&claims).unwrap(), busy);
    }

    #[test]
    fn claims_name_the_claiming_directory() {
        let claims = [
            Claim {
                dir: PathBuf::from("/x/a"),
                port: 5001,
            },
            Claim {
                dir: PathBuf::from("/x/b"),
                port: 5002,
            },
        ];
        assert!(check_unclaimed(&claims, 5003, None).is_ok());
        // A server's own claim does not stop it from starting again.
        assert!(check_unclaimed(&claims, 5001, Some(Path::new("/x/a"))).is_ok());
        let e = check_unclaimed(&claims, 5001, Some(Path::new("/x/b"))).unwrap_err();
        assert_eq!(e.code, Exit::TempFail);
        assert_eq!(e.fields["claimingDir"], "/x/a");
        assert!(e.suggestion.unwrap().contains("pg-tmp stop --dir /x/a"));
        assert!(link_name(5001, Path::new("/x/a")).starts_with("5001-"));
        assert_eq!(
            link_mount_ns(Path::new("/r/5001-0123456789abcdef-m4026531841")).as_deref(),
            Some("4026531841")
        );
        assert_eq!(link_mount_ns(Path::new("/r/5001-0123456789abcdef")), None);
        assert_ne!(
            link_name(5001, Path::new("/x/a")),
            link_name(5001, Path::new("/x/b"))
        );
    }
}
