//! `run`: start a server, migrate, seed, run CMD against it, stop and delete
//! the server, and exit with CMD's code — whatever happens to CMD or to us.
//!
//! The server has the library's watchdog: if pg-tmp itself is killed
//! (SIGKILL, a second Ctrl-C), the watchdog still stops and deletes it.

use crate::cli::RunArgs;
use crate::{throwaway, util};
use pgkit::conn::Settings;
use pgkit::server::TempServer;
use pgkit::{interrupt, log, Error, Exit, Result};
use serde_json::json;
use std::ffi::OsStr;
use std::process::Command;
use std::time::Instant;

/// Returns CMD's exit code (128+signal when it was killed), or 130/143 when
/// we were interrupted and CMD died of the forwarded signal.
pub fn run(mut args: RunArgs, started: Instant) -> Result<i32> {
    args.server.dir = args.server.dir.map(|d| util::absolute(&d));
    if throwaway::existing_server(args.server.dir.as_deref())?.is_some() {
        return Err(Error::usage("The --dir directory holds a server already")
            .suggest("pg-tmp run makes a new server; give a new or empty --dir"));
    }
    for (flag, dir) in [("--migrations", &args.migrations), ("--seeds", &args.seeds)] {
        if let Some(d) = dir {
            if !d.is_dir() {
                return Err(Error::new(
                    Exit::NoInput,
                    format!("The {flag} directory does not exist"),
                )
                .field("dir", d.display().to_string())
                .suggest(format!("Check the path given to {flag}")));
            }
        }
    }
    let mut opts = throwaway::options(&args.server)?;
    // Unlike `start`, the server must not outlive us, even if we are killed.
    opts.no_watchdog = false;
    let tls = opts.tls;
    let server = throwaway::create_and_start(opts)?;
    let url = throwaway::server_url(&server, "postgres", tls);
    let settings = tcp_settings(&server, tls)?;
    let mut fields = json!({
        "dir": server.base_dir().display().to_string(),
        "port": server.port(),
    });
    if let Some(ca) = server.ca_cert() {
        fields["caCert"] = json!(ca.display().to_string());
    }
    log::info("Server started", fields);
    if let Some(d) = &args.migrations {
        step(
            &server,
            "pg-migrate",
            &[OsStr::new("up"), OsStr::new("--dir"), d.as_os_str()],
            &settings,
            Exit::Migration,
        )?;
    }
    if let Some(d) = &args.seeds {
        step(
            &server,
            "pg-seed",
            &[OsStr::new("--dir"), d.as_os_str()],
            &settings,
            Exit::Seed,
        )?;
    }
    interrupt::check()?;

    let (prog, rest) = args
        .cmd
        .split_first()
        .ok_or_else(|| Error::usage("Give the command to run after --"))?;
    let mut cmd = Command::new(prog);
    cmd.args(rest)
        .env("PATH", crate::binaries::path_with(server.bindir()));
    for v in util::STALE_VARS {
        cmd.env_remove(v);
    }
    cmd.env("DATABASE_URL", &url);
    for (k, v) in util::child_env(&settings) {
        if k != "DATABASE_URL" {
            cmd.env(k, v);
        }
    }
    let status = util::run_forwarding(cmd, &prog.to_string_lossy());
    // Whatever CMD did, the server goes.
    let cleanup = server.stop_and_remove();
    let status = status?;
    cleanup?;
    let code = util::shell_code(&status);
    let code = match interrupt::received() {
        // CMD died of the signal we forwarded: report our interruption.
        Some(e) if status.code().is_none() => e.code(),
        _ => code,
    };
    let fields = json!({"exitCode": code, "durationMs": started.elapsed().as_millis() as u64});
    if code == 0 {
        log::info("Command succeeded", fields);
    } else {
        log::warn("Command failed", fields);
    }
    Ok(code)
}

/// Runs a sibling tool; its failure is ours, with `code`.
fn step(
    server: &TempServer,
    tool: &str,
    args: &[&OsStr],
    settings: &Settings,
    code: Exit,
) -> Result<()> {
    interrupt::check()?;
    let status = util::run_tool(tool, args, settings)?;
    interrupt::check()?;
    if !status.success() {
        let what = if code == Exit::Migration {
            "Migrations failed"
        } else {
            "Seeds failed"
        };
        return Err(Error::new(code, what)
            .field("tool", tool)
            .field("toolExitCode", util::shell_code(&status))
            .field("dir", server.base_dir().display().to_string())
            .suggest(format!("See {tool}'s log lines above")));
    }
    Ok(())
}

/// Settings for the server over TCP (as its URL says), for child processes.
fn tcp_settings(server: &TempServer, tls: bool) -> Result<Settings> {
    let mut kv = std::collections::HashMap::new();
    kv.insert("host".to_string(), "127.0.0.1".to_string());
    kv.insert("port".to_string(), server.port().to_string());
    kv.insert("user".to_string(), pgkit::server::SUPERUSER.to_string());
    kv.insert("dbname".to_string(), "postgres".to_string());
    kv.insert(
        "sslmode".to_string(),
        if tls { "require" } else { "disable" }.to_string(),
    );
    if let Some(ca) = server.ca_cert() {
        kv.insert("sslrootcert".to_string(), ca.display().to_string());
    }
    if let Some(p) = server.password() {
        kv.insert("password".to_string(), p.to_string());
    }
    Settings::from_keywords(&kv, "pg-tmp", &pgkit::conn::Env::default())
}
