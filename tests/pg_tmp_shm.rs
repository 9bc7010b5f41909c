//! pg-tmp on a small /dev/shm (issue 16, defect 6): dynamic shared memory
//! and the server's directory are placed by the space actually free, and the
//! log says why. A fresh mount namespace with a small tmpfs on /dev/shm
//! stands for the container; without one (not root) the test is skipped.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;
use std::process::{Command, Stdio};

/// A parallel hash join big enough to grow its shared hash table past a
/// few MiB (it failed "could not resize shared memory segment" on 8 MiB).
const PARALLEL_HASH_JOIN: &str = "\
SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0; SET max_parallel_workers_per_gather = 4;
SET enable_parallel_hash = on; SET work_mem = '64MB';
CREATE TABLE a AS SELECT g, md5(g::text) AS t FROM generate_series(1, 400000) g;
ANALYZE a;
SELECT count(*) FROM a a1 JOIN a a2 USING (g);
";

fn can_unshare_mounts() -> bool {
    Command::new("unshare")
        .args(["-m", "true"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs `pg-tmp ARGS` in a mount namespace whose /dev/shm is a tmpfs of
/// `size`, with `TMPDIR=tmp` (where the server directory and, when `cold`,
/// the initdb cache go: else the shared cache, warmed by the harness).
fn with_shm(
    size: &str,
    tmp: &std::path::Path,
    cold: Option<&std::path::Path>,
    args: &str,
) -> std::process::Output {
    let script = format!(
        "mount -t tmpfs -o size={size} tmpfs /dev/shm && exec '{}' {args}",
        bin_path("pg-tmp").display()
    );
    let mut c = Command::new("unshare");
    c.args(["-m", "sh", "-c", &script]);
    let std = std_cmd("pg-tmp");
    for (k, v) in std.get_envs() {
        match v {
            Some(v) => c.env(k, v),
            None => c.env_remove(k),
        };
    }
    c.env_remove("PGKIT_TMPDIR").env("PGKIT_TMPDIR", tmp);
    match cold {
        Some(bindir) => c.env("TMPDIR", tmp).env("PG_BINDIR", bindir),
        None => c.env_remove("TMPDIR").env("PG_BINDIR", server_bindir()),
    };
    c.output().unwrap()
}

#[test]
fn a_small_dev_shm_gets_mmap_and_parallel_hash_joins_work() {
    if !can_unshare_mounts() {
        eprintln!("note: cannot unshare mounts; small /dev/shm check skipped");
        return;
    }
    // The harness's own server has filled the shared initdb cache.
    let _ = server();
    let tmp = tempfile::tempdir().unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o1777)).unwrap();
    }
    let sql = tmp.path().join("join.sql");
    std::fs::write(&sql, PARALLEL_HASH_JOIN).unwrap();
    for size in ["1m", "8m"] {
        let out = with_shm(
            size,
            tmp.path(),
            None,
            &format!(
                "run -- psql -X -q -At -v ON_ERROR_STOP=1 -f '{}'",
                sql.display()
            ),
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{size}: {stderr}");
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "400000");
        let lines = json_lines(&out.stderr);
        let plan = lines
            .iter()
            .find(|l| l["dynamicSharedMemoryType"].is_string())
            .unwrap_or_else(|| panic!("{size}: no placement line: {stderr}"));
        assert_eq!(plan["level"], "info", "{plan}");
        assert_eq!(plan["dynamicSharedMemoryType"], "mmap", "{plan}");
        assert!(
            plan["reason"].as_str().unwrap().contains("MiB free"),
            "{plan}"
        );
        // Not in the small /dev/shm: in PGKIT_TMPDIR.
        assert_eq!(
            plan["serverParent"].as_str().unwrap(),
            tmp.path().to_str().unwrap(),
            "{plan}"
        );
    }
    // Forcing posix on 1 MiB fails to start (2), and the suggestion names
    // /dev/shm, not the -c settings and the port. PostgreSQL 14 needs no
    // dynamic shared memory to start (15 keeps its statistics there), so it
    // would start: nothing to prove there.
    if major() < 15 {
        eprintln!(
            "note: PostgreSQL {} starts on a 1 MiB /dev/shm; the posix case is for 15+",
            major()
        );
        return;
    }
    let out = with_shm(
        "1m",
        tmp.path(),
        None,
        "start -c dynamic_shared_memory_type=posix",
    );
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let last = last_line(&out.stderr);
    assert!(
        last["suggestion"].as_str().unwrap().contains("/dev/shm"),
        "{last}"
    );
}

#[test]
fn initdb_on_a_small_dev_shm_uses_mmap_or_says_what_to_do() {
    if !can_unshare_mounts() {
        eprintln!("note: cannot unshare mounts; small /dev/shm check skipped");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o1777)).unwrap();
    }
    // A cold initdb cache (TMPDIR of our own). PostgreSQL 16 and later:
    // initdb is told -c dynamic_shared_memory_type=mmap, and all works.
    match std::env::var_os("PGKIT_PG18_BINDIR") {
        Some(pg18) => {
            let out = with_shm(
                "1m",
                tmp.path(),
                Some(std::path::Path::new(&pg18)),
                "run -- psql -X -At -c 'select current_setting($$dynamic_shared_memory_type$$)'",
            );
            assert_eq!(out.status.code(), Some(0), "{out:?}");
            assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "mmap");
        }
        None => eprintln!("note: PGKIT_PG18_BINDIR unset; PostgreSQL 18 initdb check skipped"),
    }
    // PostgreSQL 15's initdb cannot be told: a clear error, with the way out.
    let pg15 = std::path::Path::new("/usr/lib/postgresql/15/bin");
    if pg15.join("initdb").is_file() {
        let cold = tempfile::tempdir_in(tmp.path()).unwrap();
        let out = with_shm("1m", cold.path(), Some(pg15), "start");
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        let last = last_line(&out.stderr);
        assert_eq!(last["message"], "initdb failed", "{last}");
        assert!(
            last["suggestion"].as_str().unwrap().contains("--shm-size"),
            "{last}"
        );
    }
}
