//! Connection settings resolved exactly as libpq resolves them (DESIGN.md,
//! "Connecting"): flag, then the DSN (`--dsn` or `DATABASE_URL`, a URL or
//! `key=value` conninfo), then the service file (`service=`/`PGSERVICE`),
//! then the `PG*` variables, then libpq's defaults; `.pgpass` per host; TLS
//! with libpq's `sslmode` meanings. The `postgres` crate does none of this
//! itself, so every tool goes through here.
//!
//! - `args.rs`: the clap flags; `env.rs`: the environment snapshot;
//! - `settings.rs`: the types and their resolution; `display.rs`: the
//!   redacted URL and the libpq variables for child processes;
//! - `dsn.rs`: URL and conninfo grammar; `service.rs`: `pg_service.conf`;
//! - `pgpass.rs`: the password file; `tls.rs`: OpenSSL setup per sslmode;
//! - `connect.rs`: hosts, addresses, retries, timeouts, session attributes;
//!   `peer.rs`: `requirepeer`'s peer credentials;
//! - `error.rs`: failures, classified for retry decisions and exit codes.
//!
//! Every libpq 15 keyword is accepted (others are errors, as in libpq).
//! Applied: host, hostaddr, port, user, password, passfile, dbname, service,
//! options, application_name, connect_timeout (0 or less: no limit; 1: 2 s),
//! sslmode, sslrootcert (incl. libpq 16's `system`), sslcert, sslkey,
//! sslpassword, sslcrl, sslcrldir, sslsni, ssl_min/max_protocol_version,
//! channel_binding, keepalives*, tcp_user_timeout, requirepeer (`peer.rs`),
//! target_session_attrs (libpq 14's full set), gssencmode as a libpq built
//! without GSSAPI (`require` is an error, prefer/disable never encrypt).
//! Accepted but without effect: client_encoding (always UTF8),
//! fallback_application_name (the tool's name is the fallback),
//! sslcompression, krbsrvname, gsslib, replication.

mod args;
mod connect;
mod display;
mod dsn;
mod env;
mod error;
mod peer;
pub mod pgpass;
mod service;
mod settings;
mod tls;

pub use args::ConnArgs;
pub use connect::{cancel_on_signal, Client};
pub use display::LIBPQ_VARS;
pub use dsn::parse as parse_dsn;
pub use dsn::quote_conninfo;
pub use env::{os_user_name, Env};
pub use error::{ConnectError, ErrorKind};
pub use settings::{Host, Settings, SslMode, TargetSessionAttrs, ENV_KEYS, UNHONOURED};
