//! Opening a connection as libpq's `PQconnectPoll` does: each host in order,
//! each of its addresses in order, TLS per `sslmode` (with libpq's `allow`
//! and `prefer` retries), the password from `.pgpass` per host,
//! `connect_timeout` per address, and `target_session_attrs` checked on the
//! session itself.

use super::error::{classify, ConnectError, ErrorKind};
use super::peer::PeerError;
use super::settings::{Host, Settings, SslMode, TargetSessionAttrs};
use super::tls::Tracked;
use crate::interrupt::{self, HookGuard};
use crate::redact;
use postgres::config::SslMode as PgSslMode;
use postgres::tls::{MakeTlsConnect, TlsConnect};
use postgres::Socket;
use std::net::{IpAddr, ToSocketAddrs};
use std::time::{Duration, Instant};

/// libpq's requirepeer failure; it ends the whole connection attempt, as
/// in libpq (no further host is tried).
const REQUIREPEER_MISMATCH: &str = "requirepeer specifies";

/// The synchronous client every tool uses.
pub type Client = postgres::Client;

/// Where one attempt goes.
struct Target<'a> {
    host: &'a Host,
    /// The address to connect to (TCP), `None` for a unix socket.
    ip: Option<IpAddr>,
}

impl Target<'_> {
    /// libpq's "connection to server ..." prefix.
    fn describe(&self) -> String {
        let h = self.host;
        match self.ip {
            None => format!(
                "connection to server on socket \"{}/.s.PGSQL.{}\" failed",
                h.host.trim_end_matches('/'),
                h.port
            ),
            Some(ip) if h.host.is_empty() || h.host == ip.to_string() => {
                format!("connection to server at \"{ip}\", port {} failed", h.port)
            }
            Some(ip) => format!(
                "connection to server at \"{}\" ({ip}), port {} failed",
                h.host, h.port
            ),
        }
    }
}

impl Settings {
    /// Connects to the first host (and address) that accepts and matches
    /// `target_session_attrs`, as libpq does.
    pub fn connect(&self) -> Result<Client, ConnectError> {
        let passes: &[TargetSessionAttrs] = match self.target_session_attrs {
            // libpq: look for a standby first, then take any server.
            TargetSessionAttrs::PreferStandby => {
                &[TargetSessionAttrs::Standby, TargetSessionAttrs::Any]
            }
            TargetSessionAttrs::Any => &[TargetSessionAttrs::Any],
            TargetSessionAttrs::ReadWrite => &[TargetSessionAttrs::ReadWrite],
            TargetSessionAttrs::ReadOnly => &[TargetSessionAttrs::ReadOnly],
            TargetSessionAttrs::Primary => &[TargetSessionAttrs::Primary],
            TargetSessionAttrs::Standby => &[TargetSessionAttrs::Standby],
        };
        let mut errors: Vec<ConnectError> = Vec::new();
        for want in passes {
            for host in &self.hosts {
                match self.connect_host(host, *want) {
                    Ok(c) => return Ok(c),
                    Err(mut e) => {
                        let stop = e.iter().any(|e| e.message.contains(REQUIREPEER_MISMATCH));
                        errors.append(&mut e);
                        if stop {
                            return Err(combine(errors, self));
                        }
                    }
                }
            }
        }
        Err(combine(errors, self))
    }

    /// Every address of one host; the errors of all attempts on failure.
    fn connect_host(
        &self,
        host: &Host,
        want: TargetSessionAttrs,
    ) -> Result<Client, Vec<ConnectError>> {
        if host.is_socket() {
            return self
                .connect_target(&Target { host, ip: None }, want)
                .map_err(|e| vec![e]);
        }
        let ips: Vec<IpAddr> = match &host.hostaddr {
            Some(a) => match a.parse() {
                Ok(ip) => vec![ip],
                Err(_) => {
                    return Err(vec![self.error(
                        ErrorKind::Other,
                        format!("could not parse network address \"{a}\""),
                    )])
                }
            },
            None => match (host.host.as_str(), host.port).to_socket_addrs() {
                Ok(addrs) => {
                    let mut v: Vec<IpAddr> = Vec::new();
                    for a in addrs {
                        if !v.contains(&a.ip()) {
                            v.push(a.ip());
                        }
                    }
                    v
                }
                Err(e) => {
                    return Err(vec![self.error(
                        ErrorKind::Dns,
                        format!(
                            "could not translate host name \"{}\" to address: {}",
                            host.host,
                            dns_text(&e)
                        ),
                    )])
                }
            },
        };
        if ips.is_empty() {
            return Err(vec![self.error(
                ErrorKind::Dns,
                format!(
                    "could not translate host name \"{}\" to address: no addresses",
                    host.host
                ),
            )]);
        }
        let mut errors = Vec::new();
        for ip in ips {
            match self.connect_target(&Target { host, ip: Some(ip) }, want) {
                Ok(c) => return Ok(c),
                Err(e) => errors.push(e),
            }
        }
        Err(errors)
    }

    /// One address: the TLS attempts `sslmode` calls for, within one
    /// `connect_timeout`, then the `target_session_attrs` check.
    fn connect_target(
        &self,
        t: &Target<'_>,
        want: TargetSessionAttrs,
    ) -> Result<Client, ConnectError> {
        // libpq: a timeout of 0 (or less) waits indefinitely.
        let deadline = self
            .connect_timeout
            .filter(|d| !d.is_zero())
            .map(|d| Instant::now() + d);
        if t.ip.is_none() {
            self.check_peer(t, deadline)?;
        }
        let (password, from_file) = self.password_for(t.host);
        // libpq never uses TLS over a unix socket, whatever the sslmode.
        let mode = if t.ip.is_none() {
            SslMode::Disable
        } else {
            self.sslmode
        };
        let attempt = |pg: PgSslMode| -> Result<Client, (ConnectError, bool)> {
            let cfg = self.pg_config(t, pg, password.as_deref(), deadline);
            // A plain connection never builds an OpenSSL context: that loads
            // the CA bundle, which costs a HEALTHCHECK probe most of its time.
            let (result, used) = if matches!(pg, PgSslMode::Disable) {
                (run(cfg, postgres::NoTls, deadline), false)
            } else {
                let tls = match Tracked::for_mode(self, mode) {
                    Ok(tls) => tls,
                    // Marked as a TLS attempt: prefer then goes on without TLS,
                    // as libpq does when its TLS setup fails.
                    Err(why) => return Err((self.fail(t, ErrorKind::Tls, None, &why), true)),
                };
                (run(cfg, tls.clone(), deadline), tls.was_used())
            };
            result.map_err(|e| {
                let mut ce = match e {
                    Failure::Timeout => self.fail(t, ErrorKind::Timeout, None, "timeout expired"),
                    Failure::Lost => self.fail(
                        t,
                        ErrorKind::Other,
                        None,
                        "the connection attempt ended without an answer",
                    ),
                    Failure::Interrupted => {
                        self.fail(t, ErrorKind::Other, None, "interrupted by a signal")
                    }
                    Failure::Pg(e) => {
                        let mut ce = classify(&e, self, mode);
                        ce.message = format!("{}: {}", t.describe(), ce.message);
                        ce
                    }
                };
                if from_file && ce.sqlstate.as_deref() == Some("28P01") {
                    if let Some(f) = &self.passfile {
                        ce.message.push_str(&format!(
                            " (password retrieved from file \"{}\")",
                            f.display()
                        ));
                    }
                }
                (ce, used)
            })
        };
        let client = match mode {
            SslMode::Disable => attempt(PgSslMode::Disable).map_err(|(e, _)| e),
            // allow: plain first; if the server rejects it, retry with TLS.
            SslMode::Allow => match attempt(PgSslMode::Disable) {
                Ok(c) => Ok(c),
                Err((e, _)) if e.sqlstate.is_some() && !expired(deadline) => {
                    attempt(PgSslMode::Require).map_err(|(e2, _)| join(e, e2))
                }
                Err((e, _)) => Err(e),
            },
            // prefer: TLS when the server offers it; if TLS or the server
            // fails us over TLS, retry once without.
            SslMode::Prefer => match attempt(PgSslMode::Prefer) {
                Ok(c) => Ok(c),
                Err((e, true))
                    if !matches!(e.kind, ErrorKind::Timeout | ErrorKind::Refused)
                        && !expired(deadline) =>
                {
                    attempt(PgSslMode::Disable).map_err(|(e2, _)| join(e, e2))
                }
                Err((e, _)) => Err(e),
            },
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => {
                if mode == SslMode::VerifyFull && t.host.host.is_empty() {
                    return Err(self.fail(
                        t,
                        ErrorKind::Tls,
                        None,
                        "host name must be specified for a verified SSL connection",
                    ));
                }
                attempt(PgSslMode::Require).map_err(|(e, _)| e)
            }
        }?;
        self.check_session(client, t, want)
    }

    /// libpq's `requirepeer` on a unix socket: the server must run as that
    /// OS user (see `peer.rs` for how it is checked).
    /// Bounded by `deadline` and by signals as the connection itself is (a
    /// hung server's full backlog blocks a unix-socket connect).
    fn check_peer(&self, t: &Target<'_>, deadline: Option<Instant>) -> Result<(), ConnectError> {
        let Some(want) = self.knobs.requirepeer.as_deref() else {
            return Ok(());
        };
        let (dir, port) = (t.host.host.clone(), t.host.port);
        let (tx, rx) = std::sync::mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name("pgkit-requirepeer".into())
            .spawn(move || {
                let _ = tx.send(super::peer::peer_user(&dir, port));
            });
        if spawned.is_err() {
            return Err(self.fail(t, ErrorKind::Other, None, "cannot start a thread"));
        }
        let got = loop {
            let step = Duration::from_millis(50);
            let wait = match deadline {
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(self.fail(t, ErrorKind::Timeout, None, "timeout expired"));
                    }
                    left.min(step)
                }
                None => step,
            };
            match rx.recv_timeout(wait) {
                Ok(r) => break r,
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(self.fail(
                        t,
                        ErrorKind::Other,
                        None,
                        "the peer check ended without an answer",
                    ))
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    if interrupt::received().is_some() {
                        return Err(self.fail(
                            t,
                            ErrorKind::Other,
                            None,
                            "interrupted by a signal",
                        ));
                    }
                }
            }
        };
        match got {
            Ok(got) if got == want => Ok(()),
            Ok(got) => Err(self.fail(
                t,
                ErrorKind::Server,
                None,
                &format!(
                    "{REQUIREPEER_MISMATCH} \"{want}\", but actual peer user name is \"{got}\""
                ),
            )),
            Err(PeerError::Connect(e)) => {
                let kind = match e.kind() {
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused => {
                        ErrorKind::Refused
                    }
                    _ => ErrorKind::Io,
                };
                Err(self.fail(t, kind, None, &super::peer::strip_os_error(&e)))
            }
            Err(PeerError::Check(why)) => Err(self.fail(t, ErrorKind::Server, None, &why)),
        }
    }

    fn pg_config(
        &self,
        t: &Target<'_>,
        pg: PgSslMode,
        password: Option<&str>,
        deadline: Option<Instant>,
    ) -> postgres::Config {
        let mut cfg = postgres::Config::new();
        match t.ip {
            None => {
                cfg.host_path(&t.host.host);
            }
            Some(ip) => {
                // The name is what TLS verifies; the address is where we go.
                let name = if t.host.host.is_empty() {
                    ip.to_string()
                } else {
                    t.host.host.clone()
                };
                cfg.host(&name).hostaddr(ip);
            }
        }
        cfg.port(t.host.port)
            .user(&self.user)
            .dbname(&self.dbname)
            .ssl_mode(pg)
            .channel_binding(self.channel_binding);
        if let Some(p) = password {
            cfg.password(p);
        }
        if let Some(a) = &self.application_name {
            cfg.application_name(a);
        }
        if let Some(o) = &self.options {
            cfg.options(o);
        }
        let k = &self.knobs;
        if let Some(on) = k.keepalives {
            cfg.keepalives(on);
        }
        if let Some(d) = k.keepalives_idle {
            cfg.keepalives_idle(d);
        }
        if let Some(d) = k.keepalives_interval {
            cfg.keepalives_interval(d);
        }
        if let Some(n) = k.keepalives_count {
            cfg.keepalives_retries(n);
        }
        if let Some(d) = k.tcp_user_timeout {
            cfg.tcp_user_timeout(d);
        }
        if let Some(d) = deadline {
            cfg.connect_timeout(
                d.saturating_duration_since(Instant::now())
                    .max(Duration::from_millis(1)),
            );
        }
        cfg
    }

    /// libpq's `target_session_attrs` check on the new session.
    fn check_session(
        &self,
        mut client: Client,
        t: &Target<'_>,
        want: TargetSessionAttrs,
    ) -> Result<Client, ConnectError> {
        if want == TargetSessionAttrs::Any {
            return Ok(client);
        }
        let rows = client
            .simple_query(
                "SELECT pg_catalog.current_setting('transaction_read_only'), \
                 pg_catalog.pg_is_in_recovery()::text",
            )
            .map_err(|e| classify(&e, self, self.sslmode))?;
        let row = rows.iter().find_map(|m| match m {
            postgres::SimpleQueryMessage::Row(r) => Some(r),
            _ => None,
        });
        let read_only = row.and_then(|r| r.get(0)) == Some("on");
        let recovery = row.and_then(|r| r.get(1)) == Some("true");
        let wrong = match want {
            TargetSessionAttrs::ReadWrite if read_only => Some("session is read-only"),
            TargetSessionAttrs::ReadOnly if !read_only => Some("session is not read-only"),
            TargetSessionAttrs::Primary if recovery => Some("server is in hot standby mode"),
            TargetSessionAttrs::Standby if !recovery => Some("server is not in hot standby mode"),
            _ => None,
        };
        match wrong {
            None => Ok(client),
            Some(why) => Err(self.fail(t, ErrorKind::Server, None, why)),
        }
    }

    fn fail(
        &self,
        t: &Target<'_>,
        kind: ErrorKind,
        sqlstate: Option<String>,
        why: &str,
    ) -> ConnectError {
        ConnectError {
            kind,
            sqlstate,
            message: redact::scrub(&format!("{}: {why}", t.describe())),
            target: self.redacted(),
        }
    }

    fn error(&self, kind: ErrorKind, message: String) -> ConnectError {
        ConnectError {
            kind,
            sqlstate: None,
            message: redact::scrub(&message),
            target: self.redacted(),
        }
    }
}

fn expired(deadline: Option<Instant>) -> bool {
    deadline.is_some_and(|d| Instant::now() >= d)
}

/// Two failed attempts on one address: the second's class, both messages.
fn join(first: ConnectError, mut second: ConnectError) -> ConnectError {
    // A server without TLS answering a retry tells less than the first error.
    if second.kind == ErrorKind::TlsUnsupported {
        return first;
    }
    second.message = format!("{}; {}", first.message, second.message);
    second
}

/// All failures: the last one's class, every message (as libpq lists them).
fn combine(errors: Vec<ConnectError>, s: &Settings) -> ConnectError {
    let mut iter = errors.into_iter();
    let Some(mut last) = iter.next() else {
        return s.error(ErrorKind::Other, "no host to connect to".into());
    };
    for e in iter {
        let msg = format!("{}; {}", last.message, e.message);
        last = e;
        last.message = msg;
    }
    last
}

fn dns_text(e: &std::io::Error) -> String {
    let t = e.to_string();
    t.strip_prefix("failed to lookup address information: ")
        .unwrap_or(&t)
        .to_string()
}

enum Failure {
    Pg(postgres::Error),
    Timeout,
    Interrupted,
    /// The helper thread could not start or ended without an answer.
    Lost,
}

/// Connects on a helper thread, bounded by `deadline` as a whole (TCP, TLS,
/// authentication) and by SIGINT/SIGTERM: past either the attempt is
/// abandoned, as libpq gives up at its timeout.
fn run<T>(cfg: postgres::Config, tls: T, deadline: Option<Instant>) -> Result<Client, Failure>
where
    T: MakeTlsConnect<Socket> + Send + 'static,
    T::TlsConnect: Send,
    T::Stream: Send + Sync,
    <T::TlsConnect as TlsConnect<Socket>>::Future: Send,
{
    if interrupt::received().is_some() {
        return Err(Failure::Interrupted);
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("pgkit-connect".into())
        .spawn(move || {
            let _ = tx.send(cfg.connect(tls));
        });
    if spawned.is_err() {
        return Err(Failure::Lost);
    }
    loop {
        let step = Duration::from_millis(50);
        let wait = match deadline {
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(Failure::Timeout);
                }
                left.min(step)
            }
            None => step,
        };
        match rx.recv_timeout(wait) {
            Ok(r) => return r.map_err(Failure::Pg),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return Err(Failure::Lost),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                if interrupt::received().is_some() {
                    return Err(Failure::Interrupted);
                }
            }
        }
    }
}

/// Cancels the client's running query on the server when SIGINT or SIGTERM
/// arrives, for as long as the guard lives.
pub fn cancel_on_signal(settings: &Settings, client: &Client) -> HookGuard {
    let token = client.cancel_token();
    let settings = settings.clone();
    interrupt::on_signal(move || {
        let mode = settings.sslmode;
        match settings.tls_connector(mode) {
            Ok(tls) => {
                let _ = token.cancel_query(tls);
            }
            Err(_) => {
                let _ = token.cancel_query(postgres::NoTls);
            }
        }
    })
}
