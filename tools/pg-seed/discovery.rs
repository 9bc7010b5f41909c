//! Finding the seed files: the directory's `*.sql` and `*.csv` in lexical
//! order (or the files named with `--file`), each with its SHA-256 and, for a
//! CSV, the table its name designates.

use crate::ident::QualifiedName;
use pgkit::{log, Error, Exit, Result};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};

/// What a seed file is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// SQL, executed as written.
    Sql,
    /// CSV with a header, COPYed into this table.
    Csv(QualifiedName),
}

/// One seed file.
#[derive(Debug, Clone)]
pub struct SeedFile {
    /// The file name: the key in the tracking table.
    pub name: String,
    /// Where it is.
    pub path: PathBuf,
    /// SQL or CSV.
    pub kind: Kind,
    /// SHA-256 of the content, hex.
    pub checksum: Checksum,
}

/// A file's SHA-256, computed when it is first needed: before the run for a
/// file already in the tracking table (to compare), else only to record the
/// file once it ran. A SQL file that runs is hashed from the text already
/// loaded, on a thread of its own while the server works.
#[derive(Debug, Clone)]
pub struct Checksum(std::sync::Arc<std::sync::Mutex<State>>);

#[derive(Debug)]
enum State {
    NotStarted(PathBuf),
    Running(Option<std::thread::JoinHandle<String>>),
    Done(Result<String>),
}

fn hex(d: impl AsRef<[u8]>) -> String {
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

impl Checksum {
    fn lazy(path: &Path) -> Checksum {
        Checksum(std::sync::Arc::new(std::sync::Mutex::new(
            State::NotStarted(path.to_path_buf()),
        )))
    }

    /// Starts hashing text already read from the file (`bom`: the file
    /// began with a UTF-8 byte-order mark, stripped from `text`).
    pub fn hash_loaded(&self, text: std::sync::Arc<String>, bom: bool) {
        if let Ok(mut st) = self.0.lock() {
            if matches!(*st, State::NotStarted(_)) {
                *st = State::Running(Some(std::thread::spawn(move || {
                    let mut h = Sha256::new();
                    if bom {
                        h.update("\u{feff}".as_bytes());
                    }
                    h.update(text.as_bytes());
                    hex(h.finalize())
                })));
            }
        }
    }

    /// The checksum.
    pub fn get(&self) -> Result<String> {
        let fail = || Error::new(Exit::Seed, "Cannot compute a checksum");
        let mut st = self.0.lock().map_err(|_| fail())?;
        let done = match &mut *st {
            State::NotStarted(p) => checksum(p),
            State::Running(h) => h.take().and_then(|h| h.join().ok()).ok_or_else(fail),
            State::Done(r) => return r.clone(),
        };
        *st = State::Done(done.clone());
        done
    }
}

/// The table a CSV file name designates: `users.csv` → users,
/// `20_app.users.csv` → app.users (a leading `NN_` orders files and is not
/// part of the name).
pub fn csv_table(file_name: &str) -> Result<QualifiedName> {
    let stem = file_name.strip_suffix(".csv").unwrap_or(file_name);
    let digits = stem.bytes().take_while(u8::is_ascii_digit).count();
    let stem = if digits > 0 && stem.as_bytes().get(digits) == Some(&b'_') {
        &stem[digits + 1..]
    } else {
        stem
    };
    QualifiedName::parse(stem).ok_or_else(|| {
        Error::new(Exit::DataErr, "CSV file name is not a table name")
            .cause(format!(
                "{stem:?} is not a valid identifier or schema.identifier"
            ))
            .field("filename", file_name)
            .suggest("Name CSV files TABLE.csv, SCHEMA.TABLE.csv or NN_TABLE.csv (letters, digits, _ and $; not starting with a digit)")
    })
}

fn kind_of(name: &str) -> Option<Result<Kind>> {
    if name.ends_with(".sql") {
        Some(Ok(Kind::Sql))
    } else if name.ends_with(".csv") {
        Some(csv_table(name).map(Kind::Csv))
    } else {
        None
    }
}

/// SHA-256 of a file, streamed.
pub fn checksum(path: &Path) -> Result<String> {
    let mut f = std::fs::File::open(path).map_err(|e| Error::io(Exit::Seed, "open", path, &e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = f
            .read(&mut buf)
            .map_err(|e| Error::io(Exit::Seed, "read", path, &e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex(h.finalize()))
}

/// The seed files of a directory, in lexical (byte) order of their names.
/// Hidden files, other extensions and subdirectories are ignored; a symlink
/// that leads out of the directory is refused.
pub fn discover(dir: &Path) -> Result<Vec<SeedFile>> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        Error::io(Exit::NoInput, "read the seeds directory", dir, &e)
            .suggest("Create the directory, or point --dir / SEEDS_DIR at it")
    })?;
    let root = dir
        .canonicalize()
        .map_err(|e| Error::io(Exit::NoInput, "resolve", dir, &e))?;
    let mut found: Vec<(String, PathBuf)> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(Exit::NoInput, "read", dir, &e))?;
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            log::warn(
                "Seed file name is not UTF-8, ignored",
                json!({"path": entry.path().display().to_string()}),
            );
            continue;
        };
        if name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        if !(name.ends_with(".sql") || name.ends_with(".csv")) {
            log::debug("Not a seed file, ignored", json!({"filename": name}));
            continue;
        }
        let real = path
            .canonicalize()
            .map_err(|e| Error::io(Exit::NoInput, "resolve", &path, &e))?;
        if !real.starts_with(&root) {
            return Err(
                Error::new(Exit::DataErr, "Seed file leads out of the seeds directory")
                    .field("filename", name)
                    .field("target", real.display().to_string())
                    .suggest("Copy the file into the seeds directory instead of linking to it"),
            );
        }
        found.push((name, path));
    }
    found.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    found
        .into_iter()
        .filter_map(|(name, path)| {
            kind_of(&name).map(|k| {
                let kind = k?;
                let checksum = Checksum::lazy(&path);
                Ok(SeedFile {
                    name,
                    path,
                    kind,
                    checksum,
                })
            })
        })
        .collect()
}

/// The files named with `--file`, in the order given. Each must exist and
/// end in `.sql` or `.csv`; two files may not share a name (the tracking key).
pub fn from_paths(paths: &[PathBuf]) -> Result<Vec<SeedFile>> {
    let mut out: Vec<SeedFile> = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|e| {
            Error::io(Exit::NoInput, "read the seed file", path, &e)
                .suggest("Check the path given with --file")
        })?;
        if !meta.is_file() {
            return Err(Error::new(Exit::NoInput, "Seed path is not a file")
                .field("path", path.display().to_string())
                .suggest("Give a .sql or .csv file with --file, or a directory with --dir"));
        }
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .map(str::to_string)
            .ok_or_else(|| {
                Error::new(Exit::DataErr, "Seed file name is not UTF-8")
                    .field("path", path.display().to_string())
            })?;
        let kind = kind_of(&name).unwrap_or_else(|| {
            Err(Error::new(Exit::DataErr, "Not a seed file")
                .cause("the name must end in .sql or .csv")
                .field("filename", name.clone())
                .suggest("Give .sql or .csv files with --file"))
        })?;
        if out.iter().any(|f| f.name == name) {
            return Err(Error::usage("Two seed files share a name")
                .field("filename", name)
                .suggest("Seed files are tracked by file name: rename one of them"));
        }
        let checksum = Checksum::lazy(path);
        out.push(SeedFile {
            name,
            path: path.clone(),
            kind,
            checksum,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_names() {
        let t = |n: &str| csv_table(n).map(|q| q.display()).map_err(|e| e.code);
        assert_eq!(t("users.csv"), Ok("users".into()));
        assert_eq!(t("20_app.users.csv"), Ok("app.users".into()));
        assert_eq!(t("001_users.csv"), Ok("users".into()));
        assert_eq!(t("_users.csv"), Ok("_users".into()));
        assert_eq!(t("20-users.csv"), Err(Exit::DataErr));
        assert_eq!(t("a.b.c.csv"), Err(Exit::DataErr));
        assert_eq!(t("20_.csv"), Err(Exit::DataErr));
        assert_eq!(t("my table.csv"), Err(Exit::DataErr));
    }
}
