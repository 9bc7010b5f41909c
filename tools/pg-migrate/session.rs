//! A connection to the database: resolve the settings, `--wait` first when
//! asked, cancel the running query on SIGINT/SIGTERM, and take the lock.

use crate::apply::Runner;
use crate::cli::{CommonArgs, ExecArgs};
use crate::lock::{self, Lock};
use crate::sql;
use crate::tracking::Table;
use crate::watch::{watch_interval, Watcher};
use pgkit::conn::{Client, Settings};
use pgkit::interrupt::HookGuard;
use pgkit::wait::{wait_for, WaitOptions};
use pgkit::{Error, Exit, Result};

/// An open connection, with the lock when one was taken.
pub struct Session {
    /// The settings (for the watcher, pg_dump).
    pub settings: Settings,
    /// The connection.
    pub client: Client,
    /// The tracking table.
    pub table: Table,
    /// The lock (None when not locked).
    pub lock: Option<Lock>,
    /// What restores pg-migrate's own session settings after a file's
    /// session reset.
    keep: &'static str,
    _cancel: HookGuard,
}

/// Resolves the settings and connects (waiting first with `--wait`).
pub fn connect(common: &CommonArgs) -> Result<(Settings, Client)> {
    let settings = match &common.target {
        Some(t) => t.settings.clone(),
        None => Settings::resolve(&common.conn, "pg-migrate")?,
    };
    let client = connect_to(common, &settings)?;
    Ok((settings, client))
}

/// Connects with given settings (waiting first with `--wait`).
pub fn connect_to(common: &CommonArgs, settings: &Settings) -> Result<Client> {
    if common.wait {
        let timeout = pgkit::duration::parse_ms_or_duration(&common.wait_timeout).map_err(|e| {
            Error::config("Invalid DB_TIMEOUT").cause(e).suggest(
                "Set DB_TIMEOUT / --wait-timeout to milliseconds (180000) or a duration (3m)",
            )
        })?;
        wait_for(
            settings,
            &WaitOptions {
                timeout: Some(timeout),
                ..Default::default()
            },
        )?;
    }
    settings
        .connect()
        .map_err(|e| e.into_error(Exit::NotReady, "Cannot connect to the database"))
}

impl Session {
    /// Connects; with `locked`, takes the migration lock and makes sure the
    /// tracking table exists (created or adopted).
    pub fn open(common: &CommonArgs, locked: bool) -> Result<Session> {
        let table = Table::parse(&common.table)?;
        let (settings, client) = connect(common)?;
        Session::with(common, table, settings, client, locked)
    }

    /// `open` on a connection made already (by `connect`).
    pub fn with(
        common: &CommonArgs,
        table: Table,
        settings: Settings,
        client: Client,
        locked: bool,
    ) -> Result<Session> {
        let cancel = pgkit::conn::cancel_on_signal(&settings, &client);
        let mut s = Session {
            settings,
            client,
            table,
            lock: None,
            keep: "",
            _cancel: cancel,
        };
        if locked {
            // PostgreSQL 14+: notice a vanished client (a runner killed with
            // SIGKILL) during a statement, roll back and free its lock,
            // instead of finishing it first, and stop the query string, so
            // the file it ran (and those after it in the string) do not
            // commit; a check costs one poll() per interval. Not in lease
            // mode, which is for poolers: a session setting would outlive us
            // there.
            if common.lock_mode != crate::cli::LockMode::Lease {
                s.keep = crate::apply::KEEP_CHECK_INTERVAL;
                let _ = sql::exec(&mut s.client, s.keep);
            }
            let mode = common.lock_mode;
            let l = lock::acquire(
                &mut s.client,
                &s.settings,
                &s.table,
                mode,
                common.lock_wait,
                common.lease_ttl,
            )?;
            s.lock = Some(l);
            let t = s.table.clone();
            if let Err(e) = t.ensure(&mut s.client) {
                s.close();
                return Err(e);
            }
        }
        Ok(s)
    }

    /// Our backend pid.
    pub fn backend_pid(&mut self) -> Option<i32> {
        sql::query(&mut self.client, "SELECT pg_backend_pid()")
            .ok()?
            .first()?
            .first()?
            .as_deref()?
            .parse()
            .ok()
    }

    /// The lock watcher for our backend `pid` (none without a pid).
    pub fn watcher(&self, pid: Option<i32>, exec: &ExecArgs) -> Option<Watcher> {
        pid.map(|pid| {
            Watcher::start(
                &self.settings,
                pid,
                watch_interval(exec.lock_timeout),
                self.table.sql(),
            )
        })
    }

    /// What runs the files on this connection, under the lock we hold.
    pub fn runner<'a>(
        &'a mut self,
        watcher: Option<&'a Watcher>,
        exec: &ExecArgs,
    ) -> Result<Runner<'a>> {
        let Some(lock) = self.lock.as_ref() else {
            return Err(Error::new(Exit::Failure, "Internal error: no lock"));
        };
        Ok(Runner {
            client: &mut self.client,
            settings: &self.settings,
            table: &self.table,
            lock,
            watcher,
            lock_timeout: exec.lock_timeout,
            statement_timeout: exec.statement_timeout,
            tag: crate::apply::run_tag(),
            keep: self.keep,
            row_stmts: 0,
        })
    }

    /// Releases the lock.
    pub fn close(&mut self) {
        if let Some(l) = self.lock.take() {
            l.release(&mut self.client);
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.close();
    }
}
