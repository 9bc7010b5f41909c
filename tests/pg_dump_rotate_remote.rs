//! pg-dump-rotate --remote against a real S3-protocol server on loopback:
//! s3rver (npm, `npm install -g s3rver@3.7.1`), started per test on a free
//! port with a bucket `bkt`. s3rver checks the access key id (its account is
//! `S3RVER`) but not the signature, so "wrong credentials" here is a wrong
//! key id. Without s3rver the tests are skipped with a note, unless `CI` is
//! set: then they fail.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::dump::*;
use common::*;
use serde_json::Value;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

const KEY: &str = "S3RVER";
const SECRET: &str = "sEcReT-9f8e7d6c5b4a";
const TOKEN: &str = "SeSsIoN-tOkEn-1a2b3c4d";

/// A running s3rver and its data directory.
struct S3 {
    child: Arc<Mutex<Option<Child>>>,
    port: u16,
    data: PathBuf,
    _tmp: Option<tempfile::TempDir>,
}

impl Drop for S3 {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.lock().unwrap().take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A test server's program: `var` when set, else `name` on PATH. A path in
/// `var` that is not there counts as not installed (CI exports
/// MOTO_SERVER_BIN whether or not its install worked).
fn program(var: &str, name: &str) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(var).map(PathBuf::from) {
        return p.is_file().then_some(p);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    })
}

/// Starts s3rver on `data` (a new temp directory when None); None (a
/// skip) when it is not installed and CI is not set.
fn start_s3(data: Option<&Path>) -> Option<S3> {
    let Some(bin) = program("S3RVER_BIN", "s3rver") else {
        if std::env::var_os("CI").is_some() {
            panic!("s3rver is required in CI: npm install -g s3rver@3.7.1");
        }
        eprintln!("note: s3rver not installed (npm install -g s3rver@3.7.1); remote test skipped");
        return None;
    };
    let (tmp, data) = match data {
        Some(d) => (None, d.to_path_buf()),
        None => {
            let t = tempfile::tempdir().unwrap();
            let d = t.path().to_path_buf();
            (Some(t), d)
        }
    };
    let port = free_port();
    let child = Command::new(bin)
        .args(["-d"])
        .arg(&data)
        .args(["-a", "127.0.0.1", "-p", &port.to_string(), "--silent"])
        .args(["--configure-bucket", "bkt"])
        // s3rver's continuation tokens use a cipher OpenSSL 3 keeps in its
        // legacy provider (Node 17+).
        .env("NODE_OPTIONS", "--openssl-legacy-provider")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for("s3rver to listen", 60, || {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    Some(S3 {
        child: Arc::new(Mutex::new(Some(child))),
        port,
        data,
        _tmp: tmp,
    })
}

/// Starts moto's S3 server (PyPI, the versions in .ci/moto-requirements.txt;
/// `MOTO_SERVER_BIN` or `moto_server` on PATH) with a bucket `bkt`: unlike
/// s3rver it implements ListMultipartUploads. In memory, no signature
/// check. None (a skip) when it is not installed and CI is not set.
fn start_moto() -> Option<S3> {
    let Some(bin) = program("MOTO_SERVER_BIN", "moto_server") else {
        if std::env::var_os("CI").is_some() {
            panic!("moto is required in CI: pip install --no-deps -r .ci/moto-requirements.txt in a venv, MOTO_SERVER_BIN=VENV/bin/moto_server");
        }
        eprintln!("note: moto not installed (pip install --no-deps -r .ci/moto-requirements.txt in a venv; MOTO_SERVER_BIN); test skipped");
        return None;
    };
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let child = Command::new(bin)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let s3 = S3 {
        child: Arc::new(Mutex::new(Some(child))),
        port,
        data: tmp.path().to_path_buf(),
        _tmp: Some(tmp),
    };
    wait_for("moto to listen", 60, || {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    assert!(raw_http(port, "PUT", "/bkt").starts_with("HTTP/1.1 200"));
    Some(s3)
}

/// One unsigned request (moto checks no signature): the whole answer.
fn raw_http(port: u16, method: &str, path: &str) -> String {
    let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        c,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    c.read_to_string(&mut answer).unwrap();
    answer
}

/// The tool with the S3 settings of a user of MinIO/R2: credentials (with a
/// session token) and a custom endpoint, path-style implied.
fn s3_tool(dir: &Path, port: u16) -> assert_cmd::Command {
    let mut c = tool(dir);
    for v in [
        "AWS_PROFILE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ENDPOINT_URL_S3",
        "AWS_S3_FORCE_PATH_STYLE",
        "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
        "DUMP_REMOTE",
    ] {
        c.env_remove(v);
    }
    c.env("AWS_ACCESS_KEY_ID", KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_SESSION_TOKEN", TOKEN)
        .env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}"));
    c
}

/// Asserts no credential shows in the output (logs, errors, data).
fn assert_no_secrets(out: &Output) {
    for text in [
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout),
    ] {
        for s in [SECRET, TOKEN, KEY] {
            assert!(!text.contains(s), "credential {s:?} shown in: {text}");
        }
        assert!(!text.contains("X-Amz-"), "a signed URL shown in: {text}");
    }
}

fn run(c: &mut assert_cmd::Command) -> Output {
    let out = c.output().unwrap();
    assert_no_secrets(&out);
    out
}

/// The arguments of `dump --source app` of `db` uploaded to `remote`,
/// uncompressed (so its size is known) in parts of `part`.
fn dump_in_parts_args(db: &str, remote: &str, part: &str) -> Vec<String> {
    let dsn = url(db);
    [
        "dump",
        "--dsn",
        &dsn,
        "--source",
        "app",
        "--compress",
        "0",
        "--remote",
        remote,
        "--remote-part-size",
        part,
    ]
    .map(String::from)
    .to_vec()
}

/// `dump_in_parts_args` run through `port`, in 1 MiB parts.
fn dump_in_parts(dir: &Path, port: u16, db: &str, remote: &str) -> Output {
    run(s3_tool(dir, port).args(dump_in_parts_args(db, remote, "1MiB")))
}

fn remote_list(dir: &Path, port: u16, url: &str) -> Vec<Value> {
    let out = run(s3_tool(dir, port).args(["list", "--json", "--remote", url]));
    assert_success(&out);
    serde_json::from_slice::<Value>(&out.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// `purge --remote --keep-last 1 --dry-run --json` with `extra` flags.
fn purge_plan(dir: &Path, port: u16, remote: &str, extra: &[&str]) -> Output {
    run(s3_tool(dir, port)
        .args([
            "purge",
            "--remote",
            remote,
            "--keep-last",
            "1",
            "--dry-run",
            "--json",
        ])
        .args(extra))
}

/// `purge --remote` keeping the newest dump and no leftover at all
/// (`--partial-age 0s`).
fn purge_leftovers_now(dir: &Path, port: u16, remote: &str) -> Output {
    run(s3_tool(dir, port).args([
        "purge",
        "--remote",
        remote,
        "--keep-last",
        "1",
        "--partial-age",
        "0s",
        "--yes",
    ]))
}

fn kinds(rows: &[Value]) -> Vec<(String, String)> {
    rows.iter()
        .map(|r| {
            (
                r["file"].as_str().unwrap().to_string(),
                r["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn make_db(prefix: &str, rows: u32) -> String {
    let db = fresh_db(prefix);
    let mut c = postgres::Client::connect(&url(&db), postgres::NoTls).unwrap();
    c.batch_execute(&format!(
        "CREATE TABLE big AS SELECT g, md5(g::text) || md5((g + 1)::text) AS t FROM generate_series(1, {rows}) g"
    ))
    .unwrap();
    db
}

#[test]
fn upload_list_verify_purge_restore_through_s3() {
    let Some(s3) = start_s3(None) else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = make_db("s3_round", 1000);
    let remote = "s3://bkt/backups/pg";

    let mut files = Vec::new();
    for _ in 0..2 {
        let out = run(s3_tool(dir.path(), s3.port).args([
            "dump",
            "--dsn",
            &url(&db),
            "--source",
            "app",
            "--remote",
            remote,
        ]));
        assert_success(&out);
        let lines = json_lines(&out.stderr);
        let up = first_with(&lines, "Dump uploaded");
        let file = stdout_path(&out);
        let name = file.file_name().unwrap().to_str().unwrap().to_string();
        assert_eq!(up["remote"], format!("{remote}/app/{name}"));
        files.push(file);
    }
    // The objects mirror the local names under PREFIX/SOURCE/.
    let names: Vec<String> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_str().unwrap().to_string())
        .collect();
    let rows = remote_list(dir.path(), s3.port, remote);
    let mut want: Vec<(String, String)> = names
        .iter()
        .rev()
        .map(|n| (n.clone(), "dump".to_string()))
        .collect();
    assert_eq!(kinds(&rows), want);
    assert_eq!(rows[0]["state"], "uploaded");
    assert_eq!(
        rows[0]["sizeBytes"].as_u64().unwrap(),
        std::fs::metadata(&files[1]).unwrap().len()
    );

    // verify --remote --all downloads and hashes each dump.
    let out = run(s3_tool(dir.path(), s3.port).args(["verify", "--all", "--remote", remote]));
    assert_success(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.matches(": OK").count(), 2, "{stdout}");
    assert_eq!(last_line(&out.stderr)["verified"], 2);

    // A remote copy damaged in the store fails verification (5).
    let stored = s3
        .data
        .join("bkt/backups/pg/app")
        .join(format!("{}._S3rver_object", names[0]));
    let mut bytes = std::fs::read(&stored).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x55;
    std::fs::write(&stored, &bytes).unwrap();
    let url0 = format!("{remote}/app/{}", names[0]);
    let out = run(s3_tool(dir.path(), s3.port).args(["verify", &url0]));
    assert_exit(&out, 5);
    assert!(String::from_utf8_lossy(&out.stdout).contains(": FAILED"));
    let last = last_line(&out.stderr);
    assert!(last["message"]
        .as_str()
        .unwrap()
        .starts_with("Verification failed"));

    // purge --remote touches only the remote, with its own rules.
    let out = run(s3_tool(dir.path(), s3.port).args([
        "purge",
        "--remote",
        remote,
        "--keep-last",
        "1",
        "--yes",
    ]));
    assert_success(&out);
    let last = last_line(&out.stderr);
    assert_eq!(last["removed"], 1);
    assert_eq!(last["kept"], 1);
    want.truncate(1);
    assert_eq!(kinds(&remote_list(dir.path(), s3.port, remote)), want);

    // check --remote judges the committed uploads: fresh, then a source
    // expected but never uploaded fails (1) with its JSON line.
    let metrics = dir.path().join("remote.prom");
    let out = run(s3_tool(dir.path(), s3.port).args([
        "check",
        "--remote",
        remote,
        "--max-age",
        "1h",
        "--min-size",
        "1K",
        "--metrics-file",
        metrics.to_str().unwrap(),
    ]));
    assert_success(&out);
    assert_eq!(last_line(&out.stderr)["message"], "Dumps are fresh");
    // Its series are told from a local check's by their location.
    let text = std::fs::read_to_string(&metrics).unwrap();
    assert!(
        text.contains(&format!(
            "pgkit_dump_check_ok{{source=\"app\",location=\"{remote}\"}} 1\n"
        )),
        "{text}"
    );
    let out = run(s3_tool(dir.path(), s3.port).args([
        "check",
        "--remote",
        remote,
        "--max-age",
        "1h",
        "--source",
        "app,other",
    ]));
    assert_exit(&out, 1);
    let line: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(line["source"], "other");
    assert_eq!(line["reason"], "missing");
    let local: Vec<String> = list_json(dir.path())
        .iter()
        .map(|r| r["file"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(local.len(), 2, "local dumps untouched: {local:?}");
    assert!(files.iter().all(|f| f.is_file()));

    // restore s3://… downloads, verifies, restores.
    let target = fresh_db("s3_restored");
    let url1 = format!("{remote}/app/{}", names[1]);
    let out = run(s3_tool(dir.path(), s3.port).args(["restore", &url1, "--dsn", &url(&target)]));
    assert_success(&out);
    let lines = json_lines(&out.stderr);
    assert!(has_message(&lines, "Dump downloaded"));
    assert!(has_message(&lines, "Checksum verified"));
    let n: i64 = query_value(&target, "SELECT count(*) FROM big");
    assert_eq!(n, 1000);
}

/// Forwards 127.0.0.1:PORT to the server and kills the server once `limit`
/// bytes went up: the server dies in the middle of an upload, at a point
/// that does not depend on timing.
fn killing_proxy(s3: &S3, limit: u64) -> u16 {
    proxy(s3, limit, None, None)
}

/// As `killing_proxy`, killing the server when a request going up holds
/// `at` (a request line: the upload of one object) instead.
fn killing_proxy_at(s3: &S3, at: &str) -> u16 {
    proxy(s3, u64::MAX, None, Some(at.as_bytes().to_vec()))
}

/// As `killing_proxy_at`, but the server lives: from the request holding
/// `at` on, that connection forwards nothing more (the tool waits for an
/// answer that never comes), and `hit` is set.
fn stalling_proxy_at(s3: &S3, at: &str, hit: Arc<AtomicBool>) -> u16 {
    proxy_with(s3, u64::MAX, None, Some(at.as_bytes().to_vec()), Some(hit))
}

/// As `killing_proxy`, keeping a copy of every byte sent up in `record`.
fn proxy(s3: &S3, limit: u64, record: Option<Arc<Mutex<Vec<u8>>>>, at: Option<Vec<u8>>) -> u16 {
    proxy_with(s3, limit, record, at, None)
}

fn proxy_with(
    s3: &S3,
    limit: u64,
    record: Option<Arc<Mutex<Vec<u8>>>>,
    at: Option<Vec<u8>>,
    stall: Option<Arc<AtomicBool>>,
) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let upstream = s3.port;
    let child = s3.child.clone();
    let sent = Arc::new(AtomicU64::new(0));
    let dead = Arc::new(AtomicBool::new(false));
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(client) = conn else { continue };
            if dead.load(Ordering::SeqCst) {
                drop(client);
                continue;
            }
            let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                continue;
            };
            let (mut c_read, mut s_write) =
                (client.try_clone().unwrap(), server.try_clone().unwrap());
            let (mut s_read, mut c_write) = (server, client);
            let (sent, dead, child) = (sent.clone(), dead.clone(), child.clone());
            let record = record.clone();
            let at = at.clone();
            let stall = stall.clone();
            std::thread::spawn(move || {
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    let n = match c_read.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    let hit = at
                        .as_ref()
                        .is_some_and(|p| buf[..n].windows(p.len()).any(|w| w == p.as_slice()));
                    if let (true, Some(flag)) = (hit, &stall) {
                        flag.store(true, Ordering::SeqCst);
                        // Both halves stay open (the other thread holds
                        // them): the tool hangs until it is killed.
                        return;
                    }
                    if hit || sent.fetch_add(n as u64, Ordering::SeqCst) + n as u64 > limit {
                        dead.store(true, Ordering::SeqCst);
                        if let Some(mut c) = child.lock().unwrap().take() {
                            let _ = c.kill();
                            let _ = c.wait();
                        }
                        break;
                    }
                    if let Some(r) = &record {
                        r.lock().unwrap().extend_from_slice(&buf[..n]);
                    }
                    if s_write.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
                let _ = c_read.shutdown(Shutdown::Both);
                let _ = s_write.shutdown(Shutdown::Both);
            });
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut s_read, &mut c_write);
                let _ = c_write.shutdown(Shutdown::Both);
            });
        }
    });
    port
}

#[test]
fn server_killed_mid_upload_keeps_the_local_dump_and_counts_no_half_object() {
    let Some(s3) = start_s3(None) else { return };
    let dir = tempfile::tempdir().unwrap();
    // Some 6 MB uncompressed: six 1 MiB parts; the server dies after ~2.5.
    let db = make_db("s3_kill", 90_000);
    let remote = "s3://bkt/off";
    // Uncompressed, in 1 MiB parts, through a proxy that kills the server.
    let dump_via = |proxy: u16| dump_in_parts(dir.path(), proxy, &db, remote);
    let out = dump_via(killing_proxy(&s3, 5 << 19));
    assert_exit(&out, 5);
    let last = last_line(&out.stderr);
    assert_eq!(last["message"], "Upload failed; the local dump is kept");
    assert_eq!(last["exitCode"], 5);
    let file = stdout_path(&out);
    assert!(file.is_file());
    assert!(std::fs::metadata(&file).unwrap().len() > 3 << 20);
    let v = verify(dir.path(), &file);
    assert_success(&v);

    // The store back up, on the same data: nothing of the cut multipart
    // upload shows (its manifest goes only after the data).
    let data = s3.data.clone();
    let s3b = start_s3(Some(&data)).unwrap();
    assert!(remote_list(dir.path(), s3b.port, remote).is_empty());

    // Cut after the data, as the manifest goes up: the data is there, the
    // upload is not committed, and counts for no dump.
    let out = dump_via(killing_proxy_at(&s3b, ".pgdump.json?"));
    assert_exit(&out, 5);
    let file = stdout_path(&out);
    assert!(file.is_file());
    let s3c = start_s3(Some(&data)).unwrap();
    let rows = remote_list(dir.path(), s3c.port, remote);
    assert!(
        rows.iter().all(|r| r["kind"] != "dump"),
        "a half upload counted: {rows:?}"
    );
    let name = file.file_name().unwrap().to_str().unwrap();
    assert_eq!(
        kinds(&rows),
        [(name.to_string(), "partial".to_string())],
        "its data went up; neither manifest nor sidecar made it"
    );
    let s3b = s3c;
    let out = run(s3_tool(dir.path(), s3b.port).args(["verify", "--all", "--remote", remote]));
    assert_success(&out);
    assert_eq!(last_line(&out.stderr)["verified"], 0);
    // Checking nothing does not read as a pass.
    assert!(json_lines(&out.stderr)
        .iter()
        .any(|l| l["level"] == "warn"
            && l["message"] == "No committed dumps to verify in the remote"));
    // purge keeps it as a leftover within --partial-age, removes it past it.
    let out = purge_plan(dir.path(), s3b.port, remote, &[]);
    assert_success(&out);
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    let plan = plan.as_array().unwrap();
    assert!(plan.iter().all(|r| r["action"] == "keep"), "{plan:?}");
    let out = purge_leftovers_now(dir.path(), s3b.port, remote);
    assert_success(&out);
    assert!(remote_list(dir.path(), s3b.port, remote).is_empty());
    assert!(file.is_file(), "the local dump is kept");
    // s3rver has no ListMultipartUploads (501): said once, at info level,
    // and the purge is done all the same.
    let noted: Vec<Value> = json_lines(&out.stderr)
        .into_iter()
        .filter(|l| l["message"] == "The remote cannot list unfinished multipart uploads; stale ones are left to the bucket")
        .collect();
    assert_eq!(noted.len(), 1, "{noted:?}");
    assert_eq!(noted[0]["level"], "info");
}

/// A `dump --remote` killed mid-upload (SIGKILL: no abort of its own)
/// leaves a multipart upload no listing of objects shows; `purge --remote`
/// lists it (moto: s3rver cannot), keeps it within --partial-age, aborts
/// it past it, and never touches another tool's upload under the prefix.
#[test]
fn purge_aborts_the_multipart_upload_a_killed_dump_left() {
    let Some(s3) = start_moto() else { return };
    let dir = tempfile::tempdir().unwrap();
    // Some 6.8 MB uncompressed: two 5 MiB parts (moto, as AWS, refuses
    // smaller ones); the tool hangs at the second.
    let db = make_db("s3_unfinished", 90_000);
    let remote = "s3://bkt/off";
    let hit = Arc::new(AtomicBool::new(false));
    let via = stalling_proxy_at(&s3, "partNumber=2", hit.clone());
    let endpoint = format!("http://127.0.0.1:{via}");
    let mut child = spawn_tool(
        dir.path(),
        dump_in_parts_args(&db, remote, "5MiB"),
        &[
            ("AWS_ACCESS_KEY_ID", Path::new(KEY)),
            ("AWS_SECRET_ACCESS_KEY", Path::new(SECRET)),
            ("AWS_ENDPOINT_URL", Path::new(&endpoint)),
        ],
    );
    let end = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !hit.load(Ordering::SeqCst) {
        if child.try_wait().unwrap().is_some() {
            let out = child.wait_with_output().unwrap();
            panic!(
                "the dump ended before its second part: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        assert!(std::time::Instant::now() < end, "no second part in 120 s");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let local: Vec<String> = names(&dir.path().join("app"))
        .into_iter()
        .filter(|n| n.ends_with(".pgdump"))
        .collect();
    assert_eq!(local.len(), 1, "the local dump was done before the upload");
    // More unfinished uploads: an old one of the tool's shape; one as old
    // by its name and start but with a part written just now (a long
    // upload still going); another tool's under the prefix; one of the
    // tool's shape outside the prefix.
    let start = |key: &str| {
        let answer = raw_http(s3.port, "POST", &format!("/bkt/{key}?uploads"));
        let id = answer.split("<UploadId>").nth(1).unwrap();
        id[..id.find('<').unwrap()].to_string()
    };
    let old = "app_20200102T030405Z.pgdump";
    let going = "app_20200103T030405Z.pgdump";
    start(&format!("off/app/{old}"));
    let id = start(&format!("off/app/{going}"));
    let part = format!("/bkt/off/app/{going}?partNumber=1&uploadId={id}");
    assert!(raw_http(s3.port, "PUT", &part).starts_with("HTTP/1.1 200"));
    start("off/app/notes.bin");
    start(&format!("elsewhere/app/{old}"));
    assert!(
        remote_list(dir.path(), s3.port, remote).is_empty(),
        "no object shows"
    );

    let plan = |extra: &[&str]| {
        let out = purge_plan(dir.path(), s3.port, remote, extra);
        assert_success(&out);
        let rows: Value = serde_json::from_slice(&out.stdout).unwrap();
        let rows: Vec<(String, String)> = rows
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                assert_eq!(r["source"], "app");
                (
                    r["file"].as_str().unwrap().to_string(),
                    r["action"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        (rows, last_line(&out.stderr))
    };
    // Within the default --partial-age (24h) the killed one may still be
    // going: kept (moto says every upload started in 2010: the dump's
    // name bounds the age); so is the old one with a fresh part.
    let (rows, last) = plan(&[]);
    let row = |f: &str, a: &str| (f.to_string(), a.to_string());
    assert_eq!(
        rows,
        [
            row(old, "abort"),
            row(going, "keep"),
            row(&local[0], "keep")
        ]
    );
    assert_eq!(last["wouldAbort"], 1);
    let (rows, _) = plan(&["--partial-age", "0s"]);
    assert!(rows.iter().all(|r| r.1 == "abort"), "{rows:?}");

    let out = purge_leftovers_now(dir.path(), s3.port, remote);
    assert_success(&out);
    let lines = json_lines(&out.stderr);
    let aborted: Vec<&str> = lines
        .iter()
        .filter(|l| l["message"] == "Unfinished upload aborted")
        .map(|l| l["remote"].as_str().unwrap())
        .collect();
    assert_eq!(
        aborted,
        [
            format!("{remote}/app/{old}"),
            format!("{remote}/app/{going}"),
            format!("{remote}/app/{}", local[0])
        ]
    );
    assert_eq!(last_line(&out.stderr)["abortedUploads"], 3);
    // What the store holds now: the other tool's upload, and the one
    // outside the prefix.
    let left = raw_http(s3.port, "GET", "/bkt?uploads");
    assert_eq!(left.matches("<Upload>").count(), 2, "{left}");
    assert!(left.contains("<Key>off/app/notes.bin</Key>"), "{left}");
    assert!(
        left.contains(&format!("<Key>elsewhere/app/{old}</Key>")),
        "{left}"
    );
    let (rows, _) = plan(&["--partial-age", "0s"]);
    assert!(rows.is_empty(), "{rows:?}");
}

#[test]
fn refused_or_missing_credentials_and_a_down_store_still_get_the_local_dump() {
    let dumps_in = |d: &Path| names(d).iter().filter(|n| n.ends_with(".pgdump")).count();
    let Some(s3) = start_s3(None) else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = make_db("s3_creds", 10);
    // The backup comes first: the store's refusal is said before the dump,
    // the dump is made, its upload fails with the cause: 5.
    let out = run(s3_tool(dir.path(), s3.port)
        .env("AWS_ACCESS_KEY_ID", "AKIAWRONGWRONGWRONG")
        .args(["dump", "--dsn", &url(&db), "--remote", "s3://bkt/x"]));
    assert_exit(&out, 5);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("AKIAWRONGWRONGWRONG"));
    let lines = json_lines(&out.stderr);
    let warned = lines
        .iter()
        .find(|l| {
            l["message"]
                == "Remote not usable now: the dump is made locally first, its upload tried after it"
        })
        .unwrap_or_else(|| panic!("{lines:?}"));
    assert_eq!(warned["level"], "warn");
    assert!(warned["error"]
        .as_str()
        .unwrap()
        .contains("InvalidAccessKeyId"));
    let last = last_line(&out.stderr);
    assert_eq!(last["message"], "Upload failed; the local dump is kept");
    assert!(last["error"]
        .as_str()
        .unwrap()
        .contains("InvalidAccessKeyId"));
    assert!(last["suggestion"]
        .as_str()
        .unwrap()
        .contains("AWS_ACCESS_KEY_ID"));
    let kept = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    assert!(kept.is_file(), "{out:?}");
    assert_eq!(dumps_in(&dir.path().join(&db)), 1);
    // No credentials at all, and a store that is down: the same.
    for (var, value) in [
        ("AWS_ACCESS_KEY_ID", None),
        ("AWS_ENDPOINT_URL", Some("http://127.0.0.1:1")),
    ] {
        let mut c = s3_tool(dir.path(), s3.port);
        match value {
            Some(v) => c.env(var, v),
            None => c.env_remove(var).env_remove("AWS_SECRET_ACCESS_KEY"),
        };
        let out = run(c.args(["dump", "--dsn", &url(&db), "--remote", "s3://bkt/x"]));
        assert_exit(&out, 5);
        assert_eq!(
            last_line(&out.stderr)["message"],
            "Upload failed; the local dump is kept"
        );
    }
    assert_eq!(dumps_in(&dir.path().join(&db)), 3);
    // A malformed URL is still a usage error before anything runs.
    let out = run(s3_tool(dir.path(), s3.port).args([
        "dump",
        "--dsn",
        &url(&db),
        "--remote",
        "s3://B/x",
    ]));
    assert_exit(&out, 64);
    assert_eq!(dumps_in(&dir.path().join(&db)), 3);

    let out = run(s3_tool(dir.path(), s3.port)
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .args(["list", "--remote", "s3://bkt/x"]));
    assert_exit(&out, 78);
    assert_eq!(last_line(&out.stderr)["message"], "No S3 credentials found");

    let out = run(s3_tool(dir.path(), s3.port).args(["list", "--remote", "http://bkt/x"]));
    assert_exit(&out, 64);
    let out = run(s3_tool(dir.path(), s3.port).args([
        "verify",
        "--restore",
        "s3://bkt/x/app/app_20250102T030405Z.pgdump",
    ]));
    assert_exit(&out, 64);
    let out = run(s3_tool(dir.path(), s3.port)
        .env("AWS_S3_FORCE_PATH_STYLE", "maybe")
        .args(["list", "--remote", "s3://bkt/x"]));
    assert_exit(&out, 78);
    assert_eq!(
        last_line(&out.stderr)["message"],
        "Invalid AWS_S3_FORCE_PATH_STYLE"
    );
    // Forced path-style (as implied with an endpoint) works.
    let out = run(s3_tool(dir.path(), s3.port)
        .env("AWS_S3_FORCE_PATH_STYLE", "true")
        .args(["list", "--remote", "s3://bkt/x"]));
    assert_success(&out);
}

#[test]
fn credentials_and_endpoint_from_an_aws_profile() {
    let Some(s3) = start_s3(None) else { return };
    let dir = tempfile::tempdir().unwrap();
    let aws = tempfile::tempdir().unwrap();
    let creds = aws.path().join("credentials");
    let config = aws.path().join("config");
    std::fs::write(
        &creds,
        format!("[default]\naws_access_key_id = NOPE\naws_secret_access_key = x\n\n[minio]\naws_access_key_id = {KEY}\naws_secret_access_key = {SECRET}\n"),
    )
    .unwrap();
    std::fs::write(
        &config,
        format!(
            "[profile minio]\nregion = eu-central-1\nendpoint_url = http://127.0.0.1:{}\n",
            s3.port
        ),
    )
    .unwrap();
    let out = run(s3_tool(dir.path(), s3.port)
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_ENDPOINT_URL")
        .env("AWS_PROFILE", "minio")
        .env("AWS_SHARED_CREDENTIALS_FILE", &creds)
        .env("AWS_CONFIG_FILE", &config)
        .env("DUMP_REMOTE", "s3://bkt/p")
        .args(["list", "--remote"]));
    assert_success(&out);
    assert_eq!(last_line(&out.stderr)["message"], "Remote dumps listed");
    assert_eq!(last_line(&out.stderr)["remote"], "s3://bkt/p");
}

#[test]
fn directory_dumps_are_uploaded_per_file_and_restored() {
    let Some(s3) = start_s3(None) else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = make_db("s3_dir", 500);
    let remote = "s3://bkt/d";
    let out = run(s3_tool(dir.path(), s3.port)
        .env("DUMP_REMOTE", remote)
        .args([
            "dump",
            "--dsn",
            &url(&db),
            "--source",
            "app",
            "--format",
            "directory",
        ]));
    assert_success(&out);
    let file = stdout_path(&out);
    let name = file.file_name().unwrap().to_str().unwrap().to_string();
    // One object per file of the directory, under NAME.dir/.
    for entry in std::fs::read_dir(&file).unwrap() {
        let f = entry.unwrap().file_name();
        let stored = s3
            .data
            .join("bkt/d/app")
            .join(&name)
            .join(format!("{}._S3rver_object", f.to_str().unwrap()));
        assert!(stored.is_file(), "{} not uploaded", stored.display());
    }
    let rows = remote_list(dir.path(), s3.port, remote);
    assert_eq!(kinds(&rows), [(name.clone(), "dump".to_string())]);
    assert_eq!(rows[0]["format"], "directory");

    let u = format!("{remote}/app/{name}");
    let out = run(s3_tool(dir.path(), s3.port).args(["verify", &u]));
    assert_success(&out);
    let target = fresh_db("s3_dir_restored");
    let out = run(s3_tool(dir.path(), s3.port).args(["restore", &u, "--dsn", &url(&target)]));
    assert_success(&out);
    let n: i64 = query_value(&target, "SELECT count(*) FROM big");
    assert_eq!(n, 500);

    // DUMP_REMOTE, set for dump, never turns a local command remote, and
    // a remote purge needs --yes as a local one does.
    let out = run(s3_tool(dir.path(), s3.port)
        .env("DUMP_REMOTE", remote)
        .args(["list", "--json"]));
    assert_success(&out);
    assert_eq!(last_line(&out.stderr)["message"], "Dumps listed");
    let out = run(s3_tool(dir.path(), s3.port)
        .env("DUMP_REMOTE", remote)
        .args(["dump", "--dsn", &url(&db), "--source", "app"]));
    assert_success(&out);
    let out = run(s3_tool(dir.path(), s3.port)
        .env("DUMP_REMOTE", remote)
        .args(["purge", "--remote", "--keep-last", "1"]));
    assert_exit(&out, 64);
    assert_eq!(
        last_line(&out.stderr)["message"],
        "Refusing to purge without --yes"
    );
    assert_eq!(remote_list(dir.path(), s3.port, remote).len(), 2);
}

#[test]
fn a_whole_server_run_uploads_each_source() {
    let Some(s3) = start_s3(None) else { return };
    let dir = tempfile::tempdir().unwrap();
    // Globals only (every database excluded): the shared server holds
    // other tests' databases.
    let out = run(s3_tool(dir.path(), s3.port).args([
        "dump",
        "--all-databases",
        "--exclude-database",
        "*",
        "--dsn",
        &url("postgres"),
        "--remote",
        "s3://bkt/srv",
    ]));
    assert_success(&out);
    assert!(has_message(&json_lines(&out.stderr), "Dump uploaded"));
    let rows = remote_list(dir.path(), s3.port, "s3://bkt/srv");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["source"], "_globals");
    assert_eq!(rows[0]["kind"], "dump");
}

/// The value of header `name` in the first request after `from` in `text`.
fn header_after<'a>(text: &'a str, from: usize, name: &str) -> &'a str {
    let rest = &text[from..];
    let at = rest.find(&format!("\r\n{name}: ")).unwrap() + name.len() + 4;
    rest[at..].split("\r\n").next().unwrap()
}

#[test]
fn each_part_is_sent_with_its_sha256_for_the_store_to_check() {
    use base64::Engine;
    use sha2::Digest;
    let Some(s3) = start_s3(None) else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = make_db("s3_sums", 25_000);
    let record = Arc::new(Mutex::new(Vec::new()));
    let port = proxy(&s3, u64::MAX, Some(record.clone()), None);
    let out = dump_in_parts(dir.path(), port, &db, "s3://bkt/rec");
    assert_success(&out);
    let file = stdout_path(&out);
    let bytes = std::fs::read(&file).unwrap();
    assert!(
        bytes.len() > 1 << 20 && bytes.len() < 2 << 20,
        "{}",
        bytes.len()
    );
    let b64 = |d: &[u8]| base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(d));
    let sent = String::from_utf8_lossy(&record.lock().unwrap()).into_owned();
    let name = file.file_name().unwrap().to_str().unwrap();
    let line = format!("POST /bkt/rec/app/{name}?");
    let create = sent.find(&line).unwrap();
    assert_eq!(
        header_after(&sent, create, "x-amz-checksum-algorithm"),
        "SHA256"
    );
    for (n, part) in [(1, &bytes[..1 << 20]), (2, &bytes[1 << 20..])] {
        let at = sent
            .match_indices(&format!("PUT /bkt/rec/app/{name}?"))
            .map(|(i, _)| i)
            .find(|i| {
                sent[*i..]
                    .split("\r\n")
                    .next()
                    .unwrap()
                    .contains(&format!("partNumber={n}"))
            })
            .unwrap_or_else(|| panic!("part {n} not sent"));
        assert_eq!(
            header_after(&sent, at, "x-amz-checksum-sha256"),
            b64(part),
            "part {n}"
        );
    }
    // The completion lists each part's checksum; the manifest follows the
    // data, the sidecar goes last.
    assert!(sent.contains(&format!(
        "<ChecksumSHA256>{}</ChecksumSHA256>",
        b64(&bytes[1 << 20..])
    )));
    let sidecar = sent
        .find(&format!("PUT /bkt/rec/app/{name}.sha256?"))
        .unwrap();
    let manifest = sent
        .find(&format!("PUT /bkt/rec/app/{name}.json?"))
        .unwrap();
    assert!(create < manifest && manifest < sidecar);
    let out =
        run(s3_tool(dir.path(), s3.port).args(["verify", "--remote", "s3://bkt/rec", "--all"]));
    assert_success(&out);
    assert_eq!(last_line(&out.stderr)["verified"], 1);
}

#[test]
fn restore_from_s3_with_globals_fetches_the_globals_dump_too() {
    use pgkit::server::{Options, TempServer};
    let Some(s3) = start_s3(None) else { return };
    let own = || {
        TempServer::start(Options {
            bindir: Some(server_bindir().clone()),
            ..Default::default()
        })
        .expect("start a server")
    };
    let s = own();
    s.execute("postgres", "CREATE ROLE pgkit_s3_reader NOLOGIN")
        .unwrap();
    s.execute("postgres", "CREATE DATABASE shop").unwrap();
    s.execute(
        "shop",
        "CREATE TABLE t AS SELECT g FROM generate_series(1, 50) g; GRANT SELECT ON t TO pgkit_s3_reader",
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let remote = "s3://bkt/whole";
    let out = run(s3_tool(dir.path(), s3.port).args([
        "dump",
        "--all-databases",
        "--dsn",
        &s.url("postgres"),
        "--remote",
        remote,
    ]));
    assert_success(&out);
    let shop = remote_list(dir.path(), s3.port, remote)
        .into_iter()
        .find(|r| r["source"] == "shop")
        .unwrap();
    let fresh = own();
    let out = run(s3_tool(dir.path(), s3.port).args([
        "restore",
        shop["url"].as_str().unwrap(),
        "--with-globals",
        "--dsn",
        &fresh.url("postgres"),
        "--db",
        "shop",
        "--create-db",
    ]));
    assert_success(&out);
    assert!(has_message(&json_lines(&out.stderr), "Globals replayed"));
    let mut c = fresh.client("shop").unwrap();
    let row = c
        .query_one(
            "SELECT count(*), has_table_privilege('pgkit_s3_reader', 't', 'SELECT') FROM t",
            &[],
        )
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 50);
    assert!(row.get::<_, bool>(1));
}
