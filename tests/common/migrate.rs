//! pg-migrate's test helpers, shared by its three test files.

use super::*;
use serde_json::Value;
use std::path::Path;

/// Writes `dir/name` (`name` may hold subfolders: they are created).
pub fn write(dir: &Path, name: &str, body: &str) {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(path, body).unwrap();
}

pub fn migrate(db: &str, dir: &Path) -> assert_cmd::Command {
    let mut c = cmd("pg-migrate");
    c.env("DATABASE_URL", url(db)).env("MIGRATIONS_DIR", dir);
    c
}

pub fn scalar(db: &str, q: &str) -> String {
    let mut c = server().client(db).unwrap();
    let rows = c.simple_query(q).unwrap();
    for m in rows {
        if let postgres::SimpleQueryMessage::Row(r) = m {
            return r.get(0).unwrap_or("NULL").to_string();
        }
    }
    "NO ROWS".into()
}

pub fn run(c: &mut assert_cmd::Command, code: i32) -> (String, Vec<Value>) {
    let out = c.assert().code(code).get_output().clone();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        json_lines(&out.stderr),
    )
}

pub fn find<'a>(lines: &'a [Value], message: &str) -> &'a Value {
    lines
        .iter()
        .find(|l| l["message"] == message)
        .unwrap_or_else(|| panic!("no {message:?} line in {lines:#?}"))
}

/// `pg_dump --schema-only --no-owner` of `db`, leaving out the tables
/// matching `exclude` (tracking tables) and pg_dump's per-run \\restrict
/// keys, so two databases' schemas compare as text.
pub fn schema_without(db: &str, exclude: &[&str]) -> String {
    let mut cmd = std::process::Command::new(server_bindir().join("pg_dump"));
    cmd.args(["--schema-only", "--no-owner"]);
    for t in exclude {
        cmd.arg(format!("--exclude-table={t}"));
    }
    let out = cmd.args(["--dbname", &url(db)]).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with("\\restrict") && !l.starts_with("\\unrestrict"))
        .collect::<Vec<_>>()
        .join("\n")
}
