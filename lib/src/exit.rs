//! The one exit-code table every pgkit tool shares (DESIGN.md, "Exit codes").
//!
//! The man pages and the README print this table; a test checks they agree.

/// A process exit code with a documented meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Exit {
    /// Success.
    Ok = 0,
    /// General failure; for a query tool (`pg-dotenv get`), "not found".
    Failure = 1,
    /// Database not ready or unreachable before the deadline.
    NotReady = 2,
    /// Migration failed (SQL error, checksum mismatch, drift, out-of-order).
    Migration = 3,
    /// Seed failed.
    Seed = 4,
    /// Dump, restore or verification failed.
    Dump = 5,
    /// Usage error: bad flag or argument (sysexits EX_USAGE).
    Usage = 64,
    /// Bad input data: malformed .env line, migration file name, CSV (EX_DATAERR).
    DataErr = 65,
    /// An input file or directory is missing (EX_NOINPUT).
    NoInput = 66,
    /// Internal error: a bug in the tool, never a panic's raw text (EX_SOFTWARE).
    Software = 70,
    /// Temporary failure, retry later: e.g. the migration lock is held (EX_TEMPFAIL).
    TempFail = 75,
    /// Permission denied or read-only file system (EX_NOPERM).
    NoPerm = 77,
    /// Bad configuration: unparsable DSN, invalid env value (EX_CONFIG).
    Config = 78,
    /// A program was found but cannot be run (not executable), as shells.
    CannotExecute = 126,
    /// A required program is missing (pg_dump, pg_restore).
    MissingProgram = 127,
    /// Interrupted by SIGINT.
    Interrupted = 130,
    /// Terminated by SIGTERM.
    Terminated = 143,
}

/// Every code with its meaning, in the order DESIGN.md lists them.
pub const TABLE: &[(Exit, &str)] = &[
    (Exit::Ok, "success"),
    (
        Exit::Failure,
        "general failure; for a query tool (`pg-dotenv get`), \"not found\"",
    ),
    (
        Exit::NotReady,
        "database not ready or unreachable before the deadline",
    ),
    (
        Exit::Migration,
        "migration failed (SQL error, checksum mismatch, drift, out-of-order)",
    ),
    (Exit::Seed, "seed failed"),
    (Exit::Dump, "dump, restore or verification failed"),
    (
        Exit::Usage,
        "usage error: bad flag or argument (sysexits EX_USAGE)",
    ),
    (
        Exit::DataErr,
        "bad input data: malformed .env line, migration file name, CSV (EX_DATAERR)",
    ),
    (
        Exit::NoInput,
        "an input file or directory is missing (EX_NOINPUT)",
    ),
    (
        Exit::Software,
        "internal error: a bug in the tool, never a panic's raw text (EX_SOFTWARE)",
    ),
    (
        Exit::TempFail,
        "temporary failure, retry later: e.g. the migration lock is held (EX_TEMPFAIL)",
    ),
    (
        Exit::NoPerm,
        "permission denied or read-only file system: a file or directory the tool must read or write (EX_NOPERM)",
    ),
    (
        Exit::Config,
        "bad configuration: unparsable DSN, invalid env value (EX_CONFIG)",
    ),
    (
        Exit::CannotExecute,
        "a program was found but cannot be run: not executable (`pg-dotenv run`), as shells",
    ),
    (
        Exit::MissingProgram,
        "a required program is missing (pg_dump, pg_restore)",
    ),
    (Exit::Interrupted, "interrupted by SIGINT"),
    (Exit::Terminated, "terminated by SIGTERM"),
];

impl Exit {
    /// The numeric code.
    pub fn code(self) -> i32 {
        self as u8 as i32
    }

    /// The meaning, as the table states it.
    pub fn meaning(self) -> &'static str {
        TABLE
            .iter()
            .find(|(e, _)| *e == self)
            .map(|(_, m)| *m)
            .unwrap_or("")
    }

    /// The code for a numeric value, when it is one of the table's.
    pub fn from_code(code: i32) -> Option<Exit> {
        TABLE.iter().map(|(e, _)| *e).find(|e| e.code() == code)
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(e: Exit) -> Self {
        std::process::ExitCode::from(e as u8)
    }
}

/// The table as Markdown, the form the README embeds.
pub fn markdown_table() -> String {
    let mut s = String::from("| code | meaning |\n|---|---|\n");
    for (e, m) in TABLE {
        s.push_str(&format!("| {} | {} |\n", e.code(), m));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_documented_numbers() {
        let codes: Vec<i32> = TABLE.iter().map(|(e, _)| e.code()).collect();
        assert_eq!(
            codes,
            vec![0, 1, 2, 3, 4, 5, 64, 65, 66, 70, 75, 77, 78, 126, 127, 130, 143]
        );
    }

    #[test]
    fn round_trips_and_meanings() {
        for (e, m) in TABLE {
            assert_eq!(Exit::from_code(e.code()), Some(*e));
            assert_eq!(e.meaning(), *m);
            assert!(!m.is_empty());
        }
        assert_eq!(Exit::from_code(42), None);
    }
}
