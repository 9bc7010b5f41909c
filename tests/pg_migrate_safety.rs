//! pg-migrate's safety features against a real server: no-transaction files
//! (CREATE INDEX CONCURRENTLY while another runner waits), failed rows and
//! repair, lock and statement timeouts naming the blocker, the lease lock,
//! --dump-schema and --wait.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::migrate::*;
use common::*;
use serde_json::Value;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

fn spawn(db: &str, dir: &Path, args: &[&str]) -> std::process::Child {
    std::process::Command::new(bin_path("pg-migrate"))
        .env_clear()
        .env("DATABASE_URL", url(db))
        .env("MIGRATIONS_DIR", dir)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn finish(c: std::process::Child) -> (i32, Vec<Value>) {
    let out = c.wait_with_output().unwrap();
    (out.status.code().unwrap_or(-1), json_lines(&out.stderr))
}

fn wait_until(db: &str, q: &str) {
    let t = Instant::now();
    while scalar(db, q) != "t" {
        assert!(t.elapsed() < Duration::from_secs(20), "never: {q}");
        std::thread::sleep(Duration::from_millis(30));
    }
}

#[test]
fn create_index_concurrently_while_a_second_runner_waits() {
    let db = fresh_db("mig_cic");
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "001_items.up.sql", "CREATE TABLE items (id int, a int);\nINSERT INTO items SELECT g, g % 7 FROM generate_series(1, 1000) g;\n");
    write(
        dir.path(),
        "002_index.up.sql",
        "-- pg-migrate: no-transaction\nSELECT pg_sleep(1);\nCREATE INDEX CONCURRENTLY items_a ON items (a);\n-- a; comment\nDO $$ BEGIN PERFORM 1; RAISE NOTICE 'a;b'; END $$;\n",
    );
    write(
        dir.path(),
        "003_after.up.sql",
        "CREATE TABLE after_index (id int);\n",
    );
    let a = spawn(&db, dir.path(), &["up"]);
    wait_until(
        &db,
        "SELECT count(*) > 0 FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(1)%' AND datname = current_database()",
    );
    // The second runner polls for the lock (never blocks in pg_advisory_lock,
    // which the concurrent index build would wait for: a deadlock).
    let b = spawn(&db, dir.path(), &["up", "--lock-wait", "30s"]);
    let t = Instant::now();
    let (code_a, lines_a) = finish(a);
    let (code_b, lines_b) = finish(b);
    // Generous bound (the files take ~1 s): a deadlock would hang far longer.
    assert!(t.elapsed() < Duration::from_secs(20));
    assert_eq!((code_a, code_b), (0, 0), "{lines_a:#?}\n{lines_b:#?}");
    assert_eq!(lines_a.last().unwrap()["applied"], 3);
    assert!(has_message(&lines_b, "Waiting for the migration lock"));
    assert_eq!(lines_b.last().unwrap()["applied"], 0);
    assert_eq!(
        scalar(
            &db,
            "SELECT indisvalid FROM pg_index WHERE indexrelid = 'items_a'::regclass"
        ),
        "t"
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT string_agg(status, ',' ORDER BY version) FROM schema_migrations"
        ),
        "applied,applied,applied"
    );
}

#[test]
fn a_failed_no_transaction_file_leaves_a_failed_row_until_repair() {
    let db = fresh_db("mig_notx");
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "001_t.up.sql", "CREATE TABLE t (id int);\n");
    write(
        dir.path(),
        "002_notx.up.sql",
        "-- pg-migrate: no-transaction\nCREATE INDEX CONCURRENTLY t_id ON t (id);\n\nCREATE FUNCTION f() RETURNS text LANGUAGE sql AS $f$ SELECT 'x;y' $f$;\nSELECT f(),\n       nope;\n",
    );
    write(
        dir.path(),
        "003_later.up.sql",
        "CREATE TABLE later (id int);\n",
    );
    let (_, lines) = run(&mut migrate(&db, dir.path()), 3);
    let last = lines.last().unwrap();
    assert_eq!(last["message"], "Migration failed");
    assert_eq!(last["filename"], "002_notx.up.sql");
    assert_eq!(last["error"], "column \"nope\" does not exist");
    assert_eq!(last["line"], 6);
    assert_eq!(last["column"], 8);
    assert_eq!(last["lineText"], "       nope;");
    assert_eq!(last["applied"], 1);
    assert!(last["suggestion"].as_str().unwrap().contains("repair"));
    // The statements before it stay (no transaction); the row says failed.
    assert_eq!(scalar(&db, "SELECT to_regclass('t_id') IS NOT NULL"), "t");
    assert_eq!(
        scalar(
            &db,
            "SELECT status FROM schema_migrations WHERE version = '2'"
        ),
        "failed"
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT error FROM schema_migrations WHERE version = '2'"
        ),
        "column \"nope\" does not exist"
    );
    // It blocks further runs with a clear message.
    let (_, lines) = run(&mut migrate(&db, dir.path()), 3);
    let last = lines.last().unwrap();
    assert_eq!(last["message"], "Migration previously failed");
    assert_eq!(last["filename"], "002_notx.up.sql");
    let (stdout, _) = run(
        migrate(&db, dir.path()).args(["status", "--json", "--exit-code"]),
        3,
    );
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["failed"], 1);
    run(migrate(&db, dir.path()).arg("verify"), 3);
    run(migrate(&db, dir.path()).arg("down"), 3);
    // Fix the file (re-runnable), repair, re-run.
    write(
        dir.path(),
        "002_notx.up.sql",
        "-- pg-migrate: no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS t_id ON t (id);\nCREATE OR REPLACE FUNCTION f() RETURNS text LANGUAGE sql AS $f$ SELECT 'x;y' $f$;\nSELECT f();\n",
    );
    let (_, lines) = run(
        migrate(&db, dir.path()).args(["repair", "--filename", "002_notx.up.sql"]),
        0,
    );
    assert_eq!(find(&lines, "Failed migration cleared")["level"], "warn");
    let (_, lines) = run(&mut migrate(&db, dir.path()), 0);
    assert_eq!(lines.last().unwrap()["applied"], 2);
    assert_eq!(
        scalar(
            &db,
            "SELECT string_agg(status, ',' ORDER BY version) FROM schema_migrations"
        ),
        "applied,applied,applied"
    );
    // No-transaction files cannot join a single transaction.
    let db2 = fresh_db("mig_notx2");
    let (_, lines) = run(
        migrate(&db2, dir.path()).args(["up", "--single-transaction"]),
        3,
    );
    assert_eq!(lines.last().unwrap()["filename"], "002_notx.up.sql");
}

/// Applies `001_t` (table t), then writes files 002…`last`, each creating a
/// table, except `{alter}_alter`, which alters t.
fn blocked_alter(db: &str, dir: &Path, alter: &str, last: u32) {
    write(dir, "001_t.up.sql", "CREATE TABLE t (id int);\n");
    run(&mut migrate(db, dir), 0);
    for n in 2..=last {
        let v = format!("{n:03}");
        if v == alter {
            write(
                dir,
                &format!("{v}_alter.up.sql"),
                "ALTER TABLE t ADD COLUMN x int;\n",
            );
        } else {
            write(
                dir,
                &format!("{v}_f.up.sql"),
                &format!("CREATE TABLE t_{v} (id int);\n"),
            );
        }
    }
}

/// A session named `app`, idle in a transaction that holds a lock on t;
/// and its pid.
fn hold_t(db: &str, app: &str) -> (postgres::Client, i32) {
    let mut holder = server().client(db).unwrap();
    let pid = holder
        .query_one("SELECT pg_backend_pid()", &[])
        .unwrap()
        .get::<_, i32>(0);
    holder
        .simple_query(&format!(
            "SET application_name = '{app}'; BEGIN; SELECT count(*) FROM t"
        ))
        .unwrap();
    (holder, pid)
}

#[test]
fn lock_timeout_names_the_blocking_session() {
    let db = fresh_db("mig_lt");
    let dir = tempfile::tempdir().unwrap();
    // The ALTER is the middle file of the second query string (003–005).
    blocked_alter(&db, dir.path(), "004", 5);
    // A long transaction holds a lock on t.
    let (mut holder, pid) = hold_t(&db, "long-report");
    let (_, lines) = run(
        migrate(&db, dir.path()).args(["up", "--lock-timeout", "1s"]),
        3,
    );
    let last = lines.last().unwrap();
    assert_eq!(last["sqlstate"], "55P03");
    assert_eq!(last["error"], "canceling statement due to lock timeout");
    assert_eq!(last["filename"], "004_alter.up.sql");
    assert_eq!(last["applied"], 2);
    assert_eq!(last["blockingPid"], pid);
    assert_eq!(last["blockingApplicationName"], "long-report");
    assert!(
        last["blockingQuery"]
            .as_str()
            .unwrap()
            .contains("SELECT count(*) FROM t"),
        "{last}"
    );
    assert!(last["suggestion"]
        .as_str()
        .unwrap()
        .contains(&pid.to_string()));
    assert_eq!(scalar(&db, "SELECT count(*) FROM schema_migrations"), "3");
    holder.simple_query("COMMIT").unwrap();
    run(
        migrate(&db, dir.path()).args(["up", "--lock-timeout", "1s"]),
        0,
    );
    // statement_timeout too.
    write(dir.path(), "006_slow.up.sql", "SELECT pg_sleep(5);\n");
    let (_, lines) = run(
        migrate(&db, dir.path()).args(["up", "--statement-timeout", "200ms"]),
        3,
    );
    let last = lines.last().unwrap();
    assert_eq!(last["sqlstate"], "57014");
    assert!(last["suggestion"]
        .as_str()
        .unwrap()
        .contains("statement-timeout"));
}

#[test]
fn lease_mode_keeps_runners_apart_and_names_the_holder() {
    let db = fresh_db("mig_lease");
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "000_counter.up.sql",
        "CREATE TABLE counter (n int);",
    );
    for i in 1..=20 {
        write(
            dir.path(),
            &format!("{i:03}_step.up.sql"),
            &format!("INSERT INTO counter VALUES ({i});"),
        );
    }
    let kids: Vec<_> = (0..5)
        .map(|_| {
            spawn(
                &db,
                dir.path(),
                &["up", "--lock-mode", "lease", "--table", "ops.migrations"],
            )
        })
        .collect();
    for k in kids {
        let (code, lines) = finish(k);
        assert_eq!(code, 0, "{lines:#?}");
    }
    assert_eq!(scalar(&db, "SELECT count(*) FROM counter"), "20");
    assert_eq!(scalar(&db, "SELECT count(*) FROM ops.migrations"), "21");
    assert_eq!(scalar(&db, "SELECT count(*) FROM ops.migrations_lock"), "0");
    // A live lease held elsewhere: 75, naming it.
    server()
        .execute(&db, "INSERT INTO ops.migrations_lock (id, holder, pid, application_name, expires_at) VALUES (1, 'ci-runner-7:42:abc', 4242, 'deploy', now() + interval '1 hour')")
        .unwrap();
    write(
        dir.path(),
        "021_more.up.sql",
        "INSERT INTO counter VALUES (21);",
    );
    let (_, lines) = run(
        migrate(&db, dir.path()).args([
            "up",
            "--lock-mode",
            "lease",
            "--table",
            "ops.migrations",
            "--lock-wait",
            "300ms",
        ]),
        75,
    );
    let last = lines.last().unwrap();
    assert_eq!(last["holder"], "ci-runner-7:42:abc");
    assert_eq!(last["holderApplicationName"], "deploy");
    // An expired lease (a crashed runner) is taken over.
    server()
        .execute(
            &db,
            "UPDATE ops.migrations_lock SET expires_at = now() - interval '1 second'",
        )
        .unwrap();
    let (_, lines) = run(
        migrate(&db, dir.path()).args(["up", "--lock-mode", "lease", "--table", "ops.migrations"]),
        0,
    );
    assert_eq!(lines.last().unwrap()["applied"], 1);
    assert_eq!(scalar(&db, "SELECT count(*) FROM ops.migrations_lock"), "0");
    // And no lock at all.
    write(
        dir.path(),
        "022_more.up.sql",
        "INSERT INTO counter VALUES (22);",
    );
    run(
        migrate(&db, dir.path()).args(["up", "--lock-mode", "none", "--table", "ops.migrations"]),
        0,
    );
    assert_eq!(scalar(&db, "SELECT count(*) FROM counter"), "22");
}

#[test]
fn dump_schema_writes_the_file_atomically_and_127_without_pg_dump() {
    let db = fresh_db("mig_dump");
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "001_users.up.sql",
        "CREATE TABLE users (id int PRIMARY KEY, email text);\n",
    );
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("schema.sql");
    let pg_dump = server().bindir().join("pg_dump");
    let (_, lines) = run(
        migrate(&db, dir.path())
            .arg("up")
            .arg("--dump-schema")
            .arg(&file)
            .env("PG_DUMP", &pg_dump),
        0,
    );
    assert_eq!(
        find(&lines, "Schema dumped")["file"],
        file.display().to_string()
    );
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("CREATE TABLE public.users"), "{text}");
    // pg-migrate's own tables are left out: the file can be a baseline.
    assert!(!text.contains("schema_migrations"), "{text}");
    assert_eq!(
        std::fs::read_dir(out.path()).unwrap().count(),
        1,
        "no temp file left"
    );
    // pg_dump missing: 127 (after the migrations ran).
    write(
        dir.path(),
        "002_more.up.sql",
        "CREATE TABLE more (id int);\n",
    );
    let (_, lines) = run(
        migrate(&db, dir.path())
            .arg("up")
            .arg("--dump-schema")
            .arg(&file)
            .env("PG_DUMP", "/nonexistent/pg_dump"),
        127,
    );
    assert_eq!(lines.last().unwrap()["exitCode"], 127);
    assert!(lines.last().unwrap()["suggestion"].is_string());
    assert!(!std::fs::read_to_string(&file).unwrap().contains("more"));
}

#[test]
fn wait_waits_for_a_late_server() {
    let late = pgkit::server::TempServer::create(pgkit::server::Options::default()).unwrap();
    let url = late.url("postgres");
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "001_a.up.sql",
        "CREATE TABLE waited (id int);\n",
    );
    // Without --wait: 2 at once.
    let (_, lines) = run(
        cmd("pg-migrate")
            .env("DATABASE_URL", &url)
            .env("MIGRATIONS_DIR", dir.path()),
        2,
    );
    assert_eq!(
        lines.last().unwrap()["message"],
        "Cannot connect to the database"
    );
    let child = std::process::Command::new(bin_path("pg-migrate"))
        .env_clear()
        .env("DATABASE_URL", &url)
        .env("DB_TIMEOUT", "60000")
        .env("MIGRATIONS_DIR", dir.path())
        .args(["up", "--wait"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(800));
    late.start_server().unwrap();
    let (code, lines) = finish(child);
    assert_eq!(code, 0, "{lines:#?}");
    assert!(has_message(
        &lines,
        "Postgres not ready, retrying with backoff"
    ));
    assert_eq!(lines.last().unwrap()["applied"], 1);
    // A bad DB_TIMEOUT is a configuration error.
    run(
        cmd("pg-migrate")
            .env("DATABASE_URL", &url)
            .env("DB_TIMEOUT", "soon")
            .env("MIGRATIONS_DIR", dir.path())
            .arg("--wait"),
        78,
    );
}

#[test]
fn sigterm_while_waiting_for_the_lock_exits_143_and_a_live_lease_is_renewed() {
    let db = fresh_db("mig_term");
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "001_slow.up.sql",
        "CREATE TABLE slow (id int);\nSELECT pg_sleep(2.5);\n",
    );
    // A lease of 1 s outlives itself only through its heartbeat.
    let a = spawn(
        &db,
        dir.path(),
        &["up", "--lock-mode", "lease", "--lease-ttl", "1s"],
    );
    wait_until(&db, "SELECT count(*) > 0 FROM pg_stat_activity WHERE query LIKE '%pg_sleep(2.5)%' AND application_name = 'pg-migrate' AND datname = current_database()");
    std::thread::sleep(Duration::from_millis(1200));
    let (_, lines) = run(
        migrate(&db, dir.path()).args(["up", "--lock-mode", "lease", "--lock-wait", "200ms"]),
        75,
    );
    assert!(lines.last().unwrap()["holder"]
        .as_str()
        .unwrap()
        .contains(':'));
    let b = spawn(
        &db,
        dir.path(),
        &["up", "--lock-mode", "lease", "--lock-wait", "60s"],
    );
    std::thread::sleep(Duration::from_millis(300));
    unsafe { libc::kill(b.id() as i32, libc::SIGTERM) };
    let (code_b, lines_b) = finish(b);
    assert_eq!(code_b, 143, "{lines_b:#?}");
    assert_eq!(lines_b.last().unwrap()["exitCode"], 143);
    let (code_a, lines_a) = finish(a);
    assert_eq!(code_a, 0, "{lines_a:#?}");
    assert_eq!(scalar(&db, "SELECT count(*) FROM schema_migrations"), "1");
}

/// PgBouncer in transaction pooling mode in front of the shared server, when
/// pgbouncer is installed (Debian: apt-get install pgbouncer); run as the
/// postgres user when we are root, as the server is.
struct Bouncer(std::process::Child);

impl Drop for Bouncer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn pgbouncer(pool_size: u32) -> Option<(Bouncer, u16, tempfile::TempDir)> {
    // Round robin: a client's next transaction goes to the server
    // connection idle the longest, so anything pg-migrate left in a session
    // (a prepared statement, a setting) is missing from the next one.
    let bin = ["/usr/sbin/pgbouncer", "/usr/bin/pgbouncer"]
        .into_iter()
        .find(|p| Path::new(p).exists())?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let users = dir.path().join("users.txt");
    std::fs::write(&users, "\"postgres\" \"\"\n").unwrap();
    let ini = dir.path().join("pgbouncer.ini");
    std::fs::write(
        &ini,
        format!(
            "[databases]\n* = host=127.0.0.1 port={}\n[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\nauth_type = trust\nauth_file = {}\npool_mode = transaction\nserver_round_robin = 1\ndefault_pool_size = {pool_size}\nmax_client_conn = 200\n",
            server().port(),
            users.display()
        ),
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        for p in [dir.path(), users.as_path(), ini.as_path()] {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
    }
    let mut c = std::process::Command::new(bin);
    if unsafe { libc::geteuid() } == 0 {
        // pgbouncer refuses to run as root: run it as postgres, as the server.
        use std::os::unix::process::CommandExt;
        let pw = unsafe { libc::getpwnam(c"postgres".as_ptr()) };
        assert!(!pw.is_null(), "no postgres user");
        let (uid, gid) = unsafe { ((*pw).pw_uid, (*pw).pw_gid) };
        c.uid(uid).gid(gid);
    }
    let child = Bouncer(
        c.arg(&ini)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?,
    );
    let t = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "pgbouncer did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Some((child, port, dir))
}

#[test]
fn lease_mode_works_through_pgbouncer_transaction_pooling() {
    let Some((_bouncer, port, _dir)) = pgbouncer(2) else {
        eprintln!("pgbouncer is not installed: skipping the PgBouncer case");
        return;
    };
    let db = fresh_db("mig_bouncer");
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "000_counter.up.sql",
        "CREATE TABLE counter (n int);",
    );
    for i in 1..=20 {
        write(
            dir.path(),
            &format!("{i:03}_step.up.sql"),
            &format!("INSERT INTO counter VALUES ({i});"),
        );
    }
    let via = format!("postgresql://postgres@127.0.0.1:{port}/{db}?sslmode=disable");
    // Five runners share two server connections: session advisory locks
    // would mean nothing here; the lease keeps them apart.
    let kids: Vec<_> = (0..5)
        .map(|_| {
            std::process::Command::new(bin_path("pg-migrate"))
                .env_clear()
                .env("DATABASE_URL", &via)
                .env("MIGRATIONS_DIR", dir.path())
                .args(["up", "--lock-mode", "lease"])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut applied = 0;
    for k in kids {
        let (code, lines) = finish(k);
        assert_eq!(code, 0, "{lines:#?}");
        applied += lines.last().unwrap()["applied"].as_u64().unwrap();
    }
    assert_eq!(applied, 21);
    assert_eq!(scalar(&db, "SELECT count(*) FROM counter"), "20");
    assert_eq!(scalar(&db, "SELECT count(*) FROM schema_migrations"), "21");
    // One runner, the pool's two server connections taking turns: each
    // no-transaction file (four round trips) ends the open transaction, and
    // the files after it reach the other connection, where nothing of the
    // strings before it is (a statement prepared there, say).
    for i in 21..=30 {
        let body = if i % 3 == 0 {
            format!("-- pg-migrate: no-transaction\nINSERT INTO counter VALUES ({i});\nSELECT 1;\n")
        } else {
            format!("INSERT INTO counter VALUES ({i});")
        };
        write(dir.path(), &format!("{i:03}_step.up.sql"), &body);
    }
    let (_, lines) = run(
        cmd("pg-migrate")
            .env("DATABASE_URL", &via)
            .env("MIGRATIONS_DIR", dir.path())
            .args(["up", "--lock-mode", "lease"]),
        0,
    );
    assert_eq!(lines.last().unwrap()["applied"], 10, "{lines:#?}");
    assert_eq!(scalar(&db, "SELECT count(*) FROM counter"), "30");
    // status and a failing file's line and column work through it too.
    write(
        dir.path(),
        "031_bad.up.sql",
        "SELECT 1;\nCRATE TABLE x (id int);\n",
    );
    let (_, lines) = run(
        cmd("pg-migrate")
            .env("DATABASE_URL", &via)
            .env("MIGRATIONS_DIR", dir.path())
            .args(["up", "--lock-mode", "lease"]),
        3,
    );
    let last = lines.last().unwrap();
    assert_eq!(
        (last["line"].as_u64(), last["column"].as_u64()),
        (Some(2), Some(1))
    );
    run(
        cmd("pg-migrate")
            .env("DATABASE_URL", &via)
            .env("MIGRATIONS_DIR", dir.path())
            .args(["status", "--exit-code"]),
        3,
    );
}

#[test]
fn a_migration_waiting_for_a_lock_says_who_blocks_it() {
    let db = fresh_db("mig_blocked");
    let dir = tempfile::tempdir().unwrap();
    // The ALTER is the middle file of the third query string (005–007):
    // the warning still names it, not the string's first file.
    blocked_alter(&db, dir.path(), "006", 7);
    let (mut holder, pid) = hold_t(&db, "nightly-report");
    let child = spawn(&db, dir.path(), &["up"]);
    wait_until(&db, "SELECT count(*) > 0 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND application_name = 'pg-migrate' AND datname = current_database()");
    // The warning comes once the watcher has seen it wait a second (it
    // looks every 250 ms): hold the lock well past that.
    std::thread::sleep(Duration::from_millis(2500));
    holder.simple_query("COMMIT").unwrap();
    let (code, lines) = finish(child);
    assert_eq!(code, 0, "{lines:#?}");
    let w = find(&lines, "Migration waiting for a lock");
    assert_eq!(w["level"], "warn");
    assert_eq!(w["filename"], "006_alter.up.sql");
    assert_eq!(w["blockingPid"], pid);
    assert_eq!(w["blockingApplicationName"], "nightly-report");
    assert_eq!(w["blockingState"], "idle in transaction");
    assert_eq!(lines.last().unwrap()["applied"], 6);
}
