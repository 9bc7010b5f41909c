//! The editor: splices one key's value into the file's text and leaves every
//! other byte as it was (comments, blank lines, order, `export`, other keys'
//! quoting, CRLF, a missing final newline, a BOM).

use crate::parse::{self, Doc, ParseError};
use crate::quote;

/// One requested change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Set the key (changing its last occurrence, or appending it).
    Set(String, String),
    /// Set the key only when the file does not have it.
    SetIfAbsent(String, String),
    /// Set the key when the file does not have it or has it empty
    /// (`KEY=` as copied from a `.env.example`).
    SetIfEmpty(String, String),
    /// Remove every occurrence of the key.
    Unset(String),
}

impl Op {
    /// The key the change is about.
    pub fn key(&self) -> &str {
        match self {
            Op::Set(k, _) | Op::SetIfAbsent(k, _) | Op::SetIfEmpty(k, _) | Op::Unset(k) => k,
        }
    }
}

/// What one change did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The key was changed in place (at this line).
    Changed(usize),
    /// The key was appended.
    Added,
    /// The key already had exactly this value (or was present for
    /// set-if-absent, or absent for unset): nothing changed.
    Unchanged,
    /// This many occurrences were removed.
    Removed(usize),
}

/// The result of one change: the new text, what happened, and the lines of
/// other occurrences of the key (duplicates).
#[derive(Debug)]
pub struct Applied {
    /// The new file text.
    pub text: String,
    /// What happened.
    pub outcome: Outcome,
    /// Lines of the earlier (shadowed) occurrences of the key.
    pub duplicates: Vec<usize>,
}

/// Why a change cannot be made.
#[derive(Debug)]
pub enum EditError {
    /// The file does not parse.
    Parse(ParseError),
    /// The value cannot be written.
    Value(&'static str),
}

/// Applies one change to `src`.
pub fn apply(src: &str, op: &Op) -> Result<Applied, EditError> {
    let doc = parse::parse_lenient(src).map_err(EditError::Parse)?;
    // A line that does not parse stays byte for byte; changing its own key
    // is refused (where would the value go?).
    if let Some(bad) = doc.bad.iter().find(|b| b.key.as_deref() == Some(op.key())) {
        return Err(EditError::Parse(bad.error.clone()));
    }
    apply_to(src, &doc, op)
}

fn apply_to(src: &str, doc: &Doc, op: &Op) -> Result<Applied, EditError> {
    let key = op.key();
    let all: Vec<usize> = doc
        .entries
        .iter()
        .enumerate()
        .filter(|(_, e)| e.key(src) == key)
        .map(|(i, _)| i)
        .collect();
    let duplicates: Vec<usize> = match all.split_last() {
        Some((_, rest)) => rest.iter().map(|&i| doc.entries[i].line).collect(),
        None => Vec::new(),
    };
    let unchanged = |duplicates| Applied {
        text: src.to_string(),
        outcome: Outcome::Unchanged,
        duplicates,
    };
    match op {
        Op::SetIfAbsent(_, _) if !all.is_empty() => Ok(unchanged(duplicates)),
        Op::SetIfEmpty(_, _)
            if all
                .last()
                .is_some_and(|&i| !doc.entries[i].inner(src).is_empty()) =>
        {
            Ok(unchanged(duplicates))
        }
        Op::Set(_, value) | Op::SetIfAbsent(_, value) | Op::SetIfEmpty(_, value) => {
            let q = quote::quote(value).map_err(EditError::Value)?;
            match all.last() {
                Some(&i) => {
                    let e = &doc.entries[i];
                    // A bare value must not run into what follows it: an
                    // empty one before a comment (`A= # c` reads "# c") or
                    // any before a `#` with no blank (`A=x#c` reads "x#c").
                    let after = &src[e.value.end..];
                    let rest = after.trim_start_matches([' ', '\t', '\u{b}', '\u{c}']);
                    let comment_follows = rest.starts_with('#');
                    let bare = !q.starts_with(['\'', '"']);
                    // `A= # c` (an empty value before a comment): the new
                    // value goes before one blank and the comment.
                    let spaced = e.value.is_empty() && after.starts_with('#') && !q.is_empty();
                    let q = if bare
                        && ((after.starts_with('#') && !spaced)
                            || (q.is_empty() && comment_follows))
                    {
                        std::borrow::Cow::Owned(format!("'{q}'"))
                    } else {
                        q
                    };
                    if e.raw(src) == q {
                        return Ok(unchanged(duplicates));
                    }
                    // No blank between `=` and the written value: `A= /x`
                    // sourced by sh would run /x as a command. A comment that
                    // followed an empty value keeps one blank before it.
                    let mut eq = e.value.start;
                    while eq > e.key.end && src.as_bytes()[eq - 1] != b'=' {
                        eq -= 1;
                    }
                    let mut text = String::with_capacity(src.len() + q.len() + 1);
                    text.push_str(&src[..eq]);
                    text.push_str(&q);
                    let rest = &src[e.value.end..];
                    if spaced || (e.value.is_empty() && rest.starts_with('#')) {
                        text.push(' ');
                    }
                    text.push_str(rest);
                    Ok(Applied {
                        text,
                        outcome: Outcome::Changed(e.line),
                        duplicates,
                    })
                }
                None => {
                    let eol = doc.eol();
                    // New keys follow the file's habit: `export` when every
                    // existing entry has it.
                    let export = !doc.entries.is_empty() && doc.entries.iter().all(|e| e.export);
                    let line = format!("{}{key}={q}", if export { "export " } else { "" });
                    let body = src.strip_prefix('\u{feff}').unwrap_or(src);
                    let mut text = String::with_capacity(src.len() + line.len() + 2);
                    text.push_str(src);
                    if body.is_empty() || src.ends_with('\n') {
                        text.push_str(&line);
                        text.push_str(eol);
                    } else {
                        // No final newline: separate, and keep it that way.
                        text.push_str(eol);
                        text.push_str(&line);
                    }
                    Ok(Applied {
                        text,
                        outcome: Outcome::Added,
                        duplicates,
                    })
                }
            }
        }
        Op::Unset(_) => {
            if all.is_empty() {
                return Ok(unchanged(Vec::new()));
            }
            let mut text = String::with_capacity(src.len());
            let mut pos = 0;
            for &i in &all {
                let span = &doc.entries[i].span;
                text.push_str(&src[pos..span.start]);
                pos = span.end;
            }
            text.push_str(&src[pos..]);
            // A file without a final newline keeps not having one.
            if !src.ends_with('\n') && text.ends_with('\n') {
                text.pop();
                if text.ends_with('\r') {
                    text.pop();
                }
            }
            Ok(Applied {
                text,
                outcome: Outcome::Removed(all.len()),
                duplicates: Vec::new(),
            })
        }
    }
}

#[cfg(test)]
#[allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn set(src: &str, k: &str, v: &str) -> String {
        apply(src, &Op::Set(k.into(), v.into()))
            .map(|a| a.text)
            .unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn unset(src: &str, k: &str) -> String {
        apply(src, &Op::Unset(k.into()))
            .map(|a| a.text)
            .unwrap_or_else(|e| panic!("{e:?}"))
    }

    #[test]
    fn only_the_value_changes() {
        let src = "# top\r\nexport A=old # note\r\n\r\nB='keep'\r\nA=older";
        assert_eq!(
            set(src, "A", "new value"),
            "# top\r\nexport A=old # note\r\n\r\nB='keep'\r\nA='new value'"
        );
        assert_eq!(set("A=1 # c\n", "A", "2"), "A=2 # c\n");
        assert_eq!(set("export A=\"x\"  # c\n", "A", "y"), "export A=y  # c\n");
        assert_eq!(set("A=\n", "A", "y"), "A=y\n");
        assert_eq!(set("A=x # c\n", "A", ""), "A='' # c\n");
        assert_eq!(set("A='x'#c\n", "A", "y"), "A='y'#c\n");
        assert_eq!(set("A='x'#c\n", "A", ""), "A=''#c\n");
        assert_eq!(set("A='x'\r\n", "A", ""), "A=\r\n");
        assert_eq!(set("A=x   \n", "A", ""), "A=   \n");
    }

    /// Every value, set into every kind of existing line, reads back exactly
    /// and leaves the other lines alone.
    #[test]
    fn set_then_read_back_in_every_context() {
        let lines = [
            "A=x",
            "A=x # c",
            "A=x\t#c",
            "A='x'#c",
            "A=\"x\"  # c",
            "export A = x",
            "A=",
            "A= # c",
            "A='multi\nline' # c",
            "A=x\r",
        ];
        let values = [
            "",
            "y",
            "#",
            "# c",
            "a b",
            "'",
            "\"",
            "\\",
            "a\\",
            "$x",
            "${x}",
            "$$",
            "`x`",
            "it's $x `y` \\",
            "line\nbreak",
            " lead",
            "trail ",
            "+x",
            "=",
            "é",
            "\t",
        ];
        for line in lines {
            for eol in ["\n", "\r\n"] {
                for last in [false, true] {
                    let head = format!("# top{eol}B=1{eol}");
                    let tail = if last {
                        String::new()
                    } else {
                        format!("{eol}C=2")
                    };
                    let src = format!("{head}{line}{tail}");
                    for v in values {
                        let out = set(&src, "A", v);
                        let doc = parse::parse(&out).unwrap_or_else(|e| panic!("{out:?}: {e:?}"));
                        let keys: Vec<&str> = doc.entries.iter().map(|e| e.key(&out)).collect();
                        let want: &[&str] = if last { &["B", "A"] } else { &["B", "A", "C"] };
                        assert_eq!(keys, want, "{out:?}");
                        let e = &doc.entries[1];
                        let got = crate::interpolate::resolve(
                            e.quote,
                            e.inner(&out),
                            true,
                            &|_| None,
                            &mut |_| {},
                        );
                        assert_eq!(got.as_deref(), Ok(v), "{src:?} set to {v:?}: {out:?}");
                        assert!(out.starts_with(&head));
                        assert!(out.ends_with(&tail));
                    }
                }
            }
        }
    }

    #[test]
    fn appends_in_the_files_style() {
        assert_eq!(set("", "A", "1"), "A=1\n");
        assert_eq!(set("X=1\r\n", "A", "1"), "X=1\r\nA=1\r\n");
        assert_eq!(set("X=1", "A", "1"), "X=1\nA=1");
        assert_eq!(set("X=1\r\nY=2", "A", "1"), "X=1\r\nY=2\r\nA=1");
        assert_eq!(set("export X=1\n", "A", "1"), "export X=1\nexport A=1\n");
        assert_eq!(set("\u{feff}", "A", "1"), "\u{feff}A=1\n");
    }

    #[test]
    fn unset_removes_every_occurrence() {
        assert_eq!(unset("A=1\n# c\nB=2\nA=3\n", "A"), "# c\nB=2\n");
        assert_eq!(unset("B=2\r\nA='x\r\ny'", "A"), "B=2");
        assert_eq!(unset("A=1", "A"), "");
        // Only the line ending before the last statement goes: the blank
        // line above it stays (found by the property test).
        assert_eq!(unset("KEY\n\nB=", "B"), "KEY\n");
        assert_eq!(unset("K=1\r\n\r\nB=", "B"), "K=1\r\n");
        assert_eq!(unset("B=1\n", "A"), "B=1\n");
    }

    #[test]
    fn set_if_absent_and_unchanged() {
        let a = apply("A=1\n", &Op::SetIfAbsent("A".into(), "2".into()));
        assert!(matches!(
            a,
            Ok(Applied {
                outcome: Outcome::Unchanged,
                ..
            })
        ));
        let a = apply("A=1\n", &Op::Set("A".into(), "1".into()));
        assert!(matches!(
            a,
            Ok(Applied {
                outcome: Outcome::Unchanged,
                ..
            })
        ));
    }
}
