//! pg-dump-rotate's edges: a failed dump leaves no directory it created,
//! SIGINT during `verify` and `restore`, and plain-format dumps compressed
//! with gzip (dump, verify, restore).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;
use serde_json::Value;
use std::fs;
use std::path::Path;

const TOOL: &str = "pg-dump-rotate";

/// A tool command with PG_BINDIR pointing at the server's binaries.
fn tool(dir: &Path) -> assert_cmd::Command {
    let mut c = cmd(TOOL);
    c.env("PG_BINDIR", server().bindir())
        .env("DUMP_DIR", dir)
        .env_remove("PG_DUMP")
        .env_remove("PG_RESTORE")
        .env_remove("PSQL");
    c
}

/// The names in a directory, sorted (empty when it does not exist).
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn dump_failed(dir: &Path, dsn: &str, source: &str) -> (i32, Vec<Value>) {
    let out = tool(dir)
        .args(["dump", "--source", source, "--dsn", dsn])
        .output()
        .unwrap();
    assert!(out.stdout.is_empty());
    (out.status.code().unwrap(), json_lines(&out.stderr))
}

#[test]
fn a_failed_connection_leaves_no_directory_behind() {
    let secret = "edge-Secret-1";
    let srv = pgkit::server::TempServer::start(pgkit::server::Options {
        password: Some(secret.into()),
        ..Default::default()
    })
    .unwrap();
    srv.execute("postgres", "CREATE TABLE t (x int)").unwrap();
    let good = srv.url("postgres");
    let wrong = good.replace(secret, "not-the-password");
    assert_ne!(good, wrong);
    let root = tempfile::tempdir().unwrap();

    // Wrong password, DIR itself missing: neither DIR nor DIR/SOURCE stays.
    let dir = root.path().join("dbdumps");
    let (code, lines) = dump_failed(&dir, &wrong, "app");
    let last = lines.last().unwrap();
    assert_eq!(code, 2, "{lines:?}");
    assert_eq!(last["message"], "Cannot connect to the database", "{last}");
    assert_eq!(last["exitCode"], 2);
    assert!(
        last["error"].as_str().unwrap().contains("password"),
        "{last}"
    );
    assert!(!dir.exists(), "{:?}", names(&dir));
    assert!(!lines
        .to_vec()
        .iter()
        .any(|l| l.to_string().contains(secret)));

    // DIR exists (not ours to remove), SOURCE does not: SOURCE goes again.
    fs::create_dir(&dir).unwrap();
    let (code, _) = dump_failed(&dir, &wrong, "app");
    assert_eq!(code, 2);
    assert!(dir.is_dir(), "DIR was there before");
    assert_eq!(names(&dir), Vec::<String>::new());

    // An empty SOURCE directory that was there before stays.
    fs::create_dir(dir.join("empty")).unwrap();
    let (code, _) = dump_failed(&dir, &wrong, "empty");
    assert_eq!(code, 2);
    assert!(dir.join("empty").is_dir());

    // A source with a good dump: the next failure leaves dump and directory.
    let out = tool(&dir)
        .args(["dump", "--source", "app", "--dsn", &good])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let before = names(&dir.join("app"));
    assert_eq!(before.len(), 3, "{before:?}");

    // Server down: 2, nothing removed, and a new source's directory is gone.
    srv.stop_server().unwrap();
    for source in ["app", "other"] {
        let (code, lines) = dump_failed(&dir, &good, source);
        let last = lines.last().unwrap();
        assert_eq!(code, 2, "{lines:?}");
        assert_eq!(last["message"], "Cannot connect to the database");
        assert_eq!(last["exitCode"], 2);
    }
    assert_eq!(names(&dir.join("app")), before);
    assert!(!dir.join("other").exists());
    assert_eq!(names(&dir), vec!["app".to_string(), "empty".to_string()]);
    let out = tool(&dir).args(["verify", "--all"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
