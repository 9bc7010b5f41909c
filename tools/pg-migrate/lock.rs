//! Keeping concurrent runners apart.
//!
//! - advisory: `pg_try_advisory_lock(key)` polled with short, interruptible
//!   sleeps until `--lock-wait`, then exit 75 naming the holder. Never
//!   `pg_advisory_lock`: a waiter blocked inside it holds a snapshot that
//!   another runner's `CREATE INDEX CONCURRENTLY` waits for — a deadlock.
//! - lease: a row in `<table>_lock` with an expiry, renewed by a heartbeat
//!   on its own connection; works through PgBouncer transaction pooling,
//!   where session advisory locks are meaningless. A crashed runner's lease
//!   expires after `--lease-ttl`.
//! - none.

use crate::cli::LockMode;
use crate::sql::{self, literal};
use crate::tracking::Table;
use pgkit::conn::{Client, Settings};
use pgkit::{interrupt, log, Error, Exit, Result};
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A held lock; `release` it (dropping the connection releases an advisory
/// lock too, and a lease expires).
pub struct Lock {
    mode: LockMode,
    key: i64,
    token: String,
    lease_table: String,
    heartbeat: Option<Heartbeat>,
}

struct Heartbeat {
    stop: Arc<(Mutex<bool>, Condvar)>,
    lost: Arc<AtomicBool>,
    handle: JoinHandle<()>,
}

/// The SQL expression of the advisory lock key for a tracking table:
/// `hashtextextended('pg-migrate:schema.table', 0)`, the schema resolved on
/// the server for an unqualified name, so `schema_migrations` and
/// `public.schema_migrations` are one lock.
pub fn key_sql(table: &Table) -> String {
    let schema = match &table.schema {
        Some(s) => literal(s),
        None => "coalesce(current_schema(), '')".into(),
    };
    format!(
        "hashtextextended('pg-migrate:' || {schema} || '.' || {}, 0)",
        literal(&table.name)
    )
}

/// Who holds the lock, as far as we can tell.
#[derive(Debug, Clone, Default)]
struct Holder {
    pid: Option<i64>,
    application_name: Option<String>,
    client: Option<String>,
    since: Option<String>,
}

impl Holder {
    fn fields(&self, e: Error) -> Error {
        let mut e = e;
        if let Some(p) = self.pid {
            e = e.field("holderPid", p);
        }
        if let Some(a) = &self.application_name {
            e = e.field("holderApplicationName", a.clone());
        }
        if let Some(c) = &self.client {
            e = e.field("holder", c.clone());
        }
        if let Some(s) = &self.since {
            e = e.field("holderSince", s.clone());
        }
        e
    }

    fn json(&self) -> serde_json::Value {
        json!({"holderPid": self.pid, "holderApplicationName": self.application_name, "holder": self.client})
    }
}

/// Acquires the lock per `mode`, waiting up to `wait`.
pub fn acquire(
    client: &mut Client,
    settings: &Settings,
    table: &Table,
    mode: LockMode,
    wait: Duration,
    ttl: Duration,
) -> Result<Lock> {
    let mut lock = Lock {
        mode,
        key: 0,
        token: String::new(),
        lease_table: table.lock_table(),
        heartbeat: None,
    };
    match mode {
        LockMode::None => Ok(lock),
        LockMode::Advisory => {
            let q = format!(
                "SELECT pg_try_advisory_lock(k), k FROM (SELECT {} AS k) s",
                key_sql(table)
            );
            let mut key = 0i64;
            poll(wait, table, || {
                let rows = sql::query(client, &q)
                    .map_err(|e| sql::fail("Cannot take the migration lock", &e))?;
                let row = rows.into_iter().next().unwrap_or_default();
                key = row
                    .get(1)
                    .cloned()
                    .flatten()
                    .and_then(|k| k.parse().ok())
                    .unwrap_or(0);
                if row.first().cloned().flatten().as_deref() == Some("t") {
                    return Ok(None);
                }
                Ok(Some(advisory_holder(client, key)))
            })?;
            lock.key = key;
            Ok(lock)
        }
        LockMode::Lease => {
            table.ensure_schema(client)?;
            let create = format!(
                "CREATE TABLE IF NOT EXISTS {} (id int PRIMARY KEY, holder text NOT NULL, pid int, application_name text, acquired_at timestamptz NOT NULL DEFAULT now(), expires_at timestamptz NOT NULL)",
                lock.lease_table
            );
            match sql::exec(client, &create) {
                Ok(()) => {}
                // Runners racing on CREATE TABLE IF NOT EXISTS: the loser may see the
                // table (42P07), its row type (42710) or pg_type's unique index (23505).
                Err(e) if matches!(sql::sqlstate(&e), Some("23505" | "42P07" | "42710")) => {}
                Err(e) => return Err(sql::fail("Cannot create the lease table", &e)),
            }
            let host = hostname();
            lock.token = format!(
                "{host}:{}:{:016x}",
                std::process::id(),
                rand::random::<u64>()
            );
            let ttl_ms = ttl.as_millis().max(1000);
            let take = format!(
                "INSERT INTO {t} AS l (id, holder, pid, application_name, acquired_at, expires_at) VALUES (1, {h}, pg_backend_pid(), current_setting('application_name'), now(), clock_timestamp() + interval '{ttl_ms} milliseconds') ON CONFLICT (id) DO UPDATE SET holder = EXCLUDED.holder, pid = EXCLUDED.pid, application_name = EXCLUDED.application_name, acquired_at = EXCLUDED.acquired_at, expires_at = EXCLUDED.expires_at WHERE l.expires_at < clock_timestamp() RETURNING 1",
                t = lock.lease_table,
                h = literal(&lock.token)
            );
            let read = format!(
                "SELECT holder, pid, application_name, acquired_at::text FROM {} WHERE id = 1",
                lock.lease_table
            );
            poll(wait, table, || {
                let rows = sql::query(client, &take)
                    .map_err(|e| sql::fail("Cannot take the migration lease", &e))?;
                if !rows.is_empty() {
                    return Ok(None);
                }
                let r = sql::query(client, &read).unwrap_or_default();
                let mut h = Holder::default();
                if let Some(row) = r.into_iter().next() {
                    h.client = row.first().cloned().flatten();
                    h.pid = row.get(1).cloned().flatten().and_then(|p| p.parse().ok());
                    h.application_name = row.get(2).cloned().flatten();
                    h.since = row.get(3).cloned().flatten();
                }
                Ok(Some(h))
            })?;
            lock.heartbeat = Some(start_heartbeat(settings, &lock, ttl));
            Ok(lock)
        }
    }
}

/// Tries `attempt` until it returns `None` (acquired) or `wait` passes.
fn poll(
    wait: Duration,
    table: &Table,
    mut attempt: impl FnMut() -> Result<Option<Holder>>,
) -> Result<()> {
    let start = Instant::now();
    let mut logged = false;
    let mut delay = Duration::from_millis(20);
    loop {
        interrupt::check()?;
        let holder = match attempt()? {
            None => {
                if logged {
                    log::info(
                        "Migration lock acquired",
                        json!({"table": table.display(), "waitedMs": start.elapsed().as_millis() as u64}),
                    );
                }
                return Ok(());
            }
            Some(h) => h,
        };
        let elapsed = start.elapsed();
        if elapsed >= wait {
            return Err(holder.fields(
                Error::new(Exit::TempFail, "Migration lock is held by another runner")
                    .field("table", table.display())
                    .field("waitedMs", elapsed.as_millis() as u64)
                    .suggest("Another pg-migrate is running against this database; retry later or raise --lock-wait"),
            ));
        }
        if !logged {
            let mut f = holder.json();
            if let Some(m) = f.as_object_mut() {
                m.insert("table".into(), json!(table.display()));
                m.insert("lockWaitMs".into(), json!(wait.as_millis() as u64));
            }
            log::info("Waiting for the migration lock", f);
            logged = true;
        }
        // Short sleeps with jitter, so a crowd of runners does not poll in step.
        let jitter = Duration::from_millis(rand::random::<u64>() % 20);
        interrupt::sleep((delay + jitter).min(wait.saturating_sub(elapsed)))?;
        delay = (delay * 2).min(Duration::from_millis(200));
    }
}

fn advisory_holder(client: &mut Client, key: i64) -> Holder {
    let k = key as u64;
    let (hi, lo) = ((k >> 32) as u32, (k & 0xffff_ffff) as u32);
    let q = format!(
        "SELECT a.pid, a.application_name, coalesce(host(a.client_addr), 'local'), a.backend_start::text FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND l.classid = {hi}::oid AND l.objid = {lo}::oid AND l.objsubid = 1 LIMIT 1"
    );
    let mut h = Holder::default();
    if let Ok(rows) = sql::query(client, &q) {
        if let Some(r) = rows.into_iter().next() {
            h.pid = r.first().cloned().flatten().and_then(|p| p.parse().ok());
            h.application_name = r.get(1).cloned().flatten();
            h.client = r.get(2).cloned().flatten();
            h.since = r.get(3).cloned().flatten();
        }
    }
    h
}

fn start_heartbeat(settings: &Settings, lock: &Lock, ttl: Duration) -> Heartbeat {
    let stop = Arc::new((Mutex::new(false), Condvar::new()));
    let lost = Arc::new(AtomicBool::new(false));
    let (stop2, lost2) = (stop.clone(), lost.clone());
    let settings = settings.clone();
    let ttl_ms = ttl.as_millis().max(1000);
    let renew = format!(
        "UPDATE {} SET expires_at = clock_timestamp() + interval '{ttl_ms} milliseconds' WHERE id = 1 AND holder = {} RETURNING 1",
        lock.lease_table,
        literal(&lock.token)
    );
    let every = Duration::from_millis((ttl_ms / 3) as u64);
    // Its log lines carry the run's tags (a fleet run's target).
    let tags = log::context();
    let handle = std::thread::spawn(move || {
        let _tags = log::tag(tags);
        let mut conn: Option<Client> = None;
        let (m, c) = &*stop2;
        loop {
            let Ok(g) = m.lock() else { return };
            let Ok((g, _)) = c.wait_timeout_while(g, every, |s| !*s) else {
                return;
            };
            if *g {
                return;
            }
            drop(g);
            if conn.is_none() {
                conn = settings.connect().ok();
            }
            let Some(cl) = conn.as_mut() else { continue };
            match sql::query(cl, &renew) {
                Ok(rows) if rows.is_empty() => {
                    lost2.store(true, Ordering::SeqCst);
                    log::error("Migration lease lost", json!({"holder": "another runner"}));
                    return;
                }
                Ok(_) => {}
                Err(e) => {
                    log::warn(
                        "Cannot renew the migration lease",
                        json!({"error": sql::message(&e)}),
                    );
                    conn = None;
                }
            }
        }
    });
    Heartbeat { stop, lost, handle }
}

impl Lock {
    /// Fails (75) when the lease was lost to another runner (it expired while
    /// we could not renew it): the caller rolls back instead of committing.
    pub fn check(&self) -> Result<()> {
        if let Some(h) = &self.heartbeat {
            if h.lost.load(Ordering::SeqCst) {
                return Err(Error::new(Exit::TempFail, "Migration lease lost")
                    .suggest("The lease expired while this runner could not renew it; re-run, or raise --lease-ttl"));
            }
        }
        Ok(())
    }

    /// Releases the lock (best effort: a closed connection releases an
    /// advisory lock anyway, and a lease expires).
    pub fn release(mut self, client: &mut Client) {
        if let Some(h) = self.heartbeat.take() {
            if let Ok(mut g) = h.stop.0.lock() {
                *g = true;
            }
            h.stop.1.notify_all();
            let _ = h.handle.join();
        }
        let q = match self.mode {
            LockMode::None => return,
            LockMode::Advisory => format!("SELECT pg_advisory_unlock({})", self.key),
            LockMode::Lease => format!(
                "DELETE FROM {} WHERE id = 1 AND holder = {}",
                self.lease_table,
                literal(&self.token)
            ),
        };
        if client.is_closed() {
            return;
        }
        // One round trip; the ROLLBACK ends a transaction left aborted (and
        // is a harmless warning otherwise).
        if let Err(e) = sql::exec(client, &format!("ROLLBACK; {q}")) {
            log::warn(
                "Cannot release the migration lock",
                json!({"error": sql::message(&e)}),
            );
        }
    }
}

fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most buf.len() bytes into buf.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "unknown".into();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}
