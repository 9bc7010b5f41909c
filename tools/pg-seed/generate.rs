//! `pg-seed generate`.
use pgkit::{cli::Summary, Error, Exit, Result};

/// Runs `pg-seed generate`.
pub fn run(_g: &crate::GenerateArgs) -> Result<Summary> {
    Err(Error::new(Exit::Seed, "not implemented yet"))
}
