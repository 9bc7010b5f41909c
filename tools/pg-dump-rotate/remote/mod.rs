//! Off-site copies in S3-compatible object storage (AWS S3, MinIO, R2,
//! Ceph, ...): `dump --remote`, `list --remote`, `verify --remote`,
//! `purge --remote`, `restore s3://...`.
//!
//! Objects mirror the local layout under the URL's prefix:
//!
//! ```text
//! PREFIX/SOURCE/SOURCE_20250102T030405Z.pgdump          the dump (multipart when large), uploaded first
//! PREFIX/SOURCE/SOURCE_20250102T030405Z.dir/FILE        a directory dump, one object per file
//! PREFIX/SOURCE/SOURCE_20250102T030405Z.pgdump.json     manifest, after the data
//! PREFIX/SOURCE/SOURCE_20250102T030405Z.pgdump.sha256   sidecar, uploaded LAST
//! ```
//!
//! The sidecar is the commit point: a dump counts (in `list`, `purge`,
//! `verify --all`, `check`) only once its sidecar, its manifest and its data
//! are all there, so an upload cut short is never taken for a good dump;
//! `purge --remote` removes such leftovers after `--partial-age`, and
//! aborts the multipart uploads a killed upload left unfinished (`uploads`).
//! Removal goes the other way: sidecar first.
//!
//! Each object's SHA-256 is sent as `x-amz-checksum-sha256` (per part for
//! a multipart upload), so a store that supports it (AWS S3, recent MinIO)
//! refuses bytes damaged on the way; the whole file is hashed again while
//! it is read for the upload and must match the sidecar, or nothing is
//! committed.
//!
//! Crate: rusty-s3 signs requests and parses answers without doing I/O,
//! and ureq (already used by pgkit for pg-tmp install, over the OpenSSL the
//! workspace links) sends them: a few small crates, no async runtime,
//! seconds to compile where aws-sdk-s3 takes minutes.
//!
//! One job per file: `url` (the address and its keys), `store` (a
//! connected remote's object operations), `upload` (the commit-ordered
//! upload), `uploads` (unfinished multipart uploads), `dumps` (a listing
//! grouped into dumps), and one file per command's remote half (`list`,
//! `verify`, `purge`, `restore`, `freshness`).

mod client;
mod config;
mod dumps;
mod freshness;
mod list;
mod purge;
mod restore;
mod store;
mod upload;
mod uploads;
mod url;
mod verify;

pub use freshness::freshness_entries;
pub use list::list;
pub use purge::purge;
pub use restore::fetch_for_restore;
pub use upload::{probe_before_dump, upload_after_dump};
pub use verify::verify;

/// A remote URL as the tool names it (`s3://BUCKET/PREFIX`, normalised).
pub fn display_url(url: &str) -> Result<String> {
    url::RemoteUrl::parse(url).map(|u| u.display())
}

use pgkit::{Error, Result};

/// The default multipart part size (S3 allows 10,000 parts: 640 GiB).
pub const DEFAULT_PART_SIZE: &str = "64MiB";

/// Parses a part size: bytes, or a number with KiB/MiB/GiB (K/M/G, KB/MB/GB
/// taken as binary too). At least 1 MiB (S3 itself wants 5 MiB).
pub fn part_size(s: &str) -> Result<usize> {
    let t = s.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let unit = match t[digits..].trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1usize,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => 0,
    };
    let n = t[..digits]
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(unit));
    match n {
        Some(n) if (1 << 20..=5usize << 30).contains(&n) => Ok(n),
        _ => Err(Error::usage("Invalid --remote-part-size")
            .cause(format!("{s:?}"))
            .suggest("Use a size from 1MiB to 5GiB, e.g. 64MiB (S3 needs at least 5MiB)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(part_size("64MiB").ok(), Some(64 << 20));
        assert_eq!(part_size("5M").ok(), Some(5 << 20));
        assert_eq!(part_size("1048576").ok(), Some(1 << 20));
        assert!(part_size("1k").is_err());
        assert!(part_size("lots").is_err());
    }
}
