//! `restore s3://...`: the download half.

use super::store::Remote;
use super::url::parse_dump_url;
use crate::layout;
use pgkit::{Error, Exit, Result};
use std::path::PathBuf;

/// `restore s3://...`: downloads the dump into a private temporary
/// directory laid out as a dump directory (`TMP/SOURCE/NAME`), with the
/// `_globals` dump its manifest names when `with_globals`; the caller
/// restores from the path returned (the directory lives as long as the
/// guard).
pub fn fetch_for_restore(url: &str, with_globals: bool) -> Result<(tempfile::TempDir, PathBuf)> {
    let (u, source, name) = parse_dump_url(url)?;
    let r = Remote::with(u)?;
    let dir = tempfile::Builder::new()
        .prefix("pg-dump-rotate-restore-")
        .tempdir()
        .map_err(|e| Error::new(Exit::Dump, "Cannot create a temporary directory").cause(e))?;
    let sdir = dir.path().join(&source);
    std::fs::create_dir(&sdir).map_err(|e| Error::io(Exit::Dump, "create", &sdir, &e))?;
    let path = r.download(&source, &name, &sdir)?;
    // The globals dump sits beside the database's remotely too
    // (`SOURCE/NAME` under the same prefix); anything else is left to
    // restore's own check, which then reports it missing.
    let globals = with_globals
        .then(|| layout::read_manifest(&layout::manifest_path(&path)))
        .flatten()
        .and_then(|m| m["globals"].as_str().map(String::from))
        .and_then(|g| {
            // Never a path out of the temporary directory.
            let (s, n) = g.split_once('/')?;
            (layout::valid_source(s) && layout::parse_dump_name(s, n).is_some())
                .then(|| (s.to_string(), n.to_string()))
        });
    if let Some((s, n)) = globals {
        let gdir = dir.path().join(&s);
        if !gdir.is_dir() {
            std::fs::create_dir(&gdir).map_err(|e| Error::io(Exit::Dump, "create", &gdir, &e))?;
        }
        r.download(&s, &n, &gdir)?;
    }
    Ok((dir, path))
}
