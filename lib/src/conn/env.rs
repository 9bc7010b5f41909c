//! The environment the resolver reads: variables, home directory, OS user.

use std::collections::HashMap;
use std::path::PathBuf;

/// A snapshot of the environment the resolver reads (tests build their own).
/// Its `Debug` form lists variable names only: values may hold passwords.
#[derive(Clone, Default)]
pub struct Env {
    /// Environment variables.
    pub vars: HashMap<String, String>,
    /// The home directory (for `~/.pgpass`, `~/.pg_service.conf`,
    /// `~/.postgresql/`); `None` reads none of them.
    pub home: Option<PathBuf>,
    /// The OS user name (libpq's default user).
    pub os_user: String,
}

impl std::fmt::Debug for Env {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&String> = self.vars.keys().collect();
        names.sort();
        f.debug_struct("Env")
            .field("vars", &names)
            .field("home", &self.home)
            .field("os_user", &self.os_user)
            .finish()
    }
}

impl Env {
    /// The process environment (variables that are not valid UTF-8 are
    /// skipped rather than fatal).
    pub fn process() -> Env {
        let vars: HashMap<String, String> = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        // libpq: $HOME, else the password database's home directory.
        let home = vars
            .get("HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from)
            .or_else(passwd_home);
        Env {
            home,
            os_user: os_user_name(),
            vars,
        }
    }

    /// A variable, treating an empty value as unset (pgkit's own variables
    /// such as `DATABASE_URL`; the resolver reads libpq's `PG*` variables as
    /// libpq does, where an empty value still counts as set).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.vars
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

/// The name of the effective OS user, as libpq's default user.
pub fn os_user_name() -> String {
    // SAFETY: getpwuid returns a pointer into static storage or null; we copy
    // the name out at once and never keep the pointer.
    unsafe {
        let pw = libc::getpwuid(libc::geteuid());
        if !pw.is_null() && !(*pw).pw_name.is_null() {
            if let Ok(s) = std::ffi::CStr::from_ptr((*pw).pw_name).to_str() {
                return s.to_string();
            }
        }
    }
    std::env::var("USER").unwrap_or_else(|_| "postgres".into())
}

/// The home directory of the effective user from the password database.
fn passwd_home() -> Option<PathBuf> {
    // SAFETY: getpwuid returns null or a pointer to static storage that we
    // copy from at once.
    unsafe {
        let pw = libc::getpwuid(libc::geteuid());
        if pw.is_null() || (*pw).pw_dir.is_null() {
            return None;
        }
        std::ffi::CStr::from_ptr((*pw).pw_dir)
            .to_str()
            .ok()
            .map(PathBuf::from)
    }
}
