//! `new DESCRIPTION`: creates `YYYYMMDDHHmmSS_slug.up.sql` and `.down.sql`
//! (UTC) in the migrations directory and prints their paths.

use crate::cli::NewArgs;
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
    let version = chrono::Utc::now().format("%Y%m%d%H%M%S").to_string();
    if let Ok(existing) = crate::files::discover(&a.dir) {
        if let Some(m) = existing.iter().find(|m| m.version == version) {
            return Err(
                Error::new(Exit::DataErr, "Migration version already exists")
                    .field("filename", m.up.clone())
                    .suggest("Wait a second and run it again"),
            );
        }
    }
    let mut paths = Vec::new();
    for (suffix, body) in [
        ("up", format!("-- {description}\n")),
        ("down", format!("-- Revert: {description}\n")),
    ] {
        let path = a.dir.join(format!("{version}_{slug}.{suffix}.sql"));
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
    Ok(Summary::ok("Migration created")
        .field("version", version)
        .field("up", paths[0].clone())
        .field("down", paths[1].clone()))
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
