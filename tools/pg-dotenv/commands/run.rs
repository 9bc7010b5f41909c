//! `run [--override] -- CMD ARGS…`: replaces this process with CMD, the
//! file's values in its environment.

use super::Ctx;
use crate::cli::RunArgs;
use crate::read::Order;
use pgkit::cli::Summary;
use pgkit::{log, Error, Exit, Result};
use serde_json::json;

/// Runs `run`: returns only when CMD cannot be started.
pub fn run(ctx: &Ctx, a: &RunArgs) -> Result<Summary> {
    use std::os::unix::process::CommandExt;
    let values = ctx.load(if a.override_env {
        Order::FileFirst
    } else {
        Order::EnvFirst
    })?;
    let Some((prog, args)) = a.cmd.split_first() else {
        return Err(Error::usage("No command given").suggest("pg-dotenv run -- CMD ARGS…"));
    };
    let mut c = std::process::Command::new(prog);
    c.args(args);
    let mut added = 0usize;
    for (k, v) in values.pairs() {
        if a.override_env || std::env::var_os(k).is_none() {
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
