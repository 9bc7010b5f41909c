//! `--dump-schema FILE`: `pg_dump --schema-only` into FILE, atomically (a
//! temporary file beside it, renamed), with the connection in the child's
//! environment (the password never on argv). 127 when pg_dump is missing.
//! pg-migrate's own tables are left out, so the file can be a new
//! project's baseline migration.

use pgkit::conn::Settings;
use pgkit::{interrupt, log, Error, Exit, Result};
use serde_json::json;
use std::path::Path;
use std::process::{Command, Stdio};

/// Dumps the schema into `file`.
pub fn schema(settings: &Settings, program: &str, file: &Path, excludes: &[String]) -> Result<()> {
    let dir = match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let tmp = tempfile::Builder::new()
        .prefix(".pg-migrate-schema")
        .tempfile_in(dir)
        .map_err(|e| Error::io(Exit::Dump, "create a temporary file in", dir, &e))?;
    let out = tmp
        .reopen()
        .map_err(|e| Error::io(Exit::Dump, "open", tmp.path(), &e))?;
    // A bare `pg_dump` missing from PATH may be in pg-tmp's cache.
    let mut cmd = Command::new(pgkit::pginstall::resolve_program(program));
    cmd.args(["--schema-only", "--no-password"])
        .args(excludes)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(Stdio::piped());
    settings.apply_to_command(&mut cmd);
    pgkit::orphan::die_with_parent(&mut cmd);
    let child = cmd.spawn().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::new(Exit::MissingProgram, "pg_dump not found")
                .cause(e)
                .field("program", program)
                .suggest("Install the PostgreSQL client tools (pg_dump) or set PG_DUMP / --pg-dump")
        } else {
            Error::new(Exit::Dump, "Cannot run pg_dump")
                .cause(e)
                .field("program", program)
        }
    })?;
    let pid = child.id() as i32;
    let _guard = interrupt::on_signal(move || {
        // SAFETY: signalling our own child by pid.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
    });
    let output = child
        .wait_with_output()
        .map_err(|e| Error::new(Exit::Dump, "Cannot run pg_dump").cause(e))?;
    interrupt::check()?;
    if !output.status.success() {
        let text = String::from_utf8_lossy(&output.stderr);
        return Err(Error::new(Exit::Dump, "Schema dump failed")
            .cause(text.trim().lines().next().unwrap_or("pg_dump failed"))
            .field("file", file.display().to_string())
            .suggest("pg_dump must be at least the server's major version; check its message"));
    }
    // A schema file is for reviewers: the usual mode, not tempfile's 0600.
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o644));
    }
    tmp.persist(file)
        .map_err(|e| Error::io(Exit::Dump, "write", file, &e.error))?;
    log::info("Schema dumped", json!({"file": file.display().to_string()}));
    Ok(())
}
