//! What every binary's thin `main` shares: argument parsing with pgkit's exit
//! codes, the logging flags, and the runner that turns a tool's result into
//! the final summary line and the process exit code — in one place.

use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::log::{self, Format, Level};
use crate::{interrupt, out, progress};
use serde_json::{json, Map, Value};
use std::process::ExitCode;
use std::time::Instant;

/// `--log-level` and `--log-format`, flattened into every tool's arguments.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct LogArgs {
    /// Log level: debug, info, warn, error [default: info]
    #[arg(long, env = "LOG_LEVEL", value_name = "LEVEL", global = true)]
    pub log_level: Option<String>,
    /// Log format on stderr: json or text [default: json]
    #[arg(long, env = "LOG_FORMAT", value_name = "FORMAT", global = true)]
    pub log_format: Option<String>,
    /// Progress on stderr for long work: auto (at a terminal, not in CI,
    /// unless the log is JSON by choice), always or never [default: auto]
    #[arg(long, env = "PGKIT_PROGRESS", value_name = "WHEN", global = true)]
    pub progress: Option<String>,
}

impl LogArgs {
    /// Applies the flags to the logger; an invalid value is a configuration
    /// error (78), since it usually comes from the environment.
    pub fn apply(&self) -> Result<()> {
        // From the command line a bad value is a usage error (64); from
        // LOG_LEVEL / LOG_FORMAT a configuration error (78).
        let flag =
            |name: &str| std::env::args().any(|a| a == name || a.starts_with(&format!("{name}=")));
        let bad = |name: &str, var: &str, what: &str| {
            let message = format!("Invalid {}", name.trim_start_matches('-').replace('-', " "));
            if flag(name) {
                Error::usage(message).field("flag", name.to_string())
            } else {
                Error::config(message).field("variable", var.to_string())
            }
            .suggest(format!("Set {var} or {name} to {what}"))
        };
        if let Some(l) = &self.log_level {
            let level: Level = l.parse().map_err(|e: String| {
                bad("--log-level", "LOG_LEVEL", "debug, info, warn or error").cause(e)
            })?;
            log::set_level(level);
        }
        if let Some(f) = &self.log_format {
            let format: Format = f
                .parse()
                .map_err(|e: String| bad("--log-format", "LOG_FORMAT", "json or text").cause(e))?;
            log::set_format(format);
        }
        let mode: progress::Mode = match &self.progress {
            Some(p) => p.parse().map_err(|e: String| {
                bad("--progress", "PGKIT_PROGRESS", "auto, always or never").cause(e)
            })?,
            None => progress::Mode::Auto,
        };
        let json_asked = self
            .log_format
            .as_deref()
            .is_some_and(|f| f.parse() == Ok(Format::Json));
        progress::configure(mode, json_asked);
        Ok(())
    }
}

/// Parses the command line. `--help` and `--version` print to stdout and end
/// the run with 0; a usage error is exit 64 (never clap's 2, which pgkit
/// reserves for "not ready").
pub fn parse<T: clap::Parser>() -> Result<T> {
    parse_from(std::env::args_os())
}

/// As `parse`, but `TOOL --generate-man` (hidden, first argument) prints the
/// tool's man page, built from the clap definition and `extra` (hand-written
/// roff sections: ENVIRONMENT, EXAMPLES...), and `TOOL --generate-completions
/// SHELL` its shell completion script; both end the run with 0. `--help`
/// (not `-h`) ends with the first examples of `extra`'s EXAMPLES section.
pub fn parse_or_man<T: clap::Parser>(extra: &str) -> Result<T> {
    parse_or_man_from(extra, std::env::args_os())
}

/// As `parse_or_man`, from given arguments.
pub fn parse_or_man_from<T, I, A>(extra: &str, args: I) -> Result<T>
where
    T: clap::Parser,
    I: IntoIterator<Item = A>,
    A: Into<std::ffi::OsString> + Clone,
{
    let args: Vec<std::ffi::OsString> = args.into_iter().map(Into::into).collect();
    match args.get(1).and_then(|a| a.to_str()) {
        Some("--generate-man") => {
            let page = crate::manpage::render(T::command(), extra)?;
            out::print(&page)?;
            Err(Error::new(Exit::Ok, "help").quiet())
        }
        Some("--generate-completions") => {
            let Some(shell) = args.get(2).and_then(|a| a.to_str()) else {
                return Err(Error::usage("--generate-completions needs a shell")
                    .suggest("Give bash, zsh or fish"));
            };
            let script = crate::completions::render(T::command(), shell)?;
            out::print(&script)?;
            Err(Error::new(Exit::Ok, "help").quiet())
        }
        _ => parse_inner(args, Some(extra)),
    }
}

/// As `parse`, from given arguments.
pub fn parse_from<T, I, A>(args: I) -> Result<T>
where
    T: clap::Parser,
    I: IntoIterator<Item = A>,
    A: Into<std::ffi::OsString> + Clone,
{
    parse_inner(args.into_iter().map(Into::into).collect(), None)
}

/// Parses `args`; `extra` (a man page's roff sections) gives `--help` its
/// examples.
fn parse_inner<T: clap::Parser>(args: Vec<std::ffi::OsString>, extra: Option<&str>) -> Result<T> {
    use clap::error::ErrorKind;
    remember_env_flags(&T::command(), &args);
    if std::env::var_os(DEBUG_ENV_FLAGS).is_some() {
        return Err(print_env_flags(&T::command()));
    }
    T::try_parse_from(&args).map_err(|e| match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let mut text = e.render().to_string();
            if e.kind() == ErrorKind::DisplayHelp {
                if let Some(extra) = extra {
                    text.push_str(&crate::manpage::help_examples(&T::command(), extra, &args));
                }
            }
            match out::print(&text) {
                Ok(()) => Error::new(Exit::Ok, "help").quiet(),
                Err(e) => e,
            }
        }
        ErrorKind::InvalidValue | ErrorKind::ValueValidation
            if env_source::<T>(&e, &args).is_some() =>
        {
            // The bad value came from the environment, not the command line:
            // a configuration error (78), as DESIGN.md's table says.
            let var = env_source::<T>(&e, &args).unwrap_or_default();
            let text = e.render().to_string();
            let first = text
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("invalid value")
                .trim_start_matches("error: ")
                .to_string();
            Error::config(format!("Invalid value in environment variable {var}"))
                .cause(first)
                .field("variable", var.clone())
                .suggest(format!("Fix or unset {var}"))
        }
        _ => {
            // The usage error is logged as --log-format / --log-level ask,
            // though parsing (which would apply them) failed.
            early_log_flags(&args);
            let text = e.render().to_string();
            let mut err = Error::usage("Invalid usage").cause(clap_cause(&text));
            let usage: Vec<&str> = text
                .lines()
                .skip_while(|l| !l.starts_with("Usage:"))
                .take(1)
                .collect();
            let bin = std::env::args()
                .next()
                .and_then(|a| {
                    std::path::Path::new(&a)
                        .file_name()
                        .map(|f| f.to_string_lossy().into_owned())
                })
                .unwrap_or_else(|| "the tool".into());
            let mut command = bin;
            if let Some(u) = usage.first() {
                let u = u.trim_start_matches("Usage: ");
                err = err.field("usage", u.to_string());
                // `pg-tmp db create [OPTIONS] ...` → the help of `pg-tmp db create`.
                let words: Vec<&str> = u
                    .split_whitespace()
                    .take_while(|w| !w.starts_with(['[', '<', '-']))
                    .collect();
                if !words.is_empty() {
                    command = words.join(" ");
                }
            }
            err.suggest(format!("Run '{command} --help' for the options"))
        }
    })
}

/// The environment variable that supplied the value clap rejected, when the
/// flag itself is not on the command line.
fn env_source<T: clap::CommandFactory>(
    e: &clap::Error,
    args: &[std::ffi::OsString],
) -> Option<String> {
    use clap::error::{ContextKind, ContextValue};
    let ContextValue::String(arg) = e.get(ContextKind::InvalidArg)? else {
        return None;
    };
    let long = arg
        .split_whitespace()
        .next()?
        .strip_prefix("--")?
        .to_string();
    let on_command_line = args.iter().any(|a| {
        let a = a.to_string_lossy();
        a == format!("--{long}") || a.starts_with(&format!("--{long}="))
    });
    if on_command_line {
        return None;
    }
    fn find(cmd: &clap::Command, long: &str) -> Option<String> {
        for a in cmd.get_arguments() {
            if a.get_long() == Some(long) {
                if let Some(env) = a.get_env() {
                    return Some(env.to_string_lossy().into_owned());
                }
            }
        }
        cmd.get_subcommands().find_map(|s| find(s, long))
    }
    let var = find(&T::command(), &long)?;
    std::env::var_os(&var).is_some().then_some(var)
}

/// Test-only: when set, a tool prints its options that read an environment
/// variable (one JSON object a line: `command`, `long`, `env`, `valueName`,
/// `possibleValues`) and exits 0, so tests/robust.rs can try a bad value in
/// every variable of every tool from clap's own definitions. Not part of
/// any tool's interface.
pub const DEBUG_ENV_FLAGS: &str = "PGKIT_DEBUG_ENV_FLAGS";

fn print_env_flags(cmd: &clap::Command) -> Error {
    fn walk(cmd: &clap::Command, path: &mut Vec<String>, out: &mut String) {
        for a in cmd.get_arguments() {
            let (Some(long), Some(var)) = (a.get_long(), a.get_env()) else {
                continue;
            };
            let possible: Vec<String> = a
                .get_possible_values()
                .iter()
                .map(|p| p.get_name().to_string())
                .collect();
            let line = json!({
                "command": path.clone(),
                "long": long,
                "env": var.to_string_lossy(),
                "valueName": a.get_value_names().and_then(|v| v.first()).map(|v| v.to_string()),
                "possibleValues": possible,
                "global": a.is_global_set(),
            });
            out.push_str(&format!("{line}\n"));
        }
        for s in cmd.get_subcommands() {
            path.push(s.get_name().to_string());
            walk(s, path, out);
            path.pop();
        }
    }
    let mut out = String::new();
    walk(cmd, &mut Vec::new(), &mut out);
    match out::print(&out) {
        Ok(()) => Error::new(Exit::Ok, "help").quiet(),
        Err(e) => e,
    }
}

/// An option that can come from the environment: its long flag, short flag
/// and variable.
struct EnvFlag {
    long: String,
    short: Option<char>,
    var: String,
}

/// The parsed command's options with an `env`, and the command line they
/// were parsed from, for `env_blame`.
fn env_flags() -> &'static std::sync::Mutex<(Vec<EnvFlag>, Vec<String>)> {
    static F: std::sync::OnceLock<std::sync::Mutex<(Vec<EnvFlag>, Vec<String>)>> =
        std::sync::OnceLock::new();
    F.get_or_init(|| std::sync::Mutex::new((Vec::new(), Vec::new())))
}

fn remember_env_flags(cmd: &clap::Command, args: &[std::ffi::OsString]) {
    fn walk(cmd: &clap::Command, out: &mut Vec<EnvFlag>) {
        for a in cmd.get_arguments() {
            if let (Some(long), Some(var)) = (a.get_long(), a.get_env()) {
                out.push(EnvFlag {
                    long: long.to_string(),
                    short: a.get_short(),
                    var: var.to_string_lossy().into_owned(),
                });
            }
        }
        for s in cmd.get_subcommands() {
            walk(s, out);
        }
    }
    let mut flags = Vec::new();
    walk(cmd, &mut flags);
    let argv = args
        .iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .take_while(|a| a != "--")
        .collect();
    if let Ok(mut f) = env_flags().lock() {
        *f = (flags, argv);
    }
}

/// Every invalid environment value is a configuration error (78) naming the
/// variable, and the same value given as a flag a usage error (64) naming
/// the flag (issue 16, defect 10) — also when the tool, not clap, found the
/// value invalid and guessed its source wrong. The error is matched to an
/// option by its `flag` or `variable` field, or by a message `Invalid
/// --flag…` / `Invalid VARIABLE…` / `Invalid <long name>…`; the command
/// line then says where the value came from.
fn env_blame(e: Error) -> Error {
    if e.code != Exit::Usage && e.code != Exit::Config {
        return e;
    }
    let Ok(guard) = env_flags().lock() else {
        return e;
    };
    let (flags, argv) = &*guard;
    let field = |k: &str| e.fields.get(k).and_then(Value::as_str).map(str::to_string);
    let subject = e.message.strip_prefix("Invalid ").map(|m| {
        m.trim_end_matches(" value")
            .trim_end_matches([':', ','])
            .to_string()
    });
    let flag = flags.iter().find(|f| {
        field("flag").is_some_and(|x| x == format!("--{}", f.long))
            || field("variable").is_some_and(|x| x == f.var)
            || subject.as_deref().is_some_and(|s| {
                s == format!("--{}", f.long)
                    || s.starts_with(&format!("--{} ", f.long))
                    || s == f.var
                    || s == f.long.replace('-', " ")
            })
    });
    let Some(flag) = flag else {
        return e;
    };
    let long = &flag.long;
    let on_command_line = argv.iter().any(|a| {
        a == &format!("--{long}")
            || a.starts_with(&format!("--{long}="))
            || flag
                .short
                .is_some_and(|c| a.starts_with('-') && !a.starts_with("--") && a[1..].contains(c))
    });
    let var = flag.var.clone();
    let from_env = !on_command_line && std::env::var_os(&var).is_some();
    let mut out = match (e.code, on_command_line, from_env) {
        (Exit::Usage, _, true) => {
            Error::config(format!("Invalid value in environment variable {var}"))
        }
        (Exit::Config, true, _) => Error::usage(format!("Invalid --{long}")),
        (Exit::Config, _, true) if !e.message.contains(&var) => {
            Error::config(format!("Invalid value in environment variable {var}"))
        }
        (Exit::Config, _, true) => Error::config(e.message.clone()),
        _ => return e,
    };
    out.error = e.error;
    for (k, v) in e.fields {
        if k != "flag" && k != "variable" {
            out.fields.insert(k, v);
        }
    }
    if out.code == Exit::Config {
        out.fields.insert("variable".into(), json!(var));
    } else {
        out.fields.insert("flag".into(), json!(format!("--{long}")));
    }
    out.suggestion = match (e.suggestion, out.code) {
        (Some(s), _) if s.contains(&var) => Some(s),
        (Some(s), Exit::Config) => Some(format!("Fix or unset {var}: {s}")),
        (None, Exit::Config) => Some(format!("Fix or unset {var}")),
        (s, _) => s,
    };
    out
}

/// Applies valid `--log-format`/`--log-level` values found among `args`
/// (before `--`), `--flag value` or `--flag=value`; anything else is left
/// to the parser's error.
fn early_log_flags(args: &[std::ffi::OsString]) {
    let args: Vec<&str> = args
        .iter()
        .skip(1)
        .map_while(|a| a.to_str())
        .take_while(|a| *a != "--")
        .collect();
    let value = |flag: &str| {
        args.iter()
            .enumerate()
            .find_map(|(i, a)| match a.strip_prefix(flag) {
                Some("") => args.get(i + 1).copied(),
                Some(rest) => rest.strip_prefix('='),
                None => None,
            })
    };
    if let Some(f) = value("--log-format").and_then(|v| v.parse().ok()) {
        log::set_format(f);
    }
    if let Some(l) = value("--log-level").and_then(|v| v.parse().ok()) {
        log::set_level(l);
    }
}

/// The first line of a rendered clap error, without `error: `; when it ends
/// with a colon (`the following required arguments were not provided:`),
/// with the indented lines that follow it (`<CMD>...`).
fn clap_cause(text: &str) -> String {
    let mut lines = text.lines().skip_while(|l| l.trim().is_empty());
    let mut cause = lines
        .next()
        .unwrap_or("invalid usage")
        .trim_start_matches("error: ")
        .trim_end()
        .to_string();
    if cause.ends_with(':') {
        let more: Vec<&str> = lines
            .take_while(|l| l.starts_with(' ') && !l.trim().is_empty())
            .map(str::trim)
            .collect();
        if !more.is_empty() {
            cause.push(' ');
            cause.push_str(&more.join(", "));
        }
    }
    cause
}

/// What a successful run reports in its summary line.
#[derive(Debug, Clone)]
pub struct Summary {
    /// The exit code (a success may still exit non-zero, e.g. `status --exit-code`).
    pub code: Exit,
    /// The summary line's message.
    pub message: String,
    /// The summary line's level.
    pub level: Level,
    /// Extra fields, before `exitCode` and `durationMs`.
    pub fields: Map<String, Value>,
    /// When set, nothing is logged (HEALTHCHECK mode is silent on success).
    pub quiet: bool,
}

impl Summary {
    /// A success with a message.
    pub fn ok(message: impl Into<String>) -> Self {
        Summary {
            code: Exit::Ok,
            message: message.into(),
            level: Level::Info,
            fields: Map::new(),
            quiet: false,
        }
    }

    /// Sets the exit code.
    pub fn code(mut self, code: Exit) -> Self {
        self.code = code;
        self
    }

    /// Sets the level.
    pub fn level(mut self, level: Level) -> Self {
        self.level = level;
        self
    }

    /// Adds a field.
    pub fn field(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.fields.insert(key.to_string(), value.into());
        self
    }

    /// Logs nothing.
    pub fn quiet(mut self) -> Self {
        self.quiet = true;
        self
    }
}

/// Runs a tool: names the logger, installs the signal handlers, runs `body`,
/// logs the final line (with `exitCode` and `durationMs`) and returns the exit
/// code. Each binary's `main` is one call to this.
pub fn run(tool: &str, body: impl FnOnce() -> Result<Summary>) -> ExitCode {
    let start = Instant::now();
    log::init(tool);
    crate::panic::install();
    if let Err(e) = interrupt::install() {
        log::warn(
            "Cannot install signal handlers",
            json!({"error": e.to_string()}),
        );
    }
    // A panic on the main thread unwinds to here (guards clean up on the
    // way) and ends the run with one JSON line and 70 (see `panic`).
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        crate::panic::debug_hook();
        body()
    }));
    let result = match result {
        Ok(r) => r,
        Err(_) => return crate::panic::caught().into(),
    };
    let duration_ms = start.elapsed().as_millis() as u64;
    let code = match result {
        Ok(s) => {
            if !s.quiet {
                let mut fields = s.fields;
                fields.insert("exitCode".into(), json!(s.code.code()));
                fields.insert("durationMs".into(), json!(duration_ms));
                log::event(s.level, &s.message, Value::Object(fields));
            }
            s.code
        }
        Err(mut e) => {
            // One code for permission and read-only file system errors in
            // every tool (77), also where a tool built its error from the
            // I/O error's text with the general code 1.
            // (HEALTHCHECK mode answers only 0 or 1: nothing is remapped.)
            if !healthcheck_mode() {
                if e.code == Exit::Failure
                    && e.error
                        .as_deref()
                        .is_some_and(crate::error::names_permission)
                {
                    e.code = Exit::NoPerm;
                }
                e = env_blame(e);
            }
            report(&e, duration_ms);
            e.code
        }
    };
    code.into()
}

/// HEALTHCHECK mode (`pg-wait --healthcheck`): the run answers only 0 or 1,
/// a panic included (Docker reserves 2). Called from the tool's `main`.
pub fn healthcheck() {
    crate::panic::exit_code(Exit::Failure);
}

fn healthcheck_mode() -> bool {
    crate::panic::code() == Exit::Failure
}

/// Logs an error as the run's final line.
pub fn report(e: &Error, duration_ms: u64) {
    if e.quiet {
        if e.code != Exit::Ok || e.message != "help" {
            log::debug(
                &e.message,
                json!({"exitCode": e.code.code(), "durationMs": duration_ms}),
            );
        }
        return;
    }
    let mut fields = e.log_fields();
    fields.insert("exitCode".into(), json!(e.code.code()));
    fields.insert("durationMs".into(), json!(duration_ms));
    let level = if e.code == Exit::Ok {
        Level::Info
    } else {
        Level::Error
    };
    log::event(level, &e.message, Value::Object(fields));
}

/// Parses a boolean from the environment the DESIGN way: true/false/1/0/yes/no
/// (and on/off), case-insensitive.
pub fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "y" | "on" => Some(true),
        "false" | "0" | "no" | "n" | "off" | "" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(clap::Parser, Debug)]
    #[command(name = "t", version)]
    struct T {
        #[arg(long)]
        n: u32,
    }

    #[test]
    fn usage_errors_are_64() {
        let e = parse_from::<T, _, _>(["t", "--n", "x"]).err();
        assert_eq!(e.map(|e| e.code), Some(Exit::Usage));
        let e = parse_from::<T, _, _>(["t", "--bogus"]).err();
        assert_eq!(e.map(|e| e.code), Some(Exit::Usage));
    }

    #[derive(clap::Parser, Debug)]
    #[command(name = "t")]
    struct E {
        #[arg(long, env = "PGKIT_CLI_TEST_N")]
        n: Option<u32>,
    }

    #[test]
    fn a_bad_value_from_the_environment_is_78_and_from_a_flag_64() {
        std::env::set_var("PGKIT_CLI_TEST_N", "abc");
        let e = parse_from::<E, _, _>(["t"]).err();
        assert_eq!(e.as_ref().map(|e| e.code), Some(Exit::Config));
        assert_eq!(
            e.map(|e| e.message),
            Some("Invalid value in environment variable PGKIT_CLI_TEST_N".into())
        );
        let e = parse_from::<E, _, _>(["t", "--n", "x"]).err();
        assert_eq!(e.map(|e| e.code), Some(Exit::Usage));
        std::env::remove_var("PGKIT_CLI_TEST_N");
    }

    #[derive(clap::Parser, Debug)]
    #[command(name = "t")]
    struct R {
        #[arg(long, required = true)]
        name: String,
        #[arg(last = true, required = true)]
        cmd: Vec<String>,
    }

    #[test]
    fn a_missing_argument_is_named_in_the_cause() {
        let e = parse_from::<R, _, _>(["t"]).err();
        let cause = e.and_then(|e| e.error).unwrap_or_default();
        assert!(
            cause.starts_with("the following required arguments were not provided:")
                && cause.contains("--name <NAME>")
                && cause.contains("<CMD>"),
            "{cause}"
        );
        let e = parse_from::<T, _, _>(["t", "--bogus"]).err();
        assert_eq!(
            e.and_then(|e| e.error).as_deref(),
            Some("unexpected argument '--bogus' found")
        );
    }

    #[test]
    fn booleans() {
        for t in ["true", "1", "YES", "on"] {
            assert_eq!(parse_bool(t), Some(true));
        }
        for f in ["false", "0", "no", "OFF"] {
            assert_eq!(parse_bool(f), Some(false));
        }
        assert_eq!(parse_bool("maybe"), None);
    }
}
