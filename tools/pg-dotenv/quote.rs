//! Writing a value so that every reader reads it back byte for byte:
//! pg-dotenv, Docker Compose, python-dotenv and POSIX `sh` (`set -a; . ./.env`).
//!
//! - Bare when every character is one none of them treats specially:
//!   `[A-Za-z0-9_./:@%+,=-]` (no `~`: sh expands it in assignments).
//! - Single quotes when the value has no `'` — and no `\\` pair and no
//!   trailing `\`: python-dotenv unescapes `\\` inside single quotes and
//!   Compose reads `\'` as an escaped quote.
//! - Otherwise double quotes, escaping `\` `"` `$` and `` ` `` with a
//!   backslash (the four characters sh interprets there); newlines and every
//!   other character are written as they are. These read back exactly in
//!   pg-dotenv and sh; Compose and python-dotenv agree too unless the value
//!   has a `` ` `` (neither knows `` \` ``) or, for python-dotenv, a `$` (it
//!   has no `\$` escape). python-dotenv also cannot represent `${` (it expands
//!   it even in single quotes), a carriage return (universal newlines) or a
//!   trailing backslash. man/pg-dotenv.1 (WRITING) documents all of this.
//! - A NUL byte cannot be in a file any of them reads: refused.

use std::borrow::Cow;

/// Whether `c` is safe unquoted for every reader.
fn bare_safe(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(c, '_' | '.' | '/' | ':' | '@' | '%' | '+' | ',' | '=' | '-')
}

/// The quoted form of `value`, or an error naming why it cannot be written.
pub fn quote(value: &str) -> Result<Cow<'_, str>, &'static str> {
    if value.contains('\0') {
        return Err("the value contains a NUL byte, which no .env reader can represent");
    }
    if value.chars().all(bare_safe) {
        return Ok(Cow::Borrowed(value));
    }
    if !value.contains('\'') && !value.contains("\\\\") && !value.ends_with('\\') {
        let mut s = String::with_capacity(value.len() + 2);
        s.push('\'');
        s.push_str(value);
        s.push('\'');
        return Ok(Cow::Owned(s));
    }
    let mut s = String::with_capacity(value.len() + 8);
    s.push('"');
    for c in value.chars() {
        if matches!(c, '\\' | '"' | '$' | '`') {
            s.push('\\');
        }
        s.push(c);
    }
    s.push('"');
    Ok(Cow::Owned(s))
}

#[cfg(test)]
#[allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn styles() {
        assert_eq!(quote("abc").as_deref(), Ok("abc"));
        assert_eq!(quote("").as_deref(), Ok(""));
        assert_eq!(
            quote("postgres://u:p@h:5432/db").as_deref(),
            Ok("postgres://u:p@h:5432/db")
        );
        assert_eq!(quote("a b").as_deref(), Ok("'a b'"));
        assert_eq!(quote("$x \"y\"").as_deref(), Ok("'$x \"y\"'"));
        assert_eq!(quote("it's").as_deref(), Ok("\"it's\""));
        assert_eq!(quote("a\\").as_deref(), Ok("\"a\\\\\""));
        assert_eq!(
            quote("it's $5 `x` \\").as_deref(),
            Ok(r#""it's \$5 \`x\` \\""#)
        );
        assert_eq!(quote("~").as_deref(), Ok("'~'"));
        assert!(quote("a\0b").is_err());
    }
}
