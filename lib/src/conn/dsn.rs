//! Connection strings, parsed as libpq 15 parses them (fe-connect.c:
//! `conninfo_uri_parse_options`, `conninfo_uri_parse_params`,
//! `conninfo_uri_decode`, `conninfo_parse`): the same grammar, the same
//! accepted keywords, the same error messages.

use crate::error::Error;

/// Every connection keyword libpq accepts (PQconninfoOptions of libpq 18:
/// libpq 15's list and the 16–18 additions at the end). The resolver
/// refuses, with exit 78, the ones whose value it cannot honour.
pub(crate) const KEYWORDS: &[&str] = &[
    "service",
    "user",
    "password",
    "passfile",
    "channel_binding",
    "connect_timeout",
    "dbname",
    "host",
    "hostaddr",
    "port",
    "client_encoding",
    "options",
    "application_name",
    "fallback_application_name",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_count",
    "tcp_user_timeout",
    "sslmode",
    "sslcompression",
    "sslcert",
    "sslkey",
    "sslpassword",
    "sslrootcert",
    "sslcrl",
    "sslcrldir",
    "sslsni",
    "requirepeer",
    "ssl_min_protocol_version",
    "ssl_max_protocol_version",
    "gssencmode",
    "krbsrvname",
    "gsslib",
    "replication",
    "target_session_attrs",
    // libpq 16
    "require_auth",
    "sslcertmode",
    "load_balance_hosts",
    "gssdelegation",
    // libpq 17
    "sslnegotiation",
    // libpq 18
    "min_protocol_version",
    "max_protocol_version",
    "sslkeylogfile",
    "scram_client_key",
    "scram_server_key",
    "oauth_issuer",
    "oauth_client_id",
    "oauth_client_secret",
    "oauth_scope",
];

/// The libpq keywords a connection string sets, in order (a later one wins).
pub type Keywords = Vec<(String, String)>;

/// The error for an unparsable connection string (exit 78).
pub(crate) fn invalid(why: impl Into<String>) -> Error {
    Error::config("Invalid connection string")
        .cause(why.into())
        .suggest(
            "Use postgresql://user:password@host:port/dbname (percent-encode special characters) \
             or key=value pairs as libpq documents them",
        )
}

/// Whether `s` starts with a URI prefix libpq recognises.
fn uri_prefix_len(s: &str) -> Option<usize> {
    ["postgresql://", "postgres://"]
        .iter()
        .find(|p| s.starts_with(*p))
        .map(|p| p.len())
}

/// Parses a `postgres://` URL or a `key=value` conninfo into libpq keywords.
/// Unknown keywords are errors, as in libpq.
pub fn parse(dsn: &str) -> Result<Keywords, Error> {
    if uri_prefix_len(dsn).is_some() {
        // libpq quotes the URI in its errors; ours never show its password.
        return parse_uri(dsn).map_err(|why| invalid(why.replace(dsn, &redact_uri(dsn))));
    }
    // libpq would say `missing "=" after "mysql://..."`; name the real problem.
    if let Some((scheme, _)) = dsn.split_once("://") {
        if !scheme.contains('=') && !scheme.contains(char::is_whitespace) {
            return Err(invalid(format!(
                "unsupported URI scheme \"{scheme}://\" (expected postgresql:// or postgres://)"
            )));
        }
    }
    parse_conninfo(dsn).map_err(invalid)
}

/// The URI with the password of its user-info part replaced by `[REDACTED]`
/// (by the same look-ahead libpq uses to find it).
pub(crate) fn redact_uri(uri: &str) -> String {
    let Some(prefix) = uri_prefix_len(uri) else {
        return uri.to_string();
    };
    let uri = &redact_query_secrets(uri);
    let rest = &uri[prefix..];
    let end = rest.find(['@', '/']).unwrap_or(rest.len());
    if !rest[end..].starts_with('@') {
        return uri.to_string();
    }
    match rest[..end].find(':') {
        Some(colon) => format!(
            "{}{}:{}{}",
            &uri[..prefix],
            &rest[..colon],
            crate::redact::REDACTED,
            &rest[end..]
        ),
        None => uri.to_string(),
    }
}

/// The URI with the values of its `password` and `sslpassword` query
/// parameters replaced by `[REDACTED]`.
fn redact_query_secrets(uri: &str) -> String {
    let Some((head, query)) = uri.split_once('?') else {
        return uri.to_string();
    };
    let params: Vec<String> = query
        .split('&')
        .map(|p| match p.split_once('=') {
            Some((k, _)) if k == "password" || k == "sslpassword" => {
                format!("{k}={}", crate::redact::REDACTED)
            }
            _ => p.to_string(),
        })
        .collect();
    format!("{head}?{}", params.join("&"))
}

/// Stores a keyword, translating libpq's legacy `requiressl`.
fn store(out: &mut Keywords, key: &str, val: String) -> Result<(), String> {
    let (key, val) = if key == "requiressl" {
        let v = if val.starts_with('1') {
            "require"
        } else {
            "prefer"
        };
        ("sslmode", v.to_string())
    } else {
        (key, val)
    };
    if !KEYWORDS.contains(&key) {
        return Err(format!("invalid connection option \"{key}\""));
    }
    out.push((key.to_string(), val));
    Ok(())
}

/// libpq's URI grammar: `postgresql://[user[:password]@][netloc][:port][,...][/dbname][?param=value&...]`.
pub(crate) fn parse_uri(uri: &str) -> Result<Keywords, String> {
    let prefix = uri_prefix_len(uri).ok_or_else(|| format!("invalid URI: \"{uri}\""))?;
    let b = uri.as_bytes();
    let mut out = Keywords::new();
    let start = prefix;
    let mut p = start;
    // Look ahead for the user-credentials designator.
    while p < b.len() && b[p] != b'@' && b[p] != b'/' {
        p += 1;
    }
    if p < b.len() && b[p] == b'@' {
        let user_start = start;
        let mut q = user_start;
        while b[q] != b':' && b[q] != b'@' {
            q += 1;
        }
        let user = &uri[user_start..q];
        if !user.is_empty() {
            out.push(("user".into(), decode(user)?));
        }
        if b[q] == b':' {
            let pw_start = q + 1;
            let mut r = pw_start;
            while b[r] != b'@' {
                r += 1;
            }
            let pw = &uri[pw_start..r];
            if !pw.is_empty() {
                let pw = decode(pw).map_err(|e| {
                    if e.starts_with("forbidden") {
                        "forbidden value %00 in the password".to_string()
                    } else {
                        "invalid percent-encoded token in the password (percent-encode '%' as %25)"
                            .to_string()
                    }
                })?;
                out.push(("password".into(), pw));
            }
            q = r;
        }
        p = q + 1;
    } else {
        p = start;
    }
    let mut hosts = String::new();
    let mut ports = String::new();
    let mut term: Option<u8>;
    loop {
        let host;
        if p < b.len() && b[p] == b'[' {
            p += 1;
            let h0 = p;
            while p < b.len() && b[p] != b']' {
                p += 1;
            }
            if p >= b.len() {
                return Err(format!(
                    "end of string reached when looking for matching \"]\" in IPv6 host address in URI: \"{uri}\""
                ));
            }
            if p == h0 {
                return Err(format!(
                    "IPv6 host address may not be empty in URI: \"{uri}\""
                ));
            }
            host = &uri[h0..p];
            p += 1;
            if p < b.len() && !matches!(b[p], b':' | b'/' | b'?' | b',') {
                return Err(format!(
                    "unexpected character \"{}\" at position {} in URI (expected \":\" or \"/\"): \"{uri}\"",
                    uri[p..].chars().next().unwrap_or(' '),
                    p + 1
                ));
            }
        } else {
            let h0 = p;
            while p < b.len() && !matches!(b[p], b':' | b'/' | b'?' | b',') {
                p += 1;
            }
            host = &uri[h0..p];
        }
        term = b.get(p).copied();
        hosts.push_str(host);
        if term == Some(b':') {
            p += 1;
            let p0 = p;
            while p < b.len() && !matches!(b[p], b'/' | b'?' | b',') {
                p += 1;
            }
            ports.push_str(&uri[p0..p]);
            term = b.get(p).copied();
        }
        if term != Some(b',') {
            break;
        }
        p += 1;
        hosts.push(',');
        ports.push(',');
    }
    if !hosts.is_empty() {
        out.push(("host".into(), decode(&hosts)?));
    }
    if !ports.is_empty() {
        out.push(("port".into(), decode(&ports)?));
    }
    if term.is_some() && term != Some(b'?') {
        p += 1;
        let d0 = p;
        while p < b.len() && b[p] != b'?' {
            p += 1;
        }
        let db = &uri[d0..p];
        // An empty path sets nothing (PGDATABASE still applies).
        if !db.is_empty() {
            out.push(("dbname".into(), decode(db)?));
        }
        term = b.get(p).copied();
    }
    if term.is_some() {
        parse_params(&uri[p + 1..], &mut out)?;
    }
    Ok(out)
}

/// The URI's query parameters: `key=value` pairs separated by `&`.
fn parse_params(params: &str, out: &mut Keywords) -> Result<(), String> {
    let mut pairs: Vec<&str> = params.split('&').collect();
    // libpq stops at the end of the string: a trailing `&` adds nothing.
    if pairs.last() == Some(&"") {
        pairs.pop();
    }
    for pair in pairs {
        let (key, value) = match pair.split_once('=') {
            None => {
                return Err(format!(
                    "missing key/value separator \"=\" in URI query parameter: \"{pair}\""
                ))
            }
            Some((_, v)) if v.contains('=') => {
                return Err(format!(
                    "extra key/value separator \"=\" in URI query parameter: \"{pair}\""
                ));
            }
            Some(kv) => kv,
        };
        let key = decode(key)?;
        let value = decode(value)?;
        // JDBC compatibility, as libpq.
        let (key, value) = if key == "ssl" && value == "true" {
            ("sslmode".to_string(), "require".to_string())
        } else {
            (key, value)
        };
        if store(out, &key, value).is_err() {
            return Err(format!("invalid URI query parameter: \"{key}\""));
        }
    }
    Ok(())
}

/// Decodes `%XX` escapes as libpq does (`+` stays `+`; `%00` is forbidden).
pub(crate) fn decode(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'%' {
            out.push(b[i]);
            i += 1;
            continue;
        }
        let hex = s
            .get(i + 1..i + 3)
            .filter(|h| h.bytes().all(|c| c.is_ascii_hexdigit()))
            .and_then(|h| u8::from_str_radix(h, 16).ok())
            .ok_or_else(|| format!("invalid percent-encoded token: \"{s}\""))?;
        if hex == 0 {
            return Err(format!(
                "forbidden value %00 in percent-encoded value: \"{s}\""
            ));
        }
        out.push(hex);
        i += 3;
    }
    String::from_utf8(out).map_err(|_| format!("invalid UTF-8 after percent-decoding: \"{s}\""))
}

/// libpq's `key=value` conninfo: whitespace-separated pairs, optional spaces
/// around `=`, values single-quoted with `\'` and `\\` escapes (a backslash
/// escapes the next character in unquoted values too).
pub(crate) fn parse_conninfo(s: &str) -> Result<Keywords, String> {
    let c: Vec<char> = s.chars().collect();
    let mut out = Keywords::new();
    let mut i = 0;
    while i < c.len() {
        if c[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let mut key = String::new();
        while i < c.len() {
            if c[i] == '=' {
                break;
            }
            if c[i].is_ascii_whitespace() {
                while i < c.len() && c[i].is_ascii_whitespace() {
                    i += 1;
                }
                break;
            }
            key.push(c[i]);
            i += 1;
        }
        if i >= c.len() || c[i] != '=' {
            return Err(format!(
                "missing \"=\" after \"{key}\" in connection info string"
            ));
        }
        i += 1;
        while i < c.len() && c[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut val = String::new();
        if i < c.len() && c[i] == '\'' {
            i += 1;
            loop {
                if i >= c.len() {
                    return Err("unterminated quoted string in connection info string".into());
                }
                match c[i] {
                    '\\' => {
                        i += 1;
                        if i < c.len() {
                            val.push(c[i]);
                            i += 1;
                        }
                    }
                    '\'' => {
                        i += 1;
                        break;
                    }
                    ch => {
                        val.push(ch);
                        i += 1;
                    }
                }
            }
        } else {
            while i < c.len() {
                if c[i].is_ascii_whitespace() {
                    i += 1;
                    break;
                }
                if c[i] == '\\' {
                    i += 1;
                    if i < c.len() {
                        val.push(c[i]);
                        i += 1;
                    }
                } else {
                    val.push(c[i]);
                    i += 1;
                }
            }
        }
        store(&mut out, &key, val)?;
    }
    Ok(out)
}

/// Quotes a value for a conninfo string (`'...'` with `\'` and `\\`).
pub fn quote_conninfo(v: &str) -> String {
    let mut s = String::with_capacity(v.len() + 2);
    s.push('\'');
    for ch in v.chars() {
        if ch == '\'' || ch == '\\' {
            s.push('\\');
        }
        s.push(ch);
    }
    s.push('\'');
    s
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn kv(v: &[(&str, &str)]) -> Keywords {
        v.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn uri_full() {
        assert_eq!(
            parse_uri("postgresql://al%20ice:p%40ss%3Aw%2Frd%25@db.example.com:6543/my%2Fdb?sslmode=require&application_name=x%26y").unwrap(),
            kv(&[
                ("user", "al ice"),
                ("password", "p@ss:w/rd%"),
                ("host", "db.example.com"),
                ("port", "6543"),
                ("dbname", "my/db"),
                ("sslmode", "require"),
                ("application_name", "x&y"),
            ])
        );
    }

    #[test]
    fn uri_minimal_and_empty_parts() {
        assert_eq!(parse_uri("postgres://").unwrap(), kv(&[]));
        assert_eq!(parse_uri("postgresql:///").unwrap(), kv(&[]));
        assert_eq!(
            parse_uri("postgresql:///db").unwrap(),
            kv(&[("dbname", "db")])
        );
        assert_eq!(
            parse_uri("postgresql://:5433").unwrap(),
            kv(&[("port", "5433")])
        );
        assert_eq!(parse_uri("postgresql://u@").unwrap(), kv(&[("user", "u")]));
        assert_eq!(
            parse_uri("postgresql://u:@h").unwrap(),
            kv(&[("user", "u"), ("host", "h")])
        );
        assert_eq!(parse_uri("postgresql://h/db?").unwrap().len(), 2);
        // The socket directory in the query, percent-encoded or not.
        assert_eq!(
            parse_uri("postgresql:///db?host=%2Fvar%2Frun%2Fpostgresql&port=5433").unwrap(),
            kv(&[
                ("dbname", "db"),
                ("host", "/var/run/postgresql"),
                ("port", "5433")
            ])
        );
        assert_eq!(
            parse_uri("postgresql://%2Ftmp/db").unwrap(),
            kv(&[("host", "/tmp"), ("dbname", "db")])
        );
    }

    #[test]
    fn uri_ipv6_and_host_lists() {
        assert_eq!(
            parse_uri("postgresql://[::1]:5433/db").unwrap(),
            kv(&[("host", "::1"), ("port", "5433"), ("dbname", "db")])
        );
        assert_eq!(
            parse_uri("postgresql://[2001:db8::1]/db").unwrap(),
            kv(&[("host", "2001:db8::1"), ("dbname", "db")])
        );
        assert_eq!(
            parse_uri("postgresql://u@h1:5432,[::1]:5433,h3/db").unwrap(),
            kv(&[
                ("user", "u"),
                ("host", "h1,::1,h3"),
                ("port", "5432,5433,"),
                ("dbname", "db")
            ])
        );
        assert_eq!(
            parse_uri("postgresql://h1,h2").unwrap(),
            kv(&[("host", "h1,h2"), ("port", ",")])
        );
    }

    #[test]
    fn uri_errors_as_libpq() {
        let e = parse_uri("postgresql://[::1/db").unwrap_err();
        assert!(e.contains("matching \"]\""), "{e}");
        assert!(parse_uri("postgresql://[]/db")
            .unwrap_err()
            .contains("may not be empty"));
        assert!(parse_uri("postgresql://[::1]x/db")
            .unwrap_err()
            .contains("unexpected character \"x\""));
        assert_eq!(
            parse_uri("postgresql://h/db?foo=1").unwrap_err(),
            "invalid URI query parameter: \"foo\""
        );
        assert!(parse_uri("postgresql://h/db?sslmode")
            .unwrap_err()
            .contains("missing key/value separator"));
        assert!(parse_uri("postgresql://h/db?a=b=c")
            .unwrap_err()
            .contains("extra key/value separator"));
        assert_eq!(
            parse_uri("postgresql://u%zz:p@h").unwrap_err(),
            "invalid percent-encoded token: \"u%zz\""
        );
        // The password is never quoted back.
        let e = parse_uri("postgresql://u:hunter%zz@h").unwrap_err();
        assert!(!e.contains("hunter"), "{e}");
        let e = parse("postgresql://u:hunter2@[::1/db").unwrap_err();
        let why = e.error.unwrap();
        assert!(
            !why.contains("hunter2") && why.contains("u:[REDACTED]@[::1/db"),
            "{why}"
        );
        assert_eq!(redact_uri("postgresql://u@h:1/d"), "postgresql://u@h:1/d");
        assert_eq!(
            redact_uri("postgresql://u@h/d?sslpassword=kp&sslmode=require&password=pw"),
            "postgresql://u@h/d?sslpassword=[REDACTED]&sslmode=require&password=[REDACTED]"
        );
        let e = parse("postgresql://u@[::1/db?sslpassword=keypass9").unwrap_err();
        assert!(!e.error.unwrap().contains("keypass9"));
        assert_eq!(
            redact_uri("postgres://u:p:q@h"),
            "postgres://u:[REDACTED]@h"
        );
        assert!(parse_uri("postgresql://u%00@h")
            .unwrap_err()
            .contains("forbidden value %00"));
        assert!(parse("mysql://u@h/db").is_err());
    }

    #[test]
    fn uri_jdbc_ssl_and_requiressl() {
        assert_eq!(
            parse_uri("postgresql://h?ssl=true").unwrap(),
            kv(&[("host", "h"), ("sslmode", "require")])
        );
        assert_eq!(
            parse_uri("postgresql://h?requiressl=1").unwrap(),
            kv(&[("host", "h"), ("sslmode", "require")])
        );
    }

    #[test]
    fn conninfo_quoting_and_escapes() {
        assert_eq!(
            parse_conninfo(r"host=/tmp port = 5433 user='o\'brien' password='a b\\c' dbname=x\ y")
                .unwrap(),
            kv(&[
                ("host", "/tmp"),
                ("port", "5433"),
                ("user", "o'brien"),
                ("password", r"a b\c"),
                ("dbname", "x y"),
            ])
        );
        assert_eq!(
            parse_conninfo("host='' dbname=d").unwrap(),
            kv(&[("host", ""), ("dbname", "d")])
        );
        assert_eq!(
            parse_conninfo("host=h1,h2 port=1,2 hostaddr=127.0.0.1,::1").unwrap(),
            kv(&[
                ("host", "h1,h2"),
                ("port", "1,2"),
                ("hostaddr", "127.0.0.1,::1")
            ])
        );
        assert_eq!(parse_conninfo("   ").unwrap(), kv(&[]));
    }

    #[test]
    fn conninfo_errors_as_libpq() {
        assert_eq!(
            parse_conninfo("tty=x").unwrap_err(),
            "invalid connection option \"tty\""
        );
        assert_eq!(
            parse_conninfo("host").unwrap_err(),
            "missing \"=\" after \"host\" in connection info string"
        );
        assert_eq!(
            parse_conninfo("password='abc").unwrap_err(),
            "unterminated quoted string in connection info string"
        );
    }

    #[test]
    fn quoting_round_trips() {
        let v = r"it's a \ test";
        let s = format!("password={}", quote_conninfo(v));
        assert_eq!(parse_conninfo(&s).unwrap(), kv(&[("password", v)]));
    }
}
