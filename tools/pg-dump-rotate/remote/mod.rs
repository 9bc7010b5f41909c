//! Off-site copies in S3-compatible object storage (AWS S3, MinIO, R2,
//! Ceph, ...): `dump --remote`, `list --remote`, `verify --remote`,
//! `purge --remote`, `restore s3://...`.
//!
//! Objects mirror the local layout under the URL's prefix:
//!
//! ```text
//! PREFIX/SOURCE/SOURCE_20250102T030405Z.pgdump.json     manifest, uploaded first
//! PREFIX/SOURCE/SOURCE_20250102T030405Z.pgdump          the dump (multipart when large)
//! PREFIX/SOURCE/SOURCE_20250102T030405Z.dir/FILE        a directory dump, one object per file
//! PREFIX/SOURCE/SOURCE_20250102T030405Z.pgdump.sha256   sidecar, uploaded LAST
//! ```
//!
//! The sidecar is the commit point: a dump counts (in `list`, `purge`,
//! `verify --all`, `check`) only once its sidecar, its manifest and its data
//! are all there, so an upload cut short is never taken for a good dump;
//! `purge --remote` removes such leftovers after `--partial-age`. Removal
//! goes the other way: sidecar first.
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

mod client;
mod config;

use crate::cli::RetentionArgs;
use crate::layout::{self, Format};
use crate::retention::{self, Decision, Item};
use chrono::{DateTime, SecondsFormat, Utc};
use client::{Client, Object, S3Error};
use pgkit::{log, out, Error, Exit, Result};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The default multipart part size (S3 allows 10,000 parts: 640 GiB).
pub const DEFAULT_PART_SIZE: &str = "64MiB";

/// A parsed `s3://BUCKET/PREFIX`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteUrl {
    pub bucket: String,
    /// Without leading or trailing slashes; may be empty.
    pub prefix: String,
}

impl RemoteUrl {
    /// Parses `s3://BUCKET[/PREFIX]`; anything else is a usage error.
    pub fn parse(s: &str) -> Result<RemoteUrl> {
        let bad = |why: &str| {
            Error::usage("Invalid remote URL")
                .cause(format!("{s:?}: {why}"))
                .suggest("Use s3://BUCKET or s3://BUCKET/PREFIX (--remote, DUMP_REMOTE)")
        };
        let rest = s
            .strip_prefix("s3://")
            .ok_or_else(|| bad("it does not start with s3://"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let bucket_ok = bucket.len() >= 3
            && bucket.len() <= 63
            && bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-'));
        if !bucket_ok {
            return Err(bad(
                "the bucket name must be 3-63 lowercase letters, digits, '.' or '-'",
            ));
        }
        let prefix = prefix.trim_matches('/');
        let parts_ok = prefix.is_empty()
            || prefix.split('/').all(|p| {
                !p.is_empty() && p != "." && p != ".." && !p.chars().any(char::is_control)
            });
        if !parts_ok {
            return Err(bad("the prefix has an empty, '.' or '..' part"));
        }
        Ok(RemoteUrl {
            bucket: bucket.to_string(),
            prefix: prefix.to_string(),
        })
    }

    /// The key of `rest` (`SOURCE/NAME...`) under the prefix.
    fn key(&self, rest: &str) -> String {
        if self.prefix.is_empty() {
            rest.to_string()
        } else {
            format!("{}/{rest}", self.prefix)
        }
    }

    /// The listing prefix (with its slash) of everything, or of a source.
    fn list_prefix(&self, source: Option<&str>) -> String {
        match source {
            Some(s) => self.key(&format!("{s}/")),
            None if self.prefix.is_empty() => String::new(),
            None => format!("{}/", self.prefix),
        }
    }

    /// The URL of one dump, as `restore` and `verify` accept it.
    pub fn dump_url(&self, source: &str, name: &str) -> String {
        format!(
            "s3://{}/{}",
            self.bucket,
            self.key(&format!("{source}/{name}"))
        )
    }
}

/// Parses `s3://BUCKET/[PREFIX/]SOURCE/NAME`: the remote, the source and
/// the dump's name (which must be of the tool's shape).
pub fn parse_dump_url(s: &str) -> Result<(RemoteUrl, String, String)> {
    let u = RemoteUrl::parse(s)?;
    let mut parts: Vec<&str> = u.prefix.split('/').collect();
    let name = parts.pop().unwrap_or_default().to_string();
    let source = parts.pop().unwrap_or_default().to_string();
    if !layout::valid_source(&source) || layout::parse_dump_name(&source, &name).is_none() {
        return Err(Error::usage("Not the URL of a dump")
            .cause(format!(
                "{s:?} does not end in SOURCE/SOURCE_YYYYMMDDTHHMMSSZ.EXT"
            ))
            .suggest("Copy a dump's URL from 'pg-dump-rotate list --remote s3://BUCKET/PREFIX'"));
    }
    Ok((
        RemoteUrl {
            bucket: u.bucket,
            prefix: parts.join("/"),
        },
        source,
        name,
    ))
}

/// A dump in the store, as `list --remote` and `check --remote` see it.
#[derive(Debug, Clone)]
pub struct RemoteDump {
    /// The file name (as locally: `SOURCE_YYYYMMDDTHHMMSSZ.EXT`).
    pub name: String,
    /// When the dump started (from its name).
    pub time: DateTime<Utc>,
    /// Its format.
    pub format: Format,
    /// Bytes stored (a directory dump: all its files).
    pub size: u64,
    /// The newest of its objects' upload times.
    pub uploaded: DateTime<Utc>,
    /// Sidecar, manifest and data all present: the upload was committed.
    pub complete: bool,
    /// Its objects' keys (data files, sidecar, manifest).
    keys: Vec<String>,
}

/// A connected remote: URL, settings, client.
pub struct Remote {
    pub url: RemoteUrl,
    client: Client,
}

impl Remote {
    /// Parses the URL and resolves the credentials (78 when there are none).
    pub fn open(url: &str) -> Result<Remote> {
        let url = RemoteUrl::parse(url)?;
        Remote::with(url)
    }

    fn with(url: RemoteUrl) -> Result<Remote> {
        let cfg = config::Config::resolve()?;
        let client = Client::new(&cfg, &url.bucket)?;
        Ok(Remote { url, client })
    }

    fn shown(&self) -> String {
        format!("s3://{}/{}", self.url.bucket, self.url.prefix)
    }

    fn fail(&self, e: S3Error, code: Option<Exit>, message: &str) -> Error {
        let code = code.unwrap_or_else(|| e.code());
        e.into_error(code, message).field("remote", self.shown())
    }

    /// One listing request, to fail before a dump rather than after it:
    /// wrong credentials or bucket are 78, an unreachable store 75.
    pub fn probe(&self) -> Result<()> {
        self.client
            .probe(&self.url.list_prefix(None))
            .map_err(|e| self.fail(e, None, "Cannot reach the remote"))
    }

    /// Every dump under the remote (or of one source), per source (sorted),
    /// newest first; incomplete uploads included, marked so.
    pub fn scan(&self, source: Option<&str>) -> Result<BTreeMap<String, Vec<RemoteDump>>> {
        let objects = self
            .client
            .list(&self.url.list_prefix(source))
            .map_err(|e| self.fail(e, None, "Cannot list the remote"))?;
        Ok(group(&self.url.list_prefix(None), &objects))
    }

    /// Uploads one local dump just written (see the module's notes).
    /// Any failure is 5 and leaves the local dump as it is.
    pub fn upload(&self, source: &str, path: &Path, part_size: usize) -> Result<()> {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| Error::new(Exit::Dump, "Dump has no file name"))?;
        let started = std::time::Instant::now();
        let up = |e: S3Error| {
            self.fail(e, Some(Exit::Dump), "Upload failed; the local dump is kept")
                .field("file", path.display().to_string())
        };
        let base = self.url.key(&format!("{source}/{name}"));
        let sidecar = std::fs::read(layout::sidecar_path(path))
            .map_err(|e| Error::io(Exit::Dump, "read", &layout::sidecar_path(path), &e))?;
        let manifest = std::fs::read(layout::manifest_path(path))
            .map_err(|e| Error::io(Exit::Dump, "read", &layout::manifest_path(path), &e))?;
        self.client
            .put(&format!("{base}.json"), &manifest)
            .map_err(up)?;
        let text = String::from_utf8_lossy(&sidecar).to_string();
        let mut bytes = 0u64;
        if path.is_dir() {
            for (want, rel) in sidecar_files(&text, name)? {
                let key = self.url.key(&format!("{source}/{name}/{rel}"));
                bytes += self.upload_file(&key, &path.join(&rel), &want, part_size, &up)?;
            }
        } else {
            let want = layout::sidecar_digest(&text, false);
            bytes = self.upload_file(&base, path, &want, part_size, &up)?;
        }
        // The commit point.
        self.client
            .put(&format!("{base}.sha256"), &sidecar)
            .map_err(up)?;
        log::info(
            "Dump uploaded",
            json!({"source": source, "remote": self.url.dump_url(source, name),
                   "sizeBytes": bytes, "durationMs": started.elapsed().as_millis() as u64}),
        );
        Ok(())
    }

    /// Uploads one file, in one PUT or in parts, hashing it on the way: a
    /// file whose bytes are not the sidecar's is not committed. Returns its
    /// size.
    fn upload_file(
        &self,
        key: &str,
        path: &Path,
        want: &str,
        part_size: usize,
        up: &dyn Fn(S3Error) -> Error,
    ) -> Result<u64> {
        let mut f =
            std::fs::File::open(path).map_err(|e| Error::io(Exit::Dump, "open", path, &e))?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; part_size];
        let mut total = 0u64;
        let first = fill(&mut f, &mut buf).map_err(|e| Error::io(Exit::Dump, "read", path, &e))?;
        hasher.update(&buf[..first]);
        total += first as u64;
        let mismatch = |got: String| {
            Error::new(Exit::Dump, "Upload failed; the local dump is kept")
                .cause(format!(
                    "the file changed since it was dumped: SHA-256 is {got}, the sidecar says {want}"
                ))
                .field("file", path.display().to_string())
        };
        if first < part_size {
            let got = layout::hex(&hasher.finalize());
            if got != want {
                return Err(mismatch(got));
            }
            self.client.put(key, &buf[..first]).map_err(up)?;
            return Ok(total);
        }
        let id = self.client.create_multipart(key).map_err(up)?;
        let result = (|| {
            let mut parts = Vec::new();
            let mut n = first;
            let mut number: u16 = 0;
            while n > 0 {
                pgkit::interrupt::check()?;
                number = number
                    .checked_add(1)
                    .filter(|k| *k <= 10_000)
                    .ok_or_else(|| {
                        Error::new(Exit::Dump, "Upload failed; the local dump is kept")
                            .cause("more than 10000 parts")
                            .suggest("Raise --remote-part-size")
                    })?;
                parts.push(
                    self.client
                        .upload_part(key, &id, number, &buf[..n])
                        .map_err(up)?,
                );
                n = fill(&mut f, &mut buf).map_err(|e| Error::io(Exit::Dump, "read", path, &e))?;
                hasher.update(&buf[..n]);
                total += n as u64;
            }
            let got = layout::hex(&hasher.clone().finalize());
            if got != want {
                return Err(mismatch(got));
            }
            self.client.complete_multipart(key, &id, &parts).map_err(up)
        })();
        if result.is_err() {
            // Best effort: a store that died keeps the parts until its
            // lifecycle rule (AbortIncompleteMultipartUpload) removes them.
            let _ = self.client.abort_multipart(key, &id);
        }
        result.map(|()| total)
    }

    /// Downloads one object and hashes it on the way, into `to` when given:
    /// (hex digest, size). A missing object is 5.
    fn fetch(&self, key: &str, what: &str, to: Option<&Path>) -> Result<(String, u64)> {
        let mut r = self
            .client
            .get(key)
            .map_err(|e| self.fail(e, None, "Cannot download from the remote"))?
            .ok_or_else(|| {
                Error::new(Exit::Dump, "Object missing in the remote")
                    .field("object", what.to_string())
            })?;
        let mut file = match to {
            Some(p) => {
                Some(std::fs::File::create(p).map_err(|e| Error::io(Exit::Dump, "create", p, &e))?)
            }
            None => None,
        };
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        let mut size = 0u64;
        loop {
            let n = match r.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(self.fail(
                        S3Error::Transport(e.to_string()),
                        None,
                        "Cannot download from the remote",
                    ))
                }
            };
            h.update(&buf[..n]);
            size += n as u64;
            if let (Some(f), Some(p)) = (file.as_mut(), to) {
                use std::io::Write;
                f.write_all(&buf[..n])
                    .map_err(|e| Error::io(Exit::Dump, "write", p, &e))?;
            }
            pgkit::interrupt::check()?;
        }
        Ok((layout::hex(&h.finalize()), size))
    }

    fn small(&self, key: &str) -> Result<Option<Vec<u8>>> {
        self.client
            .get_small(key)
            .map_err(|e| self.fail(e, None, "Cannot download from the remote"))
    }

    /// Downloads a dump (data, sidecar, manifest) into `dir`, hashing each
    /// data file against the sidecar: the local path of the dump.
    pub fn download(&self, source: &str, name: &str, dir: &Path) -> Result<PathBuf> {
        let base = self.url.key(&format!("{source}/{name}"));
        let url = self.url.dump_url(source, name);
        let missing = || {
            Error::new(Exit::NoInput, "Dump not found in the remote")
                .field("remote", url.clone())
                .suggest("List the remote's dumps: pg-dump-rotate list --remote s3://BUCKET/PREFIX")
        };
        let sidecar = self.small(&format!("{base}.sha256"))?.ok_or_else(missing)?;
        let path = dir.join(name);
        if let Some(m) = self.small(&format!("{base}.json"))? {
            write_file(&layout::manifest_path(&path), &m)?;
        }
        write_file(&layout::sidecar_path(&path), &sidecar)?;
        let text = String::from_utf8_lossy(&sidecar).to_string();
        if layout::parse_dump_name(source, name).map(|p| p.format) == Some(Format::Directory) {
            std::fs::create_dir(&path).map_err(|e| Error::io(Exit::Dump, "create", &path, &e))?;
            for (_, rel) in sidecar_files(&text, name)? {
                let key = self.url.key(&format!("{source}/{name}/{rel}"));
                self.fetch(&key, &format!("{url}/{rel}"), Some(&path.join(&rel)))?;
            }
        } else {
            self.fetch(&base, &url, Some(&path))?;
        }
        log::info(
            "Dump downloaded",
            json!({"remote": url, "file": path.display().to_string()}),
        );
        Ok(path)
    }

    /// Downloads a dump's data and hashes it against its sidecar and
    /// manifest, storing nothing.
    pub fn verify(&self, source: &str, name: &str) -> Result<()> {
        let base = self.url.key(&format!("{source}/{name}"));
        let url = self.url.dump_url(source, name);
        let bad = |why: String| {
            Error::new(Exit::Dump, "Checksum mismatch")
                .cause(why)
                .field("remote", url.clone())
                .suggest("The remote copy is damaged; upload a good dump again")
        };
        let sidecar = self
            .small(&format!("{base}.sha256"))?
            .ok_or_else(|| bad("the sidecar (.sha256) is missing".into()))?;
        let manifest: Option<Value> = self
            .small(&format!("{base}.json"))?
            .and_then(|m| serde_json::from_slice(&m).ok());
        let manifest = manifest.ok_or_else(|| bad("the manifest (.json) is missing".into()))?;
        let text = String::from_utf8_lossy(&sidecar).to_string();
        let is_dir =
            layout::parse_dump_name(source, name).map(|p| p.format) == Some(Format::Directory);
        if manifest["sha256"].as_str() != Some(layout::sidecar_digest(&text, is_dir).as_str()) {
            return Err(bad("the sidecar and the manifest disagree".into()));
        }
        if is_dir {
            for (want, rel) in sidecar_files(&text, name)? {
                let key = self.url.key(&format!("{source}/{name}/{rel}"));
                let (got, _) = self.fetch(&key, &format!("{url}/{rel}"), None)?;
                if got != want {
                    return Err(bad(format!(
                        "{rel}: SHA-256 is {got}, the sidecar says {want}"
                    )));
                }
            }
        } else {
            let want = layout::sidecar_digest(&text, false);
            let (got, size) = self.fetch(&base, &url, None)?;
            if got != want {
                return Err(bad(format!("SHA-256 is {got}, the sidecar says {want}")));
            }
            if manifest["size"].as_u64().is_some_and(|s| s != size) {
                return Err(bad(format!(
                    "{size} bytes, the manifest says {}",
                    manifest["size"]
                )));
            }
        }
        Ok(())
    }

    /// Removes a dump's objects: sidecar first (it stops counting at once),
    /// then its data, then its manifest.
    fn remove(&self, d: &RemoteDump) -> Result<()> {
        let mut keys = d.keys.clone();
        keys.sort_by_key(|k| {
            if k.ends_with(".sha256") && !k.contains(".dir/") {
                0
            } else if k.ends_with(".json") && !k.contains(".dir/") {
                2
            } else {
                1
            }
        });
        for k in keys {
            self.client
                .delete(&k)
                .map_err(|e| self.fail(e, None, "Cannot remove from the remote"))?;
        }
        Ok(())
    }
}

/// Reads until `buf` is full or the file ends: the bytes read.
fn fill(f: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

fn write_file(path: &Path, data: &[u8]) -> Result<()> {
    std::fs::write(path, data).map_err(|e| Error::io(Exit::Dump, "write", path, &e))
}

/// A directory dump's sidecar lines: (digest, file name inside the dump).
fn sidecar_files(text: &str, name: &str) -> Result<Vec<(String, String)>> {
    let mut v = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let parsed = line.split_once("  ").and_then(|(want, rel)| {
            let file = rel.strip_prefix(name)?.strip_prefix('/')?;
            let plain = !file.is_empty() && !file.contains('/') && file != "." && file != "..";
            plain.then(|| (want.to_string(), file.to_string()))
        });
        v.push(parsed.ok_or_else(|| {
            Error::new(Exit::Dump, "Checksum mismatch")
                .cause("malformed sidecar line")
                .field("file", name.to_string())
        })?);
    }
    if v.is_empty() {
        return Err(Error::new(Exit::Dump, "Checksum mismatch")
            .cause("the sidecar lists no file")
            .field("file", name.to_string()));
    }
    Ok(v)
}

/// Groups a listing into dumps per source. Only keys of the tool's shape
/// count: `SOURCE/NAME`, `SOURCE/NAME.sha256`, `SOURCE/NAME.json` and
/// `SOURCE/NAME.dir/FILE`.
fn group(root: &str, objects: &[Object]) -> BTreeMap<String, Vec<RemoteDump>> {
    #[derive(Default)]
    struct Seen {
        data: bool,
        sidecar: bool,
        manifest: bool,
        size: u64,
        uploaded: Option<DateTime<Utc>>,
        keys: Vec<String>,
    }
    let mut seen: BTreeMap<(String, String), Seen> = BTreeMap::new();
    for o in objects {
        let Some(rel) = o.key.strip_prefix(root) else {
            continue;
        };
        let Some((source, rest)) = rel.split_once('/') else {
            continue;
        };
        if !layout::valid_source(source) {
            continue;
        }
        let (base, kind) = if let Some((dir, file)) = rest.split_once('/') {
            if file.contains('/') || !dir.ends_with(".dir") {
                continue;
            }
            (dir, 0)
        } else if let Some(b) = rest.strip_suffix(".sha256") {
            (b, 1)
        } else if let Some(b) = rest.strip_suffix(".json") {
            (b, 2)
        } else {
            (rest, 0)
        };
        if layout::parse_dump_name(source, base).is_none() {
            continue;
        }
        let s = seen
            .entry((source.to_string(), base.to_string()))
            .or_default();
        match kind {
            0 => {
                s.data = true;
                s.size += o.size;
            }
            1 => s.sidecar = true,
            _ => s.manifest = true,
        }
        s.uploaded = Some(s.uploaded.map_or(o.modified, |u| u.max(o.modified)));
        s.keys.push(o.key.clone());
    }
    let mut out: BTreeMap<String, Vec<RemoteDump>> = BTreeMap::new();
    for ((source, name), s) in seen {
        let Some(p) = layout::parse_dump_name(&source, &name) else {
            continue;
        };
        out.entry(source).or_default().push(RemoteDump {
            name,
            time: p.time,
            format: p.format,
            size: s.size,
            uploaded: s.uploaded.unwrap_or(p.time),
            complete: s.data && s.sidecar && s.manifest,
            keys: s.keys,
        });
    }
    for v in out.values_mut() {
        v.sort_by(|a, b| b.time.cmp(&a.time).then(b.name.cmp(&a.name)));
    }
    out
}

/// The remote's entries for `check --remote`: the named sources (one
/// without dumps has none), or every source found; a dump is good once its
/// upload was committed. The newest good dump's duration is read from its
/// manifest (one small download per source).
pub fn freshness_entries(
    url: &str,
    sources: &[String],
) -> Result<Vec<crate::freshness::SourceDumps>> {
    use crate::freshness::{DumpInfo, SourceDumps};
    let remote = Remote::open(url)?;
    let mut all = remote.scan(None)?;
    let names: Vec<String> = if sources.is_empty() {
        all.keys().cloned().collect()
    } else {
        sources.to_vec()
    };
    let now = Utc::now();
    let mut v = Vec::new();
    for s in names {
        layout::check_source(&s)?;
        let dumps = all
            .remove(&s)
            .unwrap_or_default()
            .into_iter()
            .map(|d| DumpInfo {
                good: d.complete,
                name: d.name,
                time: d.time,
                size: d.size,
                duration_ms: None,
            })
            .collect();
        let mut e = SourceDumps { source: s, dumps };
        if let Some(name) = e.newest_good(now).map(|d| d.name.clone()) {
            let key = remote.url.key(&format!("{}/{name}.json", e.source));
            let ms = remote
                .small(&key)?
                .and_then(|m| serde_json::from_slice::<Value>(&m).ok())
                .and_then(|m| m["durationMs"].as_u64());
            if let Some(d) = e.dumps.iter_mut().find(|d| d.name == name) {
                d.duration_ms = ms;
            }
        }
        v.push(e);
    }
    Ok(v)
}

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

// ---- the commands' remote halves -------------------------------------------

/// `list --remote`.
pub fn list(url: &str, source: Option<&str>, as_json: bool) -> Result<pgkit::cli::Summary> {
    let remote = Remote::open(url)?;
    if let Some(s) = source {
        layout::check_source(s)?;
    }
    let all = remote.scan(source)?;
    let now = Utc::now();
    let mut rows: Vec<[String; 5]> = Vec::new();
    let mut json_rows = Vec::new();
    let (mut dumps, mut partial) = (0usize, 0usize);
    for (s, v) in &all {
        for d in v {
            let state = if d.complete { "uploaded" } else { "partial" };
            if d.complete {
                dumps += 1;
            } else {
                partial += 1;
            }
            let age = (now - d.time).num_seconds();
            if as_json {
                json_rows.push(json!({"source": s, "file": d.name,
                    "url": remote.url.dump_url(s, &d.name),
                    "kind": if d.complete { "dump" } else { "partial" },
                    "format": d.format.as_str(), "sizeBytes": d.size,
                    "created": d.time.to_rfc3339_opts(SecondsFormat::Secs, true),
                    "uploaded": d.uploaded.to_rfc3339_opts(SecondsFormat::Secs, true),
                    "ageSeconds": age, "state": state}));
            } else {
                rows.push([
                    s.clone(),
                    d.name.clone(),
                    layout::human_size(d.size),
                    layout::human_age(age),
                    state.to_string(),
                ]);
            }
        }
    }
    if as_json {
        out::println(&Value::Array(json_rows).to_string())?;
    } else if !rows.is_empty() {
        let text = layout::table(["SOURCE", "DUMP", "SIZE", "AGE", "STATE"], &rows);
        out::print(&text)?;
    }
    Ok(pgkit::cli::Summary::ok("Remote dumps listed")
        .field("remote", remote.shown())
        .field("sources", all.len())
        .field("dumps", dumps)
        .field("partial", partial))
}

/// `verify --remote`: the named dumps (`SOURCE/NAME`, a bare `NAME`, or a
/// full `s3://` URL), or every committed dump with `all`.
pub fn verify(
    url: Option<&str>,
    names: &[String],
    all: bool,
    source: Option<&str>,
) -> Result<pgkit::cli::Summary> {
    let mut targets: Vec<(RemoteUrl, String, String)> = Vec::new();
    let base = url.map(RemoteUrl::parse).transpose()?;
    if all {
        let u = base
            .clone()
            .ok_or_else(|| Error::usage("--all needs --remote URL"))?;
        let r = Remote::with(u.clone())?;
        for (s, v) in r.scan(source)? {
            for d in v.into_iter().filter(|d| d.complete) {
                targets.push((u.clone(), s.clone(), d.name));
            }
        }
    } else {
        for n in names {
            if n.starts_with("s3://") {
                targets.push(parse_dump_url(n)?);
                continue;
            }
            let u = base
                .clone()
                .ok_or_else(|| Error::usage("--remote URL needed"))?;
            let name = n.rsplit('/').next().unwrap_or(n).to_string();
            let src = match n.rsplit_once('/') {
                Some((s, _)) => s.to_string(),
                None => source_of(&name).unwrap_or_default(),
            };
            if !layout::valid_source(&src) || layout::parse_dump_name(&src, &name).is_none() {
                return Err(Error::usage("Not the name of a dump")
                    .cause(format!("{n:?}"))
                    .suggest("Give SOURCE_YYYYMMDDTHHMMSSZ.EXT as 'list --remote' shows it"));
            }
            targets.push((u, src, name));
        }
    }
    if targets.is_empty() && !all {
        return Err(Error::usage("Nothing to verify").suggest("Name dumps, or pass --all"));
    }
    let mut failed = Vec::new();
    let mut remotes: BTreeMap<(String, String), Remote> = BTreeMap::new();
    for (u, s, n) in &targets {
        let id = (u.bucket.clone(), u.prefix.clone());
        if !remotes.contains_key(&id) {
            remotes.insert(id.clone(), Remote::with(u.clone())?);
        }
        let Some(r) = remotes.get(&id) else { continue };
        let shown = r.url.dump_url(s, n);
        match r.verify(s, n) {
            Ok(()) => {
                log::info("Dump verified", json!({"remote": shown}));
                out::println(&format!("{shown}: OK"))?;
            }
            Err(e) if e.code == Exit::Dump => {
                log::error(
                    &format!("Dump failed verification: {}", e.message),
                    json!({"remote": shown, "error": e.error}),
                );
                out::println(&format!("{shown}: FAILED"))?;
                failed.push(shown);
            }
            Err(e) => return Err(e),
        }
    }
    if !failed.is_empty() {
        return Err(Error::new(
            Exit::Dump,
            format!("Verification failed: {}", failed.join(", ")),
        )
        .field("failed", failed.len())
        .suggest("Do not rely on these copies; upload good dumps again"));
    }
    Ok(pgkit::cli::Summary::ok("All remote dumps verified").field("verified", targets.len()))
}

/// The source of a bare dump name: what stands before `_STAMP.EXT`.
fn source_of(name: &str) -> Option<String> {
    let dot = name.find('.')?;
    let stem = &name[..dot];
    let cut = stem.len().checked_sub(17)?;
    (stem.as_bytes().get(cut) == Some(&b'_')).then(|| stem[..cut].to_string())
}

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

/// `purge --remote`: the retention rules applied to the remote only.
pub fn purge(
    url: &str,
    retention: &RetentionArgs,
    n: Option<u32>,
    source: Option<&str>,
    dry_run: bool,
    yes: bool,
    as_json: bool,
) -> Result<pgkit::cli::Summary> {
    let rules = retention.rules(n)?;
    if !rules.any() {
        return Err(Error::usage("No retention rule given").suggest(
            "Give N (keep the newest N) or --keep-last/--keep-daily/--keep-weekly/... (see --help)",
        ));
    }
    let partial_age =
        chrono::Duration::from_std(retention.partial_age()?).unwrap_or(chrono::Duration::MAX);
    let remote = Remote::open(url)?;
    if let Some(s) = source {
        layout::check_source(s)?;
    }
    let all = remote.scan(source)?;
    let now = Utc::now();
    // (source, dump, remove?, reasons)
    let mut plan: Vec<(String, RemoteDump, bool, Vec<String>)> = Vec::new();
    for (s, v) in &all {
        let good: Vec<&RemoteDump> = v.iter().filter(|d| d.complete).collect();
        let items: Vec<Item> = good
            .iter()
            .map(|d| Item {
                time: d.time,
                bad: None,
            })
            .collect();
        for (d, dec) in good.iter().zip(retention::plan(&items, &rules, now)) {
            let (go, why) = match dec {
                Decision::Keep(r) => (false, r),
                Decision::Remove(r) => (true, vec![r]),
            };
            plan.push((s.clone(), (*d).clone(), go, why));
        }
        for d in v.iter().filter(|d| !d.complete) {
            let age = now - d.uploaded;
            let go = age > partial_age;
            let why = format!(
                "upload not committed (no sidecar), last written {} ago ({} --partial-age)",
                layout::human_age(age.num_seconds()),
                if go { "older than" } else { "within" }
            );
            plan.push((s.clone(), d.clone(), go, vec![why]));
        }
    }
    let to_remove = plan.iter().filter(|p| p.2).count();
    if dry_run {
        if as_json {
            let rows: Vec<Value> = plan
                .iter()
                .map(|(s, d, go, why)| {
                    json!({"source": s, "file": d.name,
                    "action": if *go { "remove" } else { "keep" }, "reasons": why})
                })
                .collect();
            out::println(&Value::Array(rows).to_string())?;
        } else {
            let mut text = String::new();
            for (s, d, go, why) in &plan {
                let action = if *go { "remove" } else { "keep" };
                text.push_str(&format!(
                    "{action:<6}  {s}/{}  {}\n",
                    d.name,
                    why.join(", ")
                ));
            }
            out::print(&text)?;
        }
        return Ok(pgkit::cli::Summary::ok("Dry run: nothing removed")
            .field("remote", remote.shown())
            .field("wouldRemove", to_remove));
    }
    if to_remove == 0 {
        return Ok(pgkit::cli::Summary::ok("Nothing to purge").field("remote", remote.shown()));
    }
    if !yes {
        let removals: Vec<String> = plan
            .iter()
            .filter(|p| p.2)
            .map(|(s, d, _, why)| format!("remove  {s}/{}  {}", d.name, why.join(", ")))
            .collect();
        if !crate::confirm::removal(&removals, to_remove, "remote dump(s)")? {
            return Ok(pgkit::cli::Summary::ok("Purge cancelled; nothing removed"));
        }
    }
    let mut removed = 0usize;
    for (s, d, go, why) in &plan {
        if !*go {
            continue;
        }
        remote.remove(d)?;
        log::info(
            "Remote dump removed",
            json!({"source": s, "remote": remote.url.dump_url(s, &d.name), "reason": why.join(", ")}),
        );
        removed += 1;
    }
    Ok(pgkit::cli::Summary::ok("Remote purge complete")
        .field("remote", remote.shown())
        .field("removed", removed)
        .field("kept", plan.len() - removed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u = RemoteUrl::parse("s3://my-bucket/backups/pg/").unwrap_or_else(|_| unreachable!());
        assert_eq!(u.bucket, "my-bucket");
        assert_eq!(u.prefix, "backups/pg");
        assert_eq!(u.key("app/x"), "backups/pg/app/x");
        assert_eq!(u.list_prefix(None), "backups/pg/");
        let bare = RemoteUrl::parse("s3://bkt").unwrap_or_else(|_| unreachable!());
        assert_eq!(bare.list_prefix(None), "");
        assert_eq!(bare.key("app/x"), "app/x");
        for bad in [
            "http://b/x",
            "s3://",
            "s3://B/x",
            "s3://b/../x",
            "s3://bk/a//b",
        ] {
            assert!(RemoteUrl::parse(bad).is_err(), "{bad}");
        }
        let (u, s, n) = parse_dump_url("s3://bkt/pre/fix/app_1/app_1_20250102T030405Z.pgdump")
            .unwrap_or_else(|_| unreachable!());
        assert_eq!((u.prefix.as_str(), s.as_str()), ("pre/fix", "app_1"));
        assert_eq!(n, "app_1_20250102T030405Z.pgdump");
        assert!(parse_dump_url("s3://bkt/app/other.pgdump").is_err());
        assert!(parse_dump_url("s3://bkt/x/.._20250102T030405Z.pgdump").is_err());
        assert_eq!(
            source_of("app_1_20250102T030405Z.sql.gz").as_deref(),
            Some("app_1")
        );
    }

    #[test]
    fn sizes() {
        assert_eq!(part_size("64MiB").ok(), Some(64 << 20));
        assert_eq!(part_size("5M").ok(), Some(5 << 20));
        assert_eq!(part_size("1048576").ok(), Some(1 << 20));
        assert!(part_size("1k").is_err());
        assert!(part_size("lots").is_err());
    }

    #[test]
    fn grouping() {
        let t = Utc::now();
        let o = |k: &str, size| Object {
            key: k.into(),
            size,
            modified: t,
        };
        let objects = vec![
            o("p/app/app_20250102T030405Z.pgdump", 10),
            o("p/app/app_20250102T030405Z.pgdump.json", 1),
            o("p/app/app_20250102T030405Z.pgdump.sha256", 1),
            o("p/app/app_20250103T030405Z.pgdump.json", 1),
            o("p/app/app_20250104T030405Z.dir/toc.dat", 3),
            o("p/app/app_20250104T030405Z.dir/1.dat.gz", 4),
            o("p/app/app_20250104T030405Z.dir.json", 1),
            o("p/app/app_20250104T030405Z.dir.sha256", 1),
            o("p/app/notes.txt", 1),
            o("p/other/app_20250102T030405Z.pgdump", 1),
        ];
        let g = group("p/", &objects);
        assert_eq!(g.len(), 1, "other/ holds no dump of its own shape");
        let v = &g["app"];
        assert_eq!(v.len(), 3);
        assert_eq!(v[0].name, "app_20250104T030405Z.dir");
        assert!(v[0].complete);
        assert_eq!(v[0].size, 7);
        assert!(!v[1].complete, "a manifest alone is an upload cut short");
        assert!(v[2].complete);
    }
}
