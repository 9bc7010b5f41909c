//! The end-to-end test harness: a throwaway PostgreSQL server per test binary
//! (pgkit's own `server` module, the same code path as pg-tmp), fresh
//! databases, the built binaries with a clean environment, and JSON-line
//! checks on stderr.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use pgkit::server::{Options, TempServer};
use serde_json::Value;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

/// The server shared by the tests of one test binary (started on first use),
/// from the binaries `server_bindir` chooses.
pub fn server() -> &'static TempServer {
    static S: OnceLock<TempServer> = OnceLock::new();
    S.get_or_init(|| {
        TempServer::start(Options {
            bindir: Some(server_bindir().clone()),
            ..Default::default()
        })
        .expect("start the throwaway server")
    })
}

/// The server binaries of this run: PG_BINDIR (one variable chooses the
/// major for the whole run; .ci/run sets it per major), else what the
/// library finds; on a machine with no PostgreSQL at all, the newest stable
/// major installed into pg-tmp's cache (unless PGKIT_OFFLINE), as `pg-tmp
/// start` does.
pub fn server_bindir() -> &'static std::path::PathBuf {
    static B: OnceLock<std::path::PathBuf> = OnceLock::new();
    B.get_or_init(|| {
        let d = find_or_install_bindir();
        put_clients_on_path(&d);
        d
    })
}

/// On a machine without PostgreSQL's client on PATH (a fresh one), the
/// tests' psql and pg_dump are the server's: its bin/ is put first on PATH
/// (std serialises its environment access).
fn put_clients_on_path(bindir: &std::path::Path) {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _g = LOCK.lock();
    let path = std::env::var_os("PATH").unwrap_or_default();
    if !std::env::split_paths(&path).any(|p| p.join("psql").is_file()) {
        let mut dirs: Vec<_> = std::env::split_paths(&path).collect();
        dirs.insert(0, bindir.to_path_buf());
        std::env::set_var("PATH", std::env::join_paths(dirs).unwrap());
    }
}

/// As `server_bindir` for the tools a test runs, without installing
/// anything: a test that runs psql through pg-tmp finds it on PATH.
fn clients_on_path() {
    let path = std::env::var_os("PATH").unwrap_or_default();
    if std::env::split_paths(&path).any(|p| p.join("psql").is_file()) {
        return;
    }
    if let Ok(d) = pgkit::server::find_bindir(None) {
        put_clients_on_path(&d);
    }
}

fn find_or_install_bindir() -> std::path::PathBuf {
    match pgkit::server::find_bindir(None) {
        Ok(d) => d,
        Err(e) if std::env::var_os("PG_BINDIR").is_none_or(|v| v.is_empty()) => {
            let offline = pgkit::pginstall::offline(false).unwrap();
            eprintln!("note: {e}; installing the newest PostgreSQL into pg-tmp's cache");
            pgkit::pginstall::install(None, offline, Some("the tests found no PostgreSQL"))
                .expect("install PostgreSQL for the tests")
                .cached
                .bindir()
        }
        Err(e) => panic!("{e}"),
    }
}

/// The major version of the run's server (version-dependent tests branch
/// on it explicitly).
pub fn major() -> u32 {
    static M: OnceLock<u32> = OnceLock::new();
    *M.get_or_init(|| pgkit::server::major_of(server_bindir()).expect("postgres --version"))
}

/// The bin directory of PostgreSQL `major` (installed or in pg-tmp's
/// cache, which .ci/run fills with 14 to 18 before the tests). When it is
/// missing: a failure if PGKIT_TEST_MAJORS lists it (CI), else a note and
/// `None` (the caller skips, saying so).
pub fn bindir_for(major: u32) -> Option<std::path::PathBuf> {
    if let Ok(d) = pgkit::server::find_bindir(Some(major)) {
        return Some(d);
    }
    let required = std::env::var("PGKIT_TEST_MAJORS").unwrap_or_default();
    if required
        .split([',', ' '])
        .any(|m| m.trim() == major.to_string())
    {
        panic!("PostgreSQL {major} is required (PGKIT_TEST_MAJORS={required}) but not installed: pg-tmp install {major}");
    }
    eprintln!(
        "note: PostgreSQL {major} not installed or cached; check skipped (pg-tmp install {major}; CI installs 14-18)"
    );
    None
}

/// pg-tmp's cache as this process sees it, handed to the tools a test runs
/// (their HOME is an empty directory).
fn xdg_cache_home() -> std::path::PathBuf {
    let root = pgkit::pginstall::cache_root();
    root.parent()
        .and_then(|p| p.parent())
        .map(|p| p.to_path_buf())
        .unwrap_or(root)
}

/// A fresh, empty database on the shared server; returns its name.
pub fn fresh_db(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "{}_{}_{}",
        prefix,
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    );
    server().create_database(&name).expect("create database");
    name
}

/// pgkit's own variables that would leak the developer's setup into a test.
const TOOL_VARS: &[&str] = &[
    "LOG_LEVEL",
    "LOG_FORMAT",
    "DB_TIMEOUT",
    "SKIP_SEED",
    "MIGRATIONS_DIR",
    "MIGRATIONS_TABLE",
    "SEEDS_DIR",
    "DUMP_DIR",
    "DOTENV_FILE",
];

/// Every variable a test clears: libpq's (the library's list) and pgkit's.
pub fn cleared_vars() -> impl Iterator<Item = &'static str> {
    pgkit::conn::LIBPQ_VARS.iter().chain(TOOL_VARS).copied()
}

/// The path of a built binary.
pub fn bin_path(name: &str) -> std::path::PathBuf {
    let var = format!("CARGO_BIN_EXE_{name}");
    std::env::var_os(&var)
        .map(Into::into)
        .unwrap_or_else(|| panic!("{var} is not set"))
}

/// A command for a built binary with a clean environment (no PG* leaks) and
/// HOME pointing at an empty temp dir (no stray ~/.pgpass).
pub fn cmd(name: &str) -> assert_cmd::Command {
    clients_on_path();
    let mut c = assert_cmd::Command::new(bin_path(name));
    for v in cleared_vars() {
        c.env_remove(v);
    }
    // The same cache of PostgreSQL versions, and never a download: a test
    // that installs points PGKIT_PYPI_URL at its own loopback index.
    c.env("XDG_CACHE_HOME", xdg_cache_home())
        .env("PGKIT_OFFLINE", "1")
        .env_remove("PGKIT_PYPI_URL");
    c.env("HOME", empty_home());
    c
}

/// An empty directory used as HOME.
pub fn empty_home() -> &'static std::path::Path {
    static H: OnceLock<tempfile::TempDir> = OnceLock::new();
    H.get_or_init(|| tempfile::tempdir().expect("temp home"))
        .path()
}

/// A URL for `db` on the shared server over TCP.
pub fn url(db: &str) -> String {
    server().url(db)
}

/// Parses stderr as JSON lines, asserting each has the fixed keys in order.
pub fn json_lines(stderr: &[u8]) -> Vec<Value> {
    let text = String::from_utf8_lossy(stderr);
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Value = serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("stderr line is not JSON ({e}): {l}"));
            let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
            assert!(
                keys.len() >= 4 && keys[..4] == ["timestamp", "level", "tool", "message"],
                "fixed keys first: {l}"
            );
            v
        })
        .collect()
}

/// The last log line (the summary).
pub fn last_line(stderr: &[u8]) -> Value {
    json_lines(stderr).pop().expect("at least one log line")
}

/// Whether any line has this message.
pub fn has_message(lines: &[Value], message: &str) -> bool {
    lines.iter().any(|l| l["message"] == message)
}

/// A stdout whose reader is already gone (as under `| head -c1` once head
/// has exited): every write fails with EPIPE.
pub fn closed_stdout() -> std::process::Stdio {
    use std::os::fd::FromRawFd;
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: pipe(2) fills two descriptors we then own.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0, "pipe");
    // SAFETY: closing the read end we own; the write end is handed over.
    unsafe { libc::close(fds[0]) };
    // SAFETY: fds[1] is an open descriptor nobody else owns.
    std::process::Stdio::from(unsafe { std::os::fd::OwnedFd::from_raw_fd(fds[1]) })
}

/// As `cmd`, but a plain `std::process::Command`, for tests that spawn the
/// binary and talk to it while it runs (signals, pipes).
/// Spawns `cmd` (a `pg-tmp run`) with stderr piped and reads its lines up
/// to `Server started`: the child, its stderr from there on, the lines
/// read (with their line ends), and the started line. The caller waits for
/// the child.
#[allow(clippy::zombie_processes)]
pub fn spawn_until_started(
    cmd: &mut std::process::Command,
) -> (
    std::process::Child,
    std::io::BufReader<std::process::ChildStderr>,
    Vec<String>,
    Value,
) {
    use std::io::BufRead;
    let mut child = cmd.stderr(std::process::Stdio::piped()).spawn().unwrap();
    let mut reader = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut lines = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        assert!(
            reader.read_line(&mut line).unwrap() > 0,
            "no Server started line in {lines:?}"
        );
        lines.push(line.clone());
        let v: Value = serde_json::from_str(&line).unwrap();
        if v["message"] == "Server started" {
            return (child, reader, lines, v);
        }
    }
}

pub fn std_cmd(name: &str) -> std::process::Command {
    clients_on_path();
    let mut c = std::process::Command::new(bin_path(name));
    for v in cleared_vars() {
        c.env_remove(v);
    }
    c.env("XDG_CACHE_HOME", xdg_cache_home())
        .env("PGKIT_OFFLINE", "1")
        .env_remove("PGKIT_PYPI_URL");
    c.env("HOME", empty_home());
    c
}

pub mod migrate;

pub mod dump;

/// Asserts the run exited 0, showing its stderr otherwise.
pub fn assert_success(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Asserts the run exited with `code`, showing its stderr otherwise.
pub fn assert_exit(out: &std::process::Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Polls `f` every 20 ms until it holds; fails the test after `secs` seconds.
pub fn wait_for(what: &str, secs: u64, f: impl Fn() -> bool) {
    let end = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while !f() {
        assert!(
            std::time::Instant::now() < end,
            "timed out waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Whether process `pid` exists and is not a zombie.
pub fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| !s.contains(") Z "))
        .unwrap_or(false)
}

/// Sends `sig` to `pid` (a process the test started).
pub fn signal(pid: i32, sig: libc::c_int) {
    // SAFETY: kill(2) on a process this test started.
    unsafe { libc::kill(pid, sig) };
}

/// Sends SIGINT to a spawned child.
pub fn sigint(child: &std::process::Child) {
    signal(child.id() as i32, libc::SIGINT);
}

/// A throwaway server of its own whose superuser needs `password` (SCRAM).
pub fn server_with_password(password: &str) -> TempServer {
    TempServer::start(Options {
        password: Some(password.into()),
        ..Default::default()
    })
    .expect("start a server with a password")
}

/// The lines with this message.
pub fn lines_with<'a>(lines: &'a [Value], message: &str) -> Vec<&'a Value> {
    lines.iter().filter(|l| l["message"] == message).collect()
}

/// The first line with this message; fails the test (showing all lines)
/// when there is none.
pub fn first_with<'a>(lines: &'a [Value], message: &str) -> &'a Value {
    lines
        .iter()
        .find(|l| l["message"] == message)
        .unwrap_or_else(|| panic!("no {message:?} line in {lines:?}"))
}

/// The psql-vs-pgkit connection harness.
pub mod conn;

/// Runs a command and hands back its output once its exit status is checked
/// (assert_cmd's `.assert().code(n).get_output().clone()` in one call).
pub trait RunExt {
    /// Runs the command, asserts it exited with `code`, returns its output.
    fn exits(&mut self, code: i32) -> std::process::Output;
    /// Runs the command, asserts it succeeded, returns its output.
    fn succeeds(&mut self) -> std::process::Output;
}

impl RunExt for assert_cmd::Command {
    fn exits(&mut self, code: i32) -> std::process::Output {
        self.assert().code(code).get_output().clone()
    }
    fn succeeds(&mut self) -> std::process::Output {
        self.assert().success().get_output().clone()
    }
}

/// pg-wait's helpers (pg_wait, warns).
pub mod wait;

/// A loopback package index for `pg-tmp install`.
pub mod pypi;

/// The first column of the one row `q` returns on the shared server's `db`.
pub fn query_value<T: for<'a> postgres::types::FromSql<'a>>(db: &str, q: &str) -> T {
    server()
        .client(db)
        .unwrap()
        .query_one(q, &[])
        .unwrap()
        .get(0)
}

/// Every tool the workspace builds.
pub const TOOLS: &[&str] = &[
    "pg-wait",
    "pg-migrate",
    "pg-seed",
    "pg-dotenv",
    "pg-dump-rotate",
    "pg-tmp",
];

/// Asserts the run's last line says the PostgreSQL server binaries are
/// missing and suggests the package to install.
pub fn assert_no_server_binaries(stderr: &[u8]) {
    let last = last_line(stderr);
    assert_eq!(last["message"], "PostgreSQL server binaries not found");
    assert!(last["suggestion"]
        .as_str()
        .unwrap()
        .contains("apt-get install postgresql"));
}

/// A schema from tests/fixtures/schemas (public samples, their sources and
/// licences noted in each file).
/// pagila's schema as published targets PostgreSQL 18 (`uuidv7()`,
/// VIRTUAL generated columns); for older servers those two are swapped for
/// their nearest equivalents, and nothing else changes.
pub fn pagila_for(major: i32) -> String {
    let s = schema_fixture("pagila.sql");
    if major >= 18 {
        s
    } else {
        s.replace("uuidv7()", "gen_random_uuid()")
            .replace(") VIRTUAL", ") STORED")
    }
}

pub fn schema_fixture(name: &str) -> String {
    std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/schemas")
            .join(name),
    )
    .unwrap()
}
