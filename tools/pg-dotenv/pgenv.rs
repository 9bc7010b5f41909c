//! `pgenv`: libpq variables from the file's `DATABASE_URL`, or from its
//! `POSTGRES_HOST/PORT/USER/PASSWORD/DB` keys, resolved by pgkit's resolver
//! and printed as one shell-evaluable `export` line.

use crate::format::sh_quote;
use crate::read::Values;
use pgkit::conn::{ConnArgs, Env, Settings};
use pgkit::{Error, Exit, Result};
use std::collections::HashMap;

/// Where the settings came from (for the summary line).
pub enum Source {
    /// `{prefix}DATABASE_URL`.
    Url(String),
    /// `{prefix}POSTGRES_*` keys.
    Keys,
}

/// Settings pgkit's own client cannot honour but psql can (libpq 16–18's,
/// and GSSAPI encryption, which pgkit is built without): exported as given,
/// left out of the resolving, for psql to judge.
fn pass_through(key: &str, value: &str) -> bool {
    pgkit::conn::UNHONOURED.iter().any(|(k, _)| *k == key)
        || (key == "gssencmode" && value == "require")
}

/// libpq's environment variable for a connection keyword (None: it has none).
fn env_var(keyword: &str) -> Option<&'static str> {
    pgkit::conn::ENV_KEYS
        .iter()
        .find(|(_, k)| *k == keyword)
        .map(|(v, _)| *v)
}

/// The shell text for `values`, and where it came from.
pub fn render(values: &Values, prefix: &str) -> Result<(String, Source)> {
    let url_key = format!("{prefix}DATABASE_URL");
    let mut kv: HashMap<String, String> = HashMap::new();
    let source = match values.get(&url_key).filter(|v| !v.is_empty()) {
        Some(url) => {
            kv.insert("\0dsn".into(), url.to_string());
            Source::Url(url_key.clone())
        }
        None => {
            let mut any = false;
            for (suffix, keyword) in [
                ("POSTGRES_HOST", "host"),
                ("POSTGRES_PORT", "port"),
                ("POSTGRES_USER", "user"),
                ("POSTGRES_PASSWORD", "password"),
                ("POSTGRES_DB", "dbname"),
                ("POSTGRES_SSLMODE", "sslmode"),
            ] {
                if let Some(v) = values.get(&format!("{prefix}{suffix}")) {
                    any = true;
                    if !v.is_empty() {
                        kv.insert(keyword.to_string(), v.to_string());
                    }
                }
            }
            if !any {
                return Err(
                    Error::new(Exit::Failure, "No connection settings in the file")
                        .cause(format!(
                    "neither {url_key} nor {prefix}POSTGRES_HOST/PORT/USER/PASSWORD/DB is set"
                ))
                        .suggest(format!(
                            "Add {url_key}=postgresql://user:password@host:port/dbname to the file"
                        )),
                );
            }
            // The postgres image's convention: the database defaults to the user.
            if !kv.contains_key("dbname") {
                if let Some(u) = kv.get("user").cloned() {
                    kv.insert("dbname".into(), u);
                }
            }
            Source::Keys
        }
    };
    // Only the file speaks: no PG* variables of this process leak in.
    let mut env = Env::process();
    env.vars.clear();
    // Every keyword the URL sets, to export beyond the resolved basics.
    let mut given: Vec<(String, String)> = Vec::new();
    let settings = match kv.remove("\0dsn") {
        Some(dsn) => {
            given = pgkit::conn::parse_dsn(&dsn).map_err(|e| e.field("key", url_key.clone()))?;
            // A setting libpq has no environment variable for cannot reach
            // psql through `eval`: refused, never dropped.
            for (k, _) in &given {
                if env_var(k).is_none()
                    && !matches!(k.as_str(), "host" | "port" | "dbname" | "user" | "password")
                {
                    return Err(Error::config("Setting has no libpq environment variable")
                        .cause(format!("{k} in {url_key} cannot be exported as a PG* variable"))
                        .field("key", url_key.clone())
                        .field("setting", k.clone())
                        .suggest("Pass the connection string itself (psql \"$DATABASE_URL\") or drop the setting from the URL"));
                }
            }
            // Settings pgkit's own client cannot honour (require_auth, …)
            // are still psql's to honour: they are passed through, and the
            // rest is resolved for the basics.
            let resolvable: Vec<String> = given
                .iter()
                .filter(|(k, v)| !pass_through(k, v))
                .map(|(k, v)| format!("{k}={}", pgkit::conn::quote_conninfo(v)))
                .collect();
            let dsn = if given.iter().any(|(k, v)| pass_through(k, v)) {
                resolvable.join(" ")
            } else {
                dsn
            };
            let args = ConnArgs {
                dsn: Some(dsn),
                ..ConnArgs::default()
            };
            Settings::resolve_with(&args, "pg-dotenv", &env).map_err(|e| e.field("key", url_key))?
        }
        None => Settings::from_keywords(&kv, "pg-dotenv", &env)
            .map_err(|e| e.field("key", format!("{prefix}POSTGRES_*")))?,
    };
    let vars = settings.libpq_env();
    let get = |name: &str| {
        vars.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let mut words: Vec<String> = Vec::new();
    let mut done: Vec<&str> = Vec::new();
    for name in [
        "PGHOST",
        "PGPORT",
        "PGUSER",
        "PGPASSWORD",
        "PGDATABASE",
        "PGSSLMODE",
    ] {
        if let Some(v) = get(name) {
            words.push(format!("{name}={}", sh_quote(v)));
            done.push(name);
        }
    }
    // Then every other setting the file gave, as written, under libpq's own
    // variable for it (channel_binding, target_session_attrs, hostaddr …).
    for (k, v) in &given {
        if let Some(var) = env_var(k) {
            if done.contains(&var) {
                continue;
            }
            words.retain(|w| !w.starts_with(&format!("{var}=")));
            words.push(format!("{var}={}", sh_quote(v)));
        }
    }
    let mut out = format!("export {}\n", words.join(" "));
    if get("PGPASSWORD").is_none() {
        // A stale password from the caller's shell must not be used instead.
        out.push_str("unset PGPASSWORD\n");
    }
    Ok((out, source))
}
