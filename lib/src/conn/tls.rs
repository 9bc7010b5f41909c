//! TLS as libpq 15 sets it up (fe-secure-openssl.c, `initialize_SSL`),
//! through OpenSSL (`postgres-openssl`, the same library libpq links):
//!
//! - the root certificate is `sslrootcert`, else `~/.postgresql/root.crt`;
//!   when that file exists the server's chain is verified in every mode that
//!   uses TLS (so `require` behaves as `verify-ca`, as libpq); when it does
//!   not, `verify-ca`/`verify-full` fail and the other modes do not verify;
//! - `sslrootcert=system` uses the system's trusted roots (libpq 16);
//! - `verify-full` also checks the host name (SAN, then CN) against `host`;
//! - a client certificate is `sslcert`, else `~/.postgresql/postgresql.crt`,
//!   used when the file exists, with its key `sslkey`, else
//!   `~/.postgresql/postgresql.key`, which must not be group/world readable,
//!   decrypted with `sslpassword` when it is encrypted (never a prompt);
//! - with a root certificate file, the CRLs of `sslcrl` and/or `sslcrldir`
//!   (else `~/.postgresql/root.crl`) are checked along the whole chain when
//!   they load (a missing CRL file is ignored, as libpq does).

use super::settings::{Settings, SslMode};
use openssl::pkey::{PKey, Private};
use openssl::ssl::{SslConnector, SslConnectorBuilder, SslFiletype, SslMethod, SslVerifyMode};
use openssl::x509::store::X509Lookup;
use openssl::x509::verify::X509VerifyFlags;
use postgres::tls::{MakeTlsConnect, TlsConnect};
use postgres::Socket;
use postgres_openssl::MakeTlsConnector;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Where the root certificates come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RootCert {
    /// The system's trusted roots.
    System,
    /// A file that exists.
    File(PathBuf),
    /// No file (the path libpq looked at, if any).
    Missing(Option<PathBuf>),
}

impl Settings {
    /// The root certificate per libpq's rules.
    pub(crate) fn root_cert(&self) -> RootCert {
        let path = match self.sslrootcert.as_deref() {
            Some("system") => return RootCert::System,
            Some(p) => Some(PathBuf::from(p)),
            None => self
                .home
                .as_ref()
                .map(|h| h.join(".postgresql").join("root.crt")),
        };
        match path {
            Some(p) if p.exists() => RootCert::File(p),
            other => RootCert::Missing(other),
        }
    }

    pub(crate) fn client_cert(&self) -> Option<(PathBuf, PathBuf)> {
        let dir = self.home.as_ref().map(|h| h.join(".postgresql"));
        let cert = self
            .sslcert
            .as_ref()
            .map(PathBuf::from)
            .or_else(|| dir.as_ref().map(|d| d.join("postgresql.crt")))?;
        if !cert.exists() {
            return None;
        }
        let key = self
            .sslkey
            .as_ref()
            .map(PathBuf::from)
            .or_else(|| dir.as_ref().map(|d| d.join("postgresql.key")))
            .unwrap_or_default();
        Some((cert, key))
    }

    /// The TLS connector for a mode, or libpq's error text.
    pub(crate) fn tls_connector(&self, mode: SslMode) -> Result<MakeTlsConnector, String> {
        let ossl = |e: openssl::error::ErrorStack| e.to_string();
        let mut b = SslConnector::builder(SslMethod::tls_client()).map_err(ossl)?;
        b.set_min_proto_version(self.knobs.ssl_min).map_err(ossl)?;
        b.set_max_proto_version(self.knobs.ssl_max).map_err(ossl)?;
        let verify_chain = match self.root_cert() {
            RootCert::System => {
                b.set_default_verify_paths().map_err(ossl)?;
                true
            }
            RootCert::File(p) => {
                b.set_ca_file(&p).map_err(|e| {
                    format!(
                        "could not read root certificate file \"{}\": {e}",
                        p.display()
                    )
                })?;
                self.load_crls(&mut b);
                true
            }
            RootCert::Missing(p) => {
                if matches!(mode, SslMode::VerifyCa | SslMode::VerifyFull) {
                    return Err(match p {
                        Some(p) => format!(
                            "root certificate file \"{}\" does not exist; either provide the file, \
                             use the system's trusted roots with sslrootcert=system, or change \
                             sslmode to disable server certificate verification",
                            p.display()
                        ),
                        None => "could not get home directory to locate root certificate file; \
                                 either provide the file (sslrootcert) or change sslmode"
                            .to_string(),
                    });
                }
                false
            }
        };
        b.set_verify(if verify_chain {
            SslVerifyMode::PEER
        } else {
            SslVerifyMode::NONE
        });
        if let Some((cert, key)) = self.client_cert() {
            check_key_file(&key)?;
            b.set_certificate_chain_file(&cert).map_err(|e| {
                format!(
                    "could not load certificate file \"{}\": {e}",
                    cert.display()
                )
            })?;
            let pkey = self.private_key(&key)?;
            b.set_private_key(&pkey).map_err(|e| {
                format!("could not load private key file \"{}\": {e}", key.display())
            })?;
            b.check_private_key().map_err(|e| {
                format!(
                    "certificate does not match private key file \"{}\": {e}",
                    key.display()
                )
            })?;
        }
        let mut tls = MakeTlsConnector::new(b.build());
        let verify_host = mode == SslMode::VerifyFull;
        let sni = self.knobs.sslsni;
        tls.set_callback(move |c, _domain| {
            c.set_verify_hostname(verify_host);
            c.set_use_server_name_indication(sni);
            Ok(())
        });
        Ok(tls)
    }
}

impl Settings {
    /// The client key (PEM), decrypted with `sslpassword` when it is
    /// encrypted. Unlike libpq without `sslpassword`, OpenSSL is never left
    /// to prompt on the terminal: the tools run unattended.
    fn private_key(&self, key: &Path) -> Result<PKey<Private>, String> {
        let what = || format!("could not load private key file \"{}\"", key.display());
        let pem = std::fs::read(key).map_err(|e| format!("{}: {e}", what()))?;
        let encrypted = pem_is_encrypted(&pem);
        let parsed = match &self.knobs.sslpassword {
            Some(pw) => PKey::private_key_from_pem_passphrase(&pem, pw.expose().as_bytes()),
            None => PKey::private_key_from_pem_callback(&pem, |_| Ok(0)),
        };
        // libpq then tries DER, and reports the PEM error if that fails too.
        let parsed = parsed.or_else(|e| PKey::private_key_from_der(&pem).map_err(|_| e));
        parsed.map_err(|e| {
            // libpq shows OpenSSL's reason only ("bad decrypt").
            let reason = e
                .errors()
                .first()
                .and_then(|x| x.reason())
                .map(String::from)
                .unwrap_or_else(|| e.to_string());
            match (encrypted, &self.knobs.sslpassword) {
                (true, None) => {
                    format!("{}: the key is encrypted and no sslpassword is set", what())
                }
                (true, Some(_)) => format!("{}: {reason} (wrong sslpassword)", what()),
                (false, _) => format!("{}: {reason}", what()),
            }
        })
    }

    /// libpq's CRLs: `sslcrl` and/or `sslcrldir`, else
    /// `~/.postgresql/root.crl`, loaded into the verifying store with CRL
    /// checks over the whole chain (`X509_V_FLAG_CRL_CHECK|CRL_CHECK_ALL`)
    /// when they load; when they do not, silently nothing, as libpq (which
    /// does not require a CRL). Only with a root certificate file, as libpq.
    fn load_crls(&self, b: &mut SslConnectorBuilder) {
        let dir = self.knobs.sslcrldir.as_deref();
        let file: Option<PathBuf> = match (&self.knobs.sslcrl, dir) {
            (Some(f), _) => Some(PathBuf::from(f)),
            (None, Some(_)) => None,
            (None, None) => self
                .home
                .as_ref()
                .map(|h| h.join(".postgresql").join("root.crl")),
        };
        let usable = |p: &str| !p.contains('\0');
        let store = b.cert_store_mut();
        // X509_STORE_load_locations: a file that does not load ends it.
        if let Some(f) = &file {
            let loaded = f.to_str().is_some_and(usable)
                && store
                    .add_lookup(X509Lookup::file())
                    .and_then(|l| l.load_crl_file(f, SslFiletype::PEM))
                    .is_ok();
            if !loaded {
                return;
            }
        }
        if let Some(d) = dir {
            let added = usable(d)
                && store
                    .add_lookup(X509Lookup::hash_dir())
                    .and_then(|l| l.add_dir(d, SslFiletype::PEM))
                    .is_ok();
            if !added {
                return;
            }
        }
        if file.is_some() || dir.is_some() {
            let _ = store.set_flags(X509VerifyFlags::CRL_CHECK | X509VerifyFlags::CRL_CHECK_ALL);
        }
    }
}

/// Whether a PEM private key is encrypted (PKCS#8 or OpenSSL's legacy form).
fn pem_is_encrypted(pem: &[u8]) -> bool {
    let text = String::from_utf8_lossy(pem);
    text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----")
        || text.contains("Proc-Type: 4,ENCRYPTED")
}

/// libpq refuses a key file others may read (0600, or 0640 when root owns it).
fn check_key_file(key: &Path) -> Result<(), String> {
    let meta = std::fs::metadata(key).map_err(|_| {
        format!(
            "certificate present, but not private key file \"{}\"",
            key.display()
        )
    })?;
    if !meta.is_file() {
        return Err(format!(
            "private key file \"{}\" is not a regular file",
            key.display()
        ));
    }
    let mode = meta.permissions().mode();
    let ok = if meta.uid() == 0 {
        mode & 0o037 == 0
    } else {
        mode & 0o077 == 0
    };
    if !ok {
        return Err(format!(
            "private key file \"{}\" has group or world access; file must have permissions \
             u=rw (0600) or less if owned by the current user, or permissions u=rw,g=r (0640) \
             or less if owned by root",
            key.display()
        ));
    }
    Ok(())
}

/// Builds the OpenSSL connector: `SslConnector::builder` parses the whole
/// system CA bundle (~25 ms of CPU), so where nothing can fail and nothing
/// is verified it is built only once the server has agreed to TLS.
type Build = Arc<dyn Fn() -> Result<MakeTlsConnector, String> + Send + Sync>;

/// A connector that records whether the TLS handshake started (the server
/// answered the SSLRequest with `S`), which libpq's `prefer` retry needs.
#[derive(Clone)]
pub(crate) struct Tracked {
    build: Build,
    pub(crate) used: Arc<AtomicBool>,
}

impl Tracked {
    /// A connector built now: its configuration errors (a missing root
    /// certificate under verify-full, an unreadable key) surface before
    /// anything is sent, as libpq reports them.
    pub(crate) fn new(inner: MakeTlsConnector) -> Tracked {
        Tracked {
            build: Arc::new(move || Ok(inner.clone())),
            used: Arc::new(AtomicBool::new(false)),
        }
    }

    /// A connector for `settings` and `mode`: built at once when it verifies
    /// or carries a client certificate, else only if a handshake happens
    /// (`prefer` against a server without TLS never pays for it).
    pub(crate) fn for_mode(settings: &Settings, mode: SslMode) -> Result<Tracked, String> {
        let trivial = !matches!(mode, SslMode::VerifyCa | SslMode::VerifyFull)
            && matches!(settings.root_cert(), RootCert::Missing(_))
            && settings.client_cert().is_none();
        if !trivial {
            return settings.tls_connector(mode).map(Tracked::new);
        }
        let settings = settings.clone();
        Ok(Tracked {
            build: Arc::new(move || settings.tls_connector(mode)),
            used: Arc::new(AtomicBool::new(false)),
        })
    }

    pub(crate) fn was_used(&self) -> bool {
        self.used.load(Ordering::SeqCst)
    }
}

/// The per-connection half of [`Tracked`].
pub(crate) struct TrackedConnect {
    build: Build,
    domain: String,
    used: Arc<AtomicBool>,
}

impl MakeTlsConnect<Socket> for Tracked {
    type Stream = <MakeTlsConnector as MakeTlsConnect<Socket>>::Stream;
    type TlsConnect = TrackedConnect;
    type Error = <MakeTlsConnector as MakeTlsConnect<Socket>>::Error;

    fn make_tls_connect(&mut self, domain: &str) -> Result<TrackedConnect, Self::Error> {
        Ok(TrackedConnect {
            build: self.build.clone(),
            domain: domain.to_string(),
            used: self.used.clone(),
        })
    }
}

impl TlsConnect<Socket> for TrackedConnect {
    type Stream = <postgres_openssl::TlsConnector as TlsConnect<Socket>>::Stream;
    type Error = <postgres_openssl::TlsConnector as TlsConnect<Socket>>::Error;
    type Future = <postgres_openssl::TlsConnector as TlsConnect<Socket>>::Future;

    fn connect(self, stream: Socket) -> Self::Future {
        self.used.store(true, Ordering::SeqCst);
        let connector = (self.build)().and_then(|mut m| {
            <MakeTlsConnector as MakeTlsConnect<Socket>>::make_tls_connect(&mut m, &self.domain)
                .map_err(|e| e.to_string())
        });
        match connector {
            Ok(c) => c.connect(stream),
            Err(why) => Box::pin(async move { Err(why.into()) }),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;
    use crate::conn::{ConnArgs, Env};

    fn settings(home: &Path, dsn: &str) -> Settings {
        let env = Env {
            home: Some(home.to_path_buf()),
            ..Default::default()
        };
        let args = ConnArgs {
            dsn: Some(dsn.into()),
            ..Default::default()
        };
        Settings::resolve_with(&args, "t", &env).unwrap()
    }

    fn err(s: &Settings, mode: SslMode) -> String {
        match s.tls_connector(mode) {
            Ok(_) => panic!("expected an error"),
            Err(e) => e,
        }
    }

    #[test]
    fn root_cert_rules() {
        let home = tempfile::tempdir().unwrap();
        let s = settings(home.path(), "host=h");
        let default = home.path().join(".postgresql/root.crt");
        assert_eq!(s.root_cert(), RootCert::Missing(Some(default.clone())));
        assert!(s.tls_connector(SslMode::Require).is_ok());
        assert!(err(&s, SslMode::VerifyFull).contains("does not exist"));
        assert!(err(&s, SslMode::VerifyCa).contains(&default.display().to_string()));
        std::fs::create_dir_all(default.parent().unwrap()).unwrap();
        std::fs::write(&default, "not a certificate").unwrap();
        assert_eq!(s.root_cert(), RootCert::File(default.clone()));
        // An existing root file is loaded (and verified against) in every mode.
        assert!(err(&s, SslMode::Require).contains("could not read root certificate file"));
        let s = settings(home.path(), "host=h sslrootcert=system");
        assert_eq!(s.root_cert(), RootCert::System);
        assert!(s.tls_connector(SslMode::VerifyFull).is_ok());
    }

    #[test]
    fn client_key_passphrase_and_formats() {
        use openssl::symm::Cipher;
        let home = tempfile::tempdir().unwrap();
        let key = PKey::from_rsa(openssl::rsa::Rsa::generate(2048).unwrap()).unwrap();
        let write = |name: &str, bytes: &[u8]| {
            let p = home.path().join(name);
            std::fs::write(&p, bytes).unwrap();
            p
        };
        let pass = "Pass phrase 9";
        let enc = write(
            "enc.key",
            &key.private_key_to_pem_pkcs8_passphrase(Cipher::aes_256_cbc(), pass.as_bytes())
                .unwrap(),
        );
        let legacy = write(
            "legacy.key",
            &key.rsa()
                .unwrap()
                .private_key_to_pem_passphrase(Cipher::aes_128_cbc(), pass.as_bytes())
                .unwrap(),
        );
        let plain = write("plain.key", &key.private_key_to_pem_pkcs8().unwrap());
        let der = write("der.key", &key.private_key_to_der().unwrap());
        let quoted = crate::conn::quote_conninfo(pass);
        let right = settings(home.path(), &format!("host=h sslpassword={quoted}"));
        let wrong = settings(home.path(), "host=h sslpassword=nope");
        let none = settings(home.path(), "host=h");
        for k in [&enc, &legacy] {
            assert!(right.private_key(k).unwrap().public_eq(&key));
            let e = wrong.private_key(k).err().unwrap();
            assert!(e.contains("(wrong sslpassword)"), "{e}");
            assert!(!e.contains("nope"), "{e}");
            let e = none.private_key(k).err().unwrap();
            assert!(
                e.ends_with("the key is encrypted and no sslpassword is set"),
                "{e}"
            );
        }
        // An unencrypted key (PEM or DER) loads with or without a passphrase.
        for k in [&plain, &der] {
            assert!(none.private_key(k).unwrap().public_eq(&key));
            assert!(right.private_key(k).unwrap().public_eq(&key));
        }
        let junk = write("junk.key", b"not a key");
        let e = none.private_key(&junk).err().unwrap();
        assert!(e.starts_with("could not load private key file"), "{e}");
    }

    #[test]
    fn client_key_checks() {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join(".postgresql");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("postgresql.crt"), "cert").unwrap();
        let s = settings(home.path(), "host=h");
        assert!(err(&s, SslMode::Require).contains("certificate present, but not private key file"));
        let key = dir.join("postgresql.key");
        std::fs::write(&key, "key").unwrap();
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(err(&s, SslMode::Require).contains("has group or world access"));
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(err(&s, SslMode::Require).contains("could not load certificate file"));
        // No certificate file: no client certificate, no error.
        std::fs::remove_file(dir.join("postgresql.crt")).unwrap();
        assert!(s.tls_connector(SslMode::Require).is_ok());
    }
}
