//! `dump`: pg_dump streamed through SHA-256 into `….partial`; only a complete,
//! plausible dump is fsynced, described (sidecar, manifest) and renamed to
//! its final name. Anything else leaves nothing behind.

use crate::cli::DumpArgs;
use crate::commands::purge;
use crate::durable::{sync_dir, write_synced};
use crate::layout::{self, Format};
use crate::programs::{self, Program};
use crate::{child, gzip, lock};
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
use std::time::Duration;

/// The read/write buffer: large, so the copy costs few system calls.
const BUF: usize = 1 << 20;

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

/// What one dump run writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// One database, by pg_dump.
    Database,
    /// The cluster's roles and tablespaces, by `pg_dumpall --globals-only`:
    /// a plain script.
    Globals { role_passwords: bool },
}

impl Kind {
    fn program(self) -> &'static str {
        match self {
            Kind::Database => "pg_dump",
            Kind::Globals { .. } => "pg_dumpall",
        }
    }
}

/// One dump to make: the flags, what to dump, and the choices `run` or the
/// whole-server run made for it.
pub struct Plan<'a> {
    pub args: &'a DumpArgs,
    pub kind: Kind,
    pub format: Format,
    /// pg_dump --jobs (directory format).
    pub jobs: Option<u32>,
    /// The `_globals` dump written with it (recorded in its manifest).
    pub globals: Option<String>,
    /// The program, chosen once per run.
    pub program: Program,
}

/// A dump written.
pub struct Done {
    pub file: PathBuf,
    pub size: u64,
    pub digest: String,
    pub purged: Option<(usize, usize)>,
}

/// The checks every dump run makes of its flags before anything starts.
pub fn check_args(a: &DumpArgs) -> Result<()> {
    // A file-size limit (ulimit -f) must fail a write with EFBIG, which the
    // tool cleans up after, not kill the process and leave a partial file.
    // SAFETY: setting a signal's disposition to SIG_IGN has no preconditions.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
    if a.format == Format::Plain {
        gzip::plain_gzip(a.compress.as_deref())?;
    }
    crate::cli::duration("--lock-wait", &a.lock_wait)?;
    let rules = a.retention.rules(None)?;
    a.retention.partial_age()?;
    // dump --purge never asks (it runs from cron): --yes changes nothing.
    let _ = a.yes;
    if a.purge && !rules.any() {
        return Err(Error::usage("--purge needs a retention rule")
            .suggest("Add e.g. --keep-daily 7 --keep-weekly 4 (or DUMP_KEEP_* variables)"));
    }
    // The remote is probed before dumping, so a bad URL is 64 at once and
    // a store that is down or refuses the credentials is said before a long
    // dump; the dump is made anyway (see probe_before_dump).
    if let Some(url) = &a.remote {
        crate::remote::probe_before_dump(url, &a.remote_part_size)?;
    }
    Ok(())
}

/// Runs `dump`.
pub fn run(dir: &Path, a: &DumpArgs) -> Result<Summary> {
    check_args(a)?;
    let settings = Settings::resolve(&a.conn, "pg-dump-rotate")?;
    let source = a.source.clone().unwrap_or_else(|| settings.dbname.clone());
    layout::check_source(&source)?;
    if a.jobs.is_some() && a.format != Format::Directory {
        return Err(Error::usage("--jobs needs --format directory")
            .suggest("pg_dump runs in parallel only into a directory-format dump"));
    }
    // pg_dump is found now but started only under the lock; the server's
    // version is read from the archive it writes (see `dump_checked`): no
    // connection of the tool's own.
    let plan = Plan {
        args: a,
        kind: Kind::Database,
        format: a.format,
        jobs: a.jobs,
        globals: None,
        program: programs::preferred("pg_dump", || server_version(&settings).map(|v| v.1))?,
    };
    let done = dump_one(dir, &plan, &settings, &source)?;
    let mut summary = Summary::ok("Dump complete")
        .field("source", source.clone())
        .field("file", done.file.display().to_string())
        .field("sizeBytes", done.size)
        .field("sha256", done.digest.clone());
    if let Some((removed, kept)) = done.purged {
        summary = summary.field("removed", removed).field("kept", kept);
    }
    Ok(summary)
}

/// The compression a dump gets: `--compress`, else zstd level 1 from
/// pg_dump 16 on (bench/: on text and on pgbench data it is both several
/// times faster than pg_dump's default gzip and smaller), else pg_dump's
/// own default (gzip). A plain script stays uncompressed unless asked.
/// Returns the `--compress` value to pass and the name the manifest records.
fn compression(a: &DumpArgs, format: Format, kind: Kind, major: u32) -> (Option<String>, String) {
    if kind != Kind::Database {
        return (None, "none".into());
    }
    match (&a.compress, format) {
        (Some(c), _) => (Some(c.clone()), c.clone()),
        (None, Format::Plain) => (None, "none".into()),
        (None, _) if major >= 16 => (Some(DEFAULT_ZSTD.into()), DEFAULT_ZSTD.into()),
        (None, _) => (None, "gzip".into()),
    }
}

/// See `compression`.
const DEFAULT_ZSTD: &str = "zstd:1";

/// Dumps one source under its lock: the partial file, the checks, the
/// manifest and sidecar, the rename, then `--purge`'s rules.
pub fn dump_one(dir: &Path, plan: &Plan, settings: &Settings, source: &str) -> Result<Done> {
    let a = plan.args;
    let format = plan.format;
    // A plain script compressed by pg_dump is gzip (1-9, gzip:N); its end is
    // checked through an inflater on the way to the file.
    let gzip = plan.kind == Kind::Database
        && format == Format::Plain
        && gzip::plain_gzip(a.compress.as_deref())?;
    let lock_wait = crate::cli::duration("--lock-wait", &a.lock_wait)?;
    let rules = a.retention.rules(None)?;
    let partial_age = a.retention.partial_age()?;

    let remote = match &a.remote {
        Some(url) => Some((url, crate::remote::part_size(&a.remote_part_size)?)),
        None => None,
    };

    let sdir = dir.join(source);
    // Created for the lock; removed again (under it) if this run fails and
    // leaves them empty: a failed connection leaves nothing behind.
    let mut locked = lock::create_and_acquire(&sdir, source, lock_wait)?;

    // A second no dump of this source has used, in any format (a .sql and
    // a .pgdump of one second could not be told apart in time): two dumps
    // within one second wait for the next. Dumps of one source take the
    // lock, so no other can take the second meanwhile.
    let (started, name) = loop {
        let now = Utc::now();
        let mut name = layout::dump_name(source, now, format);
        if gzip {
            name.push_str(".gz");
        }
        if !layout::stamp_taken(&sdir, source, now)? {
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
               "format": format.as_str(), "program": plan.program.path.display().to_string(),
               "programVersion": plan.program.version}),
    );

    // The facts a restore drill checks (see `facts`), read in the snapshot
    // pg_dump dumps; its transaction lives until pg_dump has finished.
    let snapshot = match plan.kind {
        Kind::Database => crate::facts::open(settings, &a.exclude_table_data, a.count_rows)?,
        Kind::Globals { .. } => None,
    };
    let snapshot_id = snapshot.as_ref().map(|s| s.id.clone());
    let (result, pg_dump, server_version, compression) =
        dump_checked(plan, settings, &partial, &name, snapshot_id.as_deref())?;
    let facts = snapshot.map(|s| s.finish()).transpose()?;

    let finished = Utc::now();
    let mut m = json!({
        "tool": "pg-dump-rotate",
        "toolVersion": env!("CARGO_PKG_VERSION"),
        "source": source,
        "database": settings.dbname,
        "server": settings.redacted(),
        "file": name,
        "format": format.as_str(),
        "compression": compression,
        "excludeTableData": a.exclude_table_data,
        "noOwner": a.no_owner,
        "size": result.size,
        "sha256": result.digest,
        "serverVersion": server_version,
        "pgDumpVersion": pg_dump.version,
        "pgDumpProgram": plan.kind.program(),
        "started": started.to_rfc3339_opts(SecondsFormat::Millis, true),
        "finished": finished.to_rfc3339_opts(SecondsFormat::Millis, true),
        "durationMs": (finished - started).num_milliseconds(),
    });
    if let Kind::Globals { role_passwords } = plan.kind {
        m["kind"] = json!("globals");
        m["rolePasswords"] = json!(role_passwords);
    }
    if let Some(g) = &plan.globals {
        m["globals"] = json!(g);
    }
    if let Some(f) = &facts {
        m["facts"] = f.to_json();
    }
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
    // A directory made by this run is durable only once its parent is synced.
    for made in locked.created.keep() {
        if let Some(parent) = made.parent().filter(|p| !p.as_os_str().is_empty()) {
            sync_dir(parent)?;
        }
    }

    log::info(
        "Dump written",
        json!({"source": source, "file": final_path.display().to_string(), "sizeBytes": result.size,
               "sha256": result.digest, "serverVersion": server_version, "compression": compression,
               "pgDumpVersion": pg_dump.version, "durationMs": (Utc::now() - started).num_milliseconds()}),
    );
    pgkit::out::println(&final_path.display().to_string())?;
    // Off-site copy of the complete, hashed dump; a failure is 5 and keeps
    // the local dump (and skips --purge).
    if let Some((url, part_size)) = remote {
        crate::remote::upload_after_dump(url, source, &final_path, part_size)?;
    }

    let purged = if a.purge {
        Some(purge::purge_locked(
            dir,
            source,
            &rules,
            partial_age,
            Some(&name),
        )?)
    } else {
        None
    };
    // Row counts asked for and not recorded: the dump is good and kept
    // (written, uploaded, rotated), but a job relying on its drills must
    // hear that they will compare nothing.
    if a.count_rows && matches!(plan.kind, Kind::Database) && facts.is_none() {
        return Err(Error::new(
            Exit::Dump,
            "Dump written without the row counts --count-rows asked for",
        )
        .cause("the server could not export a snapshot to count them in (see the warning above)")
        .field("file", final_path.display().to_string())
        .suggest("The dump itself is good and kept. Connect to the server directly (not through a pooler in transaction mode; a standby needs PostgreSQL 10+), or leave out --count-rows"));
    }
    Ok(Done {
        file: final_path,
        size: result.size,
        digest: result.digest,
        purged,
    })
}

/// Runs pg_dump (or pg_dumpall) with the server's version read from what it
/// writes: the archive's header, or the plain script's "Dumped from database
/// version" line, so a dump costs no connection of the tool's own. A
/// program older than the server fails against it before writing anything,
/// and then (as after any failure before output) the tool connects to tell
/// why: a connection error is reported as such (2); a newer server makes the
/// dump rerun with a matching program, or exit 127 naming both versions, the
/// program's own mismatch message dropped. A dump that succeeded although
/// the program's major is older than the server's is discarded the same way.
/// Returns the dump, the program, the server's version and the compression.
fn dump_checked(
    plan: &Plan,
    settings: &Settings,
    partial: &Path,
    name: &str,
    snapshot: Option<&str>,
) -> Result<(Written, Program, String, String)> {
    let what = plan.kind.program();
    let mut program = plan.program.clone();
    for round in 0.. {
        let (compress, label) = compression(plan.args, plan.format, plan.kind, program.major);
        let attempt = run_pg_dump(
            plan,
            settings,
            &program.path,
            compress.as_deref(),
            partial,
            name,
            snapshot,
        );
        interrupt::check()?;
        let (written, (server, major)) = match attempt? {
            Attempt::Done(w) => {
                let server = match w.server_version.as_deref().and_then(version_major) {
                    Some(v) => v,
                    None => server_version(settings)?,
                };
                (Some(w), server)
            }
            Attempt::Early { error, gate } => match server_version(settings) {
                Err(e) => {
                    gate.discard();
                    return Err(e);
                }
                Ok((v, major)) if major > program.major => {
                    gate.discard();
                    (None, (v, major))
                }
                Ok(_) => {
                    gate.open();
                    return Err(error);
                }
            },
        };
        match written {
            Some(w) if major <= program.major => return Ok((w, program, server, label)),
            _ => {
                remove_partial(partial)?;
                if round > 0 {
                    return Err(Error::new(
                        Exit::MissingProgram,
                        format!(
                            "{what} {} is older than the server ({major})",
                            program.major
                        ),
                    )
                    .field("programVersion", program.version.clone())
                    .field("requiredMajor", major));
                }
                program = programs::upgrade(what, program, major, "server")?;
            }
        }
    }
    Err(dump_err("pg_dump failed"))
}

/// Removes a partial dump (a file, or a directory-format one) before a rerun.
fn remove_partial(p: &Path) -> Result<()> {
    let r = if p.is_dir() {
        fs::remove_dir_all(p)
    } else {
        fs::remove_file(p)
    };
    match r {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(Error::io(Exit::Dump, "remove", p, &e))
        }
        _ => Ok(()),
    }
}

/// A version string's major version ("15.18 (Debian …)" → 15, "9.6.24" → 9).
fn version_major(v: &str) -> Option<(String, u32)> {
    let major = v
        .trim()
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()?;
    Some((v.trim().to_string(), major))
}

/// The server's version string and major version, asked over a connection
/// of the tool's own (only when pg_dump failed, or wrote no version).
pub fn server_version(settings: &Settings) -> Result<(String, u32)> {
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
    /// The server's version as the archive records it.
    server_version: Option<String>,
}

/// How one pg_dump run ended, when not with an error of the tool's own.
enum Attempt {
    /// A complete, plausible dump in the partial file.
    Done(Written),
    /// pg_dump failed before writing anything (its lines held in `gate`).
    Early { error: Error, gate: child::Gate },
}

fn run_pg_dump(
    plan: &Plan,
    settings: &Settings,
    pg_dump: &Path,
    compress: Option<&str>,
    partial: &Path,
    name: &str,
    snapshot: Option<&str>,
) -> Result<Attempt> {
    let a = plan.args;
    let what = plan.kind.program();
    let mut cmd = Command::new(pg_dump);
    child::set_libpq_env(&mut cmd, settings);
    match plan.kind {
        Kind::Database => {
            cmd.arg(plan.format.pg_dump_flag());
            if let Some(id) = snapshot {
                cmd.arg(format!("--snapshot={id}"));
            }
            if let Some(c) = compress {
                cmd.arg(format!("--compress={c}"));
            }
            if let Some(j) = plan.jobs {
                cmd.arg(format!("--jobs={j}"));
            }
            for p in &a.exclude_table_data {
                cmd.arg(format!("--exclude-table-data={p}"));
            }
            if a.no_owner {
                cmd.arg("--no-owner");
            }
        }
        Kind::Globals { role_passwords } => {
            cmd.arg("--globals-only");
            if !role_passwords {
                cmd.arg("--no-role-passwords");
            }
        }
    }
    let format = plan.format;
    let to_dir = format == Format::Directory;
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
            .field("program", pg_dump.display().to_string())
    })?;
    let pid = proc.id();
    // At a terminal: the bytes written so far, beside the database's size.
    let _progress = pgkit::progress::Progress::dump(what, settings, partial);
    let hook = interrupt::on_signal(move || child::kill(pid, libc::SIGTERM));
    // pg_dump's lines wait until it has written something (it got past the
    // version check) or ended: see `dump_checked`.
    let gate = child::Gate::closed();
    let relay = proc
        .stderr
        .take()
        .map(|e| child::relay_gated(what, e, gate.clone()));

    let mut streamed = None;
    let mut write_error = None;
    let gzip = plan.kind == Kind::Database
        && format == Format::Plain
        && gzip::plain_gzip(a.compress.as_deref())?;
    let mut inflater = gzip.then(gzip::Inflater::default);
    if let (Some(out), Some(file)) = (proc.stdout.take(), file.as_mut()) {
        child::grow_pipe(out.as_raw_fd(), BUF as i32);
        match stream(out, file, &gate, inflater.as_mut()) {
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
    let wrote = streamed.as_ref().is_some_and(|s| s.size > 0);
    if status.success() || wrote || write_error.is_some() || interrupt::check().is_err() {
        gate.open();
    }
    interrupt::check()?;
    if let Some(e) = write_error {
        return Err(Error::io(Exit::Dump, "write", partial, &e)
            .suggest("Check free space and permissions in the dump directory"));
    }
    if !status.success() {
        let error = dump_err(&format!("{what} failed"))
            .cause(
                lines
                    .last()
                    .cloned()
                    .unwrap_or_else(|| child::describe(status)),
            )
            .field("status", child::describe(status))
            .suggest("See the pg_dump output lines above; nothing was kept");
        if wrote {
            return Err(error);
        }
        return Ok(Attempt::Early { error, gate });
    }
    if to_dir {
        return describe_directory(partial, name).map(Attempt::Done);
    }
    let s = streamed.ok_or_else(|| dump_err(&format!("{what} produced no output")))?;
    if s.size == 0 {
        return Err(dump_err(&format!("{what} produced an empty dump")));
    }
    if format == Format::Custom && !custom_header(&s.head) {
        return Err(dump_err("pg_dump's output is not a custom-format archive")
            .cause("the archive header (PGDMP, version 1, custom format) is missing"));
    }
    // A plain script's ends: as written, or as inflated on the way.
    let script = match inflater {
        Some(i) => Some(i.finish().map_err(|e| {
            dump_err("pg_dump's compressed SQL script is damaged")
                .cause(e)
                .suggest("See the pg_dump output lines above; nothing was kept")
        })?),
        None => (format == Format::Plain).then(|| gzip::Ends {
            head: s.head.clone(),
            tail: s.tail.clone(),
        }),
    };
    if let Some(script) = &script {
        if !gzip::ends_complete(&script.tail) {
            return Err(dump_err(&format!("{what}'s SQL script is incomplete"))
                .cause("the closing 'PostgreSQL database dump complete' line is missing"));
        }
    }
    if let Some(f) = file.as_ref() {
        f.sync_all()
            .map_err(|e| Error::io(Exit::Dump, "fsync", partial, &e))?;
    }
    let server_version = match &script {
        Some(script) => plain_server_version(&script.head),
        None => archive_versions(&s.head).map(|(server, _)| server),
    };
    Ok(Attempt::Done(Written {
        size: s.size,
        sidecar: format!("{}  {name}\n", s.digest),
        digest: s.digest,
        server_version,
    }))
}

struct Streamed {
    size: u64,
    digest: String,
    /// The first `HEAD` bytes (the archive header, the script's preamble).
    head: Vec<u8>,
    tail: Vec<u8>,
}

/// A read below this found the pipe nearly empty (see `stream`).
const SMALL_READ: usize = 64 << 10;

/// The pause after such a read: compressing, pg_dump writes some 20 MB/s
/// (80 KiB in 4 ms); only past 250 MB/s would the 1 MiB pipe fill first.
const NAP: i32 = 4;

/// Waits up to `ms` milliseconds, or until every writer of the pipe `src`
/// is gone (poll with no events asked reports only the hang-up).
fn nap_until_hangup(src: &impl AsRawFd, ms: i32) {
    let mut p = libc::pollfd {
        fd: src.as_raw_fd(),
        events: 0,
        revents: 0,
    };
    // SAFETY: poll on one valid pollfd we own; any failure just ends the nap.
    unsafe {
        libc::poll(&mut p, 1, ms);
    }
}

/// How much of the start of the output is kept for its checks.
const HEAD: usize = 4096;

/// Copies `src` into `dst`, hashing on the way: one pass, 1 MiB blocks.
/// `gate` opens with the first bytes.
fn stream(
    mut src: impl Read + AsRawFd,
    dst: &mut File,
    gate: &child::Gate,
    mut inflater: Option<&mut gzip::Inflater>,
) -> std::io::Result<Streamed> {
    let mut buf = vec![0u8; BUF];
    let mut hasher = Sha256::new();
    let mut size: u64 = 0;
    let mut head: Vec<u8> = Vec::with_capacity(HEAD);
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
                Ok(n) => {
                    filled += n;
                    // A read that found little: the reader outran pg_dump,
                    // and reading again at once would sleep and be woken by
                    // each of its 4 KiB writes. A short nap lets the 1 MiB
                    // pipe gather a block instead; it ends at once when
                    // pg_dump closes its end, so nothing is added at the end.
                    if n < SMALL_READ && filled < BUF / 2 {
                        nap_until_hangup(&src, NAP);
                    }
                }
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
        if size == 0 {
            gate.open();
        }
        if head.len() < HEAD {
            let take = (HEAD - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
        }
        hasher.update(chunk);
        dst.write_all(chunk)?;
        if let Some(i) = inflater.as_mut() {
            i.feed(chunk);
        }
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
fn custom_header(h: &[u8]) -> bool {
    h.len() >= 11
        && &h[..5] == b"PGDMP"
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

/// The server's and pg_dump's versions from an archive header (custom
/// format, or a directory dump's toc.dat), as pg_restore's `ReadHead` reads
/// it: magic, version, int and offset sizes, format, compression (an int,
/// or from archive 1.15 one byte), seven ints of creation time, then the
/// database name, the server's version and pg_dump's, each a string (an int
/// length, then the bytes).
pub fn archive_versions(h: &[u8]) -> Option<(String, String)> {
    if h.len() < 11 || &h[..5] != b"PGDMP" {
        return None;
    }
    let (vmaj, vmin, int_size) = (h[5], h[6], usize::from(h[8]));
    if vmaj != 1 || vmin < 10 || !(1..=8).contains(&int_size) {
        return None;
    }
    let mut at = 11;
    let int = |at: &mut usize| -> Option<i64> {
        let sign = *h.get(*at)?;
        let bytes = h.get(*at + 1..*at + 1 + int_size)?;
        *at += 1 + int_size;
        let v = bytes
            .iter()
            .rev()
            .fold(0i64, |acc, b| (acc << 8) | i64::from(*b));
        Some(if sign != 0 { -v } else { v })
    };
    if vmin >= 15 {
        at += 1;
    } else {
        int(&mut at)?;
    }
    for _ in 0..7 {
        int(&mut at)?;
    }
    let string = |at: &mut usize| -> Option<String> {
        let len = int(at)?;
        if len < 0 {
            return Some(String::new());
        }
        let bytes = h.get(*at..*at + usize::try_from(len).ok()?)?;
        *at += bytes.len();
        Some(String::from_utf8_lossy(bytes).into_owned())
    };
    let _database = string(&mut at)?;
    let server = string(&mut at)?;
    let pg_dump = string(&mut at)?;
    (!server.is_empty()).then_some((server, pg_dump))
}

/// The server's version from a plain script's preamble
/// ("-- Dumped from database version 15.18 (Debian …)").
fn plain_server_version(head: &[u8]) -> Option<String> {
    const MARK: &str = "-- Dumped from database version ";
    String::from_utf8_lossy(head)
        .lines()
        .find_map(|l| l.strip_prefix(MARK))
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
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
        let (digest, n) = crate::integrity::hash_file(&p, Exit::Dump)?;
        File::open(&p)
            .and_then(|h| h.sync_all())
            .map_err(|e| Error::io(Exit::Dump, "fsync", &p, &e))?;
        size += n;
        sidecar.push_str(&format!("{digest}  {name}/{f}\n"));
    }
    sync_dir(partial)?;
    let mut head = Vec::with_capacity(HEAD);
    let toc = partial.join("toc.dat");
    File::open(&toc)
        .and_then(|f| f.take(HEAD as u64).read_to_end(&mut head))
        .map_err(|e| Error::io(Exit::Dump, "read", &toc, &e))?;
    Ok(Written {
        size,
        digest: layout::sidecar_digest(&sidecar, true),
        sidecar,
        server_version: archive_versions(&head).map(|(server, _)| server),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A header as pg_dump's `WriteHead` writes it (ints: a sign byte, then
    /// `int_size` bytes, least significant first).
    fn header(vmin: u8, format: u8, strings: &[Option<&str>]) -> Vec<u8> {
        let int = |v: i64, out: &mut Vec<u8>| {
            out.push(u8::from(v < 0));
            out.extend_from_slice(&v.unsigned_abs().to_le_bytes()[..4]);
        };
        let mut h = b"PGDMP".to_vec();
        h.extend_from_slice(&[1, vmin, 0, 4, 8, format]);
        if vmin >= 15 {
            h.push(1);
        } else {
            int(-1, &mut h);
        }
        for v in [5, 4, 3, 21, 10, 126, 0] {
            int(v, &mut h);
        }
        for s in strings {
            match s {
                Some(s) => {
                    int(s.len() as i64, &mut h);
                    h.extend_from_slice(s.as_bytes());
                }
                None => int(-1, &mut h),
            }
        }
        h.extend_from_slice(b"\x00\x01rest of the toc");
        h
    }

    #[test]
    fn versions_from_archive_headers() {
        let v15 = header(
            14,
            1,
            &[
                Some("db"),
                Some("15.18 (Debian 15.18-0+deb12u1)"),
                Some("15.18"),
            ],
        );
        assert!(custom_header(&v15));
        assert_eq!(
            archive_versions(&v15),
            Some(("15.18 (Debian 15.18-0+deb12u1)".into(), "15.18".into()))
        );
        // Archive 1.15 (pg_dump 16+): the compression is one byte.
        let v16 = header(15, 3, &[Some("db"), Some("18.1"), Some("18.1 (x)")]);
        assert_eq!(
            archive_versions(&v16),
            Some(("18.1".into(), "18.1 (x)".into()))
        );
        assert_eq!(version_major("18.1"), Some(("18.1".into(), 18)));
        assert_eq!(version_major("9.6.24"), Some(("9.6.24".into(), 9)));
        assert_eq!(version_major("x"), None);
        // Truncated, no server version, not an archive: none.
        assert_eq!(archive_versions(&v15[..40]), None);
        assert_eq!(
            archive_versions(&header(14, 1, &[Some("db"), None, None])),
            None
        );
        assert_eq!(archive_versions(b"PGDMP partial bytes"), None);
        assert_eq!(archive_versions(b"-- SQL"), None);
    }

    #[test]
    fn version_from_a_plain_script() {
        let s = b"--\n-- PostgreSQL database dump\n--\n\n-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)\n-- Dumped by pg_dump version 15.18\n";
        assert_eq!(
            plain_server_version(s),
            Some("15.18 (Debian 15.18-0+deb12u1)".into())
        );
        assert_eq!(plain_server_version(b"-- nothing\n"), None);
    }
}
