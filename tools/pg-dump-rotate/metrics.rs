//! The Prometheus textfile-collector file `check --metrics-file` writes
//! (node_exporter's `--collector.textfile.directory`): per source, the
//! newest good dump's time, size and duration, how many good dumps there
//! are, and whether the source passed the check's rules. Written to a
//! temporary file in the same directory, then renamed over the old one, so
//! the collector never reads half a file.

use crate::durable::sync_dir;
use crate::freshness::SourceDumps;
use chrono::{DateTime, Utc};
use pgkit::{Error, Exit, Result};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// A label value escaped as the text format wants: `\`, `"` and newline.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The file's text; `failed` are the sources that failed the check, and
/// `location` (the dump directory, or the remote's `s3://BUCKET/PREFIX`)
/// labels every sample: a local and a remote check of the same sources
/// write series that differ, so one node_exporter can read both files
/// (it refuses a series that two files both have).
pub fn render(
    entries: &[SourceDumps],
    now: DateTime<Utc>,
    failed: &[&str],
    location: &str,
) -> String {
    let labels = |e: &SourceDumps| {
        format!(
            "{{source=\"{}\",location=\"{}\"}}",
            label(&e.source),
            label(location)
        )
    };
    type Sample = fn(&SourceDumps, DateTime<Utc>) -> Option<String>;
    let families: [(&str, &str, Sample); 4] = [
        (
            "pgkit_dump_last_success_timestamp_seconds",
            "Unix time the newest good dump of the source started (from its name).",
            |e, now| e.newest_good(now).map(|d| d.time.timestamp().to_string()),
        ),
        (
            "pgkit_dump_last_size_bytes",
            "Size in bytes of the newest good dump of the source.",
            |e, now| e.newest_good(now).map(|d| d.size.to_string()),
        ),
        (
            "pgkit_dump_last_duration_seconds",
            "How long the newest good dump of the source took, in seconds.",
            |e, now| {
                e.newest_good(now)
                    .and_then(|d| d.duration_ms)
                    .map(|ms| format!("{:.3}", ms as f64 / 1000.0))
            },
        ),
        // (Not `_count`: that suffix is a histogram's or summary's.)
        (
            "pgkit_dump_good_dumps",
            "How many good dumps the source has.",
            |e, _| Some(e.good_count().to_string()),
        ),
    ];
    let mut s = String::new();
    for (name, help, sample) in families {
        family(&mut s, name, help);
        for e in entries {
            if let Some(v) = sample(e, now) {
                s.push_str(&format!("{name}{} {v}\n", labels(e)));
            }
        }
    }
    let name = "pgkit_dump_check_ok";
    family(
        &mut s,
        name,
        "1 when the source passed the check's rules (--max-age, --min-size), else 0.",
    );
    for e in entries {
        let ok = u8::from(!failed.contains(&e.source.as_str()));
        s.push_str(&format!("{name}{} {ok}\n", labels(e)));
    }
    s
}

fn family(s: &mut String, name: &str, help: &str) {
    s.push_str(&format!("# HELP {name} {help}\n# TYPE {name} gauge\n"));
}

/// Writes `text` to `path` atomically: a temporary file beside it (a hidden
/// name the collector skips, as it reads only `*.prom`), fsynced, mode
/// 0644, renamed over `path`.
pub fn write_atomic(path: &Path, text: &str) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).ok_or_else(|| {
        Error::usage("Invalid --metrics-file").cause(format!("{} names no file", path.display()))
    })?;
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let io = |what: &str, p: &Path, e: std::io::Error| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(Exit::Failure, what, p, &e)
            .suggest("Check that --metrics-file's directory exists and is writable")
    };
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o644)
        .open(&tmp)
        .map_err(|e| io("create", &tmp, e))?;
    f.write_all(text.as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(|e| io("write", &tmp, e))?;
    // The umask may have narrowed the mode: the collector runs as another user.
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o644))
        .map_err(|e| io("chmod", &tmp, e))?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(|e| io("rename", path, e))?;
    sync_dir(dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::freshness::DumpInfo;

    #[test]
    fn families_and_labels() {
        let now = Utc::now();
        let entries = vec![
            SourceDumps {
                source: "a\"b".into(),
                dumps: vec![DumpInfo {
                    name: "x".into(),
                    time: now,
                    size: 42,
                    good: true,
                    duration_ms: Some(1500),
                    globals: false,
                }],
            },
            SourceDumps {
                source: "none".into(),
                dumps: vec![],
            },
        ];
        let t = render(&entries, now, &["none"], "/var/backups/p\\g");
        let at = ",location=\"/var/backups/p\\\\g\"}";
        assert!(
            t.contains(&format!(
                "pgkit_dump_last_size_bytes{{source=\"a\\\"b\"{at} 42\n"
            )),
            "{t}"
        );
        assert!(t.contains(&format!(
            "pgkit_dump_last_duration_seconds{{source=\"a\\\"b\"{at} 1.500\n"
        )));
        assert!(t.contains(&format!("pgkit_dump_good_dumps{{source=\"none\"{at} 0\n")));
        assert!(!t.contains("pgkit_dump_last_size_bytes{source=\"none\""));
        assert!(
            t.contains(&format!("pgkit_dump_check_ok{{source=\"a\\\"b\"{at} 1\n")),
            "{t}"
        );
        assert!(t.contains(&format!("pgkit_dump_check_ok{{source=\"none\"{at} 0\n")));
        assert_eq!(t.matches("# TYPE ").count(), 5);
    }
}
