//! Mapping the server's error position (a 1-based character offset into the
//! text we sent) onto a line and column of the migration file.

/// A place in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// The line's text (without its line break).
    pub text: String,
}

/// The line and column of the character at 0-based character index `idx`
/// of `content`; `None` past its end.
pub fn locate(content: &str, idx: usize) -> Option<Position> {
    let mut line = 1;
    let mut line_start = 0; // byte offset
    let mut col = 1;
    for (n, (byte, ch)) in content.char_indices().enumerate() {
        if n == idx {
            let end = content[line_start..]
                .find('\n')
                .map(|e| line_start + e)
                .unwrap_or(content.len());
            return Some(Position {
                line,
                column: col,
                text: content[line_start..end].trim_end_matches('\r').to_string(),
            });
        }
        if ch == '\n' {
            line += 1;
            col = 1;
            line_start = byte + 1;
        } else {
            col += 1;
        }
    }
    None
}

/// The number of characters in the first `byte_offset` bytes of `s`.
pub fn chars_before(s: &str, byte_offset: usize) -> usize {
    s[..byte_offset.min(s.len())].chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns() {
        let s = "-- x\nCREATE TABLE a ();\n\n  CRATE TABLE b ();\n";
        let idx = s.chars().position(|_| true).unwrap_or(0);
        assert_eq!(idx, 0);
        let crate_at = s.find("CRATE").unwrap_or(0);
        let p = locate(s, chars_before(s, crate_at));
        assert_eq!(
            p,
            Some(Position {
                line: 4,
                column: 3,
                text: "  CRATE TABLE b ();".into()
            })
        );
        let u = "é\r\nab";
        assert_eq!(
            locate(u, 4).map(|p| (p.line, p.column, p.text)),
            Some((2, 2, "ab".into()))
        );
        assert_eq!(locate("a", 5), None);
    }
}
