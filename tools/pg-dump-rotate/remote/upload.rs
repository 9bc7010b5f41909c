//! The commit-ordered upload of one local dump: the data first (in parts
//! when large, each part's SHA-256 sent along), then the manifest, the
//! sidecar last.

use super::client::S3Error;
use super::dumps::sidecar_files;
use super::store::Remote;
use crate::layout;
use pgkit::{log, Error, Exit, Result};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::Path;

/// Probes the remote before a dump: a store that is down, or refuses or
/// lacks the credentials, is warned about and the dump goes on. The backup
/// comes first: the local dump is made whatever the store's state, and its
/// upload afterwards fails (5) with the cause, keeping it. A malformed URL
/// or part size is a usage error before anything runs.
pub fn probe_before_dump(url: &str, part_size: &str) -> Result<()> {
    super::part_size(part_size)?;
    let parsed = super::url::RemoteUrl::parse(url)?;
    if let Err(e) = Remote::open(url).and_then(|r| r.probe()) {
        log::warn(
            "Remote not usable now: the dump is made locally first, its upload tried after it",
            json!({"remote": parsed.display(),
                   "error": e.error.clone().unwrap_or(e.message.clone()),
                   "suggestion": e.suggestion}),
        );
    }
    Ok(())
}

/// Uploads a dump just written; any failure (the store, the credentials) is
/// 5 and keeps the local dump.
pub fn upload_after_dump(url: &str, source: &str, path: &Path, part_size: usize) -> Result<()> {
    Remote::open(url)
        .and_then(|r| r.upload(source, path, part_size))
        .map_err(|e| {
            if e.code == Exit::Dump {
                return e;
            }
            let mut up = Error::new(Exit::Dump, "Upload failed; the local dump is kept")
                .cause(e.error.clone().unwrap_or(e.message.clone()))
                .field("file", path.display().to_string());
            if let Some(s) = e.suggestion {
                up = up.suggest(s);
            }
            up
        })
}

impl Remote {
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
        // The manifest only now, just before the commit point: a multipart
        // upload is invisible until complete, so while a long one runs
        // nothing of it shows, and `purge --remote` elsewhere cannot take its
        // early manifest for the leftover of an upload cut short.
        self.client
            .put(&format!("{base}.json"), &manifest)
            .map_err(up)?;
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
