//! Running pg_dump, pg_restore and psql: a clean libpq environment, stderr
//! relayed as JSON lines, a kill on SIGINT/SIGTERM, and exit statuses put
//! into words.

use pgkit::conn::Settings;
use pgkit::log::{self, Level};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, ExitStatus};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// Gives the child the resolved connection through its environment (the
/// password included: never on argv, where `ps` shows it).
pub fn set_libpq_env(cmd: &mut Command, settings: &Settings) {
    settings.apply_to_command(cmd);
}

/// A libpq conninfo string naming only the database (for `--dbname`, where a
/// plain name containing `=` would be taken for a conninfo).
pub fn dbname_conninfo(db: &str) -> String {
    format!("dbname='{}'", db.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// Relays a child's stderr as JSON lines (error/warning/other by its
/// prefix), returning the lines that were errors (or, if none, the last few).
pub fn relay(program: &'static str, stderr: impl Read + Send + 'static) -> JoinHandle<Vec<String>> {
    relay_gated(program, stderr, Gate::open_now())
}

/// Holds a child's stderr lines back until the caller knows what they mean:
/// pg_dump started before its version is checked may fail only because it is
/// older than the server, which the tool then handles itself (another
/// pg_dump, or its own 127 message) rather than relay pg_dump's error.
#[derive(Clone, Default)]
pub struct Gate {
    state: Arc<Mutex<GateState>>,
}

#[derive(Default)]
struct GateState {
    open: bool,
    held: Vec<(Level, String, Value)>,
}

impl Gate {
    /// A gate that holds lines until `open` or `discard`.
    pub fn closed() -> Gate {
        Gate::default()
    }

    fn open_now() -> Gate {
        let g = Gate::default();
        g.open();
        g
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, GateState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn pass(&self, level: Level, message: String, fields: Value) {
        let mut st = self.lock();
        if st.open {
            log::event(level, &message, fields);
        } else {
            st.held.push((level, message, fields));
        }
    }

    /// Logs the lines held so far, in order, and every later one at once.
    pub fn open(&self) {
        let mut st = self.lock();
        if st.open {
            return;
        }
        for (level, message, fields) in st.held.drain(..) {
            log::event(level, &message, fields);
        }
        st.open = true;
    }

    /// Drops the lines held so far (logged at debug level only).
    pub fn discard(&self) {
        let mut st = self.lock();
        for (_, message, fields) in st.held.drain(..) {
            log::debug(&message, fields);
        }
    }
}

/// `relay`, with the lines passing through `gate`.
pub fn relay_gated(
    program: &'static str,
    stderr: impl Read + Send + 'static,
    gate: Gate,
) -> JoinHandle<Vec<String>> {
    std::thread::spawn(move || {
        let mut errors = Vec::new();
        let mut last = Vec::new();
        each_line(stderr, |line| {
            let level = level_of(&line);
            gate.pass(
                level,
                format!("{program} output"),
                json!({"program": program, "output": line}),
            );
            if level == Level::Error && errors.len() < 50 {
                errors.push(line.clone());
            }
            last.push(line);
            if last.len() > 5 {
                last.remove(0);
            }
        });
        if errors.is_empty() {
            last
        } else {
            errors
        }
    })
}

/// Calls `each` with every non-blank line of a child's stderr, trailing
/// white space trimmed, until it ends. Bytes, not lines(): a non-UTF-8 line
/// must not stop the reading (the child would then block on a full pipe).
pub fn each_line(stderr: impl Read, mut each: impl FnMut(String)) {
    let mut reader = BufReader::new(stderr);
    let mut raw = Vec::new();
    loop {
        raw.clear();
        match reader.read_until(b'\n', &mut raw) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let line = String::from_utf8_lossy(&raw).trim_end().to_string();
        if !line.trim().is_empty() {
            each(line);
        }
    }
}

/// A PostgreSQL program's stderr line's level, by its prefix.
pub fn level_of(line: &str) -> Level {
    if line.contains("error:") || line.contains("FATAL:") || line.contains("ERROR:") {
        Level::Error
    } else if line.contains("warning:") || line.contains("WARNING:") {
        Level::Warn
    } else {
        Level::Info
    }
}

/// An exit status in words: "exit status 1", "killed by signal 9 (SIGKILL)".
pub fn describe(status: ExitStatus) -> String {
    if let Some(sig) = status.signal() {
        let name = match sig {
            libc::SIGKILL => " (SIGKILL)",
            libc::SIGTERM => " (SIGTERM)",
            libc::SIGINT => " (SIGINT)",
            libc::SIGSEGV => " (SIGSEGV)",
            _ => "",
        };
        format!("killed by signal {sig}{name}")
    } else {
        format!("exit status {}", status.code().unwrap_or(-1))
    }
}

/// Starts the child in a process group of its own, so `kill` reaches
/// everything it started (pg_dump --jobs workers, a wrapper script's
/// children) and a pipe they hold cannot keep the tool waiting. The
/// terminal's Ctrl-C reaches the tool, which forwards it.
pub fn own_group(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    cmd.process_group(0);
    // Its own group keeps a terminal's Ctrl-C from reaching it before us;
    // so nothing but us can stop it if we are killed: it dies with us.
    pgkit::orphan::die_with_parent(cmd);
}

/// Sends `sig` to the process group a child leads (see `own_group`).
pub fn kill(pid: u32, sig: i32) {
    // SAFETY: kill has no memory-safety preconditions.
    unsafe {
        libc::kill(-(pid as libc::pid_t), sig);
    }
}

/// Enlarges a pipe's buffer (best effort) so a fast writer blocks less.
pub fn grow_pipe(fd: std::os::fd::RawFd, bytes: i32) {
    // SAFETY: fcntl on a descriptor we own; failure is harmless.
    unsafe {
        libc::fcntl(fd, libc::F_SETPIPE_SZ, bytes);
    }
}
