//! `pg-tmp install MAJOR[.MINOR]`: print the bin directory of that
//! PostgreSQL, installing it into the cache when no installed one fits.

use crate::binaries::version_of;
use crate::cli::InstallArgs;
use pgkit::cli::Summary;
use pgkit::pginstall::{self, Spec};
use pgkit::{out, Result};

/// `pg-tmp install`: prints the bin directory of that version, installing
/// it into the cache when no installed one fits.
pub fn run(a: InstallArgs) -> Result<Summary> {
    let spec = Spec::parse(&a.version)?;
    let offline = pginstall::offline(a.offline)?;
    // A major alone may come from the system's packages; a release only
    // from the cache (the system's minor is whatever it is).
    let found = match spec.minor {
        None => pgkit::server::find_bindir(Some(spec.major)).ok(),
        Some(_) => None,
    };
    let (bindir, source) = match found {
        Some(d) if d.starts_with(pginstall::cache_root()) => (d, "cache"),
        Some(d) => (d, "installed"),
        None => {
            let i = pginstall::install(Some(spec), offline, None)?;
            let source = if i.downloaded { "downloaded" } else { "cache" };
            (i.cached.bindir(), source)
        }
    };
    out::println(&bindir.display().to_string())?;
    Ok(Summary::ok("PostgreSQL ready")
        .field("version", version_of(&bindir).unwrap_or_default())
        .field("bindir", bindir.display().to_string())
        .field("source", source))
}
