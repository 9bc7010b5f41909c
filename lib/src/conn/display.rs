//! How settings are shown and handed on: a display URL without the
//! password, and the libpq variables for child processes.

use super::settings::{Settings, SslMode, TargetSessionAttrs};
use crate::redact;

/// Every variable that can steer libpq (and `DATABASE_URL`): what a child
/// process must not inherit once its connection was resolved for it.
pub const LIBPQ_VARS: &[&str] = &[
    "DATABASE_URL",
    "PGHOST",
    "PGHOSTADDR",
    "PGPORT",
    "PGUSER",
    "PGPASSWORD",
    "PGPASSFILE",
    "PGDATABASE",
    "PGSSLMODE",
    "PGSSLROOTCERT",
    "PGSSLCERT",
    "PGSSLKEY",
    "PGSSLCRL",
    "PGSSLCRLDIR",
    "PGREQUIREPEER",
    "PGCONNECT_TIMEOUT",
    "PGAPPNAME",
    "PGOPTIONS",
    "PGTARGETSESSIONATTRS",
    "PGSERVICE",
    "PGSERVICEFILE",
    "PGSYSCONFDIR",
];

impl Settings {
    /// A display URL with the password replaced by `[REDACTED]`; libpq
    /// parses it back to the same settings (less the password).
    pub fn redacted(&self) -> String {
        let enc = redact::percent_encode;
        let auth = match &self.password {
            Some(_) => format!("{}:{}@", enc(&self.user), redact::REDACTED),
            None => format!("{}@", enc(&self.user)),
        };
        let in_query = self
            .hosts
            .iter()
            .any(|h| h.is_socket() || h.hostaddr.is_some() || h.host.is_empty());
        let mut params: Vec<(&str, String)> = Vec::new();
        let netloc = if in_query {
            params.push((
                "host",
                self.hosts
                    .iter()
                    .map(|h| h.host.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
            ));
            if self.hosts.iter().any(|h| h.hostaddr.is_some()) {
                params.push((
                    "hostaddr",
                    self.hosts
                        .iter()
                        .map(|h| h.hostaddr.as_deref().unwrap_or(""))
                        .collect::<Vec<_>>()
                        .join(","),
                ));
            }
            params.push(("port", self.port_list()));
            String::new()
        } else {
            self.hosts
                .iter()
                .map(|h| {
                    if h.host.contains(':') {
                        format!("[{}]:{}", h.host, h.port)
                    } else {
                        format!("{}:{}", enc(&h.host), h.port)
                    }
                })
                .collect::<Vec<_>>()
                .join(",")
        };
        if self.sslmode != SslMode::Prefer {
            params.push(("sslmode", self.sslmode.as_str().to_string()));
        }
        if self.target_session_attrs != TargetSessionAttrs::Any {
            params.push((
                "target_session_attrs",
                self.target_session_attrs.as_str().to_string(),
            ));
        }
        let mut url = format!("postgresql://{auth}{netloc}/{}", enc(&self.dbname));
        for (i, (k, v)) in params.iter().enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            url.push_str(k);
            url.push('=');
            url.push_str(&enc(v).replace("%2C", ","));
        }
        url
    }

    fn port_list(&self) -> String {
        let ports: Vec<String> = self.hosts.iter().map(|h| h.port.to_string()).collect();
        if ports.windows(2).all(|w| w[0] == w[1]) {
            ports.first().cloned().unwrap_or_else(|| "5432".into())
        } else {
            ports.join(",")
        }
    }

    /// Gives a child process (pg_dump, pg_restore, psql) these settings
    /// through its environment — the password included, never on argv where
    /// `ps` shows it — after removing every inherited libpq variable
    /// ([`LIBPQ_VARS`]): the settings already took them into account, and a
    /// stray one (PGSERVICE, PGHOSTADDR) would point the child elsewhere.
    pub fn apply_to_command(&self, cmd: &mut std::process::Command) {
        for v in LIBPQ_VARS {
            cmd.env_remove(v);
        }
        cmd.envs(self.libpq_env());
    }

    /// libpq environment variables equivalent to these settings, for child
    /// processes (pg_dump, psql): the password travels here, never on argv.
    /// `sslpassword` does not: libpq has no variable for it (a child given
    /// an encrypted `sslkey` needs it some other way, e.g. a service file).
    pub fn libpq_env(&self) -> Vec<(String, String)> {
        let mut v = Vec::new();
        if self.hosts.iter().any(|h| !h.host.is_empty()) {
            v.push((
                "PGHOST".to_string(),
                self.hosts
                    .iter()
                    .map(|h| h.host.clone())
                    .collect::<Vec<_>>()
                    .join(","),
            ));
        }
        if self.hosts.iter().any(|h| h.hostaddr.is_some()) {
            v.push((
                "PGHOSTADDR".to_string(),
                self.hosts
                    .iter()
                    .map(|h| h.hostaddr.clone().unwrap_or_default())
                    .collect::<Vec<_>>()
                    .join(","),
            ));
        }
        v.push(("PGPORT".to_string(), self.port_list()));
        v.push(("PGUSER".to_string(), self.user.clone()));
        v.push(("PGDATABASE".to_string(), self.dbname.clone()));
        v.push(("PGSSLMODE".to_string(), self.sslmode.as_str().to_string()));
        if let Some(p) = &self.password {
            v.push(("PGPASSWORD".into(), p.clone()));
        }
        for (k, val) in [
            ("PGSSLROOTCERT", &self.sslrootcert),
            ("PGSSLCERT", &self.sslcert),
            ("PGSSLKEY", &self.sslkey),
            ("PGSSLCRL", &self.knobs.sslcrl),
            ("PGSSLCRLDIR", &self.knobs.sslcrldir),
            ("PGREQUIREPEER", &self.knobs.requirepeer),
            ("PGAPPNAME", &self.application_name),
            ("PGOPTIONS", &self.options),
        ] {
            if let Some(x) = val {
                v.push((k.to_string(), x.clone()));
            }
        }
        if let Some(t) = self.connect_timeout {
            v.push(("PGCONNECT_TIMEOUT".into(), t.as_secs().to_string()));
        }
        if let Some(p) = &self.passfile {
            v.push(("PGPASSFILE".into(), p.display().to_string()));
        }
        if self.target_session_attrs != TargetSessionAttrs::Any {
            v.push((
                "PGTARGETSESSIONATTRS".into(),
                self.target_session_attrs.as_str().to_string(),
            ));
        }
        v
    }
}
