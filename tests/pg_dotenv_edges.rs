//! pg-dotenv: the defects and gaps of issue 20, each with a test that fails
//! on the code before it (flags after the key, a write sh misreads, `KEY= #`
//! comments, pgenv's libpq settings, blanks before comments, expansion size,
//! dead writers' temporary files, read-only files, exit codes) and the new
//! reading rules (optional files, --if-empty, check --example).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

fn dir_with(text: &str) -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join(".env");
    std::fs::write(&p, text).unwrap();
    (d, p)
}

fn dotenv(file: &Path, args: &[&str]) -> Output {
    cmd("pg-dotenv")
        .arg("-f")
        .arg(file)
        .args(args)
        .output()
        .unwrap()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn out(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap()
}

#[test]
fn flags_after_the_key_work_and_hyphen_values_need_dashdash() {
    let (_d, p) = dir_with("A=1\n");
    let mut c = std::process::Command::new(bin_path("pg-dotenv"));
    let mut child = c
        .arg("-f")
        .arg(&p)
        .args(["set", "SECRET", "--stdin"])
        .stdin(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"s3cr3t\n").unwrap();
    assert!(child.wait().unwrap().success());
    assert_eq!(out(&dotenv(&p, &["get", "SECRET"])), "s3cr3t\n");
    // `set K -h` is help, not a value; the file is unchanged.
    let o = dotenv(&p, &["set", "K", "-h"]);
    assert_eq!(code(&o), 0);
    assert!(out(&o).contains("Usage"));
    assert!(!read(&p).contains("K="));
    let o = dotenv(&p, &["set", "K", "-5"]);
    assert_eq!(code(&o), 64);
    assert_eq!(code(&dotenv(&p, &["set", "--", "K", "-5"])), 0);
    assert_eq!(out(&dotenv(&p, &["get", "K"])), "-5\n");
}

#[test]
fn a_written_value_never_follows_a_blank_so_sh_never_runs_it() {
    let (d, p) = dir_with("APP_CMD= \nOTHER = x\n");
    let marker = d.path().join("ran");
    let script = d.path().join("script.sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\ntouch '{}'\n", marker.display()),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let s = script.display().to_string();
    assert_eq!(code(&dotenv(&p, &["set", "APP_CMD", &s])), 0);
    assert_eq!(read(&p), format!("APP_CMD={s}\nOTHER = x\n"));
    let o = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "set -a; . '{}'; printf %s \"$APP_CMD\"",
            p.display()
        ))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout), s);
    assert!(!marker.exists(), "sourcing the file ran the value");
}

#[test]
fn an_empty_value_before_a_comment_is_empty_and_never_a_secret() {
    let (_d, p) = dir_with("SECRET_KEY= # generate with: openssl rand -hex 32\n");
    assert_eq!(out(&dotenv(&p, &["get", "SECRET_KEY"])), "\n");
    let o = dotenv(&p, &["generate", "SECRET_KEY", "--print", "--if-empty"]);
    assert_eq!(code(&o), 0);
    let secret = out(&o);
    assert_eq!(secret.trim().len(), 32, "{secret}");
    assert!(!secret.contains('#'));
    assert_eq!(
        read(&p),
        format!(
            "SECRET_KEY={} # generate with: openssl rand -hex 32\n",
            secret.trim()
        )
    );
    // Without --if-empty a present key is left alone, as before.
    let (_d2, p2) = dir_with("SECRET_KEY=\n");
    let o = dotenv(&p2, &["generate", "SECRET_KEY", "--print"]);
    let last = last_line(&o.stderr);
    assert_eq!(last["generated"], false);
    // …but an empty "secret" is never passed off quietly.
    assert_eq!(last["level"], "warn");
    assert_eq!(last["message"], "Key is set but empty; left as it is");
    assert!(last["suggestion"].as_str().unwrap().contains("--if-empty"));
    assert_eq!(out(&o), "\n");
    assert_eq!(read(&p2), "SECRET_KEY=\n");
    // set +DEFAULT --if-empty fills an empty placeholder, not a set key.
    let (_d3, p3) = dir_with("A=\nB=kept\n");
    assert_eq!(
        code(&dotenv(&p3, &["set", "--if-empty", "A", "+x", "B", "+y"])),
        0
    );
    assert_eq!(read(&p3), "A=x\nB=kept\n");
}

#[test]
fn set_then_get_returns_what_was_set_whatever_blank_precedes_the_comment() {
    for text in [
        "K='old'\x0c# note\n",
        "K=old\x0c#c\n",
        "K=\"old\"\x0b# n\n",
        "K=old\r# c\n",
    ] {
        let (_d, p) = dir_with(text);
        assert_eq!(out(&dotenv(&p, &["get", "K"])), "old\n", "{text:?}");
        assert_eq!(code(&dotenv(&p, &["set", "K", "new"])), 0);
        assert_eq!(out(&dotenv(&p, &["get", "K"])), "new\n", "{text:?}");
        assert!(read(&p).contains('#'), "{text:?}: the comment was dropped");
    }
}

#[test]
fn expansion_is_capped_with_a_clear_error() {
    let mut text = String::from("L0=xxxxxxxxxxxxxxxx\n");
    for i in 1..=31 {
        text.push_str(&format!("L{i}=${{L{}}}${{L{}}}\n", i - 1, i - 1));
    }
    let (_d, p) = dir_with(&text);
    let o = dotenv(&p, &["get", "L31"]);
    assert_eq!(code(&o), 65, "{}", String::from_utf8_lossy(&o.stderr));
    let last = last_line(&o.stderr);
    assert_eq!(last["message"], "Cannot expand a value");
    assert_eq!(last["line"], 18);
    assert!(last["error"].as_str().unwrap().contains("exceeds"));
    // The total too: each line may stay under 1 MiB and the lines together
    // still ask for gigabytes.
    let mut text = String::from("L0=xxxxxxxxxxxxxxxx\n");
    for i in 1..=16 {
        text.push_str(&format!("L{i}=${{L{}}}${{L{}}}\n", i - 1, i - 1));
    }
    for i in 0..4000 {
        text.push_str(&format!("X{i}=${{L16}}\n"));
    }
    let (_d3, p3) = dir_with(&text);
    let o = dotenv(&p3, &["get", "L0"]);
    assert_eq!(code(&o), 65, "{}", String::from_utf8_lossy(&o.stderr));
    let last = last_line(&o.stderr);
    assert!(last["error"].as_str().unwrap().contains("in total"));
    assert!(last["line"].as_u64().unwrap() < 100, "{last}");
    // Nesting too.
    let deep = format!("K={}x{}\n", "${U:-".repeat(100), "}".repeat(100));
    let (_d2, p2) = dir_with(&deep);
    assert_eq!(code(&dotenv(&p2, &["get", "K"])), 65);
}

#[test]
fn a_dead_writers_temporary_file_is_removed_by_the_next_writer() {
    let (d, p) = dir_with("A=1\n");
    // A pid beyond the kernel's default pid_max: no such process.
    let stale = d.path().join("..env.4194303.deadbeef.tmp");
    std::fs::write(&stale, "A=secret copy\n").unwrap();
    let keep = d.path().join("..env.notes.tmp");
    std::fs::write(&keep, "mine").unwrap();
    let o = dotenv(&p, &["set", "A", "2"]);
    assert_eq!(code(&o), 0);
    assert!(!stale.exists());
    assert!(keep.exists(), "only pg-dotenv's own pattern is swept");
    let lines = json_lines(&o.stderr);
    assert!(has_message(
        &lines,
        "Removed a dead writer's temporary file"
    ));
}

#[test]
fn a_read_only_file_is_refused_unless_forced_and_keeps_its_mode() {
    let (_d, p) = dir_with("A=1\n");
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o444)).unwrap();
    let o = dotenv(&p, &["set", "A", "2"]);
    assert_eq!(code(&o), 1);
    assert!(last_line(&o.stderr)["suggestion"]
        .as_str()
        .unwrap()
        .contains("--force"));
    assert_eq!(read(&p), "A=1\n");
    assert_eq!(code(&dotenv(&p, &["--force", "set", "A", "2"])), 0);
    assert_eq!(read(&p), "A=2\n");
    assert_eq!(
        std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
        0o444
    );
}

#[test]
fn log_level_bogus_is_64_as_a_flag_and_78_from_the_environment() {
    let (_d, p) = dir_with("A=1\n");
    assert_eq!(code(&dotenv(&p, &["--log-level", "bogus", "get", "A"])), 64);
    let o = cmd("pg-dotenv")
        .env("LOG_LEVEL", "bogus")
        .arg("-f")
        .arg(&p)
        .args(["get", "A"])
        .output()
        .unwrap();
    assert_eq!(code(&o), 78);
}

#[test]
fn lock_timeout_takes_a_bare_number_of_milliseconds_as_pg_wait() {
    // One duration grammar (lib/src/duration.rs): a bare number is
    // milliseconds, as in pg-wait.
    let (_d, p) = dir_with("A=1\n");
    let o = dotenv(&p, &["--lock-timeout", "500", "set", "B", "1"]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        code(&dotenv(&p, &["--lock-timeout", "soon", "set", "B", "2"])),
        64
    );
    let o = cmd("pg-dotenv")
        .env("DOTENV_LOCK_TIMEOUT", "soon")
        .arg("-f")
        .arg(&p)
        .args(["set", "B", "2"])
        .output()
        .unwrap();
    assert_eq!(code(&o), 78);
    assert_eq!(read(&p), "A=1\nB=1\n");
}

#[test]
fn run_of_a_file_that_is_not_executable_is_126_as_shells() {
    let (d, p) = dir_with("A=1\n");
    let script = d.path().join("noexec.sh");
    std::fs::write(&script, "#!/bin/sh\n").unwrap();
    let o = dotenv(&p, &["run", "--", script.to_str().unwrap()]);
    assert_eq!(code(&o), 126);
    assert_eq!(code(&dotenv(&p, &["run", "--", "/nonexistent/cmd"])), 127);
}

#[test]
fn a_symlink_loop_is_not_reported_as_missing() {
    let d = tempfile::tempdir().unwrap();
    let l1 = d.path().join("loop1");
    std::os::unix::fs::symlink(d.path().join("loop2"), &l1).unwrap();
    std::os::unix::fs::symlink(&l1, d.path().join("loop2")).unwrap();
    let o = dotenv(&l1, &["get", "A"]);
    assert_eq!(code(&o), 1);
    assert!(last_line(&o.stderr)["suggestion"]
        .as_str()
        .unwrap()
        .contains("symlink loop"));
}

#[test]
fn list_counts_only_what_it_printed_and_warns_about_read_only_shell_names() {
    let (_d, p) = dir_with("UID=1\na.b=2\nC=3\n");
    for (format, want) in [
        ("export", "export UID=1\nexport C=3\n"),
        ("shell", "UID=1\nC=3\n"),
    ] {
        let o = dotenv(&p, &["list", "--format", format]);
        assert_eq!(out(&o), want, "{format}");
        let lines = json_lines(&o.stderr);
        assert_eq!(lines.last().unwrap()["keys"], 2, "{format}");
        assert!(
            has_message(
                &lines,
                "Key is a read-only shell variable: eval of this output fails in bash"
            ),
            "{format}"
        );
    }
}

#[test]
fn optional_files_and_defaults_on_missing_files() {
    let (d, p) = dir_with("A=1\n");
    let local = d.path().join(".env.local");
    let opt = format!("{}?", local.display());
    let o = cmd("pg-dotenv")
        .args(["-f", p.to_str().unwrap(), "-f", &opt, "get", "A"])
        .output()
        .unwrap();
    assert_eq!(out(&o), "1\n");
    std::fs::write(&local, "A=2\n").unwrap();
    let o = cmd("pg-dotenv")
        .args(["-f", p.to_str().unwrap(), "-f", &opt, "get", "A"])
        .output()
        .unwrap();
    assert_eq!(out(&o), "2\n");
    let o = cmd("pg-dotenv")
        .args([
            "-f",
            p.to_str().unwrap(),
            "--optional",
            "/nonexistent/.env.x",
            "get",
            "A",
        ])
        .output()
        .unwrap();
    assert_eq!(out(&o), "1\n");
    // Without `?` a missing file is still 66; `get --default` answers d.
    let missing = d.path().join("nope.env");
    assert_eq!(code(&dotenv(&missing, &["get", "A"])), 66);
    let o = dotenv(&missing, &["get", "A", "--default", "d"]);
    assert_eq!(code(&o), 0);
    assert_eq!(out(&o), "d\n");
}

#[test]
fn check_against_the_example_lists_and_fixes() {
    let d = tempfile::tempdir().unwrap();
    let ex = d.path().join(".env.example");
    std::fs::write(
        &ex,
        "# Database\nDATABASE_URL=postgres://localhost/app\n\n# Generate with: openssl rand -hex 32\nSECRET_KEY=\nPORT=8080\n",
    )
    .unwrap();
    let p = d.path().join(".env");
    std::fs::write(&p, "DATABASE_URL=postgres://prod/app # prod\nEXTRA=1\n").unwrap();
    let exs = ex.to_str().unwrap();
    let o = dotenv(&p, &["check", "--example", exs]);
    assert_eq!(code(&o), 1);
    assert_eq!(
        out(&o),
        "missing\tSECRET_KEY\nmissing\tPORT\nextra\tEXTRA\n"
    );
    let o = dotenv(&p, &["check", "--example", exs, "--fix"]);
    assert_eq!(code(&o), 0);
    assert_eq!(
        read(&p),
        "DATABASE_URL=postgres://prod/app # prod\n# Generate with: openssl rand -hex 32\nSECRET_KEY=\nPORT=8080\nEXTRA=1\n"
    );
    let o = dotenv(&p, &["check", "--example", exs]);
    assert_eq!(code(&o), 0);
    assert_eq!(out(&o), "extra\tEXTRA\n");
    // The fixed placeholder then gets a secret.
    assert_eq!(
        code(&dotenv(&p, &["generate", "SECRET_KEY", "--if-empty"])),
        0
    );
    assert_eq!(out(&dotenv(&p, &["get", "SECRET_KEY"])).trim().len(), 32);
}

/// psql to use: PostgreSQL 18's when the tests have it (its libpq knows the
/// 16–18 variables), else the harness server's.
fn psql() -> PathBuf {
    if let Some(d) = std::env::var_os("PGKIT_PG18_BINDIR") {
        let p = PathBuf::from(d).join("psql");
        if p.exists() {
            return p;
        }
    }
    let p = server().bindir().join("psql");
    if p.exists() {
        p
    } else {
        PathBuf::from("psql")
    }
}

#[test]
fn pgenv_exports_every_libpq_setting_and_refuses_what_has_no_variable() {
    let db = fresh_db("pgenv_all");
    let base = url(&db);
    let sep = if base.contains('?') { '&' } else { '?' };
    let params = "channel_binding=disable&target_session_attrs=read-write&hostaddr=127.0.0.1\
                  &gssencmode=disable&ssl_min_protocol_version=TLSv1.2&application_name=pgenv%20test\
                  &options=-c%20search_path%3Dpgenv_s&client_encoding=LATIN1&connect_timeout=7\
                  &require_auth=none&load_balance_hosts=disable&sslnegotiation=postgres\
                  &sslcertmode=disable&gssdelegation=0&min_protocol_version=3.0";
    let (_d, p) = dir_with(&format!("DATABASE_URL={base}{sep}{params}\n"));
    let o = dotenv(&p, &["pgenv"]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let text = out(&o);
    for var in [
        "PGCHANNELBINDING=disable",
        "PGTARGETSESSIONATTRS=read-write",
        "PGHOSTADDR=127.0.0.1",
        "PGGSSENCMODE=disable",
        "PGSSLMINPROTOCOLVERSION=TLSv1.2",
        "PGAPPNAME='pgenv test'",
        "PGCLIENTENCODING=LATIN1",
        "PGCONNECT_TIMEOUT=7",
        "PGREQUIREAUTH=none",
        "PGLOADBALANCEHOSTS=disable",
        "PGSSLNEGOTIATION=postgres",
        "PGSSLCERTMODE=disable",
        "PGGSSDELEGATION=0",
        "PGMINPROTOCOLVERSION=3.0",
    ] {
        assert!(text.contains(var), "{var} missing from {text}");
    }
    // psql reads them: the session shows the settings that reach the server.
    let script = "eval \"$(\"$0\" -f \"$1\" pgenv)\" && \"$2\" -XAtc \"select current_setting('application_name'), current_setting('search_path'), current_setting('client_encoding')\"";
    let o = std::process::Command::new("sh")
        .args(["-c", script])
        .arg(bin_path("pg-dotenv"))
        .arg(&p)
        .arg(psql())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(out(&o), "pgenv test|pgenv_s|LATIN1\n");
    // A setting libpq has no variable for is refused, never dropped.
    for extra in [
        "keepalives=1",
        "sslpassword=x",
        "fallback_application_name=x",
    ] {
        let (_d, p) = dir_with(&format!("DATABASE_URL={base}{sep}{extra}\n"));
        let o = dotenv(&p, &["pgenv"]);
        assert_eq!(code(&o), 78, "{extra}");
        let last = last_line(&o.stderr);
        assert_eq!(last["setting"], extra.split('=').next().unwrap());
        assert!(out(&o).is_empty());
    }
}

#[test]
fn a_file_whose_group_cannot_be_kept_says_group_not_user() {
    // The writer is `nobody` (setpriv, run as root): it owns the file, but
    // the file's group is root's, which it is not a member of, so the
    // replacement cannot keep that group.
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("note: not root; the group-refusal check needs setpriv as root, skipped");
        return;
    }
    let probe = std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(bin_path("pg-dotenv"))
        .arg("--version")
        .output();
    if !probe.map(|o| o.status.success()).unwrap_or(false) {
        eprintln!("note: cannot run pg-dotenv as nobody with setpriv; group-refusal check skipped");
        return;
    }
    let d = tempfile::tempdir().unwrap();
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let dir = d.path().join("app");
    std::fs::create_dir(&dir).unwrap();
    let p = dir.join(".env");
    std::fs::write(&p, "A=1\n").unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o660)).unwrap();
    std::os::unix::fs::chown(&dir, Some(65534), Some(65534)).unwrap();
    std::os::unix::fs::chown(&p, Some(65534), Some(0)).unwrap();
    let mut c = std::process::Command::new("setpriv");
    c.args([
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "--inh-caps=-all",
    ])
    .arg(bin_path("pg-dotenv"))
    .arg("-f")
    .arg(&p)
    .args(["set", "A", "2"])
    .current_dir(&dir);
    for v in cleared_vars() {
        c.env_remove(v);
    }
    let o = c.output().unwrap();
    // EPERM: the one permission code (77, issue 16).
    assert_eq!(code(&o), 77, "{}", String::from_utf8_lossy(&o.stderr));
    let last = last_line(&o.stderr);
    let error = last["error"].as_str().unwrap();
    assert!(error.contains("cannot keep the file's group"), "{error}");
    let suggestion = last["suggestion"].as_str().unwrap();
    assert!(
        suggestion.contains("member of the file's group"),
        "{suggestion}"
    );
    assert!(!suggestion.contains("owner"), "{suggestion}");
    assert_eq!(read(&p), "A=1\n");
}

#[test]
fn a_key_sh_cannot_assign_is_written_with_a_warning() {
    // Compose and python-dotenv read `1K=x` and `a.b=x`; sh runs such a
    // line as a command, so the writer says so.
    let (_d, p) = dir_with("A=1\n");
    let o = dotenv(&p, &["set", "1K", "x", "a.b=y", "OK", "z"]);
    assert_eq!(code(&o), 0);
    assert_eq!(read(&p), "A=1\n1K=x\na.b=y\nOK=z\n");
    let lines = json_lines(&o.stderr);
    let warned: Vec<&str> = lines_with(
        &lines,
        "Key is not a shell variable name: sh runs its line as a command when sourcing the file",
    )
    .iter()
    .map(|l| l["key"].as_str().unwrap())
    .collect();
    assert_eq!(warned, ["1K", "a.b"]);
    // A key with other characters is still a usage error, and says which.
    let o = dotenv(&p, &["set", "B@D", "x"]);
    assert_eq!(code(&o), 64);
    assert!(last_line(&o.stderr)["error"]
        .as_str()
        .unwrap()
        .contains("[A-Za-z0-9_.-]+"));
}
