//! pg-tmp: a throwaway PostgreSQL server, and fresh migrated databases from a
//! template, in one command.

mod cli;
mod install;
mod postmaster;
mod registry;
mod run;
mod sweep;
mod template;
mod throwaway;
mod ttl;
mod util;

use cli::{Cli, Cmd, DbCmd};
use std::process::ExitCode;
use std::sync::atomic::{AtomicI32, Ordering};

/// `run`'s exit code: CMD's own, which the shared exit-code table cannot
/// name (-1: none).
static COMMAND_CODE: AtomicI32 = AtomicI32::new(-1);

fn main() -> ExitCode {
    let started = std::time::Instant::now();
    let code = pgkit::cli::run("pg-tmp", || {
        let cli: Cli = pgkit::cli::parse_or_man(include_str!("man.roff"))?;
        cli.log.apply()?;
        match cli.cmd {
            Cmd::Start(a) => throwaway::start(a),
            Cmd::Stop(a) => throwaway::stop(a),
            Cmd::Env(a) => throwaway::env(a),
            Cmd::Prune(a) => sweep::prune(a),
            Cmd::Run(a) => {
                let c = run::run(a, started)?;
                COMMAND_CODE.store(c, Ordering::SeqCst);
                // run logged its own summary line, with CMD's code.
                Ok(pgkit::cli::Summary::ok("Command finished").quiet())
            }
            Cmd::Db(DbCmd::Create(a)) => template::create(a),
            Cmd::Db(DbCmd::Drop(a)) => template::drop(a),
            Cmd::Db(DbCmd::Prune(a)) => template::prune(a),
            Cmd::Install(a) => install::install(a),
            Cmd::Versions(a) => install::versions(a),
            Cmd::TtlWatch(a) => ttl::watch(a),
        }
    });
    match COMMAND_CODE.load(Ordering::SeqCst) {
        -1 => code,
        c => ExitCode::from(c.clamp(0, 255) as u8),
    }
}
