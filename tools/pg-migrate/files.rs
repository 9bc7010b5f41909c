//! Discovering migration files and parsing their names:
//! `{version}_{description}.up.sql`, `{version}_{description}.down.sql`, and
//! plain `{version}_{description}.sql` (up only). Versions are digits,
//! ordered numerically (any length: compared by length, then lexically, once
//! leading zeros are gone), so `001` and `1` are the same version.

use pgkit::{Error, Exit, Result};
use std::cmp::Ordering;
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

/// The tool whose up/down annotations a plain `.sql` file carries (dbmate's
/// `-- migrate:up`, goose's `-- +goose Up`): such a file holds an up and a
/// down section and must never run as one script.
/// Checked on the bytes the checksum pass reads anyway (no second read of
/// 10,000 files).
pub fn annotated_layout(text: &[u8]) -> Option<&'static str> {
    String::from_utf8_lossy(text).lines().find_map(|line| {
        let l = line.trim_start();
        let rest = l.strip_prefix("--")?.trim_start();
        if rest.starts_with("migrate:up") || rest.starts_with("migrate:down") {
            Some("dbmate")
        } else if rest.starts_with("+goose ") {
            Some("goose")
        } else {
            None
        }
    })
}

pub fn foreign_layout(dir: &Path, name: &str, layout: &str) -> Error {
    Error::new(Exit::DataErr, "Migration folder is in another tool's layout")
        .field("filename", name.to_string())
        .field("dir", dir.display().to_string())
        .field("layout", layout.to_string())
        .suggest(format!(
            "This folder is written for {layout}, whose files pg-migrate cannot run as plain scripts; keep using {layout} for it, or convert the files to {{version}}_{{description}}.up.sql / .down.sql"
        ))
}

/// Lists the migrations in `dir`, in version order. A missing directory is
/// 66; a badly named `.sql` file, two files with one version or a down file
/// without its up file is 65, naming the file.
pub fn discover(dir: &Path) -> Result<Vec<Migration>> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        Error::io(Exit::NoInput, "read the migrations directory", dir, &e)
            .suggest("Create the directory or point --dir / MIGRATIONS_DIR at it")
    })?;
    // Collected in listing order, then sorted: no map keyed by version
    // (10,000 files: a third of the listing's time went to the map).
    let mut ups: Vec<(Name, String)> = Vec::new();
    let mut downs: Vec<(Name, String)> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(Exit::NoInput, "read", dir, &e))?;
        let name = entry
            .file_name()
            .into_string()
            .unwrap_or_else(|n| n.to_string_lossy().into_owned());
        if name.starts_with('.') {
            continue;
        }
        if !name.ends_with(".sql") {
            // A diesel folder holds one directory per migration with an
            // up.sql inside: refused, never reported as an empty folder.
            if entry.file_type().is_ok_and(|t| t.is_dir()) && entry.path().join("up.sql").is_file()
            {
                return Err(foreign_layout(dir, &format!("{name}/up.sql"), "diesel"));
            }
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
        match parsed.kind {
            Kind::Up => ups.push((parsed, name)),
            Kind::Down => downs.push((parsed, name)),
        }
    }
    let by_version =
        |a: &(Name, String), b: &(Name, String)| cmp_version(&a.0.version, &b.0.version);
    ups.sort_unstable_by(by_version);
    downs.sort_unstable_by(by_version);
    for list in [&ups, &downs] {
        if let Some(w) = list.windows(2).find(|w| w[0].0.version == w[1].0.version) {
            let (a, b) = if w[0].1 < w[1].1 {
                (w[0].1.clone(), w[1].1.clone())
            } else {
                (w[1].1.clone(), w[0].1.clone())
            };
            return Err(Error::new(Exit::DataErr, "Duplicate migration version")
                .field("filename", b)
                .field("otherFilename", a)
                .field("version", w[0].0.version.clone())
                .suggest("Give each migration its own version (001 and 1 are the same version)"));
        }
    }
    // Merge the down files onto their up files (both in version order).
    let mut downs = downs.into_iter().peekable();
    let mut list: Vec<Migration> = Vec::with_capacity(ups.len());
    for (n, up) in ups {
        if let Some((_, down)) = downs.next_if(|(d, _)| cmp_version(&d.version, &n.version).is_lt())
        {
            return Err(orphan_down(dir, down));
        }
        let down = downs
            .next_if(|(d, _)| d.version == n.version)
            .map(|(_, d)| d);
        list.push(Migration {
            version: n.version,
            version_text: n.version_text,
            description: n.description,
            up,
            down,
        });
    }
    if let Some((_, down)) = downs.next() {
        return Err(orphan_down(dir, down));
    }
    Ok(list)
}

fn orphan_down(dir: &Path, down: String) -> Error {
    Error::new(Exit::DataErr, "Down migration without its up migration")
        .field("filename", down)
        .field("dir", dir.display().to_string())
        .suggest("Add the matching .up.sql file or remove the .down.sql file")
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
