//! Reading: the files in order (later ones win), each parsed and its values
//! resolved: escapes, then `$` expansion from the process environment, then
//! the keys read so far (of this file and the files before it) — Compose's
//! order, in which the caller's environment wins. `run --override` turns the
//! order around, as it lets the file win over the environment.

use crate::interpolate;
use crate::parse::{self, ParseError};
use pgkit::{log, Error, Exit, Result};
use serde_json::json;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// A fast hash for the key index (FxHash): keys come from the user's own
/// file, so SipHash's flooding resistance buys nothing and costs a third of a
/// 10,000-line `get`.
#[derive(Default, Clone, Copy)]
pub struct FxHasher(u64);

impl std::hash::Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }

    fn write_u8(&mut self, b: u8) {
        self.write(&[b]);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type Fx = std::hash::BuildHasherDefault<FxHasher>;

#[derive(Debug)]
struct Slot {
    /// Position of the key's first occurrence over all files.
    order: usize,
    value: Cow<'static, str>,
    /// The file (index) of the last occurrence, and how often the key occurs
    /// in that file (for the duplicate warning).
    file: usize,
}

/// The resolved values (a key keeps the position of its first occurrence and
/// the value of its last).
#[derive(Debug, Default)]
pub struct Values {
    map: HashMap<&'static str, Slot, Fx>,
    /// Keys of lines that did not parse, with the error to give when one
    /// of them is asked for.
    bad: HashMap<String, Error>,
    /// Bytes of the values built by expansion or unescaping so far (the
    /// others borrow the file's text).
    built: usize,
}

impl Values {
    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.map.get(key).map(|s| s.value.as_ref())
    }

    /// The error for a key whose line did not parse (and that no later
    /// line set), if it is one.
    pub fn refused(&self, key: &str) -> Option<&Error> {
        self.bad.get(key).filter(|_| !self.map.contains_key(key))
    }

    /// The keys and values in file order.
    pub fn pairs(&self) -> Vec<(&str, &str)> {
        let mut v: Vec<(usize, &str, &str)> = self
            .map
            .iter()
            .map(|(k, s)| (s.order, *k, s.value.as_ref()))
            .collect();
        v.sort_unstable_by_key(|p| p.0);
        v.into_iter().map(|(_, k, v)| (k, v)).collect()
    }

    /// Sets a key; answers whether it was already set in the same file.
    fn insert(&mut self, key: &'static str, value: Cow<'static, str>, file: usize) -> bool {
        match self.map.get_mut(key) {
            Some(slot) => {
                let dup = slot.file == file;
                slot.file = file;
                slot.value = value;
                dup
            }
            None => {
                let order = self.map.len();
                self.map.insert(key, Slot { order, value, file });
                false
            }
        }
    }
}

/// Text from bytes, or 65 naming where the file is not UTF-8.
pub fn utf8(path: &Path, bytes: Vec<u8>) -> Result<String> {
    String::from_utf8(bytes).map_err(|e| {
        let b = e.as_bytes();
        let at = e.utf8_error().valid_up_to();
        let line = 1 + b[..at].iter().filter(|&&c| c == b'\n').count();
        let ls = b[..at]
            .iter()
            .rposition(|&c| c == b'\n')
            .map(|p| p + 1)
            .unwrap_or(0);
        let col = 1 + String::from_utf8_lossy(&b[ls..at]).chars().count();
        malformed(
            path,
            &ParseError {
                line,
                col,
                expected: "UTF-8 text".into(),
            },
        )
    })
}

/// The 65 error for a line that fits no rule of the grammar.
pub fn malformed(path: &Path, e: &ParseError) -> Error {
    Error::new(Exit::DataErr, "Malformed .env file")
        .cause(format!(
            "{}:{}:{}: expected {}",
            path.display(),
            e.line,
            e.col,
            e.expected
        ))
        .field("filename", path.display().to_string())
        .field("line", e.line)
        .field("column", e.col)
        .suggest("Fix that line (see GRAMMAR in man pg-dotenv); quote a value with '…' to take it literally")
}

/// Reads a file (66 when missing or unreadable, 65 when not UTF-8).
pub fn read_file(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|e| {
        if e.raw_os_error() == Some(libc::ELOOP) {
            // Not missing: a link that points back at itself (exit 1, as
            // for writes).
            return Error::io(Exit::Failure, "read", path, &e)
                .suggest("The path is a symlink loop: point the link at a real file");
        }
        Error::io(Exit::NoInput, "read", path, &e)
            .suggest("Check the path given with -f/--file or DOTENV_FILE")
    })?;
    utf8(path, bytes)
}

/// Where `$NAME` looks first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// The process environment, then the keys read so far (Compose).
    EnvFirst,
    /// The keys read so far, then the process environment.
    FileFirst,
}

/// Loads and resolves the files, later files winning.
pub fn load(files: &[PathBuf], interpolate: bool, order: Order) -> Result<Values> {
    let mut values = Values::default();
    let mut warned: HashSet<String> = HashSet::new();
    for (n, path) in files.iter().enumerate() {
        // The text lives as long as the process: values borrow from it
        // instead of each being copied (a read command ends soon after).
        let src: &'static str = Box::leak(read_file(path)?.into_boxed_str());
        resolve_into(path, n, src, interpolate, order, &mut values, &mut warned)?;
    }
    Ok(values)
}

/// Resolves one file's entries into `values`.
pub fn resolve_into(
    path: &Path,
    file_no: usize,
    src: &'static str,
    interpolate: bool,
    order: Order,
    values: &mut Values,
    warned: &mut HashSet<String>,
) -> Result<()> {
    let doc = parse::parse_lenient(src).map_err(|e| malformed(path, &e))?;
    for bad in &doc.bad {
        // One line no reader agrees on costs its key, not the whole file.
        log::warn(
            "Line not understood; its key is left out",
            json!({"filename": path.display().to_string(), "line": bad.error.line, "column": bad.error.col, "key": bad.key, "expected": bad.error.expected}),
        );
        if let Some(k) = &bad.key {
            values.bad.insert(k.clone(), malformed(path, &bad.error));
        }
    }
    values.map.reserve(doc.entries.len());
    let mut dups = false;
    for e in &doc.entries {
        let key = e.key(src);
        let value = {
            let from_file = |name: &str| values.get(name).map(String::from);
            let from_env = |name: &str| std::env::var(name).ok();
            let lookup = |name: &str| match order {
                Order::EnvFirst => from_env(name).or_else(|| from_file(name)),
                Order::FileFirst => from_file(name).or_else(|| from_env(name)),
            };
            let mut missing = |name: &str| {
                if warned.insert(name.to_string()) {
                    log::warn(
                        "Variable is not set; it expands to an empty string",
                        json!({"variable": name, "filename": path.display().to_string(), "line": e.line}),
                    );
                }
            };
            interpolate::resolve(e.quote, e.inner(src), interpolate, &lookup, &mut missing)
                .map_err(|m| {
                    Error::new(Exit::DataErr, "Cannot expand a value")
                        .cause(format!(
                            "{}:{}:{}: {m}",
                            path.display(),
                            e.line,
                            e.value_col
                        ))
                        .field("filename", path.display().to_string())
                        .field("line", e.line)
                        .field("column", e.value_col)
                        .field("key", key)
                        .suggest(
                            "Fix the reference, write $$ for a literal $, or use --no-interpolate",
                        )
                })?
        };
        if let Cow::Owned(v) = &value {
            values.built += v.len();
            if values.built > interpolate::MAX_EXPANDED_TOTAL {
                return Err(Error::new(Exit::DataErr, "Cannot expand a value")
                    .cause(format!(
                        "{}:{}:{}: the expanded values exceed {} bytes in total (lines that copy a large value?)",
                        path.display(),
                        e.line,
                        e.value_col,
                        interpolate::MAX_EXPANDED_TOTAL
                    ))
                    .field("filename", path.display().to_string())
                    .field("line", e.line)
                    .field("column", e.value_col)
                    .field("key", key)
                    .suggest("Refer to large values less often, or use --no-interpolate"));
            }
        }
        dups |= values.insert(key, value, file_no);
    }
    if dups {
        // Rare: a second pass names every line of each duplicated key.
        let mut lines: HashMap<&str, Vec<usize>, Fx> = HashMap::default();
        for e in &doc.entries {
            lines.entry(e.key(src)).or_default().push(e.line);
        }
        let mut dups: Vec<(&str, Vec<usize>)> =
            lines.into_iter().filter(|(_, l)| l.len() > 1).collect();
        dups.sort_by_key(|(_, l)| l[0]);
        for (key, l) in dups {
            log::warn(
                "Duplicate key; the last occurrence wins",
                json!({"filename": path.display().to_string(), "key": key, "lines": l}),
            );
        }
    }
    Ok(())
}
