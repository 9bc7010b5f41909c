//! Whether a dump can be trusted: the SHA-256 recomputed against the sidecar
//! (and the manifest), then the whole archive read: `pg_restore -f /dev/null` for custom and
//! directory dumps (it reads every data block; `pg_restore --list` only reads
//! the table of contents and passes truncated files), the closing line for
//! plain SQL (read through gunzip, in the same pass as the hash, when the
//! script is gzip-compressed).

use crate::layout::{self, Format};
use crate::programs::{self, Program};
use crate::{child, gzip};
use pgkit::{Error, Exit, Result};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};

/// Hashes a file in 1 MiB blocks: (hex digest, size).
pub fn hash_file(path: &Path, code: Exit) -> Result<(String, u64)> {
    let mut f = File::open(path).map_err(|e| Error::io(code, "open", path, &e))?;
    let mut buf = vec![0u8; 1 << 20];
    let mut h = Sha256::new();
    let mut n = 0u64;
    loop {
        match f.read(&mut buf) {
            Ok(0) => break,
            Ok(k) => {
                h.update(&buf[..k]);
                n += k as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io(code, "read", path, &e)),
        }
        pgkit::interrupt::check()?;
    }
    Ok((layout::hex(&h.finalize()), n))
}

/// The format of a dump path, by its extension (`.sql.gz` is plain).
pub fn format_of(path: &Path) -> Format {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if name.ends_with(".sql.gz") {
        return Format::Plain;
    }
    match path.extension().and_then(|e| e.to_str()) {
        Some("sql") => Format::Plain,
        Some("dir") => Format::Directory,
        _ => Format::Custom,
    }
}

fn fail(path: &Path, message: &str, cause: impl std::fmt::Display) -> Error {
    Error::new(Exit::Dump, message)
        .cause(cause)
        .field("file", path.display().to_string())
}

/// Checks a dump's bytes against its sidecar and manifest (no archive read).
pub fn check_checksum(path: &Path) -> Result<()> {
    check_checksum_with(path, |p| hash_file(p, Exit::Dump).map(|(d, _)| d))
}

/// As `check_checksum`, with the file's digest computed by `digest` (which
/// may do more with the bytes on the way).
fn check_checksum_with(path: &Path, digest: impl FnOnce(&Path) -> Result<String>) -> Result<()> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(Exit::Dump, "read", path, &e))?;
    let sidecar = layout::sidecar_path(path);
    let text = std::fs::read_to_string(&sidecar).map_err(|e| {
        fail(path, "Dump has no checksum sidecar", e)
            .field("sidecar", sidecar.display().to_string())
            .suggest("A dump without its .sha256 cannot be trusted; dump again")
    })?;
    let is_dir = meta.is_dir();
    if is_dir {
        check_directory(path, &text)?;
    } else {
        let want = layout::sidecar_digest(&text, false);
        let got = digest(path)?;
        if got != want {
            return Err(fail(
                path,
                "Checksum mismatch",
                format!("SHA-256 is {got}, the sidecar says {want}"),
            )
            .suggest("The dump is damaged; use another one (pg-dump-rotate list)"));
        }
    }
    if let Some(m) = layout::read_manifest(&layout::manifest_path(path)) {
        let want = layout::sidecar_digest(&text, is_dir);
        if m["sha256"].as_str() != Some(want.as_str()) {
            return Err(fail(
                path,
                "Checksum mismatch",
                "the sidecar and the manifest disagree",
            ));
        }
    }
    Ok(())
}

fn check_directory(path: &Path, sidecar: &str) -> Result<()> {
    let base = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let mut listed = std::collections::HashSet::new();
    for line in sidecar.lines().filter(|l| !l.trim().is_empty()) {
        let Some((want, rel)) = line.split_once("  ") else {
            return Err(fail(path, "Checksum mismatch", "malformed sidecar line"));
        };
        let Some(file) = rel.strip_prefix(name).and_then(|r| r.strip_prefix('/')) else {
            return Err(fail(
                path,
                "Checksum mismatch",
                "sidecar names another dump",
            ));
        };
        if file.contains('/') || file == ".." {
            return Err(fail(path, "Checksum mismatch", "malformed sidecar line"));
        }
        let (got, _) = hash_file(&base.join(rel), Exit::Dump).map_err(|e| {
            fail(
                path,
                "Checksum mismatch",
                format!("{file}: {}", e.error.unwrap_or_default()),
            )
        })?;
        if got != want {
            return Err(fail(
                path,
                "Checksum mismatch",
                format!("{file}: SHA-256 is {got}, the sidecar says {want}"),
            ));
        }
        listed.insert(file.to_string());
    }
    let extra: Vec<String> = std::fs::read_dir(path)
        .map_err(|e| Error::io(Exit::Dump, "read", path, &e))?
        .flatten()
        .filter_map(|e| e.file_name().to_str().map(String::from))
        .filter(|f| !listed.contains(f))
        .collect();
    if !extra.is_empty() || listed.is_empty() {
        return Err(fail(
            path,
            "Checksum mismatch",
            format!("files not in the sidecar: {}", extra.join(", ")),
        ));
    }
    Ok(())
}

/// The pg_restore able to read a dump (its manifest names the pg_dump version).
pub fn pg_restore_for(path: &Path) -> Result<Program> {
    programs::find("pg_restore", needed_reader(path))
}

/// The psql able to run a plain script: as new as the pg_dump that wrote it
/// (whose `\restrict` lines psql before 15.14/16.10/17.6 does not know).
pub fn psql_for(path: &Path) -> Result<Program> {
    programs::find("psql", needed_reader(path))
}

/// The oldest major that can read a dump, and why: the pg_dump that wrote
/// it, from its manifest; without one, its archive format's.
fn needed_reader(path: &Path) -> Option<(u32, &'static str)> {
    layout::read_manifest(&layout::manifest_path(path))
        .and_then(|m| m["pgDumpVersion"].as_str().map(String::from))
        .and_then(|v| v.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok())
        .map(|n| (n, "dump's pg_dump"))
        .or_else(|| reader_of_archive(path).map(|n| (n, "dump's archive format")))
}

/// The oldest pg_restore major that reads an archive, from its header's
/// format version (`PGDMP`, then major, minor, revision): 1.16 came with
/// pg_dump 17 (18 writes it too), 1.15 with 16 (zstd, lz4), 1.14 with 12;
/// older ones every supported pg_restore reads. None for anything else (a
/// script, an unreadable file: the reader's own error then says why).
fn reader_of_archive(path: &Path) -> Option<u32> {
    let file = if path.is_dir() {
        path.join("toc.dat")
    } else {
        path.to_path_buf()
    };
    let mut head = [0u8; 7];
    File::open(file).ok()?.read_exact(&mut head).ok()?;
    if &head[..5] != b"PGDMP" || head[5] != 1 {
        return None;
    }
    match head[6] {
        m if m >= 16 => Some(17),
        15 => Some(16),
        14 => Some(12),
        _ => None,
    }
}

/// Reads the whole archive.
fn read_archive(path: &Path, format: Format) -> Result<()> {
    if format == Format::Plain && gzip::is_gzip(path) {
        return hash_and_inflate(path)?.1;
    }
    if format == Format::Plain {
        let mut f = File::open(path).map_err(|e| Error::io(Exit::Dump, "open", path, &e))?;
        let len = f.metadata().map(|m| m.len()).unwrap_or(0);
        use std::io::{Seek, SeekFrom};
        let _ = f.seek(SeekFrom::Start(len.saturating_sub(256)));
        let mut tail = Vec::new();
        let _ = f.read_to_end(&mut tail);
        return script_complete(path, &tail);
    }
    let pg_restore = pg_restore_for(path)?;
    ReadCheck::spawn(&pg_restore, Some(path))?.finish(path)?
}

/// Whether a plain script's end (`tail`) holds its closing line.
fn script_complete(path: &Path, tail: &[u8]) -> Result<()> {
    if gzip::ends_complete(tail) {
        return Ok(());
    }
    Err(fail(
        path,
        "Dump is incomplete",
        "the SQL script lacks its closing 'dump complete' line",
    ))
}

/// Hashes a gzip-compressed plain script and inflates it on the way, in
/// one pass: (digest, whether the gzip stream is whole and the script
/// complete).
fn hash_and_inflate(path: &Path) -> Result<(String, Result<()>)> {
    let mut f = File::open(path).map_err(|e| Error::io(Exit::Dump, "open", path, &e))?;
    let mut buf = vec![0u8; 1 << 20];
    let mut h = Sha256::new();
    let mut inflater = gzip::Inflater::default();
    loop {
        let n = match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::io(Exit::Dump, "read", path, &e)),
        };
        h.update(&buf[..n]);
        inflater.feed(&buf[..n]);
        pgkit::interrupt::check()?;
    }
    let archive = match inflater.finish() {
        Ok(ends) => script_complete(path, &ends.tail),
        Err(e) => Err(fail(path, "Dump is incomplete", e)
            .suggest("The dump is damaged or truncated; use another one")),
    };
    Ok((layout::hex(&h.finalize()), archive))
}

/// `pg_restore --file=/dev/null`: reads a whole archive (from a file, or from
/// its stdin), which `pg_restore --list` does not. Killed on SIGINT/SIGTERM;
/// its stderr is relayed as JSON lines.
struct ReadCheck {
    proc: std::process::Child,
    hook: pgkit::interrupt::HookGuard,
    relay: Option<std::thread::JoinHandle<Vec<String>>>,
}

impl ReadCheck {
    fn spawn(pg_restore: &Program, file: Option<&Path>) -> Result<ReadCheck> {
        let mut cmd = Command::new(&pg_restore.path);
        cmd.arg("--file=/dev/null")
            .stdin(if file.is_some() {
                Stdio::null()
            } else {
                Stdio::piped()
            })
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some(f) = file {
            cmd.arg(f);
        }
        child::own_group(&mut cmd);
        let mut proc = cmd
            .spawn()
            .map_err(|e| Error::new(Exit::MissingProgram, "Cannot run pg_restore").cause(e))?;
        let pid = proc.id();
        let hook = pgkit::interrupt::on_signal(move || child::kill(pid, libc::SIGTERM));
        let relay = proc.stderr.take().map(|e| child::relay("pg_restore", e));
        Ok(ReadCheck { proc, hook, relay })
    }

    /// Waits for pg_restore. The outer error is a failure to wait or an
    /// interruption; the inner one says the archive of `path` is unreadable.
    fn finish(mut self, path: &Path) -> Result<Result<()>> {
        let status = self
            .proc
            .wait()
            .map_err(|e| Error::new(Exit::Dump, "Cannot wait for pg_restore").cause(e))?;
        drop(self.hook);
        let lines = self.relay.and_then(|r| r.join().ok()).unwrap_or_default();
        pgkit::interrupt::check()?;
        if status.success() {
            return Ok(Ok(()));
        }
        Ok(Err(fail(
            path,
            "Archive is unreadable",
            lines
                .last()
                .cloned()
                .unwrap_or_else(|| child::describe(status)),
        )
        .suggest("The dump is damaged or truncated; use another one")))
    }
}

/// Verifies one dump fully. A custom-format file is read once: its bytes go
/// through SHA-256 and on into `pg_restore -f /dev/null` (from stdin), so a
/// large dump costs one pass of I/O, not two.
pub fn verify_one(path: &Path) -> Result<()> {
    if !path.exists() {
        return Err(Error::new(Exit::NoInput, "Dump not found")
            .field("file", path.display().to_string())
            .suggest("Check the path (pg-dump-rotate list shows the dumps)"));
    }
    let format = format_of(path);
    if format == Format::Custom && path.is_file() && layout::sidecar_path(path).is_file() {
        let pg_restore = pg_restore_for(path)?;
        let mut archive = Ok(());
        check_checksum_with(path, |p| {
            let (digest, result) = hash_into_pg_restore(p, &pg_restore)?;
            archive = result;
            Ok(digest)
        })?;
        // The checksum speaks first: a mismatch says more than pg_restore's
        // complaint about the same damage.
        return archive;
    }
    if format == Format::Plain && path.is_file() && gzip::is_gzip(path) {
        let mut archive = Ok(());
        check_checksum_with(path, |p| {
            let (digest, result) = hash_and_inflate(p)?;
            archive = result;
            Ok(digest)
        })?;
        return archive;
    }
    check_checksum(path)?;
    read_archive(path, format)
}

/// Streams a file through SHA-256 into `pg_restore --file=/dev/null`'s
/// stdin: (digest, whether pg_restore read the whole archive).
fn hash_into_pg_restore(path: &Path, pg_restore: &Program) -> Result<(String, Result<()>)> {
    use std::io::Write;
    let mut f = File::open(path).map_err(|e| Error::io(Exit::Dump, "open", path, &e))?;
    let mut check = ReadCheck::spawn(pg_restore, None)?;
    let mut stdin = check.proc.stdin.take();
    let mut buf = vec![0u8; 1 << 20];
    let mut h = Sha256::new();
    let read_result = loop {
        let n = match f.read(&mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => break Err(Error::io(Exit::Dump, "read", path, &e)),
        };
        h.update(&buf[..n]);
        // pg_restore may stop early (a damaged archive): keep hashing.
        if let Some(w) = stdin.as_mut() {
            if w.write_all(&buf[..n]).is_err() {
                stdin = None;
            }
        }
        if pgkit::interrupt::received().is_some() {
            break Ok(());
        }
    };
    drop(stdin);
    let archive = check.finish(path)?;
    read_result?;
    Ok((layout::hex(&h.finalize()), archive))
}
