//! The connection service file (`pg_service.conf`), as libpq 15's
//! `parseServiceInfo`/`parseServiceFile`: `PGSERVICEFILE`, else
//! `~/.pg_service.conf`; then `PGSYSCONFDIR/pg_service.conf`. The first file
//! that defines the service wins; a service defined nowhere is an error.

use super::dsn::KEYWORDS;
use super::env::Env;
use crate::error::Error;
use std::path::{Path, PathBuf};

/// A service's keywords, in file order.
pub(crate) type Section = Vec<(String, String)>;

/// Debian's libpq is built with `--sysconfdir=/etc/postgresql-common`.
pub(crate) const DEFAULT_SYSCONFDIR: &str = "/etc/postgresql-common";

fn config_error(why: String) -> Error {
    Error::config("Invalid connection service")
        .cause(why)
        .suggest(
            "Define the service in the file PGSERVICEFILE names (else ~/.pg_service.conf, \
             or pg_service.conf in PGSYSCONFDIR), or unset PGSERVICE / service=",
        )
}

/// The keywords the service `name` defines, in file order.
pub(crate) fn lookup(name: &str, env: &Env) -> Result<Vec<(String, String)>, Error> {
    let user_file: Option<PathBuf> = match env.vars.get("PGSERVICEFILE") {
        Some(f) => Some(PathBuf::from(f)),
        None => env
            .home
            .as_ref()
            .map(|h| h.join(".pg_service.conf"))
            .filter(|p| p.exists()),
    };
    if let Some(f) = user_file {
        if let Some(found) = parse_file(&f, name)? {
            return Ok(found);
        }
    }
    let sysconf = env
        .vars
        .get("PGSYSCONFDIR")
        .cloned()
        .unwrap_or_else(|| DEFAULT_SYSCONFDIR.to_string());
    let sys_file = Path::new(&sysconf).join("pg_service.conf");
    if sys_file.exists() {
        if let Some(found) = parse_file(&sys_file, name)? {
            return Ok(found);
        }
    }
    Err(config_error(format!(
        "definition of service \"{name}\" not found"
    )))
}

/// Reads one service file: `Ok(None)` when it does not define the service.
pub(crate) fn parse_file(path: &Path, name: &str) -> Result<Option<Section>, Error> {
    let text = std::fs::read(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            config_error(format!("service file \"{}\" not found", path.display()))
        } else {
            config_error(format!(
                "could not read service file \"{}\": {e}",
                path.display()
            ))
        }
    })?;
    let text = String::from_utf8_lossy(&text);
    parse_text(&text, name).map_err(|(line, why)| {
        config_error(format!(
            "{why} in service file \"{}\", line {line}",
            path.display()
        ))
    })
}

/// The grammar: `[name]` sections, `key=value` lines, `#` comments, blank
/// lines; leading and trailing whitespace of a line is ignored, nothing else.
pub(crate) fn parse_text(text: &str, name: &str) -> Result<Option<Section>, (usize, &'static str)> {
    let mut found = false;
    let mut out = Vec::new();
    for (i, raw) in text.split('\n').enumerate() {
        let line = raw.trim_end_matches(|c: char| c.is_ascii_whitespace());
        let line = line.trim_start_matches(|c: char| c.is_ascii_whitespace());
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(rest) = line.strip_prefix('[') {
            if found {
                break;
            }
            // libpq compares the name's bytes followed by `]`, ignoring the rest.
            found = rest
                .strip_prefix(name)
                .is_some_and(|after| after.starts_with(']'));
            continue;
        }
        if !found {
            continue;
        }
        let Some((key, val)) = line.split_once('=') else {
            return Err((i + 1, "syntax error"));
        };
        if key == "service" {
            return Err((i + 1, "nested service specifications not supported"));
        }
        if !KEYWORDS.contains(&key) {
            return Err((i + 1, "syntax error"));
        }
        out.push((key.to_string(), val.to_string()));
    }
    Ok(found.then_some(out))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const FILE: &str = "\
# a comment
[other]
host=elsewhere

  [mydb]
host=/tmp
  port=5433   
dbname=app=x
user=me
[next]
host=no
";

    #[test]
    fn finds_the_section() {
        let v = parse_text(FILE, "mydb").unwrap().unwrap();
        assert_eq!(
            v,
            vec![
                ("host".to_string(), "/tmp".to_string()),
                ("port".to_string(), "5433".to_string()),
                ("dbname".to_string(), "app=x".to_string()),
                ("user".to_string(), "me".to_string()),
            ]
        );
        assert_eq!(parse_text(FILE, "missing").unwrap(), None);
    }

    #[test]
    fn syntax_errors() {
        assert_eq!(parse_text("[a]\nhost\n", "a").unwrap_err().0, 2);
        assert_eq!(
            parse_text("[a]\nservice=b\n", "a").unwrap_err().1,
            "nested service specifications not supported"
        );
        assert!(parse_text("[a]\nbogus=1\n", "a").is_err());
        // Lines of other sections are not checked.
        assert_eq!(
            parse_text("[b]\nbogus\n[a]\nport=1", "a")
                .unwrap()
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn lookup_order_and_missing() {
        let dir = tempfile::tempdir().unwrap();
        let user = dir.path().join("user.conf");
        std::fs::write(&user, "[a]\nport=1\n").unwrap();
        let sys = dir.path().join("sys");
        std::fs::create_dir(&sys).unwrap();
        std::fs::write(sys.join("pg_service.conf"), "[a]\nport=2\n[b]\nport=3\n").unwrap();
        let mut env = Env::default();
        env.vars
            .insert("PGSERVICEFILE".into(), user.display().to_string());
        env.vars
            .insert("PGSYSCONFDIR".into(), sys.display().to_string());
        assert_eq!(lookup("a", &env).unwrap()[0].1, "1");
        assert_eq!(lookup("b", &env).unwrap()[0].1, "3");
        let e = lookup("c", &env).unwrap_err();
        assert_eq!(e.code, crate::exit::Exit::Config);
        assert!(e
            .error
            .unwrap()
            .contains("definition of service \"c\" not found"));
        env.vars
            .insert("PGSERVICEFILE".into(), "/nonexistent/x".into());
        assert!(lookup("a", &env)
            .unwrap_err()
            .error
            .unwrap()
            .contains("not found"));
    }
}
