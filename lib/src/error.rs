//! The error every pgkit operation returns: an exit code, what happened, and
//! where we know it, what to do next. `cli::run` turns it into the final log
//! line and the process exit code, in one place.

use crate::exit::Exit;
use serde_json::{Map, Value};
use std::fmt;

/// A failure with its exit code, message and optional details.
#[derive(Debug, Clone)]
pub struct Error {
    /// The exit code the process ends with.
    pub code: Exit,
    /// The log line's `message`: what failed, in a few words.
    pub message: String,
    /// The log line's `error`: the underlying cause, when there is one.
    pub error: Option<String>,
    /// The log line's `suggestion`: what the operator should do next.
    pub suggestion: Option<String>,
    /// Further event fields (camelCase keys), in order.
    pub fields: Map<String, Value>,
    /// When set, no error line is logged (e.g. `pg-dotenv get` on a missing key
    /// or a closed stdout), only the summary.
    pub quiet: bool,
}

/// The result type of pgkit operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A new error with an exit code and a message.
    pub fn new(code: Exit, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
            error: None,
            suggestion: None,
            fields: Map::new(),
            quiet: false,
        }
    }

    /// A usage error (64).
    pub fn usage(message: impl Into<String>) -> Self {
        Error::new(Exit::Usage, message)
    }

    /// A configuration error (78).
    pub fn config(message: impl Into<String>) -> Self {
        Error::new(Exit::Config, message)
    }

    /// Sets the underlying cause (`error` field).
    pub fn cause(mut self, e: impl fmt::Display) -> Self {
        self.error = Some(e.to_string());
        self
    }

    /// Sets the suggestion.
    pub fn suggest(mut self, s: impl Into<String>) -> Self {
        self.suggestion = Some(s.into());
        self
    }

    /// Adds an event field.
    pub fn field(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.fields.insert(key.to_string(), value.into());
        self
    }

    /// Marks the error as already reported: only the summary line is logged.
    pub fn quiet(mut self) -> Self {
        self.quiet = true;
        self
    }

    /// The log line's fields: `error`, the event fields, `suggestion`.
    pub fn log_fields(&self) -> Map<String, Value> {
        let mut fields = Map::new();
        if let Some(err) = &self.error {
            fields.insert("error".into(), Value::from(err.as_str()));
        }
        for (k, v) in &self.fields {
            fields.insert(k.clone(), v.clone());
        }
        if let Some(sg) = &self.suggestion {
            fields.insert("suggestion".into(), Value::from(sg.as_str()));
        }
        fields
    }

    /// Logs the error as an error line, as the final line would say it
    /// (without `exitCode`), for a failure that does not end the run.
    pub fn log(&self) {
        if !self.quiet {
            crate::log::error(&self.message, Value::Object(self.log_fields()));
        }
    }

    /// An I/O error on a path, with the exit code the kind of failure deserves:
    /// a missing input is 66, a permission or read-only file system error 77
    /// (one code for it in every tool, issue 16), anything else the given code.
    pub fn io(code: Exit, what: &str, path: &std::path::Path, e: &std::io::Error) -> Self {
        let code = if is_permission(e) {
            Exit::NoPerm
        } else if e.kind() == std::io::ErrorKind::NotFound && code != Exit::Failure {
            Exit::NoInput
        } else {
            code
        };
        Error::new(code, format!("Cannot {what} {}", path.display()))
            .cause(e)
            .field("path", path.display().to_string())
    }
}

/// Whether an I/O error is a permission (EACCES, EPERM) or read-only file
/// system (EROFS) error: exit 77 in every tool.
pub fn is_permission(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem
    ) || matches!(
        e.raw_os_error(),
        Some(libc::EACCES | libc::EPERM | libc::EROFS)
    )
}

/// Whether an error's text carries a permission or read-only file system
/// error from the OS (`Permission denied (os error 13)`): the net `cli::run`
/// casts under errors built from an I/O error's text rather than with
/// `Error::io`.
pub fn names_permission(text: &str) -> bool {
    [libc::EACCES, libc::EPERM, libc::EROFS]
        .iter()
        .any(|n| text.contains(&format!("(os error {n})")))
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(e) = &self.error {
            write!(f, ": {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

impl From<Exit> for Error {
    fn from(code: Exit) -> Self {
        Error::new(code, code.meaning())
    }
}
