//! pg-dump-rotate against the throwaway server: dump, verify, restore, the
//! failure paths (killed pg_dump, truncation, bit flips, locks, versions) and
//! the password staying off argv.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::dump::*;
use common::*;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

#[test]
fn dump_verify_restore_gives_identical_tables() {
    let (db, dir) = seeded("dr_src", seed);
    let file = dump_ok(dir.path(), &db, &[]);

    // Layout: DIR/SOURCE/SOURCE_YYYYMMDDTHHMMSSZ.pgdump with sidecar + manifest.
    let name = file.file_name().unwrap().to_str().unwrap().to_string();
    assert_eq!(file.parent().unwrap(), dir.path().join(&db));
    assert!(
        name.starts_with(&format!("{db}_")) && name.ends_with("Z.pgdump"),
        "{name}"
    );
    let sidecar = fs::read_to_string(with_suffix(&file, ".sha256")).unwrap();
    assert!(sidecar.ends_with(&format!("  {name}\n")), "{sidecar}");
    // The sidecar is sha256sum -c format.
    assert_sidecar_checks(&file);
    let m = manifest(&file);
    assert_eq!(m["source"], db.as_str());
    assert_eq!(m["database"], db.as_str());
    assert_eq!(m["format"], "custom");
    assert_eq!(m["size"], fs::metadata(&file).unwrap().len());
    assert_eq!(m["sha256"], sidecar.split_whitespace().next().unwrap());
    assert!(m["serverVersion"]
        .as_str()
        .unwrap()
        .starts_with(char::is_numeric));
    assert!(m["pgDumpVersion"].is_string());
    assert!(!m["server"].as_str().unwrap().contains("pgkit-secret"));

    // list shows it, checksum ok.
    assert_lists_only(dir.path(), &name);

    // verify passes.
    assert_verifies(dir.path(), &file);

    // restore into a new database.
    let target = format!("{db}_copy");
    let out = restore_new(dir.path(), &file, &target, &[]);
    assert_success(&out);
    let lines = json_lines(&out.stderr);
    assert!(has_message(&lines, "Checksum verified"));
    assert!(has_message(&lines, "Database created"));
    assert_eq!(lines.last().unwrap()["message"], "Restore complete");
    assert_same_tables(&db, &target, &["items", "notes", "cheap", "orders"]);
    assert!(table_sum(&target, "items").starts_with("5000:"));
    let lo = |db: &str| -> String {
        let mut c = server().client(db).unwrap();
        c.query_one(
            "SELECT string_agg(md5(lo_get(oid)), ',' ORDER BY oid) FROM pg_largeobject_metadata",
            &[],
        )
        .unwrap()
        .get(0)
    };
    assert_eq!(lo(&db), lo(&target), "large objects restored");

    // Restoring again into the now non-empty database is refused …
    let out = restore_into(dir.path(), &file, &target, &[]);
    let last = assert_refused_non_empty(&out);
    assert!(last["suggestion"].as_str().unwrap().contains("--force"));
    // … unless --force, which replaces the objects.
    server()
        .execute(&target, "DELETE FROM notes WHERE id > 10")
        .unwrap();
    let out = tool(dir.path())
        .args(["restore", "--force"])
        .arg(&file)
        .args(["--to", &url(&target)])
        .output()
        .unwrap();
    assert_success(&out);
    assert_same_tables(&db, &target, &["notes"]);
    assert_eq!(lo(&db), lo(&target));
}

#[test]
fn plain_and_directory_formats() {
    let (db, dir) = seeded("dr_fmt", seed);
    let sql = dump_ok(dir.path(), &db, &["--format", "plain"]);
    assert!(sql.display().to_string().ends_with("Z.sql"));
    let d = dump_ok(
        dir.path(),
        &db,
        &["--format", "directory", "--jobs", "2", "--source", "fmtdir"],
    );
    assert!(d.is_dir() && d.display().to_string().ends_with("Z.dir"));
    // Directory sidecars list every file, sha256sum -c style.
    assert_sidecar_checks(&d);
    assert_eq!(verify_all_ok(dir.path()).lines().count(), 2);
    let rows = list_json(dir.path());
    assert!(rows.iter().all(|r| r["checksum"] == "ok"), "{rows:?}");

    for (file, suffix) in [(&sql, "p"), (&d, "d")] {
        let target = format!("{db}_{suffix}");
        let out = restore_new(dir.path(), file, &target, &["--jobs", "2"]);
        assert_success(&out);
        assert_same_tables(&db, &target, &["items"]);
    }

    // A file in the directory dump that the sidecar does not list fails.
    fs::write(d.join("9999.dat.gz"), b"x").unwrap();
    assert_exit(&verify(dir.path(), &d), 5);
    // A plain dump cut short fails.
    let text = fs::read(&sql).unwrap();
    fs::write(&sql, &text[..text.len() - 100]).unwrap();
    assert_exit(&verify(dir.path(), &sql), 5);
}

#[test]
fn truncated_and_bit_flipped_dumps_fail_verify_and_restore() {
    let (db, dir) = seeded("dr_bad", seed);
    let file = dump_ok(dir.path(), &db, &[]);
    let good = fs::read(&file).unwrap();

    // pg_restore --list passes a truncated archive; verify does not.
    let cut = &good[..good.len() * 2 / 3];
    fs::write(&file, cut).unwrap();
    let listed = Command::new(pg_bin("pg_restore"))
        .arg("--list")
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        listed.status.success(),
        "pg_restore --list passes truncated files"
    );
    // Even with a sidecar that matches the truncated bytes, reading the whole
    // archive catches it.
    let digest = sha256_hex(cut);
    let name = file.file_name().unwrap().to_str().unwrap();
    let sidecar_path = with_suffix(&file, ".sha256");
    let manifest_path = with_suffix(&file, ".json");
    let sidecar = fs::read_to_string(&sidecar_path).unwrap();
    let manifest = fs::read_to_string(&manifest_path).unwrap();
    fs::write(&sidecar_path, format!("{digest}  {name}\n")).unwrap();
    fs::remove_file(&manifest_path).unwrap();
    let out = verify(dir.path(), &file);
    assert_exit(&out, 5);
    let last = last_line(&out.stderr);
    assert!(last["message"].as_str().unwrap().contains(name), "{last}");
    assert!(has_message(
        &json_lines(&out.stderr),
        "Dump failed verification: Archive is unreadable"
    ));

    // With the real sidecar: a checksum mismatch, and list sees the size.
    fs::write(&sidecar_path, &sidecar).unwrap();
    fs::write(&manifest_path, &manifest).unwrap();
    let out = verify(dir.path(), &file);
    assert_exit(&out, 5);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("{}: FAILED", file.display())
    );
    assert!(has_message(
        &json_lines(&out.stderr),
        "Dump failed verification: Checksum mismatch"
    ));
    assert_eq!(list_json(dir.path())[0]["checksum"], "mismatch");

    // A single flipped bit, same size: verify and restore refuse.
    let mut flipped = good.clone();
    let at = flipped.len() / 2;
    flipped[at] ^= 0x01;
    fs::write(&file, &flipped).unwrap();
    assert_eq!(
        list_json(dir.path())[0]["checksum"],
        "ok",
        "list does not hash"
    );
    assert_exit(&verify(dir.path(), &file), 5);
    let target = format!("{db}_flip");
    let out = restore_new(dir.path(), &file, &target, &[]);
    assert_exit(&out, 5);
    let last = last_line(&out.stderr);
    assert_eq!(
        last["message"],
        "Refusing to restore a dump that fails its checksum"
    );
    // Refused before anything happened: the database was not even created.
    let mut c = server().client("postgres").unwrap();
    let n: i64 = c
        .query_one(
            "SELECT count(*) FROM pg_database WHERE datname = $1",
            &[&target],
        )
        .unwrap()
        .get(0);
    assert_eq!(n, 0);

    // A missing file is 66.
    let out = tool(dir.path())
        .args(["verify", "/nonexistent/x_20250101T000000Z.pgdump"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(66));
}

/// A fake pg_dump: reports the real version, writes the start of an archive,
/// then sleeps (so the test can kill it, or hold the lock), recording its
/// pid, argv and environment keys.
fn slow_pg_dump(dir: &Path, sleep_s: u32) -> PathBuf {
    slow_pg_dump_with(dir, sleep_s, "exec ")
}

/// As `slow_pg_dump`; with `exec_sleep` empty, `sleep` runs as a child of
/// the script and holds its stdout too (a grandchild of the tool).
fn slow_pg_dump_with(dir: &Path, sleep_s: u32, exec_sleep: &str) -> PathBuf {
    wrap_program(
        dir,
        "pg_dump",
        &format!(
            "echo $$ > {d}/pid\nprintf 'PGDMP partial bytes'\n{exec_sleep}sleep {sleep_s}\n",
            d = dir.display()
        ),
    )
}

/// The fake pg_dump's pid, once its pid file is completely written.
fn fake_pid(dir: &Path) -> Option<i32> {
    let text = fs::read_to_string(dir.join("pid")).ok()?;
    if !text.ends_with('\n') {
        return None;
    }
    text.trim().parse().ok()
}

/// Waits until the dump of `db` has its partial file and the fake pg_dump
/// (in `bin`) its pid file.
fn wait_for_fake_dump(what: &str, dir: &Path, db: &str, bin: &Path) {
    wait_for(what, 20, || {
        names(&dir.join(db)).iter().any(|n| n.ends_with(".partial")) && fake_pid(bin).is_some()
    });
}

/// A dump of `db` run with the fake pg_dump, spawned (no PG_BINDIR).
fn spawn_dump(dir: &Path, db: &str, fake: &Path) -> std::process::Child {
    std_cmd(TOOL)
        .env("DUMP_DIR", dir)
        .env("PG_DUMP", fake)
        .args(["dump", "--dsn", &url(db)])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn pg_dump_killed_mid_dump_leaves_no_dump() {
    let db = fresh_db("dr_kill");
    let dir = tempfile::tempdir().unwrap();
    let bin = tempfile::tempdir().unwrap();
    let fake = slow_pg_dump(bin.path(), 30);
    let child = spawn_dump(dir.path(), &db, &fake);
    wait_for_fake_dump("the partial file", dir.path(), &db, bin.path());
    std::thread::sleep(Duration::from_millis(200));
    let pid = fake_pid(bin.path()).unwrap();
    signal(pid, libc::SIGKILL);
    let out = child.wait_with_output().unwrap();
    assert_exit(&out, 5);
    let last = last_line(&out.stderr);
    assert_eq!(last["message"], "pg_dump failed");
    assert!(
        last["status"].as_str().unwrap().contains("SIGKILL"),
        "{last}"
    );
    assert!(out.stdout.is_empty());
    assert_eq!(
        names(&dir.path().join(&db)),
        Vec::<String>::new(),
        "nothing left"
    );
    assert!(list_json(dir.path()).is_empty());
}

#[test]
fn sigterm_during_dump_stops_pg_dump_and_removes_the_partial() {
    let db = fresh_db("dr_term");
    let dir = tempfile::tempdir().unwrap();
    let bin = tempfile::tempdir().unwrap();
    let fake = slow_pg_dump_with(bin.path(), 30, "");
    let child = spawn_dump(dir.path(), &db, &fake);
    let started = Instant::now();
    wait_for_fake_dump("the fake pg_dump", dir.path(), &db, bin.path());
    signal(child.id() as i32, libc::SIGTERM);
    let out = child.wait_with_output().unwrap();
    assert_exit(&out, 143);
    assert_eq!(last_line(&out.stderr)["message"], "Interrupted by SIGTERM");
    // The fake's `sleep 30` holds the stdout pipe too: the process-group
    // kill reaches it, so the tool does not wait for it (generous bound).
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(names(&dir.path().join(&db)), Vec::<String>::new());
    let pid = fake_pid(bin.path()).unwrap();
    wait_for("the fake pg_dump to be gone", 20, || !alive(pid));
}

#[test]
fn concurrent_dumps_of_one_source_take_turns() {
    let db = fresh_db("dr_lock");
    let dir = tempfile::tempdir().unwrap();
    let bin = tempfile::tempdir().unwrap();
    // The first dump hangs (a fake pg_dump sleeping 30 s) until the test
    // kills it, so the timing below does not depend on the machine's speed.
    let fake = slow_pg_dump(bin.path(), 30);
    let first = spawn_dump(dir.path(), &db, &fake);
    wait_for_fake_dump("the first dump", dir.path(), &db, bin.path());
    // A second dump with a short --lock-wait gives up with 75.
    let out = tool(dir.path())
        .args(["dump", "--dsn", &url(&db), "--lock-wait", "200ms"])
        .output()
        .unwrap();
    assert_exit(&out, 75);
    let last = last_line(&out.stderr);
    assert_eq!(last["message"], "Another run holds the source's lock");
    assert_eq!(last["source"], db.as_str());
    // A third one that may wait long enough runs once the first ends.
    let mut third = spawn_tool(
        dir.path(),
        ["dump", "--dsn", &url(&db), "--lock-wait", "60s"],
        &[],
    );
    // Its log says it waits; only then does the first dump end.
    let mut lines = std::io::BufReader::new(third.stderr.take().unwrap());
    let mut log = String::new();
    while !log.contains("Waiting for another run of this source to finish") {
        let mut line = String::new();
        let n = std::io::BufRead::read_line(&mut lines, &mut line).unwrap();
        assert!(n > 0, "the third dump ended without waiting: {log}");
        log.push_str(&line);
    }
    signal(fake_pid(bin.path()).unwrap(), libc::SIGKILL);
    let first = first.wait_with_output().unwrap();
    assert_eq!(first.status.code(), Some(5));
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut lines, &mut rest).unwrap();
    let status = third.wait().unwrap();
    assert!(status.success(), "{log}{rest}");
    assert!(rest.contains("\"message\":\"Dump complete\""), "{rest}");
    let rows = list_json(dir.path());
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["checksum"], "ok");
}

#[test]
fn password_travels_in_the_environment_never_on_argv() {
    let secret = "pgkit-secret-Pw0rd";
    let srv = server_with_password(secret);
    srv.execute(
        "postgres",
        "CREATE TABLE t (x int); INSERT INTO t VALUES (1)",
    )
    .unwrap();
    let bin = tempfile::tempdir().unwrap();
    let wrapper = wrap_program_exec(
        bin.path(),
        "pg_dump",
        &format!(
            "tr '\\0' '\\n' < /proc/$$/cmdline > {d}/argv\nenv | cut -d= -f1 > {d}/envkeys\n",
            d = bin.path().display()
        ),
    );
    let dir = tempfile::tempdir().unwrap();
    let out = cmd(TOOL)
        .env("PG_DUMP", &wrapper)
        .env("DUMP_DIR", dir.path())
        .args([
            "dump",
            "--source",
            "secretdb",
            "--dsn",
            &srv.url("postgres"),
        ])
        .output()
        .unwrap();
    assert_success(&out);
    let argv = fs::read_to_string(bin.path().join("argv")).unwrap();
    assert!(argv.contains("--format=c"), "{argv}");
    assert!(!argv.contains(secret), "password on argv: {argv}");
    assert!(!argv.contains("postgresql://"), "{argv}");
    let keys = fs::read_to_string(bin.path().join("envkeys")).unwrap();
    assert!(keys.lines().any(|k| k == "PGPASSWORD"), "{keys}");
    // Nor in the log, the manifest or list output.
    assert!(!String::from_utf8_lossy(&out.stderr).contains(secret));
    let sdir = dir.path().join("secretdb");
    for e in fs::read_dir(&sdir).unwrap().flatten() {
        if e.path().extension().is_some_and(|x| x == "json") {
            assert!(!fs::read_to_string(e.path()).unwrap().contains(secret));
        }
    }
}

#[test]
fn missing_or_too_old_pg_dump_is_127() {
    let db = fresh_db("dr_ver");
    let dir = tempfile::tempdir().unwrap();
    let empty = tempfile::tempdir().unwrap();
    // PG_BINDIR without pg_dump.
    let out = cmd(TOOL)
        .env("PG_BINDIR", empty.path())
        .env("DUMP_DIR", dir.path())
        .args(["dump", "--dsn", &url(&db)])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(127));
    let last = last_line(&out.stderr);
    assert_eq!(last["message"], "pg_dump not found");
    assert!(last["error"].as_str().unwrap().contains("PG_BINDIR"));
    // No pg_dump on PATH either (nor in pg-tmp's cache, nor installed).
    let out = cmd(TOOL)
        .env("PATH", empty.path())
        .env("XDG_CACHE_HOME", empty.path())
        .env("PG_INSTALL_ROOT", empty.path())
        .env_remove("PG_BINDIR")
        .env("DUMP_DIR", dir.path())
        .args(["dump", "--dsn", &url(&db)])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(127));

    // A pg_dump older than the server: a matching one is looked for.
    let old = write_script(
        &empty.path().join("pg_dump"),
        &format!(
            "#!/bin/sh\nif [ \"$1\" = --version ]; then echo 'pg_dump (PostgreSQL) 9.6.24'; exit 0; fi\nexec {} \"$@\"\n",
            pg_bin("pg_dump").display()
        ),
    );
    let nowhere = tempfile::tempdir().unwrap();
    let out = cmd(TOOL)
        .env("PG_DUMP", &old)
        .env("PG_INSTALL_ROOT", nowhere.path())
        .env("XDG_CACHE_HOME", nowhere.path())
        .env_remove("PG_BINDIR")
        .env("DUMP_DIR", dir.path())
        .args(["dump", "--dsn", &url(&db)])
        .output()
        .unwrap();
    assert_exit(&out, 127);
    let last = last_line(&out.stderr);
    let msg = last["message"].as_str().unwrap();
    let server_major = server()
        .bindir()
        .parent()
        .unwrap()
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        msg.starts_with("pg_dump 9 is older than the server"),
        "{msg}"
    );
    assert!(last["error"].as_str().unwrap().contains("9.6.24"), "{last}");
    assert!(list_json(dir.path()).is_empty());
    // … and found through PG_BINDIR.
    let out = cmd(TOOL)
        .env("PG_DUMP", &old)
        .env("PG_BINDIR", server().bindir())
        .env("DUMP_DIR", dir.path())
        .args(["dump", "--dsn", &url(&db)])
        .output()
        .unwrap();
    assert_success(&out);
    let lines = json_lines(&out.stderr);
    assert!(
        lines.iter().any(
            |l| l["message"] == "Using a newer pg_dump that matches the server"
                && l["skippedVersion"] == "9.6.24"
        ),
        "{lines:?}"
    );
    let _ = server_major;
}

#[test]
fn bad_source_names_and_usage_errors() {
    let db = fresh_db("dr_use");
    let dir = tempfile::tempdir().unwrap();
    for bad in ["../escape", "a/b", "..", ""] {
        let out = tool(dir.path())
            .args(["dump", "--dsn", &url(&db), "--source", bad])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(64), "{bad}");
        assert_eq!(last_line(&out.stderr)["message"], "Invalid source name");
    }
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    assert!(!dir.path().parent().unwrap().join("escape").exists());
    let out = tool(dir.path())
        .args(["list", "--source", "../x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
    let out = tool(dir.path())
        .args(["dump", "--dsn", &url(&db), "--jobs", "2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
    let out = tool(dir.path())
        .args(["dump", "--dsn", &url(&db), "--purge"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
    assert_eq!(
        last_line(&out.stderr)["message"],
        "--purge needs a retention rule"
    );
    let out = tool(dir.path())
        .args([
            "dump",
            "--dsn",
            &url(&db),
            "--format",
            "plain",
            "--compress",
            "lz4",
        ])
        .output()
        .unwrap();
    // A plain script is checked only uncompressed or gzip-compressed.
    assert_eq!(out.status.code(), Some(64));
    let last = last_line(&out.stderr);
    assert_eq!(
        last["message"],
        "--compress lz4 does not go with --format plain"
    );
    assert!(last["suggestion"]
        .as_str()
        .unwrap()
        .contains("--format custom"));
    let out = tool(dir.path())
        .args(["dump", "--dsn", &url(&db), "--lock-wait", "soon"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
    assert_eq!(last_line(&out.stderr)["message"], "Invalid --lock-wait");
    // Nothing was created by any of these.
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn dump_purge_applies_retention_only_after_success() {
    let (db, dir) = seeded("dr_purge", seed);
    let a = dump_ok(dir.path(), &db, &[]);
    let b = dump_ok(dir.path(), &db, &[]);
    // A failing dump with --purge removes nothing.
    let empty = tempfile::tempdir().unwrap();
    let failing = wrap_program(
        empty.path(),
        "pg_dump",
        "echo 'pg_dump: error: simulated failure' >&2\nexit 1\n",
    );
    let out = tool(dir.path())
        .env("PG_DUMP", &failing)
        .args(["dump", "--dsn", &url(&db), "--purge", "--keep-last", "1"])
        .output()
        .unwrap();
    assert_exit(&out, 5);
    let lines = json_lines(&out.stderr);
    assert!(relayed_errors(&lines, "pg_dump")
        .iter()
        .any(|l| l["output"] == "pg_dump: error: simulated failure"));
    assert_eq!(
        lines.last().unwrap()["error"],
        "pg_dump: error: simulated failure"
    );
    assert!(a.exists() && b.exists());
    // A successful one purges down to the rule.
    let out = tool(dir.path())
        .args([
            "dump",
            "--dsn",
            &url(&db),
            "--purge",
            "--keep-last",
            "1",
            "--yes",
        ])
        .output()
        .unwrap();
    assert_success(&out);
    let c = stdout_path(&out);
    let last = last_line(&out.stderr);
    assert_eq!(last["removed"], 2);
    assert!(c.exists() && !a.exists() && !b.exists());
    assert!(!with_suffix(&a, ".sha256").exists());
    assert!(!with_suffix(&a, ".json").exists());
}

#[test]
fn restore_errors_are_relayed_and_exit_5() {
    let (db, dir) = seeded("dr_rerr", seed);
    let file = dump_ok(dir.path(), &db, &[]);

    // A missing target database without --create-db.
    let out = tool(dir.path())
        .arg("restore")
        .arg(&file)
        .args(["--dsn", &url("postgres"), "--db", "dr_rerr_nowhere"])
        .output()
        .unwrap();
    assert_exit(&out, 5);
    let last = last_line(&out.stderr);
    assert_eq!(last["message"], "The target database does not exist");
    assert!(last["suggestion"].as_str().unwrap().contains("--create-db"));

    // A target where --clean cannot drop a table (another object depends on
    // it): pg_restore fails, its errors arrive as JSON lines, and the single
    // transaction leaves the target as it was.
    let target = fresh_db("dr_rerr_t");
    server()
        .execute(
            &target,
            "CREATE TABLE items (id int PRIMARY KEY, other text);
             INSERT INTO items VALUES (1, 'mine');
             CREATE VIEW depends AS SELECT * FROM items;",
        )
        .unwrap();
    let out = restore_into(dir.path(), &file, &target, &["--force"]);
    assert_exit(&out, 5);
    let lines = json_lines(&out.stderr);
    let errors = relayed_errors(&lines, "pg_restore");
    assert!(!errors.is_empty(), "{lines:?}");
    assert!(errors
        .iter()
        .any(|l| l["output"].as_str().unwrap().contains("depend")));
    let last = lines.last().unwrap();
    assert_eq!(last["message"], "Restore failed");
    assert!(last["suggestion"].as_str().unwrap().contains("rolled back"));
    let mut c = server().client(&target).unwrap();
    let other: String = c.query_one("SELECT other FROM items", &[]).unwrap().get(0);
    assert_eq!(other, "mine", "rolled back");

    // A dump without a sidecar is refused.
    fs::remove_file(with_suffix(&file, ".sha256")).unwrap();
    let t2 = format!("{db}_nosc");
    let out = restore_new(dir.path(), &file, &t2, &[]);
    assert_exit(&out, 5);
    assert!(last_line(&out.stderr)["error"]
        .as_str()
        .unwrap()
        .contains("no checksum sidecar"));
    // A missing file is 66.
    let out = tool(dir.path())
        .args(["restore", "/nonexistent.pgdump", "--dsn", &url(&t2)])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(66));
}

/// PostgreSQL 18 binaries (PGKIT_PG18_BINDIR, installed by .ci/run), when present.
fn pg18_bindir() -> Option<PathBuf> {
    let d = PathBuf::from(std::env::var_os("PGKIT_PG18_BINDIR")?);
    d.join("postgres").exists().then_some(d)
}

/// The version check on a real newer server: pg_dump 15 against PostgreSQL 18
/// is 127 naming both versions unless a pg_dump 18 is found (PG_BINDIR or
/// PG_INSTALL_ROOT/18/bin); the 18 dump then verifies (pg_restore 18 picked
/// from the manifest's pg_dump version) and restores.
#[test]
fn a_newer_server_needs_a_matching_pg_dump() {
    let Some(bin18) = pg18_bindir() else {
        eprintln!("note: PGKIT_PG18_BINDIR not set; PostgreSQL 18 check skipped (CI sets it)");
        return;
    };
    let old_bindir = server().bindir().to_path_buf();
    let old_major = pgkit::server::major_of(&old_bindir).unwrap();
    // An explicit condition of the version matrix: on an 18 run there is no
    // older server here to compare with.
    if old_major >= 18 {
        eprintln!("note: the run's server is PostgreSQL {old_major}; this check needs one older than 18 (it runs on the 14-17 runs)");
        return;
    }
    let srv = pgkit::server::TempServer::start(pgkit::server::Options {
        bindir: Some(bin18.clone()),
        ..Default::default()
    })
    .unwrap();
    srv.execute(
        "postgres",
        "CREATE TABLE t18 (x int PRIMARY KEY); INSERT INTO t18 SELECT generate_series(1, 100); CREATE TABLE r18 (x int REFERENCES t18); INSERT INTO r18 VALUES (1), (2); SELECT lo_from_bytea(0, 'lo18'); SELECT lo_from_bytea(0, 'lo18b')",
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let nowhere = tempfile::tempdir().unwrap();

    let out = cmd(TOOL)
        .env("PG_DUMP", old_bindir.join("pg_dump"))
        .env("PG_INSTALL_ROOT", nowhere.path())
        .env("XDG_CACHE_HOME", nowhere.path())
        .env_remove("PG_BINDIR")
        .env("DUMP_DIR", dir.path())
        .args(["dump", "--source", "v18", "--dsn", &srv.url("postgres")])
        .output()
        .unwrap();
    assert_exit(&out, 127);
    let last = last_line(&out.stderr);
    assert_eq!(
        last["message"],
        format!("pg_dump {old_major} is older than the server (18)")
    );
    assert_eq!(last["requiredMajor"], 18);
    assert!(list_json(dir.path()).is_empty());

    // PG_INSTALL_ROOT/18/bin (Debian's layout) has one.
    let root = tempfile::tempdir().unwrap();
    fs::create_dir_all(root.path().join("18")).unwrap();
    std::os::unix::fs::symlink(&bin18, root.path().join("18/bin")).unwrap();
    let out = cmd(TOOL)
        .env("PG_DUMP", old_bindir.join("pg_dump"))
        .env("PG_INSTALL_ROOT", root.path())
        .env("DUMP_DIR", dir.path())
        .args(["dump", "--source", "v18", "--dsn", &srv.url("postgres")])
        .output()
        .unwrap();
    assert_success(&out);
    let file = stdout_path(&out);
    let m = manifest(&file);
    assert!(
        m["pgDumpVersion"].as_str().unwrap().starts_with("18"),
        "{m}"
    );
    assert!(
        m["serverVersion"].as_str().unwrap().starts_with("18"),
        "{m}"
    );

    // verify with an old pg_restore first in line: the 18 one is found.
    let out = cmd(TOOL)
        .env("PG_RESTORE", old_bindir.join("pg_restore"))
        .env("PG_INSTALL_ROOT", root.path())
        .env("DUMP_DIR", dir.path())
        .args(["verify", "--all"])
        .output()
        .unwrap();
    assert_success(&out);
    // … and without one: 127, not a misleading "damaged archive".
    let out = cmd(TOOL)
        .env("PG_RESTORE", old_bindir.join("pg_restore"))
        .env("PG_INSTALL_ROOT", nowhere.path())
        .env("XDG_CACHE_HOME", nowhere.path())
        .env_remove("PG_BINDIR")
        .env("DUMP_DIR", dir.path())
        .args(["verify", "--all"])
        .output()
        .unwrap();
    assert_exit(&out, 127);

    // Restore on the 18 server into a new database.
    let out = cmd(TOOL)
        .env("PG_BINDIR", &bin18)
        .env("DUMP_DIR", dir.path())
        .arg("restore")
        .arg(&file)
        .args([
            "--dsn",
            &srv.url("postgres"),
            "--db",
            "copy18",
            "--create-db",
        ])
        .output()
        .unwrap();
    assert_success(&out);
    let mut c = srv.client("copy18").unwrap();
    let n: i64 = c.query_one("SELECT count(*) FROM t18", &[]).unwrap().get(0);
    assert_eq!(n, 100);
    let n: i64 = c
        .query_one("SELECT count(*) FROM pg_largeobject_metadata", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 2);
}

/// A write that fails part-way (here a file-size limit standing in for a
/// full disk: the write fails with EFBIG) stops pg_dump, removes the partial
/// file and exits 5.
#[test]
fn a_failing_write_leaves_nothing_behind() {
    if Command::new("prlimit").arg("--version").output().is_err() {
        eprintln!("note: prlimit not installed; write-failure test skipped");
        return;
    }
    let (db, dir) = seeded("dr_full", seed);
    let out = Command::new("prlimit")
        .arg("--fsize=4096")
        .arg(bin_path(TOOL))
        .args(["dump", "--compress", "0", "--dsn", &url(&db)])
        .env("DUMP_DIR", dir.path())
        .env("PG_BINDIR", server().bindir())
        .env("HOME", empty_home())
        .output()
        .unwrap();
    assert_exit(&out, 5);
    let last = last_line(&out.stderr);
    assert!(
        last["message"]
            .as_str()
            .unwrap()
            .starts_with("Cannot write"),
        "{last}"
    );
    assert!(last["suggestion"].as_str().unwrap().contains("free space"));
    assert!(out.stdout.is_empty());
    assert_eq!(names(&dir.path().join(&db)), Vec::<String>::new());
}
