//! The layout of a dump directory: source names, dump file names, sidecars and
//! manifests, and a cheap scan (stat and two small reads per dump, never a
//! hash) that `list` and `purge` share.
//!
//! ```text
//! DIR/SOURCE/SOURCE_20250102T030405Z.pgdump          custom format (a file)
//! DIR/SOURCE/SOURCE_20250102T030405Z.sql             plain format (a file)
//! DIR/SOURCE/SOURCE_20250102T030405Z.sql.gz          plain, gzip-compressed
//! DIR/SOURCE/SOURCE_20250102T030405Z.dir/            directory format
//! DIR/SOURCE/SOURCE_20250102T030405Z.pgdump.sha256   `sha256sum -c` sidecar
//! DIR/SOURCE/SOURCE_20250102T030405Z.pgdump.json     manifest
//! DIR/SOURCE/SOURCE_20250102T030405Z.pgdump.partial  a dump being written
//! ```
//!
//! Only names of exactly this shape are ever read, listed or removed.

use chrono::{DateTime, NaiveDateTime, Utc};
use pgkit::{Error, Exit, Result};
use serde_json::Value;
use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

/// The timestamp format in names: UTC, sortable, no DST.
pub const STAMP: &str = "%Y%m%dT%H%M%SZ";
/// Length of a formatted `STAMP`.
const STAMP_LEN: usize = 16;

/// A dump format and the extension its dumps carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// `pg_dump -Fc`, one file, `.pgdump`.
    Custom,
    /// `pg_dump -Fp`, an SQL script, `.sql`.
    Plain,
    /// `pg_dump -Fd`, a directory, `.dir`.
    Directory,
}

impl Format {
    /// The extension (without the dot).
    pub fn ext(self) -> &'static str {
        match self {
            Format::Custom => "pgdump",
            Format::Plain => "sql",
            Format::Directory => "dir",
        }
    }

    /// The name used in manifests and `--format`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Custom => "custom",
            Format::Plain => "plain",
            Format::Directory => "directory",
        }
    }

    /// pg_dump's `--format` letter.
    pub fn pg_dump_flag(self) -> &'static str {
        match self {
            Format::Custom => "--format=c",
            Format::Plain => "--format=p",
            Format::Directory => "--format=d",
        }
    }

    fn from_ext(ext: &str) -> Option<Format> {
        match ext {
            "pgdump" => Some(Format::Custom),
            "sql" | "sql.gz" => Some(Format::Plain),
            "dir" => Some(Format::Directory),
            _ => None,
        }
    }
}

/// Whether `s` is a valid source name: `[A-Za-z0-9_.-]+`, not `.` or `..`.
pub fn valid_source(s: &str) -> bool {
    !s.is_empty()
        && s != "."
        && s != ".."
        && s.len() <= 200
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// Checks a source name; an invalid one is a usage error (64).
pub fn check_source(s: &str) -> Result<()> {
    if valid_source(s) {
        return Ok(());
    }
    Err(Error::usage("Invalid source name")
        .cause(format!(
            "{s:?} is not a plain name: only letters, digits, '_', '.' and '-' are allowed, and not '.' or '..'"
        ))
        .field("source", s)
        .suggest("Pass --source with a plain name such as 'app' or 'app-prod'"))
}

/// The file name of a dump of `source` started at `t`.
pub fn dump_name(source: &str, t: DateTime<Utc>, format: Format) -> String {
    format!("{source}_{}.{}", t.format(STAMP), format.ext())
}

/// A dump's name parsed: its time and format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parsed {
    /// When the dump started (UTC, second precision).
    pub time: DateTime<Utc>,
    /// Its format.
    pub format: Format,
}

/// Splits `SOURCE_STAMP.EXT` into a stamp of the right shape (16 characters:
/// digits, `T` and `Z` in place; not necessarily a real time) and a format.
fn dump_shaped<'a>(source: &str, name: &'a str) -> Option<(&'a str, Format)> {
    let rest = name.strip_prefix(source)?.strip_prefix('_')?;
    let (stamp, ext) = rest.split_once('.')?;
    let format = Format::from_ext(ext)?;
    let shaped = stamp.len() == STAMP_LEN
        && stamp.bytes().enumerate().all(|(i, b)| match i {
            8 => b == b'T',
            15 => b == b'Z',
            _ => b.is_ascii_digit(),
        });
    shaped.then_some((stamp, format))
}

/// Parses `SOURCE_YYYYMMDDTHHMMSSZ.EXT` for the given source; anything else
/// is not ours (None). An impossible time (February 30, second 60: dumps
/// are named by the UTC clock, which never shows a leap second) is not a
/// dump either.
pub fn parse_dump_name(source: &str, name: &str) -> Option<Parsed> {
    let (stamp, format) = dump_shaped(source, name)?;
    let time = NaiveDateTime::parse_from_str(stamp, STAMP).ok()?.and_utc();
    if time.timestamp_subsec_nanos() != 0 {
        return None;
    }
    Some(Parsed { time, format })
}

/// Whether `name` is shaped like a dump of `source` but its time cannot be
/// (see `parse_dump_name`): it is left alone, with a warning.
pub fn impossible_time(source: &str, name: &str) -> bool {
    dump_shaped(source, name).is_some() && parse_dump_name(source, name).is_none()
}

/// Whether a dump of `source` (any format, partial or not) already carries
/// the stamp of `t`: names are unique per source across formats.
pub fn stamp_taken(sdir: &Path, source: &str, t: DateTime<Utc>) -> Result<bool> {
    let prefix = format!("{source}_{}.", t.format(STAMP));
    let rd = fs::read_dir(sdir).map_err(|e| Error::io(Exit::Dump, "read", sdir, &e))?;
    Ok(rd.flatten().any(|e| {
        e.file_name()
            .to_str()
            .is_some_and(|n| n.starts_with(&prefix))
    }))
}

/// The sidecar path of a dump.
pub fn sidecar_path(dump: &Path) -> PathBuf {
    with_suffix(dump, ".sha256")
}

/// The manifest path of a dump.
pub fn manifest_path(dump: &Path) -> PathBuf {
    with_suffix(dump, ".json")
}

/// The partial path of a dump.
pub fn partial_path(dump: &Path) -> PathBuf {
    with_suffix(dump, ".partial")
}

/// `path` with `suffix` appended to its file name.
pub fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// The cheap checksum state of a dump (no hashing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checksum {
    /// Sidecar and manifest present, their SHA-256 agree and the size on disk
    /// is the manifest's.
    Ok,
    /// A sidecar, but no readable manifest to check it and the size against.
    Unverified,
    /// No sidecar.
    Missing,
    /// Sidecar and manifest disagree, or the size on disk is not the
    /// manifest's: the dump is damaged.
    Mismatch,
}

impl Checksum {
    /// The name in `list` output.
    pub fn as_str(self) -> &'static str {
        match self {
            Checksum::Ok => "ok",
            Checksum::Unverified => "unverified",
            Checksum::Missing => "missing",
            Checksum::Mismatch => "mismatch",
        }
    }
}

/// One complete dump found by a scan.
#[derive(Debug, Clone)]
pub struct Dump {
    /// The file (or directory) name.
    pub name: String,
    /// The full path.
    pub path: PathBuf,
    /// When it started.
    pub time: DateTime<Utc>,
    /// Its format.
    pub format: Format,
    /// Size in bytes (the manifest's for directory dumps, else on disk).
    pub size: u64,
    /// The cheap checksum state.
    pub checksum: Checksum,
    /// Last modification: orders dumps whose names carry the same second
    /// (made before names were unique across formats).
    pub modified: DateTime<Utc>,
}

/// A leftover: a `.partial` dump, or a sidecar/manifest whose dump is gone.
#[derive(Debug, Clone)]
pub struct Leftover {
    /// The file name.
    pub name: String,
    /// The full path.
    pub path: PathBuf,
    /// Whether it is a partial dump (else an orphaned sidecar or manifest).
    pub partial: bool,
    /// Last modification.
    pub modified: DateTime<Utc>,
    /// Size on disk.
    pub size: u64,
}

/// What a scan of one source finds.
#[derive(Debug, Clone, Default)]
pub struct SourceScan {
    /// Complete dumps, newest first.
    pub dumps: Vec<Dump>,
    /// Partial and orphaned files.
    pub leftovers: Vec<Leftover>,
}

/// Lists the sources under `dir` (sorted). A missing directory is 66.
pub fn sources(dir: &Path) -> Result<Vec<String>> {
    let rd = fs::read_dir(dir).map_err(|e| {
        Error::io(Exit::NoInput, "read the dump directory", dir, &e)
            .suggest("Check --dir / DUMP_DIR, or run 'pg-dump-rotate dump' first")
    })?;
    let mut v: Vec<String> = rd
        .flatten()
        .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
        .filter_map(|e| e.file_name().to_str().map(String::from))
        .filter(|n| valid_source(n))
        .collect();
    v.sort();
    Ok(v)
}

/// Scans one source directory. Only names of the tool's shape are looked at.
pub fn scan_source(dir: &Path, source: &str) -> Result<SourceScan> {
    let sdir = dir.join(source);
    let rd = fs::read_dir(&sdir).map_err(|e| Error::io(Exit::Failure, "read", &sdir, &e))?;
    let names: Vec<String> = rd
        .flatten()
        .filter_map(|e| e.file_name().to_str().map(String::from))
        .collect();
    let present: HashSet<&str> = names.iter().map(String::as_str).collect();
    let mut scan = SourceScan::default();
    let mut impossible = Vec::new();
    for name in &names {
        if let Some(p) = parse_dump_name(source, name) {
            let path = sdir.join(name);
            let Ok(meta) = fs::symlink_metadata(&path) else {
                continue;
            };
            let is_dir = p.format == Format::Directory;
            if meta.is_dir() != is_dir || meta.file_type().is_symlink() {
                continue;
            }
            let has_sidecar = present.contains(format!("{name}.sha256").as_str());
            let manifest = if present.contains(format!("{name}.json").as_str()) {
                read_manifest(&manifest_path(&path))
            } else {
                None
            };
            let (checksum, size) =
                cheap_state(&path, has_sidecar, manifest.as_ref(), meta.len(), is_dir);
            scan.dumps.push(Dump {
                name: name.clone(),
                path,
                time: p.time,
                format: p.format,
                size,
                checksum,
                modified: meta.modified().map(DateTime::<Utc>::from).unwrap_or(p.time),
            });
            continue;
        }
        if impossible_time(source, name) {
            impossible.push(name.clone());
            continue;
        }
        let leftover = if let Some(base) = name.strip_suffix(".partial") {
            parse_dump_name(source, base).map(|_| true)
        } else if let Some(base) = name
            .strip_suffix(".sha256")
            .or_else(|| name.strip_suffix(".json"))
        {
            // A sidecar or manifest whose dump is not there: left by a crash
            // between writing them and the final rename.
            (parse_dump_name(source, base).is_some() && !present.contains(base)).then_some(false)
        } else {
            None
        };
        if let Some(partial) = leftover {
            let path = sdir.join(name);
            let Ok(meta) = fs::symlink_metadata(&path) else {
                continue;
            };
            if meta.file_type().is_symlink() {
                continue;
            }
            let modified = meta
                .modified()
                .map(DateTime::<Utc>::from)
                .unwrap_or_else(|_| Utc::now());
            scan.leftovers.push(Leftover {
                name: name.clone(),
                path,
                partial,
                modified,
                size: meta.len(),
            });
        }
    }
    if !impossible.is_empty() {
        impossible.sort();
        pgkit::log::warn(
            "Ignoring files named like dumps with an impossible time",
            serde_json::json!({"source": source, "files": impossible}),
        );
    }
    // Newest first, by the time in the name, then by when the file was last
    // written.
    scan.dumps.sort_by(|a, b| {
        b.time
            .cmp(&a.time)
            .then(b.modified.cmp(&a.modified))
            .then(b.name.cmp(&a.name))
    });
    scan.leftovers.sort_by(|a, b| b.name.cmp(&a.name));
    Ok(scan)
}

fn cheap_state(
    path: &Path,
    has_sidecar: bool,
    manifest: Option<&Value>,
    disk_size: u64,
    is_dir: bool,
) -> (Checksum, u64) {
    let m_size = manifest.and_then(|m| m["size"].as_u64());
    let size = if is_dir {
        m_size.unwrap_or(0)
    } else {
        disk_size
    };
    if !has_sidecar {
        return (Checksum::Missing, size);
    }
    let Some(m) = manifest else {
        return (Checksum::Unverified, size);
    };
    let Some(side) = read_small(&sidecar_path(path))
        .map(|b| sidecar_digest(&String::from_utf8_lossy(&b), is_dir))
    else {
        return (Checksum::Missing, size);
    };
    let agree = m["sha256"].as_str() == Some(side.as_str());
    let size_ok = is_dir || m_size == Some(disk_size);
    if agree && size_ok {
        (Checksum::Ok, size)
    } else {
        (Checksum::Mismatch, size)
    }
}

/// The digest a sidecar stands for, as the manifest records it: the hash on
/// its line for a file dump; for a directory dump (one line per file), the
/// SHA-256 of the sidecar's text.
pub fn sidecar_digest(text: &str, is_dir: bool) -> String {
    if is_dir {
        use sha2::Digest;
        hex(&sha2::Sha256::digest(text.as_bytes()))
    } else {
        text.split_whitespace().next().unwrap_or("").to_string()
    }
}

/// Reads a manifest; None when absent or not JSON.
pub fn read_manifest(path: &Path) -> Option<Value> {
    let bytes = read_small(path)?;
    serde_json::from_slice(&bytes).ok()
}

/// Reads a small file in as few system calls as possible (open, read,
/// close: no stat, no second read for EOF while it fits the first buffer):
/// `list` reads two per dump, thousands of times.
fn read_small(path: &Path) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut f = fs::File::open(path).ok()?;
    let mut buf = vec![0u8; 16 * 1024];
    let mut n = 0;
    loop {
        match f.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => {
                n += k;
                if n < buf.len() {
                    // A regular file returns less than asked only at its end.
                    break;
                }
                buf.resize(buf.len() * 2, 0);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    buf.truncate(n);
    Some(buf)
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    const H: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(H[(b >> 4) as usize] as char);
        s.push(H[(b & 15) as usize] as char);
    }
    s
}

/// Human size (`1.2 MiB`).
pub fn human_size(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// Human age (`3d4h`, `5m`, `12s`).
pub fn human_age(secs: i64) -> String {
    let s = secs.max(0);
    let (d, h, m) = (s / 86_400, (s % 86_400) / 3600, (s % 3600) / 60);
    if d > 0 {
        format!("{d}d{h}h")
    } else if h > 0 {
        format!("{h}h{m}m")
    } else if m > 0 {
        format!("{m}m")
    } else {
        format!("{s}s")
    }
}

/// `list`'s table (local and remote): five left/left/right/right/left
/// aligned columns under their header, two spaces apart.
pub fn table(header: [&str; 5], rows: &[[String; 5]]) -> String {
    let header = header.map(String::from);
    let mut w = [0usize; 5];
    for r in std::iter::once(&header).chain(rows.iter()) {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.len());
        }
    }
    let mut text = String::with_capacity(rows.len() * 100);
    for r in std::iter::once(&header).chain(rows.iter()) {
        text.push_str(&format!(
            "{:<w0$}  {:<w1$}  {:>w2$}  {:>w3$}  {}\n",
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            w0 = w[0],
            w1 = w[1],
            w2 = w[2],
            w3 = w[3]
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn source_names() {
        for ok in ["app", "app_prod", "a.b-c", "A1"] {
            assert!(valid_source(ok), "{ok}");
        }
        for bad in ["", ".", "..", "../x", "a/b", "a b", "ü", "x\0"] {
            assert!(!valid_source(bad), "{bad:?}");
        }
    }

    #[test]
    fn names_round_trip() {
        let t = Utc.with_ymd_and_hms(2025, 1, 2, 3, 4, 5).single();
        let t = t.unwrap_or_default();
        let n = dump_name("app_x", t, Format::Custom);
        assert_eq!(n, "app_x_20250102T030405Z.pgdump");
        let p = parse_dump_name("app_x", &n);
        assert_eq!(
            p,
            Some(Parsed {
                time: t,
                format: Format::Custom
            })
        );
        assert_eq!(parse_dump_name("app", &n), None, "another source's name");
        assert_eq!(parse_dump_name("app_x", &format!("{n}.partial")), None);
        assert_eq!(
            parse_dump_name("app_x", "app_x_20251302T030405Z.pgdump"),
            None
        );
        assert_eq!(parse_dump_name("app_x", "app_x_20250102T030405Z.tar"), None);
        assert!(parse_dump_name("a", "a_20250102T030405Z.sql").is_some());
        assert!(parse_dump_name("a", "a_20250102T030405Z.dir").is_some());
        let gz = parse_dump_name("a", "a_20250102T030405Z.sql.gz");
        assert_eq!(gz.map(|p| p.format), Some(Format::Plain));
        assert_eq!(
            parse_dump_name("a", "a_20250102T030405Z.sql.gz.sha256"),
            None
        );
        assert_eq!(parse_dump_name("a", "a_20250102T030405Z.pgdump.gz"), None);
    }

    #[test]
    fn humans() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_age(90_000), "1d1h");
        assert_eq!(human_age(59), "59s");
    }
}
