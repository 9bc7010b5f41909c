//! The commands: get, set, unset, list, generate, pgenv, run.

use crate::edit::{self, EditError, Op, Outcome};
use crate::format::{self, Format};
use crate::parse::valid_key;
use crate::read::{self, malformed, Order};
use crate::{pgenv, write};
use pgkit::cli::Summary;
use pgkit::{log, out, Error, Exit, Result};
use serde_json::json;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

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

    fn shown(&self) -> String {
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

fn check_key(key: &str) -> Result<()> {
    if valid_key(key) {
        Ok(())
    } else {
        Err(Error::usage("Invalid key")
            .cause(format!("{key:?} is not a key ([A-Za-z_][A-Za-z0-9_.-]*)"))
            .suggest("Keys start with a letter or _ and hold letters, digits, _ . -"))
    }
}

fn utf8_arg(a: &OsString, what: &str) -> Result<String> {
    a.to_str().map(String::from).ok_or_else(|| {
        Error::new(Exit::DataErr, format!("Cannot write the {what}"))
            .cause("it is not valid UTF-8")
            .suggest(".env files hold UTF-8 text without NUL bytes: convert or remove the offending bytes")
    })
}

/// `get KEY [--default V]`.
pub fn get(ctx: &Ctx, key: &str, default: Option<&str>) -> Result<Summary> {
    check_key(key)?;
    let values = match (ctx.load(Order::EnvFirst), default) {
        // `get K --default d` answers d when the file itself is missing.
        (Err(e), Some(d)) if e.code == Exit::NoInput => {
            out::println(d)?;
            return Ok(Summary::ok("File missing; default printed")
                .level(pgkit::log::Level::Warn)
                .field("key", key)
                .field("filename", ctx.shown())
                .field("default", true));
        }
        (r, _) => r?,
    };
    if let Some(e) = values.refused(key) {
        return Err(e.clone());
    }
    match values.get(key).or(default) {
        Some(v) => {
            out::println(v)?;
            let s = Summary::ok("Key read")
                .field("key", key)
                .field("filename", ctx.shown());
            Ok(if values.get(key).is_none() {
                s.field("default", true)
            } else {
                s
            })
        }
        None => Ok(Summary::ok("Key not found")
            .code(Exit::Failure)
            .field("key", key)
            .field("filename", ctx.shown())),
    }
}

/// `list [--format F]`.
pub fn list(ctx: &Ctx, format: Format) -> Result<Summary> {
    let values = ctx.load(Order::EnvFirst)?;
    let (text, written) = format::render(&values.pairs(), format)?;
    out::print(&text)?;
    Ok(Summary::ok("Keys listed")
        .field("filename", ctx.shown())
        .field("keys", written))
}

/// Turns `set`'s arguments into changes: `KEY VALUE`, `KEY=VALUE`, and a
/// value `+DEFAULT` for set-if-absent (`++X` is the literal `+X`).
pub fn parse_pairs(args: &[OsString]) -> Result<Vec<Op>> {
    let mut ops = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let a = utf8_arg(a, "argument")?;
        let (key, value) = match a.split_once('=') {
            Some((k, v)) if valid_key(k) => (k.to_string(), v.to_string()),
            _ => {
                check_key(&a)?;
                let v = it.next().ok_or_else(|| {
                    Error::usage("Missing value")
                        .cause(format!("no value given for {a}"))
                        .suggest(format!(
                            "Write 'set {a} VALUE', 'set {a}=VALUE', or 'set {a} +DEFAULT' to set it only when absent"
                        ))
                })?;
                (a.clone(), utf8_arg(v, "value")?)
            }
        };
        let op = if let Some(rest) = value.strip_prefix("++") {
            Op::Set(key, format!("+{rest}"))
        } else if let Some(rest) = value.strip_prefix('+') {
            Op::SetIfAbsent(key, rest.to_string())
        } else {
            Op::Set(key, value)
        };
        ops.push(op);
    }
    Ok(ops)
}

/// The value piped to `set --stdin`: UTF-8 (else 65), one trailing newline
/// (LF or CRLF) dropped, as `echo` adds one.
fn read_stdin_value() -> Result<String> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::io::stdin()
        .read_to_end(&mut bytes)
        .map_err(|e| Error::new(Exit::Failure, "Cannot read stdin").cause(e))?;
    let mut v = String::from_utf8(bytes).map_err(|_| {
        Error::new(Exit::DataErr, "Cannot write the value")
            .cause("stdin is not valid UTF-8")
            .suggest(".env files hold UTF-8 text without NUL bytes: convert or remove the offending bytes")
    })?;
    if v.ends_with('\n') {
        v.pop();
        if v.ends_with('\r') {
            v.pop();
        }
    }
    Ok(v)
}

/// Keys changed, added, unchanged and removed.
type Outcomes = (Vec<String>, Vec<String>, Vec<String>, Vec<String>);

/// Applies changes to the one target file under its lock. Returns the keys
/// by outcome.
fn modify(ctx: &Ctx, ops: &[Op], create: bool) -> Result<Option<Outcomes>> {
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
    let (mut changed, mut added, mut unchanged, mut removed) = (vec![], vec![], vec![], vec![]);
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
            Outcome::Changed(_) => changed.push(k),
            Outcome::Added => added.push(k),
            Outcome::Unchanged => unchanged.push(k),
            Outcome::Removed(_) => removed.push(k),
        }
        text = applied.text;
    }
    if text != locked.text && locked.read_only() && !ctx.force {
        return Err(
            Error::new(Exit::Failure, format!("Cannot write {}", path.display()))
                .cause("the file is read-only (no write permission for anyone)")
                .field("filename", path.display().to_string())
                .suggest(
                    "Pass --force to replace it anyway (its mode is kept), or chmod u+w it first",
                ),
        );
    }
    if text != locked.text || locked.created() {
        locked.commit(&text)?;
    }
    Ok(Some((changed, added, unchanged, removed)))
}

fn dedup(mut v: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    v.retain(|k| seen.insert(k.clone()));
    v
}

/// `set KEY VALUE | KEY=VALUE | KEY +DEFAULT …`.
pub fn set(ctx: &Ctx, stdin: bool, if_empty: bool, args: &[OsString]) -> Result<Summary> {
    let ops = if stdin {
        let [key] = args else {
            return Err(Error::usage("--stdin sets one key")
                .cause(format!("{} arguments given", args.len()))
                .suggest("printf %s \"$SECRET\" | pg-dotenv set --stdin KEY"));
        };
        let key = utf8_arg(key, "key")?;
        check_key(&key)?;
        vec![Op::Set(key, read_stdin_value()?)]
    } else {
        parse_pairs(args)?
    };
    // `--if-empty`: `+DEFAULT` also fills a key that is present but empty.
    let ops: Vec<Op> = ops
        .into_iter()
        .map(|op| match op {
            Op::SetIfAbsent(k, v) if if_empty => Op::SetIfEmpty(k, v),
            other => other,
        })
        .collect();
    for op in &ops {
        if let Op::Set(_, v) | Op::SetIfAbsent(_, v) | Op::SetIfEmpty(_, v) = op {
            if v.contains('\0') {
                return Err(Error::new(Exit::DataErr, "Cannot write the value")
                    .cause("it contains a NUL byte, which no .env reader can represent")
                    .suggest(".env files hold UTF-8 text without NUL bytes: convert or remove the offending bytes")
                    .field("key", op.key()));
            }
        }
    }
    let (changed, added, unchanged, _) = modify(ctx, &ops, true)?.unwrap_or_default();
    Ok(Summary::ok(if changed.is_empty() && added.is_empty() {
        "Nothing to change"
    } else {
        "Keys set"
    })
    .field("filename", ctx.target()?.display().to_string())
    .field("changed", dedup(changed))
    .field("added", dedup(added))
    .field("unchanged", dedup(unchanged)))
}

/// `unset KEY…`.
pub fn unset(ctx: &Ctx, keys: &[String]) -> Result<Summary> {
    for k in keys {
        check_key(k)?;
    }
    let ops: Vec<Op> = keys.iter().map(|k| Op::Unset(k.clone())).collect();
    let file = ctx.target()?.display().to_string();
    match modify(ctx, &ops, false)? {
        None => Ok(Summary::ok("File does not exist; nothing to unset").field("filename", file)),
        Some((_, _, absent, removed)) => Ok(Summary::ok(if removed.is_empty() {
            "Nothing to change"
        } else {
            "Keys unset"
        })
        .field("filename", file)
        .field("removed", dedup(removed))
        .field("absent", dedup(absent))),
    }
}

/// The `generate` character sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Charset {
    /// A-Z a-z 0-9.
    Alnum,
    /// 0-9 a-f.
    Hex,
    /// A-Z a-z 0-9 - _ (URL- and filename-safe).
    Base64url,
}

/// A random secret from the OS CSPRNG, each character drawn uniformly.
pub fn secret(length: usize, charset: Charset) -> String {
    use rand::distributions::{Distribution, Slice};
    let chars: &[u8] = match charset {
        Charset::Alnum => b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
        Charset::Hex => b"0123456789abcdef",
        Charset::Base64url => b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
    };
    match Slice::new(chars) {
        Ok(dist) => dist
            .sample_iter(rand::rngs::OsRng)
            .take(length)
            .map(|&c| c as char)
            .collect(),
        Err(_) => String::new(),
    }
}

/// `generate KEY [--length N] [--charset C] [--print]`.
pub fn generate(
    ctx: &Ctx,
    key: &str,
    length: usize,
    charset: Charset,
    print: bool,
    if_empty: bool,
) -> Result<Summary> {
    check_key(key)?;
    if !(1..=4096).contains(&length) {
        return Err(Error::usage("Invalid length")
            .cause(format!("{length} is not from 1 to 4096"))
            .suggest("Give --length from 1 to 4096 (32 alnum characters hold 190 bits)"));
    }
    let value = secret(length, charset);
    let ops = [if if_empty {
        Op::SetIfEmpty(key.to_string(), value.clone())
    } else {
        Op::SetIfAbsent(key.to_string(), value.clone())
    }];
    let (changed, added, _, _) = modify(ctx, &ops, true)?.unwrap_or_default();
    let file = ctx.target()?.display().to_string();
    let generated = !added.is_empty() || !changed.is_empty();
    if print {
        if generated {
            out::println(&value)?;
        } else {
            let values = ctx.load(Order::EnvFirst)?;
            if let Some(v) = values.get(key) {
                out::println(v)?;
            }
        }
    }
    Ok(Summary::ok(if generated {
        "Secret generated"
    } else {
        "Key already set; left as it is"
    })
    .field("filename", file)
    .field("key", key)
    .field("generated", generated))
}

/// `pgenv [--prefix P]`.
pub fn pgenv(ctx: &Ctx, prefix: &str) -> Result<Summary> {
    let values = ctx.load(Order::EnvFirst)?;
    let (text, source) = pgenv::render(&values, prefix)?;
    out::print(&text)?;
    Ok(Summary::ok("libpq variables printed")
        .field("filename", ctx.shown())
        .field(
            "source",
            match source {
                pgenv::Source::Url(k) => k,
                pgenv::Source::Keys => format!("{prefix}POSTGRES_*"),
            },
        ))
}

/// `run [--override] -- CMD ARGS…`: replaces this process with CMD.
pub fn run(ctx: &Ctx, override_env: bool, cmd: &[OsString]) -> Result<Summary> {
    use std::os::unix::process::CommandExt;
    let values = ctx.load(if override_env {
        Order::FileFirst
    } else {
        Order::EnvFirst
    })?;
    let Some((prog, args)) = cmd.split_first() else {
        return Err(Error::usage("No command given").suggest("pg-dotenv run -- CMD ARGS…"));
    };
    let mut c = std::process::Command::new(prog);
    c.args(args);
    let mut added = 0usize;
    for (k, v) in values.pairs() {
        if override_env || std::env::var_os(k).is_none() {
            c.env(k, v);
            added += 1;
        }
    }
    log::debug(
        "Running the command",
        json!({"program": prog.to_string_lossy(), "variables": added}),
    );
    let e = c.exec();
    let code = match e.kind() {
        std::io::ErrorKind::NotFound => Exit::MissingProgram,
        // As shells: found but not executable (EACCES, ENOEXEC) is 126.
        std::io::ErrorKind::PermissionDenied => Exit::CannotExecute,
        _ if e.raw_os_error() == Some(libc::ENOEXEC) => Exit::CannotExecute,
        _ => Exit::Failure,
    };
    Err(Error::new(code, "Cannot run the command")
        .cause(e)
        .field("program", prog.to_string_lossy().into_owned())
        .suggest("Check the command name and PATH"))
}
