//! `pg-tmp env URL`: `export PG…` lines for `eval`.

use crate::cli::EnvArgs;
use pgkit::cli::Summary;
use pgkit::{out, Result};

/// The libpq variables `env` prints, and the URL keywords they come from.
const ENV_VARS: &[(&str, &str)] = &[
    ("PGHOST", "host"),
    ("PGHOSTADDR", "hostaddr"),
    ("PGPORT", "port"),
    ("PGUSER", "user"),
    ("PGPASSWORD", "password"),
    ("PGDATABASE", "dbname"),
    ("PGSSLMODE", "sslmode"),
    ("PGSSLROOTCERT", "sslrootcert"),
    ("PGSSLCERT", "sslcert"),
    ("PGSSLKEY", "sslkey"),
    ("PGOPTIONS", "options"),
    ("PGAPPNAME", "application_name"),
    ("PGCONNECT_TIMEOUT", "connect_timeout"),
    ("PGTARGETSESSIONATTRS", "target_session_attrs"),
];

pub fn run(args: EnvArgs) -> Result<Summary> {
    let kv = pgkit::conn::parse_dsn(&args.url)?;
    // Exports of settings libpq would reject (a port "abc", an unknown
    // sslmode) are a configuration error here, as everywhere (78).
    let map: std::collections::HashMap<String, String> = kv.iter().cloned().collect();
    pgkit::conn::Settings::from_keywords(&map, "pg-tmp", &pgkit::conn::Env::default())?;
    let get = |k: &str| {
        kv.iter()
            .rev()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    if let Some(p) = get("password") {
        pgkit::redact::register(&p);
    }
    let mut text = String::new();
    let mut set = 0;
    for (var, key) in ENV_VARS {
        match get(key) {
            Some(v) => {
                text.push_str(&format!("export {var}={}\n", pgkit::shell::quote(&v)));
                set += 1;
            }
            // What the URL leaves out must not come from an earlier eval.
            None => text.push_str(&format!("unset {var}\n")),
        }
    }
    text.push_str(&format!(
        "export DATABASE_URL={}\n",
        pgkit::shell::quote(&args.url)
    ));
    out::print(&text)?;
    // The run's summary line, as every pgkit run ends with one (stderr: it
    // does not disturb `eval "$(pg-tmp env URL)"`).
    Ok(Summary::ok("Environment printed").field("variables", set))
}
