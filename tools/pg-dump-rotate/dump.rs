//! `dump`: pg_dump streamed through SHA-256 into `….partial`; only a complete,
//! plausible dump is fsynced, described (sidecar, manifest) and renamed to
//! its final name. Anything else leaves nothing behind.

use crate::args::DumpArgs;
use crate::layout::{self, Format};
use crate::programs::{self, Program};
use crate::{child, lock, purge};
use chrono::{SecondsFormat, Utc};
use pgkit::cli::Summary;
use pgkit::conn::Settings;
use pgkit::{interrupt, log, Error, Exit, Result};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The read/write buffer: large, so the copy costs few system calls.
const BUF: usize = 1 << 20;

/// The last line of a complete plain-format dump.
pub const PLAIN_TRAILER: &[u8] = b"-- PostgreSQL database dump complete";

/// Removes what it guards on drop unless disarmed: the partial dump, and the
/// sidecar and manifest until the final rename.
struct Cleanup {
    paths: Vec<PathBuf>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for p in &self.paths {
            let r = if p.is_dir() {
                fs::remove_dir_all(p)
            } else {
                fs::remove_file(p)
            };
            if let Err(e) = r {
                if e.kind() != std::io::ErrorKind::NotFound {
                    log::warn(
                        "Cannot remove a partial file",
                        json!({"path": p.display().to_string(), "error": e.to_string()}),
                    );
                }
            }
        }
    }
}

fn dump_err(message: &str) -> Error {
    Error::new(Exit::Dump, message)
}

/// Runs `dump`.
pub fn run(dir: &Path, a: &DumpArgs) -> Result<Summary> {
    let started_at = Instant::now();
    // A file-size limit (ulimit -f) must fail a write with EFBIG, which the
    // tool cleans up after, not kill the process and leave a partial file.
    // SAFETY: setting a signal's disposition to SIG_IGN has no preconditions.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
    let settings = Settings::resolve(&a.conn, "pg-dump-rotate")?;
    let source = a.source.clone().unwrap_or_else(|| settings.dbname.clone());
    layout::check_source(&source)?;
    if a.jobs.is_some() && a.format != Format::Directory {
        return Err(Error::usage("--jobs needs --format directory")
            .suggest("pg_dump runs in parallel only into a directory-format dump"));
    }
    if a.format == Format::Plain
        && a.compress
            .as_deref()
            .is_some_and(|c| !matches!(c.trim(), "0" | "none"))
    {
        return Err(Error::usage("--compress does not go with --format plain")
            .cause("a compressed plain dump is not an SQL script; its end could not be checked")
            .suggest("Use --format custom (compressed by default) or directory"));
    }
    let lock_wait = crate::args::duration("--lock-wait", &a.lock_wait)?;
    let rules = a.retention.rules(None)?;
    let partial_age = a.retention.partial_age()?;
    // dump --purge never asks (it runs from cron): --yes changes nothing.
    let _ = a.yes;
    if a.purge && !rules.any() {
        return Err(Error::usage("--purge needs a retention rule")
            .suggest("Add e.g. --keep-daily 7 --keep-weekly 4 (or DUMP_KEEP_* variables)"));
    }

    // The server's version and pg_dump's, side by side (each a round trip
    // or a process start).
    let (server, probed) = std::thread::scope(|s| {
        let probe = s.spawn(|| programs::probe("pg_dump"));
        let server = server_version(&settings);
        let probed = probe
            .join()
            .unwrap_or_else(|_| Err(dump_err("Cannot run pg_dump --version")));
        (server, probed)
    });
    let (server_version, server_major) = server?;
    let pg_dump = programs::upgrade("pg_dump", probed?, server_major, "server")?;

    let sdir = dir.join(&source);
    fs::create_dir_all(&sdir).map_err(|e| Error::io(Exit::Dump, "create", &sdir, &e))?;
    let _lock = lock::acquire(&sdir, &source, lock_wait)?;

    // A name nobody has used: two dumps within one second wait for the next.
    let (started, name) = loop {
        let now = Utc::now();
        let name = layout::dump_name(&source, now, a.format);
        let p = sdir.join(&name);
        if !p.exists() && !layout::partial_path(&p).exists() {
            break (now, name);
        }
        // (subsec millis exceed 999 during a leap second: never underflow.)
        let rest = 1000u64.saturating_sub(u64::from(now.timestamp_subsec_millis()));
        interrupt::sleep(Duration::from_millis(rest.max(10)))?;
    };
    let final_path = sdir.join(&name);
    let partial = layout::partial_path(&final_path);
    let sidecar = layout::sidecar_path(&final_path);
    let manifest = layout::manifest_path(&final_path);
    let mut cleanup = Cleanup {
        paths: vec![partial.clone(), sidecar.clone(), manifest.clone()],
    };
    log::info(
        "Dump started",
        json!({"source": source, "database": settings.dbname, "file": final_path.display().to_string(),
               "format": a.format.as_str(), "serverVersion": server_version, "pgDumpVersion": pg_dump.version}),
    );

    let result = run_pg_dump(a, &settings, &pg_dump, &partial, &name)?;

    let finished = Utc::now();
    let m = json!({
        "tool": "pg-dump-rotate",
        "toolVersion": env!("CARGO_PKG_VERSION"),
        "source": source,
        "database": settings.dbname,
        "server": settings.redacted(),
        "file": name,
        "format": a.format.as_str(),
        "compression": a.compress.clone().unwrap_or_else(|| "default".into()),
        "excludeTableData": a.exclude_table_data,
        "noOwner": a.no_owner,
        "size": result.size,
        "sha256": result.digest,
        "serverVersion": server_version,
        "pgDumpVersion": pg_dump.version,
        "started": started.to_rfc3339_opts(SecondsFormat::Millis, true),
        "finished": finished.to_rfc3339_opts(SecondsFormat::Millis, true),
        "durationMs": (finished - started).num_milliseconds(),
    });
    let mut text = serde_json::to_string_pretty(&m)
        .map_err(|e| dump_err("Cannot write the manifest").cause(e))?;
    text.push('\n');
    write_synced(&manifest, text.as_bytes())?;
    write_synced(&sidecar, result.sidecar.as_bytes())?;
    interrupt::check()?;
    // The commit point: the final name appears, complete, in one step.
    fs::rename(&partial, &final_path).map_err(|e| Error::io(Exit::Dump, "rename", &partial, &e))?;
    cleanup.paths.clear();
    sync_dir(&sdir)?;

    let duration_ms = started_at.elapsed().as_millis() as u64;
    log::info(
        "Dump written",
        json!({"source": source, "file": final_path.display().to_string(), "sizeBytes": result.size,
               "sha256": result.digest, "durationMs": duration_ms}),
    );
    pgkit::out::println(&final_path.display().to_string())?;

    let mut summary = Summary::ok("Dump complete")
        .field("source", source.clone())
        .field("file", final_path.display().to_string())
        .field("sizeBytes", result.size)
        .field("sha256", result.digest.clone());
    if a.purge {
        let (removed, kept) = purge::purge_locked(dir, &source, &rules, partial_age, Some(&name))?;
        summary = summary.field("removed", removed).field("kept", kept);
    }
    Ok(summary)
}

/// The server's version string and major version.
fn server_version(settings: &Settings) -> Result<(String, u32)> {
    let mut client = settings
        .connect()
        .map_err(|e| e.into_error(Exit::NotReady, "Cannot connect to the database"))?;
    let _cancel = pgkit::conn::cancel_on_signal(settings, &client);
    let row = client
        .query_one(
            "SELECT current_setting('server_version_num'), current_setting('server_version')",
            &[],
        )
        .map_err(|e| dump_err("Cannot read the server version").cause(e))?;
    let num: String = row.get(0);
    let version: String = row.get(1);
    let num: u32 = num
        .trim()
        .parse()
        .map_err(|_| dump_err("Cannot read the server version").cause(num.clone()))?;
    Ok((version, num / 10_000))
}

struct Written {
    size: u64,
    digest: String,
    sidecar: String,
}

fn run_pg_dump(
    a: &DumpArgs,
    settings: &Settings,
    pg_dump: &Program,
    partial: &Path,
    name: &str,
) -> Result<Written> {
    let mut cmd = Command::new(&pg_dump.path);
    child::set_libpq_env(&mut cmd, settings);
    cmd.arg(a.format.pg_dump_flag());
    if let Some(c) = &a.compress {
        cmd.arg(format!("--compress={c}"));
    }
    if let Some(j) = a.jobs {
        cmd.arg(format!("--jobs={j}"));
    }
    for p in &a.exclude_table_data {
        cmd.arg(format!("--exclude-table-data={p}"));
    }
    if a.no_owner {
        cmd.arg("--no-owner");
    }
    let to_dir = a.format == Format::Directory;
    if to_dir {
        cmd.arg("--file").arg(partial);
        cmd.stdout(Stdio::null());
    } else {
        cmd.stdout(Stdio::piped());
    }
    cmd.stdin(Stdio::null()).stderr(Stdio::piped());
    child::own_group(&mut cmd);

    // Created before pg_dump starts, so a failure to write is found at once.
    let mut file = if to_dir {
        None
    } else {
        Some(
            OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(partial)
                .map_err(|e| Error::io(Exit::Dump, "create", partial, &e))?,
        )
    };
    let mut proc = cmd.spawn().map_err(|e| {
        Error::new(Exit::MissingProgram, "Cannot run pg_dump")
            .cause(e)
            .field("program", pg_dump.path.display().to_string())
    })?;
    let pid = proc.id();
    let hook = interrupt::on_signal(move || child::kill(pid, libc::SIGTERM));
    let relay = proc.stderr.take().map(|e| child::relay("pg_dump", e));

    let mut streamed = None;
    let mut write_error = None;
    if let (Some(out), Some(file)) = (proc.stdout.take(), file.as_mut()) {
        child::grow_pipe(out.as_raw_fd(), BUF as i32);
        match stream(out, file) {
            Ok(s) => streamed = Some(s),
            Err(e) => {
                // Out of disk, I/O error: stop pg_dump, it cannot go anywhere.
                child::kill(pid, libc::SIGKILL);
                write_error = Some(e);
            }
        }
    }
    let status = proc
        .wait()
        .map_err(|e| dump_err("Cannot wait for pg_dump").cause(e))?;
    drop(hook);
    let lines = relay.and_then(|r| r.join().ok()).unwrap_or_default();
    interrupt::check()?;
    if let Some(e) = write_error {
        return Err(Error::io(Exit::Dump, "write", partial, &e)
            .suggest("Check free space and permissions in the dump directory"));
    }
    if !status.success() {
        return Err(dump_err("pg_dump failed")
            .cause(
                lines
                    .last()
                    .cloned()
                    .unwrap_or_else(|| child::describe(status)),
            )
            .field("status", child::describe(status))
            .suggest("See the pg_dump output lines above; nothing was kept"));
    }
    if to_dir {
        return describe_directory(partial, name);
    }
    let s = streamed.ok_or_else(|| dump_err("pg_dump produced no output"))?;
    if s.size == 0 {
        return Err(dump_err("pg_dump produced an empty dump"));
    }
    if a.format == Format::Custom && !custom_header(&s.head) {
        return Err(dump_err("pg_dump's output is not a custom-format archive")
            .cause("the archive header (PGDMP, version 1, custom format) is missing"));
    }
    if a.format == Format::Plain && !contains(&s.tail, PLAIN_TRAILER) {
        return Err(dump_err("pg_dump's SQL script is incomplete")
            .cause("the closing 'PostgreSQL database dump complete' line is missing"));
    }
    if let Some(f) = file.as_ref() {
        f.sync_all()
            .map_err(|e| Error::io(Exit::Dump, "fsync", partial, &e))?;
    }
    Ok(Written {
        size: s.size,
        sidecar: format!("{}  {name}\n", s.digest),
        digest: s.digest,
    })
}

struct Streamed {
    size: u64,
    digest: String,
    head: [u8; 11],
    tail: Vec<u8>,
}

/// Copies `src` into `dst`, hashing on the way: one pass, 1 MiB blocks.
fn stream(mut src: impl Read, dst: &mut File) -> std::io::Result<Streamed> {
    let mut buf = vec![0u8; BUF];
    let mut hasher = Sha256::new();
    let mut size: u64 = 0;
    let mut head = [0u8; 11];
    let mut tail: Vec<u8> = Vec::with_capacity(128);
    let mut eof = false;
    let mut flushed: u64 = 0;
    while !eof {
        // Fill the block (pipes hand out a few KiB per read) before writing.
        let mut filled = 0;
        while filled < BUF {
            match src.read(&mut buf[filled..]) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            if filled >= BUF / 2 {
                break;
            }
        }
        if filled == 0 {
            continue;
        }
        let chunk = &buf[..filled];
        if size < 11 {
            for (i, b) in chunk.iter().enumerate() {
                let at = size as usize + i;
                if at >= 11 {
                    break;
                }
                head[at] = *b;
            }
        }
        hasher.update(chunk);
        dst.write_all(chunk)?;
        size += filled as u64;
        if size - flushed >= FLUSH_AFTER {
            start_writeback(dst, flushed, size - flushed);
            flushed = size;
        }
        let keep = chunk.len().min(128);
        tail.extend_from_slice(&chunk[chunk.len() - keep..]);
        if tail.len() > 128 {
            tail.drain(..tail.len() - 128);
        }
    }
    Ok(Streamed {
        size,
        digest: layout::hex(&hasher.finalize()),
        head,
        tail,
    })
}

/// The custom-format header: `PGDMP`, major version 1, int and offset
/// sizes, format byte 1 (custom).
fn custom_header(h: &[u8; 11]) -> bool {
    &h[..5] == b"PGDMP"
        && h[5] == 1
        && (1..=8).contains(&h[8])
        && (1..=8).contains(&h[9])
        && h[10] == 1
}

/// Written data is handed to the disk every this many bytes, so the final
/// fsync has little left to wait for (PostgreSQL's `*_flush_after` idea).
const FLUSH_AFTER: u64 = 8 << 20;

/// Starts writeback of a written range without waiting for it (Linux
/// `sync_file_range(SYNC_FILE_RANGE_WRITE)`; best effort, elsewhere a no-op).
fn start_writeback(f: &File, offset: u64, len: u64) {
    #[cfg(target_os = "linux")]
    // SAFETY: a plain system call on a descriptor we own; failure is harmless.
    unsafe {
        libc::sync_file_range(
            f.as_raw_fd(),
            offset as libc::off64_t,
            len as libc::off64_t,
            libc::SYNC_FILE_RANGE_WRITE,
        );
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (f, offset, len);
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Hashes and fsyncs every file of a directory-format dump; the sidecar has
/// one `sha256sum` line per file, relative to the source directory.
fn describe_directory(partial: &Path, name: &str) -> Result<Written> {
    let mut files: Vec<String> = fs::read_dir(partial)
        .map_err(|e| Error::io(Exit::Dump, "read", partial, &e))?
        .flatten()
        .filter_map(|e| e.file_name().to_str().map(String::from))
        .collect();
    files.sort();
    if !files.iter().any(|f| f == "toc.dat") {
        return Err(dump_err("pg_dump's directory has no toc.dat"));
    }
    let mut sidecar = String::new();
    let mut size = 0;
    for f in &files {
        let p = partial.join(f);
        let (digest, n) = crate::verify::hash_file(&p, Exit::Dump)?;
        File::open(&p)
            .and_then(|h| h.sync_all())
            .map_err(|e| Error::io(Exit::Dump, "fsync", &p, &e))?;
        size += n;
        sidecar.push_str(&format!("{digest}  {name}/{f}\n"));
    }
    sync_dir(partial)?;
    Ok(Written {
        size,
        digest: layout::sidecar_digest(&sidecar, true),
        sidecar,
    })
}

/// Writes a small file and fsyncs it.
fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = File::create(path).map_err(|e| Error::io(Exit::Dump, "create", path, &e))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| Error::io(Exit::Dump, "write", path, &e))
}

/// Fsyncs a directory, so a rename in it survives a crash.
pub fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(Exit::Dump, "fsync", dir, &e))
}
