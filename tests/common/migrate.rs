//! pg-migrate's test helpers, shared by its three test files.

use super::*;
use serde_json::Value;
use std::path::Path;

pub fn write(dir: &Path, name: &str, body: &str) {
    std::fs::write(dir.join(name), body).unwrap();
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
