//! SIGINT and SIGTERM (DESIGN.md, "Interruption").
//!
//! A signal sets a shared flag, wakes every `sleep` at once, and runs the
//! hooks registered with `on_signal` (cancel the query in flight on the
//! server, kill a child process). The tool then unwinds normally — releasing
//! locks, removing partial files — and `cli::run` exits 130 or 143 after a
//! final log line. A second signal exits at once (unless a child process in
//! the foreground gets the signals passed on: `forward_repeats`).
//!
//! signal-hook rather than ctrlc: ctrlc's handler cannot tell SIGINT from
//! SIGTERM, and the exit code must (130 vs 143).

use crate::error::Error;
use crate::exit::Exit;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

type Hook = Arc<dyn Fn() + Send + Sync>;

static SIGNAL: AtomicI32 = AtomicI32::new(0);
static LAST: AtomicI32 = AtomicI32::new(0);
static FORWARDING: AtomicUsize = AtomicUsize::new(0);
static NEXT_HOOK: AtomicU64 = AtomicU64::new(0);

struct Shared {
    wake: Mutex<()>,
    cond: Condvar,
    hooks: Mutex<BTreeMap<u64, Hook>>,
}

fn shared() -> &'static Shared {
    static S: OnceLock<Shared> = OnceLock::new();
    S.get_or_init(|| Shared {
        wake: Mutex::new(()),
        cond: Condvar::new(),
        hooks: Mutex::new(BTreeMap::new()),
    })
}

/// Installs the handlers for SIGINT and SIGTERM. Idempotent.
pub fn install() -> std::io::Result<()> {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    if INSTALLED.get().is_some() {
        return Ok(());
    }
    let mut signals = signal_hook::iterator::Signals::new([libc::SIGINT, libc::SIGTERM])?;
    std::thread::Builder::new()
        .name("pgkit-signals".into())
        .spawn(move || {
            for sig in signals.forever() {
                deliver(sig);
            }
        })?;
    let _ = INSTALLED.set(());
    Ok(())
}

/// Records a signal as if it had arrived (the handler thread calls this; so
/// can tests).
pub fn deliver(sig: i32) {
    LAST.store(sig, Ordering::SeqCst);
    let s = shared();
    if SIGNAL
        .compare_exchange(0, sig, Ordering::SeqCst, Ordering::SeqCst)
        .is_err()
    {
        if FORWARDING.load(Ordering::SeqCst) == 0 {
            // A second signal: the user insists. Leave now, without cleanup.
            #[allow(clippy::exit)]
            std::process::exit(128 + sig);
        }
        // A child in the foreground decides when the run ends (an
        // interactive psql takes Ctrl-C after Ctrl-C): pass it on.
        run_hooks(s);
        return;
    }
    if let Ok(_g) = s.wake.lock() {
        s.cond.notify_all();
    }
    run_hooks(s);
}

fn run_hooks(s: &Shared) {
    let hooks: Vec<Hook> = s
        .hooks
        .lock()
        .map(|h| h.values().cloned().collect())
        .unwrap_or_default();
    for h in hooks {
        h();
    }
}

/// The number of the most recent signal (SIGINT or SIGTERM), for a hook
/// that forwards it to a child.
pub fn last_signal() -> Option<i32> {
    match LAST.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}

/// While the guard lives, a repeated signal runs the `on_signal` hooks again
/// (which forward it to a child process) instead of exiting at once: the
/// child in the foreground decides when the run ends, as with `system(3)`.
pub fn forward_repeats() -> ForwardGuard {
    FORWARDING.fetch_add(1, Ordering::SeqCst);
    ForwardGuard { _private: () }
}

/// Restores "a second signal exits at once" when the last one is dropped.
#[must_use = "repeated signals exit at once again when the guard is dropped"]
pub struct ForwardGuard {
    _private: (),
}

impl Drop for ForwardGuard {
    fn drop(&mut self) {
        FORWARDING.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The signal received so far, as its exit code (130 or 143).
pub fn received() -> Option<Exit> {
    match SIGNAL.load(Ordering::SeqCst) {
        0 => None,
        libc::SIGTERM => Some(Exit::Terminated),
        _ => Some(Exit::Interrupted),
    }
}

/// The error to return once a signal was received.
pub fn error() -> Error {
    let code = received().unwrap_or(Exit::Interrupted);
    let name = if code == Exit::Terminated {
        "SIGTERM"
    } else {
        "SIGINT"
    };
    Error::new(code, format!("Interrupted by {name}")).field("signal", name)
}

/// Fails with the interruption error when a signal has arrived.
pub fn check() -> Result<(), Error> {
    match received() {
        Some(_) => Err(error()),
        None => Ok(()),
    }
}

/// Sleeps up to `d`, waking at once when a signal arrives (then fails).
pub fn sleep(d: Duration) -> Result<(), Error> {
    let s = shared();
    let end = Instant::now() + d;
    let mut guard = match s.wake.lock() {
        Ok(g) => g,
        Err(_) => {
            std::thread::sleep(d);
            return check();
        }
    };
    loop {
        check()?;
        let now = Instant::now();
        if now >= end {
            return Ok(());
        }
        guard = match s.cond.wait_timeout(guard, end - now) {
            Ok((g, _)) => g,
            Err(_) => return check(),
        };
    }
}

/// Runs `hook` when a signal arrives, for as long as the guard lives. If a
/// signal already arrived, the hook runs at once.
pub fn on_signal(hook: impl Fn() + Send + Sync + 'static) -> HookGuard {
    let id = NEXT_HOOK.fetch_add(1, Ordering::SeqCst);
    let hook: Hook = Arc::new(hook);
    if let Ok(mut h) = shared().hooks.lock() {
        h.insert(id, hook.clone());
    }
    if received().is_some() {
        hook();
    }
    HookGuard { id }
}

/// Unregisters its hook when dropped.
#[must_use = "the hook is removed when the guard is dropped"]
pub struct HookGuard {
    id: u64,
}

impl Drop for HookGuard {
    fn drop(&mut self) {
        if let Ok(mut h) = shared().hooks.lock() {
            h.remove(&self.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sleep_without_signal_sleeps() {
        let t = Instant::now();
        assert!(sleep(Duration::from_millis(30)).is_ok());
        assert!(t.elapsed() >= Duration::from_millis(30));
    }
}
