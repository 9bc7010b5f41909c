//! pg-wait's run: resolve the targets, probe them concurrently (waiting with
//! backoff, or once), report, and exec the command when ready.

use crate::cli::{parse_connect_timeout, parse_timeout, CheckArg, Cli};
use crate::report::{self, Outcome};
use crate::{exec, targets};
use pgkit::backoff::Policy;
use pgkit::cli::Summary;
use pgkit::conn::Settings;
use pgkit::wait::{self, WaitOptions};
use pgkit::{log, Error, Exit, Result};
use serde_json::json;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Whether `--healthcheck` is among the arguments (before `--`), so that even
/// a usage error answers 1.
pub fn healthcheck_in_args(args: impl IntoIterator<Item = std::ffi::OsString>) -> bool {
    args.into_iter()
        .skip(1)
        .take_while(|a| a != "--")
        .any(|a| a == "--healthcheck")
}

/// In HEALTHCHECK mode every failure is 1 (Docker reserves 2); help and
/// version stay 0.
pub fn unhealthy(r: Result<Summary>) -> Result<Summary> {
    r.map_err(|mut e| {
        if e.code != Exit::Ok {
            let original = e.code.code();
            e = e.field("originalExitCode", original);
            e.code = Exit::Failure;
        }
        e
    })
}

/// Runs pg-wait.
pub fn run(cli: Cli) -> Result<Summary> {
    let opts = wait_options(&cli)?;
    let mut targets = targets::resolve(&cli)?;
    let single = cli.once || cli.healthcheck;
    if cli.databases.all_databases {
        targets = databases(&targets, &opts, single, &cli)?;
    }
    let fleet = cli.databases.all_databases || cli.targets.is_some();
    let check = opts.effective_check().as_str();
    log::debug(
        "Waiting for Postgres",
        json!({
            "targets": targets.iter().map(Settings::redacted).collect::<Vec<_>>(),
            "check": check,
            "timeoutMs": opts.timeout.map(|t| t.as_millis() as u64),
            "once": single,
        }),
    );
    let (slots, fatal) = match probe_all(&targets, &opts, single, cli.jobs as usize) {
        Ok(v) => (v.into_iter().map(Some).collect(), None),
        Err((e, slots)) => (slots, Some(e)),
    };
    if cli.json || fleet {
        // A closed stdout (`| head -c0`) does not change the answer: the exit
        // code still says whether Postgres is ready, and CMD still runs.
        if let Err(e) = report::json(&targets, &slots, check) {
            if e.code != Exit::Ok {
                return Err(e);
            }
        }
    }
    if let Some(e) = fatal {
        return Err(e);
    }
    let outcomes: Vec<Outcome> = slots.into_iter().flatten().collect();
    if let Some(e) = report::failure(&outcomes) {
        return Err(e);
    }
    if cli.healthcheck {
        return Ok(Summary::ok("Healthy").quiet());
    }
    let attempts: u32 = outcomes
        .iter()
        .filter_map(|o| o.result.as_ref().ok().map(|r| r.attempts))
        .max()
        .unwrap_or(0);
    let mut summary = if let [one] = outcomes.as_slice() {
        Summary::ok("Postgres is ready")
            .field("target", one.target.clone())
            .field("check", check)
            .field("attempts", attempts)
    } else {
        for o in &outcomes {
            if let Ok(r) = &o.result {
                log::info(
                    "Postgres is ready",
                    json!({"target": o.target, "check": check, "attempts": r.attempts, "durationMs": r.duration.as_millis() as u64}),
                );
            }
        }
        Summary::ok("All targets are ready")
            .field("targets", outcomes.len())
            .field("check", check)
            .field("attempts", attempts)
    };
    if !cli.command.is_empty() {
        summary = summary.field("command", cli.command[0].clone());
        return exec::exec(&cli.command, summary);
    }
    Ok(summary)
}

/// `--all-databases`: the server first (its databases are listed once it
/// takes this login), then every database on it as a target.
fn databases(
    base: &[Settings],
    opts: &WaitOptions,
    single: bool,
    cli: &Cli,
) -> Result<Vec<Settings>> {
    let Some(base) = base.first() else {
        return Ok(Vec::new());
    };
    if single {
        wait::probe(base, opts).map_err(|f| report::once_error(f, &base.redacted()))?;
    } else {
        wait::wait_for(base, opts)?;
    }
    let mut c = base
        .connect()
        .map_err(|e| e.into_error(Exit::NotReady, "Cannot connect to the database"))?;
    let list = pgkit::fleet::target::databases(
        &mut c,
        base,
        &cli.databases.database_pattern,
        &cli.databases.exclude_database,
    )?;
    Ok(list.into_iter().map(|t| t.settings).collect())
}

/// The wait options from the flags and the environment, validated.
fn wait_options(cli: &Cli) -> Result<WaitOptions> {
    if cli.until_sql.is_some() || cli.primary {
        if let Some(c @ (CheckArg::Tcp | CheckArg::Ping)) = cli.check {
            return Err(Error::usage("Invalid usage")
                .cause(format!(
                    "--until-sql and --primary need a login, not --check {}",
                    wait::Check::from(c).as_str()
                ))
                .suggest("Drop --check (login is the default) or use --check login"));
        }
    }
    if cli
        .until_sql
        .as_deref()
        .is_some_and(|s| s.trim().is_empty())
    {
        return Err(Error::usage("Invalid usage")
            .cause("--until-sql is empty")
            .suggest("Give a query, e.g. --until-sql 'SELECT count(*) >= 7 FROM pg_tables'"));
    }
    if cli.interval.is_zero() {
        return Err(Error::usage("Invalid usage")
            .cause("--interval must be more than 0")
            .suggest("Use e.g. --interval 100ms"));
    }
    let timeout = resolve_timeout(cli)?;
    let connect_timeout = match &cli.connect_timeout {
        None => None,
        Some(v) => Some(parse_connect_timeout(v).map_err(|e| {
            Error::usage("Invalid usage")
                .cause(format!("--connect-timeout: {e}"))
                .suggest("Use seconds (10) or a duration (500ms, 10s)")
        })?),
    };
    Ok(WaitOptions {
        check: cli.check.map(Into::into).unwrap_or_default(),
        until_sql: cli.until_sql.clone(),
        primary: cli.primary,
        policy: Policy {
            base: cli.interval,
            max: cli.max_interval,
            jitter: cli.jitter,
            max_attempts: cli.max_attempts,
        },
        timeout,
        seed: None,
        connect_timeout,
        quiet: false,
    })
}

/// `--timeout`, else `DB_TIMEOUT`, else 300000 ms; 0 means no deadline. A bad
/// flag is a usage error (64), a bad variable a configuration error (78).
fn resolve_timeout(cli: &Cli) -> Result<Option<Duration>> {
    let t = match &cli.timeout {
        Some(v) => parse_timeout(v).map_err(|e| {
            Error::usage("Invalid usage")
                .cause(format!("--timeout: {e}"))
                .suggest("Use milliseconds (180000) or a duration (3m)")
        })?,
        None => match std::env::var("DB_TIMEOUT")
            .ok()
            .filter(|v| !v.trim().is_empty())
        {
            Some(v) => parse_timeout(&v).map_err(|e| {
                Error::config("Invalid DB_TIMEOUT")
                    .cause(e)
                    .suggest("Set DB_TIMEOUT to milliseconds (180000) or a duration (3m)")
            })?,
            None => wait::DEFAULT_TIMEOUT,
        },
    };
    Ok((!t.is_zero()).then_some(t))
}

/// All outcomes in target order, or the error that cut the wait short with
/// the outcomes known by then.
type Probed = std::result::Result<Vec<Outcome>, (Error, Vec<Option<Outcome>>)>;

/// Probes the targets, `jobs` at a time, each on a thread of its own;
/// returns in target order once all have ended, or at once when one fails
/// in a way waiting cannot change (the others are abandoned: the process is
/// about to exit).
fn probe_all(targets: &[Settings], opts: &WaitOptions, single: bool, jobs: usize) -> Probed {
    let start = Instant::now();
    let (tx, rx) = mpsc::channel::<(usize, Outcome)>();
    let several = targets.len() > 1;
    let probe = move |s: &Settings, opts: &WaitOptions| {
        let target = s.redacted();
        // Among several, its log lines carry the target it is for.
        let mut tags = serde_json::Map::new();
        if several {
            tags.insert("target".into(), json!(target));
        }
        let _tag = log::tag(tags);
        let result = if single {
            wait::probe(s, opts)
                .map(|()| wait::Ready {
                    attempts: 1,
                    duration: start.elapsed(),
                })
                .map_err(|f| report::once_error(f, &target))
        } else {
            wait::wait_for(s, opts)
        };
        Outcome {
            target,
            result,
            duration: start.elapsed(),
        }
    };
    if let [s] = targets {
        // No extra thread for the common case.
        let _ = tx.send((0, probe(s, opts)));
    } else {
        let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let shared: std::sync::Arc<Vec<Settings>> = std::sync::Arc::new(targets.to_vec());
        for w in 0..jobs.max(1).min(targets.len()) {
            let (tx, next, shared, opts) = (tx.clone(), next.clone(), shared.clone(), opts.clone());
            let body = move || loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some(s) = shared.get(i) else { return };
                if tx.send((i, probe(s, &opts))).is_err() {
                    return;
                }
            };
            if let Err(e) = std::thread::Builder::new()
                .name(format!("pg-wait-worker-{w}"))
                .spawn(body)
            {
                return Err((
                    Error::new(Exit::Failure, "Cannot start a thread").cause(e),
                    Vec::new(),
                ));
            }
        }
    }
    drop(tx);
    let mut slots: Vec<Option<Outcome>> = (0..targets.len()).map(|_| None).collect();
    while let Ok((i, o)) = rx.recv() {
        let fatal = match &o.result {
            Err(e) if e.code != Exit::NotReady => Some(e.clone()),
            _ => None,
        };
        slots[i] = Some(o);
        if let Some(e) = fatal {
            return Err((e, slots));
        }
    }
    Ok(slots.into_iter().flatten().collect())
}
