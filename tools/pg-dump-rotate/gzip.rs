//! Plain-format dumps compressed with gzip (`--format plain --compress N`):
//! which `--compress` values mean gzip, and a streaming inflater that keeps
//! the start and the end of the SQL script, so its "dump complete" line is
//! checked without a second pass over the file.
//!
//! pg_dump compresses a plain script as one gzip stream (levels 1-9, or
//! `gzip[:DETAIL]` from PostgreSQL 16); lz4 and zstd (16+) are refused for
//! plain dumps: the tool could not check their end.

use flate2::write::MultiGzDecoder;
use pgkit::{Error, Result};
use std::io::{Read, Write};
use std::path::Path;

/// The last line of a complete plain-format dump.
pub const PLAIN_TRAILER: &[u8] = b"-- PostgreSQL database dump complete";
/// pg_dumpall's (the `_globals` dumps).
pub const CLUSTER_TRAILER: &[u8] = b"-- PostgreSQL database cluster dump complete";

/// How much of the script's start and end is kept.
const HEAD: usize = 4096;
const TAIL: usize = 256;

/// Whether `--compress SPEC` makes pg_dump gzip a plain script: None, `0`
/// and `none[:…]` do not; `1`-`9` and `gzip[:…]` do; anything else (lz4,
/// zstd) is a usage error.
pub fn plain_gzip(spec: Option<&str>) -> Result<bool> {
    let Some(spec) = spec.map(str::trim) else {
        return Ok(false);
    };
    let method = spec.split(':').next().unwrap_or("").to_ascii_lowercase();
    if let Ok(level) = method.parse::<u32>() {
        if level <= 9 && !spec.contains(':') {
            return Ok(level > 0);
        }
    }
    match method.as_str() {
        "none" => Ok(false),
        "gzip" => Ok(true),
        _ => Err(Error::usage(format!(
            "--compress {spec} does not go with --format plain"
        ))
        .cause("a plain script is only checked when uncompressed or gzip-compressed (its closing line is read through gunzip)")
        .suggest("Use --compress N (gzip, 1-9) or gzip:N, or --format custom (compressed by default; lz4/zstd on pg_dump 16+)")),
    }
}

/// Whether the file starts with the gzip magic (a plain SQL script never does).
pub fn is_gzip(path: &Path) -> bool {
    let mut magic = [0u8; 2];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && magic == [0x1f, 0x8b]
}

/// Whether a script's end holds the closing line.
pub fn ends_complete(tail: &[u8]) -> bool {
    [PLAIN_TRAILER, CLUSTER_TRAILER]
        .iter()
        .any(|t| tail.windows(t.len()).any(|w| w == *t))
}

/// Keeps the first `HEAD` and the last `TAIL` bytes written to it.
#[derive(Default)]
pub struct Ends {
    /// The start.
    pub head: Vec<u8>,
    /// The end.
    pub tail: Vec<u8>,
}

impl Ends {
    /// Takes in the next bytes.
    pub fn push(&mut self, b: &[u8]) {
        if self.head.len() < HEAD {
            let take = (HEAD - self.head.len()).min(b.len());
            self.head.extend_from_slice(&b[..take]);
        }
        let keep = b.len().min(TAIL);
        self.tail.extend_from_slice(&b[b.len() - keep..]);
        if self.tail.len() > TAIL {
            self.tail.drain(..self.tail.len() - TAIL);
        }
    }
}

impl Write for Ends {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.push(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Inflates a gzip stream fed in blocks, keeping the script's ends. A
/// damaged stream stops the inflating (the caller goes on copying) and is
/// reported by `finish`.
pub struct Inflater {
    dec: MultiGzDecoder<Ends>,
    error: Option<String>,
    fed: u64,
}

impl Default for Inflater {
    fn default() -> Self {
        Inflater {
            dec: MultiGzDecoder::new(Ends::default()),
            error: None,
            fed: 0,
        }
    }
}

impl Inflater {
    /// Feeds the next compressed bytes.
    pub fn feed(&mut self, b: &[u8]) {
        if self.error.is_none() {
            self.fed += b.len() as u64;
            if let Err(e) = self.dec.write_all(b) {
                self.error = Some(format!("gzip: {e}"));
            }
        }
    }

    /// The script's ends, or why the stream is not a complete gzip stream.
    pub fn finish(self) -> std::result::Result<Ends, String> {
        if let Some(e) = self.error {
            return Err(e);
        }
        if self.fed == 0 {
            return Err("gzip: no data".into());
        }
        self.dec
            .finish()
            .map_err(|e| format!("gzip: {e} (truncated?)"))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use flate2::write::GzEncoder;

    #[test]
    fn compress_specs() {
        for (spec, gz) in [
            (None, false),
            (Some("0"), false),
            (Some("none"), false),
            (Some("5"), true),
            (Some("9"), true),
            (Some("gzip"), true),
            (Some("gzip:9"), true),
            (Some("gzip:level=4"), true),
        ] {
            assert_eq!(plain_gzip(spec).unwrap(), gz, "{spec:?}");
        }
        for bad in ["lz4", "zstd:3", "10", "x"] {
            let e = plain_gzip(Some(bad)).unwrap_err();
            assert_eq!(e.code, pgkit::Exit::Usage, "{bad}");
        }
    }

    #[test]
    fn inflates_in_blocks_and_finds_truncation() {
        let mut script = b"--\n-- PostgreSQL database dump\n--\n".to_vec();
        script.extend(std::iter::repeat_n(b'x', 100_000));
        script.extend_from_slice(b"\n--\n-- PostgreSQL database dump complete\n--\n\n");
        let mut e = GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(&script).unwrap();
        let gz = e.finish().unwrap();
        let mut i = Inflater::default();
        for c in gz.chunks(777) {
            i.feed(c);
        }
        let ends = i.finish().unwrap();
        assert!(ends.head.starts_with(b"--\n-- PostgreSQL database dump\n"));
        assert!(ends_complete(&ends.tail));
        assert_eq!(ends.tail.len(), TAIL);
        // Truncated: the gzip trailer is missing.
        let mut i = Inflater::default();
        i.feed(&gz[..gz.len() - 10]);
        assert!(i.finish().is_err());
        // Not gzip at all.
        let mut i = Inflater::default();
        i.feed(b"-- plain text");
        assert!(i.finish().is_err());
    }
}
