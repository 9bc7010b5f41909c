//! `down`: revert applied migrations newest first with their .down.sql
//! files, each in its own transaction with the row's removal.

use crate::apply::{Direction, Job};
use crate::cli::DownArgs;
use crate::files::{self, cmp_version};
use crate::plan::{self, State};
use crate::session::Session;
use pgkit::cli::Summary;
use pgkit::{log, Error, Exit, Result};
use serde_json::json;

/// Runs `down`.
pub fn run(a: &DownArgs) -> Result<Summary> {
    let dir = &a.common.dir;
    let files = files::discover(dir, a.common.layout)?;
    // --to in the folder's version order, known now.
    let to =
        a.to.as_deref()
            .map(|v| super::version_arg("--to", v))
            .transpose()?;
    let mut s = Session::open(&a.common, true)?;
    let r = revert(a, &mut s, &files, to.as_deref());
    s.close();
    r
}

fn revert(
    a: &DownArgs,
    s: &mut Session,
    files: &[files::Migration],
    to: Option<&str>,
) -> Result<Summary> {
    let dir = &a.common.dir;
    let history = s.table.read(&mut s.client)?;
    let sums = plan::checksums(dir, files)?;
    let entries = plan::build(dir, files, &sums, &history);
    if let Some(f) = entries.iter().find(|e| e.state == State::Failed) {
        return Err(plan::failed_error(f));
    }
    // Repeatable scripts have no down: they are not reverted.
    let mut applied: Vec<_> = entries
        .iter()
        .filter(|e| e.row.is_some() && !crate::layout::is_repeatable(e.version))
        .collect();
    applied.reverse();
    let targets: Vec<_> = match to {
        Some(t) => applied
            .into_iter()
            .filter(|e| cmp_version(e.version, t).is_gt())
            .collect(),
        None => applied.into_iter().take(a.steps as usize).collect(),
    };
    if targets.is_empty() {
        return Ok(Summary::ok("Nothing to revert").field("reverted", 0));
    }
    // Every needed down file must exist before anything runs.
    let mut jobs = Vec::new();
    for e in &targets {
        let text = match &e.file {
            Some(f) => files::read_down(dir, f)?,
            None => None,
        };
        let down = e.file.as_ref().and_then(|f| f.down.clone());
        let (Some(down), Some(text)) = (down, text) else {
            return Err(Error::new(Exit::Migration, "Down migration missing")
                .field("filename", e.filename().to_string())
                .field("version", e.version)
                .suggest("Write its .down.sql file, or revert it by hand and delete its row from the tracking table"));
        };
        let (content, no_tx) = (text.content, text.no_tx);
        let checked = super::up::check_text(&down, &content, no_tx)?;
        let stored = e
            .row
            .as_ref()
            .map(|r| r.checksum.clone())
            .unwrap_or_default();
        jobs.push((
            e.version.to_string(),
            e.filename().to_string(),
            down,
            content,
            stored,
            checked,
            no_tx,
        ));
    }
    let pid = s.backend_pid();
    let watcher = s.watcher(pid, &a.exec);
    let mut runner = s.runner(watcher.as_ref(), &a.exec)?;
    let mut reverted = 0usize;
    for (version, up, down, content, stored, checked, no_tx) in &jobs {
        let job = Job {
            filename: down,
            up_filename: up,
            version,
            content,
            script: checked.script.as_ref(),
            alone: !checked.clean,
            touches_session: crate::apply::may_touch_session(content),
            checksum: stored,
            direction: Direction::Down,
            relaxed: false,
        };
        let r = if *no_tx {
            runner.run_no_tx(&job)
        } else {
            runner
                .run_tx(&job, false)
                .map_err(|e| runner.with_statement_line(&job, e))
        };
        match r {
            Ok(d) => {
                reverted += 1;
                log::info(
                    "Migration reverted",
                    json!({"filename": down, "version": version, "durationMs": d.as_millis() as u64}),
                );
            }
            Err(e) => return Err(e.field("reverted", reverted)),
        }
    }
    Ok(Summary::ok("Migrations reverted").field("reverted", reverted))
}
