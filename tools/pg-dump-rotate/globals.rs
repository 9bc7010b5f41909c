//! Replaying a `_globals` dump (`pg_dumpall --globals-only`: roles, their
//! settings and memberships, tablespaces) into a server.
//!
//! Unlike a database's script it cannot run in one transaction (CREATE
//! TABLESPACE refuses to), so psql runs it statement by statement and stops
//! at the first error (`ON_ERROR_STOP`). A fresh server already has its
//! bootstrap superuser, and a server being rebuilt may have some roles: each
//! `CREATE ROLE name;` line (pg_dumpall writes every role that way, its
//! attributes follow in an ALTER ROLE) becomes a block that skips a role
//! which exists, so the replay can be repeated. A tablespace that exists
//! stops it (its location may differ; that needs a human).
//!
//! The `ALTER ROLE name WITH ...` of the role the replay connects as, and
//! of the server's bootstrap superuser, is skipped (with a notice): globals
//! from a managed service (where `postgres` is no superuser) would
//! otherwise take superuser away from the cluster's only superuser, or on
//! 16+ stop the replay half-way, and replace the connecting role's password.

use crate::layout;
use crate::{child, integrity};
use pgkit::conn::Settings;
use pgkit::{interrupt, log, Error, Exit, Result};
use serde_json::json;
use std::io::Write;
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};

/// The line pg_dumpall's script starts with.
const CLUSTER_HEADER: &str = "-- PostgreSQL database cluster dump";

/// Whether `file` is a `_globals` dump: its manifest says so, or (no
/// manifest) its first lines are pg_dumpall's.
pub fn is_globals(file: &Path) -> bool {
    if let Some(m) = layout::read_manifest(&layout::manifest_path(file)) {
        return m["kind"] == "globals";
    }
    let mut head = vec![0u8; 256];
    let n = std::fs::File::open(file)
        .and_then(|mut f| std::io::Read::read(&mut f, &mut head))
        .unwrap_or(0);
    String::from_utf8_lossy(&head[..n]).contains(CLUSTER_HEADER)
}

/// The `_globals` dump recorded in a database dump's manifest by `dump
/// --all-databases` (a path relative to the dump directory, which must stay
/// inside it).
pub fn recorded_for(file: &Path) -> Result<PathBuf> {
    let missing = || {
        Error::new(Exit::NoInput, "The dump names no globals dump")
            .field("file", file.display().to_string())
            .suggest("--with-globals needs a dump made by dump --all-databases; restore the _globals dump itself first (pg-dump-rotate restore DIR/_globals/…sql)")
    };
    let m = layout::read_manifest(&layout::manifest_path(file)).ok_or_else(missing)?;
    let rel = m["globals"].as_str().ok_or_else(missing)?;
    let rel_path = Path::new(rel);
    if !rel_path
        .components()
        .all(|c| matches!(c, Component::Normal(_)))
    {
        return Err(Error::new(
            Exit::Dump,
            "The manifest's globals path leaves the dump directory",
        )
        .field("globals", rel)
        .field("file", file.display().to_string()));
    }
    // DIR/SOURCE/FILE → DIR, from the absolute path: a bare FILE named from
    // inside its source directory has DIR at `..`.
    let abs = std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf());
    let dir = abs
        .parent()
        .and_then(Path::parent)
        .unwrap_or_else(|| Path::new("."));
    let path = dir.join(rel_path);
    if !path.is_file() {
        return Err(Error::new(
            Exit::NoInput,
            "The globals dump named by the manifest is missing",
        )
        .field("globals", path.display().to_string())
        .suggest(
            "Restore without --with-globals, or bring the _globals dump back beside the database's",
        ));
    }
    Ok(path)
}

/// Verifies and replays a `_globals` dump into the server of `settings`.
pub fn replay(file: &Path, settings: &Settings) -> Result<()> {
    let checked = if layout::manifest_path(file).is_file() {
        integrity::check_checksum(file)
    } else {
        integrity::verify_one(file)
    };
    checked.map_err(|e| {
        Error::new(
            Exit::Dump,
            "Refusing to replay a globals dump that fails verification",
        )
        .cause(format!(
            "{}: {}",
            e.message,
            e.error.clone().unwrap_or_default()
        ))
        .field("file", file.display().to_string())
    })?;
    let text =
        std::fs::read_to_string(file).map_err(|e| Error::io(Exit::Dump, "read", file, &e))?;
    let script = idempotent_roles(&text);
    let psql = integrity::psql_for(file)?;
    let mut cmd = Command::new(&psql.path);
    child::set_libpq_env(&mut cmd, settings);
    cmd.args(["-X", "-q", "-v", "ON_ERROR_STOP=1"])
        .arg("--dbname")
        .arg(child::dbname_conninfo(&settings.dbname))
        .args(["--file", "-"]);
    child::own_group(&mut cmd);
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    log::info(
        "Replaying globals",
        json!({"file": file.display().to_string(), "target": settings.redacted(),
               "program": psql.path.display().to_string()}),
    );
    let mut proc = cmd
        .spawn()
        .map_err(|e| Error::new(Exit::MissingProgram, "Cannot run psql").cause(e))?;
    let pid = proc.id();
    let hook = interrupt::on_signal(move || child::kill(pid, libc::SIGTERM));
    let relay = proc.stderr.take().map(|e| child::relay("psql", e));
    if let Some(mut stdin) = proc.stdin.take() {
        // A failed write means psql stopped reading: its status tells why.
        let _ = stdin.write_all(script.as_bytes());
    }
    let status = proc
        .wait()
        .map_err(|e| Error::new(Exit::Dump, "Cannot wait for psql").cause(e))?;
    drop(hook);
    let lines = relay.and_then(|r| r.join().ok()).unwrap_or_default();
    interrupt::check()?;
    if !status.success() {
        return Err(Error::new(Exit::Dump, "Globals replay failed")
            .cause(lines.first().cloned().unwrap_or_else(|| child::describe(status)))
            .field("file", file.display().to_string())
            .suggest("See the psql lines above; the statements before the failing one were applied (roles and tablespaces cannot be created in one transaction)"));
    }
    log::info(
        "Globals replayed",
        json!({"file": file.display().to_string()}),
    );
    Ok(())
}

/// Rewrites each `CREATE ROLE name;` line into a block that skips an
/// existing role, and each `ALTER ROLE name WITH ...;` line into one that
/// skips the connecting role and the bootstrap superuser (see the module's
/// notes); nothing else changes.
fn idempotent_roles(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 1024);
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        if let Some(name) = body
            .strip_prefix("CREATE ROLE ")
            .and_then(|r| r.strip_suffix(';'))
            .filter(|name| is_role_name(name))
        {
            out.push_str(&format!(
                "DO $pgkit$BEGIN CREATE ROLE {name}; EXCEPTION WHEN duplicate_object THEN NULL; END$pgkit$;\n"
            ));
        } else if let Some(block) = guarded_alter_role(body) {
            out.push_str(&block);
        } else {
            out.push_str(line);
        }
    }
    out
}

/// `ALTER ROLE name WITH ...;` as a block that runs it unless `name` is the
/// role connected or the bootstrap superuser (oid 10), saying so otherwise.
fn guarded_alter_role(body: &str) -> Option<String> {
    let rest = body.strip_prefix("ALTER ROLE ")?;
    let statement = body.strip_suffix(';')?;
    let (name, after) = split_role_name(rest)?;
    if !after.starts_with(" WITH ")
        || statement.contains("$pgkitalter$")
        || statement.contains("$pgkit$")
    {
        return None;
    }
    let actual = match name.strip_prefix('"').and_then(|n| n.strip_suffix('"')) {
        Some(inner) => inner.replace("\"\"", "\""),
        None => name.to_string(),
    };
    let literal = format!("'{}'", actual.replace('\'', "''"));
    Some(format!(
        "DO $pgkit$BEGIN IF {literal} IN (current_user, (SELECT rolname FROM pg_catalog.pg_roles WHERE oid = 10)) THEN RAISE NOTICE 'pg-dump-rotate: ALTER ROLE of % skipped: it is the role this restore connects as, or the bootstrap superuser (its attributes and password stay as they are)', {literal}; ELSE EXECUTE $pgkitalter${statement}$pgkitalter$; END IF; END$pgkit$;\n"
    ))
}

/// A role name at the start of `s` as pg_dumpall writes it, and the rest.
fn split_role_name(s: &str) -> Option<(&str, &str)> {
    let end = if s.starts_with('"') {
        // Past the closing quote (a doubled quote is part of the name).
        let b = s.as_bytes();
        let mut i = 1;
        loop {
            match b.get(i)? {
                b'"' if b.get(i + 1) == Some(&b'"') => i += 2,
                b'"' => break i + 1,
                _ => i += 1,
            }
        }
    } else {
        s.find(' ')?
    };
    let name = &s[..end];
    is_role_name(name).then_some((name, &s[end..]))
}

/// A role name as pg_dumpall writes it: a plain identifier, or a quoted one
/// (`"Mixed Case"`, doubled quotes inside) with no `$` that could end the
/// block's quoting.
fn is_role_name(s: &str) -> bool {
    if s.contains("$pgkit$") {
        return false;
    }
    if let Some(inner) = s.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        return !inner.is_empty() && !inner.replace("\"\"", "").contains('"');
    }
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$')
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn create_role_lines_become_idempotent() {
        let s = "--\nCREATE ROLE app;\nALTER ROLE app WITH LOGIN;\nCREATE ROLE \"Odd \"\"One\";\r\nCREATE ROLE x WITH LOGIN;\nCREATE TABLESPACE t OWNER app LOCATION '/x';\n";
        let out = idempotent_roles(s);
        assert!(out.contains("DO $pgkit$BEGIN CREATE ROLE app; EXCEPTION WHEN duplicate_object THEN NULL; END$pgkit$;\nDO $pgkit$BEGIN IF 'app' IN (current_user,"));
        assert!(out.contains("EXECUTE $pgkitalter$ALTER ROLE app WITH LOGIN$pgkitalter$;"));
        assert!(out.contains("CREATE ROLE \"Odd \"\"One\"; EXCEPTION"));
        // Not pg_dumpall's one-name form: left alone.
        assert!(out.contains("\nCREATE ROLE x WITH LOGIN;\n"));
        assert!(out.contains("CREATE TABLESPACE t"));
        // The connecting role's and the bootstrap superuser's attributes
        // are left alone; anyone else's are set.
        let alter = "ALTER ROLE \"Odd \"\"One\" WITH NOSUPERUSER LOGIN PASSWORD 'SCRAM-SHA-256$4096:x$y:z';";
        let out = idempotent_roles(&format!("{alter}\n"));
        assert!(out.starts_with("DO $pgkit$BEGIN IF 'Odd \"One' IN (current_user, (SELECT rolname FROM pg_catalog.pg_roles WHERE oid = 10)) THEN RAISE NOTICE"), "{out}");
        assert!(out.contains(&format!(
            "ELSE EXECUTE $pgkitalter${}$pgkitalter$; END IF; END$pgkit$;\n",
            &alter[..alter.len() - 1]
        )));
        assert_eq!(
            idempotent_roles("ALTER ROLE app SET search_path TO x;\n"),
            "ALTER ROLE app SET search_path TO x;\n"
        );
        assert!(!is_role_name("\"a\"b\""));
        assert!(!is_role_name("x$pgkit$"));
        assert!(!is_role_name(""));
    }
}
