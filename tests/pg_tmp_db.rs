//! `pg-tmp db create/drop/prune` against the shared test server.
//!
//! pg-migrate and pg-seed are built on other branches; until merge these
//! tests use small fake scripts found through PGKIT_BIN (the fake pg-migrate
//! applies the *.sql files with psql and counts its runs). After merge,
//! `real_tools_*` below should drop PGKIT_BIN and use the real binaries.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// A test's own migrations dir, fake tools and run counter.
struct Fixture {
    _tmp: tempfile::TempDir,
    bin: PathBuf,
    migrations: PathBuf,
    seeds: PathBuf,
    counter: PathBuf,
}

const FAKE_MIGRATE: &str = r#"#!/bin/sh
# fake pg-migrate: pg-migrate up --dir DIR, with DATABASE_URL
[ "$1" = up ] && [ "$2" = --dir ] || exit 64
echo run >> "$COUNTER"
for f in "$3"/*.sql; do
  psql -X -q -v ON_ERROR_STOP=1 -f "$f" "$DATABASE_URL" >/dev/null 2>&1 || exit 3
done
"#;

const FAKE_SEED: &str = r#"#!/bin/sh
# fake pg-seed: pg-seed --dir DIR, with DATABASE_URL
[ "$1" = --dir ] || exit 64
echo seed >> "$COUNTER.seed"
for f in "$2"/*.sql; do
  psql -X -q -v ON_ERROR_STOP=1 -f "$f" "$DATABASE_URL" >/dev/null 2>&1 || exit 4
done
"#;

fn fixture(sql: &str) -> Fixture {
    use std::os::unix::fs::PermissionsExt;
    static N: AtomicU32 = AtomicU32::new(0);
    let tmp = tempfile::tempdir().unwrap();
    let bin = tmp.path().join("bin");
    let migrations = tmp.path().join("migrations");
    let seeds = tmp.path().join("seeds");
    for d in [&bin, &migrations, &seeds] {
        std::fs::create_dir(d).unwrap();
    }
    for (name, body) in [("pg-migrate", FAKE_MIGRATE), ("pg-seed", FAKE_SEED)] {
        let p = bin.join(name);
        std::fs::write(&p, body).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    // A token unique to this test run, so each test has its own template.
    let token = format!(
        "-- {} {} {}\n",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    std::fs::write(migrations.join("001_init.sql"), format!("{token}{sql}")).unwrap();
    Fixture {
        counter: tmp.path().join("count"),
        _tmp: tmp,
        bin,
        migrations,
        seeds,
    }
}

impl Fixture {
    fn runs(&self) -> usize {
        std::fs::read_to_string(&self.counter)
            .map(|s| s.lines().count())
            .unwrap_or(0)
    }

    fn cmd(&self) -> assert_cmd::Command {
        self.cmd_on(&url("postgres"))
    }

    fn cmd_on(&self, server_url: &str) -> assert_cmd::Command {
        let mut c = cmd("pg-tmp");
        c.env("PGKIT_BIN", &self.bin)
            .env("COUNTER", &self.counter)
            .env("DATABASE_URL", server_url);
        c
    }

    /// `pg-tmp db create --migrations DIR` against `server_url`.
    fn create_cmd_on(&self, server_url: &str) -> assert_cmd::Command {
        let mut c = self.cmd_on(server_url);
        c.args(["db", "create", "--migrations"])
            .arg(&self.migrations);
        c
    }

    /// `pg-tmp db create --migrations DIR --seeds DIR` on the shared server.
    fn create_seeded_cmd(&self) -> assert_cmd::Command {
        let mut c = self.create_cmd_on(&url("postgres"));
        c.arg("--seeds").arg(&self.seeds);
        c
    }

    fn create(&self) -> (String, serde_json::Value) {
        created(self.create_cmd_on(&url("postgres")).succeeds())
    }

    /// `pg-tmp db create --migrations` on the shared server, spawned, its
    /// stdout and stderr piped.
    fn spawn_create(&self) -> std::process::Child {
        std_cmd("pg-tmp")
            .env("PGKIT_BIN", &self.bin)
            .env("COUNTER", &self.counter)
            .env("DATABASE_URL", url("postgres"))
            .args(["db", "create", "--migrations"])
            .arg(&self.migrations)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    }
}

/// Writes `text` to `path` (a migration, a seed, a fake tool).
fn write(path: PathBuf, text: &str) {
    std::fs::write(path, text).unwrap();
}

/// A successful `db create`'s database URL (stdout) and summary line.
fn created(out: std::process::Output) -> (String, serde_json::Value) {
    let db_url = String::from_utf8(out.stdout).unwrap().trim().to_string();
    (db_url, last_line(&out.stderr))
}

fn dbname(db_url: &str) -> String {
    db_url.rsplit('/').next().unwrap().to_string()
}

fn databases(prefix: &str) -> Vec<String> {
    databases_on(server(), prefix)
}

fn databases_on(s: &pgkit::server::TempServer, prefix: &str) -> Vec<String> {
    let mut c = s.client("postgres").unwrap();
    c.query(
        "SELECT datname FROM pg_database WHERE starts_with(datname, $1) ORDER BY 1",
        &[&prefix],
    )
    .unwrap()
    .iter()
    .map(|r| r.get(0))
    .collect()
}

fn has_table(db: &str, table: &str) -> bool {
    let mut c = server().client(db).unwrap();
    c.query_one("SELECT to_regclass($1) IS NOT NULL", &[&table])
        .unwrap()
        .get(0)
}

#[test]
fn the_template_is_built_once_and_reused() {
    let f = fixture("CREATE TABLE widgets(id int primary key);");
    let (u1, s1) = f.create();
    assert_eq!(s1["message"], "Database created");
    assert_eq!(s1["templateBuilt"], true);
    assert_eq!(f.runs(), 1);
    let template = s1["template"].as_str().unwrap().to_string();
    assert!(template.starts_with("pgtmpl_") && template.len() == 7 + 16);
    assert!(u1.starts_with(&format!(
        "postgresql://postgres@127.0.0.1:{}/pgtmp_",
        server().port()
    )));
    let db1 = dbname(&u1);
    assert!(has_table(&db1, "widgets"));

    let (u2, s2) = f.create();
    assert_eq!(s2["templateBuilt"], false);
    assert_eq!(s2["template"], template.as_str());
    assert_eq!(f.runs(), 1, "the second create did not run migrations");
    let db2 = dbname(&u2);
    assert_ne!(db1, db2);
    assert!(has_table(&db2, "widgets"));
    // The databases are independent copies.
    server()
        .execute(&db1, "INSERT INTO widgets VALUES (1)")
        .unwrap();
    let mut c = server().client(&db2).unwrap();
    let n: i64 = c
        .query_one("SELECT count(*) FROM widgets", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 0);
    // The template is marked as one, and nothing is left connected to it.
    let mut c = server().client("postgres").unwrap();
    let row = c
        .query_one(
            "SELECT datistemplate, (SELECT count(*) FROM pg_stat_activity WHERE datname = $1) FROM pg_database WHERE datname = $1",
            &[&template],
        )
        .unwrap();
    assert!(row.get::<_, bool>(0));
    assert_eq!(row.get::<_, i64>(1), 0);
    assert!(databases(&format!("{template}_building")).is_empty());
}

#[test]
fn a_changed_migration_builds_a_new_template() {
    let f = fixture("CREATE TABLE a(id int);");
    let (_, s1) = f.create();
    write(f.migrations.join("002_more.sql"), "CREATE TABLE b(id int);");
    let (u2, s2) = f.create();
    assert_eq!(s2["templateBuilt"], true);
    assert_ne!(s1["template"], s2["template"]);
    assert_eq!(f.runs(), 2);
    assert!(has_table(&dbname(&u2), "b"));
    // Same content again: the hash, and so the template, is the same.
    let (_, s3) = f.create();
    assert_eq!(s3["template"], s2["template"]);
    assert_eq!(f.runs(), 2);
}

#[test]
fn eight_concurrent_creates_build_the_template_once() {
    let f = fixture("CREATE TABLE c(id int); SELECT pg_sleep(0.5);");
    let handles: Vec<_> = (0..8).map(|_| f.spawn_create()).collect();
    let mut names = Vec::new();
    let mut built = 0;
    for h in handles {
        let out = h.wait_with_output().unwrap();
        assert_success(&out);
        let last = last_line(&out.stderr);
        if last["templateBuilt"] == true {
            built += 1;
        }
        names.push(dbname(String::from_utf8_lossy(&out.stdout).trim()));
    }
    assert_eq!(f.runs(), 1, "migrations ran exactly once");
    assert_eq!(built, 1);
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 8, "eight distinct databases");
    for n in &names {
        assert!(has_table(n, "c"));
    }
}

#[test]
fn a_failing_migration_is_exit_3_and_leaves_nothing_behind() {
    let f = fixture("CREATE TABLE ok(id int); SELECT * FROM no_such_table;");
    let out = f
        .cmd()
        .args(["db", "create", "--migrations"])
        .arg(&f.migrations)
        .exits(3);
    assert!(out.stdout.is_empty());
    let last = last_line(&out.stderr);
    assert_eq!(
        last["message"],
        "Migrations failed while building the template"
    );
    assert_eq!(last["toolExitCode"], 3);
    let template = last["template"].as_str().unwrap();
    assert!(
        databases(template).is_empty(),
        "no template, no _building leftover"
    );
    // Fixed: the next create builds it.
    write(
        f.migrations.join("001_init.sql"),
        "CREATE TABLE ok(id int);",
    );
    let (u, s) = f.create();
    assert_eq!(s["templateBuilt"], true);
    assert!(has_table(&dbname(&u), "ok"));
}

#[test]
fn seeds_are_part_of_the_template_and_its_hash() {
    let f = fixture("CREATE TABLE colors(name text);");
    write(
        f.seeds.join("001_colors.sql"),
        "INSERT INTO colors VALUES ('red');",
    );
    let (u, s1) = created(f.create_seeded_cmd().succeeds());
    let n: i64 = query_value(&dbname(&u), "SELECT count(*) FROM colors");
    assert_eq!(n, 1);
    // Without seeds it is another template.
    let (_, s2) = f.create();
    assert_ne!(s1["template"], s2["template"]);
    // A failing seed is exit 4.
    write(
        f.seeds.join("002_bad.sql"),
        "INSERT INTO nowhere VALUES (1);",
    );
    let out = f.create_seeded_cmd().exits(4);
    assert_eq!(
        last_line(&out.stderr)["message"],
        "Seeds failed while building the template"
    );
}

#[test]
fn missing_migrations_dir_is_66_and_an_unreachable_server_is_2() {
    let f = fixture("SELECT 1;");
    let out = f
        .cmd()
        .args(["db", "create", "--migrations", "/no/such/dir"])
        .exits(66);
    assert_eq!(last_line(&out.stderr)["exitCode"], 66);
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    let out = f
        .cmd()
        .env(
            "DATABASE_URL",
            format!("postgresql://postgres@127.0.0.1:{port}/postgres?connect_timeout=2"),
        )
        .args(["db", "create", "--migrations"])
        .arg(&f.migrations)
        .exits(2);
    assert_eq!(last_line(&out.stderr)["level"], "error");
}

#[test]
fn drop_drops_test_databases_only() {
    let f = fixture("CREATE TABLE d(id int);");
    let (u, _) = f.create();
    let db = dbname(&u);
    // A session still connected does not stop the drop (FORCE).
    let _held = server().client(&db).unwrap();
    let out = cmd("pg-tmp").args(["db", "drop", &u]).succeeds();
    let last = last_line(&out.stderr);
    assert_eq!(last["message"], "Database dropped");
    assert_eq!(last["existed"], true);
    assert!(databases(&db).is_empty());
    // Again: nothing to drop, still 0.
    let out = cmd("pg-tmp").args(["db", "drop", &u]).succeeds();
    assert_eq!(last_line(&out.stderr)["existed"], false);
    // Issue 16, defect 11: it used to say "Database dropped" here too.
    assert_eq!(
        last_line(&out.stderr)["message"],
        "Database did not exist; nothing dropped"
    );
    // Not a pgtmp_ database: refused unless --force.
    let other = fresh_db("keepme");
    let out = cmd("pg-tmp").args(["db", "drop", &url(&other)]).exits(64);
    assert!(last_line(&out.stderr)["suggestion"]
        .as_str()
        .unwrap()
        .contains("--force"));
    assert_eq!(databases(&other).len(), 1);
    cmd("pg-tmp")
        .args(["db", "drop", "--force", &url(&other)])
        .assert()
        .success();
    assert!(databases(&other).is_empty());
}

#[test]
fn prune_drops_old_test_databases_and_stale_templates() {
    // Its own server: prune --older-than 0s would drop the other tests'
    // databases on the shared one.
    let srv = pgkit::server::TempServer::start(pgkit::server::Options::default()).unwrap();
    let su = srv.url("postgres");
    let databases = |p: &str| databases_on(&srv, p);
    let f = fixture("CREATE TABLE p(id int);");
    let create = |f: &Fixture| created(f.create_cmd_on(&su).succeeds());
    let (u, s1) = create(&f);
    let db = dbname(&u);
    let old_template = s1["template"].as_str().unwrap().to_string();
    // Young databases stay.
    let out = f
        .cmd_on(&su)
        .args(["db", "prune", "--older-than", "1h"])
        .succeeds();
    assert!(!String::from_utf8_lossy(&out.stdout).contains(&db));
    assert_eq!(databases(&db).len(), 1);
    // A database in use is skipped, not forced.
    let held = srv.client(&db).unwrap();
    let out = f
        .cmd_on(&su)
        .args(["db", "prune", "--older-than", "0s"])
        .succeeds();
    assert!(!String::from_utf8_lossy(&out.stdout).contains(&db));
    assert!(json_lines(&out.stderr)
        .iter()
        .any(|l| l["message"] == "Database skipped" && l["database"] == db.as_str()));
    drop(held);
    // --dry-run lists without dropping.
    let out = f
        .cmd_on(&su)
        .args(["db", "prune", "--older-than", "0s", "--dry-run"])
        .succeeds();
    assert!(String::from_utf8_lossy(&out.stdout)
        .lines()
        .any(|l| l == db));
    assert_eq!(databases(&db).len(), 1);
    // Old enough: dropped, and named on stdout.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let out = f
        .cmd_on(&su)
        .args(["db", "prune", "--older-than", "0s"])
        .succeeds();
    assert!(String::from_utf8_lossy(&out.stdout)
        .lines()
        .any(|l| l == db));
    assert!(databases(&db).is_empty());
    // Without --migrations, templates stay.
    assert_eq!(databases(&old_template).len(), 1);
    // The migrations changed: the old template is stale, the current stays.
    write(f.migrations.join("002.sql"), "CREATE TABLE q(id int);");
    let (_, s2) = create(&f);
    let new_template = s2["template"].as_str().unwrap().to_string();
    let out = f
        .cmd_on(&su)
        .args(["db", "prune", "--older-than", "1h", "--migrations"])
        .arg(&f.migrations)
        .succeeds();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.lines().any(|l| l == old_template), "{stdout}");
    assert!(databases(&old_template).is_empty());
    assert_eq!(databases(&new_template).len(), 1);
    let last = last_line(&out.stderr);
    assert_eq!(last["message"], "Pruned");
    assert!(last["dropped"].as_u64().unwrap() >= 1);
    cmd("pg-tmp")
        .args(["db", "prune", "--older-than", "soon"])
        .assert()
        .code(64);
}

#[test]
fn prune_decides_in_use_at_once_and_keeps_a_database_whose_session_ends_meanwhile() {
    // Its own server, as above. A session is connected when prune looks and
    // ends 1.5 s later: a plain DROP DATABASE would have waited (up to 5 s)
    // and then dropped it; prune must decide "in use" from one look.
    let srv = pgkit::server::TempServer::start(pgkit::server::Options::default()).unwrap();
    let su = srv.url("postgres");
    let f = fixture("CREATE TABLE p(id int);");
    let (u, _) = created(f.create_cmd_on(&su).succeeds());
    let db = dbname(&u);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let held = srv.client(&db).unwrap();
    let closer = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(1500));
        drop(held);
    });
    let out = f
        .cmd_on(&su)
        .args(["db", "prune", "--older-than", "1s"])
        .succeeds();
    closer.join().unwrap();
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains(&db),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(databases_on(&srv, &db).len(), 1, "kept");
    let skipped = json_lines(&out.stderr)
        .into_iter()
        .find(|l| l["message"] == "Database skipped")
        .unwrap();
    assert_eq!(skipped["database"], db.as_str());
    assert_eq!(skipped["error"], "in use");
    // It still takes connections (prune gave them back), and the next
    // prune, with nobody connected, drops it.
    drop(srv.client(&db).unwrap());
    let out = f
        .cmd_on(&su)
        .args(["db", "prune", "--older-than", "1s"])
        .succeeds();
    assert!(String::from_utf8_lossy(&out.stdout)
        .lines()
        .any(|l| l == db));
    assert!(databases_on(&srv, &db).is_empty());
}

#[test]
fn run_migrates_and_seeds_before_the_command() {
    let f = fixture("CREATE TABLE r(id int);");
    write(f.seeds.join("001.sql"), "INSERT INTO r VALUES (1), (2);");
    let out = cmd("pg-tmp")
        .env("PGKIT_BIN", &f.bin)
        .env("COUNTER", &f.counter)
        .args(["run", "--migrations"])
        .arg(&f.migrations)
        .arg("--seeds")
        .arg(&f.seeds)
        .args(["--", "psql", "-X", "-tA", "-c", "SELECT count(*) FROM r"])
        .succeeds();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "2");
    assert_eq!(f.runs(), 1);
    // A failing migration: exit 3, CMD never runs, the server is gone.
    write(f.migrations.join("002.sql"), "SELEC oops;");
    let out = cmd("pg-tmp")
        .env("PGKIT_BIN", &f.bin)
        .env("COUNTER", &f.counter)
        .args(["run", "--migrations"])
        .arg(&f.migrations)
        .args(["--", "sh", "-c", "echo ran"])
        .exits(3);
    assert!(out.stdout.is_empty());
    let lines = json_lines(&out.stderr);
    let started = first_with(&lines, "Server started");
    assert!(!Path::new(started["dir"].as_str().unwrap()).exists());
    assert_eq!(lines.last().unwrap()["message"], "Migrations failed");
    // A missing migrations directory: 66 before any server starts.
    cmd("pg-tmp")
        .args(["run", "--migrations", "/no/such/dir", "--", "true"])
        .assert()
        .code(66);
}

#[test]
fn sigint_while_building_the_template_is_130_and_leaves_nothing_behind() {
    let f = fixture("CREATE TABLE s(id int);");
    // A pg-migrate that hangs: pg-tmp must forward the signal and clean up.
    write(
        f.bin.join("pg-migrate"),
        "#!/bin/sh\necho run >> \"$COUNTER\"\nexec sleep 30\n",
    );
    let child = f.spawn_create();
    let t = std::time::Instant::now();
    while f.runs() == 0 && t.elapsed() < std::time::Duration::from_secs(20) {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(f.runs(), 1, "pg-migrate started");
    sigint(&child);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    assert!(out.stdout.is_empty());
    let lines = json_lines(&out.stderr);
    let building = first_with(&lines, "Building the template");
    let template = building["template"].as_str().unwrap();
    assert_eq!(lines.last().unwrap()["exitCode"], 130);
    assert!(databases(template).is_empty(), "no template, no _building");
    // The lock was released: a working pg-migrate builds it now.
    write(f.bin.join("pg-migrate"), FAKE_MIGRATE);
    let (u, s) = f.create();
    assert_eq!(s["templateBuilt"], true);
    assert!(has_table(&dbname(&u), "s"));
}
