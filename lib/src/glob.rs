//! Shell-style patterns for names (`*` any run of characters, `?` one
//! character, everything else literal), as `--exclude-database` and
//! `--database-pattern` take them: pg_dumpall's and psql's patterns without
//! their regular-expression and quoting rules, which names from a shell
//! rarely need.

/// Whether `name` matches `pattern` as a whole.
pub fn matches(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    // Iterative matching with one backtrack point (the last `*`): linear
    // in practice, never exponential.
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || (p[pi] != '*' && p[pi] == n[ni])) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ni));
            pi += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Whether any of `patterns` matches `name`.
pub fn any(patterns: &[String], name: &str) -> bool {
    patterns.iter().any(|p| matches(p, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(matches("tenant_*", "tenant_42"));
        assert!(matches("tenant_*", "tenant_"));
        assert!(!matches("tenant_*", "tenant"));
        assert!(matches("*", ""));
        assert!(matches("a?c", "abc"));
        assert!(!matches("a?c", "ac"));
        assert!(matches("*_test", "app_test"));
        assert!(!matches("*_test", "app_test2"));
        assert!(matches("a*b*c", "aXXbYYc"));
        assert!(!matches("a*b*c", "aXXbYY"));
        assert!(matches("app", "app"));
        assert!(!matches("app", "App"));
        assert!(matches("é*", "été"));
        assert!(any(&["x".into(), "t*".into()], "tenant"));
        assert!(!any(&[], "tenant"));
    }
}
