//! pg-dump-rotate on whole servers (issue 17, items 1 and 2): `dump
//! --all-databases` with one database failing mid-way, the `_globals` dump
//! replayed into a fresh server, and the compression default chosen by the
//! pg_dump version, with restore finding a pg_restore able to read it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::dump::*;
use common::*;
use pgkit::server::{Options, TempServer};
use std::fs;
use std::path::{Path, PathBuf};

/// A throwaway server of the run's major, of its own (the shared one holds
/// other tests' databases, created and dropped while they run).
fn own_server() -> TempServer {
    TempServer::start(Options {
        bindir: Some(server_bindir().clone()),
        ..Default::default()
    })
    .expect("start a server")
}

/// The tool with the server's binaries (PG_BINDIR), DUMP_DIR set.
fn tool_on(dir: &Path) -> assert_cmd::Command {
    tool(dir)
}

fn sources(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// The one dump (not sidecar or manifest) of `source`.
fn only_dump(dir: &Path, source: &str) -> PathBuf {
    let found: Vec<PathBuf> = fs::read_dir(dir.join(source))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            !n.ends_with(".json") && !n.ends_with(".sha256") && !n.starts_with('.')
        })
        .collect();
    assert_eq!(found.len(), 1, "{source}: {found:?}");
    found[0].clone()
}

/// Three databases with a table each, one with a role granted on it, one
/// whose data pg_dump cannot read (an enum label removed from the catalog
/// under rows that use it: COPY fails mid-dump), one excluded by pattern.
fn seed_server(s: &TempServer) {
    s.execute(
        "postgres",
        "CREATE ROLE pgkit_app LOGIN PASSWORD 'all-db-secret-pw'; CREATE ROLE pgkit_reader",
    )
    .unwrap();
    for db in ["app_a", "app_b", "broken", "skip_me"] {
        s.create_database(db).unwrap();
    }
    s.execute(
        "app_a",
        "CREATE TABLE t (id int PRIMARY KEY, v text);
         INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 500) g;
         GRANT SELECT ON t TO pgkit_app;",
    )
    .unwrap();
    s.execute(
        "app_b",
        "CREATE TABLE u (id int); INSERT INTO u SELECT generate_series(1, 42);",
    )
    .unwrap();
    s.execute(
        "broken",
        "CREATE TYPE mood AS ENUM ('ok', 'gone');
         CREATE TABLE a (id int); INSERT INTO a VALUES (1);
         CREATE TABLE z (m mood); INSERT INTO z VALUES ('gone');
         DELETE FROM pg_enum WHERE enumlabel = 'gone';",
    )
    .unwrap();
}

#[test]
fn all_databases_dumps_each_one_and_the_globals_and_a_failure_spares_the_others() {
    let s = own_server();
    seed_server(&s);
    let dir = tempfile::tempdir().unwrap();
    let out = tool_on(dir.path())
        .args(["dump", "--all-databases", "--exclude-database", "skip_*"])
        .args(["--jobs", "2", "--dsn", &s.url("postgres")])
        .output()
        .unwrap();
    assert_exit(&out, 5);
    let lines = json_lines(&out.stderr);
    let last = lines.last().unwrap();
    assert_eq!(last["message"], "Server dump incomplete: some dumps failed");
    assert_eq!(last["level"], "error");
    assert_eq!(last["failed"], 1);
    assert_eq!(last["dumped"], 4, "{last}");
    assert_eq!(last["failures"][0]["source"], "broken");
    assert_eq!(last["failures"][0]["error"], "pg_dump failed");
    let failed = first_with(&lines, "Dump failed");
    assert_eq!(failed["database"], "broken");
    // The failure's own line, relayed from pg_dump, says why.
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid internal value for enum"));

    // Written: the globals and every database but the broken, the excluded
    // and the templates; nothing partial left of the broken one.
    // (The broken one's directory, made for its lock, is removed again.)
    assert_eq!(
        sources(dir.path()),
        ["_globals", "app_a", "app_b", "postgres"]
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.lines().count(), 4, "{stdout}");
    for source in ["_globals", "app_a", "app_b", "postgres"] {
        let f = only_dump(dir.path(), source);
        assert!(stdout.contains(&f.display().to_string()), "{stdout}");
        assert_sidecar_checks(&f);
    }
    // Every dump verifies; the globals are a plain pg_dumpall script.
    let v = tool_on(dir.path())
        .args(["verify", "--all"])
        .output()
        .unwrap();
    assert_success(&v);
    let globals = only_dump(dir.path(), "_globals");
    assert!(globals.display().to_string().ends_with(".sql"));
    let m = manifest(&globals);
    assert_eq!(m["kind"], "globals");
    assert_eq!(m["rolePasswords"], false);
    let text = fs::read_to_string(&globals).unwrap();
    assert!(text.contains("CREATE ROLE pgkit_app;"), "{text}");
    assert!(
        !text.contains("SCRAM-SHA-256"),
        "password hash dumped: {text}"
    );
    // Each database's manifest names the globals dumped with it.
    let a = only_dump(dir.path(), "app_a");
    let rel = manifest(&a)["globals"].as_str().unwrap().to_string();
    assert_eq!(dir.path().join(&rel), globals);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("all-db-secret-pw"));

    // --with-role-passwords keeps the hashes; --source-prefix names the sources.
    let dir2 = tempfile::tempdir().unwrap();
    let out = tool_on(dir2.path())
        .args(["dump", "--all-databases", "--exclude-database", "*"])
        .args(["--with-role-passwords", "--source-prefix", "prod-"])
        .args(["--dsn", &s.url("postgres")])
        .output()
        .unwrap();
    assert_success(&out);
    assert_eq!(sources(dir2.path()), ["prod-_globals"]);
    let text = fs::read_to_string(only_dump(dir2.path(), "prod-_globals")).unwrap();
    assert!(text.contains("SCRAM-SHA-256"), "{text}");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("SCRAM-SHA-256"));
}

#[test]
fn globals_replay_into_a_fresh_server_makes_the_grants_restorable() {
    let s = own_server();
    seed_server(&s);
    s.execute("broken", "DROP TABLE z").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = tool_on(dir.path())
        .args(["dump", "--all-databases", "--dsn", &s.url("postgres")])
        .output()
        .unwrap();
    assert_success(&out);
    let dump = only_dump(dir.path(), "app_a");
    let globals = only_dump(dir.path(), "_globals");

    let fresh = own_server();
    let restore = |extra: &[&str]| {
        tool_on(dir.path())
            .arg("restore")
            .arg(&dump)
            .args([
                "--dsn",
                &fresh.url("postgres"),
                "--db",
                "app_a",
                "--create-db",
            ])
            .args(extra)
            .output()
            .unwrap()
    };
    // Without the roles, the GRANT fails and the one transaction rolls back.
    let out = restore(&[]);
    assert_exit(&out, 5);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("pgkit_app"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut c = fresh.client("app_a").unwrap();
    let tables: i64 = c
        .query_one("SELECT count(*) FROM pg_tables WHERE tablename = 't'", &[])
        .unwrap()
        .get(0);
    assert_eq!(tables, 0);

    // With them: the globals first, then the database, grants included.
    let out = restore(&["--with-globals"]);
    assert_success(&out);
    let lines = json_lines(&out.stderr);
    assert!(has_message(&lines, "Globals replayed"));
    assert_eq!(lines.last().unwrap()["message"], "Restore complete");
    let mut c = fresh.client("app_a").unwrap();
    let row = c
        .query_one(
            "SELECT count(*), has_table_privilege('pgkit_app', 't', 'SELECT') FROM t",
            &[],
        )
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 500);
    assert!(row.get::<_, bool>(1));

    // Named bare from inside its source directory, the dump still finds
    // its globals dump (at ../_globals).
    let out = tool_on(dir.path())
        .current_dir(dump.parent().unwrap())
        .arg("restore")
        .arg(dump.file_name().unwrap())
        .args([
            "--dsn",
            &fresh.url("postgres"),
            "--db",
            "app_a_again",
            "--create-db",
            "--with-globals",
        ])
        .output()
        .unwrap();
    assert_success(&out);
    assert!(has_message(&json_lines(&out.stderr), "Globals replayed"));

    // The globals dump alone replays again (its roles exist now): exit 0.
    let out = tool_on(dir.path())
        .arg("restore")
        .arg(&globals)
        .args(["--dsn", &fresh.url("postgres")])
        .output()
        .unwrap();
    assert_success(&out);
    assert_eq!(last_line(&out.stderr)["message"], "Globals restored");

    // A dump made alone names no globals: --with-globals says so (66).
    let single = tempfile::tempdir().unwrap();
    let alone = dump_ok_on(single.path(), &s, "app_b");
    let out = tool_on(single.path())
        .arg("restore")
        .arg(&alone)
        .args([
            "--dsn",
            &fresh.url("postgres"),
            "--db",
            "app_b",
            "--create-db",
        ])
        .arg("--with-globals")
        .output()
        .unwrap();
    assert_exit(&out, 66);
    assert_eq!(
        last_line(&out.stderr)["message"],
        "The dump names no globals dump"
    );
}

fn dump_ok_on(dir: &Path, s: &TempServer, db: &str) -> PathBuf {
    let out = tool_on(dir)
        .args(["dump", "--dsn", &s.url(db)])
        .output()
        .unwrap();
    assert_success(&out);
    stdout_path(&out)
}

/// An install root (`PG_INSTALL_ROOT`, Debian's layout) holding the client
/// programs of these majors, linked from where they are installed.
fn install_root(majors: &[u32]) -> Option<tempfile::TempDir> {
    let root = tempfile::tempdir().unwrap();
    for m in majors {
        let bindir = bindir_for(*m)?;
        let bin = root.path().join(m.to_string()).join("bin");
        fs::create_dir_all(&bin).unwrap();
        for p in ["pg_dump", "pg_dumpall", "pg_restore", "psql"] {
            std::os::unix::fs::symlink(bindir.join(p), bin.join(p)).unwrap();
        }
    }
    Some(root)
}

/// A dump with no PG_BINDIR, nothing on PATH or in pg-tmp's cache, and
/// `root` as the installed versions.
fn dump_with_root(dir: &Path, root: &Path, db: &str) -> (std::process::Output, PathBuf) {
    let empty = tempfile::tempdir().unwrap();
    let out = cmd(TOOL)
        .env("DUMP_DIR", dir)
        .env_remove("PG_BINDIR")
        .env("PATH", empty.path())
        .env("XDG_CACHE_HOME", empty.path())
        .env("PG_INSTALL_ROOT", root)
        .args(["dump", "--dsn", &url(db)])
        .output()
        .unwrap();
    assert_success(&out);
    let file = stdout_path(&out);
    (out, file)
}

#[test]
fn compression_default_follows_the_pg_dump_version_and_restore_finds_a_reader() {
    let db = fresh_db("dr_zstd");
    seed_items(&db);
    let m = major();
    // The server's own major alone: zstd:1 from 16, pg_dump's gzip before.
    let Some(own) = install_root(&[m]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (_, file) = dump_with_root(dir.path(), own.path(), &db);
    let man = manifest(&file);
    assert_eq!(
        man["compression"],
        if m >= 16 { "zstd:1" } else { "gzip" },
        "{man}"
    );
    assert!(man["pgDumpVersion"]
        .as_str()
        .unwrap()
        .starts_with(&m.to_string()));

    // With newer ones installed too, the newest that keeps the dump
    // restorable into this server in one transaction: pg_restore 17+ sets
    // transaction_timeout, which servers before 17 reject, so before 17 at
    // most 16 (the first with zstd); from 17 on, the newest.
    if m >= 18 {
        return;
    }
    if m < 16 {
        let Some(old_and_new) = install_root(&[m, 18]) else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let (_, file) = dump_with_root(dir.path(), old_and_new.path(), &db);
        assert_eq!(manifest(&file)["compression"], "gzip");
        assert!(manifest(&file)["pgDumpVersion"]
            .as_str()
            .unwrap()
            .starts_with(&m.to_string()));
    }
    let mut majors = vec![m, 18];
    if m < 16 {
        majors.push(16);
    }
    let Some(all) = install_root(&majors) else {
        return;
    };
    let chosen = if m >= 17 { 18 } else { 16 };
    let dir = tempfile::tempdir().unwrap();
    let (out, file) = dump_with_root(dir.path(), all.path(), &db);
    let man = manifest(&file);
    assert_eq!(man["compression"], "zstd:1", "{man}");
    assert!(man["pgDumpVersion"]
        .as_str()
        .unwrap()
        .starts_with(&chosen.to_string()));
    let started = first_with(&json_lines(&out.stderr), "Dump started").clone();
    assert!(started["program"]
        .as_str()
        .unwrap()
        .starts_with(&all.path().join(chosen.to_string()).display().to_string()));
    if chosen == m {
        return;
    }

    // Restoring it needs pg_restore `chosen`: with only the server's own,
    // 127 naming both versions; with it installed, it is found and used.
    let nowhere = tempfile::tempdir().unwrap();
    let restore_as = |root: &Path, suffix: &str| {
        tool(dir.path())
            .env("PG_INSTALL_ROOT", root)
            .env("XDG_CACHE_HOME", nowhere.path())
            .arg("restore")
            .arg(&file)
            .args([
                "--dsn",
                &url("postgres"),
                "--db",
                &format!("{db}{suffix}"),
                "--create-db",
            ])
            .output()
            .unwrap()
    };
    let restore = |root: &Path| restore_as(root, "_z");
    let out = restore(nowhere.path());
    assert_exit(&out, 127);
    let last = last_line(&out.stderr);
    assert_eq!(
        last["message"],
        format!("pg_restore {m} is older than the dump's pg_dump ({chosen})")
    );
    let out = restore(all.path());
    assert_success(&out);
    assert_same_tables(&db, &format!("{db}_z"), &["items"]);

    // Without its manifest, the archive's header says which pg_restore
    // reads it (format 1.15: 16+; 1.16, written by 17 and 18: 17+).
    fs::remove_file(with_suffix(&file, ".json")).unwrap();
    let needed = if chosen >= 17 { 17 } else { 16 };
    let out = restore_as(nowhere.path(), "_h");
    if needed > m {
        assert_exit(&out, 127);
        assert_eq!(
            last_line(&out.stderr)["message"],
            format!("pg_restore {m} is older than the dump's archive format ({needed})")
        );
        let out = restore_as(all.path(), "_h");
        assert_success(&out);
    } else {
        assert_success(&out);
    }
    assert_same_tables(&db, &format!("{db}_h"), &["items"]);
}

/// Globals from a managed service, where `postgres` is no superuser,
/// replayed as `postgres` into a self-hosted server: the connecting role's
/// (and the bootstrap superuser's) attributes are left alone, everyone
/// else's are set; before, the cluster lost its only superuser (15) or the
/// replay stopped half-way (16+).
#[test]
fn globals_never_demote_the_role_that_replays_them() {
    let s = own_server();
    s.execute(
        "postgres",
        "CREATE ROLE pgkit_reader NOLOGIN; CREATE ROLE pgkit_writer NOLOGIN;",
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = tool_on(dir.path())
        .args(["dump", "--all-databases", "--dsn", &s.url("postgres")])
        .output()
        .unwrap();
    assert_success(&out);
    let globals = only_dump(dir.path(), "_globals");
    let text = fs::read_to_string(&globals).unwrap();
    assert!(
        text.contains("ALTER ROLE postgres WITH SUPERUSER"),
        "{text}"
    );
    let managed = text
        .replace(
            "ALTER ROLE postgres WITH SUPERUSER",
            "ALTER ROLE postgres WITH NOSUPERUSER",
        )
        .replace(
            "ALTER ROLE pgkit_writer WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB NOLOGIN",
            "ALTER ROLE pgkit_writer WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB LOGIN",
        );
    assert_ne!(managed, text);
    fs::write(&globals, &managed).unwrap();
    // Sealed again, as the service's own dump would be.
    reseal(&globals);

    let fresh = own_server();
    let out = tool_on(dir.path())
        .arg("restore")
        .arg(&globals)
        .args(["--dsn", &fresh.url("postgres")])
        .output()
        .unwrap();
    assert_success(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("ALTER ROLE of postgres skipped"),
        "{stderr}"
    );
    let mut c = fresh.client("postgres").unwrap();
    let row = c
        .query_one(
            "SELECT (SELECT rolsuper FROM pg_roles WHERE rolname = 'postgres'),
                    (SELECT rolcanlogin FROM pg_roles WHERE rolname = 'pgkit_writer')",
            &[],
        )
        .unwrap();
    assert!(row.get::<_, bool>(0), "postgres is still a superuser");
    assert!(row.get::<_, bool>(1), "the other roles' attributes are set");
}

/// `--count-rows` where no snapshot can be exported (here: a hardened
/// server that revoked pg_export_snapshot from its users; likewise a pooler
/// in transaction mode): the dump is made and kept, but the run exits 5
/// saying its drills will compare no counts, instead of passing quietly.
#[test]
fn count_rows_without_a_snapshot_keeps_the_dump_and_says_so() {
    let s = own_server();
    for sql in [
        "CREATE ROLE pgkit_owner LOGIN",
        "CREATE DATABASE owned OWNER pgkit_owner",
    ] {
        s.execute("postgres", sql).unwrap();
    }
    // (The revoke is per database: this one is the dumped one.)
    s.execute(
        "owned",
        "REVOKE EXECUTE ON FUNCTION pg_catalog.pg_export_snapshot() FROM PUBLIC;
         SET ROLE pgkit_owner; CREATE TABLE t (id int); INSERT INTO t SELECT generate_series(1, 10);",
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let dsn = s.url("owned").replace("postgres@", "pgkit_owner@");
    let out = tool_on(dir.path())
        .args(["dump", "--count-rows", "--source", "owned", "--dsn", &dsn])
        .output()
        .unwrap();
    assert_exit(&out, 5);
    let lines = json_lines(&out.stderr);
    assert!(
        lines.iter().any(|l| l["level"] == "warn"
            && l["message"]
                .as_str()
                .unwrap()
                .starts_with("Cannot export a snapshot")),
        "{lines:?}"
    );
    let last = lines.last().unwrap();
    assert_eq!(
        last["message"],
        "Dump written without the row counts --count-rows asked for"
    );
    let file = PathBuf::from(last["file"].as_str().unwrap());
    assert_eq!(stdout_path(&out), file);
    assert_success(&verify(dir.path(), &file));
    assert!(manifest(&file).get("facts").is_none());
    // Without --count-rows the same dump is a plain success.
    let out = tool_on(dir.path())
        .args(["dump", "--source", "owned", "--dsn", &dsn])
        .output()
        .unwrap();
    assert_success(&out);
}

/// A database called `_globals` would share the roles' source (and their
/// retention), whatever the prefix: it fails alone, the roles and the other
/// databases are dumped.
#[test]
fn a_database_named_like_the_globals_source_fails_alone() {
    let s = own_server();
    s.create_database("_globals").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = tool_on(dir.path())
        .args(["dump", "--all-databases", "--dsn", &s.url("postgres")])
        .output()
        .unwrap();
    assert_exit(&out, 5);
    let lines = json_lines(&out.stderr);
    assert!(
        lines.iter().any(|l| l["level"] == "error"
            && l["database"] == "_globals"
            && l["error"]
                .as_str()
                .is_some_and(|e| e.contains("source name is the globals dump's"))
            || l["message"] == "The database's source name is the globals dump's"),
        "{lines:?}"
    );
    // One dump in _globals: the roles'.
    let globals = only_dump(dir.path(), "_globals");
    assert_eq!(manifest(&globals)["kind"], "globals");
    only_dump(dir.path(), "postgres");
    // Excluded, as the message says, the run passes.
    let out = tool_on(dir.path())
        .args([
            "dump",
            "--all-databases",
            "--source-prefix",
            "prod-",
            "--exclude-database",
            "_globals",
            "--dsn",
            &s.url("postgres"),
        ])
        .output()
        .unwrap();
    assert_success(&out);
    only_dump(dir.path(), "prod-_globals");
}
