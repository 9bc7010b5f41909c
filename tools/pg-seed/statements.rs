//! Statement boundaries in a seed file, by the lexer pg-seed shares with
//! pg-migrate ([`pgkit::statements`]): used to say on which line a failing
//! statement starts when the server gives no error position, and to find
//! the statements that would end the run's transaction. The file itself is
//! always executed as written, in one batch.

pub use pgkit::statements::{split, transaction_control};
