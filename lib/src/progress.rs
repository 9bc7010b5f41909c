//! Progress on long work, for a person at a terminal (issue 21).
//!
//! Lines on stderr, redrawn at most 10 times a second and cleared when the
//! work ends, shown only when a person is watching: stderr is a terminal,
//! not in CI (`CI` set), `TERM` is not `dumb`, and the log was not asked to
//! be JSON (`LOG_FORMAT=json` / `--log-format json`). Unset, the default JSON
//! lines and the progress share the terminal: the progress is cleared before
//! each log line and redrawn after it, so no log line is ever torn. In a
//! pipe, a file or CI nothing changes: stderr stays JSON lines only.
//! `--progress auto|always|never` (env `PGKIT_PROGRESS`) overrides; `always`
//! draws even into a pipe (for testing, and for measuring its cost).
//!
//! A tool holds a [`Progress`] handle; a hidden one (the usual case, in
//! pipelines) is `None` inside, so each update costs one branch. indicatif
//! does the drawing: it is the well-kept crate of the Rust CLI ecosystem
//! (console-rs, used by cargo-adjacent tools), with rate limiting, rates and
//! ETA, terminal width, several lines at once (pg-wait probes targets
//! concurrently) and clearing done right; its hot path is an atomic add.
//! Handles update from a ticker thread, so the line moves while work stalls.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use std::borrow::Cow;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// When progress is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// At a terminal, outside CI, unless the log was asked to be JSON.
    #[default]
    Auto,
    /// Always, even into a pipe.
    Always,
    /// Never.
    Never,
}

impl FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" | "" => Ok(Mode::Auto),
            "always" => Ok(Mode::Always),
            "never" => Ok(Mode::Never),
            _ => Err(format!(
                "invalid progress mode {s:?} (expected auto, always or never)"
            )),
        }
    }
}

/// Redraws per second, at most.
const HZ: u8 = 10;
/// The ticker's period: redraws, and the followers' polls.
const TICK: Duration = Duration::from_millis(100);

struct State {
    mode: Mode,
    /// The log format was set to JSON explicitly (flag or LOG_FORMAT).
    json_log: bool,
}

fn state() -> &'static Mutex<State> {
    static S: OnceLock<Mutex<State>> = OnceLock::new();
    S.get_or_init(|| {
        Mutex::new(State {
            mode: std::env::var("PGKIT_PROGRESS")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or_default(),
            json_log: std::env::var("LOG_FORMAT")
                .is_ok_and(|v| v.trim().eq_ignore_ascii_case("json")),
        })
    })
}

/// Every line on screen, drawn together (set up with the first one).
static MULTI: OnceLock<MultiProgress> = OnceLock::new();

fn multi() -> &'static MultiProgress {
    MULTI.get_or_init(|| {
        let target = if std::io::stderr().is_terminal() {
            ProgressDrawTarget::stderr_with_hz(HZ)
        } else {
            // --progress always into a pipe: the escapes a terminal gets.
            ProgressDrawTarget::term_like_with_hz(Box::new(Plain), HZ)
        };
        MultiProgress::with_draw_target(target)
    })
}

/// Sets the mode (from `--progress` / `PGKIT_PROGRESS`) and whether the log
/// format was explicitly asked to be JSON (`--log-format` / `LOG_FORMAT`).
pub fn configure(mode: Mode, json_log: bool) {
    if let Ok(mut s) = state().lock() {
        s.mode = mode;
        s.json_log = json_log;
    }
}

thread_local! {
    static HIDDEN: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Draws no progress line started on this thread until the guard is
/// dropped: a fleet run's workers (one line for the fleet, not one per
/// target and file).
pub fn hide_in_thread() -> HiddenGuard {
    HIDDEN.with(|h| h.set(true));
    HiddenGuard { _private: () }
}

/// Lets the thread draw again when dropped.
#[must_use = "progress is drawn again when the guard is dropped"]
pub struct HiddenGuard {
    _private: (),
}

impl Drop for HiddenGuard {
    fn drop(&mut self) {
        HIDDEN.with(|h| h.set(false));
    }
}

/// Whether progress is drawn in this run.
pub fn shown() -> bool {
    if HIDDEN.with(|h| h.get()) {
        return false;
    }
    let (mode, json_log) = match state().lock() {
        Ok(s) => (s.mode, s.json_log),
        Err(_) => return false,
    };
    match mode {
        Mode::Never => false,
        Mode::Always => true,
        Mode::Auto => {
            let ci = std::env::var("CI").is_ok_and(|v| {
                !v.is_empty() && !matches!(v.to_ascii_lowercase().as_str(), "0" | "false" | "no")
            });
            let dumb = std::env::var("TERM").is_ok_and(|t| t == "dumb");
            !json_log && !ci && !dumb && std::io::stderr().is_terminal()
        }
    }
}

/// Runs `f` (a log line being written) with the progress lines cleared, and
/// redraws them afterwards.
pub(crate) fn suspend<R>(f: impl FnOnce() -> R) -> R {
    match MULTI.get() {
        Some(m) => m.suspend(f),
        None => f(),
    }
}

/// The line most recently started, for [`advance`].
static CURRENT: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// Advances the progress line most recently started, if one is on screen:
/// for work counted far from where its line was started (pg-migrate counts
/// applied files where it logs them).
pub fn advance(n: u64) {
    if let Ok(Some(b)) = CURRENT.lock().as_deref() {
        b.inc(n);
    }
}

/// What a line follows by itself, polled by its ticker.
#[derive(Debug, Clone)]
pub enum Follow {
    /// The size of a file, or of all files under a directory (a dump being
    /// written).
    Size(PathBuf),
    /// How far a file has been read by this process (`None`) or by the
    /// processes of a process group (`Some(pgid)`: a pg_restore and its
    /// workers): the furthest offset of any descriptor open on it (Linux
    /// /proc; elsewhere the line shows no position).
    Reads(Option<u32>, PathBuf),
}

/// A progress line, or nothing (when progress is not shown).
#[derive(Debug, Default)]
pub struct Progress {
    bar: Option<ProgressBar>,
    /// CSV lines fed (see `feed`).
    lines: Option<Arc<AtomicU64>>,
    /// The follower thread: its stop flag and handle.
    follower: Option<(Arc<AtomicBool>, std::thread::JoinHandle<()>)>,
}

impl Progress {
    /// A handle that draws nothing.
    pub fn hidden() -> Self {
        Progress::default()
    }

    /// Bytes done against `total` (a bar with rate and ETA), or without one
    /// (the count, rate and elapsed time).
    pub fn bytes(what: &str, total: Option<u64>) -> Self {
        let template = if total.is_some() {
            "{wide_msg} [{bar:20}] {bytes}/{total_bytes} ({bytes_per_sec}, {elapsed}, ETA {eta})"
        } else {
            "{spinner} {wide_msg} {bytes} ({bytes_per_sec}, {elapsed})"
        };
        Self::new(what, total, template, |s| s)
    }

    /// Items (`unit`: rows, files, entries) done against `total` (a bar with
    /// rate and ETA), or without one (the count, rate and elapsed time).
    pub fn items(what: &str, unit: &str, total: Option<u64>) -> Self {
        let unit = unit.replace('{', "{{").replace('}', "}}");
        let template = if total.is_some() {
            format!(
                "{{wide_msg}} [{{bar:20}}] {{human_pos}}/{{human_len}} {unit} ({{rate}}, {{elapsed}}, ETA {{eta}})"
            )
        } else {
            format!("{{spinner}} {{wide_msg}} {{human_pos}} {unit} ({{rate}}, {{elapsed}})")
        };
        Self::new(what, total, &template, |s| {
            s.with_key("rate", |st: &ProgressState, w: &mut dyn std::fmt::Write| {
                let secs = st.elapsed().as_secs_f64().max(0.001);
                let _ = write!(
                    w,
                    "{}/s",
                    indicatif::HumanCount((st.pos() as f64 / secs) as u64)
                );
            })
        })
    }

    /// A CSV file loaded in chunks (`feed`): its rows (lines) and rows per
    /// second, and the bytes against the file's size for the ETA.
    pub fn csv_rows(what: &str, size: Option<u64>) -> Self {
        let lines = Arc::new(AtomicU64::new(0));
        let (l1, l2) = (lines.clone(), lines.clone());
        let template = if size.is_some() {
            "{wide_msg} [{bar:20}] {rows} rows ({rows_per_sec}, {elapsed}, ETA {eta})"
        } else {
            "{spinner} {wide_msg} {rows} rows ({rows_per_sec}, {elapsed})"
        };
        let mut p = Self::new(what, size, template, move |s| {
            s.with_key(
                "rows",
                move |_: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(w, "{}", indicatif::HumanCount(l1.load(Ordering::Relaxed)));
                },
            )
            .with_key(
                "rows_per_sec",
                move |st: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let secs = st.elapsed().as_secs_f64().max(0.001);
                    let rate = l2.load(Ordering::Relaxed) as f64 / secs;
                    let _ = write!(w, "{}/s", indicatif::HumanCount(rate as u64));
                },
            )
        });
        if p.bar.is_some() {
            p.lines = Some(lines);
        }
        p
    }

    /// A spinner with a message the tool keeps current, the elapsed time,
    /// and the time left to `deadline` (pg-wait's attempts).
    pub fn countdown(what: &str, deadline: Option<Instant>) -> Self {
        let template = match deadline {
            Some(_) => "{spinner} {wide_msg} ({elapsed}; {left} to the deadline)",
            None => "{spinner} {wide_msg} ({elapsed})",
        };
        Self::new(what, None, template, move |s| {
            s.with_key(
                "left",
                move |_: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let left = deadline.map_or(Duration::ZERO, |d| {
                        d.saturating_duration_since(Instant::now())
                    });
                    let _ = write!(w, "{:#}", indicatif::HumanDuration(left));
                },
            )
        })
    }

    fn new(
        what: &str,
        total: Option<u64>,
        template: &str,
        keys: impl FnOnce(ProgressStyle) -> ProgressStyle,
    ) -> Self {
        if !shown() {
            return Self::hidden();
        }
        let style = ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_spinner())
            .progress_chars("=> ")
            .tick_chars("|/-\\ ");
        let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::hidden())
            .with_style(keys(style))
            .with_message(what.to_string());
        let bar = multi().add(bar);
        // The first frame at once: a line for work of any length.
        bar.tick();
        // Then redrawn by a ticker thread (at most HZ times a second), so
        // that the rate and the elapsed time move while the work stalls.
        bar.enable_steady_tick(TICK);
        if let Ok(mut c) = CURRENT.lock() {
            *c = Some(bar.clone());
        }
        Progress {
            bar: Some(bar),
            lines: None,
            follower: None,
        }
    }

    /// A dump being written to `path` (a file, or a directory of them): the
    /// bytes written so far, beside the size of the database it comes from.
    pub fn dump(program: &str, settings: &crate::conn::Settings, path: &Path) -> Self {
        if !shown() {
            return Self::hidden();
        }
        let what = match database_size(settings) {
            Some(n) => format!(
                "{program} of {} ({} database)",
                settings.dbname,
                indicatif::HumanBytes(n)
            ),
            None => format!("{program} of {}", settings.dbname),
        };
        Self::bytes(&format!("{what}:"), None).follow(Follow::Size(path.to_path_buf()))
    }

    /// A file read through, by this process (`group` None) or by a child's
    /// process group: "`verb` NAME", its bytes against its size.
    pub fn reading(verb: &str, group: Option<u32>, file: &Path) -> Self {
        if !shown() {
            return Self::hidden();
        }
        let name = file.file_name().map_or_else(
            || file.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let what = format!("{verb} {name}");
        let what = what.as_str();
        let meta = std::fs::metadata(file).ok();
        match meta {
            Some(m) if m.is_file() => {
                Self::bytes(what, Some(m.len())).follow(Follow::Reads(group, file.to_path_buf()))
            }
            // A directory-format dump: its files are read one by one.
            _ => Self::bytes(what, None),
        }
    }

    /// Keeps the position on what `f` follows (polled while the line lives).
    pub fn follow(mut self, f: Follow) -> Self {
        let Some(bar) = self.bar.clone() else {
            return self;
        };
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let spawned = std::thread::Builder::new()
            .name("pgkit-progress".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    if let Some(pos) = position(&f) {
                        bar.set_position(pos);
                    }
                    std::thread::park_timeout(TICK);
                }
            });
        if let Ok(handle) = spawned {
            self.follower = Some((stop, handle));
        }
        self
    }

    /// Runs `f` with this line on screen, and clears it.
    pub fn during<R>(self, f: impl FnOnce() -> R) -> R {
        let r = f();
        drop(self);
        r
    }

    /// Whether anything is drawn: the tool may skip work only progress needs.
    pub fn is_shown(&self) -> bool {
        self.bar.is_some()
    }

    /// Adds `n` to the position.
    #[inline]
    pub fn inc(&self, n: u64) {
        if let Some(b) = &self.bar {
            b.inc(n);
        }
    }

    /// Sets the position.
    #[inline]
    pub fn set(&self, pos: u64) {
        if let Some(b) = &self.bar {
            b.set_position(pos);
        }
    }

    /// Sets the total.
    pub fn set_total(&self, total: u64) {
        if let Some(b) = &self.bar {
            b.set_length(total);
        }
    }

    /// Replaces the message.
    pub fn message(&self, msg: impl Into<Cow<'static, str>>) {
        if let Some(b) = &self.bar {
            b.set_message(msg);
        }
    }

    /// A chunk of a CSV file was loaded: its bytes and lines count.
    #[inline]
    pub fn feed(&self, chunk: &[u8]) {
        if let (Some(b), Some(lines)) = (&self.bar, &self.lines) {
            let n = chunk.iter().filter(|&&c| c == b'\n').count();
            lines.fetch_add(n as u64, Ordering::Relaxed);
            b.inc(chunk.len() as u64);
        }
    }

    /// Clears the line (also done when the handle is dropped).
    pub fn finish(self) {}
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some((stop, handle)) = self.follower.take() {
            stop.store(true, Ordering::Relaxed);
            handle.thread().unpark();
            let _ = handle.join();
        }
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
            if let Some(m) = MULTI.get() {
                m.remove(&b);
            }
            if let Ok(mut c) = CURRENT.lock() {
                if c.as_ref().is_some_and(|a| a.is_hidden() || a.is_finished()) {
                    *c = None;
                }
            }
        }
    }
}

/// Where `f` is now.
fn position(f: &Follow) -> Option<u64> {
    match f {
        Follow::Size(p) => Some(size_of(p)),
        Follow::Reads(group, file) => furthest_read(*group, file),
    }
}

/// A file's size, or the total size of the files under a directory.
fn size_of(p: &Path) -> u64 {
    let Ok(m) = std::fs::symlink_metadata(p) else {
        return 0;
    };
    if !m.is_dir() {
        return m.len();
    }
    std::fs::read_dir(p)
        .map(|d| d.flatten().map(|e| size_of(&e.path())).sum())
        .unwrap_or(0)
}

/// The furthest offset at which this process, or the processes of group
/// `group`, hold `file` open.
fn furthest_read(group: Option<u32>, file: &Path) -> Option<u64> {
    let file = std::fs::canonicalize(file).ok()?;
    let pids: Vec<String> = match group {
        None => vec!["self".into()],
        Some(g) => std::fs::read_dir("/proc")
            .ok()?
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
            .filter(|pid| process_group(pid) == Some(g))
            .collect(),
    };
    let mut best = None;
    for pid in pids {
        let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            if std::fs::read_link(fd.path()).ok().as_deref() != Some(file.as_path()) {
                continue;
            }
            let info = std::fs::read_to_string(format!(
                "/proc/{pid}/fdinfo/{}",
                fd.file_name().to_string_lossy()
            ))
            .unwrap_or_default();
            let pos = info
                .lines()
                .find_map(|l| l.strip_prefix("pos:"))
                .and_then(|v| v.trim().parse::<u64>().ok());
            best = best.max(pos);
        }
    }
    best
}

/// A process's group, from /proc/PID/stat (the field after the state,
/// after the parenthesised command name, which may hold spaces).
fn process_group(pid: &str) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(2)?.parse().ok()
}

/// The size of the database `settings` name, asked over a connection of its
/// own, for a line about work against it (a dump). `None` when it cannot be
/// asked or progress is not shown.
pub fn database_size(settings: &crate::conn::Settings) -> Option<u64> {
    if !shown() {
        return None;
    }
    let mut client = settings.connect().ok()?;
    let row = client
        .query_one("SELECT pg_database_size(current_database())", &[])
        .ok()?;
    let size: i64 = row.get(0);
    u64::try_from(size).ok()
}

/// Draws onto stderr when it is not a terminal (`--progress always`): the
/// escapes a terminal would get, `COLUMNS` wide (else 120).
#[derive(Debug)]
struct Plain;

impl indicatif::TermLike for Plain {
    fn width(&self) -> u16 {
        std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.trim().parse().ok())
            .unwrap_or(120)
    }
    fn move_cursor_up(&self, n: usize) -> std::io::Result<()> {
        if n > 0 {
            write!(std::io::stderr(), "\x1b[{n}A")?;
        }
        Ok(())
    }
    fn move_cursor_down(&self, n: usize) -> std::io::Result<()> {
        if n > 0 {
            write!(std::io::stderr(), "\x1b[{n}B")?;
        }
        Ok(())
    }
    fn move_cursor_right(&self, n: usize) -> std::io::Result<()> {
        if n > 0 {
            write!(std::io::stderr(), "\x1b[{n}C")?;
        }
        Ok(())
    }
    fn move_cursor_left(&self, n: usize) -> std::io::Result<()> {
        if n > 0 {
            write!(std::io::stderr(), "\x1b[{n}D")?;
        }
        Ok(())
    }
    fn write_line(&self, s: &str) -> std::io::Result<()> {
        writeln!(std::io::stderr(), "{s}")
    }
    fn write_str(&self, s: &str) -> std::io::Result<()> {
        write!(std::io::stderr(), "{s}")
    }
    fn clear_line(&self) -> std::io::Result<()> {
        write!(std::io::stderr(), "\r\x1b[2K")
    }
    fn flush(&self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes() {
        assert_eq!("auto".parse(), Ok(Mode::Auto));
        assert_eq!("ALWAYS".parse(), Ok(Mode::Always));
        assert_eq!("never".parse(), Ok(Mode::Never));
        assert!("sometimes".parse::<Mode>().is_err());
    }

    #[test]
    fn a_hidden_handle_does_nothing() {
        let p = Progress::hidden();
        assert!(!p.is_shown());
        p.inc(5);
        p.feed(b"a\nb\n");
        p.message("x");
    }

    #[test]
    fn sizes_and_reads_are_followed() {
        let dir = tempfile::tempdir().unwrap_or_else(|_| unreachable!());
        let f = dir.path().join("a");
        std::fs::write(&f, vec![0u8; 1000]).unwrap_or_default();
        std::fs::create_dir(dir.path().join("d")).unwrap_or_default();
        std::fs::write(dir.path().join("d/b"), vec![0u8; 24]).unwrap_or_default();
        assert_eq!(size_of(dir.path()), 1024);
        use std::io::Read;
        let mut h = std::fs::File::open(&f).unwrap_or_else(|_| unreachable!());
        let mut buf = [0u8; 300];
        h.read_exact(&mut buf).unwrap_or_default();
        if Path::new("/proc/self/fdinfo").is_dir() {
            assert_eq!(furthest_read(None, &f), Some(300));
            let me = process_group("self");
            assert!(me.is_some());
        }
    }
}
