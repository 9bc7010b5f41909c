//! What a listing of the store holds: dumps per source, committed or not,
//! and the file list a directory dump's sidecar names.

use super::client::Object;
use crate::layout::{self, Format};
use chrono::{DateTime, Utc};
use pgkit::{Error, Exit, Result};
use std::collections::BTreeMap;

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
    pub(super) keys: Vec<String>,
}

/// A directory dump's sidecar lines: (digest, file name inside the dump).
pub(super) fn sidecar_files(text: &str, name: &str) -> Result<Vec<(String, String)>> {
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

/// What an object of the tool's shape is part of.
pub(super) enum Part {
    /// The data: `SOURCE/NAME` or a directory dump's `SOURCE/NAME.dir/FILE`.
    Data,
    /// `SOURCE/NAME.sha256`.
    Sidecar,
    /// `SOURCE/NAME.json`.
    Manifest,
}

/// The source, dump name and part of a key under `root`; None for a key of
/// another shape (another tool's object under the same prefix).
pub(super) fn key_part<'k>(root: &str, key: &'k str) -> Option<(&'k str, &'k str, Part)> {
    let rel = key.strip_prefix(root)?;
    let (source, rest) = rel.split_once('/')?;
    if !layout::valid_source(source) {
        return None;
    }
    let (base, part) = if let Some((dir, file)) = rest.split_once('/') {
        if file.contains('/') || !dir.ends_with(".dir") {
            return None;
        }
        (dir, Part::Data)
    } else if let Some(b) = rest.strip_suffix(".sha256") {
        (b, Part::Sidecar)
    } else if let Some(b) = rest.strip_suffix(".json") {
        (b, Part::Manifest)
    } else {
        (rest, Part::Data)
    };
    layout::parse_dump_name(source, base)?;
    Some((source, base, part))
}

/// Groups a listing into dumps per source. Only keys of the tool's shape
/// count (`key_part`).
pub(super) fn group(root: &str, objects: &[Object]) -> BTreeMap<String, Vec<RemoteDump>> {
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
        let Some((source, base, part)) = key_part(root, &o.key) else {
            continue;
        };
        let s = seen
            .entry((source.to_string(), base.to_string()))
            .or_default();
        match part {
            Part::Data => {
                s.data = true;
                s.size += o.size;
            }
            Part::Sidecar => s.sidecar = true,
            Part::Manifest => s.manifest = true,
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

#[cfg(test)]
mod tests {
    use super::*;

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
