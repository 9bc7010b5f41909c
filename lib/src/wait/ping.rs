//! `--check tcp` and `--check ping` on a raw socket, without libpq.
//!
//! ping speaks the start of the v3 protocol as `pg_isready` (PQping) does: a
//! StartupMessage with user and database, then the first reply decides.
//!
//! - An authentication request (`R`, not OK): the server is up. We close at
//!   once without answering; PostgreSQL logs nothing for a client that leaves
//!   before sending a password.
//! - AuthenticationOk (trust): we read on to ReadyForQuery, then send a
//!   Terminate (`X`) and close, so the backend ends quietly.
//! - ErrorResponse 57P03 (starting up, shutting down, not yet consistent):
//!   not ready. Any other error (28000, 28P01, 3D000, 53300...) means the
//!   server is up and answering, as PQping reports it.
//!
//! TLS as libpq negotiates it, over TCP only: with `sslmode` prefer (the
//! default) and up, an SSLRequest first; the server's `S` starts a TLS
//! handshake (verifying the certificate for verify-ca/verify-full), its `N`
//! means plain text for prefer and a configuration error (78) for require and
//! up. So a `hostssl`-only server (managed PostgreSQL) is pinged without a
//! FATAL line in its log. With disable or allow the ping is plain text; a
//! `hostssl`-only server then answers 28000, which still counts as up (and
//! logs a FATAL line, as `pg_isready` would).

use super::failure::Failure;
use crate::conn::{Host, Settings, SslMode};
use crate::exit::Exit;
use openssl::ssl::{SslConnector, SslFiletype, SslMethod, SslStream, SslVerifyMode};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The protocol version 3.0.
const PROTOCOL_V3: u32 = 196_608;

/// The SSLRequest code.
const SSL_REQUEST: u32 = 80_877_103;

/// A connected socket: TCP, unix, or TLS over TCP.
pub(crate) enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
    Tls(Box<SslStream<TcpStream>>),
}

impl Stream {
    fn set_timeouts(&self, t: Duration) -> io::Result<()> {
        let t = Some(t.max(Duration::from_millis(1)));
        match self {
            Stream::Tcp(s) => {
                s.set_read_timeout(t)?;
                s.set_write_timeout(t)?;
                s.set_nodelay(true)
            }
            Stream::Unix(s) => {
                s.set_read_timeout(t)?;
                s.set_write_timeout(t)
            }
            Stream::Tls(s) => {
                s.get_ref().set_read_timeout(t)?;
                s.get_ref().set_write_timeout(t)
            }
        }
    }

    /// Closes the stream; TLS sends its close_notify first, so the server
    /// sees a clean end rather than an "unexpected EOF" worth a log line.
    fn close(self) {
        if let Stream::Tls(mut s) = self {
            let _ = s.shutdown();
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.flush(),
            Stream::Unix(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

/// The socket file of a unix-socket directory and port.
pub(crate) fn socket_path(dir: &str, port: u16) -> PathBuf {
    PathBuf::from(dir).join(format!(".s.PGSQL.{port}"))
}

/// Connects to the first host of `settings` that accepts, within `deadline`.
pub(crate) fn connect(settings: &Settings, deadline: Instant) -> Result<(Stream, &Host), Failure> {
    let mut last = Failure::refused("no host to connect to");
    for host in &settings.hosts {
        match connect_host(host, deadline) {
            Ok(s) => return Ok((s, host)),
            Err(f) => last = f,
        }
    }
    Err(last)
}

fn connect_host(host: &Host, deadline: Instant) -> Result<Stream, Failure> {
    if host.is_socket() {
        let path = socket_path(&host.host, host.port);
        let res = if let Some(name) = host.host.strip_prefix('@') {
            connect_abstract(name, host.port)
        } else {
            UnixStream::connect(&path)
        };
        return res.map(Stream::Unix).map_err(|e| {
            let what = format!(
                "connection to server on socket {:?} failed: {}",
                path.display().to_string(),
                os_text(&e)
            );
            match e.kind() {
                io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused => {
                    Failure::refused(what)
                }
                _ => Failure::io(what),
            }
        });
    }
    let name = host.hostaddr.as_deref().unwrap_or(&host.host);
    let addrs: Vec<SocketAddr> = match (name, host.port).to_socket_addrs() {
        Ok(a) => a.collect(),
        Err(e) => {
            return Err(Failure::retry(
                format!(
                    "could not translate host name {:?} to address: {e}",
                    host.host
                ),
                "Check the host name in PGHOST or DATABASE_URL",
            ))
        }
    };
    let mut last = Failure::retry(
        format!("host name {:?} has no address", host.host),
        "Check the host name in PGHOST or DATABASE_URL",
    );
    for addr in addrs {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(last);
        }
        match TcpStream::connect_timeout(&addr, left) {
            Ok(s) => return Ok(Stream::Tcp(s)),
            Err(e) => {
                let what = if addr.ip().to_string() == host.host {
                    format!(
                        "connection to server at {:?}, port {} failed: {}",
                        host.host,
                        host.port,
                        os_text(&e)
                    )
                } else {
                    format!(
                        "connection to server at {:?} ({}), port {} failed: {}",
                        host.host,
                        addr.ip(),
                        host.port,
                        os_text(&e)
                    )
                };
                last = match e.kind() {
                    io::ErrorKind::ConnectionRefused => Failure::refused(what),
                    io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => Failure::retry(
                        what,
                        "Check the host is reachable (firewall, security group) or raise --connect-timeout (PGCONNECT_TIMEOUT)",
                    ),
                    _ => Failure::io(what),
                };
            }
        }
    }
    Err(last)
}

#[cfg(target_os = "linux")]
fn connect_abstract(name: &str, port: u16) -> io::Result<UnixStream> {
    use std::os::linux::net::SocketAddrExt;
    let addr =
        std::os::unix::net::SocketAddr::from_abstract_name(format!("{name}/.s.PGSQL.{port}"))?;
    UnixStream::connect_addr(&addr)
}

#[cfg(not(target_os = "linux"))]
fn connect_abstract(_name: &str, _port: u16) -> io::Result<UnixStream> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "abstract unix sockets need Linux",
    ))
}

/// `--check tcp`: the port accepts a connection (or the socket file exists
/// and accepts one). The connection is closed at once, before any byte is
/// sent; PostgreSQL does not log an empty startup.
pub(crate) fn tcp(settings: &Settings, deadline: Instant) -> Result<(), Failure> {
    connect(settings, deadline).map(|(s, _)| s.close())
}

/// `--check ping`: the startup handshake, as `pg_isready`.
pub(crate) fn ping(settings: &Settings, deadline: Instant) -> Result<(), Failure> {
    let (mut s, host) = connect(settings, deadline)?;
    let left = deadline.saturating_duration_since(Instant::now());
    s.set_timeouts(left)
        .map_err(|e| Failure::io(format!("socket setup failed: {e}")))?;
    if let Stream::Tcp(tcp) = s {
        match negotiate_tls(tcp, host, settings)? {
            Some(t) => s = t,
            None => return Ok(()),
        }
    }
    let msg = startup_message(
        &settings.user,
        &settings.dbname,
        settings.application_name.as_deref(),
    );
    s.write_all(&msg)
        .map_err(|e| io_failure("sending the startup message", &e))?;
    let mut authenticated = false;
    loop {
        let (tag, body) = read_message(&mut s).map_err(|e| io_failure("reading the reply", &e))?;
        match interpret(tag, &body, authenticated) {
            Step::Authenticated => authenticated = true,
            Step::Skip => {}
            Step::Up { terminate } => {
                if terminate {
                    // Terminate, then close: the backend exits without a log line.
                    let _ = s.write_all(&[b'X', 0, 0, 0, 4]);
                }
                s.close();
                return Ok(());
            }
            Step::NotReady(f) => return Err(f),
        }
    }
}

/// libpq's TLS negotiation on a TCP connection, per `sslmode`.
/// `None`: the server answered with an error, so it is up.
fn negotiate_tls(
    mut tcp: TcpStream,
    host: &Host,
    settings: &Settings,
) -> Result<Option<Stream>, Failure> {
    let mode = settings.sslmode;
    if matches!(mode, SslMode::Disable | SslMode::Allow) {
        return Ok(Some(Stream::Tcp(tcp)));
    }
    let mut req = 8u32.to_be_bytes().to_vec();
    req.extend_from_slice(&SSL_REQUEST.to_be_bytes());
    tcp.write_all(&req)
        .map_err(|e| io_failure("sending the SSLRequest", &e))?;
    let mut answer = [0u8; 1];
    tcp.read_exact(&mut answer)
        .map_err(|e| io_failure("reading the SSLRequest answer", &e))?;
    match answer[0] {
        b'S' => {}
        b'N' if mode == SslMode::Prefer => return Ok(Some(Stream::Tcp(tcp))),
        b'N' => {
            return Err(Failure::fatal(
                Exit::Config,
                format!(
                    "server does not support TLS, but sslmode={} requires it",
                    mode.as_str()
                ),
                "The server does not offer TLS: enable ssl on the server or use sslmode=prefer",
            ))
        }
        // A server that answers the SSLRequest with an error: it is up.
        // An error instead (a server without TLS support): it is up.
        b'E' => return Ok(None),
        other => {
            return Err(Failure::io(format!(
                "unexpected answer {:?} to the SSLRequest: not a PostgreSQL server?",
                other as char
            )))
        }
    }
    let connector = tls_connector(settings)
        .map_err(|e| Failure::fatal(Exit::Config, e, "Check sslrootcert, sslcert and sslkey"))?;
    let mut cfg = connector
        .configure()
        .map_err(|e| Failure::io(format!("TLS setup failed: {e}")))?;
    cfg.set_verify_hostname(mode == SslMode::VerifyFull);
    let name = host.hostaddr.as_deref().unwrap_or(&host.host).to_string();
    match cfg.connect(&name, tcp) {
        Ok(s) => Ok(Some(Stream::Tls(Box::new(s)))),
        Err(e) => {
            let text = e.to_string();
            if text.contains("certificate") || text.contains("verify") {
                Err(Failure::fatal(
                    Exit::Config,
                    format!("TLS: {text}"),
                    "Check sslrootcert and the server certificate's host name (sslmode=verify-ca/verify-full)",
                ))
            } else {
                Err(Failure::io(format!("TLS handshake failed: {text}")))
            }
        }
    }
}

/// The client TLS settings for the ping: no verification for prefer and
/// require (unless a root certificate file exists, as libpq), the chain for
/// verify-ca, chain and host name for verify-full; a client certificate when
/// one is set.
fn tls_connector(settings: &Settings) -> Result<SslConnector, String> {
    let mut b = SslConnector::builder(SslMethod::tls_client()).map_err(|e| e.to_string())?;
    let root = settings.sslrootcert.as_deref();
    let verify = match settings.sslmode {
        SslMode::VerifyCa | SslMode::VerifyFull => true,
        SslMode::Require => root.is_some_and(|p| p != "system" && std::path::Path::new(p).exists()),
        _ => false,
    };
    if verify {
        match root {
            Some("system") => b.set_default_verify_paths().map_err(|e| e.to_string())?,
            Some(path) => b
                .set_ca_file(path)
                .map_err(|e| format!("cannot read root certificate file {path:?}: {e}"))?,
            None => {
                return Err(
                    "sslmode verify-ca/verify-full needs a root certificate: set sslrootcert (a file, or system)"
                        .into(),
                )
            }
        }
        b.set_verify(SslVerifyMode::PEER);
    } else {
        b.set_verify(SslVerifyMode::NONE);
    }
    if let (Some(cert), Some(key)) = (&settings.sslcert, &settings.sslkey) {
        b.set_certificate_chain_file(cert)
            .map_err(|e| format!("cannot read sslcert {cert:?}: {e}"))?;
        b.set_private_key_file(key, SslFiletype::PEM)
            .map_err(|e| format!("cannot read sslkey {key:?}: {e}"))?;
    }
    Ok(b.build())
}

/// An I/O error as libpq words it: "Connection refused", without Rust's
/// " (os error 111)".
pub(crate) fn os_text(e: &io::Error) -> String {
    let t = e.to_string();
    match t.find(" (os error ") {
        Some(i) => t[..i].to_string(),
        None => t,
    }
}

fn io_failure(what: &str, e: &io::Error) -> Failure {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => Failure::retry(
            format!("timeout {what}"),
            "Check the host is reachable (firewall, security group) or raise --connect-timeout (PGCONNECT_TIMEOUT)",
        ),
        io::ErrorKind::UnexpectedEof => Failure::io(format!(
            "the server closed the connection while {what}"
        )),
        _ => Failure::io(format!("{what} failed: {}", os_text(e))),
    }
}

/// A v3 StartupMessage.
pub(crate) fn startup_message(user: &str, database: &str, app: Option<&str>) -> Vec<u8> {
    let mut body = PROTOCOL_V3.to_be_bytes().to_vec();
    let mut param = |k: &str, v: &str| {
        body.extend_from_slice(k.as_bytes());
        body.push(0);
        body.extend_from_slice(v.as_bytes());
        body.push(0);
    };
    param("user", user);
    param("database", database);
    if let Some(a) = app {
        param("application_name", a);
    }
    body.push(0);
    let mut msg = ((body.len() + 4) as u32).to_be_bytes().to_vec();
    msg.extend_from_slice(&body);
    msg
}

/// Reads one backend message: its tag and body.
pub(crate) fn read_message(r: &mut impl Read) -> io::Result<(u8, Vec<u8>)> {
    let mut head = [0u8; 5];
    r.read_exact(&mut head)?;
    let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
    if !(4..=1 << 20).contains(&len) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("invalid message length {len}: not a PostgreSQL server?"),
        ));
    }
    let mut body = vec![0u8; len - 4];
    r.read_exact(&mut body)?;
    Ok((head[0], body))
}

/// What a reply means for the ping.
#[derive(Debug)]
pub(crate) enum Step {
    /// AuthenticationOk: read on to ReadyForQuery.
    Authenticated,
    /// A message to skip.
    Skip,
    /// The server is up; send a Terminate first when authenticated.
    Up { terminate: bool },
    /// Not ready (57P03) or not a PostgreSQL reply.
    NotReady(Failure),
}

/// Interprets one message of the startup phase.
pub(crate) fn interpret(tag: u8, body: &[u8], authenticated: bool) -> Step {
    match tag {
        b'R' => {
            let code = body
                .get(..4)
                .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
            match code {
                Some(0) => Step::Authenticated,
                Some(_) => Step::Up { terminate: false },
                None => Step::NotReady(Failure::io("malformed authentication message")),
            }
        }
        // ParameterStatus and BackendKeyData after AuthenticationOk; a notice
        // or a protocol negotiation at any time.
        b'S' | b'K' if authenticated => Step::Skip,
        b'N' | b'v' => Step::Skip,
        b'Z' if authenticated => Step::Up { terminate: true },
        b'E' => {
            let e = ErrorFields::parse(body);
            if e.code == "57P03" {
                Step::NotReady(
                    Failure::retry(
                        e.message,
                        "The server is starting up, shutting down or not yet consistent; wait for it",
                    )
                    .sqlstate(e.code),
                )
            } else {
                // Any other error (no such role, wrong database, too many
                // connections): the server is up and answering, as PQping says.
                Step::Up { terminate: false }
            }
        }
        other => Step::NotReady(Failure::io(format!(
            "unexpected reply {:?} to the startup message: not a PostgreSQL server?",
            other as char
        ))),
    }
}

/// The fields of an ErrorResponse that matter here.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct ErrorFields {
    pub severity: String,
    pub code: String,
    pub message: String,
}

impl ErrorFields {
    /// Parses an ErrorResponse body: (type byte, C string)* then a zero.
    pub(crate) fn parse(body: &[u8]) -> ErrorFields {
        let mut out = ErrorFields::default();
        let mut rest = body;
        while let Some((&kind, tail)) = rest.split_first() {
            if kind == 0 {
                break;
            }
            let end = tail.iter().position(|&b| b == 0).unwrap_or(tail.len());
            let value = String::from_utf8_lossy(&tail[..end]).into_owned();
            match kind {
                b'S' => out.severity = value,
                b'C' => out.code = value,
                b'M' => out.message = value,
                _ => {}
            }
            rest = tail.get(end + 1..).unwrap_or(&[]);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_body(fields: &[(u8, &str)]) -> Vec<u8> {
        let mut b = Vec::new();
        for (k, v) in fields {
            b.push(*k);
            b.extend_from_slice(v.as_bytes());
            b.push(0);
        }
        b.push(0);
        b
    }

    #[test]
    fn startup_message_layout() {
        let m = startup_message("app", "db", Some("pg-wait"));
        let len = u32::from_be_bytes([m[0], m[1], m[2], m[3]]) as usize;
        assert_eq!(len, m.len());
        assert_eq!(u32::from_be_bytes([m[4], m[5], m[6], m[7]]), 196_608);
        let rest = &m[8..];
        assert_eq!(
            rest,
            b"user\0app\0database\0db\0application_name\0pg-wait\0\0".as_slice()
        );
    }

    #[test]
    fn reads_messages_and_rejects_garbage() {
        let mut data: &[u8] = &[b'R', 0, 0, 0, 12, 0, 0, 0, 10, 1, 2, 3, 4];
        let (tag, body) = read_message(&mut data).unwrap_or((0, vec![]));
        assert_eq!(tag, b'R');
        assert_eq!(body, vec![0, 0, 0, 10, 1, 2, 3, 4]);
        // An HTTP server, say.
        let mut data: &[u8] = b"HTTP/1.1 400 Bad Request\r\n";
        assert!(read_message(&mut data).is_err());
        let mut short: &[u8] = &[b'R', 0, 0];
        assert!(read_message(&mut short).is_err());
    }

    #[test]
    fn auth_requests_mean_up_without_terminate() {
        // SASL (10), MD5 (5), cleartext (3).
        for code in [10u32, 5, 3] {
            let step = interpret(b'R', &code.to_be_bytes(), false);
            assert!(matches!(step, Step::Up { terminate: false }), "{code}");
        }
    }

    #[test]
    fn trust_reads_to_ready_for_query_then_terminates() {
        assert!(matches!(
            interpret(b'R', &[0, 0, 0, 0], false),
            Step::Authenticated
        ));
        assert!(matches!(interpret(b'S', b"a\0b\0", true), Step::Skip));
        assert!(matches!(interpret(b'K', &[0; 8], true), Step::Skip));
        assert!(matches!(interpret(b'N', b"\0", false), Step::Skip));
        assert!(matches!(
            interpret(b'S', b"a\0b\0", false),
            Step::NotReady(_)
        ));
        assert!(matches!(
            interpret(b'Z', b"I", true),
            Step::Up { terminate: true }
        ));
    }

    #[test]
    fn starting_up_is_not_ready_other_errors_are_up() {
        let b = error_body(&[
            (b'S', "FATAL"),
            (b'C', "57P03"),
            (b'M', "the database system is starting up"),
        ]);
        match interpret(b'E', &b, false) {
            Step::NotReady(f) => {
                assert!(f.retryable());
                assert_eq!(f.sqlstate.as_deref(), Some("57P03"));
                assert_eq!(f.error, "the database system is starting up");
            }
            other => unreachable!("{other:?}"),
        }
        for code in ["28000", "28P01", "3D000", "53300"] {
            let b = error_body(&[(b'S', "FATAL"), (b'C', code), (b'M', "x")]);
            assert!(
                matches!(interpret(b'E', &b, false), Step::Up { terminate: false }),
                "{code}"
            );
        }
    }

    #[test]
    fn parses_error_fields() {
        let b = error_body(&[
            (b'S', "FATAL"),
            (b'V', "FATAL"),
            (b'C', "28P01"),
            (b'M', "password authentication failed for user \"x\""),
            (b'R', "auth_failed"),
        ]);
        let e = ErrorFields::parse(&b);
        assert_eq!(e.severity, "FATAL");
        assert_eq!(e.code, "28P01");
        assert!(e.message.starts_with("password authentication failed"));
        assert_eq!(ErrorFields::parse(&[]), ErrorFields::default());
        // Truncated: no panic, what is there is kept.
        assert_eq!(ErrorFields::parse(b"C57P0").code, "57P0");
    }

    #[test]
    fn unexpected_replies_are_not_ready() {
        assert!(matches!(interpret(b'H', &[], false), Step::NotReady(_)));
        assert!(matches!(interpret(b'Z', b"I", false), Step::NotReady(_)));
        assert!(matches!(interpret(b'R', &[0], false), Step::NotReady(_)));
    }

    #[test]
    fn os_errors_are_worded_as_libpq() {
        let e = io::Error::from_raw_os_error(111);
        assert_eq!(os_text(&e), "Connection refused");
    }

    #[test]
    fn socket_path_is_libpqs() {
        assert_eq!(
            socket_path("/tmp", 5432),
            PathBuf::from("/tmp/.s.PGSQL.5432")
        );
    }
}
