//! Watching a running migration from a second connection: when it waits for
//! a lock, who blocks it (pg_blocking_pids) — logged once while it waits, and
//! named in the error when `lock_timeout` gives up (55P03). The connection is
//! opened only once a migration has run longer than one interval, so fast
//! runs never pay for it. Several files sent in one query string are
//! watched as one; the one waiting is the first whose tracking row has not
//! committed yet (each file commits before the next starts).

use crate::sql;
use pgkit::conn::{Client, Settings};
use pgkit::log;
use serde_json::json;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A session blocking ours.
#[derive(Debug, Clone)]
pub struct Blocker {
    /// Its pid.
    pub pid: String,
    /// Its application_name.
    pub application_name: String,
    /// Its state (idle in transaction…).
    pub state: String,
    /// Its current or last query.
    pub query: String,
}

/// The files of what is running: (filename, version), in order.
type Files = Vec<(String, String)>;

/// What the watcher saw blocking a run of files: the sessions, and the
/// version of the file they blocked (the one running when last looked at).
#[derive(Debug, Default, Clone)]
pub struct Seen {
    /// The blocking sessions.
    pub blockers: Vec<Blocker>,
    /// The version of the file they blocked.
    pub version: String,
}

impl Seen {
    /// The blockers, if they were seen blocking the file of `version` (in
    /// a string of files, another file may have waited before it).
    pub fn of(&self, version: &str) -> &[Blocker] {
        if self.version == version {
            &self.blockers
        } else {
            &[]
        }
    }
}

#[derive(Default)]
struct State {
    running: Option<(u64, Instant, Files)>,
    generation: u64,
    seen: Seen,
    stop: bool,
}

/// The watcher thread.
pub struct Watcher {
    shared: Arc<(Mutex<State>, Condvar)>,
    handle: Option<JoinHandle<()>>,
}

impl Watcher {
    /// Starts watching backend `pid` every `interval`; `table` is the
    /// tracking table (SQL), to tell which file of a batch is running.
    pub fn start(settings: &Settings, pid: i32, interval: Duration, table: String) -> Watcher {
        let shared = Arc::new((Mutex::new(State::default()), Condvar::new()));
        let s2 = shared.clone();
        let settings = settings.clone();
        // Its log lines carry the run's tags (a fleet run's target).
        let tags = pgkit::log::context();
        let handle = std::thread::spawn(move || {
            let _tags = pgkit::log::tag(tags);
            run(&s2, &settings, pid, interval, &table)
        });
        Watcher {
            shared,
            handle: Some(handle),
        }
    }

    /// A migration (file name, version) starts running.
    pub fn begin(&self, filename: &str, version: &str) {
        self.begin_batch(vec![(filename.to_string(), version.to_string())]);
    }

    /// Files sent in one query string start running: (filename, version).
    pub fn begin_batch(&self, files: Files) {
        if let Ok(mut g) = self.shared.0.lock() {
            g.generation += 1;
            g.running = Some((g.generation, Instant::now(), files));
            g.seen = Seen::default();
        }
        self.shared.1.notify_all();
    }

    /// It ended; returns the sessions seen blocking it, and which file.
    pub fn end(&self) -> Seen {
        match self.shared.0.lock() {
            Ok(mut g) => {
                g.running = None;
                std::mem::take(&mut g.seen)
            }
            Err(_) => Seen::default(),
        }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        if let Ok(mut g) = self.shared.0.lock() {
            g.stop = true;
        }
        self.shared.1.notify_all();
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

fn run(
    shared: &(Mutex<State>, Condvar),
    settings: &Settings,
    pid: i32,
    interval: Duration,
    table: &str,
) {
    let (m, c) = shared;
    let mut conn: Option<Client> = None;
    let mut failed = false;
    // The file seen waiting, since when (in a string of files, the string's
    // start says nothing about one file's wait), and whether it was logged.
    let mut waiting: Option<(u64, String, Instant, bool)> = None;
    let q = format!(
        "SELECT a.pid, coalesce(a.application_name, ''), coalesce(a.state, ''), left(coalesce(a.query, ''), 1000) FROM pg_stat_activity a WHERE a.pid = ANY(pg_blocking_pids({pid})) ORDER BY a.pid"
    );
    loop {
        let Ok(g) = m.lock() else { return };
        let Ok((g, _)) = c.wait_timeout(g, interval) else {
            return;
        };
        if g.stop {
            return;
        }
        let Some((gen, since, files)) = g.running.clone() else {
            continue;
        };
        drop(g);
        if since.elapsed() < interval || failed {
            continue;
        }
        if conn.is_none() {
            match settings.connect() {
                Ok(cl) => conn = Some(cl),
                Err(_) => {
                    failed = true;
                    continue;
                }
            }
        }
        let Some(cl) = conn.as_mut() else { continue };
        let rows = match sql::query(cl, &q) {
            Ok(r) => r,
            Err(_) => {
                conn = None;
                continue;
            }
        };
        let found: Vec<Blocker> = rows
            .into_iter()
            .map(|r| {
                let get = |i: usize| r.get(i).cloned().flatten().unwrap_or_default();
                Blocker {
                    pid: get(0),
                    application_name: get(1),
                    state: get(2),
                    query: get(3),
                }
            })
            .collect();
        if found.is_empty() {
            continue;
        }
        // Which file waits: in a string of files, the first whose row has
        // not committed (a query only while something blocks us).
        let (file, version) = running_file(cl, table, &files);
        let same = matches!(&waiting, Some((g, v, ..)) if *g == gen && *v == version);
        if !same {
            let from = if files.len() < 2 {
                since
            } else {
                Instant::now()
            };
            waiting = Some((gen, version.clone(), from, false));
        }
        let Some((_, _, from, warned)) = waiting.as_mut() else {
            continue;
        };
        let Ok(mut g) = m.lock() else { return };
        if g.running.as_ref().map(|r| r.0) == Some(gen) {
            g.seen = Seen {
                blockers: found.clone(),
                version,
            };
            drop(g);
            if !*warned && from.elapsed() >= Duration::from_secs(1) {
                *warned = true;
                let b = &found[0];
                log::warn(
                    "Migration waiting for a lock",
                    json!({"filename": file, "waitedMs": from.elapsed().as_millis() as u64, "blockingPid": b.pid.parse::<i64>().ok(), "blockingApplicationName": b.application_name, "blockingState": b.state, "blockingQuery": b.query}),
                );
            }
        }
    }
}

/// Which of `files` (sent in one query string) is running: the first whose
/// tracking row is not there yet. (filename, version).
fn running_file(client: &mut Client, table: &str, files: &Files) -> (String, String) {
    let first = files.first().cloned().unwrap_or_default();
    if files.len() < 2 {
        return first;
    }
    let list: Vec<String> = files.iter().map(|f| sql::literal(&f.1)).collect();
    let q = format!(
        "SELECT version FROM {table} WHERE version IN ({})",
        list.join(", ")
    );
    match sql::query(client, &q) {
        Ok(rows) => {
            let done: std::collections::HashSet<String> = rows
                .into_iter()
                .filter_map(|r| r.into_iter().next().flatten())
                .collect();
            files
                .iter()
                .find(|f| !done.contains(&f.1))
                .cloned()
                .unwrap_or(first)
        }
        Err(_) => first,
    }
}

/// How often the watcher looks for blockers: a quarter of the lock timeout
/// (so a 55P03 names who blocked), at most every 250 ms.
pub fn watch_interval(lock_timeout: Option<Duration>) -> Duration {
    lock_timeout
        .map(|t| t / 4)
        .unwrap_or(Duration::from_millis(250))
        .clamp(Duration::from_millis(20), Duration::from_millis(250))
}
