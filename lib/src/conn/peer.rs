//! libpq's `requirepeer`: over a unix socket, the server process must run
//! as the named OS user (`SO_PEERCRED` / `getpeereid`).
//!
//! libpq checks the credentials on the session's own socket. The `postgres`
//! crate opens its socket itself and does not expose it, so pgkit checks a
//! connection to the same socket made just before the session's (the
//! credentials are the listening process's, the same for both), and closes
//! it before sending anything (PostgreSQL logs nothing for that). A server
//! swapped in between the two connections would need to replace the socket
//! file in that instant, which the socket directory's permissions prevent.

use std::io;
use std::os::unix::net::UnixStream;

/// The OS user name of the process listening on the unix socket `dir`
/// (`@name` for Linux's abstract namespace) and `port`: `Err` with libpq's
/// wording when it cannot be found.
pub(crate) fn peer_user(dir: &str, port: u16) -> Result<String, PeerError> {
    let stream = connect(dir, port).map_err(PeerError::Connect)?;
    let uid = peer_uid(&stream).map_err(|e| {
        PeerError::Check(format!(
            "could not get peer credentials: {}",
            strip_os_error(&e)
        ))
    })?;
    user_name(uid)
        .ok_or_else(|| PeerError::Check(format!("local user with ID {uid} does not exist")))
}

/// Why the peer's user name is unknown.
#[derive(Debug)]
pub(crate) enum PeerError {
    /// The socket did not accept a connection.
    Connect(io::Error),
    /// The credentials could not be read or named.
    Check(String),
}

fn connect(dir: &str, port: u16) -> io::Result<UnixStream> {
    let file = format!(".s.PGSQL.{port}");
    match dir.strip_prefix('@') {
        Some(name) => connect_abstract(&format!("{name}/{file}")),
        None => UnixStream::connect(std::path::Path::new(dir).join(file)),
    }
}

#[cfg(target_os = "linux")]
fn connect_abstract(name: &str) -> io::Result<UnixStream> {
    use std::os::linux::net::SocketAddrExt;
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
    UnixStream::connect_addr(&addr)
}

#[cfg(not(target_os = "linux"))]
fn connect_abstract(_name: &str) -> io::Result<UnixStream> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "abstract unix sockets need Linux",
    ))
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn peer_uid(s: &UnixStream) -> io::Result<u32> {
    use std::os::fd::AsRawFd;
    let mut cred = libc::ucred {
        pid: 0,
        uid: 0,
        gid: 0,
    };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: `cred` and `len` are valid for writes of the sizes given; the
    // descriptor is open for the duration of the call.
    let rc = unsafe {
        libc::getsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&mut cred as *mut libc::ucred).cast(),
            &mut len,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(cred.uid)
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn peer_uid(s: &UnixStream) -> io::Result<u32> {
    use std::os::fd::AsRawFd;
    let mut uid: libc::uid_t = 0;
    let mut gid: libc::gid_t = 0;
    // SAFETY: `uid` and `gid` are valid for writes; the descriptor is open.
    let rc = unsafe { libc::getpeereid(s.as_raw_fd(), &mut uid, &mut gid) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(uid)
}

/// The name of OS user `uid` (`getpwuid_r`).
fn user_name(uid: u32) -> Option<String> {
    let mut buf = vec![0u8; 16 * 1024];
    // SAFETY: an all-zero `passwd` is a valid value for getpwuid_r to fill.
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the sizes given; `pwd`'s strings
    // point into `buf`, which outlives their use below.
    let rc = unsafe {
        libc::getpwuid_r(
            uid,
            &mut pwd,
            buf.as_mut_ptr().cast(),
            buf.len(),
            &mut result,
        )
    };
    if rc != 0 || result.is_null() || pwd.pw_name.is_null() {
        return None;
    }
    // SAFETY: getpwuid_r succeeded: pw_name is a NUL-terminated string in buf.
    let name = unsafe { std::ffi::CStr::from_ptr(pwd.pw_name) };
    name.to_str().ok().map(String::from)
}

/// An I/O error's text without Rust's " (os error N)" suffix, as libpq words it.
pub(crate) fn strip_os_error(e: &io::Error) -> String {
    let t = e.to_string();
    match t.find(" (os error ") {
        Some(i) => t[..i].to_string(),
        None => t,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn names_our_own_listener() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".s.PGSQL.7");
        let _l = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let d = dir.path().display().to_string();
        assert_eq!(peer_user(&d, 7).unwrap(), crate::conn::os_user_name());
        match peer_user(&d, 8) {
            Err(PeerError::Connect(e)) => assert_eq!(e.kind(), io::ErrorKind::NotFound),
            other => unreachable!("{other:?}"),
        }
        assert_eq!(user_name(0).as_deref(), Some("root"));
    }
}
