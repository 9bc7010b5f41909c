//! Secrets never reach a log line, an error or `--json` output.
//!
//! Connection strings are redacted where they are displayed (see `conn`); as a
//! second line of defence every secret the process learns (a password from a
//! flag, a URL, the environment or `.pgpass`) is registered here, and the
//! logger replaces any occurrence of it with `[REDACTED]` before writing.

use std::sync::{Mutex, OnceLock};

/// The replacement text.
pub const REDACTED: &str = "[REDACTED]";

fn secrets() -> &'static Mutex<Vec<String>> {
    static S: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    S.get_or_init(|| Mutex::new(Vec::new()))
}

/// Remembers a secret so that no later output contains it. Empty strings are
/// ignored: they would match everywhere.
pub fn register(secret: &str) {
    if secret.is_empty() {
        return;
    }
    if let Ok(mut v) = secrets().lock() {
        if !v.iter().any(|s| s == secret) {
            v.push(secret.to_string());
            // Longest first, so a secret containing another is replaced whole.
            v.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }
}

/// Replaces every registered secret (and its percent-encoded form) in `text`.
pub fn scrub(text: &str) -> String {
    let Ok(v) = secrets().lock() else {
        return text.to_string();
    };
    let mut out = text.to_string();
    for s in v.iter() {
        if out.contains(s.as_str()) {
            out = out.replace(s.as_str(), REDACTED);
        }
        let enc = percent_encode(s);
        if enc != *s && out.contains(enc.as_str()) {
            out = out.replace(enc.as_str(), REDACTED);
        }
    }
    out
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrubs_plain_and_encoded() {
        register("s3cr:t@pw");
        assert_eq!(scrub("pw=s3cr:t@pw end"), "pw=[REDACTED] end");
        assert_eq!(
            scrub("postgres://u:s3cr%3At%40pw@h/db"),
            "postgres://u:[REDACTED]@h/db"
        );
        register("");
        assert_eq!(scrub("nothing here"), "nothing here");
    }
}
