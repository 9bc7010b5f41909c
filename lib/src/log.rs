//! JSON lines on stderr (DESIGN.md, "Logging").
//!
//! Each event is one line, flushed as it is written:
//! `{"timestamp":"…Z","level":"info","tool":"pg-migrate","message":"…",…}` —
//! the fixed keys first, then the event's own camelCase fields in the order
//! given. `LOG_LEVEL` filters, `LOG_FORMAT=text` prints the same events as
//! plain lines for a person. Registered secrets are scrubbed from every line.

use crate::redact;
use serde_json::{Map, Value};
use std::io::Write;
use std::str::FromStr;
use std::sync::{Mutex, OnceLock};

/// A log level, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Level {
    /// Details for debugging.
    Debug,
    /// Normal progress.
    Info,
    /// Something went wrong but the run goes on (a retry, a skipped file).
    Warn,
    /// The run failed.
    Error,
}

impl Level {
    /// The name used in the `level` key.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

impl FromStr for Level {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "debug" | "trace" => Ok(Level::Debug),
            "info" => Ok(Level::Info),
            "warn" | "warning" => Ok(Level::Warn),
            "error" => Ok(Level::Error),
            _ => Err(format!(
                "invalid log level {s:?} (expected debug, info, warn or error)"
            )),
        }
    }
}

/// The output format of the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One JSON object per line (the default).
    Json,
    /// Plain lines for a person at a terminal.
    Text,
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "json" => Ok(Format::Json),
            "text" | "plain" => Ok(Format::Text),
            _ => Err(format!("invalid log format {s:?} (expected json or text)")),
        }
    }
}

struct Logger {
    tool: String,
    level: Level,
    format: Format,
}

fn logger() -> &'static Mutex<Logger> {
    static L: OnceLock<Mutex<Logger>> = OnceLock::new();
    L.get_or_init(|| {
        Mutex::new(Logger {
            tool: String::from("pgkit"),
            level: std::env::var("LOG_LEVEL")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(Level::Info),
            format: std::env::var("LOG_FORMAT")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(Format::Json),
        })
    })
}

/// Names the tool for the `tool` key. Level and format start from `LOG_LEVEL`
/// and `LOG_FORMAT` (invalid values fall back to the defaults here; `cli`
/// reports them as configuration errors).
pub fn init(tool: &str) {
    if let Ok(mut l) = logger().lock() {
        l.tool = tool.to_string();
    }
}

/// Sets the level (from `--log-level`).
pub fn set_level(level: Level) {
    if let Ok(mut l) = logger().lock() {
        l.level = level;
    }
}

/// Sets the format (from `--log-format`).
pub fn set_format(format: Format) {
    if let Ok(mut l) = logger().lock() {
        l.format = format;
    }
}

/// The current format.
pub fn format() -> Format {
    logger().lock().map(|l| l.format).unwrap_or(Format::Json)
}

/// Whether events at `level` are written.
pub fn enabled(level: Level) -> bool {
    logger().lock().map(|l| level >= l.level).unwrap_or(true)
}

/// The current time as RFC 3339, UTC, milliseconds: `2025-10-30T10:15:30.123Z`.
pub fn timestamp() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// Renders one event as a JSON line (without the newline).
pub fn render_json(tool: &str, level: Level, message: &str, fields: &Map<String, Value>) -> String {
    let mut m = Map::new();
    m.insert("timestamp".into(), Value::String(timestamp()));
    m.insert("level".into(), Value::String(level.as_str().into()));
    m.insert("tool".into(), Value::String(tool.into()));
    m.insert("message".into(), Value::String(message.into()));
    for (k, v) in fields {
        if !matches!(k.as_str(), "timestamp" | "level" | "tool" | "message") {
            m.insert(k.clone(), v.clone());
        }
    }
    Value::Object(m).to_string()
}

/// Renders one event as a plain text line (without the newline).
pub fn render_text(level: Level, message: &str, fields: &Map<String, Value>) -> String {
    let mut s = format!(
        "{} {:<5} {}",
        &timestamp()[11..23],
        level.as_str().to_ascii_uppercase(),
        message
    );
    for (k, v) in fields {
        match v {
            Value::String(t) if !t.contains(char::is_whitespace) && !t.is_empty() => {
                s.push_str(&format!(" {k}={t}"))
            }
            other => s.push_str(&format!(" {k}={other}")),
        }
    }
    s
}

thread_local! {
    /// Fields every event of this thread carries after the fixed keys (a
    /// fleet run's `target`): see [`tag`].
    static CONTEXT: std::cell::RefCell<Map<String, Value>> = std::cell::RefCell::new(Map::new());
}

/// Tags every event this thread writes with `fields` (after the fixed keys,
/// before the event's own) until the guard is dropped: a fleet run's worker
/// tags everything one target's run logs with that target. Threads a run
/// spawns take the tags along with [`context`] and [`tag`].
pub fn tag(fields: Map<String, Value>) -> TagGuard {
    let before = CONTEXT.with(|c| std::mem::replace(&mut *c.borrow_mut(), fields));
    TagGuard { before }
}

/// This thread's tags (to hand to a thread it spawns).
pub fn context() -> Map<String, Value> {
    CONTEXT.with(|c| c.borrow().clone())
}

/// Restores the thread's previous tags when dropped.
#[must_use = "the tags are removed when the guard is dropped"]
pub struct TagGuard {
    before: Map<String, Value>,
}

impl Drop for TagGuard {
    fn drop(&mut self) {
        let before = std::mem::take(&mut self.before);
        CONTEXT.with(|c| *c.borrow_mut() = before);
    }
}

/// Writes one event, if its level is enabled. `fields` should be a JSON object
/// (`serde_json::json!({...})`); anything else is logged under `data`.
pub fn event(level: Level, message: &str, fields: Value) {
    // A panic while the lock was held must not silence the run's last line
    // (see `panic`): a poisoned logger is still a usable logger.
    let l = logger().lock().unwrap_or_else(|e| e.into_inner());
    if level < l.level {
        return;
    }
    let own = match fields {
        Value::Object(m) => m,
        Value::Null => Map::new(),
        other => {
            let mut m = Map::new();
            m.insert("data".into(), other);
            m
        }
    };
    let mut fields = context();
    fields.extend(own);
    // Secrets are scrubbed from the message and the field values, before
    // they are escaped for JSON; the keys and fixed values stay as they are.
    fields.values_mut().for_each(redact::scrub_value);
    let message = redact::scrub(message);
    let mut line = match l.format {
        Format::Json => render_json(&l.tool, level, &message, &fields),
        Format::Text => render_text(level, &message, &fields),
    };
    line.push('\n');
    // The log is best effort: a closed stderr must not fail the tool. A
    // progress line on screen is cleared first and redrawn after.
    crate::progress::suspend(|| {
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(line.as_bytes());
        let _ = err.flush();
    });
}

/// Logs at debug.
pub fn debug(message: &str, fields: Value) {
    event(Level::Debug, message, fields)
}

/// Logs at info.
pub fn info(message: &str, fields: Value) {
    event(Level::Info, message, fields)
}

/// Logs at warn.
pub fn warn(message: &str, fields: Value) {
    event(Level::Warn, message, fields)
}

/// Logs at error.
pub fn error(message: &str, fields: Value) {
    event(Level::Error, message, fields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fixed_keys_first_then_fields_in_order() {
        let Value::Object(f) = json!({"filename": "001_a.up.sql", "durationMs": 12, "attempt": 1})
        else {
            unreachable!()
        };
        let line = render_json("pg-migrate", Level::Info, "Migration applied", &f);
        let v: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
        let keys: Vec<&String> = v
            .as_object()
            .map(|m| m.keys().collect())
            .unwrap_or_default();
        assert_eq!(
            keys,
            vec![
                "timestamp",
                "level",
                "tool",
                "message",
                "filename",
                "durationMs",
                "attempt"
            ]
        );
        assert_eq!(v["level"], "info");
        assert_eq!(v["tool"], "pg-migrate");
        let ts = v["timestamp"].as_str().unwrap_or("");
        assert_eq!(ts.len(), 24, "{ts}");
        assert!(ts.ends_with('Z') && ts.as_bytes()[19] == b'.');
        assert!(chrono::DateTime::parse_from_rfc3339(ts).is_ok());
    }

    #[test]
    fn fields_cannot_override_fixed_keys() {
        let Value::Object(f) = json!({"level": "x", "message": "y"}) else {
            unreachable!()
        };
        let v: Value =
            serde_json::from_str(&render_json("t", Level::Warn, "m", &f)).unwrap_or(Value::Null);
        assert_eq!(v["level"], "warn");
        assert_eq!(v["message"], "m");
    }

    #[test]
    fn levels_parse_and_order() {
        assert_eq!("WARN".parse::<Level>(), Ok(Level::Warn));
        assert!("loud".parse::<Level>().is_err());
        assert!(Level::Debug < Level::Info && Level::Warn < Level::Error);
        assert_eq!("text".parse::<Format>(), Ok(Format::Text));
    }

    #[test]
    fn text_format_is_one_plain_line() {
        let Value::Object(f) = json!({"filename": "a b", "attempt": 2}) else {
            unreachable!()
        };
        let line = render_text(Level::Info, "Hello", &f);
        assert!(
            line.contains("INFO  Hello attempt=2") || line.contains("filename=\"a b\" attempt=2"),
            "{line}"
        );
        assert!(!line.contains('\n'));
    }
}
