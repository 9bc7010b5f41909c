//! POSIX shell quoting, for output meant for `eval` (`pg-tmp env`,
//! `pg-dotenv list --format shell`, `pg-dotenv pgenv`).

/// Bytes a word may hold unquoted: none of them is special to sh, in any
/// position (`~` is left out: after `=` or `:` in an assignment it expands).
const SAFE: &[u8] = b"-_./:@%+=,";

/// Quotes `s` as one POSIX sh word: bare when it has only safe characters,
/// else in single quotes, with `'` written as `'\''`. `eval` of the result
/// gives back `s` exactly, whatever it holds (newlines, `$`, backquotes,
/// backslashes, UTF-8).
pub fn quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || SAFE.contains(&b))
    {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn bare_when_safe_quoted_otherwise() {
        assert_eq!(quote("abc"), "abc");
        assert_eq!(
            quote("postgres@127.0.0.1:5432/db"),
            "postgres@127.0.0.1:5432/db"
        );
        assert_eq!(quote(""), "''");
        assert_eq!(quote("it's"), "'it'\\''s'");
        assert_eq!(quote("$x\n`y`"), "'$x\n`y`'");
        assert_eq!(quote("~/x"), "'~/x'");
        assert_eq!(quote("a b"), "'a b'");
    }

    /// `sh` itself reads every quoted word back as the original.
    #[test]
    fn sh_reads_back_the_original() {
        let words = [
            "",
            "plain",
            "it's",
            "''",
            "a b\tc\nd",
            "$HOME `id` $(id) \\ \\n \" !",
            "p@s s:w/o\"rd'x\\y%z#?&",
            "*?[a]{b,c}~;|<>()",
            "é ü 日本",
            "-n",
            "x=~/y",
        ];
        for w in words {
            let script = format!("printf '%s' {}", quote(w));
            let out = std::process::Command::new("sh")
                .arg("-c")
                .arg(&script)
                .env("HOME", "/nonexistent-home")
                .output()
                .unwrap();
            assert!(out.status.success(), "{script}");
            assert_eq!(String::from_utf8(out.stdout).unwrap(), w, "{script}");
        }
    }
}
