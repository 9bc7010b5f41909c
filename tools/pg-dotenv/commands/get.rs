//! `get KEY [--default V]`: prints KEY's value; exit 1 when absent.

use super::{check_key, Ctx};
use crate::cli::GetArgs;
use crate::read::Order;
use pgkit::cli::Summary;
use pgkit::{out, Exit, Result};

/// Runs `get`.
pub fn run(ctx: &Ctx, a: &GetArgs) -> Result<Summary> {
    let key = a.key.as_str();
    let default = a.default.as_deref();
    check_key(key)?;
    let values = match (ctx.load(Order::EnvFirst), default) {
        // `get K --default d` answers d when the file itself is missing.
        (Err(e), Some(d)) if e.code == Exit::NoInput => {
            out::println(d)?;
            return Ok(Summary::ok("File missing; default printed")
                .level(pgkit::log::Level::Warn)
                .field("key", key)
                .field("filename", ctx.shown())
                .field("default", true));
        }
        (r, _) => r?,
    };
    if let Some(e) = values.refused(key) {
        return Err(e.clone());
    }
    match values.get(key).or(default) {
        Some(v) => {
            out::println(v)?;
            let s = Summary::ok("Key read")
                .field("key", key)
                .field("filename", ctx.shown());
            Ok(if values.get(key).is_none() {
                s.field("default", true)
            } else {
                s
            })
        }
        None => Ok(Summary::ok("Key not found")
            .code(Exit::Failure)
            .field("key", key)
            .field("filename", ctx.shown())),
    }
}
