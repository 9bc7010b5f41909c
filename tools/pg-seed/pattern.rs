//! Strings that match a regular expression, for `CHECK (col ~ '…')` and
//! regex domains (postal codes, SKUs, e-mail shapes). Covers the subset such
//! constraints use: literals, `.`, escapes (`\d \w \s` and escaped
//! punctuation), bracket classes with ranges and negation, groups with
//! alternation, and the quantifiers `? * + {n} {n,} {n,m}`. Anything else is
//! "not understood" (None), and the server then judges plain candidates.

use rand::rngs::StdRng;
use rand::Rng;

#[derive(Debug, Clone)]
enum Node {
    /// One character out of a set (a literal is a set of one).
    Class(Vec<char>),
    /// Alternatives, each a sequence.
    Group(Vec<Vec<(Node, u32, u32)>>),
}

/// A parsed pattern: a sequence of (node, min, max) repetitions.
#[derive(Debug, Clone)]
pub struct Pattern(Vec<Vec<(Node, u32, u32)>>);

const PRINTABLE: std::ops::RangeInclusive<u8> = b' '..=b'~';

fn digits() -> Vec<char> {
    ('0'..='9').collect()
}

fn word() -> Vec<char> {
    ('a'..='z')
        .chain('A'..='Z')
        .chain('0'..='9')
        .chain(['_'])
        .collect()
}

struct Parser<'a> {
    s: &'a [char],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.s.get(self.i).copied()
    }

    fn escape(&mut self) -> Option<Vec<char>> {
        let c = self.peek()?;
        self.i += 1;
        Some(match c {
            'd' => digits(),
            'w' => word(),
            's' => vec![' '],
            'D' | 'W' | 'S' | 'b' | 'B' | 'A' | 'Z' | 'm' | 'M' | 'y' | 'Y' => return None,
            c if c.is_alphanumeric() => return None,
            c => vec![c],
        })
    }

    fn class(&mut self) -> Option<Vec<char>> {
        let negate = self.peek() == Some('^');
        if negate {
            self.i += 1;
        }
        let mut set = Vec::new();
        let mut first = true;
        loop {
            let c = self.peek()?;
            self.i += 1;
            match c {
                ']' if !first => break,
                '[' if self.peek() == Some(':') => {
                    let rest: String = self.s[self.i..].iter().collect();
                    let end = rest.find(":]")?;
                    let name = &rest[1..end];
                    self.i += end + 2;
                    set.extend(match name {
                        "digit" => digits(),
                        "alpha" => ('a'..='z').chain('A'..='Z').collect(),
                        "alnum" => ('a'..='z').chain('A'..='Z').chain('0'..='9').collect(),
                        "upper" => ('A'..='Z').collect(),
                        "lower" => ('a'..='z').collect(),
                        "space" => vec![' '],
                        _ => return None,
                    });
                }
                '\\' => set.extend(self.escape()?),
                c => {
                    if self.peek() == Some('-') && self.s.get(self.i + 1).is_some_and(|n| *n != ']')
                    {
                        let hi = *self.s.get(self.i + 1)?;
                        self.i += 2;
                        if hi < c {
                            return None;
                        }
                        set.extend(c..=hi);
                    } else {
                        set.push(c);
                    }
                }
            }
            first = false;
        }
        if negate {
            let all: Vec<char> = PRINTABLE.map(char::from).collect();
            set = all.into_iter().filter(|c| !set.contains(c)).collect();
        }
        (!set.is_empty()).then_some(set)
    }

    fn number(&mut self) -> Option<u32> {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        self.s[start..self.i]
            .iter()
            .collect::<String>()
            .parse()
            .ok()
    }

    fn quantifier(&mut self) -> Option<(u32, u32)> {
        let q = match self.peek() {
            Some('?') => (0, 1),
            Some('*') => (0, 4),
            Some('+') => (1, 4),
            Some('{') => {
                self.i += 1;
                let lo = self.number()?;
                let hi = if self.peek() == Some(',') {
                    self.i += 1;
                    if self.peek() == Some('}') {
                        lo + 4
                    } else {
                        self.number()?
                    }
                } else {
                    lo
                };
                if self.peek() != Some('}') || hi < lo {
                    return None;
                }
                self.i += 1;
                // A lazy `?` after the quantifier changes nothing here.
                if self.peek() == Some('?') {
                    self.i += 1;
                }
                return Some((lo, hi));
            }
            _ => return Some((1, 1)),
        };
        self.i += 1;
        if self.peek() == Some('?') {
            self.i += 1;
        }
        Some(q)
    }

    /// Alternatives up to `)` or the end.
    fn alternatives(&mut self, depth: u32) -> Option<Vec<Vec<(Node, u32, u32)>>> {
        if depth > 8 {
            return None;
        }
        let mut alts = vec![Vec::new()];
        while let Some(c) = self.peek() {
            self.i += 1;
            let node = match c {
                ')' if depth > 0 => return Some(alts),
                ')' => return None,
                '|' => {
                    alts.push(Vec::new());
                    continue;
                }
                '^' | '$' => continue,
                '(' => {
                    if self.peek() == Some('?') {
                        if self.s.get(self.i + 1) != Some(&':') {
                            return None;
                        }
                        self.i += 2;
                    }
                    Node::Group(self.alternatives(depth + 1)?)
                }
                '[' => Node::Class(self.class()?),
                '\\' => Node::Class(self.escape()?),
                '.' => Node::Class(('a'..='z').collect()),
                '*' | '+' | '?' | '{' => return None,
                c => Node::Class(vec![c]),
            };
            let (lo, hi) = self.quantifier()?;
            alts.last_mut()?.push((node, lo, hi));
        }
        (depth == 0).then_some(alts)
    }
}

impl Pattern {
    /// Parses `re`; None when it uses syntax outside the subset.
    pub fn parse(re: &str) -> Option<Pattern> {
        let chars: Vec<char> = re.chars().collect();
        let mut p = Parser { s: &chars, i: 0 };
        Some(Pattern(p.alternatives(0)?))
    }

    /// A string matching the pattern; `n` (the row index) is mixed in so
    /// that successive rows differ where the pattern leaves room.
    pub fn generate(&self, rng: &mut StdRng, out: &mut String) {
        fn seq(alts: &[Vec<(Node, u32, u32)>], rng: &mut StdRng, out: &mut String) {
            if alts.is_empty() {
                return;
            }
            let alt = &alts[rng.gen_range(0..alts.len())];
            for (node, lo, hi) in alt {
                let times = rng.gen_range(*lo..=*hi);
                for _ in 0..times {
                    match node {
                        Node::Class(set) => out.push(set[rng.gen_range(0..set.len())]),
                        Node::Group(inner) => seq(inner, rng, out),
                    }
                }
            }
        }
        seq(&self.0, rng, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn sample(re: &str) -> Vec<String> {
        let p = Pattern::parse(re).unwrap_or_else(|| Pattern(Vec::new()));
        let mut rng = StdRng::seed_from_u64(7);
        (0..50)
            .map(|_| {
                let mut s = String::new();
                p.generate(&mut rng, &mut s);
                s
            })
            .collect()
    }

    #[test]
    fn common_shapes() {
        for s in sample("^[A-Z]{3}$") {
            assert!(
                s.len() == 3 && s.chars().all(|c| c.is_ascii_uppercase()),
                "{s}"
            );
        }
        for s in sample(r"^\d{5}(-\d{4})?$") {
            assert!(s.len() == 5 || s.len() == 10, "{s}");
        }
        for s in sample("^[a-z0-9._%-]+@[a-z0-9.-]+[.][a-z]{2,4}$") {
            assert!(s.contains('@'), "{s}");
        }
        for s in sample("^(red|green)$") {
            assert!(s == "red" || s == "green", "{s}");
        }
        for s in sample("[^0-9]") {
            assert!(!s.chars().any(|c| c.is_ascii_digit()), "{s}");
        }
    }

    #[test]
    fn unsupported_is_none() {
        assert!(Pattern::parse(r"(?<=a)b").is_none());
        assert!(Pattern::parse(r"\1").is_none());
        assert!(Pattern::parse("a{3,1}").is_none());
        assert!(Pattern::parse("(a").is_none());
    }
}
