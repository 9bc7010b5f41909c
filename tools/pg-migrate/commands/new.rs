//! `new DESCRIPTION`: creates `YYYYMMDDHHmmSS_slug.up.sql` and `.down.sql`
//! (UTC) in the migrations directory and prints their paths.

use crate::cli::NewArgs;
use crate::layout::Layout;
use pgkit::cli::Summary;
use pgkit::{out, Error, Exit, Result};
use std::io::Write;

/// Lower-case letters and digits, everything else one `_`.
pub fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').to_string()
}

/// Runs `new`.
pub fn run(a: &NewArgs) -> Result<Summary> {
    let description = a.description.join(" ");
    let slug = slug(&description);
    if slug.is_empty() {
        return Err(Error::usage("Invalid migration description")
            .cause(format!("{description:?} has no letters or digits"))
            .suggest("Describe the migration, e.g. pg-migrate new add users table"));
    }
    std::fs::create_dir_all(&a.dir).map_err(|e| Error::io(Exit::Failure, "create", &a.dir, &e))?;
    let layout = crate::files::layout_of(&a.dir, a.layout)?;
    let now = chrono::Utc::now();
    let stamp = now.format("%Y%m%d%H%M%S").to_string();
    let existing = crate::files::discover(&a.dir, layout).unwrap_or_default();
    // What to create, in the folder's layout: (path relative to DIR, text).
    let mut version = stamp.clone();
    let files: Vec<(String, String)> = match layout {
        Layout::Dbmate => vec![(
            format!("{stamp}_{slug}.sql"),
            format!("-- migrate:up\n-- {description}\n\n-- migrate:down\n\n"),
        )],
        Layout::Goose => vec![(
            format!("{stamp}_{slug}.sql"),
            format!("-- +goose Up\n-- {description}\n\n-- +goose Down\n\n"),
        )],
        Layout::Diesel => {
            version = now.format("%Y-%m-%d-%H%M%S").to_string();
            vec![
                (
                    format!("{version}_{slug}/up.sql"),
                    format!("-- {description}\n"),
                ),
                (
                    format!("{version}_{slug}/down.sql"),
                    format!("-- Revert: {description}\n"),
                ),
            ]
        }
        // Both number their files V1, V2, ...: the next after the highest.
        Layout::Flyway | Layout::Refinery => {
            let next = existing
                .iter()
                .filter_map(|m| m.version.split('.').next()?.parse::<u64>().ok())
                .max()
                .map_or(1, |n| n + 1);
            version = next.to_string();
            vec![(
                format!("V{next}__{slug}.sql"),
                format!("-- {description}\n"),
            )]
        }
        Layout::Sqlx | Layout::Pgkit | Layout::Auto if crate::files::plain_only(&a.dir) => {
            vec![(format!("{stamp}_{slug}.sql"), format!("-- {description}\n"))]
        }
        _ => vec![
            (
                format!("{stamp}_{slug}.up.sql"),
                format!("-- {description}\n"),
            ),
            (
                format!("{stamp}_{slug}.down.sql"),
                format!("-- Revert: {description}\n"),
            ),
        ],
    };
    let key = crate::files::normalize_version(&version).unwrap_or(version.clone());
    if let Some(m) = existing.iter().find(|m| m.version == key) {
        return Err(
            Error::new(Exit::DataErr, "Migration version already exists")
                .field("filename", m.up.clone())
                .suggest("Wait a second and run it again"),
        );
    }
    let mut paths = Vec::new();
    for (name, body) in &files {
        let path = a.dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| Error::io(Exit::Failure, "create", parent, &e))?;
        }
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| Error::io(Exit::Failure, "create", &path, &e))?;
        f.write_all(body.as_bytes())
            .map_err(|e| Error::io(Exit::Failure, "write", &path, &e))?;
        paths.push(path.display().to_string());
    }
    out::println(&paths.join("\n"))?;
    let mut summary = Summary::ok("Migration created")
        .field("version", version)
        .field("layout", layout.as_str())
        .field("up", paths[0].clone());
    if let Some(down) = paths.get(1) {
        summary = summary.field("down", down.clone());
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(slug("Add users table!"), "add_users_table");
        assert_eq!(slug("  --x--y  "), "x_y");
        assert_eq!(slug("ünïcode"), "n_code");
        assert_eq!(slug("!!"), "");
    }
}
