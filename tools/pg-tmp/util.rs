//! What the subcommands share: finding the sibling tools, URLs from settings,
//! running child processes with signals forwarded.

use pgkit::conn::Settings;
use pgkit::{interrupt, Error, Exit, Result};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};
use std::sync::{Arc, Mutex};

/// Finds a sibling pgkit tool (`pg-migrate`, `pg-seed`): in `$PGKIT_BIN`,
/// then beside the running binary, then on `PATH`.
pub fn sibling(name: &str) -> Result<PathBuf> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Some(d) = std::env::var_os("PGKIT_BIN").filter(|v| !v.is_empty()) {
        dirs.push(PathBuf::from(d));
    }
    if let Some(d) = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
    {
        dirs.push(d);
    }
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    for d in dirs {
        let p = d.join(name);
        if is_executable(&p) {
            return Ok(p);
        }
    }
    Err(Error::new(Exit::MissingProgram, format!("{name} not found"))
        .cause(format!(
            "no executable {name} in $PGKIT_BIN, beside pg-tmp, or on PATH"
        ))
        .suggest(format!(
            "Install {name} beside pg-tmp (the pgkit tools ship together) or set PGKIT_BIN to its directory"
        )))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// The password in `settings`, if any (it travels in `libpq_env`).
pub fn password_of(settings: &Settings) -> Option<String> {
    settings
        .libpq_env()
        .into_iter()
        .find(|(k, _)| k == "PGPASSWORD")
        .map(|(_, v)| v)
}

/// A full `postgresql://` URL for `settings`, password included (for
/// stdout and child processes only, never for a log line): the library's
/// display URL (hosts, hostaddr, port, sslmode, target_session_attrs, which
/// libpq parses back to the same settings) with the password put back, plus
/// the TLS files and options.
pub fn url_of(settings: &Settings) -> String {
    let enc = pgkit::redact::percent_encode;
    let mut url = settings.redacted();
    if let Some(p) = password_of(settings) {
        // The user name is percent-encoded, so this is the password's slot.
        let slot = format!(":{}@", pgkit::redact::REDACTED);
        url = url.replacen(&slot, &format!(":{}@", enc(&p)), 1);
    }
    for (k, v) in [
        ("sslrootcert", &settings.sslrootcert),
        ("sslcert", &settings.sslcert),
        ("sslkey", &settings.sslkey),
        ("options", &settings.options),
    ] {
        if let Some(v) = v {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&format!("{k}={}", enc(v)));
        }
    }
    url
}

/// Environment for a child that should reach `settings`: `DATABASE_URL` and
/// the libpq variables (password included: env, never argv).
pub fn child_env(settings: &Settings) -> Vec<(String, String)> {
    let mut env = vec![("DATABASE_URL".to_string(), url_of(settings))];
    env.extend(
        settings
            .libpq_env()
            .into_iter()
            .filter(|(k, _)| k != "PGAPPNAME" && k != "PGPASSFILE"),
    );
    env
}

/// Variables removed from a child's environment before `child_env` is set,
/// so the developer's own libpq setup cannot point it elsewhere.
pub use pgkit::conn::LIBPQ_VARS as STALE_VARS;

/// Runs a child to completion, forwarding SIGINT/SIGTERM to it while it
/// runs. Returns its status.
pub fn run_forwarding(mut cmd: Command, what: &str) -> Result<ExitStatus> {
    // Killed, we cannot stop the server CMD uses: CMD must not run on.
    pgkit::orphan::die_with_parent(&mut cmd);
    let child: Child = cmd.spawn().map_err(|e| {
        let code = if e.kind() == std::io::ErrorKind::NotFound {
            Exit::MissingProgram
        } else {
            Exit::Failure
        };
        Error::new(code, format!("Cannot run {what}"))
            .cause(e)
            .suggest("Check the command name and that it is executable")
    })?;
    let pid = child.id() as libc::pid_t;
    let done = Arc::new(Mutex::new(false));
    let hook_done = done.clone();
    // Every signal, the second Ctrl-C included, goes to the child: it decides
    // when it ends (an interactive psql or shell takes many).
    let _forward = interrupt::forward_repeats();
    let _guard = interrupt::on_signal(move || {
        let sig = interrupt::last_signal().unwrap_or(libc::SIGINT);
        // Only while the child is not reaped (its pid cannot be reused yet).
        if let Ok(d) = hook_done.lock() {
            if !*d {
                // SAFETY: kill has no memory-safety preconditions.
                unsafe { libc::kill(pid, sig) };
            }
        }
    });
    let status = wait_child(child, &done);
    status.map_err(|e| Error::new(Exit::Failure, format!("Cannot wait for {what}")).cause(e))
}

fn wait_child(mut child: Child, done: &Arc<Mutex<bool>>) -> std::io::Result<ExitStatus> {
    // Wait without reaping (WNOWAIT), then mark done and reap, so the signal
    // hook never signals a recycled pid.
    let pid = child.id() as libc::pid_t;
    loop {
        // SAFETY: a zeroed siginfo_t is a valid out-parameter for waitid.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: waitid on our own child with a valid siginfo pointer.
        let r = unsafe {
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        if r == 0 {
            break;
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            break;
        }
    }
    if let Ok(mut d) = done.lock() {
        *d = true;
    }
    child.wait()
}

/// The exit code a shell would report for `status` (128+signal when killed).
pub fn shell_code(status: &ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(c), _) => c,
        (None, Some(s)) => 128 + s,
        _ => 1,
    }
}

/// Runs a sibling tool against `settings` (env `DATABASE_URL` and PG*).
pub fn run_tool(tool: &str, args: &[&OsStr], settings: &Settings) -> Result<ExitStatus> {
    let path = sibling(tool)?;
    let mut cmd = Command::new(&path);
    cmd.args(args);
    for v in STALE_VARS {
        cmd.env_remove(v);
    }
    cmd.envs(child_env(settings));
    cmd.stdin(std::process::Stdio::null());
    // The tool's log lines go to our stderr as they are (JSON lines too);
    // its stdout is not ours to print.
    cmd.stdout(std::process::Stdio::null());
    run_forwarding(cmd, tool)
}

/// Random lowercase hex from the OS CSPRNG.
pub fn random_hex(bytes: usize) -> String {
    use rand::RngCore;
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

pub use pgkit::server::random_password;

/// Parses a duration flag (usage error when invalid).
pub fn duration_flag(flag: &str, s: &str) -> Result<std::time::Duration> {
    pgkit::duration::parse(s).map_err(|e| {
        Error::usage(format!("Invalid {flag}"))
            .cause(e)
            .suggest("Give a duration with a unit: 500ms, 30s, 5m, 2h")
    })
}

/// `p` made absolute (against the current directory), for state files and
/// registry links that other processes read.
pub fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(pairs: &[(&str, &str)]) -> Settings {
        let kv: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_keywords(&kv, "pg-tmp", &pgkit::conn::Env::default()).unwrap()
    }

    /// The URL parses back (libpq's grammar, the library's parser) to the
    /// same settings, password included.
    #[test]
    fn url_of_round_trips_every_setting() {
        let pw = "p@s s:w/o\"rd'x\\y%z#?&[REDACTED]";
        let s = settings(&[
            ("host", "db.example.com,db2.example.com"),
            ("hostaddr", "10.0.0.1,10.0.0.2"),
            ("port", "6543"),
            ("user", "al ice:[REDACTED]"),
            ("password", pw),
            ("dbname", "my db?"),
            ("sslmode", "verify-full"),
            ("sslrootcert", "/etc/ca dir/ca.crt"),
            ("target_session_attrs", "read-write"),
            ("options", "-c search_path=app"),
        ]);
        let url = url_of(&s);
        let back = settings(
            &pgkit::conn::parse_dsn(&url)
                .unwrap()
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect::<Vec<_>>(),
        );
        assert_eq!(password_of(&back).as_deref(), Some(pw), "{url}");
        assert_eq!(back.redacted(), s.redacted(), "{url}");
        assert_eq!(back.libpq_env(), s.libpq_env(), "{url}");
        // Without a password, no password slot.
        let url = url_of(&settings(&[("host", "/tmp/sock dir"), ("user", "u")]));
        assert!(url.starts_with("postgresql://u@/"), "{url}");
        assert!(!url.contains("REDACTED"), "{url}");
    }
}
