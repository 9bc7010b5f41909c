//! pg-dump-rotate's restore drills (`dump --count-rows`, `verify
//! --restore`) and freshness check (`check`, `--metrics-file`), against
//! real servers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::dump::*;
use common::*;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// `verify --restore FILE`.
fn drill(dir: &Path, file: &Path) -> std::process::Output {
    tool(dir)
        .args(["verify", "--restore"])
        .arg(file)
        .output()
        .unwrap()
}

/// The recorded facts' tables: qualified name → rows.
fn recorded(file: &Path) -> HashMap<String, Value> {
    manifest(file)["facts"]["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["table"].as_str().unwrap().to_string(), t["rows"].clone()))
        .collect()
}

/// The drill servers a run started (their directories, from its log).
fn drill_dirs(lines: &[Value]) -> Vec<PathBuf> {
    lines_with(lines, "Drill server started")
        .iter()
        .map(|l| PathBuf::from(l["dir"].as_str().unwrap()))
        .collect()
}

/// Asserts the run removed every drill server it started.
fn assert_drill_servers_removed(lines: &[Value]) {
    let dirs = drill_dirs(lines);
    assert!(!dirs.is_empty(), "{lines:?}");
    for d in dirs {
        assert!(!d.exists(), "drill server left behind: {}", d.display());
    }
}

/// Asserts a drill failed (5) naming `table` for `reason`; returns the
/// summary line.
fn assert_drill_fails(out: &std::process::Output, table: &str, reason: &str) -> Value {
    assert_exit(out, 5);
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .ends_with(": FAILED"),
        "{out:?}"
    );
    let lines = json_lines(&out.stderr);
    let last = lines.last().unwrap().clone();
    assert_eq!(
        last["message"],
        format!("Restore drill failed: table {table} differs"),
        "{last}"
    );
    assert_eq!(last["table"], table);
    assert_eq!(last["reason"], reason);
    assert_eq!(last["exitCode"], 5);
    assert_drill_servers_removed(&lines);
    last
}

#[test]
fn a_good_dump_with_row_counts_passes_its_drill() {
    let (db, dir) = seeded("drill_ok", seed);
    let file = dump_ok(dir.path(), &db, &["--count-rows"]);
    let facts = recorded(&file);
    assert_eq!(facts["public.items"], 5000);
    assert_eq!(facts["public.notes"], 2000);
    assert_eq!(facts["public.orders"], 3000);
    assert_eq!(facts.len(), 3, "views are not tables: {facts:?}");
    assert_eq!(manifest(&file)["facts"]["rowCounts"], true);
    assert!(manifest(&file)["durationMs"].as_i64().is_some());

    let out = drill(dir.path(), &file);
    assert_success(&out);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("{}: OK", file.display())
    );
    let lines = json_lines(&out.stderr);
    let passed = first_with(&lines, "Restore drill passed");
    assert_eq!(passed["tables"], 3);
    assert_eq!(passed["rows"], 10000);
    assert_eq!(passed["facts"], true);
    assert_eq!(
        lines.last().unwrap()["message"],
        "All restore drills passed"
    );
    assert_drill_servers_removed(&lines);

    // Without --count-rows the tables are still recorded, without counts,
    // and the drill compares them by name.
    let file2 = dump_ok(dir.path(), &db, &[]);
    let facts2 = recorded(&file2);
    assert_eq!(facts2.len(), 3);
    assert!(facts2.values().all(Value::is_null), "{facts2:?}");
    assert_success(&drill(dir.path(), &file2));

    // --source alone drills the source's newest good dump.
    let out = tool(dir.path())
        .args(["verify", "--restore", "--source", &db])
        .output()
        .unwrap();
    assert_success(&out);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("{}: OK", file2.display())
    );
}

#[test]
fn an_edited_row_count_a_missing_and_an_extra_table_fail_the_drill() {
    let (db, dir) = seeded("drill_edit", seed);
    let file = dump_ok(dir.path(), &db, &["--count-rows"]);
    // The dump's data no longer matches what was counted at dump time.
    edit_manifest(&file, |m| {
        for t in m["facts"]["tables"].as_array_mut().unwrap() {
            if t["table"] == "public.notes" {
                t["rows"] = 2001.into();
            }
        }
    });
    // The checksum still holds: only the drill can tell.
    assert_success(&verify(dir.path(), &file));
    let last = assert_drill_fails(&drill(dir.path(), &file), "public.notes", "rowCount");
    assert_eq!(last["expected"], 2001);
    assert_eq!(last["found"], 2000);
    assert!(last["error"]
        .as_str()
        .unwrap()
        .contains("2000 rows restored"));

    // A table recorded but not restored.
    edit_manifest(&file, |m| {
        let tables = m["facts"]["tables"].as_array_mut().unwrap();
        tables.retain(|t| t["table"] != "public.notes");
        tables.push(
            serde_json::json!({"table": "public.ghost", "schema": "public",
                                       "name": "ghost", "rows": 1}),
        );
    });
    assert_drill_fails(&drill(dir.path(), &file), "public.ghost", "missing");

    // A table restored but not recorded (public.notes, dropped above).
    edit_manifest(&file, |m| {
        let tables = m["facts"]["tables"].as_array_mut().unwrap();
        tables.retain(|t| t["table"] != "public.ghost");
    });
    assert_drill_fails(&drill(dir.path(), &file), "public.notes", "extra");

    // Several files: each is drilled, the failures are named, exit 5.
    let good = dump_ok(dir.path(), &db, &["--count-rows"]);
    let out = tool(dir.path())
        .args(["verify", "--restore"])
        .arg(&good)
        .arg(&file)
        .output()
        .unwrap();
    assert_exit(&out, 5);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("{}: OK", good.display())),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("{}: FAILED", file.display())),
        "{stdout}"
    );
    let lines = json_lines(&out.stderr);
    let failed = lines
        .iter()
        .find(|l| l["level"] == "error" && l["file"] == file.display().to_string())
        .unwrap();
    assert_eq!(failed["table"], "public.notes", "{failed}");
}

#[test]
fn a_plain_dump_missing_a_data_row_restores_but_fails_the_drill() {
    let (db, dir) = seeded("drill_plain", seed);
    let file = dump_ok(dir.path(), &db, &["--format", "plain", "--count-rows"]);
    assert!(file.display().to_string().ends_with(".sql"));
    // Drop the first data row of public.notes' COPY block.
    let text = fs::read_to_string(&file).unwrap();
    let mut out = Vec::new();
    let mut in_notes = false;
    let mut dropped = false;
    for line in text.lines() {
        if line.starts_with("COPY public.notes ") {
            in_notes = true;
        } else if in_notes && !dropped {
            dropped = true;
            continue;
        }
        out.push(line);
    }
    assert!(dropped);
    fs::write(&file, out.join("\n") + "\n").unwrap();
    reseal(&file);
    // Intact as far as checksums and the script's end can tell.
    assert_success(&verify(dir.path(), &file));
    let last = assert_drill_fails(&drill(dir.path(), &file), "public.notes", "rowCount");
    assert_eq!(last["expected"], 2000);
    assert_eq!(last["found"], 1999);
}

#[test]
fn a_dump_without_facts_gets_a_restore_only_drill() {
    let (db, dir) = seeded("drill_old", seed_items);
    let file = dump_ok(dir.path(), &db, &[]);
    edit_manifest(&file, |m| {
        m.as_object_mut().unwrap().remove("facts");
    });
    let out = drill(dir.path(), &file);
    assert_success(&out);
    let lines = json_lines(&out.stderr);
    let warn = first_with(
        &lines,
        "Dump has no recorded facts: restore-only drill (nothing to compare the tables with)",
    );
    assert_eq!(warn["level"], "warn");
    assert_eq!(first_with(&lines, "Restore drill passed")["facts"], false);
    assert_drill_servers_removed(&lines);
}

/// The drill server holds a copy of production data: no other account on
/// the host may reach it (no TCP, a socket only its owner opens, a password,
/// no trust rule). The dump itself checks, from inside the drill server.
#[test]
fn the_drill_server_is_closed_to_other_users() {
    let (db, dir) = seeded("drill_closed", seed_items);
    let file = dump_ok(dir.path(), &db, &["--format", "plain"]);
    let mut text = fs::read_to_string(&file).unwrap();
    text.push_str(
        "DO $$ BEGIN
  IF current_setting('listen_addresses') <> '' THEN
    RAISE EXCEPTION 'drill server listens on TCP: %', current_setting('listen_addresses');
  END IF;
  IF current_setting('unix_socket_permissions') <> '0700' THEN
    RAISE EXCEPTION 'drill socket open to others: %', current_setting('unix_socket_permissions');
  END IF;
  IF EXISTS (SELECT 1 FROM pg_hba_file_rules WHERE auth_method = 'trust') THEN
    RAISE EXCEPTION 'drill server trusts logins without a password';
  END IF;
END $$;
CREATE TEMP TABLE server_env (line text);
COPY server_env FROM PROGRAM 'env';
DO $$ BEGIN
  IF EXISTS (SELECT 1 FROM server_env WHERE line LIKE 'AWS\\_%') THEN
    RAISE EXCEPTION 'drill server holds the caller''s cloud credentials';
  END IF;
END $$;
",
    );
    fs::write(&file, text).unwrap();
    reseal(&file);
    let out = tool(dir.path())
        .env("AWS_SECRET_ACCESS_KEY", "drill-must-not-see-this")
        .args(["verify", "--restore"])
        .arg(&file)
        .output()
        .unwrap();
    assert_success(&out);
    let out = drill(dir.path(), &file);
    assert_success(&out);
    assert_drill_servers_removed(&json_lines(&out.stderr));
}

#[test]
fn a_dump_that_does_not_restore_fails_its_drill() {
    let (db, dir) = seeded("drill_broken", seed_items);
    let file = dump_ok(dir.path(), &db, &["--format", "plain"]);
    let text = fs::read_to_string(&file).unwrap();
    fs::write(
        &file,
        text.replacen("CREATE TABLE public.items", "CREATE TABEL public.items", 1),
    )
    .unwrap();
    reseal(&file);
    let out = drill(dir.path(), &file);
    assert_exit(&out, 5);
    let lines = json_lines(&out.stderr);
    let last = lines.last().unwrap();
    assert_eq!(
        last["message"],
        "Restore drill failed: the dump does not restore"
    );
    assert!(
        last["error"].as_str().unwrap().contains("syntax error"),
        "{last}"
    );
    assert_drill_servers_removed(&lines);
}

#[test]
fn row_counts_come_from_the_dumps_own_snapshot() {
    let db = fresh_db("drill_snap");
    server()
        .execute(
            &db,
            "CREATE TABLE aaa_gate (id int);
             CREATE TABLE items (id int);
             INSERT INTO items SELECT generate_series(1, 1000);",
        )
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    // The gate's lock holds pg_dump (and the count of the gate, counted
    // first) after the snapshot was taken.
    let mut gate = server().client(&db).unwrap();
    gate.batch_execute("BEGIN; LOCK TABLE aaa_gate IN ACCESS EXCLUSIVE MODE")
        .unwrap();
    let child = spawn_tool(
        dir.path(),
        ["dump", "--dsn", &url(&db), "--count-rows"],
        &[],
    );
    wait_for("pg_dump to wait for the gate's lock", 60, || {
        let n: i64 = server()
            .client("postgres")
            .unwrap()
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1
                  AND query LIKE 'LOCK TABLE %' AND wait_event_type = 'Lock'",
                &[&db],
            )
            .unwrap()
            .get(0);
        n > 0
    });
    // Rows committed while the dump runs are in neither the dump nor the
    // counts.
    server()
        .execute(&db, "INSERT INTO items SELECT generate_series(1001, 1100)")
        .unwrap();
    gate.batch_execute("COMMIT").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_success(&out);
    let file = stdout_path(&out);
    let facts = recorded(&file);
    assert_eq!(facts["public.items"], 1000, "{facts:?}");
    assert_eq!(facts["public.aaa_gate"], 0);
    assert_eq!(query_value::<i64>(&db, "SELECT count(*) FROM items"), 1100);
    let out = drill(dir.path(), &file);
    assert_success(&out);
    assert_eq!(
        first_with(&json_lines(&out.stderr), "Restore drill passed")["rows"],
        1000
    );
}

#[test]
fn interrupting_a_drill_removes_its_server() {
    let db = fresh_db("drill_int");
    // Restoring `slow` sleeps per row (its CHECK), dumping it does not.
    server()
        .execute(
            &db,
            &format!(
                "CREATE FUNCTION slow_ok(int) RETURNS boolean LANGUAGE sql AS
                   $$ SELECT true FROM pg_catalog.pg_sleep(CASE WHEN pg_catalog.current_database() = '{db}' THEN 0 ELSE 0.01 END) $$;
                 CREATE TABLE slow (id int CHECK (slow_ok(id)));
                 INSERT INTO slow SELECT generate_series(1, 3000);"
            ),
        )
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dump_ok(dir.path(), &db, &[]);
    for (sig, code) in [(libc::SIGINT, 130), (libc::SIGTERM, 143)] {
        let mut child = spawn_tool(
            dir.path(),
            ["verify".as_ref(), "--restore".as_ref(), file.as_os_str()],
            &[],
        );
        let mut reader = std::io::BufReader::new(child.stderr.take().unwrap());
        let mut lines = Vec::new();
        let mut line = String::new();
        loop {
            line.clear();
            assert!(reader.read_line(&mut line).unwrap() > 0, "{lines:?}");
            let v: Value = serde_json::from_str(&line).unwrap();
            lines.push(v.clone());
            if v["message"] == "Restoring into the drill server" {
                break;
            }
        }
        signal(child.id() as i32, sig);
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut reader, &mut rest).unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(code), "{rest}");
        lines.extend(json_lines(rest.as_bytes()));
        assert_eq!(lines.last().unwrap()["exitCode"], code);
        assert_drill_servers_removed(&lines);
    }
}

/// Renames a dump (with its sidecar and manifest) to carry `stamp`.
fn rename_dump(file: &Path, source: &str, stamp: &str) -> PathBuf {
    let ext = file.extension().unwrap().to_str().unwrap();
    let to = file.with_file_name(format!("{source}_{stamp}.{ext}"));
    for s in ["", ".sha256", ".json"] {
        fs::rename(with_suffix(file, s), with_suffix(&to, s)).unwrap();
    }
    to
}

fn check(dir: &Path, args: &[&str]) -> std::process::Output {
    tool_offline(dir).arg("check").args(args).output().unwrap()
}

/// The JSON lines a failed check printed: source → line.
fn failing(out: &std::process::Output) -> HashMap<String, Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (v["source"].as_str().unwrap().to_string(), v)
        })
        .collect()
}

#[test]
fn check_exit_codes() {
    let (db, dir) = seeded("check", seed_items);
    let d = dir.path();
    let file = dump_ok(d, &db, &["--source", "app"]);
    let size = fs::metadata(&file).unwrap().len();

    // Fresh and big enough.
    let out = check(d, &["--max-age", "26h", "--min-size", &size.to_string()]);
    assert_success(&out);
    assert!(out.stdout.is_empty());
    let last = last_line(&out.stderr);
    assert_eq!(last["message"], "Dumps are fresh");
    assert_eq!(last["sources"], 1);

    // Too small.
    let out = check(
        d,
        &["--max-age", "26h", "--min-size", &(size + 1).to_string()],
    );
    assert_exit(&out, 1);
    let f = failing(&out);
    assert_eq!(f["app"]["reason"], "too-small");
    assert_eq!(f["app"]["size"], size);
    assert_eq!(
        f["app"]["newest"],
        file.file_name().unwrap().to_str().unwrap()
    );
    let lines = json_lines(&out.stderr);
    assert_eq!(
        first_with(&lines, "Newest good dump is too small")["source"],
        "app"
    );
    assert_eq!(lines.last().unwrap()["message"], "Dumps are not fresh: app");

    // A named source without any dump fails; the others still pass.
    let out = check(
        d,
        &["--max-age", "26h", "--source", "app", "--source", "ghost"],
    );
    assert_exit(&out, 1);
    let f = failing(&out);
    assert_eq!(f.len(), 1);
    assert_eq!(f["ghost"]["reason"], "missing");
    assert_eq!(f["ghost"]["newest"], Value::Null);

    // Too old: the only dump is named two days ago.
    let stamp = (chrono::Utc::now() - chrono::Duration::hours(48))
        .format("%Y%m%dT%H%M%SZ")
        .to_string();
    let old = rename_dump(&file, "app", &stamp);
    let out = check(d, &["--max-age", "26h"]);
    assert_exit(&out, 1);
    let f = failing(&out);
    assert_eq!(f["app"]["reason"], "too-old");
    assert_eq!(
        f["app"]["newest"],
        old.file_name().unwrap().to_str().unwrap()
    );
    let age = f["app"]["ageSeconds"].as_i64().unwrap();
    assert!((48 * 3600..49 * 3600).contains(&age), "{age}");
    assert_success(&check(d, &["--max-age", "3d"]));

    // A damaged newest dump does not count: the older good one is judged.
    let newer = dump_ok(d, &db, &["--source", "app"]);
    assert_success(&check(d, &["--max-age", "26h"]));
    fs::write(with_suffix(&newer, ".sha256"), "0".repeat(64) + "  x\n").unwrap();
    let out = check(d, &["--max-age", "26h"]);
    assert_exit(&out, 1);
    assert_eq!(failing(&out)["app"]["reason"], "too-old");

    // Bad flags are usage errors.
    assert_exit(&check(d, &["--max-age", "26"]), 64);
    assert_exit(&check(d, &["--max-age", "1h", "--min-size", "big"]), 64);
    assert_exit(&check(d, &["--max-age", "1h", "--source", "../x"]), 64);
}

/// Parses a Prometheus text file, asserting its shape: every sample's
/// family has `# HELP` and `# TYPE` lines before it, label values are
/// quoted, values are numbers, and every sample has the labels `source`
/// and `location` (which must be `location`). Returns (family, source) →
/// value.
fn parse_metrics(text: &str, location: &str) -> HashMap<(String, String), f64> {
    let mut help = HashSet::new();
    let mut typed = HashSet::new();
    let mut samples = HashMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, doc) = rest.split_once(' ').unwrap();
            assert!(!doc.trim().is_empty(), "{line}");
            help.insert(name.to_string());
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert_eq!(kind, "gauge", "{line}");
            assert!(help.contains(name), "TYPE before HELP: {line}");
            typed.insert(name.to_string());
            continue;
        }
        assert!(
            !line.starts_with('#') && !line.trim().is_empty(),
            "{line:?}"
        );
        let (series, value) = line.rsplit_once(' ').unwrap();
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("not a number: {line}"));
        let (name, labels) = series.split_once('{').unwrap();
        assert!(typed.contains(name), "sample without HELP/TYPE: {line}");
        let labels: HashMap<&str, &str> = labels
            .strip_suffix('}')
            .unwrap()
            .split("\",")
            .map(|l| {
                let (k, v) = l.split_once("=\"").unwrap_or_else(|| panic!("{line}"));
                (k, v.strip_suffix('"').unwrap_or(v))
            })
            .collect();
        assert_eq!(labels.len(), 2, "{line}");
        assert_eq!(labels["location"], location, "{line}");
        samples.insert((name.to_string(), labels["source"].to_string()), value);
    }
    samples
}

#[test]
fn the_metrics_file() {
    let (db, dir) = seeded("metrics", seed_items);
    let d = dir.path();
    let first = dump_ok(d, &db, &["--source", "app"]);
    let second = dump_ok(d, &db, &["--source", "app"]);
    let metrics = d.join("textfile").join("pgkit_dumps.prom");
    fs::create_dir(metrics.parent().unwrap()).unwrap();
    // app is fresh, gone has no dump.
    let app_and_gone = |file: &Path| {
        check(
            d,
            &[
                "--max-age",
                "26h",
                "--source",
                "app",
                "--source",
                "gone",
                "--metrics-file",
                file.to_str().unwrap(),
            ],
        )
    };
    let out = app_and_gone(&metrics);
    // The check fails (gone has no dump), the metrics are written anyway.
    assert_exit(&out, 1);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        fs::metadata(&metrics).unwrap().permissions().mode() & 0o777,
        0o644
    );
    let text = fs::read_to_string(&metrics).unwrap();
    let m = parse_metrics(&text, d.to_str().unwrap());
    let get = |name: &str, source: &str| m.get(&(name.to_string(), source.to_string())).copied();
    let stamp = second.file_name().unwrap().to_str().unwrap();
    let stamp = &stamp["app_".len().."app_".len() + 16];
    let t = chrono::NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%M%SZ")
        .unwrap()
        .and_utc()
        .timestamp();
    assert_eq!(
        get("pgkit_dump_last_success_timestamp_seconds", "app"),
        Some(t as f64)
    );
    assert_eq!(
        get("pgkit_dump_last_size_bytes", "app"),
        Some(fs::metadata(&second).unwrap().len() as f64)
    );
    let ms = manifest(&second)["durationMs"].as_f64().unwrap();
    assert_eq!(
        get("pgkit_dump_last_duration_seconds", "app"),
        Some(ms / 1000.0)
    );
    assert_eq!(get("pgkit_dump_good_dumps", "app"), Some(2.0));
    assert_eq!(get("pgkit_dump_good_dumps", "gone"), Some(0.0));
    assert_eq!(get("pgkit_dump_check_ok", "app"), Some(1.0));
    assert_eq!(get("pgkit_dump_check_ok", "gone"), Some(0.0));
    assert_eq!(get("pgkit_dump_last_size_bytes", "gone"), None);
    assert!(first.exists());
    // Nothing but the file is left in its directory (the temporary file
    // was renamed over it).
    assert_eq!(names(metrics.parent().unwrap()), ["pgkit_dumps.prom"]);

    // A directory that is not there: exit 1 saying what to check.
    let missing = d.join("nowhere").join("pgkit.prom");
    let out = check(
        d,
        &[
            "--max-age",
            "26h",
            "--source",
            "app",
            "--metrics-file",
            missing.to_str().unwrap(),
        ],
    );
    assert_exit(&out, 1);
    assert!(out.stdout.is_empty());
    let last = last_line(&out.stderr);
    assert!(
        last["suggestion"]
            .as_str()
            .unwrap()
            .contains("--metrics-file"),
        "{last}"
    );
    // ... which does not hide the verdict: a source that is not fresh still
    // gets its line on stdout, and the error lines say both.
    let out = app_and_gone(&missing);
    assert_exit(&out, 1);
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["source"], "gone");
    assert_eq!(lines[0]["reason"], "missing");
    let errors: Vec<Value> = String::from_utf8_lossy(&out.stderr)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|l| l["level"] == "error")
        .collect();
    let messages: Vec<&str> = errors
        .iter()
        .map(|l| l["message"].as_str().unwrap())
        .collect();
    assert!(
        messages.iter().any(|m| m.starts_with("Cannot create")),
        "{messages:?}"
    );
    assert_eq!(
        messages.last(),
        Some(&"Dumps are not fresh: gone"),
        "{messages:?}"
    );
}

#[test]
fn directory_and_gzip_plain_dumps_are_drilled_too() {
    let (db, dir) = seeded("drill_formats", seed);
    for extra in [
        &["--format", "directory", "--jobs", "2"][..],
        &["--format", "plain", "--compress", "6"][..],
    ] {
        let mut args = vec!["--count-rows"];
        args.extend_from_slice(extra);
        let file = dump_ok(dir.path(), &db, &args);
        assert_eq!(recorded(&file)["public.orders"], 3000, "{extra:?}");
        // In parallel where pg_restore can (a plain script: one psql, warned).
        let out = tool(dir.path())
            .args(["verify", "--restore", "--jobs", "2"])
            .arg(&file)
            .output()
            .unwrap();
        assert_success(&out);
        let lines = json_lines(&out.stderr);
        assert_eq!(first_with(&lines, "Restore drill passed")["rows"], 10000);
        assert_drill_servers_removed(&lines);
        let warned = has_message(
            &lines,
            "--jobs ignored: a plain SQL dump is replayed by psql in one session",
        );
        assert_eq!(warned, extra.contains(&"plain"), "{extra:?}");
    }
}

#[test]
fn a_drill_runs_on_the_dumps_own_server_major_else_a_newer_one() {
    let (Some(b14), Some(b18)) = (bindir_for(14), bindir_for(18)) else {
        return;
    };
    let s14 = pgkit::server::TempServer::start(pgkit::server::Options {
        bindir: Some(b14.clone()),
        ..Default::default()
    })
    .unwrap();
    s14.execute(
        "postgres",
        "CREATE TABLE t (id int PRIMARY KEY, doc jsonb);
         INSERT INTO t SELECT g, jsonb_build_object('g', g) FROM generate_series(1, 50) g;",
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    // pg_dump 18 dumps the 14 server; the drill restores into 14 (with
    // pg_restore 18, which reads the archive).
    let tool18 = || {
        let mut c = cmd(TOOL);
        c.env("PG_BINDIR", &b18).env("DUMP_DIR", dir.path());
        c
    };
    let out = tool18()
        .args([
            "dump",
            "--count-rows",
            "--source",
            "v14",
            "--dsn",
            &s14.url("postgres"),
        ])
        .output()
        .unwrap();
    assert_success(&out);
    let file = stdout_path(&out);
    assert_eq!(recorded(&file)["public.t"], 50);
    let out = tool18()
        .args(["verify", "--restore"])
        .arg(&file)
        .output()
        .unwrap();
    assert_success(&out);
    let lines = json_lines(&out.stderr);
    assert_eq!(
        first_with(&lines, "Drill server started")["bindir"],
        b14.display().to_string()
    );
    assert_drill_servers_removed(&lines);

    // A major that is not installed: the newest installed one above it.
    edit_manifest(&file, |m| m["serverVersion"] = "13.9".into());
    let out = tool18()
        .args(["verify", "--restore"])
        .arg(&file)
        .output()
        .unwrap();
    assert_success(&out);
    let lines = json_lines(&out.stderr);
    let newer = first_with(
        &lines,
        "The dump's server version is not installed: drilling on a newer one",
    );
    assert_eq!(newer["dumpMajor"], 13);
    assert!(newer["serverMajor"].as_u64().unwrap() >= 18, "{newer}");
    assert_eq!(first_with(&lines, "Restore drill passed")["rows"], 50);
}

#[test]
fn partitions_quoted_names_unlogged_tables_and_excluded_data() {
    let db = fresh_db("drill_shapes");
    server()
        .execute(
            &db,
            "CREATE SCHEMA \"Other\";
             CREATE TABLE \"Other\".\"My Table\" (id int);
             INSERT INTO \"Other\".\"My Table\" SELECT generate_series(1, 7);
             CREATE TABLE m (at date, v int) PARTITION BY RANGE (at);
             CREATE TABLE m_2024 PARTITION OF m FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
             CREATE TABLE m_2025 PARTITION OF m FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
             INSERT INTO m SELECT date '2024-06-01' + g, g FROM generate_series(1, 300) g;
             CREATE UNLOGGED TABLE scratch (x int);
             INSERT INTO scratch SELECT generate_series(1, 11);
             CREATE TABLE audit_log (x int);
             INSERT INTO audit_log SELECT generate_series(1, 5);
             CREATE TEMP TABLE not_dumped (x int);",
        )
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dump_ok(
        dir.path(),
        &db,
        &["--count-rows", "--exclude-table-data", "AUDIT_*"],
    );
    let facts = recorded(&file);
    let mut names: Vec<&str> = facts.keys().map(String::as_str).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "\"Other\".\"My Table\"",
            "public.audit_log",
            "public.m",
            "public.m_2024",
            "public.m_2025",
            "public.scratch"
        ]
    );
    assert_eq!(facts["\"Other\".\"My Table\""], 7);
    assert_eq!(
        facts["public.m"],
        Value::Null,
        "a partitioned table has no rows of its own"
    );
    assert_eq!(facts["public.m_2024"], 213);
    assert_eq!(facts["public.m_2025"], 87);
    assert_eq!(facts["public.scratch"], 11);
    assert_eq!(
        facts["public.audit_log"],
        Value::Null,
        "its data is not in the dump"
    );
    let out = drill(dir.path(), &file);
    assert_success(&out);
    assert_eq!(
        first_with(&json_lines(&out.stderr), "Restore drill passed")["rows"],
        7 + 300 + 11
    );
}

/// A streaming standby of `primary` (pg_basebackup -R), started.
fn standby_of(primary: &pgkit::server::TempServer) -> pgkit::server::TempServer {
    let bindir = primary.bindir().to_path_buf();
    let hba = primary.data_dir().join("pg_hba.conf");
    let mut text = fs::read_to_string(&hba).unwrap();
    text.push_str("local replication all trust\nhost replication all 127.0.0.1/32 trust\n");
    fs::write(&hba, text).unwrap();
    primary
        .execute("postgres", "SELECT pg_reload_conf()")
        .unwrap();
    let standby = pgkit::server::TempServer::create(pgkit::server::Options {
        bindir: Some(bindir.clone()),
        ..Default::default()
    })
    .unwrap();
    let data = standby.data_dir();
    fs::remove_dir_all(&data).unwrap();
    let out = std::process::Command::new(bindir.join("pg_basebackup"))
        .arg("-D")
        .arg(&data)
        .args(["-R", "-X", "stream", "-c", "fast", "-d"])
        .arg(format!(
            "host=127.0.0.1 port={} user=postgres",
            primary.port()
        ))
        .output()
        .unwrap();
    assert_success(&out);
    // The copy carries the primary's port and socket directory: the
    // standby's own come last.
    let mut conf = fs::OpenOptions::new()
        .append(true)
        .open(data.join("postgresql.conf"))
        .unwrap();
    std::io::Write::write_all(
        &mut conf,
        format!(
            "\nport = {}\nunix_socket_directories = '{}'\n",
            standby.port(),
            standby.socket_dir().display()
        )
        .as_bytes(),
    )
    .unwrap();
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        let st = std::process::Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(&data)
            .status()
            .unwrap();
        assert!(st.success());
    }
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&data, fs::Permissions::from_mode(0o700)).unwrap();
    standby.start_server().unwrap();
    standby
}

#[test]
fn a_standby_is_dumped_with_its_facts() {
    let primary = pgkit::server::TempServer::start(pgkit::server::Options {
        bindir: Some(server().bindir().to_path_buf()),
        ..Default::default()
    })
    .unwrap();
    primary
        .execute(
            "postgres",
            "CREATE TABLE items (id int); INSERT INTO items SELECT generate_series(1, 321);
             CREATE UNLOGGED TABLE scratch (id int); INSERT INTO scratch SELECT generate_series(1, 5);",
        )
        .unwrap();
    let standby = standby_of(&primary);
    wait_for("the standby to replay the table", 60, || {
        standby
            .client("postgres")
            .ok()
            .and_then(|mut c| {
                c.query_one(
                    "SELECT pg_is_in_recovery() AND to_regclass('items') IS NOT NULL",
                    &[],
                )
                .ok()
            })
            .is_some_and(|r| r.get::<_, bool>(0))
    });
    let dir = tempfile::tempdir().unwrap();
    let out = tool(dir.path())
        .args([
            "dump",
            "--count-rows",
            "--source",
            "standby",
            "--dsn",
            &standby.url("postgres"),
        ])
        .output()
        .unwrap();
    assert_success(&out);
    let file = stdout_path(&out);
    assert_eq!(recorded(&file)["public.items"], 321);
    // pg_dump leaves an unlogged table's data out on a standby (which cannot
    // read it): recorded, not counted.
    assert_eq!(recorded(&file)["public.scratch"], Value::Null);
    let out = drill(dir.path(), &file);
    assert_success(&out);
    assert_eq!(
        first_with(&json_lines(&out.stderr), "Restore drill passed")["rows"],
        321
    );
}

#[test]
fn a_failed_dump_cancels_the_row_counts_it_started() {
    let db = fresh_db("drill_cancel");
    server()
        .execute(
            &db,
            "CREATE TABLE aaa_gate (id int); CREATE TABLE items (id int);",
        )
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let bin = tempfile::tempdir().unwrap();
    let go = bin.path().join("go");
    // pg_dump fails, but only once the count of the gate is waiting for
    // the gate's lock.
    let fake = wrap_program(
        bin.path(),
        "pg_dump",
        "while [ ! -f \"$GO\" ]; do sleep 0.05; done\necho 'pg_dump: error: made to fail' >&2\nexit 1\n",
    );
    let mut gate = server().client(&db).unwrap();
    gate.batch_execute("BEGIN; LOCK TABLE aaa_gate IN ACCESS EXCLUSIVE MODE")
        .unwrap();
    let counting = |db: &str| -> i64 {
        server()
            .client("postgres")
            .unwrap()
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1
                  AND query LIKE 'SELECT count(*) FROM ONLY %' AND state = 'active'",
                &[&db],
            )
            .unwrap()
            .get(0)
    };
    let child = spawn_tool(
        dir.path(),
        ["dump", "--dsn", &url(&db), "--count-rows"],
        &[("PG_DUMP", &fake), ("GO", &go)],
    );
    wait_for("the count to wait for the gate", 60, || counting(&db) > 0);
    fs::write(&go, "").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_exit(&out, 5);
    assert_eq!(last_line(&out.stderr)["message"], "pg_dump failed");
    // The count was cancelled on the server, not left waiting (with the
    // gate still held).
    wait_for("the count to be cancelled", 60, || counting(&db) == 0);
    gate.batch_execute("COMMIT").unwrap();
}

#[test]
fn a_whole_server_dump_records_each_databases_facts() {
    let srv = pgkit::server::TempServer::start(pgkit::server::Options {
        bindir: Some(server_bindir().clone()),
        ..Default::default()
    })
    .unwrap();
    srv.create_database("shop").unwrap();
    srv.execute(
        "shop",
        "CREATE TABLE orders (id int); INSERT INTO orders SELECT generate_series(1, 42);",
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = tool(dir.path())
        .args([
            "dump",
            "--all-databases",
            "--count-rows",
            "--dsn",
            &srv.url("postgres"),
        ])
        .output()
        .unwrap();
    assert_success(&out);
    let dump_of = |source: &str| {
        fs::read_dir(dir.path().join(source))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| {
                let n = p.file_name().unwrap().to_string_lossy();
                !n.ends_with(".json") && !n.ends_with(".sha256") && !n.starts_with('.')
            })
            .unwrap()
    };
    let shop = dump_of("shop");
    assert_eq!(recorded(&shop)["public.orders"], 42);
    assert!(recorded(&dump_of("postgres")).is_empty());
    // The globals are a script of roles, not a database: no facts.
    assert!(manifest(&dump_of("_globals")).get("facts").is_none());
    let out = drill(dir.path(), &shop);
    assert_success(&out);
    assert_eq!(
        first_with(&json_lines(&out.stderr), "Restore drill passed")["rows"],
        42
    );
    // Drilling every dump: the globals script is verified, not restored.
    let out = tool(dir.path())
        .args(["verify", "--restore", "--all"])
        .output()
        .unwrap();
    assert_success(&out);
    let lines = json_lines(&out.stderr);
    assert!(has_message(
        &lines,
        "Globals dump verified; not drilled (it holds roles and tablespaces, not a database)"
    ));
    assert_eq!(
        lines_with(&lines, "Restore drill passed").len(),
        2,
        "shop and postgres"
    );
}

#[test]
fn a_large_restore_goes_to_disk_not_to_memory() {
    let (db, dir) = seeded("drill_disk", seed_items);
    let file = dump_ok(dir.path(), &db, &["--count-rows"]);
    // As if the dump were 1 GiB: restored, it could be twenty times that,
    // too much for /dev/shm (memory).
    edit_manifest(&file, |m| m["size"] = (1u64 << 30).into());
    let out = tool(dir.path())
        .env_remove("PGKIT_TMPDIR")
        .args(["verify", "--restore"])
        .arg(&file)
        .output()
        .unwrap();
    assert_success(&out);
    let lines = json_lines(&out.stderr);
    let started = first_with(&lines, "Drill server started");
    let server_dir = PathBuf::from(started["dir"].as_str().unwrap());
    assert!(
        server_dir.starts_with(std::env::temp_dir()),
        "{}",
        server_dir.display()
    );
    assert_drill_servers_removed(&lines);
}

#[test]
fn a_plain_dump_naming_roles_the_drill_server_lacks_still_passes() {
    let db = fresh_db("drill_roles");
    let role = format!("drill_owner_{}", std::process::id());
    server()
        .execute(
            &db,
            &format!(
                "CREATE ROLE {role};
                 CREATE TABLE owned (id int);
                 INSERT INTO owned SELECT generate_series(1, 9);
                 ALTER TABLE owned OWNER TO {role};
                 GRANT SELECT ON owned TO {role};"
            ),
        )
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    // Plain, with owners: the script says ALTER TABLE ... OWNER TO the role.
    let file = dump_ok(dir.path(), &db, &["--format", "plain", "--count-rows"]);
    let script = fs::read_to_string(&file).unwrap();
    assert!(script.contains(&format!("OWNER TO {role}")), "{script}");
    let out = drill(dir.path(), &file);
    assert_success(&out);
    let lines = json_lines(&out.stderr);
    let skipped = first_with(
        &lines,
        "Statements naming roles or settings the drill server lacks were skipped",
    );
    assert!(skipped["statements"].as_u64().unwrap() >= 1, "{skipped}");
    assert_eq!(first_with(&lines, "Restore drill passed")["rows"], 9);
    server()
        .execute(&db, &format!("DROP OWNED BY {role}; DROP ROLE {role}"))
        .unwrap();
}
