//! The subcommands, one file each, and what they share: the files the
//! global flags name (`Ctx`), key checks, and the locked edit of one file.

mod check;
mod generate;
mod get;
mod list;
mod pgenv;
mod run;
mod set;
mod unset;

use crate::cli::{Cli, Cmd};
use crate::edit::{self, EditError, Op, Outcome};
use crate::parse::valid_key;
use crate::read::{self, malformed, Order};
use crate::write;
use pgkit::cli::Summary;
use pgkit::{log, Error, Exit, Result};
use serde_json::json;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Runs the command line.
pub fn run(cli: Cli) -> Result<Summary> {
    let ctx = Ctx::new(&cli)?;
    match cli.cmd {
        Cmd::Get(a) => get::run(&ctx, &a),
        Cmd::Set(a) => set::run(&ctx, &a),
        Cmd::Unset(a) => unset::run(&ctx, &a),
        Cmd::List(a) => list::run(&ctx, &a),
        Cmd::Generate(a) => generate::run(&ctx, &a),
        Cmd::Pgenv(a) => pgenv::run(&ctx, &a),
        Cmd::Check(a) => check::run(&ctx, &a),
        Cmd::Run(a) => run::run(&ctx, &a),
    }
}

/// What every command gets from the global flags.
pub struct Ctx {
    /// The files, in order (at least one).
    pub files: Vec<PathBuf>,
    /// Whether `$` expansion is on.
    pub interpolate: bool,
    /// How long a writer waits for the lock.
    pub lock_timeout: Duration,
    /// Write even a read-only (0444) file.
    pub force: bool,
    /// Files that may be missing (`-f .env.local?`, `--optional`).
    pub optional: Vec<PathBuf>,
}

impl Ctx {
    /// The global flags, checked.
    fn new(cli: &Cli) -> Result<Ctx> {
        // One duration grammar for every tool: a bare number is milliseconds.
        let lock_timeout =
            pgkit::duration::parse_ms_or_duration(&cli.lock_timeout).map_err(|e| {
                // From the command line a usage error, from DOTENV_LOCK_TIMEOUT a
                // configuration error.
                let flag = std::env::args().any(|a| a.starts_with("--lock-timeout"));
                let err = if flag {
                    Error::usage("Invalid --lock-timeout")
                } else {
                    Error::config("Invalid DOTENV_LOCK_TIMEOUT")
                };
                err.cause(e)
                    .suggest("Give a duration with a unit: 500ms, 10s, 1m")
            })?;
        // `-f FILE?`: FILE may be missing (unless a file named `FILE?` exists).
        let mut optional = Vec::new();
        let mut files: Vec<PathBuf> = cli
            .file
            .iter()
            .map(|f| match f.to_str().and_then(|s| s.strip_suffix('?')) {
                Some(stem) if !f.exists() => {
                    optional.push(PathBuf::from(stem));
                    PathBuf::from(stem)
                }
                _ => f.clone(),
            })
            .collect();
        if files.is_empty() {
            files.push(PathBuf::from(".env"));
        }
        for f in &cli.optional {
            optional.push(f.clone());
            files.push(f.clone());
        }
        Ok(Ctx {
            files,
            optional,
            interpolate: !cli.no_interpolate,
            lock_timeout,
            force: cli.force,
        })
    }

    /// Reads the files, skipping the optional ones that do not exist.
    pub fn load(&self, order: Order) -> Result<read::Values> {
        let files: Vec<PathBuf> = self
            .files
            .iter()
            .filter(|f| {
                let skip =
                    self.optional.contains(f) && !f.exists() && f.symlink_metadata().is_err();
                if skip {
                    log::debug(
                        "Optional file missing; skipped",
                        json!({"filename": f.display().to_string()}),
                    );
                }
                !skip
            })
            .cloned()
            .collect();
        read::load(&files, self.interpolate, order)
    }

    /// The files, for log lines.
    pub fn shown(&self) -> String {
        self.files
            .iter()
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The one file a write goes to.
    pub fn target(&self) -> Result<&Path> {
        match self.files.as_slice() {
            [one] => Ok(one),
            _ => Err(Error::usage("Writes go to one file")
                .cause(format!("{} files given with -f", self.files.len()))
                .suggest("Give a single -f/--file for set, unset and generate")),
        }
    }
}

/// A key given on the command line: 64 unless it is one.
pub fn check_key(key: &str) -> Result<()> {
    if valid_key(key) {
        Ok(())
    } else {
        Err(Error::usage("Invalid key")
            .cause(format!("{key:?} is not a key ([A-Za-z0-9_.-]+)"))
            .suggest("Keys hold ASCII letters, digits, _ . - (as Compose reads them)"))
    }
}

/// A key written to the file that sh cannot assign (a digit first, `.` or
/// `-` in it): `set -a; . ./.env` runs that line as a command. Compose and
/// python-dotenv read it, so it is written, with a warning.
pub fn warn_unless_sh_name(key: &str, path: &Path) {
    if !crate::format::sh_name(key) {
        log::warn(
            "Key is not a shell variable name: sh runs its line as a command when sourcing the file",
            json!({"filename": path.display().to_string(), "key": key, "suggestion": "Use letters, digits and _ (not first a digit) if the file is ever sourced by sh"}),
        );
    }
}

/// An argument as UTF-8 text (.env files hold nothing else): else 65.
pub fn utf8_arg(a: &OsString, what: &str) -> Result<String> {
    a.to_str().map(String::from).ok_or_else(|| {
        Error::new(Exit::DataErr, format!("Cannot write the {what}"))
            .cause("it is not valid UTF-8")
            .suggest(".env files hold UTF-8 text without NUL bytes: convert or remove the offending bytes")
    })
}

/// The refusal to replace a read-only file without `--force`.
pub fn read_only_error(path: &Path) -> Error {
    Error::new(Exit::Failure, format!("Cannot write {}", path.display()))
        .cause("the file is read-only (no write permission for anyone)")
        .field("filename", path.display().to_string())
        .suggest("Pass --force to replace it anyway (its mode is kept), or chmod u+w it first")
}

/// Keys by outcome of one locked edit.
#[derive(Default)]
pub struct Outcomes {
    pub changed: Vec<String>,
    pub added: Vec<String>,
    /// Present and left as they were (set), or absent (unset).
    pub unchanged: Vec<String>,
    pub removed: Vec<String>,
}

/// Applies changes to the one target file under its lock (`None`: the file
/// does not exist and `create` is false).
pub fn modify(ctx: &Ctx, ops: &[Op], create: bool) -> Result<Option<Outcomes>> {
    let path = ctx.target()?;
    // Report a full disk (RLIMIT_FSIZE, EFBIG) instead of dying of SIGXFSZ.
    // SAFETY: setting a signal disposition to SIG_IGN.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
    let Some(mut locked) = write::lock(path, create, ctx.lock_timeout)? else {
        return Ok(None);
    };
    let mut text = locked.text.clone();
    let mut o = Outcomes::default();
    for op in ops {
        let applied = edit::apply(&text, op).map_err(|e| match e {
            EditError::Parse(pe) => malformed(path, &pe),
            EditError::Value(why) => Error::new(Exit::DataErr, "Cannot write the value")
                .cause(why)
                .suggest(".env files hold UTF-8 text without NUL bytes: convert or remove the offending bytes")
                .field("key", op.key()),
        })?;
        if !applied.duplicates.is_empty() {
            log::warn(
                "Duplicate key; only the last occurrence is changed",
                json!({"filename": path.display().to_string(), "key": op.key(), "lines": applied.duplicates}),
            );
        }
        let k = op.key().to_string();
        match applied.outcome {
            Outcome::Changed(_) => o.changed.push(k),
            Outcome::Added => o.added.push(k),
            Outcome::Unchanged => o.unchanged.push(k),
            Outcome::Removed(_) => o.removed.push(k),
        }
        text = applied.text;
    }
    if text != locked.text && locked.read_only() && !ctx.force {
        return Err(read_only_error(path));
    }
    if text != locked.text || locked.created() {
        locked.commit(&text)?;
        for k in &o.added {
            warn_unless_sh_name(k, path);
        }
    }
    Ok(Some(o))
}

/// Each key once, in first-seen order.
pub fn dedup(mut v: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    v.retain(|k| seen.insert(k.clone()));
    v
}
