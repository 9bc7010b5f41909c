//! SQL identifiers: validation of names taken from files and flags, and
//! quoting (`"` doubled) wherever one goes into SQL.

/// Quotes an identifier for SQL.
pub use pgkit::sql::quote_ident as quote;

/// Whether `s` is a plain identifier: a letter or `_`, then letters, digits,
/// `_` or `$`, at most 63 bytes (NAMEDATALEN - 1).
pub fn is_valid(s: &str) -> bool {
    let mut chars = s.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    s.len() <= 63
        && (first.is_alphabetic() || first == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '$')
}

/// A possibly schema-qualified name, each part a valid identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QualifiedName {
    /// The schema, when given.
    pub schema: Option<String>,
    /// The relation.
    pub name: String,
}

impl QualifiedName {
    /// Parses `name` or `schema.name`; None when a part is not a valid
    /// identifier or there are more parts.
    pub fn parse(s: &str) -> Option<QualifiedName> {
        let parts: Vec<&str> = s.split('.').collect();
        match parts.as_slice() {
            [n] if is_valid(n) => Some(QualifiedName {
                schema: None,
                name: (*n).to_string(),
            }),
            [sch, n] if is_valid(sch) && is_valid(n) => Some(QualifiedName {
                schema: Some((*sch).to_string()),
                name: (*n).to_string(),
            }),
            _ => None,
        }
    }

    /// The quoted SQL form: `"schema"."name"` or `"name"`.
    pub fn sql(&self) -> String {
        match &self.schema {
            Some(s) => format!("{}.{}", quote(s), quote(&self.name)),
            None => quote(&self.name),
        }
    }

    /// The plain display form: `schema.name` or `name`.
    pub fn display(&self) -> String {
        match &self.schema {
            Some(s) => format!("{s}.{}", self.name),
            None => self.name.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_doubles_quotes() {
        assert_eq!(quote("users"), "\"users\"");
        assert_eq!(quote("we\"ird"), "\"we\"\"ird\"");
    }

    #[test]
    fn validity() {
        for ok in ["users", "_x", "a1$", "Users", "café"] {
            assert!(is_valid(ok), "{ok}");
        }
        for bad in ["", "1a", "a-b", "a b", "a\"b", &"x".repeat(64)] {
            assert!(!is_valid(bad), "{bad}");
        }
    }

    #[test]
    fn qualified() {
        let q = QualifiedName::parse("app.users").unwrap_or_else(|| unreachable!());
        assert_eq!(q.sql(), "\"app\".\"users\"");
        assert_eq!(q.display(), "app.users");
        assert!(QualifiedName::parse("a.b.c").is_none());
        assert!(QualifiedName::parse("a.").is_none());
    }
}
