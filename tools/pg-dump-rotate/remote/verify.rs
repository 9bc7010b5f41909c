//! `verify --remote`.

use super::store::Remote;
use super::url::{parse_dump_url, source_of, RemoteUrl};
use crate::layout;
use pgkit::{log, out, Error, Exit, Result};
use serde_json::json;
use std::collections::BTreeMap;

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
    if targets.is_empty() {
        log::warn(
            "No committed dumps to verify in the remote",
            json!({"remote": url, "source": source,
                   "suggestion": "Alert on missing dumps with 'pg-dump-rotate check --remote URL --source S --max-age 26h'"}),
        );
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
