//! pg-dump-rotate's edges: a failed dump leaves no directory it created,
//! SIGINT during `verify` and `restore`, and plain-format dumps compressed
//! with gzip (dump, verify, restore).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::dump::*;
use common::*;
use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};

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
    let srv = server_with_password(secret);
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
    assert_success(&out);
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
    verify_all_ok(&dir);
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn gzip_bytes(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

#[test]
fn plain_dumps_compressed_with_gzip() {
    let (db, dir) = seeded("de_gz", seed_items);
    let file = dump_ok(dir.path(), &db, &["--format", "plain", "--compress", "5"]);
    let name = file.file_name().unwrap().to_str().unwrap().to_string();
    assert!(name.ends_with("Z.sql.gz"), "{name}");
    // A real gzip file holding the whole script; the manifest says so.
    let raw = fs::read(&file).unwrap();
    assert_eq!(&raw[..2], &[0x1f, 0x8b]);
    let script = String::from_utf8(gunzip(&raw)).unwrap();
    assert!(script.contains("COPY public.items"), "not the SQL script");
    assert!(script.contains("-- PostgreSQL database dump complete"));
    let m = manifest(&file);
    assert_eq!(m["format"], "plain");
    assert_eq!(m["compression"], "5");
    assert_eq!(m["sha256"], sha256_hex(&raw));
    assert!(m["serverVersion"]
        .as_str()
        .unwrap()
        .starts_with(char::is_numeric));
    assert_sidecar_checks(&file);

    // list, verify, purge see it as a dump like any other.
    assert_lists_only(dir.path(), &name);
    assert_verifies(dir.path(), &file);

    // restore inflates it into psql: identical tables.
    let target = format!("{db}_r");
    let out = restore_new(dir.path(), &file, &target, &[]);
    assert_success(&out);
    assert_eq!(last_line(&out.stderr)["message"], "Restore complete");
    assert_same_tables(&db, &target, &["items", "few"]);
    // Again with --force: the script has no DROPs, so psql stops at the
    // first existing object, mid-stream (the tool must not hang on the
    // pipe psql no longer reads), and rolls back.
    server()
        .execute(&target, "INSERT INTO items VALUES (0, 'mine')")
        .unwrap();
    let out = restore_into(dir.path(), &file, &target, &["--force"]);
    assert_exit(&out, 5);
    let lines = json_lines(&out.stderr);
    assert!(!relayed_errors(&lines, "psql").is_empty(), "{lines:?}");
    let last = lines.last().unwrap();
    assert_eq!(last["message"], "Restore failed");
    assert!(
        last["error"].as_str().unwrap().contains("already exists"),
        "{last}"
    );
    assert_eq!(table_sum(&target, "items").split(':').next(), Some("20001"));

    // A script whose end is missing, recompressed with a matching sidecar
    // (so only the content check can catch it): verify fails, and restore
    // kills psql before its input ends, so nothing is committed.
    let cut = script.find("-- PostgreSQL database dump complete").unwrap();
    let short = gzip_bytes(&script.as_bytes()[..cut]);
    let bad = dir.path().join("short.sql.gz");
    fs::write(&bad, &short).unwrap();
    fs::write(
        with_suffix(&bad, ".sha256"),
        format!("{}  short.sql.gz\n", sha256_hex(&short)),
    )
    .unwrap();
    let out = verify(dir.path(), &bad);
    assert_exit(&out, 5);
    let lines = json_lines(&out.stderr);
    assert!(
        has_message(&lines, "Dump failed verification: Dump is incomplete"),
        "{lines:?}"
    );
    // It has no manifest (list: unverified), so restore verifies it whole
    // first, as verify does.
    let target = format!("{db}_short");
    let out = restore_new(dir.path(), &bad, &target, &[]);
    assert_exit(&out, 5);
    let last = last_line(&out.stderr);
    assert_eq!(
        last["message"],
        "Refusing to restore a dump that fails verification"
    );
    assert!(
        last["error"]
            .as_str()
            .unwrap()
            .contains("Dump is incomplete"),
        "{last}"
    );
    assert!(!db_exists(&target), "restore created the database");

    // A truncated gzip file: verify fails (checksum first), restore refuses.
    fs::write(&file, &raw[..raw.len() / 2]).unwrap();
    assert_exit(&verify(dir.path(), &file), 5);
    let out = restore_new(dir.path(), &file, &format!("{db}_trunc"), &[]);
    assert_exit(&out, 5);
    assert_eq!(
        last_line(&out.stderr)["message"],
        "Refusing to restore a dump that fails its checksum"
    );
    // The same truncation with a matching sidecar: the gzip check catches it.
    let half = &raw[..raw.len() / 2];
    fs::write(
        with_suffix(&bad, ".sha256"),
        format!("{}  short.sql.gz\n", sha256_hex(half)),
    )
    .unwrap();
    fs::write(&bad, half).unwrap();
    assert_exit(&verify(dir.path(), &bad), 5);
    let target = format!("{db}_half");
    let out = restore_new(dir.path(), &bad, &target, &[]);
    assert_exit(&out, 5);
    assert!(!db_exists(&target));
}

/// Live processes (not zombies) whose argv contains `needle`.
fn procs_mentioning(needle: &str) -> Vec<i32> {
    let me = std::process::id() as i32;
    let mut v = Vec::new();
    for e in fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if pid == me {
            continue;
        }
        let Ok(argv) = fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        let zombie = fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| s.contains(") Z "))
            .unwrap_or(true);
        if !zombie && String::from_utf8_lossy(&argv).contains(needle) {
            v.push(pid);
        }
    }
    v
}

/// Every file under `dir` with its SHA-256, to show nothing changed.
fn snapshot(dir: &Path) -> Vec<(String, String)> {
    let mut v = Vec::new();
    for e in walk(dir) {
        v.push((e.display().to_string(), sha256_hex(&fs::read(&e).unwrap())));
    }
    v.sort();
    v
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut v = Vec::new();
    for e in fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            v.extend(walk(&p));
        } else {
            v.push(p);
        }
    }
    v
}

#[test]
fn sigint_during_verify_stops_pg_restore_and_changes_nothing() {
    let (db, dir) = seeded("de_vint", seed_items);
    let file = dump_ok(dir.path(), &db, &[]);
    let before = snapshot(dir.path());

    // pg_restore held up before it reads: a wrapper of the real one that
    // records its pid and a child's, then waits (so the test is not a race
    // against the machine's speed). Both must go on SIGINT.
    let bin = tempfile::tempdir().unwrap();
    let shim = wrap_program_exec(
        bin.path(),
        "pg_restore",
        &format!(
            "sleep 60 &\necho \"$$ $!\" > {d}/pids.tmp\nmv {d}/pids.tmp {d}/pids\nwait\n",
            d = bin.path().display()
        ),
    );
    let pids_file = bin.path().join("pids");

    for args in [
        vec!["verify", file.to_str().unwrap()],
        vec!["verify", "--all"],
    ] {
        let _ = fs::remove_file(&pids_file);
        let child = spawn_tool(dir.path(), &args, &[("PG_RESTORE", &shim)]);
        wait_for("the pg_restore wrapper", 20, || pids_file.exists());
        let pids: Vec<i32> = fs::read_to_string(&pids_file)
            .unwrap()
            .split_whitespace()
            .map(|p| p.parse().unwrap())
            .collect();
        assert_eq!(pids.len(), 2);
        assert!(pids.iter().all(|p| alive(*p)));
        sigint(&child);
        let out = child.wait_with_output().unwrap();
        assert_interrupted(&out);
        // Neither OK nor FAILED: an interrupted check says nothing of the dump.
        assert!(
            out.stdout.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        let lines = json_lines(&out.stderr);
        assert!(!lines.iter().any(|l| l["message"]
            .as_str()
            .unwrap()
            .starts_with("Dump failed verification")));
        // The tool waited for pg_restore; the group kill reached its child.
        assert!(!alive(pids[0]), "pg_restore left running");
        wait_for("the wrapper's child to be gone", 10, || !alive(pids[1]));
        assert_eq!(snapshot(dir.path()), before, "the dump changed");
    }
    // And the dump still verifies.
    verify_all_ok(dir.path());
}

/// A database whose restore is slow on the server: each row of `slow`
/// passes a CHECK that sleeps 10 ms, except in the source database (so
/// seeding it is quick). pg_dump writes the CHECK into CREATE TABLE, so it
/// runs during the restore's COPY.
fn slow_to_restore(db: &str) {
    server()
        .execute(
            db,
            &format!(
                "CREATE FUNCTION slow_ok(int) RETURNS boolean LANGUAGE sql AS
                   $$ SELECT true FROM pg_catalog.pg_sleep(CASE WHEN pg_catalog.current_database() = '{db}' THEN 0 ELSE 0.01 END) $$;
                 CREATE TABLE quick (id int PRIMARY KEY);
                 INSERT INTO quick SELECT generate_series(1, 100);
                 CREATE TABLE slow (id int CHECK (slow_ok(id)));
                 INSERT INTO slow SELECT generate_series(1, 3000);"
            ),
        )
        .unwrap();
}

/// How many sessions on `db` match `condition` (pg_stat_activity).
fn sessions(db: &str, condition: &str) -> i64 {
    let mut c = server().client("postgres").unwrap();
    c.query_one(
        &format!("SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND {condition}"),
        &[&db],
    )
    .unwrap()
    .get(0)
}

fn backends(db: &str) -> i64 {
    sessions(db, "pid <> pg_backend_pid()")
}

fn copying(db: &str) -> bool {
    sessions(db, "state = 'active' AND query ILIKE 'COPY%'") > 0
}

/// Spawns `restore FILE --db TARGET --create-db` and waits until it is in
/// its COPY of `slow` (some 30 s of sleeps, see `slow_to_restore`).
fn spawn_restore_in_copy(dir: &Path, file: &Path, target: &str) -> std::process::Child {
    let pg = url("postgres");
    let args: Vec<&std::ffi::OsStr> = vec![
        "restore".as_ref(),
        file.as_os_str(),
        "--dsn".as_ref(),
        pg.as_ref(),
        "--db".as_ref(),
        target.as_ref(),
        "--create-db".as_ref(),
    ];
    let child = spawn_tool(dir, &args, &[]);
    wait_for("the restore's COPY", 30, || copying(target));
    child
}

#[test]
fn sigint_during_restore_rolls_back_and_stops_the_child() {
    let (db, dir) = seeded("de_rint", slow_to_restore);
    let mut dumps = Vec::new();
    for extra in [&[][..], &["--format", "plain", "--compress", "1"][..]] {
        dumps.push(dump_ok(dir.path(), &db, extra));
    }
    let before = snapshot(dir.path());

    for (i, (file, program)) in dumps.iter().zip(["pg_restore", "psql"]).enumerate() {
        let target = format!("{db}_t{i}");
        let child = spawn_restore_in_copy(dir.path(), file, &target);
        let running = procs_mentioning(&format!("dbname='{target}'"));
        assert_eq!(running.len(), 1, "{program}: {running:?}");
        sigint(&child);
        let out = child.wait_with_output().unwrap();
        assert_interrupted(&out);
        let lines = json_lines(&out.stderr);
        assert!(has_message(&lines, "Restore started"));
        assert!(!has_message(&lines, "Restore complete"));
        if program == "psql" {
            // psql does not cancel its query when killed: the tool ends its
            // session, or the server would run the COPY on for some 30 s.
            let ended = first_with(&lines, "Ended the interrupted restore's server sessions");
            assert_eq!(ended["sessions"], 1);
        }
        // The tool waited for its child: none is left running.
        assert!(!alive(running[0]), "{program} left running");
        assert_eq!(
            procs_mentioning(&format!("dbname='{target}'")),
            Vec::<i32>::new()
        );
        // The documented state: the restore was one transaction, rolled
        // back; the database --create-db made stays, empty.
        wait_for(
            &format!("{program}: the restore's backend to end"),
            30,
            || backends(&target) == 0,
        );
        assert_eq!(relations(&target), 0, "{program}: partly restored");
        // Nothing in the dump directory changed.
        assert_eq!(snapshot(dir.path()), before);
    }
}

#[test]
fn dump_purge_never_removes_the_dump_it_just_wrote() {
    let (db, dir) = seeded("de_skew", seed_items);
    let first = dump_ok(dir.path(), &db, &[]);
    // A good dump whose name lies in the future, as after the clock was set
    // back: by name it is the newest, so --keep-last 1 alone would keep it
    // and remove the dump this run writes.
    let sdir = first.parent().unwrap();
    let future = sdir.join(format!("{db}_20991231T000000Z.pgdump"));
    fs::copy(&first, &future).unwrap();
    let digest = sha256_hex(&fs::read(&first).unwrap());
    fs::write(
        with_suffix(&future, ".sha256"),
        format!(
            "{digest}  {}\n",
            future.file_name().unwrap().to_str().unwrap()
        ),
    )
    .unwrap();
    fs::copy(with_suffix(&first, ".json"), with_suffix(&future, ".json")).unwrap();

    let (new, lines) = dump_ok_lines(dir.path(), &db, &["--purge", "--keep-last", "1"]);
    let last = lines.last().unwrap();
    assert_eq!(last["message"], "Dump complete");
    assert_eq!(last["removed"], 1, "{last}");
    assert_eq!(last["kept"], 2, "{last}");
    assert!(new.is_file(), "the dump just written was removed");
    assert!(with_suffix(&new, ".sha256").is_file());
    assert!(future.is_file());
    assert!(!first.exists(), "no rule keeps the first one");
    let removed = lines_with(&lines, "Dump removed");
    assert_eq!(removed.len(), 1);
    assert_eq!(removed[0]["file"], first.display().to_string());
    let future_warning = |lines: &[Value]| {
        lines.iter().any(|l| {
            l["message"] == "A dump is named in the future; check the clock"
                && l["level"] == "warn"
                && l["file"] == future.display().to_string()
        })
    };
    assert!(future_warning(&lines), "{lines:?}");
    let out = tool(dir.path())
        .args(["purge", "1", "--dry-run"])
        .output()
        .unwrap();
    assert_success(&out);
    assert!(future_warning(&json_lines(&out.stderr)));
}

#[test]
fn verify_all_skips_a_dump_purged_meanwhile() {
    let (db, dir) = seeded("de_vgone", seed_items);
    let older = dump_ok(dir.path(), &db, &[]);
    let newer = dump_ok(dir.path(), &db, &[]);
    // pg_restore, run for the newest dump first, stands in for a purge that
    // removes the older dump while verify --all is busy.
    let bin = tempfile::tempdir().unwrap();
    let o = older.display();
    let shim = wrap_program_exec(
        bin.path(),
        "pg_restore",
        &format!("rm -f '{o}' '{o}.sha256' '{o}.json'\n"),
    );
    let out = tool(dir.path())
        .env("PG_RESTORE", &shim)
        .args(["verify", "--all"])
        .output()
        .unwrap();
    assert_success(&out);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("{}: OK", newer.display())
    );
    let lines = json_lines(&out.stderr);
    let skipped = first_with(&lines, "Dump removed while verifying; skipped");
    assert_eq!(skipped["file"], older.display().to_string());
    assert_eq!(skipped["level"], "warn");
    let last = lines.last().unwrap();
    assert_eq!(last["verified"], 1);
    assert_eq!(last["skipped"], 1);
    // Named explicitly, a missing dump is still a failure (66).
    assert_exit(&verify(dir.path(), &older), 66);
}

#[test]
fn a_database_holding_only_large_objects_is_not_empty() {
    let (db, dir) = seeded("de_lo", seed_items);
    let file = dump_ok(dir.path(), &db, &[]);
    let target = fresh_db("de_lo_t");
    server()
        .execute(&target, "SELECT lo_from_bytea(0, 'precious'::bytea)")
        .unwrap();
    let out = restore_into(dir.path(), &file, &target, &[]);
    let last = assert_refused_non_empty(&out);
    assert_eq!(last["objects"], 1);
    assert_eq!(relations(&target), 0);
}

fn db_exists(name: &str) -> bool {
    let n: i64 = server()
        .client("postgres")
        .unwrap()
        .query_one(
            "SELECT count(*) FROM pg_database WHERE datname = $1",
            &[&name],
        )
        .unwrap()
        .get(0);
    n == 1
}

/// Rewrites a dump's sidecar (and, when `manifest` is given, its manifest)
/// to match the file as it now is: damage only a content check can catch.
fn remake_checksums(file: &Path, manifest: Option<Value>) {
    let bytes = fs::read(file).unwrap();
    let name = file.file_name().unwrap().to_str().unwrap();
    let digest = sha256_hex(&bytes);
    fs::write(with_suffix(file, ".sha256"), format!("{digest}  {name}\n")).unwrap();
    let m_path = with_suffix(file, ".json");
    match manifest {
        Some(mut m) => {
            m["sha256"] = Value::from(digest);
            m["size"] = Value::from(bytes.len());
            fs::write(&m_path, serde_json::to_vec(&m).unwrap()).unwrap();
        }
        None => {
            let _ = fs::remove_file(&m_path);
        }
    }
}

/// Issue 16, defect 1: a plain script cut short, sidecar remade.
#[test]
fn a_truncated_plain_script_restores_nothing() {
    let (db, dir) = seeded("de_cut", seed_items);
    let file = dump_ok(dir.path(), &db, &["--format", "plain"]);
    assert!(file.to_str().unwrap().ends_with("Z.sql"), "{file:?}");
    let whole = fs::read(&file).unwrap();
    let m = manifest(&file);
    assert!(whole.len() > 60_000, "{}", whole.len());
    // Cut inside the COPY data of items, as a full disk or a killed copy
    // would leave it.
    fs::write(&file, &whole[..30_000]).unwrap();

    // No manifest (list: unverified): verify fails, and so does restore,
    // before it creates or touches anything.
    remake_checksums(&file, None);
    let listed = list_json(dir.path());
    assert_eq!(listed[0]["checksum"], "unverified", "{listed:?}");
    assert_exit(&verify(dir.path(), &file), 5);
    let target = format!("{db}_cut");
    let out = restore_new(dir.path(), &file, &target, &[]);
    assert_exit(&out, 5);
    let last = last_line(&out.stderr);
    assert_eq!(
        last["message"], "Refusing to restore a dump that fails verification",
        "{last}"
    );
    assert_eq!(last["exitCode"], 5);
    assert!(
        last["error"]
            .as_str()
            .unwrap()
            .contains("Dump is incomplete"),
        "{last}"
    );
    assert!(!has_message(&json_lines(&out.stderr), "Restore started"));
    assert!(!db_exists(&target), "restore created the database");

    // A manifest remade too (nothing vouches against it): the script is
    // streamed into psql, which is killed before its input ends, so its
    // one transaction never commits.
    remake_checksums(&file, Some(m));
    let out = restore_new(dir.path(), &file, &target, &[]);
    assert_exit(&out, 5);
    let last = last_line(&out.stderr);
    assert_eq!(last["message"], "Dump is incomplete; nothing was restored");
    assert_eq!(relations(&target), 0, "psql committed a partial script");

    // The whole script restores, and -j is said to be ignored, not dropped
    // silently (issue 16, defect 11).
    fs::write(&file, &whole).unwrap();
    remake_checksums(&file, None);
    let target = format!("{db}_whole");
    let out = restore_new(dir.path(), &file, &target, &["-j", "2"]);
    assert_success(&out);
    let lines = json_lines(&out.stderr);
    let warned = lines
        .iter()
        .find(|l| {
            l["message"]
                .as_str()
                .unwrap_or("")
                .starts_with("--jobs ignored")
        })
        .unwrap_or_else(|| panic!("{lines:?}"));
    assert_eq!(warned["level"], "warn");
    assert!(has_message(&lines, "Dump verified (it had no manifest)"));
    assert_same_tables(&db, &target, &["items", "few"]);
}

/// Issue 16, defect 3: SIGKILL of the tool (no cleanup of its own runs)
/// takes its pg_restore or psql with it, and nothing is committed.
#[test]
fn sigkill_of_restore_takes_its_child_and_commits_nothing() {
    let (db, dir) = seeded("de_rkill", slow_to_restore);
    let dumps = [
        (dump_ok(dir.path(), &db, &[]), "pg_restore"),
        (dump_ok(dir.path(), &db, &["--format", "plain"]), "psql"),
    ];
    for (i, (file, program)) in dumps.iter().enumerate() {
        let target = format!("{db}_k{i}");
        let mut child = spawn_restore_in_copy(dir.path(), file, &target);
        let running = procs_mentioning(&format!("dbname='{target}'"));
        assert_eq!(running.len(), 1, "{program}: {running:?}");
        child.kill().unwrap();
        child.wait().unwrap();
        wait_for(&format!("{program} to die with its parent"), 10, || {
            !alive(running[0])
        });
        // Its session is orphaned mid-COPY: the server notices the closed
        // socket only when it next reads (some 30 s of CHECK sleeps here),
        // so end it now; what it did was never committed.
        server()
            .execute(
                "postgres",
                &format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{target}'"),
            )
            .unwrap();
        wait_for("the restore's session to end", 30, || {
            backends(&target) == 0
        });
        assert_eq!(
            relations(&target),
            0,
            "{program}: a killed restore committed"
        );
    }
}

/// `verify --all` over a directory without dumps exits 0 (nothing is
/// damaged), but a nightly verify that checked nothing says so.
#[test]
fn verify_all_of_nothing_warns() {
    let dir = tempfile::tempdir().unwrap();
    let out = tool(dir.path()).args(["verify", "--all"]).output().unwrap();
    assert_success(&out);
    let lines = json_lines(&out.stderr);
    assert!(
        lines
            .iter()
            .any(|l| l["level"] == "warn" && l["message"] == "No dumps to verify"),
        "{lines:?}"
    );
    assert_eq!(lines.last().unwrap()["verified"], 0);
}
