//! Opening a connection: one host at a time, in order, TLS per `sslmode`.

use super::error::{ConnectError, ErrorKind};
use super::settings::{Host, Settings, SslMode, TargetSessionAttrs};
use crate::interrupt::{self, HookGuard};
use crate::redact;
use openssl::ssl::{SslConnector, SslMethod, SslVerifyMode};
use postgres::config::SslMode as PgSslMode;
use postgres_openssl::MakeTlsConnector;

/// The synchronous client every tool uses.
pub type Client = postgres::Client;

impl Settings {
    /// Connects to the first host that accepts, as libpq does.
    pub fn connect(&self) -> Result<Client, ConnectError> {
        let mut last = None;
        for host in &self.hosts {
            match self.connect_host(host) {
                Ok(c) => return Ok(c),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| ConnectError {
            kind: ErrorKind::Other,
            sqlstate: None,
            message: "no host to connect to".into(),
            target: self.redacted(),
        }))
    }

    fn connect_host(&self, host: &Host) -> Result<Client, ConnectError> {
        let mut cfg = postgres::Config::new();
        if host.is_socket() {
            cfg.host_path(&host.host);
        } else {
            cfg.host(&host.host);
            if let Some(a) = &host.hostaddr {
                if let Ok(ip) = a.parse() {
                    cfg.hostaddr(ip);
                }
            }
        }
        cfg.port(host.port).user(&self.user).dbname(&self.dbname);
        if let Some(p) = &self.password {
            cfg.password(p);
        }
        if let Some(a) = &self.application_name {
            cfg.application_name(a);
        }
        if let Some(o) = &self.options {
            cfg.options(o);
        }
        if let Some(t) = self.connect_timeout {
            cfg.connect_timeout(t);
        }
        if self.target_session_attrs == TargetSessionAttrs::ReadWrite {
            cfg.target_session_attrs(postgres::config::TargetSessionAttrs::ReadWrite);
        }
        // libpq never uses TLS over a unix socket, whatever the sslmode.
        let mode = if host.is_socket() {
            SslMode::Disable
        } else {
            self.sslmode
        };
        let attempt = |cfg: &mut postgres::Config, pg_mode: PgSslMode| {
            cfg.ssl_mode(pg_mode);
            let tls = self.tls_connector(mode).map_err(|e| ConnectError {
                kind: ErrorKind::Tls,
                sqlstate: None,
                message: redact::scrub(&e),
                target: self.redacted(),
            })?;
            cfg.connect(tls).map_err(|e| classify(&e, self, mode))
        };
        match mode {
            SslMode::Disable => attempt(&mut cfg, PgSslMode::Disable),
            SslMode::Allow => attempt(&mut cfg, PgSslMode::Disable)
                .or_else(|_| attempt(&mut cfg, PgSslMode::Require)),
            SslMode::Prefer => attempt(&mut cfg, PgSslMode::Prefer),
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => {
                attempt(&mut cfg, PgSslMode::Require)
            }
        }
    }

    /// The TLS connector for a mode: no verification for prefer/require (as
    /// libpq, unless a root certificate file is given), the chain for
    /// verify-ca, chain and host name for verify-full.
    pub(crate) fn tls_connector(&self, mode: SslMode) -> Result<MakeTlsConnector, String> {
        let mut b = SslConnector::builder(SslMethod::tls_client()).map_err(|e| e.to_string())?;
        let verify_chain = match mode {
            SslMode::VerifyCa | SslMode::VerifyFull => true,
            // libpq: with sslmode=require, an existing root cert file makes it verify-ca.
            SslMode::Require => self
                .sslrootcert
                .as_deref()
                .is_some_and(|p| p != "system" && std::path::Path::new(p).exists()),
            _ => false,
        };
        if verify_chain {
            match self.sslrootcert.as_deref() {
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
        if let (Some(cert), Some(key)) = (&self.sslcert, &self.sslkey) {
            b.set_certificate_chain_file(cert)
                .map_err(|e| e.to_string())?;
            b.set_private_key_file(key, openssl::ssl::SslFiletype::PEM)
                .map_err(|e| e.to_string())?;
        }
        let mut tls = MakeTlsConnector::new(b.build());
        let verify_host = mode == SslMode::VerifyFull;
        tls.set_callback(move |c, _domain| {
            c.set_verify_hostname(verify_host);
            Ok(())
        });
        Ok(tls)
    }
}

/// Classifies a connection error.
pub(crate) fn classify(e: &postgres::Error, s: &Settings, mode: SslMode) -> ConnectError {
    let message = redact::scrub(&error_text(e));
    let target = s.redacted();
    if let Some(db) = e.as_db_error() {
        let code = db.code().code().to_string();
        let kind = match code.as_str() {
            "28P01" => ErrorKind::Auth,
            "28000" if mode == SslMode::Disable && db.message().contains("no encryption") => {
                ErrorKind::TlsRequired
            }
            "28000" => ErrorKind::Auth,
            "3D000" => ErrorKind::NoDatabase,
            "57P03" => ErrorKind::StartingUp,
            "53300" => ErrorKind::TooManyConnections,
            _ => ErrorKind::Server,
        };
        return ConnectError {
            kind,
            sqlstate: Some(code),
            message,
            target,
        };
    }
    let lower = message.to_ascii_lowercase();
    let io_kind = io_error_kind(e);
    let kind = if lower.contains("server does not support tls")
        || lower.contains("server does not support ssl")
    {
        ErrorKind::TlsUnsupported
    } else if lower.contains("certificate") || lower.contains("ssl") || lower.contains("tls") {
        ErrorKind::Tls
    } else if lower.contains("timeout") || lower.contains("timed out") {
        ErrorKind::Timeout
    } else if lower.contains("lookup address") || lower.contains("name or service not known") {
        ErrorKind::Dns
    } else {
        match io_kind {
            Some(std::io::ErrorKind::ConnectionRefused) | Some(std::io::ErrorKind::NotFound) => {
                ErrorKind::Refused
            }
            Some(std::io::ErrorKind::TimedOut) => ErrorKind::Timeout,
            Some(_) => ErrorKind::Io,
            None if lower.contains("closed") || lower.contains("unexpected eof") => ErrorKind::Io,
            None => ErrorKind::Other,
        }
    };
    ConnectError {
        kind,
        sqlstate: None,
        message,
        target,
    }
}

/// The error text with its causes, as one line.
fn error_text(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return db.message().to_string();
    }
    let mut text = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        let t = s.to_string();
        if !text.contains(&t) {
            text.push_str(": ");
            text.push_str(&t);
        }
        src = s.source();
    }
    text
}

fn io_error_kind(e: &postgres::Error) -> Option<std::io::ErrorKind> {
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return Some(io.kind());
        }
        src = s.source();
    }
    None
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
