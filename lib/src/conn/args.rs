//! The connection flags every connecting tool flattens into its arguments.

/// Connection flags. Anything not given here comes from `DATABASE_URL`,
/// `PGSERVICE`, the `PG*` variables and libpq's defaults, in that order.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct ConnArgs {
    /// Connection string: a postgres:// URL or key=value conninfo [env: DATABASE_URL]
    #[arg(long, short = 'd', value_name = "DSN")]
    pub dsn: Option<String>,
    /// Server host name, IP or unix-socket directory (overrides the DSN) [env: PGHOST]
    #[arg(long, value_name = "HOST")]
    pub host: Option<String>,
    /// Server port (overrides the DSN) [env: PGPORT]
    #[arg(long, short = 'p', value_name = "PORT")]
    pub port: Option<String>,
    /// User name (overrides the DSN) [env: PGUSER]
    #[arg(long, short = 'U', value_name = "USER")]
    pub user: Option<String>,
    /// Database name (overrides the DSN) [env: PGDATABASE]
    #[arg(long, value_name = "DBNAME")]
    pub dbname: Option<String>,
    /// TLS mode: disable, allow, prefer, require, verify-ca, verify-full [env: PGSSLMODE]
    #[arg(long, value_name = "MODE")]
    pub sslmode: Option<String>,
}
