//! A connected remote and its object operations: list, download, hash,
//! remove.

use super::client::{Client, S3Error};
use super::dumps::{group, sidecar_files, RemoteDump};
use super::url::RemoteUrl;
use crate::layout::{self, Format};
use pgkit::{log, Error, Exit, Result};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// A connected remote: URL, settings, client.
pub struct Remote {
    pub url: RemoteUrl,
    pub(super) client: Client,
}

impl Remote {
    /// Parses the URL and resolves the credentials (78 when there are none).
    pub fn open(url: &str) -> Result<Remote> {
        let url = RemoteUrl::parse(url)?;
        Remote::with(url)
    }

    pub(super) fn with(url: RemoteUrl) -> Result<Remote> {
        let cfg = super::config::Config::resolve()?;
        let client = Client::new(&cfg, &url.bucket)?;
        Ok(Remote { url, client })
    }

    pub(super) fn shown(&self) -> String {
        self.url.display()
    }

    pub(super) fn fail(&self, e: S3Error, code: Option<Exit>, message: &str) -> Error {
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

    pub(super) fn small(&self, key: &str) -> Result<Option<Vec<u8>>> {
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
    pub(super) fn remove(&self, d: &RemoteDump) -> Result<()> {
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

fn write_file(path: &Path, data: &[u8]) -> Result<()> {
    std::fs::write(path, data).map_err(|e| Error::io(Exit::Dump, "write", path, &e))
}
