//! `pgenv [--prefix P]`: one `export PG…=…` line for `eval` (the rendering
//! is in crate::pgenv).

use super::Ctx;
use crate::cli::PgenvArgs;
use crate::pgenv::{self, Source};
use crate::read::Order;
use pgkit::cli::Summary;
use pgkit::{out, Result};

/// Runs `pgenv`.
pub fn run(ctx: &Ctx, a: &PgenvArgs) -> Result<Summary> {
    let values = ctx.load(Order::EnvFirst)?;
    let (text, source) = pgenv::render(&values, &a.prefix)?;
    out::print(&text)?;
    Ok(Summary::ok("libpq variables printed")
        .field("filename", ctx.shown())
        .field(
            "source",
            match source {
                Source::Url(k) => k,
                Source::Keys => format!("{}POSTGRES_*", a.prefix),
            },
        ))
}
