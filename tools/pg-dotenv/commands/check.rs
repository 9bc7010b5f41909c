//! `check --example FILE`: the keys a `.env` lacks against its
//! `.env.example`, and the keys it has that the example does not (as
//! dotenv-linter's `compare`); `--fix` appends the missing ones with the
//! example's value and the comment lines just above it, each after the key
//! that precedes it in the example, leaving every other byte as it was.

use super::{read_only_error, warn_unless_sh_name, Ctx};
use crate::cli::CheckArgs;
use crate::parse::{self, Doc};
use crate::read::{malformed, read_file};
use crate::write;
use pgkit::cli::Summary;
use pgkit::{log, out, Exit, Result};
use serde_json::json;
use std::path::Path;

fn keys<'a>(doc: &Doc, src: &'a str) -> Vec<&'a str> {
    let mut v: Vec<&str> = Vec::new();
    for e in &doc.entries {
        let k = e.key(src);
        if !v.contains(&k) {
            v.push(k);
        }
    }
    v
}

/// The example's text for one key: the comment lines right above its
/// statement, then the statement itself (with its line ending).
fn block<'a>(example: &'a str, doc: &Doc, key: &str) -> Option<&'a str> {
    let e = doc.entries.iter().rev().find(|e| e.key(example) == key)?;
    let mut start = e.span.start;
    loop {
        let before = &example[..start];
        let Some(prev_end) = before.strip_suffix('\n') else {
            break;
        };
        let line_start = prev_end.rfind('\n').map_or(0, |p| p + 1);
        let line = prev_end[line_start..].trim_end_matches('\r').trim_start();
        if line.starts_with('#') {
            start = line_start;
        } else {
            break;
        }
    }
    Some(&example[start..e.span.end])
}

/// Runs `check --example FILE [--fix]`.
pub fn run(ctx: &Ctx, a: &CheckArgs) -> Result<Summary> {
    let (example, fix): (&Path, bool) = (&a.example, a.fix);
    let path = ctx.target()?;
    let ex_text = read_file(example)?;
    let ex_doc = parse::parse_lenient(&ex_text).map_err(|e| malformed(example, &e))?;
    let text = match read_file(path) {
        Ok(t) => t,
        Err(e) if e.code == Exit::NoInput && fix => String::new(),
        Err(e) => return Err(e),
    };
    let doc = parse::parse_lenient(&text).map_err(|e| malformed(path, &e))?;
    let want = keys(&ex_doc, &ex_text);
    let have = keys(&doc, &text);
    let missing: Vec<&str> = want.iter().copied().filter(|k| !have.contains(k)).collect();
    let extra: Vec<&str> = have.iter().copied().filter(|k| !want.contains(k)).collect();
    let mut report = String::new();
    for k in &missing {
        report.push_str(&format!("missing\t{k}\n"));
    }
    for k in &extra {
        report.push_str(&format!("extra\t{k}\n"));
    }
    out::print(&report)?;
    let shown = path.display().to_string();
    if fix && !missing.is_empty() {
        let Some(mut locked) = write::lock(path, true, ctx.lock_timeout)? else {
            return Err(
                pgkit::Error::new(Exit::Failure, "Cannot create the file").field("filename", shown)
            );
        };
        let cur = locked.text.clone();
        let cur_doc = parse::parse_lenient(&cur).map_err(|e| malformed(path, &e))?;
        let eol = if cur_doc.crlf || (cur.is_empty() && ex_doc.crlf) {
            "\r\n"
        } else {
            "\n"
        };
        // Insertions (byte offset in the current text, text), in order.
        let mut inserts: Vec<(usize, String)> = Vec::new();
        for k in &missing {
            let Some(b) = block(&ex_text, &ex_doc, k) else {
                continue;
            };
            let mut b = b.replace("\r\n", "\n");
            if !b.ends_with('\n') {
                b.push('\n');
            }
            let b = if eol == "\r\n" {
                b.replace('\n', "\r\n")
            } else {
                b
            };
            // After the nearest key before it in the example that the file has.
            let pos = want.iter().position(|w| w == k).unwrap_or(0);
            let at = want[..pos]
                .iter()
                .rev()
                .find_map(|w| cur_doc.entries.iter().rev().find(|e| e.key(&cur) == *w))
                .map(|e| e.span.end)
                .unwrap_or(cur.len());
            inserts.push((at, b));
        }
        let mut new = String::with_capacity(cur.len() + 256);
        let mut last = 0;
        let mut eol_done = false;
        let mut sorted: Vec<(usize, usize, &String)> = inserts
            .iter()
            .enumerate()
            .map(|(i, (at, b))| (*at, i, b))
            .collect();
        sorted.sort();
        for (at, _, b) in sorted {
            new.push_str(&cur[last..at]);
            // A file without a final newline gets one before the insertion.
            if at == cur.len() && at > 0 && !cur.ends_with('\n') && !eol_done {
                new.push_str(eol);
                eol_done = true;
            }
            new.push_str(b);
            last = at;
        }
        new.push_str(&cur[last..]);
        if locked.read_only() && !ctx.force {
            return Err(read_only_error(path));
        }
        locked.commit(&new)?;
        for k in &missing {
            warn_unless_sh_name(k, path);
        }
        log::info(
            "Missing keys added from the example",
            json!({"filename": shown, "keys": missing}),
        );
        return Ok(Summary::ok("Keys added from the example")
            .field("filename", shown)
            .field("example", example.display().to_string())
            .field("added", missing)
            .field("extra", extra));
    }
    let s = Summary::ok(if missing.is_empty() {
        "Every key of the example is set"
    } else {
        "Keys missing from the file"
    })
    .field("filename", shown)
    .field("example", example.display().to_string())
    .field("missing", missing.clone())
    .field("extra", extra);
    Ok(if missing.is_empty() {
        s
    } else {
        s.code(Exit::Failure)
    })
}
