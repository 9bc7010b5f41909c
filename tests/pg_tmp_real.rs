//! pg-tmp with the real pg-migrate and pg-seed beside it (no fakes): a
//! template built from examples/ once, then reused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;
use std::path::Path;

fn examples(dir: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(dir)
}

fn create(db_url: &str) -> (String, serde_json::Value) {
    let out = cmd("pg-tmp")
        .args(["db", "create", "--migrations"])
        .arg(examples("migrations"))
        .arg("--seeds")
        .arg(examples("seeds"))
        .env("DATABASE_URL", db_url)
        .exits(0);
    let url = String::from_utf8(out.stdout).unwrap().trim().to_string();
    (url, last_line(&out.stderr))
}

#[test]
fn template_from_the_examples_is_built_once_with_the_real_tools() {
    let db = fresh_db("tmpreal");
    let (first, s1) = create(&url(&db));
    let (second, s2) = create(&url(&db));
    assert_eq!(s1["templateBuilt"], true);
    assert_eq!(s2["templateBuilt"], false);
    assert_eq!(s1["template"], s2["template"]);
    assert_ne!(first, second);
    for u in [&first, &second] {
        let name = u.rsplit('/').next().unwrap();
        let mut c = server().client(name).unwrap();
        let users: i64 = c
            .query_one("SELECT count(*) FROM users", &[])
            .unwrap()
            .get(0);
        let applied: i64 = c
            .query_one("SELECT count(*) FROM schema_migrations", &[])
            .unwrap()
            .get(0);
        assert_eq!((users, applied), (3, 4), "{name}");
    }
}
