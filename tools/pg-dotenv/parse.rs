//! The lossless .env parser: one pass over the bytes, no copies. Every entry
//! records where its line starts and ends (EOL included), where its key and
//! its raw value (quotes included) are, how it is quoted and whether it has
//! `export`; blank and comment lines are simply the bytes between entries, so
//! an editor can splice one value and leave every other byte as it was.
//!
//! The grammar is Docker Compose v2's env-file grammar, written out in
//! man/pg-dotenv.1 (section GRAMMAR); where it differs, the man page says so.

use std::ops::Range;

/// How a value is quoted in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quote {
    /// Bare: trimmed, ` #` starts a comment, `$` interpolates, no escapes.
    None,
    /// `'…'`: literal, may span lines.
    Single,
    /// `'…\'…'` as python-dotenv writes a value with a `'`: `\'` and `\\`
    /// are escapes (read only where no other reader finds a value).
    SingleEscaped,
    /// `"…"`: escapes, `$` interpolates, may span lines.
    Double,
}

/// One `KEY=value` statement.
#[derive(Debug, Clone)]
pub struct Entry {
    /// 1-based line number where the entry starts.
    pub line: usize,
    /// Byte range of the whole statement, from its line start to after its
    /// line ending (or the end of the file).
    pub span: Range<usize>,
    /// Byte range of the key.
    pub key: Range<usize>,
    /// Byte range of the raw value, quotes included (empty for `KEY=`).
    pub value: Range<usize>,
    /// The value's quoting.
    pub quote: Quote,
    /// Whether the statement starts with `export`.
    pub export: bool,
    /// Column (1-based, in characters) of the value, for error messages.
    pub value_col: usize,
}

impl Entry {
    /// The key.
    pub fn key<'a>(&self, src: &'a str) -> &'a str {
        &src[self.key.clone()]
    }

    /// The raw value bytes, quotes included.
    pub fn raw<'a>(&self, src: &'a str) -> &'a str {
        &src[self.value.clone()]
    }

    /// The value between its quotes (the whole raw value when bare).
    pub fn inner<'a>(&self, src: &'a str) -> &'a str {
        let r = &src[self.value.clone()];
        match self.quote {
            Quote::None => r,
            Quote::Single | Quote::SingleEscaped | Quote::Double => &r[1..r.len() - 1],
        }
    }
}

/// A parsed file: the entries in file order and what a writer needs to know
/// about its layout.
#[derive(Debug, Clone)]
pub struct Doc {
    /// The entries, in file order (duplicates included).
    pub entries: Vec<Entry>,
    /// Whether the file uses CRLF line endings (judged by its first line end).
    pub crlf: bool,
    /// Lines no reader agrees on, skipped by a lenient parse (their bytes
    /// stay as they are in an edit).
    pub bad: Vec<BadLine>,
}

/// A line a lenient parse skipped.
#[derive(Debug, Clone)]
pub struct BadLine {
    /// The key it seems to set, when one can be made out.
    pub key: Option<String>,
    /// Why it does not parse.
    pub error: ParseError,
}

impl Doc {
    /// The line ending new lines should use.
    pub fn eol(&self) -> &'static str {
        if self.crlf {
            "\r\n"
        } else {
            "\n"
        }
    }
}

/// Where and why a file does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub col: usize,
    /// What was expected there.
    pub expected: String,
}

/// Whether `b` may start a key: Compose accepts a digit, `-` or `.` too.
fn key_start(b: u8) -> bool {
    key_char(b)
}

/// Whether `b` may continue a key.
fn key_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')
}

/// Whether `key` is a valid key: `[A-Za-z0-9_.-]+`.
pub fn valid_key(key: &str) -> bool {
    let b = key.as_bytes();
    !b.is_empty() && key_start(b[0]) && b[1..].iter().all(|&c| key_char(c))
}

struct Cursor<'a> {
    b: &'a [u8],
    src: &'a str,
    i: usize,
    line: usize,
    line_start: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    /// At a line ending (`\n` or `\r\n`) or the end of the file.
    fn at_eol(&self) -> bool {
        match self.peek() {
            None | Some(b'\n') => true,
            Some(b'\r') => self.b.get(self.i + 1) == Some(&b'\n'),
            _ => false,
        }
    }

    /// Skips blanks within the line: space, tab, vertical tab, form feed and
    /// a carriage return that is not part of a CRLF.
    fn skip_blanks(&mut self) {
        while let Some(c) = self.peek() {
            if matches!(c, b' ' | b'\t' | 0x0b | 0x0c) || (c == b'\r' && !self.at_eol()) {
                self.i += 1;
            } else {
                break;
            }
        }
    }

    /// Consumes a line ending, if there is one.
    fn eat_eol(&mut self) {
        match self.peek() {
            Some(b'\n') => self.i += 1,
            Some(b'\r') if self.at_eol() => self.i += 2,
            _ => return,
        }
        self.line += 1;
        self.line_start = self.i;
    }

    /// Moves to the end of the line (before its line ending).
    fn skip_to_eol(&mut self) {
        let rest = &self.b[self.i..];
        let n = rest.iter().position(|&c| c == b'\n').unwrap_or(rest.len());
        self.i += n;
        if self.i > 0 && self.b.get(self.i) == Some(&b'\n') && self.b[self.i - 1] == b'\r' {
            self.i -= 1;
        }
    }

    fn col_of(&self, pos: usize, line_start: usize) -> usize {
        self.src
            .get(line_start..pos)
            .map(|s| s.chars().count())
            .unwrap_or(0)
            + 1
    }

    fn err(&self, expected: impl Into<String>) -> ParseError {
        ParseError {
            line: self.line,
            col: self.col_of(self.i, self.line_start),
            expected: expected.into(),
        }
    }

    /// Counts the line endings in `range` (inside a multi-line value).
    fn advance_lines(&mut self, range: Range<usize>) {
        for (k, &c) in self.b[range.clone()].iter().enumerate() {
            if c == b'\n' {
                self.line += 1;
                self.line_start = range.start + k + 1;
            }
        }
    }
}

/// Whether what follows `at` up to the line end is blanks and an optional
/// comment.
fn ends_clean(b: &[u8], at: usize) -> bool {
    let mut i = at;
    while i < b.len() && matches!(b[i], b' ' | b'\t' | 0x0b | 0x0c) {
        i += 1;
    }
    matches!(b.get(i), None | Some(b'\n') | Some(b'#'))
        || (b.get(i) == Some(&b'\r') && matches!(b.get(i + 1), None | Some(b'\n')))
}

/// The closing `'` of a single-quoted value as python-dotenv finds it, from
/// `from` on: its pattern `'((?:\\'|[^'])*)'` passes every `\'` (even in
/// `\\'`, which its writer makes of a value's `\'`) and stops at the first
/// `'` with no `\` before it. (`\\` is decoded afterwards, not skipped
/// here.) `from` follows the opening quote, so `b[i - 1]` always exists.
fn escaped_close(b: &[u8], from: usize) -> Option<usize> {
    (from..b.len()).find(|&i| b[i] == b'\'' && b[i - 1] != b'\\')
}

/// Parses a whole file; the first line that does not parse is an error.
#[cfg(test)]
pub fn parse(src: &str) -> Result<Doc, ParseError> {
    parse_with(src, false)
}

/// Parses a whole file, skipping the lines that do not parse (listed in
/// `Doc::bad`); a NUL byte is still an error for the whole file.
pub fn parse_lenient(src: &str) -> Result<Doc, ParseError> {
    parse_with(src, true)
}

fn parse_with(src: &str, lenient: bool) -> Result<Doc, ParseError> {
    let b = src.as_bytes();
    let mut c = Cursor {
        b,
        src,
        i: 0,
        line: 1,
        line_start: 0,
    };
    let bom = src.starts_with('\u{feff}');
    if bom {
        c.i = 3;
        c.line_start = 3;
    }
    if let Some(p) = b.iter().position(|&x| x == 0) {
        let line = 1 + b[..p].iter().filter(|&&x| x == b'\n').count();
        let ls = b[..p]
            .iter()
            .rposition(|&x| x == b'\n')
            .map(|x| x + 1)
            .unwrap_or(0);
        return Err(ParseError {
            line,
            col: c.col_of(p, ls),
            expected: "text, not a NUL byte".into(),
        });
    }
    let crlf = b
        .iter()
        .position(|&x| x == b'\n')
        .is_some_and(|p| p > 0 && b[p - 1] == b'\r');
    let mut entries = Vec::with_capacity(b.iter().filter(|&&x| x == b'\n').count() + 1);
    let mut bad = Vec::new();
    while c.i < b.len() {
        let start = c.i;
        let line = c.line;
        c.skip_blanks();
        if c.at_eol() {
            c.eat_eol();
            continue;
        }
        if c.peek() == Some(b'#') {
            c.skip_to_eol();
            c.eat_eol();
            continue;
        }
        match entry(&mut c, b, start, line) {
            Ok(mut e) => {
                c.eat_eol();
                e.span.end = c.i;
                entries.push(e);
            }
            Err(error) if lenient => {
                let key = {
                    let rest = &src[start..];
                    let rest = rest.trim_start_matches([' ', '\t']);
                    let rest = rest.strip_prefix("export ").unwrap_or(rest).trim_start();
                    let k: String = rest
                        .bytes()
                        .take_while(|x| key_char(*x))
                        .map(char::from)
                        .collect();
                    (!k.is_empty()).then_some(k)
                };
                bad.push(BadLine { key, error });
                // Skip the line where the entry starts, and go on.
                c.i = start;
                c.line = line;
                c.skip_to_eol();
                c.eat_eol();
            }
            Err(error) => return Err(error),
        }
    }
    Ok(Doc { entries, crlf, bad })
}

/// One `KEY=value` statement from the cursor (at its first non-blank).
fn entry(c: &mut Cursor<'_>, b: &[u8], start: usize, line: usize) -> Result<Entry, ParseError> {
    let mut export = false;
    if b[c.i..].starts_with(b"export") && matches!(b.get(c.i + 6), Some(b' ' | b'\t')) {
        export = true;
        c.i += 6;
        c.skip_blanks();
    }
    if !c.peek().is_some_and(key_start) {
        return Err(c.err(if export {
            "a key name ([A-Za-z0-9_.-]+) after 'export'"
        } else {
            "a key name ([A-Za-z0-9_.-]+), a comment (#) or a blank line"
        }));
    }
    let ks = c.i;
    while c.peek().is_some_and(key_char) {
        c.i += 1;
    }
    let key = ks..c.i;
    c.skip_blanks();
    if c.peek() != Some(b'=') {
        return Err(c.err(if c.at_eol() {
            "'=' and a value after the key (a line with only a key is not supported)"
        } else {
            "'=' after the key (keys are [A-Za-z0-9_.-]+)"
        }));
    }
    c.i += 1;
    let after_eq = c.i;
    c.skip_blanks();
    let vs = c.i;
    let value_col = c.col_of(vs, c.line_start);
    let (open_line, open_col) = (c.line, value_col);
    let mut quote = match c.peek() {
        Some(b'\'') => Quote::Single,
        Some(b'"') => Quote::Double,
        _ => Quote::None,
    };
    let value = match quote {
        Quote::Single => {
            let close = b[vs + 1..]
                .iter()
                .position(|&x| x == b'\'')
                .map(|p| vs + 1 + p)
                .ok_or_else(|| ParseError {
                    line: open_line,
                    col: open_col,
                    expected: "a closing ' for the single-quoted value opened here".into(),
                })?;
            // python-dotenv writes `'O\'Brien'`: where the plain reading
            // leaves text after the closing quote and a `\'` reading ends the
            // line cleanly, take the latter.
            let close = if b[close - 1] == b'\\' && !ends_clean(b, close + 1) {
                match escaped_close(b, vs + 1) {
                    Some(e) if ends_clean(b, e + 1) => {
                        quote = Quote::SingleEscaped;
                        e
                    }
                    _ => close,
                }
            } else {
                close
            };
            c.advance_lines(vs..close);
            c.i = close + 1;
            vs..close + 1
        }
        Quote::SingleEscaped => vs..vs,
        Quote::Double => {
            let mut j = vs + 1;
            let close = loop {
                match b[j..].iter().position(|&x| x == b'"' || x == b'\\') {
                    None => {
                        return Err(ParseError {
                            line: open_line,
                            col: open_col,
                            expected: "a closing \" for the double-quoted value opened here".into(),
                        })
                    }
                    Some(p) if b[j + p] == b'\\' => j += p + 2,
                    Some(p) => break j + p,
                }
                if j >= b.len() {
                    return Err(ParseError {
                        line: open_line,
                        col: open_col,
                        expected: "a closing \" for the double-quoted value opened here".into(),
                    });
                }
            };
            c.advance_lines(vs..close);
            c.i = close + 1;
            vs..close + 1
        }
        Quote::None => {
            c.skip_to_eol();
            let line_end = c.i;
            let seg = &b[vs..line_end];
            // A comment starts at the first `#` preceded by a blank (space,
            // tab, vertical tab, form feed or a lone CR: the same blanks
            // as after a quoted value). A `#` right after `=` begins the
            // value (`A=#x` is "#x", as in Compose); after a blank it is a
            // comment, so `A= # note` is empty, as sh, python-dotenv,
            // dotenvx and dotenv-cli read it (Compose reads "# note").
            let blank = |x: u8| matches!(x, b' ' | b'\t' | 0x0b | 0x0c | b'\r');
            let cut = if vs > after_eq && seg.first() == Some(&b'#') {
                0
            } else {
                seg.windows(2)
                    .position(|w| blank(w[0]) && w[1] == b'#')
                    .unwrap_or(seg.len())
            };
            let mut end = vs + cut;
            while end > vs && matches!(b[end - 1], b' ' | b'\t' | 0x0b | 0x0c | b'\r') {
                end -= 1;
            }
            vs..end
        }
    };
    if quote != Quote::None {
        c.skip_blanks();
        if c.peek() == Some(b'#') {
            c.skip_to_eol();
        } else if !c.at_eol() {
            return Err(c.err("the end of the line or a comment after the closing quote"));
        }
    }
    Ok(Entry {
        line,
        span: start..c.i,
        key,
        value,
        quote,
        export,
        value_col,
    })
}

#[cfg(test)]
#[allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn one(src: &str) -> (String, Quote, String) {
        let d = parse(src).unwrap_or_else(|e| panic!("{src:?}: {e:?}"));
        let e = &d.entries[0];
        (e.key(src).into(), e.quote, e.raw(src).into())
    }

    #[test]
    fn spans() {
        assert_eq!(one("A=b"), ("A".into(), Quote::None, "b".into()));
        assert_eq!(
            one("export  A = b c  # x\n"),
            ("A".into(), Quote::None, "b c".into())
        );
        assert_eq!(one("A='x\ny'\r\n").2, "'x\ny'");
        assert_eq!(one("A=\"a\\\"b\" # c").2, "\"a\\\"b\"");
        assert_eq!(one("A=#x").2, "#x");
        assert_eq!(one("A= # note").2, "");
        assert_eq!(one("A=\t#note\n").2, "");
        assert_eq!(one("A=x\x0c# c").2, "x");
        assert_eq!(one("A=x\x0b#c\n").2, "x");
        assert_eq!(one("A=a#x").2, "a#x");
        assert_eq!(one("A=\r\n").2, "");
    }

    #[test]
    fn lines_and_spans_cover_the_file() {
        let src = "\u{feff}# c\r\nA=1\r\n\r\nexport B='x\r\ny' # z\r\nC=3";
        let d = parse(src).unwrap_or_else(|e| panic!("{e:?}"));
        assert!(d.crlf);
        let lines: Vec<usize> = d.entries.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![2, 4, 6]);
        assert_eq!(&src[d.entries[2].span.clone()], "C=3");
        assert_eq!(&src[d.entries[0].span.clone()], "A=1\r\n");
    }

    #[test]
    fn errors_have_positions() {
        let e = parse("A=1\n  B x\n").err();
        assert_eq!(e.as_ref().map(|e| (e.line, e.col)), Some((2, 5)));
        let e = parse("A=1\nB='open\n\nC=2\n").err();
        assert_eq!(e.as_ref().map(|e| (e.line, e.col)), Some((2, 3)));
        let e = parse("A=\"x\" y\n").err();
        assert_eq!(e.as_ref().map(|e| (e.line, e.col)), Some((1, 7)));
        assert!(parse("=x").is_err());
        // Compose's keys: a digit, `-` or `.` may start one.
        assert_eq!(one("1A=x").0, "1A");
        assert_eq!(one(".a-b=x").0, ".a-b");
        // python-dotenv's `\'` inside single quotes, where nothing else parses.
        assert_eq!(one("N='O\\'Brien'").1, Quote::SingleEscaped);
        assert_eq!(one("N='a\\' # c").1, Quote::Single);
        // Its writer turns a value's `\'` into `\\'`: that `'` is escaped too.
        assert_eq!(one("N='back\\\\'slash'").1, Quote::SingleEscaped);
        assert_eq!(one("N='\\''").1, Quote::SingleEscaped);
        // Lenient: a bad line is skipped and listed with its key.
        let d = parse_lenient("A=1\nB='open\nC=2\nD=\"x\" y\n").unwrap();
        let keys: Vec<&str> = d
            .entries
            .iter()
            .map(|e| &"A=1\nB='open\nC=2\nD=\"x\" y\n"[e.key.clone()])
            .collect();
        assert_eq!(keys, ["A", "C"]);
        let bad: Vec<Option<&str>> = d.bad.iter().map(|b| b.key.as_deref()).collect();
        assert_eq!(bad, [Some("B"), Some("D")]);
        assert!(parse("A\n").is_err());
        assert!(parse("A=\"x\\\"").is_err());
        assert!(parse("A=x\0").is_err());
    }
}
