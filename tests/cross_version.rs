//! Across PostgreSQL majors, on real binaries: each test takes the majors
//! it needs from the installed ones and pg-tmp's cache (`bindir_for`;
//! .ci/run installs 14 to 18 and sets PGKIT_TEST_MAJORS, which turns a
//! missing major into a failure rather than a skip with a note).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::dump::{manifest, stdout_path, TOOL};
use common::wait::pg_wait;
use common::*;
use pgkit::server::{Options, TempServer};
use std::path::Path;

const MAJORS: [u32; 5] = [14, 15, 16, 17, 18];

fn server_of(bindir: &Path, config: Vec<(String, String)>) -> TempServer {
    TempServer::start(Options {
        bindir: Some(bindir.to_path_buf()),
        config,
        ..Default::default()
    })
    .unwrap()
}

fn server_major(srv: &TempServer, db: &str) -> u32 {
    let n: String = srv
        .client(db)
        .unwrap()
        .query_one("SHOW server_version_num", &[])
        .unwrap()
        .get(0);
    n.parse::<u32>().unwrap() / 10000
}

#[test]
fn a_14_server_dumped_by_pg_dump_18_restores_into_17_and_18() {
    let (Some(b14), Some(b17), Some(b18)) = (bindir_for(14), bindir_for(17), bindir_for(18)) else {
        return;
    };
    let s14 = server_of(&b14, vec![]);
    s14.execute(
        "postgres",
        "CREATE TABLE t (id int PRIMARY KEY, doc jsonb, at timestamptz DEFAULT now()); \
         INSERT INTO t SELECT g, jsonb_build_object('g', g) FROM generate_series(1, 50) g; \
         CREATE VIEW v AS SELECT id FROM t WHERE id % 2 = 0; \
         SELECT lo_from_bytea(0, 'lo14')",
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = cmd(TOOL)
        .env("PG_BINDIR", &b18)
        .env("DUMP_DIR", dir.path())
        .args(["dump", "--source", "v14", "--dsn", &s14.url("postgres")])
        .output()
        .unwrap();
    assert_success(&out);
    let file = stdout_path(&out);
    let m = manifest(&file);
    assert!(
        m["pgDumpVersion"].as_str().unwrap().starts_with("18."),
        "{m}"
    );
    assert!(
        m["serverVersion"].as_str().unwrap().starts_with("14."),
        "{m}"
    );
    for (major, bindir) in [(17, &b17), (18, &b18)] {
        let target = server_of(bindir, vec![]);
        // pg_restore 18 (the archive's) into each newer server.
        let out = cmd(TOOL)
            .env("PG_BINDIR", &b18)
            .env("DUMP_DIR", dir.path())
            .arg("restore")
            .arg(&file)
            .args([
                "--dsn",
                &target.url("postgres"),
                "--db",
                "copy",
                "--create-db",
            ])
            .output()
            .unwrap();
        assert_success(&out);
        assert_eq!(server_major(&target, "copy"), major);
        let mut c = target.client("copy").unwrap();
        let n: i64 = c.query_one("SELECT count(*) FROM v", &[]).unwrap().get(0);
        assert_eq!(n, 25, "PostgreSQL {major}");
        let g: i32 = c
            .query_one("SELECT (doc->>'g')::int FROM t WHERE id = 7", &[])
            .unwrap()
            .get(0);
        assert_eq!(g, 7);
        let n: i64 = c
            .query_one("SELECT count(*) FROM pg_largeobject_metadata", &[])
            .unwrap()
            .get(0);
        assert_eq!(n, 1, "PostgreSQL {major}");
    }
}

#[test]
fn pg_dump_rotate_picks_a_pg_dump_per_server_major() {
    // No PG_DUMP, PG_BINDIR or Debian install root: pg_dump comes from PATH
    // (whatever it is) and, for a newer server, from pg-tmp's cache.
    let nowhere = tempfile::tempdir().unwrap();
    let mut tested = 0;
    for major in MAJORS {
        let Some(bindir) = bindir_for(major) else {
            continue;
        };
        let srv = server_of(&bindir, vec![]);
        srv.execute("postgres", "CREATE TABLE x (id int)").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let out = cmd(TOOL)
            .env("PG_INSTALL_ROOT", nowhere.path())
            .env("DUMP_DIR", dir.path())
            .args(["dump", "--dsn", &srv.url("postgres")])
            .output()
            .unwrap();
        assert_success(&out);
        let m = manifest(&stdout_path(&out));
        let dump_major: u32 = m["pgDumpVersion"]
            .as_str()
            .unwrap()
            .split('.')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(dump_major >= major, "PostgreSQL {major}: {m}");
        // A newer pg_dump than PATH's comes from the cache and says so.
        let lines = json_lines(&out.stderr);
        if let Some(l) = lines
            .iter()
            .find(|l| l["message"] == "Using a newer pg_dump that matches the server")
        {
            let p = l["program"].as_str().unwrap();
            assert!(
                Path::new(p).starts_with(pgkit::pginstall::cache_root()),
                "{l}"
            );
        }
        tested += 1;
    }
    eprintln!("note: pg_dump choice checked on {tested} majors");
}

#[test]
fn pg_tmp_start_pg_version_16_runs_16() {
    let Some(_) = bindir_for(16) else { return };
    let out = cmd("pg-tmp")
        .args(["start", "--pg-version", "16"])
        .succeeds();
    let url = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let v: String = postgres::Client::connect(&url, postgres::NoTls)
        .unwrap()
        .query_one("SHOW server_version", &[])
        .unwrap()
        .get(0);
    cmd("pg-tmp").args(["stop", &url]).succeeds();
    assert!(v.starts_with("16."), "{v}");
}

#[test]
fn pg_wait_reads_each_majors_ready_recovery_and_shutdown_states() {
    for major in MAJORS {
        let Some(bindir) = bindir_for(major) else {
            continue;
        };
        // A standby that refuses connections until promoted (57P03).
        let srv = TempServer::create(Options {
            bindir: Some(bindir),
            config: vec![("hot_standby".into(), "off".into())],
            ..Default::default()
        })
        .unwrap();
        std::fs::write(srv.data_dir().join("standby.signal"), "").unwrap();
        srv.start_server().unwrap();
        let url = srv.url("postgres");
        for check in ["ping", "login"] {
            let out = pg_wait().args(["--once", "--check", check, &url]).exits(2);
            let last = last_line(&out.stderr);
            assert_eq!(last["sqlstate"], "57P03", "{major} {check}: {last}");
        }
        std::fs::remove_file(srv.data_dir().join("standby.signal")).unwrap();
        srv.restart_server().unwrap();
        // Out of recovery, promoted at start: ready once pg-wait sees it.
        for check in ["tcp", "ping", "login"] {
            pg_wait()
                .args(["--timeout", "30s", "--check", check, &url])
                .assert()
                .code(0);
        }
        srv.stop_server().unwrap();
        let out = pg_wait().args(["--once", "--check", "ping", &url]).exits(2);
        assert_eq!(last_line(&out.stderr)["message"], "Postgres is not ready");
    }
}

/// pg-migrate's blocker report (pg_stat_activity, pg_blocking_pids) on each
/// major: as pg_migrate_safety's lock_timeout_names_the_blocking_session,
/// on a server of that major.
#[test]
fn pg_migrate_names_the_blocking_session_on_each_major() {
    for major in MAJORS {
        let Some(bindir) = bindir_for(major) else {
            continue;
        };
        let srv = server_of(&bindir, vec![]);
        let dir = tempfile::tempdir().unwrap();
        let url = srv.url("postgres");
        let migrate = || {
            let mut c = cmd("pg-migrate");
            c.env("DATABASE_URL", &url)
                .env("MIGRATIONS_DIR", dir.path());
            c
        };
        std::fs::write(
            dir.path().join("001_t.up.sql"),
            "CREATE TABLE t (id int);\n",
        )
        .unwrap();
        migrate().arg("up").succeeds();
        std::fs::write(
            dir.path().join("002_alter.up.sql"),
            "ALTER TABLE t ADD COLUMN x int;\n",
        )
        .unwrap();
        let mut holder = srv.client("postgres").unwrap();
        let pid: i32 = holder
            .query_one("SELECT pg_backend_pid()", &[])
            .unwrap()
            .get(0);
        holder
            .simple_query("SET application_name = 'long-report'; BEGIN; SELECT count(*) FROM t")
            .unwrap();
        let out = migrate().args(["up", "--lock-timeout", "1s"]).exits(3);
        let last = last_line(&out.stderr);
        assert_eq!(last["sqlstate"], "55P03", "PostgreSQL {major}: {last}");
        assert_eq!(last["filename"], "002_alter.up.sql");
        assert_eq!(last["blockingPid"], pid, "PostgreSQL {major}: {last}");
        assert_eq!(last["blockingApplicationName"], "long-report");
        assert!(
            last["blockingQuery"]
                .as_str()
                .unwrap()
                .contains("SELECT count(*) FROM t"),
            "PostgreSQL {major}: {last}"
        );
        holder.simple_query("COMMIT").unwrap();
        migrate().arg("up").succeeds();
    }
}
