//! From a raw value to its string: double-quote escapes, then `$` expansion
//! the way Compose does it (escapes first, `\$` standing for a literal `$`,
//! then `$$`, `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
//! `${VAR:?error}`, `${VAR?error}`, `${VAR:+alt}`, `${VAR+alt}`; defaults
//! may nest).

use crate::parse::Quote;
use std::borrow::Cow;

/// Decodes the escapes of a double-quoted value: `\n \r \t \\ \" \$` and
/// `` \` `` (plus Compose's `\a \b \f \v`); any other backslash is kept. With
/// `for_expansion`, `\$` becomes `$$` so that expansion keeps it literal.
pub fn unescape(inner: &str, for_expansion: bool) -> String {
    if !inner.contains('\\') {
        return inner.to_string();
    }
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(ch) = chars.next() {
        if ch != '\\' {
            out.push(ch);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('a') => out.push('\u{7}'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('v') => out.push('\u{b}'),
            Some('\\') => out.push('\\'),
            Some('"') => out.push('"'),
            Some('`') => out.push('`'),
            Some('$') => out.push_str(if for_expansion { "$$" } else { "$" }),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Expands `$` references in `s`. `lookup` answers a variable's value, or
/// None when it is unset; `missing` is told about each unset variable that
/// expanded to the empty string. Errors name what is wrong.
pub fn expand(
    s: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    missing: &mut dyn FnMut(&str),
) -> Result<String, String> {
    expand_at(s, lookup, missing, 0)
}

/// The largest value expansion may build: references that double a value
/// line after line (`B=${A}${A}`) would otherwise take all memory.
pub const MAX_EXPANDED: usize = 1 << 20;
/// The most all of one read's expanded values may hold together: a file of
/// lines that each copy a 1 MiB value would otherwise take memory by the
/// gigabyte.
pub const MAX_EXPANDED_TOTAL: usize = 64 << 20;
/// The deepest nesting of `${A:-${B:-…}}` followed.
const MAX_DEPTH: usize = 32;

fn too_big() -> String {
    format!(
        "the expanded value exceeds {} bytes (references that grow a value line after line?)",
        MAX_EXPANDED
    )
}

fn expand_at(
    s: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    missing: &mut dyn FnMut(&str),
    depth: usize,
) -> Result<String, String> {
    if depth > MAX_DEPTH {
        return Err(format!("${{…}} nested more than {MAX_DEPTH} deep"));
    }
    if !s.contains('$') {
        return Ok(s.to_string());
    }
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let mut lit = 0;
    while i < b.len() {
        if b[i] != b'$' {
            i += 1;
            continue;
        }
        out.push_str(&s[lit..i]);
        match b.get(i + 1) {
            Some(b'$') => {
                out.push('$');
                i += 2;
            }
            Some(b'{') => {
                // Messages never quote the value: it may be a secret.
                let close = matching_brace(b, i + 2)
                    .ok_or_else(|| "unterminated ${ (no closing })".to_string())?;
                let inner = &s[i + 2..close];
                out.push_str(&braced(inner, lookup, missing, depth)?);
                i = close + 1;
                if out.len() > MAX_EXPANDED {
                    return Err(too_big());
                }
            }
            Some(&c) if c.is_ascii_alphabetic() || c == b'_' => {
                let mut j = i + 1;
                while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                    j += 1;
                }
                let name = &s[i + 1..j];
                match lookup(name) {
                    Some(v) => out.push_str(&v),
                    None => missing(name),
                }
                i = j;
                if out.len() > MAX_EXPANDED {
                    return Err(too_big());
                }
            }
            _ => {
                out.push('$');
                i += 1;
            }
        }
        lit = i;
    }
    out.push_str(&s[lit..]);
    if out.len() > MAX_EXPANDED {
        return Err(too_big());
    }
    Ok(out)
}

/// The index of the `}` closing a `${` whose content starts at `from`.
fn matching_brace(b: &[u8], from: usize) -> Option<usize> {
    let mut depth = 1usize;
    let mut j = from;
    while j < b.len() {
        match b[j] {
            b'$' if b.get(j + 1) == Some(&b'$') => j += 1,
            b'$' if b.get(j + 1) == Some(&b'{') => {
                depth += 1;
                j += 1;
            }
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(j);
                }
            }
            _ => {}
        }
        j += 1;
    }
    None
}

/// The error of `${NAME:?message}`: the message only when there is one.
fn required(name: &str, state: &str, message: &str) -> String {
    if message.is_empty() {
        format!("required variable {name} is {state}")
    } else {
        format!("required variable {name} is {state}: {message}")
    }
}

fn braced(
    inner: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    missing: &mut dyn FnMut(&str),
    depth: usize,
) -> Result<String, String> {
    let b = inner.as_bytes();
    let n = b
        .iter()
        .position(|&c| !(c.is_ascii_alphanumeric() || c == b'_'))
        .unwrap_or(b.len());
    let name = &inner[..n];
    if name.is_empty() || b[0].is_ascii_digit() {
        return Err(
            "invalid variable reference: expected a name [A-Za-z_][A-Za-z0-9_]* after ${"
                .to_string(),
        );
    }
    let rest = &inner[n..];
    let value = lookup(name);
    let (op, arg) = if rest.is_empty() {
        ("", "")
    } else if let Some(a) = rest.strip_prefix(":-") {
        (":-", a)
    } else if let Some(a) = rest.strip_prefix(":?") {
        (":?", a)
    } else if let Some(a) = rest.strip_prefix(":+") {
        (":+", a)
    } else if let Some(a) = rest.strip_prefix('-') {
        ("-", a)
    } else if let Some(a) = rest.strip_prefix('?') {
        ("?", a)
    } else if let Some(a) = rest.strip_prefix('+') {
        ("+", a)
    } else {
        return Err(format!(
            "invalid variable reference to {name}: expected }}, :-, -, :?, ?, :+ or + after the name"
        ));
    };
    let set = value.is_some();
    let non_empty = value.as_deref().is_some_and(|v| !v.is_empty());
    let arg_value = |missing: &mut dyn FnMut(&str)| expand_at(arg, lookup, missing, depth + 1);
    Ok(match op {
        "" => match value {
            Some(v) => v,
            None => {
                missing(name);
                String::new()
            }
        },
        ":-" if !non_empty => arg_value(missing)?,
        "-" if !set => arg_value(missing)?,
        ":?" if !non_empty => {
            let state = if set { "empty" } else { "not set" };
            return Err(required(name, state, &arg_value(missing)?));
        }
        "?" if !set => return Err(required(name, "not set", &arg_value(missing)?)),
        ":+" => {
            if non_empty {
                arg_value(missing)?
            } else {
                String::new()
            }
        }
        "+" => {
            if set {
                arg_value(missing)?
            } else {
                String::new()
            }
        }
        _ => value.unwrap_or_default(),
    })
}

/// The final string of a raw value (`inner` is the text between the quotes,
/// or the bare value).
pub fn resolve<'a>(
    quote: Quote,
    inner: &'a str,
    interpolate: bool,
    lookup: &dyn Fn(&str) -> Option<String>,
    missing: &mut dyn FnMut(&str),
) -> Result<Cow<'a, str>, String> {
    // Most values need no work: borrow them.
    let plain = !inner.contains('$') || !interpolate;
    Ok(match quote {
        Quote::Single => Cow::Borrowed(inner),
        Quote::SingleEscaped => {
            let mut out = String::with_capacity(inner.len());
            let mut chars = inner.chars();
            while let Some(ch) = chars.next() {
                match (ch, chars.clone().next()) {
                    ('\\', Some(n @ ('\'' | '\\'))) => {
                        out.push(n);
                        chars.next();
                    }
                    _ => out.push(ch),
                }
            }
            Cow::Owned(out)
        }
        Quote::Double if plain && !inner.contains('\\') => Cow::Borrowed(inner),
        Quote::Double if !interpolate => Cow::Owned(unescape(inner, false)),
        Quote::Double => Cow::Owned(expand(&unescape(inner, true), lookup, missing)?),
        Quote::None if plain => Cow::Borrowed(inner),
        Quote::None => Cow::Owned(expand(inner, lookup, missing)?),
    })
}

#[cfg(test)]
#[allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn ex(s: &str) -> Result<String, String> {
        let look = |k: &str| match k {
            "A" => Some("a".to_string()),
            "E" => Some(String::new()),
            _ => None,
        };
        expand(s, &look, &mut |_| {})
    }

    #[test]
    fn forms() {
        assert_eq!(ex("x$A${A}y").as_deref(), Ok("xaay"));
        assert_eq!(ex("$$A").as_deref(), Ok("$A"));
        assert_eq!(ex("${B:-d}|${E:-d}|${E-d}|${B-d}").as_deref(), Ok("d|d||d"));
        assert_eq!(ex("${B:-${A}x}").as_deref(), Ok("ax"));
        assert_eq!(ex("${A:+yes}${B:+no}${E+set}").as_deref(), Ok("yesset"));
        assert_eq!(ex("a$ $1 $-").as_deref(), Ok("a$ $1 $-"));
        assert_eq!(
            ex("${B:?need B}"),
            Err("required variable B is not set: need B".into())
        );
        assert_eq!(ex("${E:?}"), Err("required variable E is empty".into()));
        assert_eq!(ex("${B?}"), Err("required variable B is not set".into()));
        assert!(ex("${1}").is_err());
        assert!(ex("${A").is_err());
        assert!(ex("${A%x}").is_err());
    }

    #[test]
    fn escapes() {
        assert_eq!(unescape(r#"a\nb\t\\\"\$\`\q"#, false), "a\nb\t\\\"$`\\q");
        let look = |_: &str| Some("v".to_string());
        assert_eq!(
            resolve(Quote::Double, r"\$A $A", true, &look, &mut |_| {}).as_deref(),
            Ok("$A v")
        );
    }
}
