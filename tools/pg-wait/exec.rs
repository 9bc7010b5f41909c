//! `pg-wait -- CMD ARGS…`: once ready, replace the process with the command,
//! so it gets the PID and the signals.

use pgkit::cli::Summary;
use pgkit::{log, Error, Exit, Result};
use serde_json::{Map, Value};
use std::os::unix::process::CommandExt;

/// Logs the ready line (with `exitCode` 0: pg-wait's own part succeeded), then
/// execs `argv`. Returns only when the exec fails: 127 when the command is
/// not found, 1 otherwise.
pub fn exec(argv: &[String], ready: Summary) -> Result<Summary> {
    let (prog, args) = argv
        .split_first()
        .ok_or_else(|| Error::usage("Invalid usage").cause("no command after --"))?;
    let mut fields: Map<String, Value> = ready.fields;
    fields.insert("exitCode".into(), Value::from(0));
    log::info(&ready.message, Value::Object(fields));
    let e = std::process::Command::new(prog).args(args).exec();
    let code = if e.kind() == std::io::ErrorKind::NotFound {
        Exit::MissingProgram
    } else {
        Exit::Failure
    };
    Err(Error::new(code, "Cannot run the command")
        .cause(&e)
        .field("command", prog.clone())
        .suggest(if code == Exit::MissingProgram {
            "Check the command name and PATH"
        } else {
            "Check the command's permissions (chmod +x)"
        }))
}
