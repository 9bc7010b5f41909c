//! CHECK constraints of the simple forms, parsed from pg_get_constraintdef:
//! `col > n`, `col >= n`, `col < n`, `col <= n`, `col BETWEEN a AND b`
//! (which PostgreSQL stores as `col >= a AND col <= b`), `col IN (...)`
//! (stored as `col = ANY (ARRAY[...])`), and `col = x`. Anything else is
//! reported as not understood.

/// What a column's CHECK constraints allow.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rule {
    /// Lower bound and whether it is inclusive.
    pub min: Option<(f64, bool)>,
    /// Upper bound and whether it is inclusive.
    pub max: Option<(f64, bool)>,
    /// The allowed values (text form), for IN lists.
    pub set: Option<Vec<String>>,
    /// A POSIX regular expression values must match (`col ~ '…'`, regex
    /// domains): text is generated from it.
    pub pattern: Option<String>,
    /// String literals of CHECKs not understood (`upper(x) IN ('A','B')`):
    /// offered as candidate values; the server decides.
    pub hints: Vec<String>,
}

impl Rule {
    /// Narrows this rule by another (both must hold).
    pub fn and(&mut self, o: Rule) {
        if let Some(m) = o.min {
            self.min = Some(match self.min {
                Some(c) if c.0 > m.0 || (c.0 == m.0 && !c.1) => c,
                _ => m,
            });
        }
        if let Some(m) = o.max {
            self.max = Some(match self.max {
                Some(c) if c.0 < m.0 || (c.0 == m.0 && !c.1) => c,
                _ => m,
            });
        }
        if let Some(s) = o.set {
            self.set = Some(match self.set.take() {
                Some(cur) => cur.into_iter().filter(|v| s.contains(v)).collect(),
                None => s,
            });
        }
        if o.pattern.is_some() {
            self.pattern = o.pattern;
        }
        self.hints.extend(o.hints);
    }

    /// Why no value can satisfy this rule, when none can (`x > 10 AND
    /// x < 5`, an empty IN list after narrowing).
    pub fn contradiction(&self) -> Option<String> {
        if let (Some((lo, li)), Some((hi, hi_incl))) = (self.min, self.max) {
            if lo > hi || (lo == hi && !(li && hi_incl)) {
                return Some(format!("no value is above {lo} and below {hi}"));
            }
        }
        if self.set.as_ref().is_some_and(|s| s.is_empty()) {
            return Some("the allowed value lists have nothing in common".into());
        }
        None
    }
}

/// The string literals of a CHECK definition, unescaped (`'A'::text` → `A`).
pub fn literals(def: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = def.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        if c != '\'' {
            continue;
        }
        let mut lit = String::new();
        loop {
            match chars.next() {
                Some((_, '\'')) if chars.peek().map(|p| p.1) == Some('\'') => {
                    chars.next();
                    lit.push('\'');
                }
                Some((_, '\'')) | None => break,
                Some((_, ch)) => lit.push(ch),
            }
        }
        if !out.contains(&lit) {
            out.push(lit);
        }
    }
    out
}

/// Strips balanced outer parentheses.
fn unparen(mut s: &str) -> &str {
    loop {
        s = s.trim();
        if s.starts_with('(') && s.ends_with(')') && closing(s, 0) == Some(s.len() - 1) {
            s = &s[1..s.len() - 1];
        } else {
            return s;
        }
    }
}

/// The index of the parenthesis closing the one at `open`.
fn closing(s: &str, open: usize) -> Option<usize> {
    let mut depth = 0i32;
    let mut quoted = false;
    for (i, c) in s.char_indices().skip_while(|(i, _)| *i < open) {
        match c {
            '\'' => quoted = !quoted,
            '(' | '[' if !quoted => depth += 1,
            ')' | ']' if !quoted => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Splits at a separator outside parentheses, brackets and quotes.
fn split_top<'a>(s: &'a str, sep: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let (mut depth, mut quoted, mut last) = (0i32, false, 0usize);
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\'' => quoted = !quoted,
            b'(' | b'[' if !quoted => depth += 1,
            b')' | b']' if !quoted => depth -= 1,
            _ if !quoted && depth == 0 && s[i..].starts_with(sep) => {
                out.push(&s[last..i]);
                i += sep.len();
                last = i;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out.push(&s[last..]);
    out
}

/// A literal without its casts: `(0)::numeric` → `0`, `'a''b'::text` → `a'b`.
fn literal(s: &str) -> Option<String> {
    let s = unparen(s);
    let head = split_top(s, "::")[0];
    let head = unparen(head);
    if head.len() != s.len() {
        return literal(head);
    }
    if let Some(inner) = head.strip_prefix('\'').and_then(|h| h.strip_suffix('\'')) {
        return Some(inner.replace("''", "'"));
    }
    if head.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '+' || c == '.') {
        return Some(head.to_string());
    }
    match head {
        "true" | "false" => Some(head.to_string()),
        _ => None,
    }
}

/// An identifier without casts and quotes: `(status)::text` → `status`.
fn ident(s: &str) -> Option<String> {
    let s = unparen(split_top(unparen(s), "::")[0]);
    if let Some(q) = s.strip_prefix('"').and_then(|q| q.strip_suffix('"')) {
        return Some(q.replace("\"\"", "\""));
    }
    if s.chars()
        .all(|c| c.is_alphanumeric() || c == '_' || c == '$')
        && !s.is_empty()
    {
        return Some(s.to_string());
    }
    None
}

fn comparison(s: &str, col: &str) -> Option<Rule> {
    let s = unparen(s);
    let parts = split_top(s, " AND ");
    if parts.len() > 1 {
        let mut r = Rule::default();
        for p in parts {
            r.and(comparison(p, col)?);
        }
        return Some(r);
    }
    // Non-empty text: every generated text value is (`length(col) > 0`,
    // `char_length(col) > 0`, `col <> ''`).
    for f in ["length(", "char_length("] {
        if let Some(arg) = s.strip_prefix(f).and_then(|r| r.strip_suffix(") > 0")) {
            if ident(arg).as_deref() == Some(col) {
                return Some(Rule::default());
            }
        }
    }
    let sides = split_top(s, " <> ");
    if sides.len() == 2
        && ident(sides[0]).as_deref() == Some(col)
        && literal(sides[1]).as_deref() == Some("")
    {
        return Some(Rule::default());
    }
    // `col ~ 'regex'` (regex domains are `VALUE ~ '…'`).
    let sides = split_top(s, " ~ ");
    if sides.len() == 2 && ident(sides[0]).as_deref() == Some(col) {
        return Some(Rule {
            pattern: Some(literal(sides[1])?),
            ..Rule::default()
        });
    }
    for op in [" >= ", " <= ", " > ", " < ", " = "] {
        let sides = split_top(s, op);
        if sides.len() != 2 {
            continue;
        }
        if ident(sides[0])? != col {
            return None;
        }
        let rhs = unparen(sides[1]);
        if op == " = " {
            if let Some(list) = rhs.strip_prefix("ANY ") {
                let list = unparen(split_top(unparen(list), "::")[0]);
                let inner = list.strip_prefix("ARRAY[")?.strip_suffix(']')?;
                let values: Option<Vec<String>> =
                    split_top(inner, ", ").into_iter().map(literal).collect();
                return Some(Rule {
                    set: Some(values?),
                    ..Rule::default()
                });
            }
            return Some(Rule {
                set: Some(vec![literal(rhs)?]),
                ..Rule::default()
            });
        }
        let v: f64 = literal(rhs)?.parse().ok()?;
        return Some(match op {
            " >= " => Rule {
                min: Some((v, true)),
                ..Rule::default()
            },
            " > " => Rule {
                min: Some((v, false)),
                ..Rule::default()
            },
            " <= " => Rule {
                max: Some((v, true)),
                ..Rule::default()
            },
            _ => Rule {
                max: Some((v, false)),
                ..Rule::default()
            },
        });
    }
    None
}

/// Parses a CHECK definition (`CHECK ((qty > 0))`) as a rule on `col`;
/// None when it is not one of the simple forms.
pub fn parse(def: &str, col: &str) -> Option<Rule> {
    let body = def.trim().strip_prefix("CHECK")?.trim();
    let body = body.strip_suffix("NOT VALID").unwrap_or(body).trim();
    comparison(body, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(min: Option<(f64, bool)>, max: Option<(f64, bool)>) -> Option<Rule> {
        Some(Rule {
            min,
            max,
            ..Rule::default()
        })
    }

    #[test]
    fn simple_forms() {
        assert_eq!(
            parse("CHECK ((qty > 0))", "qty"),
            r(Some((0.0, false)), None)
        );
        assert_eq!(
            parse("CHECK ((price >= (0.5)::numeric))", "price"),
            r(Some((0.5, true)), None)
        );
        assert_eq!(
            parse("CHECK ((t < '-5'::integer))", "t"),
            r(None, Some((-5.0, false)))
        );
        assert_eq!(
            parse("CHECK (((qty >= 1) AND (qty <= 10)))", "qty"),
            r(Some((1.0, true)), Some((10.0, true)))
        );
        assert_eq!(
            parse("CHECK ((VALUE > 0))", "VALUE"),
            r(Some((0.0, false)), None)
        );
        assert_eq!(
            parse(
                "CHECK ((status = ANY (ARRAY['new'::text, 'it''s'::text])))",
                "status"
            )
            .and_then(|r| r.set),
            Some(vec!["new".to_string(), "it's".to_string()])
        );
        assert_eq!(
            parse(
                "CHECK (((status)::text = ANY ((ARRAY['a'::character varying, 'b'::character varying])::text[])))",
                "status"
            )
            .and_then(|r| r.set),
            Some(vec!["a".to_string(), "b".to_string()])
        );
        assert_eq!(
            parse("CHECK ((n = ANY (ARRAY[1, 2, 3])))", "n").and_then(|r| r.set),
            Some(vec!["1".to_string(), "2".into(), "3".into()])
        );
        assert_eq!(
            parse("CHECK ((\"Weird\" > 3)) NOT VALID", "Weird"),
            r(Some((3.0, false)), None)
        );
    }

    #[test]
    fn non_empty_text() {
        assert_eq!(
            parse("CHECK ((length(name) > 0))", "name"),
            Some(Rule::default())
        );
        assert_eq!(
            parse("CHECK ((length((name)::text) > 0))", "name"),
            Some(Rule::default())
        );
        assert_eq!(parse("CHECK ((c <> ''::text))", "c"), Some(Rule::default()));
        assert_eq!(parse("CHECK ((length(name) > 3))", "name"), None);
    }

    #[test]
    fn patterns_literals_and_contradictions() {
        assert_eq!(
            parse("CHECK ((VALUE ~ '^[A-Z]{3}$'::text))", "VALUE").and_then(|r| r.pattern),
            Some("^[A-Z]{3}$".to_string())
        );
        assert_eq!(
            literals("CHECK ((upper(code) = ANY (ARRAY['A'::text, 'it''s'::text])))"),
            vec!["A".to_string(), "it's".to_string()]
        );
        let r = parse("CHECK (((n > 10) AND (n < 5)))", "n").unwrap_or_default();
        assert!(r.contradiction().is_some());
        let r = parse("CHECK (((n >= 5) AND (n <= 5)))", "n").unwrap_or_default();
        assert!(r.contradiction().is_none());
    }

    #[test]
    fn not_understood() {
        assert_eq!(parse("CHECK ((a > b))", "a"), None);
        assert_eq!(parse("CHECK ((a > 0))", "b"), None);
        assert_eq!(parse("CHECK (((a > 0) OR (a < -5)))", "a"), None);
    }
}
