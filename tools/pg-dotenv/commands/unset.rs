//! `unset KEY…`: removes every occurrence of each key.

use super::{check_key, dedup, modify, Ctx};
use crate::cli::UnsetArgs;
use crate::edit::Op;
use pgkit::cli::Summary;
use pgkit::Result;

/// Runs `unset`.
pub fn run(ctx: &Ctx, a: &UnsetArgs) -> Result<Summary> {
    for k in &a.keys {
        check_key(k)?;
    }
    let ops: Vec<Op> = a.keys.iter().map(|k| Op::Unset(k.clone())).collect();
    let file = ctx.target()?.display().to_string();
    match modify(ctx, &ops, false)? {
        None => Ok(Summary::ok("File does not exist; nothing to unset").field("filename", file)),
        Some(o) => Ok(Summary::ok(if o.removed.is_empty() {
            "Nothing to change"
        } else {
            "Keys unset"
        })
        .field("filename", file)
        .field("removed", dedup(o.removed))
        .field("absent", dedup(o.unchanged))),
    }
}
