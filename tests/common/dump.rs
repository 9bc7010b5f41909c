//! pg-dump-rotate's test helpers, shared by its test files.

use super::*;
use serde_json::Value;
use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};

pub const TOOL: &str = "pg-dump-rotate";

/// A program of the shared server's PostgreSQL installation.
pub fn pg_bin(name: &str) -> PathBuf {
    server().bindir().join(name)
}

/// The tool with DUMP_DIR set and no program override (PG_DUMP, PG_RESTORE,
/// PSQL) inherited; no PG_BINDIR either, so no server is started: enough for
/// `list` and `purge`, which run no PostgreSQL program.
pub fn tool_offline(dir: &Path) -> assert_cmd::Command {
    let mut c = cmd(TOOL);
    c.env("DUMP_DIR", dir)
        .env_remove("PG_DUMP")
        .env_remove("PG_RESTORE")
        .env_remove("PSQL");
    c
}

/// A tool command with PG_BINDIR pointing at the server's binaries.
pub fn tool(dir: &Path) -> assert_cmd::Command {
    let mut c = tool_offline(dir);
    c.env("PG_BINDIR", server().bindir());
    c
}

/// As `tool`, spawned with stdout and stderr piped (for tests that signal
/// it); `env` sets further variables.
pub fn spawn_tool<S: AsRef<OsStr>>(
    dir: &Path,
    args: impl IntoIterator<Item = S>,
    env: &[(&str, &Path)],
) -> Child {
    let mut c = std_cmd(TOOL);
    c.env("PG_BINDIR", server().bindir())
        .env("DUMP_DIR", dir)
        .env_remove("PG_DUMP")
        .env_remove("PG_RESTORE")
        .env_remove("PSQL")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        c.env(k, v);
    }
    c.spawn().unwrap()
}

/// Writes an executable shell script (a fake or wrapped PostgreSQL program).
pub fn write_script(path: &Path, body: &str) -> PathBuf {
    fs::write(path, body).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
    path.to_path_buf()
}

/// A stand-in for the server's `program` (pg_dump, pg_restore) in `dir`: it
/// answers `--version` as the real one does, then runs the shell `body`.
pub fn wrap_program(dir: &Path, program: &str, body: &str) -> PathBuf {
    write_script(
        &dir.join(program),
        &format!(
            "#!/bin/sh\nif [ \"$1\" = --version ]; then exec {} --version; fi\n{body}",
            pg_bin(program).display()
        ),
    )
}

/// As `wrap_program`, with `before` run ahead of the real program (which
/// gets the arguments).
pub fn wrap_program_exec(dir: &Path, program: &str, before: &str) -> PathBuf {
    wrap_program(
        dir,
        program,
        &format!("{before}exec {} \"$@\"\n", pg_bin(program).display()),
    )
}

/// `PATH` + `suffix` (`.sha256`, `.json`: a dump's sidecar and manifest).
pub fn with_suffix(p: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}{suffix}", p.display()))
}

/// A dump's manifest (`FILE.json`).
pub fn manifest(file: &Path) -> Value {
    serde_json::from_slice(&fs::read(with_suffix(file, ".json")).unwrap()).unwrap()
}

/// Rewrites a dump's manifest with `edit`.
pub fn edit_manifest(file: &Path, edit: impl FnOnce(&mut Value)) {
    let mut m = manifest(file);
    edit(&mut m);
    fs::write(
        with_suffix(file, ".json"),
        serde_json::to_string_pretty(&m).unwrap(),
    )
    .unwrap();
}

/// Recomputes a file dump's sidecar and manifest after its bytes changed,
/// as someone covering their tracks (or a bug writing both) would.
pub fn reseal(file: &Path) {
    let bytes = fs::read(file).unwrap();
    let digest = sha256_hex(&bytes);
    let name = file.file_name().unwrap().to_str().unwrap();
    fs::write(with_suffix(file, ".sha256"), format!("{digest}  {name}\n")).unwrap();
    edit_manifest(file, |m| {
        m["sha256"] = digest.clone().into();
        m["size"] = bytes.len().into();
    });
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The path the tool printed on stdout.
pub fn stdout_path(out: &Output) -> PathBuf {
    PathBuf::from(String::from_utf8(out.stdout.clone()).unwrap().trim())
}

/// The names in a directory, sorted (empty when it does not exist).
pub fn names(dir: &Path) -> Vec<String> {
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

/// A dump of `db` that succeeds; returns its path and log lines (asserting
/// "Dump written", then "Dump complete" with exit code 0 naming the file).
pub fn dump_ok_lines(dir: &Path, db: &str, extra: &[&str]) -> (PathBuf, Vec<Value>) {
    let out = tool(dir)
        .args(["dump", "--dsn", &url(db)])
        .args(extra)
        .output()
        .unwrap();
    assert_success(&out);
    let lines = json_lines(&out.stderr);
    assert!(has_message(&lines, "Dump written"));
    let last = lines.last().unwrap();
    assert_eq!(last["message"], "Dump complete");
    assert_eq!(last["exitCode"], 0);
    let path = stdout_path(&out);
    assert_eq!(last["file"], path.display().to_string());
    (path, lines)
}

/// As `dump_ok_lines`, the path only.
pub fn dump_ok(dir: &Path, db: &str, extra: &[&str]) -> PathBuf {
    dump_ok_lines(dir, db, extra).0
}

/// `list --json`, asserting it succeeds.
pub fn list_json(dir: &Path) -> Vec<Value> {
    let out = tool_offline(dir).args(["list", "--json"]).output().unwrap();
    assert_success(&out);
    serde_json::from_slice::<Value>(&out.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// `verify FILE`.
pub fn verify(dir: &Path, file: &Path) -> Output {
    tool(dir).arg("verify").arg(file).output().unwrap()
}

/// `verify --all`, asserting it succeeds; returns its stdout.
pub fn verify_all_ok(dir: &Path) -> String {
    let out = tool(dir).args(["verify", "--all"]).output().unwrap();
    assert_success(&out);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `verify --all` passes, reporting `file` (the only dump) as OK.
pub fn assert_verifies(dir: &Path, file: &Path) {
    assert_eq!(verify_all_ok(dir).trim(), format!("{}: OK", file.display()));
}

/// `sha256sum -c` accepts the dump's sidecar (run beside it).
pub fn assert_sidecar_checks(file: &Path) {
    let check = std::process::Command::new("sha256sum")
        .arg("-c")
        .arg(format!(
            "{}.sha256",
            file.file_name().unwrap().to_str().unwrap()
        ))
        .current_dir(file.parent().unwrap())
        .output()
        .unwrap();
    assert!(check.status.success(), "{check:?}");
}

/// `restore [FLAGS] FILE --dsn URL(db)`: into an existing database.
pub fn restore_into(dir: &Path, file: &Path, db: &str, flags: &[&str]) -> Output {
    tool(dir)
        .arg("restore")
        .args(flags)
        .arg(file)
        .args(["--dsn", &url(db)])
        .output()
        .unwrap()
}

/// `restore FILE --dsn URL(postgres) --db TARGET --create-db EXTRA`.
pub fn restore_new(dir: &Path, file: &Path, target: &str, extra: &[&str]) -> Output {
    tool(dir)
        .arg("restore")
        .arg(file)
        .args(["--dsn", &url("postgres"), "--db", target, "--create-db"])
        .args(extra)
        .output()
        .unwrap()
}

/// The restore was refused (5) because the target holds objects; returns
/// the summary line.
pub fn assert_refused_non_empty(out: &Output) -> Value {
    assert_exit(out, 5);
    let last = last_line(&out.stderr);
    assert_eq!(
        last["message"],
        "Refusing to restore into a non-empty database"
    );
    last
}

/// The run ended on SIGINT: 130 and the "Interrupted by SIGINT" error line.
pub fn assert_interrupted(out: &Output) {
    assert_exit(out, 130);
    let lines = json_lines(&out.stderr);
    let last = lines.last().unwrap();
    assert_eq!(last["message"], "Interrupted by SIGINT", "{last}");
    assert_eq!(last["exitCode"], 130);
    assert_eq!(last["level"], "error");
    assert_eq!(last["signal"], "SIGINT");
}

/// Tables, a view, a foreign key, an index and a large object.
pub fn seed(db: &str) {
    server()
        .execute(
            db,
            "CREATE TABLE items (id int PRIMARY KEY, name text, price numeric);
             INSERT INTO items SELECT g, 'item ' || g, g * 1.5 FROM generate_series(1, 5000) g;
             CREATE TABLE notes (id serial PRIMARY KEY, body text);
             INSERT INTO notes (body) SELECT md5(g::text) FROM generate_series(1, 2000) g;
             CREATE VIEW cheap AS SELECT * FROM items WHERE price < 10;
             CREATE TABLE orders (id int PRIMARY KEY, item int REFERENCES items, qty int);
             INSERT INTO orders SELECT g, g % 5000 + 1, g % 7 FROM generate_series(1, 3000) g;
             CREATE INDEX orders_item ON orders (item);
             SELECT lo_from_bytea(0, convert_to(repeat('large object ', 1000), 'UTF8'));",
        )
        .unwrap();
}

/// One larger table (20,000 rows) and a view on it.
pub fn seed_items(db: &str) {
    server()
        .execute(
            db,
            "CREATE TABLE items (id int PRIMARY KEY, name text);
             INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 20000) g;
             CREATE VIEW few AS SELECT * FROM items WHERE id < 10;",
        )
        .unwrap();
}

/// A checksum of a table's contents, in a stable order.
pub fn table_sum(db: &str, table: &str) -> String {
    let mut c = server().client(db).unwrap();
    c.query_one(
        &format!("SELECT count(*)::text || ':' || coalesce(md5(string_agg(t::text, ',' ORDER BY t::text)), '') FROM {table} t"),
        &[],
    )
    .unwrap()
    .get(0)
}

/// Each of `tables` holds the same rows in `db` and `target`.
pub fn assert_same_tables(db: &str, target: &str, tables: &[&str]) {
    for t in tables {
        assert_eq!(table_sum(db, t), table_sum(target, t), "{t}");
    }
}

/// How many relations the database holds outside the system schemas.
pub fn relations(db: &str) -> i64 {
    let mut c = server().client(db).unwrap();
    c.query_one(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'",
        &[],
    )
    .unwrap()
    .get(0)
}

/// A fresh database (`prefix`) filled by `seed`, and an empty dump directory.
pub fn seeded(prefix: &str, seed: fn(&str)) -> (String, tempfile::TempDir) {
    let db = fresh_db(prefix);
    seed(&db);
    (db, tempfile::tempdir().unwrap())
}

/// The error lines relaying `program`'s stderr ("pg_dump output", level
/// error).
pub fn relayed_errors<'a>(lines: &'a [Value], program: &str) -> Vec<&'a Value> {
    lines_with(lines, &format!("{program} output"))
        .into_iter()
        .filter(|l| l["level"] == "error")
        .collect()
}

/// `list --json` shows `name` as the only dump, its checksum ok.
pub fn assert_lists_only(dir: &Path, name: &str) {
    let rows = list_json(dir);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["file"], name);
    assert_eq!(rows[0]["checksum"], "ok");
    assert_eq!(rows[0]["kind"], "dump");
}
