//! The password file (`~/.pgpass`, `PGPASSFILE`, `passfile=`), as libpq 15's
//! `passwordFromFile`: `host:port:database:user:password` lines, `*` matching
//! anything, `\:` and `\\` escapes, `#` comments, the first match wins. A
//! unix-socket connection to the default socket directory matches the host
//! name `localhost`. A file that is not a plain file, or that group or others
//! may access, is ignored with a warning.

use crate::log;
use serde_json::json;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// libpq's compiled-in default socket directory on Debian.
pub const DEFAULT_SOCKET_DIR: &str = "/var/run/postgresql";

/// The host name `.pgpass` lines are matched against for a connection to
/// `host` (empty → `localhost`; the default socket directory → `localhost`).
pub fn match_host(host: &str) -> &str {
    if host.is_empty() || host == DEFAULT_SOCKET_DIR {
        "localhost"
    } else {
        host
    }
}

/// Why a password file was not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skipped {
    /// Not a regular file.
    NotPlainFile,
    /// Group or world bits set.
    Insecure(u32),
}

/// Looks up the password for one connection; `None` when the file is absent,
/// unreadable, ignored (a warning is logged) or has no matching line.
pub fn lookup(file: &Path, host: &str, port: &str, dbname: &str, user: &str) -> Option<String> {
    if dbname.is_empty() || user.is_empty() {
        return None;
    }
    match check_file(file) {
        Ok(true) => {}
        Ok(false) => return None,
        Err(Skipped::NotPlainFile) => {
            if !first_warning(file) {
                return None;
            }
            log::warn(
                "Password file ignored: it is not a plain file",
                json!({"filename": file.display().to_string()}),
            );
            return None;
        }
        Err(Skipped::Insecure(mode)) => {
            if !first_warning(file) {
                return None;
            }
            log::warn(
                "Password file ignored: it has group or world access",
                json!({
                    "filename": file.display().to_string(),
                    "mode": format!("{:04o}", mode & 0o7777),
                    "suggestion": format!("chmod 0600 {}", file.display()),
                }),
            );
            return None;
        }
    }
    let bytes = std::fs::read(file).ok()?;
    let text = String::from_utf8_lossy(&bytes);
    let port = if port.is_empty() { "5432" } else { port };
    find(&text, match_host(host), port, dbname, user)
}

/// Whether this is the first warning about `file` in this process (a tool
/// that retries, like pg-wait, warns once, not once per attempt).
fn first_warning(file: &Path) -> bool {
    static WARNED: std::sync::Mutex<Vec<std::path::PathBuf>> = std::sync::Mutex::new(Vec::new());
    let Ok(mut w) = WARNED.lock() else {
        return true;
    };
    if w.iter().any(|p| p == file) {
        return false;
    }
    w.push(file.to_path_buf());
    true
}

/// `Ok(true)` when the file should be read, `Ok(false)` when it does not exist.
pub fn check_file(file: &Path) -> Result<bool, Skipped> {
    let Ok(meta) = std::fs::metadata(file) else {
        return Ok(false);
    };
    if !meta.is_file() {
        return Err(Skipped::NotPlainFile);
    }
    let mode = meta.permissions().mode();
    if mode & 0o077 != 0 {
        return Err(Skipped::Insecure(mode));
    }
    Ok(true)
}

/// The first line matching all four fields, its password de-escaped.
pub fn find(text: &str, host: &str, port: &str, dbname: &str, user: &str) -> Option<String> {
    for line in text.split('\n') {
        if line.starts_with('#') {
            continue;
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            continue;
        }
        let rest = Some(line)
            .and_then(|t| field_matches(t, host))
            .and_then(|t| field_matches(t, port))
            .and_then(|t| field_matches(t, dbname))
            .and_then(|t| field_matches(t, user));
        if let Some(pw) = rest {
            return Some(unescape_password(pw));
        }
    }
    None
}

/// libpq's `pwdfMatchesString`: the rest of the line after a field that is
/// `*` or equals `token` (with `\` escaping the next character).
fn field_matches<'a>(buf: &'a str, token: &str) -> Option<&'a str> {
    if let Some(rest) = buf.strip_prefix("*:") {
        return Some(rest);
    }
    let b = buf.as_bytes();
    let t = token.as_bytes();
    let (mut i, mut j) = (0, 0);
    while i < b.len() {
        let mut escaped = false;
        if b[i] == b'\\' {
            i += 1;
            escaped = true;
            if i >= b.len() {
                return None;
            }
        }
        if b[i] == b':' && j == t.len() && !escaped {
            return buf.get(i + 1..);
        }
        if j == t.len() || b[i] != t[j] {
            return None;
        }
        i += 1;
        j += 1;
    }
    None
}

/// The password field ends at the first unescaped `:`; `\x` is `x`.
fn unescape_password(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ':' {
            break;
        }
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
                continue;
            }
        }
        out.push(c);
    }
    out
}

/// Escapes a field for a `.pgpass` line (`\` and `:`).
pub fn escape(field: &str) -> String {
    field.replace('\\', "\\\\").replace(':', "\\:")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const FILE: &str = "\
# comment:*:*:*:nope
db.example.com:5432:app:alice:first
*:5432:app:alice:second
db.example.com:*:*:bob:b\\:o\\\\b:trailing
h\\:x:5432:*:*:colonhost
/tmp:5433:*:*:sockpw
localhost:5432:*:*:localpw
*:*:*:*:fallback
";

    #[test]
    fn first_match_wins() {
        assert_eq!(
            find(FILE, "db.example.com", "5432", "app", "alice").unwrap(),
            "first"
        );
        assert_eq!(
            find(FILE, "other", "5432", "app", "alice").unwrap(),
            "second"
        );
        assert_eq!(
            find(FILE, "other", "5433", "app", "alice").unwrap(),
            "fallback"
        );
    }

    #[test]
    fn escapes() {
        assert_eq!(
            find(FILE, "db.example.com", "1", "x", "bob").unwrap(),
            "b:o\\b"
        );
        assert_eq!(find(FILE, "h:x", "5432", "d", "u").unwrap(), "colonhost");
        assert_eq!(
            escape("a:b\\c"),
            "a\\:b\\\\c",
            "escape is the inverse of the grammar"
        );
    }

    #[test]
    fn comments_and_partial_fields() {
        // A comment line never matches, even though its fields would.
        assert_eq!(find("# a:b:c:d:e\n", "#", "b", "c", "d"), None);
        assert_eq!(find("#x:*:*:*:pw\n", "#x", "1", "d", "u"), None);
        // A prefix is not a match.
        assert_eq!(
            find("host:5432:db:user:pw\n", "hos", "5432", "db", "user"),
            None
        );
        assert_eq!(
            find("host:5432:db:user:pw\n", "hostx", "5432", "db", "user"),
            None
        );
        // Too few fields: no match.
        assert_eq!(find("host:5432:db\n", "host", "5432", "db", "user"), None);
        // CRLF line endings.
        assert_eq!(find("h:1:d:u:pw\r\n", "h", "1", "d", "u").unwrap(), "pw");
        // A wildcard must be a whole field.
        assert_eq!(find("h*:1:d:u:pw\n", "hx", "1", "d", "u"), None);
    }

    #[test]
    fn socket_matches_localhost_only_for_the_default_dir() {
        assert_eq!(match_host("/var/run/postgresql"), "localhost");
        assert_eq!(match_host(""), "localhost");
        assert_eq!(match_host("/tmp"), "/tmp");
        assert_eq!(
            find(FILE, match_host("/var/run/postgresql"), "5432", "d", "u").unwrap(),
            "localpw"
        );
        assert_eq!(
            find(FILE, match_host("/tmp"), "5433", "d", "u").unwrap(),
            "sockpw"
        );
    }

    #[test]
    fn insecure_or_odd_files_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("pgpass");
        std::fs::write(&f, "*:*:*:*:pw\n").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(lookup(&f, "h", "1", "d", "u").unwrap(), "pw");
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(check_file(&f), Err(Skipped::Insecure(0o100644)));
        assert_eq!(lookup(&f, "h", "1", "d", "u"), None);
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o640)).unwrap();
        assert_eq!(lookup(&f, "h", "1", "d", "u"), None);
        assert_eq!(check_file(dir.path()), Err(Skipped::NotPlainFile));
        assert_eq!(check_file(&dir.path().join("missing")), Ok(false));
        // No user or database: libpq does not look.
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o400)).unwrap();
        assert_eq!(lookup(&f, "h", "1", "", "u"), None);
    }
}
