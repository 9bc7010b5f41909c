//! Output formats of `list` and `pgenv`: dotenv, shell, export, json.

use crate::quote;
use pgkit::{log, Error, Exit, Result};
use serde_json::{json, Map, Value};

/// The `list` output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// KEY=value lines, quoted as pg-dotenv writes them.
    Dotenv,
    /// KEY='value' lines, safe to eval in sh.
    Shell,
    /// export KEY='value' lines, safe to eval in sh.
    Export,
    /// One JSON object, keys in file order.
    Json,
}

/// Quotes a word for POSIX sh (the library's `pgkit::shell::quote`).
pub use pgkit::shell::quote as sh_quote;

/// Whether `key` is a valid sh variable name.
pub fn sh_name(key: &str) -> bool {
    let b = key.as_bytes();
    !b.is_empty()
        && (b[0].is_ascii_alphabetic() || b[0] == b'_')
        && b.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'_')
}

/// Variables bash will not let `eval` assign (read-only in every shell
/// session): a line setting one aborts the whole `eval`.
const SHELL_READONLY: &[&str] = &[
    "UID",
    "EUID",
    "PPID",
    "BASHOPTS",
    "SHELLOPTS",
    "BASH_VERSINFO",
    "BASH_ARGV0",
];

/// Renders the pairs in a format; also returns how many were written.
pub fn render(pairs: &[(&str, &str)], format: Format) -> Result<(String, usize)> {
    let mut out = String::new();
    let mut written = pairs.len();
    match format {
        Format::Json => {
            let mut m = Map::new();
            for (k, v) in pairs {
                m.insert(k.to_string(), Value::String(v.to_string()));
            }
            out.push_str(&Value::Object(m).to_string());
            out.push('\n');
        }
        Format::Dotenv => {
            for (k, v) in pairs {
                let q = quote::quote(v).map_err(|why| {
                    Error::new(Exit::DataErr, "Cannot write a value")
                        .cause(why)
                        .field("key", *k)
                })?;
                out.push_str(k);
                out.push('=');
                out.push_str(&q);
                out.push('\n');
            }
        }
        Format::Shell | Format::Export => {
            for (k, v) in pairs {
                if !sh_name(k) {
                    log::warn(
                        "Key is not a valid shell variable name; left out",
                        json!({"key": k}),
                    );
                    written -= 1;
                    continue;
                }
                if SHELL_READONLY.contains(k) {
                    log::warn(
                        "Key is a read-only shell variable: eval of this output fails in bash",
                        json!({"key": k, "suggestion": "Rename the key, or read it with pg-dotenv get"}),
                    );
                }
                if format == Format::Export {
                    out.push_str("export ");
                }
                out.push_str(k);
                out.push('=');
                out.push_str(&sh_quote(v));
                out.push('\n');
            }
        }
    }
    Ok((out, written))
}

#[cfg(test)]
#[allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn sh_quoting() {
        assert_eq!(sh_quote("abc"), "abc");
        assert_eq!(sh_quote(""), "''");
        assert_eq!(sh_quote("it's"), "'it'\\''s'");
        assert_eq!(sh_quote("$x\n`y`"), "'$x\n`y`'");
        assert!(sh_name("A_1") && !sh_name("a.b") && !sh_name("1a"));
    }
}
