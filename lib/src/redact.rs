//! Secrets never reach a log line, an error or `--json` output.
//!
//! Connection strings are redacted where they are displayed (see `conn`); as a
//! second line of defence every secret the process learns (a password from a
//! flag, a URL, the environment or `.pgpass`) is registered here, and the
//! logger replaces any occurrence of it with `[REDACTED]` before writing.
//!
//! The replacement works on whole words: a password `postgres` is replaced in
//! `u:postgres@h` but not inside `postgresql://`, a password `123` not inside
//! port `5123` — replacing there would show the password by the shape of what
//! is left. And the logger scrubs values only, never the JSON keys
//! (`scrub_value`): a password `level` must not break the log format.

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

/// Replaces every registered secret (and its percent-encoded form) in `text`,
/// where it stands as a whole word (see the module's notes).
pub fn scrub(text: &str) -> String {
    let Ok(v) = secrets().lock() else {
        return text.to_string();
    };
    let mut out = text.to_string();
    for s in v.iter() {
        if out.contains(s.as_str()) {
            out = replace_words(&out, s);
        }
        let enc = percent_encode(s);
        if enc != *s && out.contains(enc.as_str()) {
            out = replace_words(&out, &enc);
        }
    }
    out
}

/// Scrubs every string in a JSON value (object values, array items), never
/// the object keys.
pub fn scrub_value(v: &mut serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::String(s) => {
            let clean = scrub(s);
            if clean != *s {
                *s = clean;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(scrub_value),
        Value::Object(m) => m.values_mut().for_each(scrub_value),
        _ => {}
    }
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Replaces `secret` in `text` with `[REDACTED]` where it is not glued to
/// more word characters: on a side where the secret itself ends in a word
/// character, the neighbour there must not be one (as regex `\b`).
fn replace_words(text: &str, secret: &str) -> String {
    if secret.is_empty() {
        return text.to_string();
    }
    let word_start = secret.chars().next().is_some_and(is_word);
    let word_end = secret.chars().next_back().is_some_and(is_word);
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut prev: Option<char> = None;
    while let Some(i) = rest.find(secret) {
        let before = rest[..i].chars().next_back().or(prev);
        let after = rest[i + secret.len()..].chars().next();
        let glued =
            (word_start && before.is_some_and(is_word)) || (word_end && after.is_some_and(is_word));
        if !glued {
            out.push_str(&rest[..i]);
            out.push_str(REDACTED);
            prev = secret.chars().next_back();
            rest = &rest[i + secret.len()..];
        } else {
            // Not this one: move past its first character.
            let step = rest[i..].chars().next().map_or(1, char::len_utf8);
            out.push_str(&rest[..i + step]);
            prev = rest[i..].chars().next();
            rest = &rest[i + step..];
        }
    }
    out.push_str(rest);
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

    #[test]
    fn whole_words_only() {
        let r = |t: &str, s: &str| replace_words(t, s);
        // The docker default: user, password and database all "postgres".
        assert_eq!(
            r("postgresql://postgres:postgres@h/postgres", "postgres"),
            "postgresql://[REDACTED]:[REDACTED]@h/[REDACTED]"
        );
        assert_eq!(r("port 5123, pid 1234", "123"), "port 5123, pid 1234");
        assert_eq!(r("pw=123 x", "123"), "pw=[REDACTED] x");
        assert_eq!(r("timestamp", "p"), "timestamp");
        assert_eq!(r("a p b", "p"), "a [REDACTED] b");
        assert_eq!(r("secretsecret", "secret"), "secretsecret");
        // Non-word edges match wherever they are.
        assert_eq!(r("x@@y", "@@"), "x[REDACTED]y");
        assert_eq!(r("ab!c!d", "!c!"), "ab[REDACTED]d");
        assert_eq!(r("é日本x 日本", "日本"), "é日本x [REDACTED]");
        // Overlapping candidates: the first whole one wins.
        assert_eq!(r("aab ab", "ab"), "aab [REDACTED]");
    }

    #[test]
    fn values_are_scrubbed_keys_are_not() {
        register("k3ysecret");
        let mut v = serde_json::json!({
            "k3ysecret": "k3ysecret",
            "list": ["a k3ysecret", 1, {"k3ysecret": "pw=k3ysecret"}],
        });
        scrub_value(&mut v);
        assert_eq!(
            v,
            serde_json::json!({
                "k3ysecret": "[REDACTED]",
                "list": ["a [REDACTED]", 1, {"k3ysecret": "pw=[REDACTED]"}],
            })
        );
    }
}
