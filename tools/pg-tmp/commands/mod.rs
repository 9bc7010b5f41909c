//! pg-tmp's subcommands, one file each; the logic they share lives in the
//! modules beside `commands/` (`throwaway`, `registry`, `sweep`,
//! `template`, `ttl`, `binaries`).

mod db_create;
mod db_drop;
mod db_prune;
mod env;
mod install;
mod prune;
mod run;
mod start;
mod stop;
mod ttl_watch;
mod versions;

use crate::cli::{Cli, Cmd, DbCmd};
use pgkit::cli::Summary;
use pgkit::Result;
use std::process::ExitCode;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Instant;

/// `run`'s exit code: CMD's own, which the shared exit-code table cannot
/// name (-1: none).
static COMMAND_CODE: AtomicI32 = AtomicI32::new(-1);

/// Runs the command the command line names.
pub fn run(cli: Cli, started: Instant) -> Result<Summary> {
    match cli.cmd {
        Cmd::Start(a) => start::run(a),
        Cmd::Stop(a) => stop::run(a),
        Cmd::Env(a) => env::run(a),
        Cmd::Prune(a) => prune::run(a),
        Cmd::Run(a) => {
            let c = run::run(a, started)?;
            COMMAND_CODE.store(c, Ordering::SeqCst);
            // run logged its own summary line, with CMD's code.
            Ok(Summary::ok("Command finished").quiet())
        }
        Cmd::Db(DbCmd::Create(a)) => db_create::run(a),
        Cmd::Db(DbCmd::Drop(a)) => db_drop::run(a),
        Cmd::Db(DbCmd::Prune(a)) => db_prune::run(a),
        Cmd::Install(a) => install::run(a),
        Cmd::Versions(a) => versions::run(a),
        Cmd::TtlWatch(a) => ttl_watch::run(a),
    }
}

/// The process's exit code: `run`'s CMD's own when it ran, else the
/// table's `code`.
pub fn exit_code(code: ExitCode) -> ExitCode {
    match COMMAND_CODE.load(Ordering::SeqCst) {
        -1 => code,
        c => ExitCode::from(c.clamp(0, 255) as u8),
    }
}
