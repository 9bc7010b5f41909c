//! No orphans: a child we start dies with us, even when we are killed with
//! SIGKILL and run no cleanup of our own (issue 16, defect 3). Without this,
//! a `pg_restore` in its own process group goes on and commits the restore
//! its killed parent no longer owns, and `pg-tmp run`'s command goes on
//! against a server that is being removed.
//!
//! Linux's `PR_SET_PDEATHSIG` is set in the child between fork and exec, so
//! it survives the exec. Two caveats shape its use:
//! - the signal fires when the *thread* that forked the child ends, not the
//!   process: call [`die_with_parent`] only for children started from a
//!   thread that outlives them (the tools start theirs from the main thread);
//! - never for what must outlive us on purpose (a postmaster `pg-tmp start`
//!   leaves running, the TTL watchdog).

use std::process::Command;

/// Makes `cmd`'s child receive SIGKILL when the thread that starts it ends.
pub fn die_with_parent(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: getpid before the fork; in the child only async-signal-safe
    // calls (prctl, getppid, raise).
    let parent = unsafe { libc::getpid() };
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(
                libc::PR_SET_PDEATHSIG,
                libc::SIGKILL as libc::c_ulong,
                0,
                0,
                0,
            ) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            // The parent died before the prctl took effect: no signal will
            // come, so go now.
            if libc::getppid() != parent {
                libc::raise(libc::SIGKILL);
            }
            Ok(())
        });
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_child_runs_normally() {
        let mut c = Command::new("sh");
        c.args(["-c", "exit 7"]);
        die_with_parent(&mut c);
        assert_eq!(c.status().unwrap().code(), Some(7));
    }
}
