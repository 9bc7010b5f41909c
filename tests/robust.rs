//! Reliability across every tool (issue 16): no panic reaches a user, every
//! invalid environment value is 78 naming the variable (the same value as a
//! flag 64), and permission errors have one code. No server is needed: each
//! run fails (or panics on purpose) before it would connect.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

mod common;
use common::TOOLS;

fn bin(tool: &str) -> &'static str {
    match tool {
        "pg-wait" => env!("CARGO_BIN_EXE_pg-wait"),
        "pg-migrate" => env!("CARGO_BIN_EXE_pg-migrate"),
        "pg-seed" => env!("CARGO_BIN_EXE_pg-seed"),
        "pg-dotenv" => env!("CARGO_BIN_EXE_pg-dotenv"),
        "pg-dump-rotate" => env!("CARGO_BIN_EXE_pg-dump-rotate"),
        "pg-tmp" => env!("CARGO_BIN_EXE_pg-tmp"),
        _ => panic!("unknown tool {tool}"),
    }
}

/// A tool run in a clean environment (nothing of the caller's PG*, LOG_*,
/// DUMP_* ... leaks in), in `dir`, with no server to reach: PGHOST names a
/// socket directory that does not exist and attempts give up at once.
fn tool(name: &str, dir: &Path) -> Command {
    let mut c = Command::new(bin(name));
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("PGHOST", dir.join("no-such-socket-dir"))
        .env("PGCONNECT_TIMEOUT", "1")
        .env("PGKIT_TMPDIR", dir)
        .env("DUMP_DIR", dir)
        .current_dir(dir);
    c
}

/// Every stderr line is a JSON object; returns them.
fn json_lines(out: &Output) -> Vec<Value> {
    let err = String::from_utf8_lossy(&out.stderr);
    err.lines()
        .map(|l| {
            serde_json::from_str::<Value>(l)
                .unwrap_or_else(|e| panic!("stderr line is not JSON ({e}): {l:?}\n{err}"))
        })
        .collect()
}

fn last(out: &Output) -> Value {
    json_lines(out)
        .pop()
        .unwrap_or_else(|| panic!("no log line; stdout {:?}", out.stdout))
}

// ---- No panic reaches a user ------------------------------------------

fn assert_panic_line(out: &Output, code: i32, what: &str) {
    assert_eq!(out.status.code(), Some(code), "{what}: {out:?}");
    let lines = json_lines(out);
    assert_eq!(lines.len(), 1, "{what}: one line only: {lines:?}");
    let l = &lines[0];
    assert_eq!(l["level"], "error", "{what}");
    assert_eq!(l["message"], "Internal error", "{what}");
    assert!(
        l["error"].as_str().is_some_and(|e| e.contains("panic")),
        "{what}: {l}"
    );
    assert_eq!(l["exitCode"], code, "{what}");
    assert!(l["durationMs"].is_u64(), "{what}: {l}");
    let raw = String::from_utf8_lossy(&out.stderr);
    assert!(
        !raw.contains("panicked at") && !raw.contains("RUST_BACKTRACE"),
        "{what}: raw panic text: {raw}"
    );
}

#[test]
fn a_panic_on_the_main_thread_or_a_helper_thread_is_one_json_line_and_70_in_every_tool() {
    let d = tempfile::tempdir().unwrap();
    for &t in TOOLS {
        for mode in ["main", "thread"] {
            let out = tool(t, d.path())
                .env("PGKIT_DEBUG_PANIC", mode)
                .arg("--version")
                .output()
                .unwrap();
            assert_panic_line(&out, 70, &format!("{t} {mode}"));
            assert!(out.stdout.is_empty(), "{t} {mode}: nothing on stdout");
        }
    }
}

#[test]
fn a_panic_in_healthcheck_mode_is_1() {
    let d = tempfile::tempdir().unwrap();
    for mode in ["main", "thread"] {
        let out = tool("pg-wait", d.path())
            .env("PGKIT_DEBUG_PANIC", mode)
            .arg("--healthcheck")
            .output()
            .unwrap();
        assert_panic_line(&out, 1, &format!("healthcheck {mode}"));
        assert_eq!(last(&out)["originalExitCode"], 70);
    }
}

#[test]
fn a_panic_honours_log_format_text_and_stays_one_line() {
    let d = tempfile::tempdir().unwrap();
    let out = tool("pg-dotenv", d.path())
        .env("PGKIT_DEBUG_PANIC", "thread")
        .env("LOG_FORMAT", "text")
        .arg("list")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(70));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("Internal error") && err.contains("exitCode=70"),
        "{err}"
    );
}

// ---- Invalid environment values: 78 naming the variable -----------------

/// One option with an environment variable, as the tool's clap definition
/// states it (PGKIT_DEBUG_ENV_FLAGS).
#[derive(Debug, Clone)]
struct EnvFlag {
    command: Vec<String>,
    long: String,
    var: String,
    value_name: String,
    possible: Vec<String>,
}

fn env_flags(t: &str, dir: &Path) -> Vec<EnvFlag> {
    let out = tool(t, dir)
        .env("PGKIT_DEBUG_ENV_FLAGS", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{t}: {out:?}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            EnvFlag {
                command: v["command"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s.as_str().unwrap().to_string())
                    .collect(),
                long: v["long"].as_str().unwrap().to_string(),
                var: v["env"].as_str().unwrap().to_string(),
                value_name: v["valueName"].as_str().unwrap_or("").to_string(),
                possible: v["possibleValues"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s.as_str().unwrap().to_string())
                    .collect(),
            }
        })
        .collect()
}

/// Options whose values have a grammar (a number, a duration, a choice):
/// `7x!` is invalid for every one of them. Names and paths are left out —
/// any text is a name — and so is `--compress` (METHOD), whose grammar is
/// pg_dump's and checked by pg_dump, after connecting.
fn typed(f: &EnvFlag) -> bool {
    !f.possible.is_empty()
        || matches!(
            f.value_name.as_str(),
            "DURATION" | "N" | "JOBS" | "LEVEL" | "FORMAT" | "BOOL" | "PORT"
        )
}

/// The arguments that bring `command` of `t` to the point of reading its
/// options, without a server.
fn argv(t: &str, command: &[String]) -> Vec<String> {
    let c: Vec<&str> = command.iter().map(String::as_str).collect();
    let v: &[&str] = match (t, c.as_slice()) {
        ("pg-wait", []) => &["--once"],
        ("pg-migrate", []) => &["status"],
        ("pg-migrate", ["new"]) => &["new", "x"],
        ("pg-migrate", ["baseline"]) => &["baseline", "1"],
        ("pg-migrate", ["repair"]) => &["repair"],
        ("pg-dotenv", []) => &["list"],
        ("pg-dump-rotate", []) => &["list"],
        ("pg-dump-rotate", ["dump"]) => &["dump"],
        ("pg-dump-rotate", ["purge"]) => &["purge", "3"],
        ("pg-tmp", []) => &["env", "postgresql://localhost:1/x"],
        ("pg-seed", ["generate"]) => &["generate", "--table", "t", "--rows", "1"],
        _ => &[],
    };
    if v.is_empty() {
        command.to_vec()
    } else {
        v.iter().map(|s| s.to_string()).collect()
    }
}

#[test]
fn every_invalid_environment_value_of_every_tool_is_78_naming_the_variable() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join(".env"), "A=1\n").unwrap();
    std::fs::create_dir(d.path().join("migrations")).unwrap();
    std::fs::create_dir(d.path().join("seeds")).unwrap();
    let mut tried = BTreeSet::new();
    let mut failures = Vec::new();
    for &t in TOOLS {
        let flags = env_flags(t, d.path());
        assert!(
            flags.iter().any(|f| f.var == "LOG_LEVEL"),
            "{t}: LOG_LEVEL is among its variables: {flags:?}"
        );
        for f in flags.iter().filter(|f| typed(f)) {
            let mut args = argv(t, &f.command);
            if f.var == "DB_TIMEOUT" {
                // Read only when there is waiting to do.
                args.push("--wait".into());
            }
            if !tried.insert((t, args.clone(), f.var.clone())) {
                continue;
            }
            let out = tool(t, d.path())
                .env(&f.var, "7x!")
                .args(&args)
                .output()
                .unwrap();
            let l = last(&out);
            let named = l["variable"] == f.var.as_str();
            if out.status.code() != Some(78) || !named {
                failures.push(format!(
                    "{t} {} with {}=7x!: exit {:?}, {l}",
                    args.join(" "),
                    f.var,
                    out.status.code()
                ));
            }
            // The same value as the flag is a usage error (64) naming it.
            let mut flag_args = args.clone();
            flag_args.push(format!("--{}=7x!", f.long));
            let out = tool(t, d.path()).args(&flag_args).output().unwrap();
            let l = last(&out);
            if out.status.code() != Some(64) || l.get("variable").is_some() {
                failures.push(format!(
                    "{t} {}: exit {:?}, {l}",
                    flag_args.join(" "),
                    out.status.code()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(tried.len() > 30, "only {} cases: {tried:?}", tried.len());
}

#[test]
fn the_issue_s_cases_name_the_variable() {
    let d = tempfile::tempdir().unwrap();
    for (var, value) in [
        ("DUMP_LOCK_WAIT", "bogus"),
        ("DUMP_KEEP_WITHIN", "7x"),
        ("DUMP_PARTIAL_AGE", "zz"),
        ("DUMP_KEEP_DAILY", "abc"),
    ] {
        let out = tool("pg-dump-rotate", d.path())
            .env(var, value)
            .args(["purge", "3", "--yes"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(78), "{var}: {out:?}");
        let l = last(&out);
        assert_eq!(l["variable"], var);
        assert!(
            l["message"].as_str().unwrap().contains(var),
            "the message names {var}: {l}"
        );
    }
}

#[test]
fn log_level_bogus_is_64_as_a_flag_and_78_from_the_environment_in_every_tool() {
    let d = tempfile::tempdir().unwrap();
    for &t in TOOLS {
        let args = argv(t, &[]);
        let out = tool(t, d.path())
            .args(&args)
            .args(["--log-level", "bogus"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(64), "{t}: {out:?}");
        assert_eq!(last(&out)["flag"], "--log-level", "{t}");
        let out = tool(t, d.path())
            .env("LOG_LEVEL", "bogus")
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(78), "{t}: {out:?}");
        assert_eq!(last(&out)["variable"], "LOG_LEVEL", "{t}");
    }
}

// ---- Permission errors: one code (77) ------------------------------------

/// Runs `tool` as `nobody` (setpriv), when this process is root and may;
/// None otherwise.
fn as_nobody(t: &str, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Option<Output> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return None;
    }
    let mut c = Command::new("setpriv");
    c.args([
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "--inh-caps=-all",
    ])
    .arg(bin(t))
    .args(args)
    .env_clear()
    .env("PATH", std::env::var_os("PATH").unwrap_or_default())
    .env("HOME", dir)
    .current_dir("/");
    for (k, v) in env {
        c.env(k, v);
    }
    let probe = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(bin(t))
        .arg("--version")
        .output();
    if !probe.map(|o| o.status.success()).unwrap_or(false) {
        eprintln!("note: cannot run {t} as nobody with setpriv; skipped");
        return None;
    }
    Some(c.output().unwrap())
}

#[test]
fn an_unwritable_directory_is_77_in_pg_tmp_and_pg_dump_rotate() {
    use std::os::unix::fs::PermissionsExt;
    let d = tempfile::tempdir().unwrap();
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let locked = d.path().join("locked");
    std::fs::create_dir(&locked).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o700)).unwrap();
    let l = locked.to_str().unwrap();
    let env_file = format!("{l}/.env");
    type Case<'a> = (&'a str, Vec<&'a str>, Vec<(&'a str, &'a str)>);
    let cases: Vec<Case> = vec![
        ("pg-tmp", vec!["start"], vec![("PGKIT_TMPDIR", l)]),
        ("pg-dump-rotate", vec!["--dir", l, "list"], vec![]),
        ("pg-dotenv", vec!["-f", &env_file, "list"], vec![]),
    ];
    for (t, args, env) in cases {
        let Some(out) = as_nobody(t, d.path(), &args, &env) else {
            return;
        };
        assert_eq!(out.status.code(), Some(77), "{t}: {out:?}");
        assert_eq!(last(&out)["exitCode"], 77, "{t}");
    }
}

/// Issue 16, defect 10: `purge --yes` on a read-only dump directory (a bind
/// mount remounted read-only in a mount namespace of its own) is 77, like
/// any permission error, and removes nothing.
#[test]
fn purge_on_a_read_only_dump_directory_is_77() {
    let d = tempfile::tempdir().unwrap();
    let sdir = d.path().join("app");
    std::fs::create_dir(&sdir).unwrap();
    for name in ["app_20250101T000000Z.pgdump", "app_20250102T000000Z.pgdump"] {
        let body = format!("PGDMP synthetic {name}");
        let digest = common::dump::sha256_hex(body.as_bytes());
        std::fs::write(sdir.join(name), &body).unwrap();
        std::fs::write(
            sdir.join(format!("{name}.sha256")),
            format!("{digest}  {name}\n"),
        )
        .unwrap();
        std::fs::write(
            sdir.join(format!("{name}.json")),
            serde_json::json!({"source": "app", "file": name, "size": body.len(), "sha256": digest})
                .to_string(),
        )
        .unwrap();
    }
    let before = std::fs::read_dir(&sdir).unwrap().count();
    let dir = d.path().to_str().unwrap();
    let script = format!(
        "mount --bind '{dir}' '{dir}' && mount -o remount,bind,ro '{dir}' && exec '{}' --dir '{dir}' purge --keep-last 1 --yes",
        bin("pg-dump-rotate")
    );
    let out = Command::new("unshare")
        .args(["--mount", "sh", "-c", &script])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .unwrap();
    if out.status.code() != Some(77)
        && !String::from_utf8_lossy(&out.stderr).contains("pg-dump-rotate")
    {
        eprintln!("note: cannot remount read-only in a mount namespace; skipped: {out:?}");
        return;
    }
    assert_eq!(out.status.code(), Some(77), "{out:?}");
    let last = json_lines(&out).pop().unwrap();
    assert_eq!(last["exitCode"], 77);
    assert!(
        last["error"].as_str().unwrap().contains("Read-only"),
        "{last}"
    );
    assert_eq!(std::fs::read_dir(&sdir).unwrap().count(), before);
}
