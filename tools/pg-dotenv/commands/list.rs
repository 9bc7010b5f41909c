//! `list [--format F]`: every key and value, in file order.

use super::Ctx;
use crate::cli::ListArgs;
use crate::format;
use crate::read::Order;
use pgkit::cli::Summary;
use pgkit::{out, Result};

/// Runs `list`.
pub fn run(ctx: &Ctx, a: &ListArgs) -> Result<Summary> {
    let values = ctx.load(Order::EnvFirst)?;
    let (text, written) = format::render(&values.pairs(), a.format)?;
    out::print(&text)?;
    Ok(Summary::ok("Keys listed")
        .field("filename", ctx.shown())
        .field("keys", written))
}
