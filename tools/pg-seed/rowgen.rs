//! The row generator: where each column's values come from (a value
//! generator, a parent key, NULL) and how rows are written in COPY text
//! form. Built by `fill`, used by its direct path and by `staged`.

use crate::sql::db_err;
use crate::values::{esc, ValueGen};
use pgkit::Result;
use postgres::Transaction;
use rand::rngs::StdRng;
use rand::Rng;
use std::io::Write;

/// Where a column's values come from.
pub(crate) enum Source {
    Value {
        gen: Box<ValueGen>,
        array: bool,
        nullable: bool,
    },
    Fk {
        group: usize,
        pos: usize,
    },
    Null,
}

/// A foreign key's parent keys, loaded once (text form, in key order).
pub(crate) struct FkGroup {
    pub(crate) keys: Vec<Vec<String>>,
    /// Each parent key at most once (a unique foreign key: 1:1).
    pub(crate) unique: bool,
    /// Part of a unique key over several foreign keys (a junction table):
    /// the index of the combination it belongs to.
    pub(crate) combo: Option<usize>,
    /// For a unique foreign key: the parent keys no row of the table uses
    /// yet (read again before each round of checked candidates).
    pub(crate) free_sql: String,
}

/// Distinct tuples of parent keys for a unique key made of several foreign
/// keys: row i takes tuple `perm(i)` of the cartesian product, where perm is
/// a bijection `(a·i + b) mod total`, so no pair repeats and pairs spread.
pub(crate) struct Combo {
    pub(crate) groups: Vec<usize>,
    pub(crate) total: u64,
    pub(crate) a: u64,
    pub(crate) b: u64,
}

impl Combo {
    fn pick(&self, groups: &[FkGroup], i: u64, picks: &mut [Option<usize>]) {
        let mut k = ((self.a as u128 * (i % self.total) as u128 + self.b as u128)
            % self.total as u128) as u64;
        for g in &self.groups {
            let len = groups[*g].keys.len() as u64;
            picks[*g] = Some((k % len) as usize);
            k /= len;
        }
    }
}

pub(crate) fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Everything needed to write rows: per-column sources and parent keys.
pub struct RowGen {
    pub(crate) sources: Vec<Source>,
    pub(crate) groups: Vec<FkGroup>,
    pub(crate) combos: Vec<Combo>,
    pub(crate) existing: u64,
    /// The row index the unique foreign keys' free keys start at.
    pub(crate) unique_base: Option<u64>,
}

impl RowGen {
    pub fn has_existing(&self) -> bool {
        self.existing > 0
    }

    /// Before a round of checked candidates from row `base` on: unique
    /// foreign keys take only the parent keys still free, so refused
    /// candidates never pin parents that later rounds need.
    pub fn refresh_free_keys(&mut self, tx: &mut Transaction<'_>, base: u64) -> Result<()> {
        let mut any = false;
        for g in self.groups.iter_mut().filter(|g| g.unique) {
            g.keys = tx
                .query(&g.free_sql, &[])
                .map_err(|e| db_err("Cannot read the free parent keys", &e))?
                .iter()
                .map(|r| (0..r.len()).map(|i| r.get::<_, String>(i)).collect())
                .collect();
            any = true;
        }
        if any {
            self.unique_base = Some(base);
        }
        Ok(())
    }

    /// Appends rows `first..first+count` in COPY text form; `ord` prefixes
    /// each row with its index (the staging table's first column).
    pub fn write_rows(
        &self,
        rng: &mut StdRng,
        i: u64,
        buf: &mut Vec<u8>,
        scratch: &mut Vec<u8>,
        picks: &mut Vec<Option<usize>>,
        ord: bool,
    ) {
        picks.clear();
        picks.resize(self.groups.len(), None);
        for c in &self.combos {
            c.pick(&self.groups, i + self.existing, picks);
        }
        for (g, grp) in self.groups.iter().enumerate() {
            if grp.combo.is_some() {
                continue;
            }
            picks[g] = if grp.keys.is_empty() {
                None
            } else if grp.unique {
                let k = match self.unique_base {
                    Some(b) => i.saturating_sub(b),
                    None => i + self.existing,
                };
                Some((k % grp.keys.len() as u64) as usize)
            } else {
                Some(rng.gen_range(0..grp.keys.len()))
            };
        }
        if ord {
            let _ = write!(buf, "{i}\t");
        }
        for (j, s) in self.sources.iter().enumerate() {
            if j > 0 {
                buf.push(b'\t');
            }
            match s {
                Source::Null => buf.extend_from_slice(b"\\N"),
                Source::Fk { group, pos } => match picks[*group] {
                    Some(k) => esc(buf, &self.groups[*group].keys[k][*pos]),
                    None => buf.extend_from_slice(b"\\N"),
                },
                Source::Value {
                    gen,
                    array,
                    nullable,
                } => {
                    if *nullable && rng.gen_ratio(1, 10) {
                        buf.extend_from_slice(b"\\N");
                    } else if *array {
                        gen.write_array(rng, i, buf, scratch);
                    } else {
                        gen.write(rng, i, buf);
                    }
                }
            }
        }
        buf.push(b'\n');
    }
}
