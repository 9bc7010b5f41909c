//! pg-dotenv end to end: commands, exit codes, byte-for-byte preservation,
//! round trips through sh (and python-dotenv), locking, atomic writes and
//! their failures. Only `pgenv_output_connects_psql` needs a server.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;
use rand::{Rng, SeedableRng};
use serde_json::Value;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Output;

/// `sh` with the same clean environment as `cmd`.
fn sh() -> std::process::Command {
    let mut c = std::process::Command::new("sh");
    for v in cleared_vars() {
        c.env_remove(v);
    }
    c.env("HOME", empty_home());
    c
}

/// `pg-dotenv -f FILE`, as `cmd` makes it.
fn dotenv_cmd(file: &Path) -> assert_cmd::Command {
    let mut c = cmd("pg-dotenv");
    c.arg("-f").arg(file);
    c
}

fn dotenv(file: &Path, args: &[&str]) -> Output {
    dotenv_cmd(file).args(args).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn dir_with(text: &str) -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join(".env");
    std::fs::write(&p, text).unwrap();
    (d, p)
}

/// `list --format json` of the file, parsed.
fn list_json(file: &Path) -> Value {
    serde_json::from_slice(&dotenv(file, &["list", "--format", "json"]).stdout).unwrap()
}

/// Runs `pg-dotenv -f FILE set ARGS(i)` for i in 0..20 all at once (logging
/// errors only); asserts that every one succeeded.
fn twenty_concurrent_sets(file: &Path, args: impl Fn(usize) -> Vec<String>) {
    let children: Vec<_> = (0..20)
        .map(|i| {
            std::process::Command::new(bin_path("pg-dotenv"))
                .arg("-f")
                .arg(file)
                .arg("set")
                .args(args(i))
                .env("LOG_LEVEL", "error")
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
}

/// Opens `file` and takes an exclusive flock on it, held until the returned
/// file is dropped.
fn lock_exclusively(file: &Path) -> std::fs::File {
    let f = std::fs::File::open(file).unwrap();
    // SAFETY: flock on a descriptor this test owns.
    assert_eq!(
        unsafe { libc::flock(std::os::unix::io::AsRawFd::as_raw_fd(&f), libc::LOCK_EX) },
        0
    );
    f
}

fn no_temp_files_left(dir: &Path) {
    let left: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "temporary files left: {left:?}");
}

#[test]
fn get_prints_the_value_and_exits_1_when_absent() {
    let (_d, p) = dir_with("A=1\nEMPTY=\n");
    let o = dotenv(&p, &["get", "A"]);
    assert_eq!((code(&o), stdout(&o).as_str()), (0, "1\n"));
    let l = last_line(&o.stderr);
    assert_eq!(l["message"], "Key read");
    assert_eq!(l["exitCode"], 0);

    let o = dotenv(&p, &["get", "EMPTY"]);
    assert_eq!(
        (code(&o), stdout(&o).as_str()),
        (0, "\n"),
        "empty is present"
    );

    let o = dotenv(&p, &["get", "NOPE"]);
    assert_eq!((code(&o), stdout(&o).as_str()), (1, ""));
    let l = last_line(&o.stderr);
    assert_eq!(l["message"], "Key not found");
    assert_eq!(l["exitCode"], 1);
    assert_eq!(l["key"], "NOPE");

    let o = dotenv(&p, &["get", "NOPE", "--default", "-x y"]);
    assert_eq!((code(&o), stdout(&o).as_str()), (0, "-x y\n"));
    let o = dotenv(&p, &["get", "A", "--default", "d"]);
    assert_eq!(stdout(&o), "1\n");
}

#[test]
fn a_missing_file_is_66_for_reads() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("nope.env");
    for args in [
        &["get", "A"][..],
        &["list"],
        &["pgenv"],
        &["run", "--", "true"],
    ] {
        let o = dotenv(&p, args);
        assert_eq!(code(&o), 66, "{args:?}");
        let l = last_line(&o.stderr);
        assert_eq!(l["exitCode"], 66);
        assert!(l["suggestion"].is_string());
    }
    // unset on a missing file has nothing to do, and creates nothing.
    let o = dotenv(&p, &["unset", "A"]);
    assert_eq!(code(&o), 0);
    assert!(!p.exists());
}

#[test]
fn dotenv_file_env_and_default_file() {
    let (d, p) = dir_with("A=from-env-file\n");
    let o = cmd("pg-dotenv")
        .env("DOTENV_FILE", &p)
        .args(["get", "A"])
        .output()
        .unwrap();
    assert_eq!(stdout(&o), "from-env-file\n");
    std::fs::write(d.path().join(".env"), "A=default-file\n").unwrap();
    let o = cmd("pg-dotenv")
        .current_dir(d.path())
        .args(["get", "A"])
        .output()
        .unwrap();
    assert_eq!(stdout(&o), "default-file\n");
}

#[test]
fn repeated_files_later_wins_and_interpolates_across() {
    let d = tempfile::tempdir().unwrap();
    let a = d.path().join(".env.defaults");
    let b = d.path().join(".env");
    std::fs::write(&a, "HOST=localhost\nPORT=5432\nNAME=app\n").unwrap();
    std::fs::write(&b, "HOST=db\nURL=postgres://${HOST}:${PORT}/${NAME}\n").unwrap();
    let o = dotenv_cmd(&a)
        .arg("-f")
        .arg(&b)
        .args(["list", "--format", "json"])
        .output()
        .unwrap();
    assert_exit(&o, 0);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["HOST"], "db");
    assert_eq!(v["URL"], "postgres://db:5432/app");
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["HOST", "PORT", "NAME", "URL"]);
    // Writes go to exactly one file.
    let o = dotenv_cmd(&a)
        .arg("-f")
        .arg(&b)
        .args(["set", "X", "1"])
        .output()
        .unwrap();
    assert_eq!(code(&o), 64);
}

#[test]
fn no_interpolate_takes_values_as_written() {
    let (_d, p) = dir_with("B=x\nK=\"$B ${B} \\$ $$\"\n");
    let o = dotenv(&p, &["get", "K"]);
    assert_eq!(stdout(&o), "x x $ $\n");
    let o = dotenv(&p, &["--no-interpolate", "get", "K"]);
    assert_eq!(stdout(&o), "$B ${B} $ $$\n");
}

#[test]
fn duplicates_last_wins_with_a_warning() {
    let (_d, p) = dir_with("A=1\nB=2\nA=3\n");
    let o = dotenv(&p, &["get", "A"]);
    assert_eq!(stdout(&o), "3\n");
    let lines = json_lines(&o.stderr);
    let w = first_with(&lines, "Duplicate key; the last occurrence wins");
    assert_eq!(w["level"], "warn");
    assert_eq!(w["key"], "A");
    assert_eq!(w["lines"], serde_json::json!([1, 3]));

    let o = dotenv(&p, &["set", "A", "9"]);
    assert_eq!(code(&o), 0);
    assert_eq!(std::fs::read_to_string(&p).unwrap(), "A=1\nB=2\nA=9\n");
    let lines = json_lines(&o.stderr);
    assert!(has_message(
        &lines,
        "Duplicate key; only the last occurrence is changed"
    ));
}

#[test]
fn set_forms_and_set_if_absent() {
    let (_d, p) = dir_with("A=old\n");
    let o = dotenv(
        &p,
        &[
            "set", "A", "new", "B=two=2", "C", "+dflt", "A2", "+", "P", "++plus", "Q=++x", "A",
            "+ignored",
        ],
    );
    assert_exit(&o, 0);
    assert_eq!(
        std::fs::read_to_string(&p).unwrap(),
        "A=new\nB=two=2\nC=dflt\nA2=\nP=+plus\nQ=+x\n"
    );
    let l = last_line(&o.stderr);
    assert_eq!(l["message"], "Keys set");
    assert_eq!(l["changed"], serde_json::json!(["A"]));
    // Set-if-absent leaves a present key, even an empty one.
    let o = dotenv(&p, &["set", "A2", "+x", "C=+y"]);
    assert_eq!(code(&o), 0);
    assert_eq!(last_line(&o.stderr)["message"], "Nothing to change");
    let o = dotenv(&p, &["get", "A2"]);
    assert_eq!(stdout(&o), "\n");
    // A value that starts with '-' needs `--` first, or KEY=VALUE; alone
    // it is a usage error, never saved (issue 20: `set K -h` saved "-h").
    let o = dotenv(&p, &["set", "D", "-x"]);
    assert_eq!(code(&o), 64);
    let o = dotenv(&p, &["set", "--", "D", "-x"]);
    assert_eq!(code(&o), 0);
    assert_eq!(stdout(&dotenv(&p, &["get", "D"])), "-x\n");
    let o = dotenv(&p, &["set", "E=-y"]);
    assert_eq!(code(&o), 0);
    assert_eq!(stdout(&dotenv(&p, &["get", "E"])), "-y\n");
}

#[test]
fn set_usage_errors_are_64_and_write_nothing() {
    let (_d, p) = dir_with("A=1\n");
    for args in [
        &["set", "B"][..],
        &["set", "A=2", "B"],
        &["set", "B@D", "x"],
        &["set", "BAD KEY=x"],
        &["set"],
        &["unset", "B@D"],
        &["get", "BAD KEY"],
    ] {
        let o = dotenv(&p, args);
        assert_eq!(code(&o), 64, "{args:?}");
        assert_eq!(last_line(&o.stderr)["exitCode"], 64);
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "A=1\n", "{args:?}");
    }
}

#[test]
fn a_line_no_reader_agrees_on_costs_only_its_key() {
    let text = "A=1\nB='open\nC=3\n";
    let (d, p) = dir_with(text);
    // Setting the broken line's own key is refused, naming the line.
    let o = dotenv(&p, &["set", "B", "2"]);
    assert_eq!(code(&o), 65);
    let l = last_line(&o.stderr);
    assert!(l["error"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{}:2:3: expected", p.display())));
    assert_eq!(std::fs::read_to_string(&p).unwrap(), text);
    no_temp_files_left(d.path());
    let o = dotenv(&p, &["get", "B"]);
    assert_eq!(code(&o), 65);
    // Every other key reads and writes, with a warning naming the line;
    // the broken line's bytes stay as they were.
    let o = dotenv(&p, &["get", "C"]);
    assert_eq!(code(&o), 0);
    assert_eq!(stdout(&o), "3\n");
    let w = first_with(
        &json_lines(&o.stderr),
        "Line not understood; its key is left out",
    )
    .clone();
    assert_eq!(w["line"], 2);
    assert_eq!(w["key"], "B");
    let o = dotenv(&p, &["set", "A", "2"]);
    assert_eq!(code(&o), 0);
    assert_eq!(std::fs::read_to_string(&p).unwrap(), "A=2\nB='open\nC=3\n");
    // Files written by python-dotenv: `'O\\'Brien'` reads as O'Brien.
    let (_d2, p2) = dir_with("NAME='O\\'Brien'\nOTHER=x\n");
    assert_eq!(stdout(&dotenv(&p2, &["get", "NAME"])), "O'Brien\n");
    assert_eq!(stdout(&dotenv(&p2, &["get", "OTHER"])), "x\n");
}

#[test]
fn unset_removes_every_occurrence_and_nothing_else() {
    let (_d, p) = dir_with("# head\r\nA=1\r\nexport B='x\r\ny' # c\r\n\r\nA=2\r\nC=3");
    let o = dotenv(&p, &["unset", "A", "NOPE"]);
    assert_eq!(code(&o), 0);
    assert_eq!(
        std::fs::read_to_string(&p).unwrap(),
        "# head\r\nexport B='x\r\ny' # c\r\n\r\nC=3"
    );
    let l = last_line(&o.stderr);
    assert_eq!(l["removed"], serde_json::json!(["A"]));
    assert_eq!(l["absent"], serde_json::json!(["NOPE"]));
    let o = dotenv(&p, &["unset", "C"]);
    assert_eq!(code(&o), 0);
    assert_eq!(
        std::fs::read_to_string(&p).unwrap(),
        "# head\r\nexport B='x\r\ny' # c\r\n",
        "the file had no final newline; the line before the removed one keeps its own"
    );
}

/// The fixture of the preservation tests: comments, blank lines, export,
/// every quoting style, CRLF on some lines, a multi-line value, a duplicate,
/// trailing blanks, and no final newline.
const FIXTURE: &str = concat!(
    "\u{feff}# Production settings -- do not edit by hand\n",
    "\n",
    "export DATABASE_URL=postgres://app:s3cret@db:5432/app   # primary\n",
    "  REDIS_URL = 'redis://cache:6379/0'\r\n",
    "# a comment with 'quotes' and \"doubles\" and $VARS\n",
    "SECRET=\"multi\nline\\tvalue\"  \n",
    "\t\n",
    "EMPTY=\n",
    "DUP=first\n",
    "export API_KEY='abc#def' # keep me\r\n",
    "DUP=second\n",
    "LAST=final"
);

#[test]
fn untouched_bytes_stay_byte_for_byte() {
    let (d, p) = dir_with(FIXTURE);
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();

    // Change a bare value: only its bytes change; export and comment stay.
    let o = dotenv(
        &p,
        &["set", "DATABASE_URL", "postgres://app:n3w pass@db/app"],
    );
    assert_exit(&o, 0);
    let want = FIXTURE.replace(
        "postgres://app:s3cret@db:5432/app   # primary",
        "'postgres://app:n3w pass@db/app'   # primary",
    );
    assert_eq!(std::fs::read_to_string(&p).unwrap(), want);

    // A CRLF line keeps its CRLF and its quotes style changes only as needed.
    let o = dotenv(&p, &["set", "REDIS_URL=redis://other:6379/1"]);
    assert_eq!(code(&o), 0);
    let want = want.replace(
        "  REDIS_URL = 'redis://cache:6379/0'\r\n",
        "  REDIS_URL =redis://other:6379/1\r\n",
    );
    assert_eq!(std::fs::read_to_string(&p).unwrap(), want);

    // The multi-line value, the duplicate (last one changed), the last line.
    let o = dotenv(
        &p,
        &["set", "SECRET", "it's", "DUP", "third", "LAST", "x y"],
    );
    assert_eq!(code(&o), 0);
    let want = want
        .replace("SECRET=\"multi\nline\\tvalue\"  \n", "SECRET=\"it's\"  \n")
        .replace("DUP=second", "DUP=third")
        .replace("LAST=final", "LAST='x y'");
    assert_eq!(std::fs::read_to_string(&p).unwrap(), want);

    // A new key is appended; the file still has no final newline.
    let o = dotenv(&p, &["set", "NEW_KEY", "v"]);
    assert_eq!(code(&o), 0);
    let want = format!("{want}\nNEW_KEY=v");
    assert_eq!(std::fs::read_to_string(&p).unwrap(), want);

    // Setting the same value again writes nothing.
    let ino = std::fs::metadata(&p).unwrap().ino();
    let o = dotenv(&p, &["set", "NEW_KEY", "v"]);
    assert_eq!(last_line(&o.stderr)["message"], "Nothing to change");
    assert_eq!(std::fs::metadata(&p).unwrap().ino(), ino);

    // Every value still reads; the mode is kept; no temp files are left.
    let v = list_json(&p);
    assert_eq!(v["API_KEY"], "abc#def");
    assert_eq!(v["SECRET"], "it's");
    assert_eq!(v["EMPTY"], "");
    assert_eq!(v["DUP"], "third");
    assert_eq!(
        std::fs::metadata(&p).unwrap().permissions().mode() & 0o7777,
        0o640
    );
    no_temp_files_left(d.path());
}

#[test]
fn crlf_files_stay_crlf() {
    let (_d, p) = dir_with("A=1\r\nB=2\r\n");
    let o = dotenv(&p, &["set", "A", "x y", "C", "3"]);
    assert_eq!(code(&o), 0);
    assert_eq!(
        std::fs::read_to_string(&p).unwrap(),
        "A='x y'\r\nB=2\r\nC=3\r\n"
    );
}

#[test]
fn a_new_file_is_created_with_mode_0600() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("new.env");
    let o = dotenv(&p, &["set", "A", "1"]);
    assert_exit(&o, 0);
    assert_eq!(std::fs::read_to_string(&p).unwrap(), "A=1\n");
    assert_eq!(
        std::fs::metadata(&p).unwrap().permissions().mode() & 0o7777,
        0o600
    );
}

#[test]
fn mode_0640_is_kept() {
    let (_d, p) = dir_with("A=1\n");
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
    let before = std::fs::metadata(&p).unwrap();
    let o = dotenv(&p, &["set", "A", "2"]);
    assert_eq!(code(&o), 0);
    let after = std::fs::metadata(&p).unwrap();
    assert_ne!(before.ino(), after.ino(), "replaced by rename");
    assert_eq!(after.permissions().mode() & 0o7777, 0o640);
    assert_eq!((after.uid(), after.gid()), (before.uid(), before.gid()));
    if is_root() {
        // Root editing another user's file gives it back to that user.
        std::os::unix::fs::chown(&p, Some(65534), Some(65534)).unwrap();
        let o = dotenv(&p, &["set", "A", "3"]);
        assert_eq!(code(&o), 0);
        let m = std::fs::metadata(&p).unwrap();
        assert_eq!((m.uid(), m.gid()), (65534, 65534));
        assert_eq!(m.permissions().mode() & 0o7777, 0o640);
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "A=3\n");
    }
}

#[test]
fn a_symlink_stays_a_link_and_its_target_is_updated() {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join("shared")).unwrap();
    let target = d.path().join("shared/prod.env");
    std::fs::write(&target, "A=1\n").unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).unwrap();
    let link = d.path().join(".env");
    std::os::unix::fs::symlink("shared/prod.env", &link).unwrap();
    let o = dotenv(&link, &["set", "A", "2", "B", "3"]);
    assert_exit(&o, 0);
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        std::fs::read_link(&link).unwrap(),
        PathBuf::from("shared/prod.env")
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "A=2\nB=3\n");
    assert_eq!(
        std::fs::metadata(&target).unwrap().permissions().mode() & 0o7777,
        0o640
    );
    no_temp_files_left(&d.path().join("shared"));
    no_temp_files_left(d.path());
}

#[test]
fn a_hard_link_is_replaced_under_its_name_with_a_warning() {
    let (d, p) = dir_with("A=1\n");
    let other = d.path().join("other.env");
    std::fs::hard_link(&p, &other).unwrap();
    let o = dotenv(&p, &["set", "A", "2"]);
    assert_exit(&o, 0);
    let lines = json_lines(&o.stderr);
    let warn = first_with(
        &lines,
        "The file had other hard links; they keep the old content",
    );
    assert_eq!(warn["level"], "warn");
    assert_eq!(warn["links"], 2);
    assert_eq!(std::fs::read_to_string(&p).unwrap(), "A=2\n");
    assert_eq!(std::fs::read_to_string(&other).unwrap(), "A=1\n");
}

#[test]
fn twenty_concurrent_sets_all_land() {
    let (_d, p) = dir_with("# shared\nEXISTING=1\n");
    twenty_concurrent_sets(&p, |i| vec![format!("KEY_{i}"), format!("value {i}")]);
    let v = list_json(&p);
    for i in 0..20 {
        assert_eq!(v[format!("KEY_{i}")], format!("value {i}"), "KEY_{i}");
    }
    assert_eq!(v["EXISTING"], "1");
    assert_eq!(v.as_object().unwrap().len(), 21);
    let text = std::fs::read_to_string(&p).unwrap();
    assert!(text.starts_with("# shared\nEXISTING=1\n"));
    assert_eq!(text.lines().count(), 22);
}

#[test]
fn twenty_concurrent_sets_on_a_file_that_does_not_exist_yet() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("fresh.env");
    twenty_concurrent_sets(&p, |i| vec![format!("K{i}=v{i}")]);
    let v = list_json(&p);
    assert_eq!(v.as_object().unwrap().len(), 20, "{v}");
    for i in 0..20 {
        assert_eq!(v[format!("K{i}")], format!("v{i}"));
    }
    assert_eq!(
        std::fs::metadata(&p).unwrap().permissions().mode() & 0o7777,
        0o600
    );
    no_temp_files_left(d.path());
}

/// Whether this process runs as root (chmod does not stop root's writes).
fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

#[test]
fn a_read_only_directory_fails_with_the_original_intact() {
    // As root, a read-only mode stops nothing, so the write runs as `nobody`
    // (setpriv) in a root-owned 0755 directory; as another user, the
    // directory is simply made 0555. Either way the temporary file cannot
    // be created next to the target.
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("ro");
    std::fs::create_dir(&dir).unwrap();
    let p = dir.join(".env");
    std::fs::write(&p, "A=1 # keep\n").unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = if is_root() {
        // Probe: setpriv exists, may switch users here, and `nobody` can run
        // the binary (its directories must be searchable).
        let probe = std::process::Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(bin_path("pg-dotenv"))
            .arg("--version")
            .output();
        if !probe.map(|o| o.status.success()).unwrap_or(false) {
            eprintln!("note: cannot run pg-dotenv as nobody with setpriv; read-only directory test skipped as root");
            return;
        }
        std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
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
        c.output().unwrap()
    } else {
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o555)).unwrap();
        let o = dotenv(&p, &["set", "A", "2"]);
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        o
    };
    // Permission and read-only file system errors are 77 in every tool.
    assert_exit(&out, 77);
    let l = last_line(&out.stderr);
    assert_eq!(l["exitCode"], 77);
    assert!(
        l["message"].as_str().unwrap().starts_with("Cannot write"),
        "{l}"
    );
    assert!(
        l["error"].as_str().unwrap().contains("ermission denied"),
        "{l}"
    );
    assert_eq!(std::fs::read_to_string(&p).unwrap(), "A=1 # keep\n");
    no_temp_files_left(&dir);
}

#[test]
fn a_full_disk_fails_with_the_original_intact() {
    // RLIMIT_FSIZE=0 makes every write that grows a file fail with EFBIG,
    // as a full disk does, for root and everyone else alike.
    let (d, p) = dir_with("A=1\n");
    let o = sh()
        .args(["-c", "ulimit -f 0 && exec \"$0\" \"$@\""])
        .arg(bin_path("pg-dotenv"))
        .arg("-f")
        .arg(&p)
        .args(["set", "A", "2", "B", "a longer value"])
        .output()
        .unwrap();
    assert_exit(&o, 1);
    let l = last_line(&o.stderr);
    assert!(l["message"].as_str().unwrap().starts_with("Cannot write"));
    assert!(l["error"].as_str().unwrap().contains("too large"), "{l}");
    assert_eq!(std::fs::read_to_string(&p).unwrap(), "A=1\n");
    no_temp_files_left(d.path());

    // A file that did not exist is not left behind empty.
    let p2 = d.path().join("new.env");
    let o = sh()
        .args(["-c", "ulimit -f 0 && exec \"$0\" \"$@\""])
        .arg(bin_path("pg-dotenv"))
        .arg("-f")
        .arg(&p2)
        .args(["set", "A", "2"])
        .output()
        .unwrap();
    assert_eq!(code(&o), 1);
    assert!(!p2.exists());
    no_temp_files_left(d.path());
}

/// A random value: ASCII punctuation, letters, digits, blanks, newlines and
/// some non-ASCII characters.
fn random_value(rng: &mut rand::rngs::StdRng) -> String {
    const POOL: &[&str] = &[
        "!", "\"", "#", "$", "%", "&", "'", "(", ")", "*", "+", ",", "-", ".", "/", ":", ";", "<",
        "=", ">", "?", "@", "[", "\\", "]", "^", "_", "`", "{", "|", "}", "~", " ", " ", "\t",
        "\n", "a", "Z", "0", "9", "é", "日本", "🎉", "\u{a0}", "${HOME}", "$PATH", "\\n", "\\\\",
        "''", "\"\"", " #", "$$", "\r",
    ];
    let len = rng.gen_range(0..16);
    (0..len)
        .map(|_| POOL[rng.gen_range(0..POOL.len())])
        .collect()
}

/// Whether python-dotenv can read `v` back as written by pg-dotenv (see
/// man/pg-dotenv.1: it has no `\$`/`` \` `` escapes, expands `${` even in
/// single quotes, reads CR as a newline, and its quoted-value pattern runs
/// past a closing quote that follows an escaped backslash).
fn python_can_read(v: &str) -> bool {
    let double = v.contains('\'') || v.contains("\\\\") || v.ends_with('\\');
    !v.contains('\r')
        && !v.contains("${")
        && !v.ends_with('\\')
        && !(double && (v.contains('$') || v.contains('`')))
}

#[test]
fn random_values_round_trip_through_pg_dotenv_sh_and_python_dotenv() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x5eed_d07e);
    let d = tempfile::tempdir().unwrap();
    let have_python = std::process::Command::new("python3")
        .args(["-c", "import dotenv"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !have_python {
        eprintln!("note: python-dotenv is not installed (pip install python-dotenv); its part of the round trip is skipped");
    }
    let mut cases = 0;
    let mut py_cases = 0;
    for batch in 0..30 {
        let p = d.path().join(format!("rt{batch}.env"));
        std::fs::write(&p, "# round trip\n").unwrap();
        let values: Vec<String> = (0..10).map(|_| random_value(&mut rng)).collect();
        let keys: Vec<String> = (0..10).map(|i| format!("K{i}")).collect();
        let mut args: Vec<&str> = vec!["set", "--"];
        for (k, v) in keys.iter().zip(&values) {
            args.push(k);
            // A leading '+' asks for set-if-absent: '++' escapes it.
            args.push(v);
        }
        let escaped: Vec<String> = values
            .iter()
            .map(|v| {
                if v.starts_with('+') {
                    format!("+{v}")
                } else {
                    v.clone()
                }
            })
            .collect();
        for (i, e) in escaped.iter().enumerate() {
            args[3 + 2 * i] = e;
        }
        let o = dotenv(&p, &args);
        assert_exit(&o, 0);

        // get, one key at a time.
        for (k, v) in keys.iter().zip(&values) {
            let o = dotenv(&p, &["get", k]);
            assert_eq!(code(&o), 0);
            assert_eq!(stdout(&o), format!("{v}\n"), "get {k} of {v:?}");
            cases += 1;
        }

        // POSIX sh.
        let script = format!(
            "set -a; . '{}'; printf '%s\\0' {}",
            p.display(),
            keys.iter()
                .map(|k| format!("\"${k}\""))
                .collect::<Vec<_>>()
                .join(" ")
        );
        let o = std::process::Command::new("sh")
            .args(["-c", &script])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let got: Vec<&str> = std::str::from_utf8(&o.stdout)
            .unwrap()
            .split('\0')
            .collect();
        for (i, v) in values.iter().enumerate() {
            assert_eq!(got[i], v, "sh reads K{i} back");
        }

        // python-dotenv, where it can represent the value: a file of its own,
        // since a value it misreads can swallow the lines after it.
        if have_python {
            let pp = d.path().join(format!("rt{batch}.py.env"));
            let mut args: Vec<&str> = vec!["set", "--"];
            let mut readable = Vec::new();
            for (i, v) in values.iter().enumerate() {
                if python_can_read(v) {
                    args.push(&keys[i]);
                    args.push(&escaped[i]);
                    readable.push(i);
                }
            }
            if readable.is_empty() {
                continue;
            }
            assert_eq!(code(&dotenv(&pp, &args)), 0);
            let o = std::process::Command::new("python3")
                .args([
                    "-c",
                    "import json,sys; from dotenv import dotenv_values; print(json.dumps(dotenv_values(sys.argv[1])))",
                ])
                .arg(&pp)
                .output()
                .unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            let v: Value = serde_json::from_slice(&o.stdout).unwrap();
            for i in readable {
                assert_eq!(
                    v[&keys[i]],
                    values[i].as_str(),
                    "python-dotenv reads {} back from {:?}",
                    keys[i],
                    std::fs::read_to_string(&pp).unwrap()
                );
                py_cases += 1;
            }
        }
    }
    assert!(
        py_cases >= 100 || !have_python,
        "{py_cases} python-dotenv cases"
    );
    assert!(cases >= 300);
}

#[test]
fn list_formats_are_safe_to_eval() {
    let (_d, p) = dir_with("");
    std::fs::write(
        &p,
        "A=\"it's\"\nB=\"it's \\$HOME \\`whoami\\` \\\\ \\\"q\\\"\nline\"\nC=plain\nD.E=dotted\nEMPTY=\n",
    )
    .unwrap();
    let want_b = "it's $HOME `whoami` \\ \"q\"\nline";
    for format in ["shell", "export"] {
        let o = dotenv(&p, &["list", "--format", format]);
        assert_exit(&o, 0);
        let text = stdout(&o);
        assert!(!text.contains("D.E"), "invalid shell names are left out");
        assert!(has_message(
            &json_lines(&o.stderr),
            "Key is not a valid shell variable name; left out"
        ));
        let script =
            "eval \"$1\"; printf '%s\\0' \"$A\" \"$B\" \"$C\" \"$EMPTY\"; sh -c 'printf %s \"$C\"'";
        let o = std::process::Command::new("sh")
            .args(["-c", script, "sh", &text])
            .output()
            .unwrap();
        let out = String::from_utf8(o.stdout).unwrap();
        let parts: Vec<&str> = out.split('\0').collect();
        assert_eq!(parts[..4], ["it's", want_b, "plain", ""], "{format}");
        // Only `export` exports.
        assert_eq!(parts[4], if format == "export" { "plain" } else { "" });
    }
    let v = list_json(&p);
    assert_eq!(v["B"], want_b);
    assert_eq!(v["D.E"], "dotted");
    // dotenv format reads back to the same values.
    let o = dotenv(&p, &["list"]);
    let (_d2, p2) = dir_with(&stdout(&o));
    let o2 = dotenv(&p2, &["list", "--format", "json"]);
    assert_eq!(serde_json::from_slice::<Value>(&o2.stdout).unwrap(), v);
}

#[test]
fn generate_sets_a_secret_once() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join(".env");
    let o = dotenv(&p, &["generate", "DB_PASSWORD"]);
    assert_exit(&o, 0);
    assert_eq!(stdout(&o), "", "nothing secret without --print");
    let l = last_line(&o.stderr);
    assert_eq!(l["message"], "Secret generated");
    assert_eq!(l["generated"], true);
    let first = stdout(&dotenv(&p, &["get", "DB_PASSWORD"]));
    assert_eq!(first.trim_end().len(), 32);
    assert!(first.trim_end().chars().all(|c| c.is_ascii_alphanumeric()));
    assert!(!String::from_utf8_lossy(&o.stderr).contains(first.trim_end()));
    assert_eq!(
        std::fs::metadata(&p).unwrap().permissions().mode() & 0o7777,
        0o600
    );

    // A second run leaves it; --print shows the value in place.
    let o = dotenv(&p, &["generate", "DB_PASSWORD", "--print"]);
    assert_eq!(code(&o), 0);
    assert_eq!(stdout(&o), first);
    assert_eq!(last_line(&o.stderr)["generated"], false);

    let o = dotenv(
        &p,
        &[
            "generate",
            "HEX",
            "--length",
            "64",
            "--charset",
            "hex",
            "--print",
        ],
    );
    let hex = stdout(&o);
    assert_eq!(hex.trim_end().len(), 64);
    assert!(hex.trim_end().chars().all(|c| c.is_ascii_hexdigit()));
    let o = dotenv(
        &p,
        &[
            "generate",
            "B64",
            "--length",
            "48",
            "--charset",
            "base64url",
            "--print",
        ],
    );
    let b = stdout(&o);
    assert_eq!(b.trim_end().len(), 48);
    assert!(b
        .trim_end()
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    assert_ne!(
        stdout(&dotenv(&p, &["generate", "X1", "--print"])),
        stdout(&dotenv(&p, &["generate", "X2", "--print"]))
    );
    let o = dotenv(&p, &["generate", "X3", "--length", "0"]);
    assert_eq!(code(&o), 64);
    assert_eq!(last_line(&o.stderr)["message"], "Invalid length");
    assert!(last_line(&o.stderr)["suggestion"].is_string());
}

#[test]
fn run_execs_with_the_values_and_existing_variables_win() {
    let (_d, p) = dir_with("FROM_FILE='a b'\nSHARED=file\n");
    let o = dotenv_cmd(&p)
        .env("SHARED", "env")
        .args([
            "run",
            "--",
            "sh",
            "-c",
            "printf '%s|%s|%s' \"$FROM_FILE\" \"$SHARED\" \"$1\"",
            "sh",
            "-x",
        ])
        .output()
        .unwrap();
    assert_exit(&o, 0);
    assert_eq!(stdout(&o), "a b|env|-x");
    let o = dotenv_cmd(&p)
        .env("SHARED", "env")
        .args([
            "run",
            "--override",
            "--",
            "sh",
            "-c",
            "printf %s \"$SHARED\"; exit 7",
        ])
        .output()
        .unwrap();
    assert_eq!(code(&o), 7, "the command's own exit status");
    assert_eq!(stdout(&o), "file");
    let o = dotenv(&p, &["run", "--", "/nonexistent/program"]);
    assert_eq!(code(&o), 127);
    assert_eq!(last_line(&o.stderr)["message"], "Cannot run the command");
}

#[test]
fn pgenv_from_postgres_keys_is_shell_quoted() {
    let (_d, p) = dir_with(
        "POSTGRES_HOST=db.internal\nPOSTGRES_PORT=6543\nPOSTGRES_USER=app\nPOSTGRES_PASSWORD='p@ss w\"rd $x'\n",
    );
    let o = dotenv(&p, &["pgenv"]);
    assert_exit(&o, 0);
    assert_eq!(
        stdout(&o),
        "export PGHOST=db.internal PGPORT=6543 PGUSER=app PGPASSWORD='p@ss w\"rd $x' PGDATABASE=app PGSSLMODE=prefer\n"
    );
    assert!(!String::from_utf8_lossy(&o.stderr).contains("w\"rd"));
    // With a prefix, and without a password: a stale one is unset.
    let (_d, p) = dir_with("TEST_DATABASE_URL=postgresql://u@h:1/d?sslmode=require\n");
    let o = dotenv(&p, &["pgenv", "--prefix", "TEST_"]);
    assert_eq!(
        stdout(&o),
        "export PGHOST=h PGPORT=1 PGUSER=u PGDATABASE=d PGSSLMODE=require\nunset PGPASSWORD\n"
    );
    let o = dotenv(&p, &["pgenv"]);
    assert_eq!(code(&o), 1);
    assert_eq!(
        last_line(&o.stderr)["message"],
        "No connection settings in the file"
    );
    let (_d, p) = dir_with("DATABASE_URL=postgresql://u:s3cr%ZZet@h:notaport/d\n");
    let o = dotenv(&p, &["pgenv"]);
    assert_eq!(code(&o), 78);
    assert_eq!(stdout(&o), "");
    let l = last_line(&o.stderr);
    assert_eq!(l["message"], "Invalid connection string");
    assert_eq!(l["key"], "DATABASE_URL");
    assert!(l["suggestion"].is_string());
    assert!(!String::from_utf8_lossy(&o.stderr).contains("s3cr"));
}

#[test]
fn pgenv_output_connects_psql() {
    // A server of its own, with a SCRAM password full of shell metacharacters:
    // trust authentication would let psql in whatever PGPASSWORD said.
    let password = "pa ss'w\"rd$`x`\\!";
    let srv = server_with_password(password);
    srv.create_database("dotenv_app").unwrap();
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join(".env");
    let o = dotenv(&p, &["set", "DATABASE_URL", &srv.url("dotenv_app")]);
    assert_exit(&o, 0);
    assert!(!String::from_utf8_lossy(&o.stderr).contains("w\"rd"));

    let psql = srv.bindir().join("psql");
    let psql = if psql.exists() {
        psql
    } else {
        PathBuf::from("psql")
    };
    let script = "eval \"$(\"$0\" -f \"$1\" pgenv)\" && \"$2\" -XAtc 'select current_user, current_database()'";
    let o = sh()
        .args(["-c", script])
        .arg(bin_path("pg-dotenv"))
        .arg(&p)
        .arg(&psql)
        .env("PGPASSWORD", "stale-wrong-password")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(stdout(&o), "postgres|dotenv_app\n");
    // A wrong password in the file really fails: the password is what let us in.
    let o = dotenv(
        &p,
        &[
            "set",
            "DATABASE_URL",
            &srv.url("dotenv_app").replace("pa%20ss", "nope"),
        ],
    );
    assert_eq!(code(&o), 0);
    let o = sh()
        .args(["-c", script])
        .arg(bin_path("pg-dotenv"))
        .arg(&p)
        .arg(&psql)
        .output()
        .unwrap();
    assert!(!o.status.success());
}

#[test]
fn the_man_page_is_current_and_the_help_short() {
    let o = cmd("pg-dotenv").arg("--generate-man").output().unwrap();
    assert_eq!(code(&o), 0);
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/man/pg-dotenv.1")).unwrap();
    assert!(
        stdout(&o) == committed,
        "man/pg-dotenv.1 is stale: target/debug/pg-dotenv --generate-man > man/pg-dotenv.1"
    );
    for section in [
        ".SH GRAMMAR",
        ".SH WRITING",
        ".SH ENVIRONMENT",
        ".SH EXAMPLES",
        ".SH \"EXIT STATUS\"",
    ] {
        assert!(committed.contains(section), "{section}");
    }
    let o = cmd("pg-dotenv").arg("--help").output().unwrap();
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).contains("[default: 10s]"));
    // Short everywhere: one line per option, no long-help page.
    for sub in ["get", "set", "unset", "list", "generate", "pgenv", "run"] {
        let o = cmd("pg-dotenv").args([sub, "--help"]).output().unwrap();
        assert_eq!(code(&o), 0, "{sub}");
        let text = stdout(&o);
        assert!(
            !text.contains("Possible values:") && !text.contains("see a summary with '-h'"),
            "{sub} --help is the long form:\n{text}"
        );
    }
    let o = cmd("pg-dotenv")
        .env("DOTENV_LOCK_TIMEOUT", "soon")
        .args(["get", "A"])
        .output()
        .unwrap();
    assert_eq!(code(&o), 78);
    let o = cmd("pg-dotenv")
        .args(["--lock-timeout", "soon", "get", "A"])
        .output()
        .unwrap();
    assert_eq!(code(&o), 64);
}

#[test]
fn a_held_lock_times_out_with_75_and_writes_nothing() {
    let (_d, p) = dir_with("A=1\n");
    let f = lock_exclusively(&p);
    let o = dotenv(&p, &["--lock-timeout", "200ms", "set", "A", "2"]);
    assert_exit(&o, 75);
    assert_eq!(
        last_line(&o.stderr)["message"],
        format!("Cannot lock {}", p.display())
    );
    assert_eq!(std::fs::read_to_string(&p).unwrap(), "A=1\n");
    // Readers take no lock.
    assert_eq!(stdout(&dotenv(&p, &["get", "A"])), "1\n");
    drop(f);
    assert_eq!(code(&dotenv(&p, &["set", "A", "2"])), 0);
}

#[test]
fn sigterm_while_waiting_for_the_lock_is_143_and_writes_nothing() {
    let (d, p) = dir_with("A=1\n");
    let _lock = lock_exclusively(&p);
    let child = std::process::Command::new(bin_path("pg-dotenv"))
        .arg("-f")
        .arg(&p)
        .args(["--lock-timeout", "60s", "set", "A", "2"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    signal(child.id() as i32, libc::SIGTERM);
    let o = child.wait_with_output().unwrap();
    assert_exit(&o, 143);
    assert_eq!(last_line(&o.stderr)["exitCode"], 143);
    assert_eq!(std::fs::read_to_string(&p).unwrap(), "A=1\n");
    no_temp_files_left(d.path());
}

#[test]
fn unrepresentable_input_is_65() {
    use std::os::unix::ffi::OsStrExt;
    let (_d, p) = dir_with("A=1\n");
    // A value that is not UTF-8 (a NUL cannot travel in argv at all; the
    // quoting refuses one too, see quote.rs's unit tests).
    let o = dotenv_cmd(&p)
        .args(["set", "B"])
        .arg(std::ffi::OsStr::from_bytes(b"\xff\xfe"))
        .output()
        .unwrap();
    assert_exit(&o, 65);
    assert_eq!(last_line(&o.stderr)["message"], "Cannot write the value");
    assert!(last_line(&o.stderr)["suggestion"].is_string());
    assert_eq!(std::fs::read_to_string(&p).unwrap(), "A=1\n");
    // A file that is not UTF-8 or has a NUL byte: 65 with the position.
    std::fs::write(&p, b"A=1\nB=\xff\n").unwrap();
    let o = dotenv(&p, &["get", "A"]);
    assert_eq!(code(&o), 65);
    assert!(last_line(&o.stderr)["error"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{}:2:3: expected UTF-8", p.display())));
    std::fs::write(&p, b"A=1\nB=x\0y\n").unwrap();
    let o = dotenv(&p, &["set", "A", "2"]);
    assert_eq!(code(&o), 65);
    assert_eq!(std::fs::read(&p).unwrap(), b"A=1\nB=x\0y\n");
}

#[test]
fn the_environment_wins_in_expansion_as_in_compose_and_run() {
    let (_d, p) = dir_with("DB_HOST=localhost\nURL=postgres://${DB_HOST}/app\n");
    let get = |env: Option<&str>| {
        let mut c = cmd("pg-dotenv");
        if let Some(v) = env {
            c.env("DB_HOST", v);
        }
        stdout(&c.arg("-f").arg(&p).args(["get", "URL"]).output().unwrap())
    };
    assert_eq!(get(None), "postgres://localhost/app\n");
    assert_eq!(get(Some("prod")), "postgres://prod/app\n");
    let run = |args: &[&str]| {
        stdout(
            &cmd("pg-dotenv")
                .env("DB_HOST", "prod")
                .arg("-f")
                .arg(&p)
                .args(args)
                .args(["--", "sh", "-c", "printf '%s %s' \"$DB_HOST\" \"$URL\""])
                .output()
                .unwrap(),
        )
    };
    assert_eq!(run(&["run"]), "prod postgres://prod/app");
    assert_eq!(
        run(&["run", "--override"]),
        "localhost postgres://localhost/app"
    );
}

#[test]
fn set_stdin_keeps_secrets_off_argv_and_refuses_nul() {
    let (d, p) = dir_with("A=1\n");
    let o = dotenv_cmd(&p)
        .args(["set", "--stdin", "SECRET"])
        .write_stdin("s3cr3t 'with' \"quotes\" $x\n")
        .output()
        .unwrap();
    assert_exit(&o, 0);
    assert!(!String::from_utf8_lossy(&o.stderr).contains("s3cr3t"));
    assert_eq!(
        stdout(&dotenv(&p, &["get", "SECRET"])),
        "s3cr3t 'with' \"quotes\" $x\n",
        "one trailing newline dropped"
    );
    // A NUL byte cannot be written by any reader: 65, nothing written.
    let before = std::fs::read_to_string(&p).unwrap();
    let o = dotenv_cmd(&p)
        .args(["set", "--stdin", "B"])
        .write_stdin(&b"a\0b"[..])
        .output()
        .unwrap();
    assert_eq!(code(&o), 65);
    assert!(last_line(&o.stderr)["error"]
        .as_str()
        .unwrap()
        .contains("NUL"));
    assert_eq!(std::fs::read_to_string(&p).unwrap(), before);
    no_temp_files_left(d.path());
    // One key only.
    let o = dotenv(&p, &["set", "--stdin", "A", "B"]);
    assert_eq!(code(&o), 64);
    // Taken literally: a secret that starts with + is not set-if-absent.
    let o = dotenv_cmd(&p)
        .args(["set", "--stdin", "A"])
        .write_stdin("+plus")
        .output()
        .unwrap();
    assert_eq!(code(&o), 0);
    assert_eq!(stdout(&dotenv(&p, &["get", "A"])), "+plus\n");
}

#[test]
fn hostile_values_never_run_when_evald() {
    // Values that would run a command if any output quoted them wrongly:
    // each tries to create a canary file beside the .env.
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join(".env");
    let canary = d.path().join("pwned");
    let c = canary.display().to_string();
    let hostile = [
        format!("$(touch {c})"),
        format!("`touch {c}`"),
        format!("'; touch {c}; '"),
        format!("\"; touch {c}; \""),
        format!("x\ntouch {c}\n"),
        format!("\\'$(touch {c})\\"),
        format!("${{x:-$(touch {c})}}"),
    ];
    let mut args = vec!["set".to_string()];
    for (i, v) in hostile.iter().enumerate() {
        args.push(format!("K{i}"));
        args.push(v.clone());
    }
    args.push("POSTGRES_USER".into());
    args.push("app".into());
    args.push("POSTGRES_PASSWORD".into());
    args.push(hostile[0].clone());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = dotenv(&p, &args);
    assert_exit(&o, 0);
    let reads = [
        "set -a; . \"$1\"",
        "eval \"$(\"$0\" -f \"$1\" list --format shell)\"",
        "eval \"$(\"$0\" -f \"$1\" list --format export)\"",
    ];
    for script in reads {
        let full = format!(
            "{script}; printf '%s\\0' \"$K0\" \"$K1\" \"$K2\" \"$K3\" \"$K4\" \"$K5\" \"$K6\""
        );
        let o = sh()
            .args(["-c", &full])
            .arg(bin_path("pg-dotenv"))
            .arg(&p)
            .output()
            .unwrap();
        assert!(o.status.success(), "{script}: {o:?}");
        let out = String::from_utf8(o.stdout).unwrap();
        let got: Vec<&str> = out.split('\0').take(hostile.len()).collect();
        assert_eq!(got, hostile, "{script}");
        assert!(!canary.exists(), "{script} ran a command");
    }
    // pgenv's line too.
    let o = sh()
        .args([
            "-c",
            "eval \"$(\"$0\" -f \"$1\" pgenv)\"; printf %s \"$PGPASSWORD\"",
        ])
        .arg(bin_path("pg-dotenv"))
        .arg(&p)
        .output()
        .unwrap();
    assert!(o.status.success(), "{o:?}");
    assert_eq!(stdout(&o), hostile[0]);
    assert!(!canary.exists(), "pgenv output ran a command");
}
