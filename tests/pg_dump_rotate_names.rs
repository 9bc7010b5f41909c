//! pg-dump-rotate's dump names (issue 16, defects 7 and 11): unique per
//! source across formats, ordered by time, and names with an impossible time
//! (second 60, February 30) are no dumps, said once in a warning.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::dump::*;
use common::*;
use serde_json::json;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// A synthetic dump file named `name` under DIR/app, with a good sidecar and
/// manifest, last modified at `mtime`.
fn fake(dir: &Path, name: &str, mtime: SystemTime) -> PathBuf {
    let sdir = dir.join("app");
    fs::create_dir_all(&sdir).unwrap();
    let path = sdir.join(name);
    let body = format!("PGDMP synthetic {name}").into_bytes();
    let digest = sha256_hex(&body);
    fs::write(&path, &body).unwrap();
    fs::write(with_suffix(&path, ".sha256"), format!("{digest}  {name}\n")).unwrap();
    fs::write(
        with_suffix(&path, ".json"),
        json!({"source": "app", "file": name, "size": body.len(), "sha256": digest}).to_string(),
    )
    .unwrap();
    fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    path
}

fn listed(dir: &Path) -> (Vec<String>, Vec<serde_json::Value>) {
    let out = tool_offline(dir).args(["list", "--json"]).output().unwrap();
    assert_success(&out);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names = v
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            d["file"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    (names, json_lines(&out.stderr))
}

#[test]
fn dumps_of_one_second_in_two_formats_get_two_names() {
    let db = fresh_db("dn_pair");
    server().execute(&db, "CREATE TABLE t (x int)").unwrap();
    let dir = tempfile::tempdir().unwrap();
    // Back to back, often within one second: the second waits for the next.
    let plain = dump_ok(dir.path(), &db, &["--format", "plain"]);
    let custom = dump_ok(dir.path(), &db, &[]);
    let stamp = |p: &PathBuf| {
        let n = p.file_name().unwrap().to_str().unwrap().to_string();
        n[db.len() + 1..db.len() + 17].to_string()
    };
    assert!(stamp(&plain) < stamp(&custom), "{plain:?} {custom:?}");
    // keep-last 1 keeps the later one, whatever its extension.
    let out = tool_offline(dir.path())
        .args(["purge", "--keep-last", "1", "--yes"])
        .output()
        .unwrap();
    assert_success(&out);
    assert!(custom.exists() && !plain.exists());
}

#[test]
fn one_second_in_two_formats_from_before_is_ordered_by_write_time() {
    let dir = tempfile::tempdir().unwrap();
    let t0 = SystemTime::now() - Duration::from_secs(3600);
    // `.sql` sorts after `.pgdump` by name, but it was written first.
    let older = fake(dir.path(), "app_20250102T030405Z.sql", t0);
    let newer = fake(
        dir.path(),
        "app_20250102T030405Z.pgdump",
        t0 + Duration::from_secs(40),
    );
    let (names, _) = listed(dir.path());
    assert_eq!(
        names,
        ["app_20250102T030405Z.pgdump", "app_20250102T030405Z.sql"]
    );
    let out = tool_offline(dir.path())
        .args(["purge", "--keep-last", "1", "--yes"])
        .output()
        .unwrap();
    assert_success(&out);
    assert!(newer.exists(), "the newer dump was removed");
    assert!(!older.exists());
}

#[test]
fn impossible_times_are_no_dumps_and_are_named_in_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let now = SystemTime::now();
    let real = fake(dir.path(), "app_20250101T000000Z.pgdump", now);
    let leap = fake(dir.path(), "app_20241231T235960Z.pgdump", now);
    let feb30 = fake(dir.path(), "app_20250230T120000Z.pgdump", now);
    let (names, lines) = listed(dir.path());
    assert_eq!(names, ["app_20250101T000000Z.pgdump"]);
    let warn = first_with(
        &lines,
        "Ignoring files named like dumps with an impossible time",
    );
    assert_eq!(warn["level"], "warn");
    assert_eq!(
        warn["files"],
        json!(["app_20241231T235960Z.pgdump", "app_20250230T120000Z.pgdump"])
    );
    // Neither is counted, kept or removed by a purge.
    let out = tool_offline(dir.path())
        .args(["purge", "--keep-last", "1", "--yes"])
        .output()
        .unwrap();
    assert_success(&out);
    assert!(real.exists() && leap.exists() && feb30.exists());
    assert!(with_suffix(&leap, ".sha256").exists());
}
