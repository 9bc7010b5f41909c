//! No panic reaches a user (issue 16): a bug anywhere in a tool, in a helper
//! thread included, ends the run with one JSON error line (`message`,
//! `error`, `exitCode` 70 = EX_SOFTWARE) and exit 70 — 1 in pg-wait's
//! HEALTHCHECK mode — never with Rust's raw panic text on stderr.
//!
//! `cli::run` installs the hook for every tool. A panic on the main thread
//! unwinds (so guards still remove partial files and release locks) into
//! `cli::run`'s `catch_unwind`, which logs the line. A panic on any other
//! thread ends the process from the hook at once: the main thread may be
//! blocked waiting for that thread's answer, and waiting out its timeout
//! (a connect timeout, a lock wait) would only hide the bug.
//!
//! `PGKIT_DEBUG_PANIC=main|thread` makes `cli::run` panic on purpose, before
//! the tool's work, so tests can prove the above for every tool. It exists
//! for pgkit's own tests only and is not part of any tool's interface.

use crate::exit::Exit;
use crate::log::{self, Level};
use serde_json::{json, Map, Value};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

/// The code a panic ends the run with: 70, or 1 in HEALTHCHECK mode.
static CODE: AtomicU8 = AtomicU8::new(Exit::Software as u8);

/// The environment variable of the test-only debug hook.
pub const DEBUG_VAR: &str = "PGKIT_DEBUG_PANIC";

/// What the hook saw of the main thread's panic, for `cli::run` to report
/// once the unwinding reached it.
fn last() -> &'static Mutex<Option<(String, String)>> {
    static L: OnceLock<Mutex<Option<(String, String)>>> = OnceLock::new();
    L.get_or_init(|| Mutex::new(None))
}

fn started() -> &'static OnceLock<Instant> {
    static S: OnceLock<Instant> = OnceLock::new();
    &S
}

/// Makes a panic end the run with `code` instead of 70 (pg-wait
/// `--healthcheck`: Docker understands only 0 and 1).
pub fn exit_code(code: Exit) {
    CODE.store(code as u8, Ordering::SeqCst);
}

/// The code a panic ends the run with.
pub fn code() -> Exit {
    match CODE.load(Ordering::SeqCst) {
        1 => Exit::Failure,
        _ => Exit::Software,
    }
}

/// Installs the panic hook (idempotent). `cli::run` calls it first thing.
pub fn install() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    let _ = started().set(Instant::now());
    if INSTALLED.set(()).is_err() {
        return;
    }
    std::panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".into());
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let thread = std::thread::current();
        if thread.name() == Some("main") {
            // Unwinding continues to cli::run, which reports it.
            if let Ok(mut l) = last().lock() {
                *l = Some((what, location));
            }
            return;
        }
        let name = thread.name().unwrap_or("unnamed").to_string();
        report(&what, &location, Some(&name));
        let code = code();
        #[allow(clippy::exit)] // The one way to end the process from a thread.
        std::process::exit(code.code());
    }));
}

/// Logs the panic as the run's final line, with `exitCode` and `durationMs`.
pub fn report(what: &str, location: &str, thread: Option<&str>) {
    let code = code();
    let mut fields = Map::new();
    fields.insert("error".into(), json!(format!("panic: {what}")));
    if !location.is_empty() {
        fields.insert("location".into(), json!(location));
    }
    if let Some(t) = thread {
        fields.insert("thread".into(), json!(t));
    }
    fields.insert(
        "suggestion".into(),
        json!("This is a bug in pgkit; please report it with this line"),
    );
    if code != Exit::Software {
        fields.insert("originalExitCode".into(), json!(Exit::Software.code()));
    }
    fields.insert("exitCode".into(), json!(code.code()));
    let ms = started()
        .get()
        .map(|s| s.elapsed().as_millis() as u64)
        .unwrap_or(0);
    fields.insert("durationMs".into(), json!(ms));
    log::event(Level::Error, "Internal error", Value::Object(fields));
}

/// Reports the main thread's panic that `cli::run` caught (the hook kept its
/// message and location) and returns the exit code.
pub fn caught() -> Exit {
    let (what, location) = last()
        .lock()
        .ok()
        .and_then(|mut l| l.take())
        .unwrap_or_else(|| ("a panic without a message".into(), String::new()));
    report(&what, &location, None);
    code()
}

/// The test-only debug hook: `PGKIT_DEBUG_PANIC=main` panics here, `thread`
/// panics in a helper thread that the main thread then waits for.
#[allow(clippy::panic)] // Panicking on purpose is this function's job.
pub fn debug_hook() {
    match std::env::var(DEBUG_VAR).as_deref() {
        Ok("main") => std::panic::panic_any("PGKIT_DEBUG_PANIC=main"),
        Ok("thread") => {
            let t = std::thread::Builder::new()
                .name("pgkit-debug".into())
                .spawn(|| std::panic::panic_any("PGKIT_DEBUG_PANIC=thread"));
            if let Ok(t) = t {
                // Never returns: the hook ends the process from the thread.
                let _ = t.join();
            }
        }
        _ => {}
    }
}
