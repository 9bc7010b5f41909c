//! The connection flags every connecting tool flattens into its arguments.

/// Connection flags. Anything not given here comes from `DATABASE_URL`,
/// `PGSERVICE`, the `PG*` variables and libpq's defaults, in that order.
#[derive(clap::Args, Clone, Default)]
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

/// The DSN is shown only when it carries no password.
impl std::fmt::Debug for ConnArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let dsn = self.dsn.as_deref().map(|d| match super::dsn::parse(d) {
            Ok(kv) if !kv.iter().any(|(k, _)| k == "password") => d.to_string(),
            _ => crate::redact::REDACTED.to_string(),
        });
        f.debug_struct("ConnArgs")
            .field("dsn", &dsn)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("dbname", &self.dbname)
            .field("sslmode", &self.sslmode)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_a_password_in_the_dsn() {
        let a = ConnArgs {
            dsn: Some("postgresql://u:hunter2@h/db".into()),
            ..Default::default()
        };
        let shown = format!("{a:?}");
        assert!(
            !shown.contains("hunter2") && shown.contains("[REDACTED]"),
            "{shown}"
        );
        let a = ConnArgs {
            dsn: Some("host=h dbname=db".into()),
            ..Default::default()
        };
        assert!(format!("{a:?}").contains("host=h dbname=db"));
    }
}
