//! Synthetic values in COPY text format, written straight into the output
//! buffer: one generator per column, honouring the type (lengths, precision
//! and scale, enum labels), CHECK rules and uniqueness (unique values are
//! derived from the row index, so they never collide).

use crate::checks::Rule;
use crate::introspect::{RangeKind, Scalar, Ty};
use crate::pattern::Pattern;
use rand::rngs::StdRng;
use rand::Rng;
use std::io::Write;

const WORDS: &[&str] = &[
    "alpha",
    "bravo",
    "charlie",
    "delta",
    "echo",
    "foxtrot",
    "golf",
    "hotel",
    "india",
    "juliet",
    "kilo",
    "lima",
    "mike",
    "november",
    "oscar",
    "papa",
    "quebec",
    "romeo",
    "sierra",
    "tango",
    "uniform",
    "victor",
    "whiskey",
    "xray",
    "yankee",
    "zulu",
    "amber",
    "basil",
    "cedar",
    "dune",
    "ember",
    "fjord",
    "grove",
    "harbor",
    "island",
    "jade",
    "karst",
    "lagoon",
    "meadow",
    "nectar",
    "orchid",
    "prairie",
    "quartz",
    "river",
    "savanna",
    "tundra",
    "umber",
    "valley",
    "willow",
    "zenith",
    "café",
    "naïve",
    "über",
    "smörgås",
    "東京",
    "jalapeño",
];

/// Days from 1970-01-01 to 2000-01-01.
const Y2000: i64 = 10957;
/// Days in 2000-01-01 .. 2030-12-31.
const SPAN_DAYS: i64 = 11323;

/// Appends `s` escaped for COPY text format.
pub fn esc(out: &mut Vec<u8>, s: &str) {
    for &b in s.as_bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ => out.push(b),
        }
    }
}

/// Base-36 digits of `n`.
fn base36(mut n: u64, out: &mut Vec<u8>) {
    let mut tmp = [0u8; 16];
    let mut i = tmp.len();
    loop {
        i -= 1;
        let d = (n % 36) as u8;
        tmp[i] = if d < 10 { b'0' + d } else { b'a' + d - 10 };
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&tmp[i..]);
}

fn base36_len(n: u64) -> usize {
    let mut v = Vec::new();
    base36(n, &mut v);
    v.len()
}

/// Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn push_date(out: &mut Vec<u8>, days: i64) {
    let (y, m, d) = civil(days);
    let _ = write!(out, "{y:04}-{m:02}-{d:02}");
}

fn push_time(out: &mut Vec<u8>, secs: i64) {
    let _ = write!(
        out,
        "{:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    );
}

/// A value generator for one column (or an array element).
#[derive(Debug, Clone)]
pub struct ValueGen {
    pub scalar: Scalar,
    pub rule: Rule,
    /// Whether values must be distinct (derived from the row index).
    pub unique: bool,
    /// Added to the row index for unique values (existing rows).
    pub offset: u64,
    /// For unique numbers: the first value (in units of the scale).
    pub start: i128,
    /// Integer range of the value in units of 10^-scale (numbers only).
    pub lo: i128,
    pub hi: i128,
    /// The rule's regular expression, parsed.
    pattern: Option<Pattern>,
    /// The type's lowest value, where unique integers wrap to once the
    /// positive range is used up (a unique smallint holds 65,536 values).
    type_lo: i128,
}

fn int_bounds(s: &Scalar) -> (i128, i128) {
    match s {
        Scalar::Int2 => (i16::MIN as i128, i16::MAX as i128),
        Scalar::Int4 => (i32::MIN as i128, i32::MAX as i128),
        _ => (i64::MIN as i128, i64::MAX as i128),
    }
}

fn scale_of(s: &Scalar) -> u32 {
    match s {
        Scalar::Numeric(Some((_, sc))) => *sc,
        Scalar::Numeric(None) => 2,
        Scalar::Float4 | Scalar::Float8 => 3,
        _ => 0,
    }
}

impl ValueGen {
    /// A generator for `scalar` under `rule`. `existing_max` is the largest
    /// value already in a unique numeric column.
    pub fn new(
        scalar: Scalar,
        rule: Rule,
        unique: bool,
        offset: u64,
        existing_max: Option<f64>,
    ) -> ValueGen {
        let scale = scale_of(&scalar);
        let unit = 10i128.pow(scale);
        let (tlo, thi) = match &scalar {
            Scalar::Int2 | Scalar::Int4 | Scalar::Int8 => int_bounds(&scalar),
            Scalar::Numeric(Some((p, s))) => {
                let m = 10i128.pow(p.saturating_sub(*s).min(30)) * unit - 1;
                (-m, m)
            }
            _ => (-(10i128.pow(15)) * unit, 10i128.pow(15) * unit),
        };
        // The default range, narrowed by the rule and the type.
        let (dlo, dhi) = match &scalar {
            Scalar::Int2 => (unit, 1000),
            _ => (unit, 100_000 * unit),
        };
        let to_units = |v: f64| (v * unit as f64).round() as i128;
        let mut lo = match rule.min {
            Some((v, incl)) => {
                let u = (v * unit as f64).ceil() as i128;
                if !incl && u as f64 <= v * unit as f64 {
                    u + 1
                } else {
                    u
                }
            }
            None => i128::MIN,
        };
        let mut hi = match rule.max {
            Some((v, incl)) => {
                let u = (v * unit as f64).floor() as i128;
                if !incl && u as f64 >= v * unit as f64 {
                    u - 1
                } else {
                    u
                }
            }
            None => i128::MAX,
        };
        match (lo == i128::MIN, hi == i128::MAX) {
            (true, true) => {
                lo = dlo;
                hi = dhi;
            }
            (false, true) => hi = lo.saturating_add(dhi - dlo),
            (true, false) => lo = hi.saturating_sub(dhi - dlo),
            _ => {}
        }
        if unique && rule.max.is_none() {
            hi = thi;
        }
        lo = lo.max(tlo);
        hi = hi.min(thi);
        let mut start = lo;
        if let Some(m) = existing_max {
            start = start.max(to_units(m.floor()) + unit);
        }
        let pattern = rule.pattern.as_deref().and_then(Pattern::parse);
        let wraps = rule.min.is_none()
            && existing_max.is_none()
            && matches!(scalar, Scalar::Int2 | Scalar::Int4 | Scalar::Int8);
        let type_lo = if wraps { tlo } else { start };
        ValueGen {
            scalar,
            rule,
            unique,
            offset,
            start,
            lo,
            hi,
            pattern,
            type_lo,
        }
    }

    /// Why `rows` distinct values cannot be made, if they cannot.
    pub fn capacity_problem(&self, rows: u64) -> Option<String> {
        if !self.unique || rows == 0 {
            return None;
        }
        let need = rows + self.offset;
        if let Some(set) = &self.rule.set {
            return (need > set.len() as u64).then(|| {
                format!(
                    "only {} allowed values (CHECK ... IN) for {need} unique rows",
                    set.len()
                )
            });
        }
        let cap: Option<u64> = match &self.scalar {
            Scalar::Bool => Some(2),
            Scalar::Enum(l) => Some(l.len() as u64),
            Scalar::Time => Some(86_400),
            Scalar::Date => Some(2_900_000),
            Scalar::Text(Some(n)) | Scalar::Char(n) => (base36_len(need) > *n).then_some(0),
            Scalar::Int2 | Scalar::Int4 | Scalar::Int8 | Scalar::Numeric(_) => {
                let unit = 10i128.pow(scale_of(&self.scalar));
                let room = (self.hi - self.start) / unit + 1 + (self.start - self.type_lo) / unit;
                (rows as i128 > room).then_some(0)
            }
            Scalar::CharByte => Some(94),
            Scalar::Bit(n) if *n < 40 => Some(1u64 << n),
            _ => None,
        };
        match cap {
            Some(c) if need > c => Some(format!(
                "the column's type and constraints allow fewer than {need} distinct values"
            )),
            _ => None,
        }
    }

    fn number(&self, rng: &mut StdRng, i: u64, out: &mut Vec<u8>) {
        let scale = scale_of(&self.scalar);
        let v = if self.unique {
            let unit = 10i128.pow(scale);
            let up = (self.hi - self.start) / unit + 1;
            if (i as i128) < up {
                self.start + (i as i128) * unit
            } else {
                // Past the top: the values below the start, from the bottom.
                self.type_lo + (i as i128 - up) * unit
            }
        } else if self.lo >= self.hi {
            self.lo
        } else {
            rng.gen_range(self.lo..=self.hi)
        };
        if scale == 0 {
            let _ = write!(out, "{v}");
        } else {
            let unit = 10i128.pow(scale);
            let sign = if v < 0 { "-" } else { "" };
            let a = v.abs();
            let _ = write!(
                out,
                "{sign}{}.{:0w$}",
                a / unit,
                a % unit,
                w = scale as usize
            );
        }
    }

    /// Words up to a target length drawn in `1..=min(max, cap)` (text and
    /// varchar(n): 32), or for unique columns a word and the row index in
    /// base 36.
    fn text(&self, rng: &mut StdRng, i: u64, max: Option<usize>, cap: usize, out: &mut Vec<u8>) {
        let max = max.unwrap_or(48).max(1);
        if self.unique {
            let n = i + self.offset;
            let word = WORDS[(n % 26) as usize];
            if word.len() + 1 + base36_len(n) <= max {
                out.extend_from_slice(word.as_bytes());
                out.push(b'-');
            }
            base36(n, out);
            return;
        }
        let target = rng.gen_range(1..=max.min(cap));
        let mut chars = 0usize;
        loop {
            let w = WORDS[rng.gen_range(0..WORDS.len())];
            let sep = usize::from(chars > 0);
            let wl = w.chars().count();
            if chars + sep + wl > max {
                if chars == 0 {
                    // Cut the word to fit.
                    for c in w.chars().take(max) {
                        let mut b = [0u8; 4];
                        out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
                    }
                }
                break;
            }
            if sep == 1 {
                out.push(b' ');
            }
            out.extend_from_slice(w.as_bytes());
            chars += sep + wl;
            if chars >= target {
                break;
            }
        }
    }

    /// Appends one value for row `i` (0-based) in COPY text form.
    pub fn write(&self, rng: &mut StdRng, i: u64, out: &mut Vec<u8>) {
        if let Some(set) = &self.rule.set {
            if !set.is_empty() {
                let k = if self.unique {
                    (i + self.offset) as usize % set.len()
                } else {
                    rng.gen_range(0..set.len())
                };
                esc(out, &set[k]);
                return;
            }
        }
        let n = i + self.offset;
        match &self.scalar {
            Scalar::Int2 | Scalar::Int4 | Scalar::Int8 | Scalar::Numeric(_) => {
                self.number(rng, i, out)
            }
            Scalar::Float4 | Scalar::Float8 => self.number(rng, i, out),
            Scalar::Text(max) if self.pattern.is_some() || !self.rule.hints.is_empty() => {
                self.constrained_text(rng, i, *max, out)
            }
            Scalar::Char(len) if self.pattern.is_some() || !self.rule.hints.is_empty() => {
                self.constrained_text(rng, i, Some(*len), out)
            }
            Scalar::Name if self.pattern.is_some() || !self.rule.hints.is_empty() => {
                self.constrained_text(rng, i, Some(63), out)
            }
            Scalar::Text(max) => self.text(rng, i, *max, 32, out),
            Scalar::Char(len) if self.unique => self.text(rng, i, Some(*len), 12, out),
            Scalar::Char(len) => {
                // char(n) holds fixed-width codes: up to 3 characters, which
                // the server blank-pads (cheap to send, like pgbench's filler).
                const CODE: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
                for _ in 0..(*len).clamp(1, 3) {
                    out.push(CODE[rng.gen_range(0..CODE.len())]);
                }
            }
            Scalar::Bool => {
                let b = if self.unique {
                    n % 2 == 1
                } else {
                    rng.gen::<bool>()
                };
                out.push(if b { b't' } else { b'f' });
            }
            Scalar::Date => {
                let d = if self.unique {
                    n as i64
                } else {
                    rng.gen_range(0..SPAN_DAYS)
                };
                push_date(out, Y2000 + d);
            }
            Scalar::Timestamp | Scalar::Timestamptz => {
                let secs = if self.unique {
                    n as i64
                } else {
                    rng.gen_range(0..SPAN_DAYS * 86_400)
                };
                push_date(out, Y2000 + secs / 86_400);
                out.push(b' ');
                push_time(out, secs % 86_400);
                if !self.unique {
                    let _ = write!(out, ".{:03}", rng.gen_range(0..1000));
                }
                if self.scalar == Scalar::Timestamptz {
                    out.extend_from_slice(b"+00");
                }
            }
            Scalar::Time => {
                let secs = if self.unique {
                    n as i64
                } else {
                    rng.gen_range(0..86_400)
                };
                push_time(out, secs);
            }
            Scalar::Uuid => {
                let mut b: [u8; 16] = rng.gen();
                if self.unique {
                    b[8..].copy_from_slice(&n.to_be_bytes());
                }
                b[6] = (b[6] & 0x0f) | 0x40;
                b[8] = (b[8] & 0x3f) | 0x80;
                for (k, x) in b.iter().enumerate() {
                    if matches!(k, 4 | 6 | 8 | 10) {
                        out.push(b'-');
                    }
                    let _ = write!(out, "{x:02x}");
                }
            }
            Scalar::Json | Scalar::Jsonb => {
                let id = if self.unique {
                    n
                } else {
                    rng.gen_range(1..1_000_000)
                };
                let w = WORDS[rng.gen_range(0..WORDS.len())];
                let _ = write!(
                    out,
                    "{{\"id\": {id}, \"name\": \"{w}\", \"active\": {}, \"tags\": [\"{}\"]}}",
                    rng.gen::<bool>(),
                    WORDS[rng.gen_range(0..26)]
                );
            }
            Scalar::Bytea => {
                out.extend_from_slice(b"\\\\x");
                let len = rng.gen_range(1..=16);
                for _ in 0..len {
                    let _ = write!(out, "{:02x}", rng.gen::<u8>());
                }
                if self.unique {
                    let _ = write!(out, "{n:016x}");
                }
            }
            Scalar::Timetz => {
                let secs = if self.unique {
                    n as i64 % 86_400
                } else {
                    rng.gen_range(0..86_400)
                };
                push_time(out, secs);
                out.extend_from_slice(b"+00");
            }
            Scalar::Interval => {
                let (d, secs) = if self.unique {
                    (n / 86_400, n % 86_400)
                } else {
                    (rng.gen_range(0..400), rng.gen_range(0..86_400))
                };
                let _ = write!(out, "{d} days ");
                push_time(out, secs as i64);
            }
            Scalar::Money => {
                let v = if self.unique {
                    n
                } else {
                    rng.gen_range(0..1_000_000)
                };
                let _ = write!(out, "{}.{:02}", v / 100, v % 100);
            }
            Scalar::Inet | Scalar::Cidr => {
                let v = if self.unique {
                    n as u32
                } else {
                    rng.gen::<u32>()
                } & 0x00ff_ffff;
                let _ = write!(out, "10.{}.{}.{}", v >> 16, (v >> 8) & 255, v & 255);
                if self.scalar == Scalar::Cidr {
                    out.extend_from_slice(b"/32");
                }
            }
            Scalar::Macaddr | Scalar::Macaddr8 => {
                let mut b: [u8; 8] = rng.gen();
                if self.unique {
                    let len = if self.scalar == Scalar::Macaddr { 6 } else { 8 };
                    b[2..len].copy_from_slice(&n.to_be_bytes()[8 - (len - 2)..]);
                }
                b[0] = 0x02; // locally administered, unicast
                let len = if self.scalar == Scalar::Macaddr { 6 } else { 8 };
                for (k, x) in b[..len].iter().enumerate() {
                    if k > 0 {
                        out.push(b':');
                    }
                    let _ = write!(out, "{x:02x}");
                }
            }
            Scalar::Oid => {
                let v = if self.unique {
                    n + 1
                } else {
                    rng.gen_range(1..1_000_000)
                };
                let _ = write!(out, "{v}");
            }
            Scalar::Name => self.text(rng, i, Some(63), 32, out),
            Scalar::CharByte => {
                let c = if self.unique {
                    b'!' + (n % 94) as u8
                } else {
                    rng.gen_range(b'a'..=b'z')
                };
                esc(out, &char::from(c).to_string());
            }
            Scalar::Tsvector | Scalar::Tsquery => {
                let k = rng.gen_range(1..=4);
                let sep: &[u8] = if self.scalar == Scalar::Tsquery {
                    b" & "
                } else {
                    b" "
                };
                for j in 0..k {
                    if j > 0 {
                        out.extend_from_slice(sep);
                    }
                    out.extend_from_slice(WORDS[rng.gen_range(0..26)].as_bytes());
                }
                if self.unique {
                    out.extend_from_slice(sep);
                    out.push(b'n');
                    base36(n, out);
                }
            }
            Scalar::Xml => {
                let w = WORDS[rng.gen_range(0..26)];
                let _ = write!(out, "<item n=\"{n}\">{w}</item>");
            }
            Scalar::Point => {
                let (x, y) = self.coords(rng, n);
                let _ = write!(out, "({x},{y})");
            }
            Scalar::Line => {
                let (x, _) = self.coords(rng, n);
                let _ = write!(out, "{{1,-1,{x}}}");
            }
            Scalar::Lseg | Scalar::Box | Scalar::Path => {
                let (x, y) = self.coords(rng, n);
                let (open, close) = match self.scalar {
                    Scalar::Lseg | Scalar::Path => ("[", "]"),
                    _ => ("", ""),
                };
                let _ = write!(out, "{open}({x},{y}),({},{}){close}", x + 1, y + 1);
            }
            Scalar::Polygon => {
                let (x, y) = self.coords(rng, n);
                let _ = write!(out, "(({x},{y}),({},{y}),({x},{}))", x + 1, y + 1);
            }
            Scalar::Circle => {
                let (x, y) = self.coords(rng, n);
                let _ = write!(out, "<({x},{y}),1>");
            }
            Scalar::Bit(len) => {
                for k in (0..*len).rev() {
                    let bit = if self.unique && k < 64 {
                        (n >> k) & 1 == 1
                    } else {
                        rng.gen()
                    };
                    out.push(if bit { b'1' } else { b'0' });
                }
            }
            Scalar::Varbit(max) => {
                let len = rng.gen_range(1..=max.unwrap_or(16).clamp(1, 16));
                for _ in 0..len {
                    out.push(if rng.gen() { b'1' } else { b'0' });
                }
            }
            Scalar::PgLsn => {
                let v = if self.unique {
                    n
                } else {
                    rng.gen_range(0..1u64 << 40)
                };
                let _ = write!(out, "{:X}/{:X}", v >> 32, v & 0xffff_ffff);
            }
            Scalar::Ltree => {
                let k = rng.gen_range(1..=3);
                for j in 0..k {
                    if j > 0 {
                        out.push(b'.');
                    }
                    out.extend_from_slice(WORDS[rng.gen_range(0..26)].as_bytes());
                }
                if self.unique {
                    out.extend_from_slice(b".n");
                    base36(n, out);
                }
            }
            Scalar::Hstore => {
                let w = WORDS[rng.gen_range(0..26)];
                let _ = write!(out, "\"name\"=>\"{w}\", \"n\"=>\"{n}\"");
            }
            Scalar::Range(kind, multi) => {
                if *multi {
                    out.push(b'{');
                }
                self.range(rng, n, *kind, out);
                if *multi {
                    out.push(b'}');
                }
            }
            Scalar::Composite(fields) => {
                let mut scratch = Vec::new();
                let mut inner = Vec::new();
                out.push(b'(');
                for (k, f) in fields.iter().enumerate() {
                    if k > 0 {
                        out.push(b',');
                    }
                    scratch.clear();
                    match f {
                        Ty::Scalar(sc) => {
                            ValueGen::new(
                                sc.clone(),
                                Rule::default(),
                                self.unique,
                                self.offset,
                                None,
                            )
                            .write(rng, i, &mut scratch);
                        }
                        Ty::Array(sc) => {
                            ValueGen::new(sc.clone(), Rule::default(), false, 0, None).write_array(
                                rng,
                                i,
                                &mut scratch,
                                &mut inner,
                            );
                        }
                        // Left empty: a NULL field.
                        Ty::Unsupported(_) => continue,
                    }
                    quote_element(&scratch, out);
                }
                out.push(b')');
            }
            Scalar::Enum(labels) => {
                if labels.is_empty() {
                    out.extend_from_slice(b"\\N");
                    return;
                }
                let k = if self.unique {
                    n as usize % labels.len()
                } else {
                    rng.gen_range(0..labels.len())
                };
                esc(out, &labels[k]);
            }
        }
    }

    /// Appends an array value (`{"a","b"}`) in COPY text form: 0 to 3
    /// elements, or one unique element when the column is unique.
    pub fn write_array(&self, rng: &mut StdRng, i: u64, out: &mut Vec<u8>, scratch: &mut Vec<u8>) {
        let count = if self.unique { 1 } else { rng.gen_range(0..=3) };
        out.push(b'{');
        for k in 0..count {
            if k > 0 {
                out.push(b',');
            }
            scratch.clear();
            self.write(rng, i, scratch);
            quote_element(scratch, out);
        }
        out.push(b'}');
    }
}

/// Quotes a COPY-escaped element for the array and record parsers: `"`
/// and `\` get a backslash (itself COPY-escaped).
fn quote_element(scratch: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &b in scratch {
        match b {
            b'"' => out.extend_from_slice(b"\\\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

impl ValueGen {
    /// Coordinates for geometric values (distinct per row when unique).
    fn coords(&self, rng: &mut StdRng, n: u64) -> (i64, i64) {
        if self.unique {
            ((n % 100_000) as i64, (n / 100_000) as i64)
        } else {
            (rng.gen_range(-1000..1000), rng.gen_range(-1000..1000))
        }
    }

    /// A non-empty range `[lo,hi)`: short and spread out, so ranges seldom
    /// overlap (exclusion constraints), and disjoint when unique.
    fn range(&self, rng: &mut StdRng, n: u64, kind: RangeKind, out: &mut Vec<u8>) {
        let (start, len) = if self.unique {
            (n as i64 * 10, rng.gen_range(1..10))
        } else {
            (rng.gen_range(0..SPAN_DAYS * 24), rng.gen_range(1..48))
        };
        match kind {
            RangeKind::Int4 | RangeKind::Int8 | RangeKind::Num => {
                let _ = write!(out, "[{start},{})", start + len);
            }
            RangeKind::Date => {
                out.push(b'[');
                push_date(out, Y2000 + start / 24);
                out.push(b',');
                push_date(out, Y2000 + start / 24 + 1 + len / 24);
                out.push(b')');
            }
            RangeKind::Ts | RangeKind::Tstz => {
                let tz: &[u8] = if kind == RangeKind::Tstz { b"+00" } else { b"" };
                for (k, h) in [start, start + len].into_iter().enumerate() {
                    out.extend_from_slice(if k == 0 { b"[\"" } else { b",\"" });
                    push_date(out, Y2000 + h / 24);
                    out.push(b' ');
                    push_time(out, (h % 24) * 3600);
                    out.extend_from_slice(tz);
                    out.push(b'"');
                }
                out.push(b')');
            }
        }
    }

    /// Text under a regular expression or offered literals: some values
    /// from the literals of a CHECK not understood (as written, lower or
    /// upper case), the rest from the pattern (or plain words); the server
    /// keeps those that pass.
    fn constrained_text(&self, rng: &mut StdRng, i: u64, max: Option<usize>, out: &mut Vec<u8>) {
        if !self.rule.hints.is_empty() && rng.gen_ratio(1, 2) {
            let h = &self.rule.hints[rng.gen_range(0..self.rule.hints.len())];
            let v = match rng.gen_range(0..3) {
                0 => h.to_lowercase(),
                1 => h.to_uppercase(),
                _ => h.clone(),
            };
            esc(out, &v);
            return;
        }
        match &self.pattern {
            Some(p) => {
                let mut s = String::new();
                p.generate(rng, &mut s);
                esc(out, &s);
            }
            None => self.text(rng, i, max, 32, out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn dates() {
        let mut v = Vec::new();
        push_date(&mut v, Y2000);
        push_date(&mut v, Y2000 + SPAN_DAYS - 1);
        push_date(&mut v, 0);
        assert_eq!(
            String::from_utf8_lossy(&v),
            "2000-01-012030-12-311970-01-01"
        );
    }

    #[test]
    fn numeric_within_precision_and_rule() {
        let rule = Rule {
            min: Some((0.0, false)),
            max: Some((10.0, true)),
            ..Rule::default()
        };
        let g = ValueGen::new(Scalar::Numeric(Some((5, 2))), rule, false, 0, None);
        let mut rng = StdRng::seed_from_u64(1);
        for _ in 0..1000 {
            let mut v = Vec::new();
            g.write(&mut rng, 0, &mut v);
            let x: f64 = String::from_utf8_lossy(&v).parse().unwrap_or(-1.0);
            assert!(x > 0.0 && x <= 10.0, "{x}");
        }
        let g = ValueGen::new(
            Scalar::Numeric(Some((5, 2))),
            Rule::default(),
            true,
            0,
            None,
        );
        assert!(g.capacity_problem(999).is_none());
        assert!(g.capacity_problem(1000).is_some());
    }

    #[test]
    fn varchar_lengths() {
        let g = ValueGen::new(Scalar::Text(Some(5)), Rule::default(), false, 0, None);
        let mut rng = StdRng::seed_from_u64(2);
        for i in 0..1000 {
            let mut v = Vec::new();
            g.write(&mut rng, i, &mut v);
            let s = String::from_utf8(v).unwrap_or_default();
            assert!((1..=5).contains(&s.chars().count()), "{s}");
        }
    }
}
