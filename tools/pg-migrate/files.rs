//! Discovering migration files and parsing their names:
//! `{version}_{description}.up.sql`, `{version}_{description}.down.sql`, and
//! plain `{version}_{description}.sql` (up only). Versions are digits,
//! ordered numerically (any length: compared by length, then lexically, once
//! leading zeros are gone), so `001` and `1` are the same version. Other
//! tools' folders (dbmate, goose, diesel, Flyway, ...) are read as those
//! tools read them: see [`crate::layout`].

use crate::layout::{self, Layout, Order, Part, Sections};
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
    /// How the file holds its up and down parts (a dbmate or goose file
    /// holds both; its `down` is the same file).
    pub sections: Sections,
    /// Runs outside a transaction whatever its text says (diesel's
    /// `metadata.toml`).
    pub no_tx: bool,
    /// A Flyway script: Flyway's placeholders are refused and its
    /// transaction rules (`.sql.conf`, statements that cannot run in one)
    /// apply.
    pub flyway: bool,
    /// May be applied after newer versions without --allow-out-of-order
    /// (refinery's `U`, "unversioned", migrations).
    pub any_order: bool,
}

impl Migration {
    /// A whole file that is its up migration and has no down of its own
    /// (Flyway's and refinery's scripts; a Flyway undo file is set after).
    fn script(version: String, version_text: &str, description: &str, up: &str) -> Migration {
        Migration {
            version,
            version_text: version_text.to_string(),
            description: description.to_string(),
            up: up.to_string(),
            down: None,
            sections: Sections::Whole,
            no_tx: false,
            flyway: false,
            any_order: false,
        }
    }
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

/// A version as the tracking table keys it, in the folder's order (digits
/// without leading zeros for pgkit's layout); `None` when not a version.
pub fn normalize_version(s: &str) -> Option<String> {
    layout::normalize(s)
}

/// Orders normalised versions in the folder's order.
pub fn cmp_version(a: &str, b: &str) -> Ordering {
    layout::compare(a, b)
}

/// Parses a `.sql` file name; `None` when it does not follow the convention.
pub fn parse_name(name: &str) -> Option<Name> {
    parse_name_in(layout::order(), name)
}

/// [`parse_name`] with versions in a given order.
fn parse_name_in(order: Order, name: &str) -> Option<Name> {
    let (stem, kind) = if let Some(s) = name.strip_suffix(".up.sql") {
        (s, Kind::Up)
    } else if let Some(s) = name.strip_suffix(".down.sql") {
        (s, Kind::Down)
    } else {
        (name.strip_suffix(".sql")?, Kind::Up)
    };
    let (digits, description) = stem.split_once('_')?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let version = layout::normalize_in(order, digits)?;
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
pub fn annotated_layout(text: &[u8]) -> Option<Sections> {
    layout::annotations(&String::from_utf8_lossy(text))
}

/// The tool whose annotations `s` are.
pub fn sections_name(s: Sections) -> &'static str {
    match s {
        Sections::Dbmate => "dbmate",
        Sections::Goose => "goose",
        Sections::Whole => "pgkit",
    }
}

/// Two files of a folder that belong to different layouts.
pub fn mixed(dir: &Path, a: &str, b: &str) -> Error {
    Error::new(Exit::DataErr, "Migration folder mixes layouts")
        .field("filename", a.to_string())
        .field("otherFilename", b.to_string())
        .field("dir", dir.display().to_string())
        .suggest("Keep one tool's layout per folder, or name it with --layout (MIGRATIONS_LAYOUT)")
}

/// A file of a dbmate or goose folder without that tool's annotations.
pub fn unannotated(dir: &Path, name: &str, want: Sections) -> Error {
    let marker = match want {
        Sections::Goose => "-- +goose Up",
        _ => "-- migrate:up",
    };
    Error::new(Exit::DataErr, "Migration file lacks its layout's annotations")
        .cause(format!("no '{marker}' line"))
        .field("filename", name.to_string())
        .field("dir", dir.display().to_string())
        .field("layout", sections_name(want))
        .suggest(format!(
            "Every file of a {} folder starts its up section with '{marker}' (or name the folder's layout with --layout)",
            sections_name(want)
        ))
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

/// One directory entry of a migrations folder.
struct Listed {
    name: String,
    /// A file (a symlink to one counts).
    file: bool,
    /// A directory holding `up.sql` (a diesel migration).
    diesel: bool,
}

fn list(dir: &Path) -> Result<Vec<Listed>> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        Error::io(Exit::NoInput, "read the migrations directory", dir, &e)
            .suggest("Create the directory or point --dir / MIGRATIONS_DIR at it")
    })?;
    let mut v = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(Exit::NoInput, "read", dir, &e))?;
        let name = entry
            .file_name()
            .into_string()
            .unwrap_or_else(|n| n.to_string_lossy().into_owned());
        if name.starts_with('.') {
            continue;
        }
        // The directory entry's type needs no stat; a symlink is followed.
        let t = entry.file_type().ok();
        let (file, is_dir) = match t {
            Some(t) if t.is_symlink() => std::fs::metadata(entry.path())
                .map(|m| (m.is_file(), m.is_dir()))
                .unwrap_or((false, false)),
            Some(t) => (t.is_file(), t.is_dir()),
            None => (false, false),
        };
        let diesel = is_dir && entry.path().join("up.sql").is_file();
        v.push(Listed { name, file, diesel });
    }
    Ok(v)
}

/// The folder's layout, from its names (and the first plain `.sql` file's
/// annotations): a folder of two layouts is 65, naming one file of each.
fn detect(dir: &Path, listed: &[Listed], walked: &Walked) -> Result<Layout> {
    let diesel = listed.iter().find(|l| l.diesel);
    let sql: Vec<&Listed> = listed
        .iter()
        .filter(|l| l.file && l.name.ends_with(".sql"))
        .collect();
    let ours = sql
        .iter()
        .find(|l| parse_name_in(Order::Numeric, &l.name).is_some());
    if let Some(d) = diesel {
        let flyway = sql.iter().find(|l| layout::flyway_name(&l.name).is_some());
        if let Some(f) = flyway.or(ours) {
            return Err(mixed(dir, &format!("{}/up.sql", d.name), &f.name));
        }
        return Ok(Layout::Diesel);
    }
    // Flyway's and refinery's names (`V1__x.sql`), in subfolders too. A
    // `U` file is Flyway's undo of its `V` file; one without a `V` of its
    // version, or a Rust migration, is refinery's.
    let paths = walked.get(dir, listed)?;
    let flyway: Vec<&String> = paths
        .iter()
        .filter(|p| layout::flyway_name(base_name(p)).is_some())
        .collect();
    let versioned: std::collections::HashSet<String> = flyway
        .iter()
        .filter_map(|p| match layout::flyway_name(base_name(p)) {
            Some(('V', v, _)) => layout::normalize_in(Order::Dotted, v),
            _ => None,
        })
        .collect();
    let lone_undo = flyway
        .iter()
        .find(|p| match layout::flyway_name(base_name(p)) {
            Some(('U', v, _)) => {
                layout::normalize_in(Order::Dotted, v).is_some_and(|v| !versioned.contains(&v))
            }
            _ => false,
        });
    let rust = paths
        .iter()
        .find(|p| matches!(layout::refinery_name(base_name(p)), Some((.., false))));
    if let Some(r) = rust.or(lone_undo.copied()) {
        // A name only Flyway takes (R__x.sql, a dotted version) beside it.
        let other = flyway
            .iter()
            .find(|p| layout::refinery_name(base_name(p)).is_none())
            .map(|p| p.as_str())
            .or(ours.map(|o| o.name.as_str()));
        if let Some(o) = other {
            return Err(mixed(dir, r, o));
        }
        return Ok(Layout::Refinery);
    }
    if let Some(f) = flyway.first() {
        if let Some(o) = ours {
            return Err(mixed(dir, f, &o.name));
        }
        return Ok(Layout::Flyway);
    }
    let mut plain: Vec<&&Listed> = sql
        .iter()
        .filter(|l| !l.name.ends_with(".up.sql") && !l.name.ends_with(".down.sql"))
        .filter(|l| parse_name_in(Order::Numeric, &l.name).is_some())
        .collect();
    plain.sort_by(|a, b| a.name.cmp(&b.name));
    let Some(first) = plain.first() else {
        return Ok(Layout::Pgkit);
    };
    let path = dir.join(&first.name);
    let head = read_head(&path).map_err(|e| Error::io(Exit::NoInput, "read", &path, &e))?;
    let found = match annotated_layout(&head) {
        Some(Sections::Dbmate) => Layout::Dbmate,
        Some(Sections::Goose) => Layout::Goose,
        _ => return Ok(Layout::Pgkit),
    };
    if let Some(pair) = sql
        .iter()
        .find(|l| l.name.ends_with(".up.sql") || l.name.ends_with(".down.sql"))
    {
        return Err(mixed(dir, &first.name, &pair.name));
    }
    Ok(found)
}

/// The first 64 KiB of a file.
fn read_head(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut buf = Vec::new();
    std::fs::File::open(path)?
        .take(64 * 1024)
        .read_to_end(&mut buf)?;
    Ok(buf)
}

/// The layout of the folder (`wanted`, or detected for `Auto`).
pub fn layout_of(dir: &Path, wanted: Layout) -> Result<Layout> {
    match wanted {
        Layout::Auto => {
            let listed = list(dir)?;
            detect(dir, &listed, &Walked::default())
        }
        l => Ok(l),
    }
}

/// Whether the folder holds plain `{version}_{description}.sql` files and
/// no `.up.sql` pair (sqlx's simple migrations): `new` writes one file too.
pub fn plain_only(dir: &Path) -> bool {
    let names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    let pair = names.iter().any(|n| n.ends_with(".up.sql"));
    !pair && names.iter().any(|n| n.ends_with(".sql"))
}

/// Lists the migrations in `dir`, in version order, in the folder's layout
/// (`Auto`: detected). A missing directory is 66; a badly named `.sql`
/// file, two files with one version, a down file without its up file, or
/// a folder mixing layouts is 65, naming the file.
pub fn discover(dir: &Path, wanted: Layout) -> Result<Vec<Migration>> {
    let listed = list(dir)?;
    // Detection may have walked the folder already: walked once.
    let walked = Walked::default();
    let found = match wanted {
        Layout::Auto => detect(dir, &listed, &walked)?,
        l => l,
    };
    layout::set_order(match found {
        Layout::Dbmate | Layout::Diesel => Order::Text,
        Layout::Flyway => Order::Dotted,
        _ => Order::Numeric,
    });
    match found {
        Layout::Diesel => diesel(dir, &listed),
        Layout::Flyway => flyway(dir, walked.get(dir, &listed)?),
        Layout::Refinery => refinery(dir, walked.get(dir, &listed)?),
        Layout::Dbmate => named(dir, &listed, Sections::Dbmate),
        Layout::Goose => named(dir, &listed, Sections::Goose),
        // golang-migrate runs each file as it is, outside a transaction
        // (its files BEGIN/COMMIT themselves, or CREATE INDEX CONCURRENTLY).
        Layout::GolangMigrate => named(dir, &listed, Sections::Whole).map(|mut v| {
            v.iter_mut().for_each(|m| m.no_tx = true);
            v
        }),
        _ => named(dir, &listed, Sections::Whole),
    }
}

/// pgkit, golang-migrate, sqlx, dbmate and goose names:
/// `{version}_{description}[.up|.down].sql`.
fn named(dir: &Path, listed: &[Listed], sections: Sections) -> Result<Vec<Migration>> {
    // Collected in listing order, then sorted: no map keyed by version
    // (10,000 files: a third of the listing's time went to the map).
    let mut ups: Vec<(Name, String)> = Vec::new();
    let mut downs: Vec<(Name, String)> = Vec::new();
    for l in listed {
        if !l.name.ends_with(".sql") {
            // A diesel folder holds one directory per migration with an
            // up.sql inside: refused, never reported as an empty folder.
            if l.diesel {
                return Err(foreign_layout(dir, &format!("{}/up.sql", l.name), "diesel"));
            }
            continue;
        }
        if !l.file {
            continue;
        }
        let parsed = parse_name(&l.name).ok_or_else(|| bad_name(dir, &l.name))?;
        match parsed.kind {
            Kind::Up => ups.push((parsed, l.name.clone())),
            Kind::Down => downs.push((parsed, l.name.clone())),
        }
    }
    if sections != Sections::Whole {
        // One file holds both parts: an .up.sql/.down.sql pair is another
        // layout.
        if let Some((_, n)) = ups
            .iter()
            .chain(&downs)
            .find(|(_, n)| n.ends_with(".up.sql") || n.ends_with(".down.sql"))
        {
            let other = ups
                .iter()
                .find(|(_, m)| m != n)
                .map_or("", |(_, m)| m.as_str());
            return Err(mixed(dir, n, other));
        }
    }
    let mut list = merge(dir, ups, downs, sections)?;
    if sections != Sections::Whole {
        for m in &mut list {
            m.down = Some(m.up.clone());
        }
    }
    Ok(list)
}

/// Sorts, refuses duplicate versions, and puts each down file on its up.
fn merge(
    dir: &Path,
    mut ups: Vec<(Name, String)>,
    mut downs: Vec<(Name, String)>,
    sections: Sections,
) -> Result<Vec<Migration>> {
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
            sections,
            no_tx: false,
            flyway: false,
            any_order: false,
        });
    }
    if let Some((_, down)) = downs.next() {
        return Err(orphan_down(dir, down));
    }
    Ok(list)
}

/// diesel: `{version}_{name}/up.sql` and `down.sql`, `metadata.toml`.
fn diesel(dir: &Path, listed: &[Listed]) -> Result<Vec<Migration>> {
    let mut ups = Vec::new();
    for l in listed.iter().filter(|l| l.diesel) {
        let (v, description) = l.name.split_once('_').unwrap_or((l.name.as_str(), ""));
        let version = normalize_version(v).ok_or_else(|| {
            bad_name(dir, &l.name).suggest("Name diesel migrations {version}_{name}/ with a version such as 2025-01-31-120000 or 20250131120000")
        })?;
        let path = dir.join(&l.name);
        let no_tx = std::fs::read_to_string(path.join("metadata.toml"))
            .map(|t| layout::diesel_no_tx(&t))
            .unwrap_or(false);
        let down = path
            .join("down.sql")
            .is_file()
            .then(|| format!("{}/down.sql", l.name));
        ups.push(Migration {
            version,
            version_text: v.to_string(),
            description: description.to_string(),
            up: format!("{}/up.sql", l.name),
            down,
            sections: Sections::Whole,
            no_tx,
            flyway: false,
            any_order: false,
        });
    }
    sorted_unique(ups)
}

/// Flyway: `V{version}__{description}.sql`, undo `U{version}__….sql`,
/// repeatable `R__{description}.sql`, anywhere below the folder (Flyway
/// scans its locations recursively); other files are not migrations.
fn flyway(dir: &Path, paths: &[String]) -> Result<Vec<Migration>> {
    let mut ups = Vec::new();
    let mut undos = std::collections::HashMap::new();
    for path in paths {
        if let Some(event) = layout::flyway_callback(base_name(path)) {
            return Err(Error::new(Exit::DataErr, "Flyway callback script in the folder")
                .cause(format!("Flyway runs {path} at its {event} event, around the migrations; pg-migrate runs no callbacks"))
                .field("filename", path.clone())
                .field("dir", dir.display().to_string())
                .suggest("Fold what it does into a migration (a repeatable R__ script runs again whenever it changes), or move it out of the folder"));
        }
        let Some((kind, v, description)) = layout::flyway_name(base_name(path)) else {
            continue;
        };
        if kind == 'R' {
            // Applied after the versioned ones, and again whenever it
            // changes: keyed by its description.
            ups.push(Migration {
                flyway: true,
                ..Migration::script(
                    format!("{}{description}", layout::REPEATABLE),
                    "R",
                    description,
                    path,
                )
            });
            continue;
        }
        let version = normalize_version(v).ok_or_else(|| bad_name(dir, path))?;
        if kind == 'U' {
            undos.insert(version, path.clone());
            continue;
        }
        ups.push(Migration {
            flyway: true,
            ..Migration::script(version, v, description, path)
        });
    }
    let mut list = sorted_unique(ups)?;
    for m in &mut list {
        m.down = undos.remove(&m.version);
    }
    if let Some(orphan) = undos.into_values().min() {
        return Err(orphan_down(dir, orphan));
    }
    Ok(list)
}

/// refinery: `V{n}__{name}.sql` and `U{n}__{name}.sql` anywhere below the
/// folder (refinery walks it), in version order, each in its own
/// transaction; a `U` ("unversioned") migration is applied even after newer
/// versions, as refinery applies it. A Rust migration (`.rs`) cannot run
/// here and is refused, never skipped; another `.sql` name is not a
/// migration (refinery warns and goes on: so does pg-migrate).
fn refinery(dir: &Path, paths: &[String]) -> Result<Vec<Migration>> {
    let mut ups = Vec::new();
    for path in paths {
        let name = base_name(path);
        match layout::refinery_name(name) {
            Some((_, _, _, false)) => return Err(rust_migration(dir, path)),
            Some((kind, v, description, true)) => {
                let version = normalize_version(v).ok_or_else(|| bad_name(dir, path))?;
                ups.push(Migration {
                    any_order: kind == 'U',
                    ..Migration::script(version, v, description, path)
                });
            }
            None if name.ends_with(".sql") => pgkit::log::warn(
                "File does not follow refinery's naming: not a migration",
                serde_json::json!({"filename": path, "suggestion": "Name refinery migrations V{version}__{name}.sql or U{version}__{name}.sql"}),
            ),
            None => {}
        }
    }
    sorted_unique(ups)
}

fn rust_migration(dir: &Path, path: &str) -> Error {
    Error::new(Exit::DataErr, "Rust migration in a refinery folder")
        .field("filename", path.to_string())
        .field("dir", dir.display().to_string())
        .suggest("pg-migrate runs SQL files (refinery_cli skips .rs files too): write it as V{version}__{name}.sql holding the SQL its migration() function returns")
}

/// The last part of a `/`-separated relative path.
fn base_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// The folder's [`tree`], read on first use only (detection needs it for
/// some folders only, Flyway's and refinery's runs always).
#[derive(Default)]
struct Walked(std::cell::OnceCell<Vec<String>>);

impl Walked {
    fn get(&self, dir: &Path, listed: &[Listed]) -> Result<&[String]> {
        if let Some(p) = self.0.get() {
            return Ok(p);
        }
        let p = tree(dir, listed)?;
        Ok(self.0.get_or_init(|| p))
    }
}

/// The folder's files as paths relative to it: the top level's names, or,
/// when it has subfolders, every file below it (`/`-separated, in byte
/// order), as Flyway and refinery read their folders. Hidden entries are
/// skipped and a symlinked folder is not entered, so no migration comes
/// from outside the folder.
fn tree(dir: &Path, listed: &[Listed]) -> Result<Vec<String>> {
    if listed.iter().all(|l| l.file) {
        return Ok(listed.iter().map(|l| l.name.clone()).collect());
    }
    let mut out = Vec::new();
    let mut stack = vec![String::new()];
    while let Some(rel) = stack.pop() {
        let here = if rel.is_empty() {
            dir.to_path_buf()
        } else {
            dir.join(&rel)
        };
        let read_err = |e: std::io::Error| Error::io(Exit::NoInput, "read", &here, &e);
        for entry in std::fs::read_dir(&here).map_err(read_err)? {
            let entry = entry.map_err(read_err)?;
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            if name.starts_with('.') {
                continue;
            }
            let path = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            let t = entry.file_type().map_err(read_err)?;
            if t.is_dir() {
                stack.push(path);
            } else if t.is_file() || (t.is_symlink() && entry.path().is_file()) {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Sorts by version; two migrations of one version are 65.
fn sorted_unique(mut v: Vec<Migration>) -> Result<Vec<Migration>> {
    v.sort_by(|a, b| cmp_version(&a.version, &b.version));
    if let Some(w) = v.windows(2).find(|w| w[0].version == w[1].version) {
        return Err(Error::new(Exit::DataErr, "Duplicate migration version")
            .field("filename", w[1].up.clone())
            .field("otherFilename", w[0].up.clone())
            .field("version", w[0].version.clone())
            .suggest("Give each migration its own version"));
    }
    Ok(v)
}

fn orphan_down(dir: &Path, down: String) -> Error {
    Error::new(Exit::DataErr, "Down migration without its up migration")
        .field("filename", down)
        .field("dir", dir.display().to_string())
        .suggest("Add the matching up file (the .up.sql of a .down.sql; Flyway's V file of a U undo file) or remove the down file; a refinery folder's U files are migrations of their own: --layout refinery")
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

/// A migration's SQL as it runs.
pub struct Text {
    /// The part that runs (a dbmate or goose file's section; its other
    /// lines blank, so line numbers are the file's).
    pub content: String,
    /// The SHA-256 of the whole file.
    pub checksum: String,
    /// Runs outside a transaction.
    pub no_tx: bool,
}

/// The up migration of `m`.
pub fn read_up(dir: &Path, m: &Migration) -> Result<Text> {
    read_part(dir, m, &m.up, Part::Up)
}

/// The down migration of `m` (None when it has none).
pub fn read_down(dir: &Path, m: &Migration) -> Result<Option<Text>> {
    m.down
        .as_deref()
        .map(|d| read_part(dir, m, d, Part::Down))
        .transpose()
}

fn read_part(dir: &Path, m: &Migration, name: &str, part: Part) -> Result<Text> {
    let (text, checksum) = read(dir, name)?;
    // Outside a transaction by the file's own say: its layout's rule,
    // pg-migrate's marker, or a Flyway script's .sql.conf.
    let said_no_tx =
        m.no_tx || layout::whole_file_no_tx(&text) || (m.flyway && flyway_conf_no_tx(dir, name));
    if m.flyway {
        if let Some((line, placeholder)) = layout::flyway_placeholder(&text) {
            return Err(Error::new(Exit::DataErr, "Flyway placeholder in a migration")
                .cause(format!(
                    "line {line}: {placeholder}: Flyway replaces placeholders before it runs a script; pg-migrate runs files as they are written"
                ))
                .field("filename", name.to_string())
                .field("line", line)
                .suggest("Write the placeholder's value into the file (its checksum changes: pg-migrate repair records it once applied)"));
        }
        if let Some((line, statement)) = layout::flyway_mixed(&text) {
            // Said outright, or allowed as Flyway allows it: it runs
            // outside a transaction.
            if !said_no_tx && !flyway_mixed_allowed()? {
                return Err(Error::new(Exit::DataErr, "Flyway script mixes transactional and non-transactional statements")
                    .cause(format!(
                        "line {line}: {statement}: Flyway refuses a script where a statement that cannot run in a transaction (CREATE INDEX CONCURRENTLY, VACUUM, ...) meets others, unless its mixed setting is on or the script's .sql.conf says executeInTransaction=false"
                    ))
                    .field("filename", name.to_string())
                    .field("line", line)
                    .suggest("Move the non-transactional statements into a script of their own (Flyway runs it outside a transaction, so does pg-migrate); or, to run this one outside a transaction, statement by statement, write executeInTransaction=false in its .sql.conf (or pg-migrate's '-- pg-migrate: no-transaction' first line), or set FLYWAY_MIXED=true if your Flyway runs with mixed=true"));
            }
        }
    }
    let (content, no_tx) = match m.sections {
        Sections::Whole => {
            // Flyway also runs a script outside a transaction when it holds
            // a statement that cannot run in one.
            let no_tx = said_no_tx || (m.flyway && layout::flyway_non_tx(&text));
            (text, no_tx)
        }
        s => layout::section(&text, s, part).map_err(|why| {
            Error::new(
                Exit::DataErr,
                "Migration file does not parse as its layout's tool reads it",
            )
            .cause(why)
            .field("filename", name.to_string())
            .field("layout", sections_name(s))
            .suggest("Fix what the cause names (the tool itself refuses such a file too); every file of a folder is written for one tool")
        })?,
    };
    Ok(Text {
        content,
        checksum,
        no_tx,
    })
}

/// Flyway's `mixed` setting, from its own environment variable
/// (`FLYWAY_MIXED`, which a Flyway user's CI already sets): off unless set.
fn flyway_mixed_allowed() -> Result<bool> {
    match std::env::var("FLYWAY_MIXED") {
        Err(_) => Ok(false),
        Ok(v) => pgkit::cli::parse_bool(&v).ok_or_else(|| {
            Error::config("Invalid FLYWAY_MIXED")
                .cause(format!("{v:?} is not true or false"))
                .suggest("Set FLYWAY_MIXED=true or false, as Flyway reads it")
        }),
    }
}

/// Whether a Flyway script's `.sql.conf` says `executeInTransaction=false`.
fn flyway_conf_no_tx(dir: &Path, name: &str) -> bool {
    std::fs::read_to_string(dir.join(format!("{name}.conf")))
        .is_ok_and(|c| layout::flyway_conf_no_tx(&c))
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
