//! pg-tmp under kills and other namespaces (issue 16): whatever state a
//! SIGKILL of `start` leaves, `stop --dir` and `prune` remove it; links are
//! removed only when their server is proven gone.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

/// A private place for servers (`PGKIT_TMPDIR`) and for the registry
/// (`TMPDIR`): `prune` here never sees another test's servers.
struct Sandbox {
    _tmp: tempfile::TempDir,
    parent: PathBuf,
    tmpdir: PathBuf,
}

impl Sandbox {
    fn new() -> Sandbox {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        // As root the server runs as postgres, which must reach it.
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let parent = tmp.path().join("servers");
        let tmpdir = tmp.path().join("tmp");
        std::fs::create_dir(&parent).unwrap();
        std::fs::create_dir(&tmpdir).unwrap();
        std::fs::set_permissions(&tmpdir, std::fs::Permissions::from_mode(0o1777)).unwrap();
        Sandbox {
            _tmp: tmp,
            parent,
            tmpdir,
        }
    }

    fn cmd(&self) -> assert_cmd::Command {
        let mut c = cmd("pg-tmp");
        c.env("PGKIT_TMPDIR", &self.parent)
            .env("TMPDIR", &self.tmpdir);
        c
    }

    fn std_cmd(&self) -> std::process::Command {
        let mut c = std_cmd("pg-tmp");
        c.env("PGKIT_TMPDIR", &self.parent)
            .env("TMPDIR", &self.tmpdir);
        c
    }

    /// The server directories in the sandbox.
    fn dirs(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(&self.parent)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        v.sort();
        v
    }

    fn registry(&self) -> PathBuf {
        self.tmpdir.join("pgkit-tmp-registry")
    }

    fn links(&self) -> Vec<PathBuf> {
        std::fs::read_dir(self.registry())
            .map(|rd| rd.map(|e| e.unwrap().path()).collect())
            .unwrap_or_default()
    }
}

/// Every process whose working directory is under `root` (a postmaster
/// runs in its data directory).
fn processes_under(root: &Path) -> Vec<(i32, PathBuf)> {
    let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let mut v = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        if let Ok(cwd) = std::fs::read_link(format!("/proc/{pid}/cwd")) {
            if cwd.starts_with(&root) {
                v.push((pid, cwd));
            }
        }
    }
    v
}

/// Starts `pg-tmp start` (with `args`) and SIGKILLs it after `delay`.
fn kill_start_after(sb: &Sandbox, args: &[&str], delay: Duration) {
    let mut child = sb
        .std_cmd()
        .arg("start")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(delay);
    child.kill().unwrap();
    // Reaped, so that its pid is free (a zombie's pid still "runs").
    child.wait().unwrap();
}

/// A started server: its directory and URL.
fn start(sb: &Sandbox) -> (PathBuf, String) {
    let out = sb.cmd().arg("start").succeeds();
    let summary = last_line(&out.stderr);
    (
        PathBuf::from(summary["dir"].as_str().unwrap()),
        String::from_utf8(out.stdout).unwrap().trim().to_string(),
    )
}

#[test]
fn prune_removes_whatever_a_killed_start_left_and_keeps_started_servers() {
    let sb = Sandbox::new();
    // A server started properly: the user's, prune must leave it alone.
    let (good, good_url) = start(&sb);
    for ms in [20u64, 80, 150, 400] {
        kill_start_after(&sb, &[], Duration::from_millis(ms));
    }
    // Each of those left a directory the registry or PGKIT_TMPDIR shows,
    // with a state file (written before anything slow) or a name saying
    // whose it is.
    for d in sb.dirs() {
        let name = d.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with("pgkit-server-"), "{name}");
    }
    // A start that finished before its kill handed its server over: that
    // one is the user's too.
    let finished: Vec<PathBuf> = sb
        .dirs()
        .into_iter()
        .filter(|d| stage(d).as_deref() == Some("ready"))
        .collect();
    let out = sb.cmd().arg("prune").succeeds();
    let last = last_line(&out.stderr);
    assert_eq!(last["message"], "Pruned", "{last}");
    assert_eq!(last["exitCode"], 0);
    assert_eq!(sb.dirs(), finished, "only started servers are left");
    assert!(finished.contains(&good));
    let left: Vec<_> = processes_under(&sb.parent)
        .into_iter()
        .filter(|(_, cwd)| !finished.iter().any(|f| cwd.starts_with(f)))
        .collect();
    assert!(left.is_empty(), "no process of a pruned server: {left:?}");
    // Pruned directories' links are gone; the started servers' stay.
    for l in sb.links() {
        assert!(finished.contains(&std::fs::read_link(&l).unwrap()), "{l:?}");
    }
    // A second prune has nothing to do; the good server still answers.
    let out = sb.cmd().args(["prune", "--dry-run"]).succeeds();
    assert!(
        out.stdout.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&out.stdout)
    );
    sb.cmd().args(["stop", &good_url]).succeeds();
    for d in &finished {
        if d.exists() {
            sb.cmd().args(["stop", "--dir"]).arg(d).succeeds();
        }
    }
    assert!(sb.dirs().is_empty());
}

#[test]
fn stop_dir_removes_a_half_made_server() {
    let sb = Sandbox::new();
    // Killed early (before or during the data directory's copy), and killed
    // late enough that a postmaster may run: `stop --dir` ends each.
    for ms in [30u64, 120, 400] {
        kill_start_after(&sb, &[], Duration::from_millis(ms));
        for d in sb.dirs() {
            let out = sb.cmd().args(["stop", "--dir"]).arg(&d).succeeds();
            let last = last_line(&out.stderr);
            assert_eq!(last["message"], "Server stopped and deleted", "{last}");
            assert!(!d.exists());
        }
        let left = processes_under(&sb.parent);
        assert!(left.is_empty(), "{ms} ms: {left:?}");
    }
    // Killed between making the directory and writing its state file (a
    // few system calls): the name says whose it was, and that is enough.
    let unnamed = sb.parent.join("pgkit-server-2147483646-AbCdEf");
    std::fs::create_dir_all(unnamed.join("sock")).unwrap();
    let out = sb.cmd().args(["stop", "--dir"]).arg(&unnamed).succeeds();
    assert_eq!(last_line(&out.stderr)["wasRunning"], false);
    assert!(!unnamed.exists());
    // Gone already: not known (66), as for any missing directory.
    sb.cmd().args(["stop", "--dir"]).arg(&unnamed).exits(66);
    // With --dir given to start: the link is made before the directory
    // fills, so even `stop URL` finds the half-made one.
    let dir = sb.parent.join("mine");
    kill_start_after(
        &sb,
        &["--dir", dir.to_str().unwrap()],
        Duration::from_millis(150),
    );
    if dir.join("pgkit-server.json").exists() {
        let state: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("pgkit-server.json")).unwrap())
                .unwrap();
        let url = format!("postgresql://postgres@127.0.0.1:{}/postgres", state["port"]);
        sb.cmd().args(["stop", &url]).succeeds();
        assert!(!dir.exists());
    }
    assert!(processes_under(&sb.parent).is_empty());
}

#[test]
fn start_dir_refuses_a_half_made_server_and_names_the_way_out() {
    let sb = Sandbox::new();
    let dir = sb.parent.join("half");
    std::fs::create_dir(&dir).unwrap();
    // What a start killed during initdb leaves: its state file, owner gone.
    std::fs::write(
        dir.join("pgkit-server.json"),
        r#"{"port": 1, "bindir": "/nonexistent", "stage": "initialising", "ownerPid": 2147483646}"#,
    )
    .unwrap();
    let out = sb.cmd().args(["start", "--dir"]).arg(&dir).exits(64);
    let last = last_line(&out.stderr);
    assert_eq!(
        last["message"],
        "The --dir directory holds a half-made server"
    );
    assert!(last["suggestion"]
        .as_str()
        .unwrap()
        .contains("pg-tmp stop --dir"));
    sb.cmd().args(["stop", "--dir"]).arg(&dir).succeeds();
    assert!(!dir.exists());
}

/// A server directory's `stage`, from its state file.
fn stage(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("pgkit-server.json")).ok()?;
    let v: Value = serde_json::from_str(&text).ok()?;
    v["stage"].as_str().map(String::from)
}

/// Whether this process may make a mount namespace (root here).
fn can_unshare_mounts() -> bool {
    std::process::Command::new("unshare")
        .args(["-m", "true"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn a_pg_tmp_in_another_mount_namespace_keeps_the_links_it_cannot_see() {
    let sb = Sandbox::new();
    let (dir, url) = start(&sb);
    assert_eq!(sb.links().len(), 1);
    if can_unshare_mounts() {
        // Another mount namespace that shares TMPDIR (the registry) but
        // sees an empty PGKIT_TMPDIR, as a container with its own /dev/shm
        // would: the server directory is out of its sight, not gone.
        let pg_tmp = bin_path("pg-tmp");
        let script = format!(
            "mount -t tmpfs tmpfs '{parent}' && \
             '{bin}' stop postgresql://postgres@127.0.0.1:1/postgres; \
             '{bin}' prune; exit 0",
            parent = sb.parent.display(),
            bin = pg_tmp.display()
        );
        let out = std::process::Command::new("unshare")
            .args(["-m", "sh", "-c", &script])
            .env("PGKIT_TMPDIR", &sb.parent)
            .env("TMPDIR", &sb.tmpdir)
            .env("PGKIT_OFFLINE", "1")
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        assert_eq!(sb.links().len(), 1, "the link survives the other namespace");
        assert!(dir.exists(), "and so does the server");
    } else {
        eprintln!("note: cannot unshare mounts; real namespace check skipped");
    }
    // The same, simulated: links made in another mount namespace (their
    // name says which) to directories we cannot see are kept; a link made
    // in ours to a directory that is gone is removed; an older pg-tmp's
    // link (no namespace in its name) is kept, as nothing proves it dead.
    let reg = sb.registry();
    let foreign = reg.join("5001-00000000000000aa-m1");
    let ours_gone = reg.join(format!("5002-00000000000000bb-m{}", mount_ns()));
    let legacy = reg.join("5003-00000000000000cc");
    for l in [&foreign, &ours_gone, &legacy] {
        std::os::unix::fs::symlink(sb.parent.join("not-visible-here"), l).unwrap();
    }
    sb.cmd()
        .args(["stop", "postgresql://postgres@127.0.0.1:1/postgres"])
        .exits(66);
    assert!(foreign.symlink_metadata().is_ok(), "foreign link kept");
    assert!(legacy.symlink_metadata().is_ok(), "legacy link kept");
    assert!(ours_gone.symlink_metadata().is_err(), "dead link removed");
    // Seen from here, the server is still found by its URL.
    sb.cmd().args(["stop", &url]).succeeds();
    assert!(!dir.exists());
}

/// This process's mount namespace inode.
fn mount_ns() -> String {
    let l = std::fs::read_link("/proc/self/ns/mnt").unwrap();
    l.to_string_lossy()
        .chars()
        .filter(|c| c.is_ascii_digit())
        .collect()
}

#[test]
fn the_watchdog_of_a_killed_run_signals_only_a_postmaster_of_its_directory() {
    use std::os::unix::process::CommandExt;
    let sb = Sandbox::new();
    let (mut child, _stderr, _, started) = spawn_until_started(
        sb.std_cmd()
            .args(["run", "--", "sleep", "1000"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .process_group(0),
    );
    let dir = PathBuf::from(started["dir"].as_str().unwrap());
    let pid_file = dir.join("data/postmaster.pid");
    let text = std::fs::read_to_string(&pid_file).unwrap();
    let postmaster: i32 = text.lines().next().unwrap().trim().parse().unwrap();
    // The server dies behind pg-tmp's back, and its pid file comes to name
    // another process (a reused pid): the decoy, which is no postmaster.
    let mut decoy = std::process::Command::new("sleep")
        .arg("1000")
        .spawn()
        .unwrap();
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(postmaster, libc::SIGKILL) };
    let rest: String = text.lines().skip(1).map(|l| format!("{l}\n")).collect();
    std::fs::write(&pid_file, format!("{}\n{rest}", decoy.id())).unwrap();
    // pg-tmp and CMD die at once; the watchdog (its own group) cleans up.
    // SAFETY: as above; the group is the one we made.
    unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
    child.wait().unwrap();
    let t = std::time::Instant::now();
    while dir.exists() && t.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!dir.exists(), "the watchdog deleted the directory");
    let alive = decoy.try_wait().unwrap().is_none();
    let _ = decoy.kill();
    let _ = decoy.wait();
    assert!(alive, "the decoy named by postmaster.pid was not signalled");
}

#[test]
fn an_unwritable_server_directory_is_77_for_an_unprivileged_user() {
    use std::os::unix::fs::PermissionsExt;
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let sb = Sandbox::new();
    // A directory nobody but its owner may write: root's 0700 one, seen by
    // `nobody` (setpriv), or our own made 0555.
    let locked = sb.parent.join("locked");
    std::fs::create_dir(&locked).unwrap();
    let run = |env: &[(&str, &Path)], args: &[&str]| -> std::process::Output {
        let mut c = if root {
            let mut c = std::process::Command::new("setpriv");
            c.args([
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                "--inh-caps=-all",
            ])
            .arg(bin_path("pg-tmp"));
            c
        } else {
            std::process::Command::new(bin_path("pg-tmp"))
        };
        for v in cleared_vars() {
            c.env_remove(v);
        }
        c.env("TMPDIR", &sb.tmpdir).env("HOME", &sb.tmpdir);
        for (k, v) in env {
            c.env(k, v);
        }
        c.args(args).output().unwrap()
    };
    if root {
        let probe = run(&[], &["--version"]);
        if !probe.status.success() {
            eprintln!("note: cannot run pg-tmp as nobody with setpriv; check skipped");
            return;
        }
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o700)).unwrap();
    } else {
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o555)).unwrap();
    }
    let sub = locked.join("sub");
    let dir_flag = locked.join("mine");
    for (env, args) in [
        (vec![("PGKIT_TMPDIR", locked.as_path())], vec!["start"]),
        (vec![("PGKIT_TMPDIR", sub.as_path())], vec!["start"]),
        (
            vec![("PGKIT_TMPDIR", locked.as_path())],
            vec!["run", "--", "true"],
        ),
        (vec![], vec!["start", "--dir", dir_flag.to_str().unwrap()]),
    ] {
        let out = run(&env, &args);
        assert_eq!(out.status.code(), Some(77), "{args:?}: {out:?}");
        assert!(out.stdout.is_empty());
        let last = last_line(&out.stderr);
        assert_eq!(last["level"], "error");
        assert_eq!(last["exitCode"], 77);
        assert!(
            last["path"]
                .as_str()
                .unwrap()
                .starts_with(locked.to_str().unwrap()),
            "{last}"
        );
    }
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(
        std::fs::read_dir(&locked).unwrap().count(),
        0,
        "nothing made"
    );
}

#[test]
fn prune_restarts_a_ttl_watcher_that_died_and_keeps_its_server() {
    let sb = Sandbox::new();
    let out = sb.cmd().args(["start", "--ttl", "1h"]).succeeds();
    let dir = PathBuf::from(last_line(&out.stderr)["dir"].as_str().unwrap());
    let url = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let watcher = |dir: &Path| -> i32 {
        let text = std::fs::read_to_string(dir.join("ttl-watcher.pid")).unwrap();
        text.lines().next().unwrap().parse().unwrap()
    };
    let first = watcher(&dir);
    // SAFETY: kill has no memory-safety preconditions; the pid is the
    // watcher our start made (a grandchild: reaped by init).
    assert_eq!(unsafe { libc::kill(first, libc::SIGKILL) }, 0);
    let t = std::time::Instant::now();
    while std::fs::read(format!("/proc/{first}/cmdline")).is_ok_and(|c| !c.is_empty())
        && t.elapsed() < Duration::from_secs(10)
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = sb.cmd().arg("prune").succeeds();
    let last = last_line(&out.stderr);
    assert_eq!(last["ttlWatchersRestarted"], 1, "{last}");
    assert_eq!(last["removed"], 0, "{last}");
    assert!(dir.exists(), "the server is the user's: kept");
    let second = watcher(&dir);
    assert_ne!(second, first);
    let cmdline =
        String::from_utf8(std::fs::read(format!("/proc/{second}/cmdline")).unwrap()).unwrap();
    assert!(
        cmdline.contains("__ttl-watch") && cmdline.contains("3600000"),
        "{cmdline}"
    );
    // A running watcher is left alone.
    let out = sb.cmd().arg("prune").succeeds();
    assert_eq!(last_line(&out.stderr)["ttlWatchersRestarted"], 0);
    sb.cmd().args(["stop", &url]).succeeds();
    assert!(!dir.exists());
}
