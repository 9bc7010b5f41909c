//! Connection settings resolved exactly as libpq resolves them (DESIGN.md,
//! "Connecting"): flag, then the DSN (`--dsn` or `DATABASE_URL`, a URL or
//! `key=value` conninfo), then the service file (`service=`/`PGSERVICE`),
//! then the `PG*` variables, then libpq's defaults; `.pgpass` per host; TLS
//! with libpq's `sslmode` meanings. The `postgres` crate does none of this
//! itself, so every tool goes through here.
//!
//! - `args.rs`: the clap flags; `settings.rs`: resolution and display;
//! - `dsn.rs`: URL and conninfo grammar; `service.rs`: `pg_service.conf`;
//! - `pgpass.rs`: the password file; `tls.rs`: OpenSSL setup per sslmode;
//! - `connect.rs`: hosts, addresses, retries, timeouts, session attributes;
//! - `error.rs`: failures, classified for retry decisions and exit codes.

mod args;
mod connect;
mod dsn;
mod error;
pub mod pgpass;
mod service;
mod settings;
mod tls;

pub use args::ConnArgs;
pub use connect::{cancel_on_signal, Client};
pub use dsn::quote_conninfo;
pub use error::{ConnectError, ErrorKind};
pub use settings::{os_user_name, Env, Host, Settings, SslMode, TargetSessionAttrs};
