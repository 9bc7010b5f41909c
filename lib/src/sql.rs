//! Quoting for SQL text built from names and values that come from files,
//! flags and the environment. Every tool that writes SQL quotes through here.

/// Quotes an identifier: `"` doubled, the whole in double quotes, so any
/// name (`users`, `My Table`, `a"b`) is taken exactly as written.
pub fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// Quotes a string literal: `'` doubled; an `E''` literal when the value has
/// a backslash, so the result means the same whatever
/// `standard_conforming_strings` is.
pub fn quote_literal(s: &str) -> String {
    if s.contains('\\') {
        format!("E'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
    } else {
        format!("'{}'", s.replace('\'', "''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_and_literals() {
        assert_eq!(quote_ident("users"), "\"users\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_literal("it's"), "'it''s'");
        assert_eq!(quote_literal("C:\\x'"), "E'C:\\\\x'''");
    }
}
