//! Asking before removing dumps (`purge`, local or remote, without `--yes`):
//! the removals on stderr, one question on the terminal. Without a terminal
//! nobody can answer, so the run is refused (64) rather than left waiting.

use pgkit::{Error, Exit, Result};
use std::io::{BufRead, IsTerminal, Write};

/// Shows `removals` (one line each) and asks "Remove N WHAT? [y/N]"; true
/// only for y or yes. No terminal on stdin: a usage error naming --yes.
pub fn removal(removals: &[String], n: usize, what: &str) -> Result<bool> {
    if !std::io::stdin().is_terminal() {
        return Err(Error::usage("Refusing to purge without --yes")
            .cause("stdin is not a terminal, so nobody can confirm")
            .field("wouldRemove", n)
            .suggest("Pass --yes (cron, CI), or --dry-run to see the plan first"));
    }
    let mut err = std::io::stderr().lock();
    for l in removals {
        let _ = writeln!(err, "{l}");
    }
    let _ = write!(err, "Remove {n} {what}? [y/N] ");
    let _ = err.flush();
    drop(err);
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Error::new(Exit::Failure, "Cannot read the answer").cause(e))?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}
