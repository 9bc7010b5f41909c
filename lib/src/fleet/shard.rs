//! `--shard I/N`: the I-th (from 0) of N deterministic slices of a target
//! set, so N runners (a Kubernetes Indexed Job's `JOB_COMPLETION_INDEX`, a
//! CI matrix) cover a fleet exactly once between them. A target's slice
//! comes from a hash of its normalised name, never its position: the same
//! target lands in the same slice however the input is ordered, and adding
//! a tenant moves no other.

/// One slice of N.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// Which slice, from 0.
    pub index: u64,
    /// How many slices.
    pub count: u64,
}

impl Shard {
    /// Parses `I/N` (0 ≤ I < N).
    pub fn parse(s: &str) -> std::result::Result<Shard, String> {
        let bad = || {
            format!("{s:?} is not I/N with 0 <= I < N (e.g. 0/4, or \"$JOB_COMPLETION_INDEX/4\")")
        };
        let (i, n) = s.trim().split_once('/').ok_or_else(bad)?;
        let index: u64 = i.trim().parse().map_err(|_| bad())?;
        let count: u64 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// Whether the target with normalised name `key` is in this slice.
    pub fn holds(&self, key: &str) -> bool {
        fnv1a(key.as_bytes()) % self.count == self.index
    }
}

/// FNV-1a, 64 bits: a hash fixed by its definition, so every runner, build
/// and version puts a target in the same slice (std's hasher promises no
/// such thing).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The clap value parser for `--shard`.
pub fn parse_arg(s: &str) -> std::result::Result<Shard, String> {
    Shard::parse(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses() {
        assert_eq!(Shard::parse("1/4"), Ok(Shard { index: 1, count: 4 }));
        for bad in ["4/4", "1/0", "x/2", "1", "-1/2", "/2"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn slices_cover_exactly_once() {
        let keys: Vec<String> = (0..500)
            .map(|i| format!("postgresql://u@h:5432/t{i}"))
            .collect();
        let mut seen = 0;
        for i in 0..3 {
            let s = Shard { index: i, count: 3 };
            let n = keys.iter().filter(|k| s.holds(k)).count();
            assert!(n > 100, "slice {i} holds {n}");
            seen += n;
        }
        assert_eq!(seen, keys.len());
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
