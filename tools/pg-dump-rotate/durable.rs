//! Writes that survive a crash: fsync of small files and of the directory
//! a rename happened in.

use pgkit::{Error, Exit, Result};
use std::fs::File;
use std::io::Write;
use std::path::Path;

/// Writes a small file and fsyncs it.
pub fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = File::create(path).map_err(|e| Error::io(Exit::Dump, "create", path, &e))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| Error::io(Exit::Dump, "write", path, &e))
}

/// Fsyncs a directory, so a rename in it survives a crash.
pub fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(Exit::Dump, "fsync", dir, &e))
}
