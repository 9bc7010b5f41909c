//! Discovering migration files and parsing their names:
//! `{version}_{description}.up.sql`, `{version}_{description}.down.sql`, and
//! plain `{version}_{description}.sql` (up only). Versions are digits,
//! ordered numerically (any length: compared by length, then lexically, once
//! leading zeros are gone), so `001` and `1` are the same version.

use pgkit::{Error, Exit, Result};
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One migration: its up file and, when there is one, its down file.
#[derive(Debug, Clone)]
pub struct Migration {
    /// The version, normalised (no leading zeros): the key in the tracking table.
    pub version: String,
    /// The version as written in the file name (`001`).
    pub version_text: String,
    /// The description part of the name.
    pub description: String,
    /// The up file's name.
    pub up: String,
    /// The down file's name.
    pub down: Option<String>,
}

/// What kind of file a name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `.up.sql` or plain `.sql`.
    Up,
    /// `.down.sql`.
    Down,
}

/// A parsed file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    /// Normalised version.
    pub version: String,
    /// The digits as written.
    pub version_text: String,
    /// The description.
    pub description: String,
    /// Up or down.
    pub kind: Kind,
}

/// Strips leading zeros; `None` unless `s` is one or more ASCII digits.
pub fn normalize_version(s: &str) -> Option<String> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let t = s.trim_start_matches('0');
    Some(if t.is_empty() { "0".into() } else { t.into() })
}

/// Orders normalised versions numerically.
pub fn cmp_version(a: &str, b: &str) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// Parses a `.sql` file name; `None` when it does not follow the convention.
pub fn parse_name(name: &str) -> Option<Name> {
    let (stem, kind) = if let Some(s) = name.strip_suffix(".up.sql") {
        (s, Kind::Up)
    } else if let Some(s) = name.strip_suffix(".down.sql") {
        (s, Kind::Down)
    } else {
        (name.strip_suffix(".sql")?, Kind::Up)
    };
    let (digits, description) = stem.split_once('_')?;
    let version = normalize_version(digits)?;
    if description.is_empty() || description.chars().any(|c| c.is_control()) {
        return None;
    }
    Some(Name {
        version,
        version_text: digits.to_string(),
        description: description.to_string(),
        kind,
    })
}

fn bad_name(dir: &Path, name: &str) -> Error {
    Error::new(Exit::DataErr, "Invalid migration file name")
        .field("filename", name)
        .field("dir", dir.display().to_string())
        .suggest("Name migrations {version}_{description}.up.sql (with an optional .down.sql), or {version}_{description}.sql; the version is digits")
}

/// Lists the migrations in `dir`, in version order. A missing directory is
/// 66; a badly named `.sql` file, two files with one version or a down file
/// without its up file is 65, naming the file.
pub fn discover(dir: &Path) -> Result<Vec<Migration>> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        Error::io(Exit::NoInput, "read the migrations directory", dir, &e)
            .suggest("Create the directory or point --dir / MIGRATIONS_DIR at it")
    })?;
    let mut ups: BTreeMap<String, (Name, String)> = BTreeMap::new();
    let mut downs: BTreeMap<String, (Name, String)> = BTreeMap::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(Exit::NoInput, "read", dir, &e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".sql") || name.starts_with('.') {
            continue;
        }
        // The directory entry's type needs no stat; a symlink is followed.
        let is_file = match entry.file_type() {
            Ok(t) if t.is_file() => true,
            Ok(t) if t.is_symlink() => std::fs::metadata(entry.path())
                .map(|m| m.is_file())
                .unwrap_or(false),
            _ => false,
        };
        if !is_file {
            continue;
        }
        let parsed = parse_name(&name).ok_or_else(|| bad_name(dir, &name))?;
        let map = match parsed.kind {
            Kind::Up => &mut ups,
            Kind::Down => &mut downs,
        };
        if let Some((_, other)) = map.get(&parsed.version) {
            let (a, b) = if *other < name {
                (other.clone(), name.clone())
            } else {
                (name.clone(), other.clone())
            };
            return Err(Error::new(Exit::DataErr, "Duplicate migration version")
                .field("filename", b)
                .field("otherFilename", a)
                .field("version", parsed.version.clone())
                .suggest("Give each migration its own version (001 and 1 are the same version)"));
        }
        map.insert(parsed.version.clone(), (parsed, name));
    }
    for (v, (_, down)) in &downs {
        if !ups.contains_key(v) {
            return Err(
                Error::new(Exit::DataErr, "Down migration without its up migration")
                    .field("filename", down.clone())
                    .field("dir", dir.display().to_string())
                    .suggest("Add the matching .up.sql file or remove the .down.sql file"),
            );
        }
    }
    let mut list: Vec<Migration> = ups
        .into_iter()
        .map(|(v, (n, up))| Migration {
            down: downs.remove(&v).map(|(_, d)| d),
            version: v,
            version_text: n.version_text,
            description: n.description,
            up,
        })
        .collect();
    list.sort_by(|a, b| cmp_version(&a.version, &b.version));
    Ok(list)
}

/// Reads a migration file as UTF-8 text (BOM removed): 66 when missing, 65
/// when not UTF-8.
pub fn read(dir: &Path, name: &str) -> Result<(String, String)> {
    let path: PathBuf = dir.join(name);
    let bytes = std::fs::read(&path).map_err(|e| Error::io(Exit::NoInput, "read", &path, &e))?;
    let checksum = crate::checksum::of(&bytes);
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let text = String::from_utf8(body.to_vec()).map_err(|_| {
        Error::new(Exit::DataErr, "Migration file is not UTF-8")
            .field("filename", name)
            .suggest("Save the file as UTF-8")
    })?;
    Ok((text, checksum))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let n = parse_name("001_create_schema.up.sql");
        assert_eq!(n.as_ref().map(|n| n.version.as_str()), Some("1"));
        assert_eq!(n.map(|n| n.kind), Some(Kind::Up));
        assert_eq!(
            parse_name("20240101120000_add.down.sql").map(|n| n.kind),
            Some(Kind::Down)
        );
        assert_eq!(
            parse_name("2_plain.sql").map(|n| n.description),
            Some("plain".into())
        );
        assert_eq!(
            parse_name("000_zero.sql").map(|n| n.version),
            Some("0".into())
        );
        for bad in [
            "create.sql",
            "01.sql",
            "_x.sql",
            "a1_x.sql",
            "1_.up.sql",
            "1x_y.sql",
        ] {
            assert_eq!(parse_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn numeric_order() {
        let mut v = vec!["10", "9", "100", "2", "99999999999999999999999999999"];
        v.sort_by(|a, b| cmp_version(a, b));
        assert_eq!(
            v,
            vec!["2", "9", "10", "100", "99999999999999999999999999999"]
        );
    }
}
