//! Connection settings resolved exactly as libpq resolves them (DESIGN.md,
//! "Connecting"): flag, then `DATABASE_URL` (URL or conninfo), then
//! `PGSERVICE`, then the `PG*` variables, then libpq's defaults; `.pgpass`;
//! TLS with libpq's `sslmode` meanings. The `postgres` crate does none of
//! this itself, so every tool goes through here.

mod args;
mod connect;
mod error;
mod settings;

pub use args::ConnArgs;
pub use connect::{cancel_on_signal, Client};
pub use error::{ConnectError, ErrorKind};
pub use settings::{parse_dsn, Env, Host, Settings, SslMode, TargetSessionAttrs};
