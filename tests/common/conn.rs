//! The side-by-side harness of the connection tests: one environment run
//! through `psql` (the system libpq) and through pgkit's `Settings`, which
//! must reach the same server the same way, or both fail.

use pgkit::conn::{ConnArgs, ConnectError, Env, Settings};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};

/// Who, where, over what: user, database, port, server address (or
/// "socket") and whether TLS is in use.
pub const QUERY: &str = "select current_user, current_database(), current_setting('port'), \
     coalesce(host(inet_server_addr()), 'socket'), \
     coalesce((select ssl::text from pg_stat_ssl where pid = pg_backend_pid()), 'none')";

/// The outcome of one side: the query's row as `a|b|c`, or the error text.
pub type Outcome = Result<String, String>;

/// One environment, run through psql and through pgkit (the query is
/// [`QUERY`] unless [`Case::query`] says otherwise).
pub struct Case {
    pub vars: Vec<(String, String)>,
    pub dsn: Option<String>,
    /// `DATABASE_URL` for pgkit; psql gets it as `-d` (psql does not read it).
    pub database_url: Option<String>,
    pub home: tempfile::TempDir,
    pub query: String,
}

impl Case {
    pub fn new(vars: &[(&str, &str)]) -> Case {
        Case {
            vars: vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            dsn: None,
            database_url: None,
            home: tempfile::tempdir().unwrap(),
            query: QUERY.into(),
        }
    }

    pub fn dsn(mut self, d: &str) -> Case {
        self.dsn = Some(d.into());
        self
    }

    pub fn database_url(mut self, d: &str) -> Case {
        self.database_url = Some(d.into());
        self
    }

    pub fn query(mut self, q: &str) -> Case {
        self.query = q.into();
        self
    }

    pub fn home(&self) -> &Path {
        self.home.path()
    }

    /// Writes a file under HOME with a mode.
    pub fn home_file(&self, rel: &str, content: &str, mode: u32) -> String {
        let p = self.home().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, content).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        p.display().to_string()
    }

    pub fn psql(&self) -> Outcome {
        let mut c = Command::new("psql");
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home())
            .env("LC_ALL", "C")
            .envs(self.vars.iter().map(|(k, v)| (k, v)))
            .args(["-X", "-A", "-t", "-q", "-w", "-c", &self.query])
            .stdin(Stdio::null());
        if let Some(d) = self.dsn.as_ref().or(self.database_url.as_ref()) {
            c.args(["-d", d]);
        }
        let out = c.output().expect("run psql");
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
        }
    }

    pub fn env(&self) -> Env {
        let mut vars: std::collections::HashMap<String, String> =
            self.vars.iter().cloned().collect();
        if let Some(u) = &self.database_url {
            vars.insert("DATABASE_URL".into(), u.clone());
        }
        Env {
            vars,
            home: Some(self.home().to_path_buf()),
            os_user: pgkit::conn::os_user_name(),
        }
    }

    pub fn settings(&self) -> pgkit::Result<Settings> {
        let args = ConnArgs {
            dsn: self.dsn.clone(),
            ..Default::default()
        };
        Settings::resolve_with(&args, "pgkit-test", &self.env())
    }

    pub fn connect(&self) -> Result<postgres::Client, ConnectError> {
        self.settings().expect("settings resolve").connect()
    }

    pub fn connect_err(&self) -> ConnectError {
        match self.connect() {
            Ok(_) => panic!("expected the connection to fail"),
            Err(e) => e,
        }
    }

    pub fn pgkit(&self) -> Outcome {
        let s = self.settings().map_err(|e| format!("{e:?}"))?;
        let mut c = s
            .connect()
            .map_err(|e| format!("{:?}: {}", e.kind, e.message))?;
        let rows = c.simple_query(&self.query).map_err(|e| e.to_string())?;
        let mut lines = Vec::new();
        for m in rows {
            if let postgres::SimpleQueryMessage::Row(r) = m {
                let cols: Vec<&str> = (0..r.len()).map(|i| r.get(i).unwrap_or("")).collect();
                lines.push(cols.join("|"));
            }
        }
        Ok(lines.join("\n"))
    }

    /// Both succeed with the same row; returns it.
    pub fn both_ok(&self, what: &str) -> String {
        let (p, k) = (self.psql(), self.pgkit());
        match (&p, &k) {
            (Ok(a), Ok(b)) if a == b => a.clone(),
            _ => panic!("{what}: psql and pgkit differ\n  psql:  {p:?}\n  pgkit: {k:?}"),
        }
    }

    /// Both fail; returns psql's error text.
    pub fn both_fail(&self, what: &str) -> String {
        self.both_fail_pair(what).0
    }

    /// Both fail; returns (psql's error, pgkit's error).
    pub fn both_fail_pair(&self, what: &str) -> (String, String) {
        let (p, k) = (self.psql(), self.pgkit());
        match (p, k) {
            (Err(e), Err(k)) => {
                eprintln!("{what}:\n  psql:  {e}\n  pgkit: {k}");
                (e, k)
            }
            (p, k) => panic!("{what}: expected both to fail\n  psql:  {p:?}\n  pgkit: {k:?}"),
        }
    }
}
