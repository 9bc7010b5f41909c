//! Other tools' migration folders, run as those tools run them (issue 14):
//! dbmate, golang-migrate, goose, sqlx, diesel, Flyway and refinery,
//! besides pgkit's own `{version}_{description}.up.sql`.
//!
//! | layout | files | order | down | no transaction |
//! |---|---|---|---|---|
//! | pgkit, golang-migrate | `V_x.up.sql` + `V_x.down.sql`, or `V_x.sql` | numeric | `.down.sql` | `-- pg-migrate: no-transaction` in the leading comments |
//! | sqlx | `V_x.sql`, or `V_x.up.sql` + `.down.sql` | numeric | `.down.sql` | first line `-- no-transaction` |
//! | dbmate | `V_x.sql` with `-- migrate:up` / `-- migrate:down` | by the version string | its down section | `transaction:false` on the section's line |
//! | goose | `V_x.sql` with `-- +goose Up` / `-- +goose Down` | numeric | its down section | `-- +goose NO TRANSACTION` |
//! | diesel | `V_x/up.sql` + `down.sql` (V as `2017-12-20-144812` or digits) | by the version, dashes left out, as a string | `down.sql` | `run_in_transaction = false` in `metadata.toml` |
//! | Flyway | `V1.2__x.sql`, undo `U1.2__x.sql`; repeatable `R__x.sql`; in subfolders too | by the dotted version, numerically (1.2 < 1.10); repeatables after, by description | `U` file | `.sql.conf`, or a statement that cannot run in one |
//! | refinery | `V1__x.sql`, and `U1__x.sql` that may come after newer versions; in subfolders too | numeric | — | — |
//!
//! The folder's order applies to every version pg-migrate compares while it
//! runs (one folder a run), so it is set once, when the folder is read.

use std::cmp::Ordering;
use std::sync::OnceLock;

/// A migration folder's layout (`--layout`, `MIGRATIONS_LAYOUT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Layout {
    /// Detect it from the folder.
    Auto,
    Pgkit,
    Dbmate,
    #[value(name = "golang-migrate")]
    GolangMigrate,
    Goose,
    Sqlx,
    Diesel,
    /// V1.2__x.sql, U1.2__x.sql, R__x.sql; a script mixing CREATE INDEX
    /// CONCURRENTLY (or the like) with other statements needs FLYWAY_MIXED=true
    /// or executeInTransaction=false in its .sql.conf, as in Flyway
    Flyway,
    Refinery,
}

impl Layout {
    /// The name, as `--layout` takes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Layout::Auto => "auto",
            Layout::Pgkit => "pgkit",
            Layout::Dbmate => "dbmate",
            Layout::GolangMigrate => "golang-migrate",
            Layout::Goose => "goose",
            Layout::Sqlx => "sqlx",
            Layout::Diesel => "diesel",
            Layout::Flyway => "flyway",
            Layout::Refinery => "refinery",
        }
    }
}

/// How a file holds its migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sections {
    /// The whole file is the up (or down) migration.
    Whole,
    /// dbmate: `-- migrate:up` … `-- migrate:down` …
    Dbmate,
    /// goose: `-- +goose Up` … `-- +goose Down` …
    Goose,
}

/// How versions compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Digits, numerically (leading zeros dropped).
    Numeric,
    /// As strings (dbmate, diesel).
    Text,
    /// Dotted numbers, part by part (Flyway).
    Dotted,
}

static ORDER: OnceLock<Order> = OnceLock::new();

/// Sets the run's version order (the first folder read decides).
pub fn set_order(o: Order) {
    let _ = ORDER.set(o);
}

/// The run's version order (numeric until a folder says otherwise).
pub fn order() -> Order {
    ORDER.get().copied().unwrap_or(Order::Numeric)
}

/// The key a version is tracked under, in the run's order: digits without
/// leading zeros; a dbmate or diesel version as written (diesel's dashes
/// left out); a Flyway version with `_` read as `.`, leading zeros and
/// trailing `.0` parts dropped (1.01.0 is 1.1). None when not a version.
pub fn normalize(s: &str) -> Option<String> {
    normalize_in(order(), s)
}

/// [`normalize`] in a given order.
pub fn normalize_in(order: Order, s: &str) -> Option<String> {
    match order {
        Order::Numeric => {
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let t = s.trim_start_matches('0');
            Some(if t.is_empty() { "0".into() } else { t.into() })
        }
        Order::Text => {
            let t: String = s.chars().filter(|&c| c != '-').collect();
            (!t.is_empty() && t.bytes().all(|b| b.is_ascii_digit())).then_some(t)
        }
        Order::Dotted => {
            let mut parts: Vec<String> = Vec::new();
            for p in s.split(['.', '_']) {
                if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                let t = p.trim_start_matches('0');
                parts.push(if t.is_empty() { "0".into() } else { t.into() });
            }
            while parts.len() > 1 && parts.last().is_some_and(|p| p == "0") {
                parts.pop();
            }
            Some(parts.join("."))
        }
    }
}

/// Compares two normalised versions in the run's order.
pub fn compare(a: &str, b: &str) -> Ordering {
    compare_in(order(), a, b)
}

/// The tracking key of a Flyway repeatable script (`R__{description}`):
/// after every versioned migration, in description order.
pub const REPEATABLE: &str = "R__";

/// Whether a tracking key is a repeatable script's.
pub fn is_repeatable(version: &str) -> bool {
    version.starts_with(REPEATABLE)
}

/// [`compare`] in a given order.
pub fn compare_in(order: Order, a: &str, b: &str) -> Ordering {
    match (is_repeatable(a), is_repeatable(b)) {
        (true, true) => return a.cmp(b),
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        (false, false) => {}
    }
    let numeric = |x: &str, y: &str| x.len().cmp(&y.len()).then_with(|| x.cmp(y));
    match order {
        Order::Numeric => numeric(a, b),
        Order::Text => a.cmp(b),
        Order::Dotted => {
            let mut x = a.split('.');
            let mut y = b.split('.');
            loop {
                match (x.next(), y.next()) {
                    (None, None) => return Ordering::Equal,
                    (Some(_), None) => return Ordering::Greater,
                    (None, Some(_)) => return Ordering::Less,
                    (Some(p), Some(q)) => match numeric(p, q) {
                        Ordering::Equal => {}
                        o => return o,
                    },
                }
            }
        }
    }
}

/// The annotation style a file's text shows (dbmate's `-- migrate:up`,
/// goose's `-- +goose Up`), from its first annotation line.
pub fn annotations(text: &str) -> Option<Sections> {
    text.lines().find_map(|line| {
        let rest = line.trim_start().strip_prefix("--")?.trim_start();
        if rest.starts_with("migrate:up") || rest.starts_with("migrate:down") {
            Some(Sections::Dbmate)
        } else if rest.len() > 6 && rest[..6].eq_ignore_ascii_case("+goose") {
            Some(Sections::Goose)
        } else {
            None
        }
    })
}

/// Which section of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Up,
    Down,
}

/// One section of a dbmate or goose file: its text (the annotation lines
/// left out, other lines kept so that line numbers stay the file's: lines
/// outside the section are blanked) and whether it runs outside a
/// transaction. Err when the file lacks its up annotation.
pub fn section(text: &str, style: Sections, part: Part) -> Result<(String, bool), String> {
    let mut out = String::with_capacity(text.len());
    let mut current: Option<Part> = None;
    let mut seen_up = false;
    let mut no_tx = false;
    // goose's parser: in the section it runs, a statement outside a
    // StatementBegin/End block must end with a semicolon before the next
    // annotation or the end of the file, and a block must be closed.
    let mut in_block = false;
    let mut unterminated: Option<usize> = None;
    for (n, line) in text.split_inclusive('\n').enumerate() {
        let directive = line
            .trim_start()
            .strip_prefix("--")
            .map(str::trim)
            .unwrap_or("");
        let mut is_annotation = false;
        match style {
            Sections::Dbmate => {
                let mut words = directive.split_whitespace();
                match words.next() {
                    // dbmate's sections pair up: up, down, up, down, each
                    // up with its down (its parser refuses anything else).
                    Some("migrate:up") if current == Some(Part::Up) => {
                        return Err(format!(
                            "line {}: a second '-- migrate:up' before its section's '-- migrate:down' (dbmate requires a down block in each section)",
                            n + 1
                        ))
                    }
                    Some("migrate:down") if current != Some(Part::Up) => {
                        return Err(format!(
                            "line {}: '-- migrate:down' without a '-- migrate:up' before it (dbmate requires an up block first in each section)",
                            n + 1
                        ))
                    }
                    Some("migrate:up") => {
                        current = Some(Part::Up);
                        seen_up = true;
                        is_annotation = true;
                    }
                    Some("migrate:down") => {
                        current = Some(Part::Down);
                        is_annotation = true;
                    }
                    _ => {}
                }
                if is_annotation && current == Some(part) {
                    no_tx |= words.any(|w| w.eq_ignore_ascii_case("transaction:false"));
                }
            }
            Sections::Goose => {
                if directive.len() >= 6 && directive[..6].eq_ignore_ascii_case("+goose") {
                    is_annotation = true;
                    let d = directive[6..].trim().to_ascii_lowercase();
                    if matches!(d.as_str(), "up" | "down") && current == Some(part) {
                        goose_terminated(unterminated, in_block)?;
                    }
                    match d.as_str() {
                        "up" => {
                            current = Some(Part::Up);
                            seen_up = true;
                        }
                        "down" => current = Some(Part::Down),
                        "no transaction" => no_tx = true,
                        "statementbegin" if current == Some(part) => in_block = true,
                        "statementend" if current == Some(part) => {
                            in_block = false;
                            unterminated = None;
                        }
                        // goose would substitute ${VAR} from the
                        // environment: never run such a file literally.
                        "envsub on" | "envsubst on" => {
                            return Err(format!(
                                "line {}: '-- +goose ENVSUB ON' (environment substitution) is not supported",
                                n + 1
                            ))
                        }
                        // StatementBegin/End delimit one statement: the
                        // server reads the section as one string anyway.
                        _ => {}
                    }
                }
            }
            Sections::Whole => {}
        }
        // Both tools refuse a statement before the first section (dbmate:
        // "statements preceding the '-- migrate:up' block"; goose: "must
        // start with '-- +goose Up'"): never dropped silently.
        let code = line.trim();
        if current.is_none() && !is_annotation && !code.is_empty() && !code.starts_with("--") {
            return Err(format!(
                "line {}: a statement before the first section's annotation",
                n + 1
            ));
        }
        if style == Sections::Goose
            && !is_annotation
            && current == Some(part)
            && !in_block
            && !code.is_empty()
            && !code.starts_with("--")
        {
            unterminated = (!goose_ends_statement(code)).then_some(n + 1);
        }
        if !is_annotation && current == Some(part) {
            out.push_str(line);
        } else {
            // Keep the line count.
            out.push_str(if line.ends_with('\n') { "\n" } else { "" });
        }
    }
    if style == Sections::Goose {
        goose_terminated(unterminated, in_block)?;
    }
    if style == Sections::Dbmate && current == Some(Part::Up) {
        return Err("no '-- migrate:down' after the last '-- migrate:up' (dbmate requires a down block in each section)".into());
    }
    if !seen_up {
        return Err(match style {
            Sections::Dbmate => "no '-- migrate:up' line".into(),
            _ => "no '-- +goose Up' line".into(),
        });
    }
    Ok((out, no_tx))
}

/// The first Flyway placeholder in a script (`${name}`, or a built-in such
/// as `${flyway:defaultSchema}`) and its line. Flyway replaces them in
/// every script before running it (placeholderReplacement is on by
/// default), so such a script run as written would create other objects
/// than Flyway creates.
pub fn flyway_placeholder(text: &str) -> Option<(usize, String)> {
    text.lines().enumerate().find_map(|(n, line)| {
        line.match_indices("${").find_map(|(i, _)| {
            let rest = &line[i + 2..];
            let name = &rest[..rest.find('}')?];
            let ok = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | ':' | '-'));
            ok.then(|| (n + 1, format!("${{{name}}}")))
        })
    })
}

/// Whether a line ends a statement as goose's parser reads it: its last
/// word before a `--` comment ends with a semicolon.
fn goose_ends_statement(line: &str) -> bool {
    line.split_whitespace()
        .take_while(|w| !w.starts_with("--"))
        .last()
        .is_some_and(|w| w.ends_with(';'))
}

/// goose's refusals at a section's end: a statement without its semicolon,
/// a StatementBegin without its StatementEnd.
fn goose_terminated(unterminated: Option<usize>, in_block: bool) -> Result<(), String> {
    if in_block {
        return Err("a '-- +goose StatementBegin' without its '-- +goose StatementEnd'".into());
    }
    match unterminated {
        Some(line) => Err(format!(
            "line {line}: a statement without its closing semicolon (goose refuses the file: 'missing semicolon?')"
        )),
        None => Ok(()),
    }
}

/// pgkit's marker that runs a file outside a transaction.
pub const NO_TRANSACTION: &str = "pg-migrate: no-transaction";

/// Whether a whole-file migration runs outside a transaction: pgkit's
/// marker on any line of the leading comment block, or sqlx's
/// `-- no-transaction` as the first line.
pub fn whole_file_no_tx(text: &str) -> bool {
    for (i, line) in text.lines().enumerate() {
        let l = line.trim();
        if l.is_empty() {
            continue;
        }
        let Some(rest) = l.strip_prefix("--") else {
            return false;
        };
        let words: String = rest.split_whitespace().collect::<Vec<_>>().join(" ");
        if words.eq_ignore_ascii_case(NO_TRANSACTION)
            || (i == 0 && words.eq_ignore_ascii_case("no-transaction"))
        {
            return true;
        }
    }
    false
}

/// Whether Flyway runs a script outside a transaction: its PostgreSQL
/// parser marks these statements as unable to run in one (Flyway's
/// `PostgreSQLParser.detectCanExecuteInTransaction`), and a script holding
/// one runs without a transaction.
pub fn flyway_non_tx(text: &str) -> bool {
    crate::splitter::split(text)
        .iter()
        .any(|s| flyway_non_tx_statement(s.text))
}

/// Whether Flyway's PostgreSQL parser marks one statement as unable to run
/// in a transaction.
fn flyway_non_tx_statement(text: &str) -> bool {
    let words: Vec<String> = text
        .split_whitespace()
        .take(5)
        .map(str::to_ascii_uppercase)
        .collect();
    let w: Vec<&str> = words.iter().map(String::as_str).collect();
    matches!(
        w.as_slice(),
        [
            "CREATE" | "DROP",
            "DATABASE" | "TABLESPACE" | "SUBSCRIPTION",
            ..
        ] | ["ALTER", "SYSTEM", ..]
            | ["VACUUM", ..]
            | ["DISCARD", "ALL", ..]
            | ["CREATE" | "DROP", "INDEX", "CONCURRENTLY", ..]
            | ["CREATE" | "DROP", "UNIQUE", "INDEX", "CONCURRENTLY", ..]
            | ["REINDEX", "SCHEMA" | "DATABASE" | "SYSTEM", ..]
            | ["REINDEX", "VERBOSE", "SCHEMA" | "DATABASE" | "SYSTEM", ..]
    )
}

/// The statement at which a Flyway script first mixes statements that can
/// run in a transaction with one that cannot (its line and first line of
/// text): Flyway's parser refuses such a script unless its `mixed` setting
/// is on ("Detected both transactional and non-transactional statements
/// within the same migration (even though mixed is false)") unless the
/// script's `.sql.conf` says `executeInTransaction=false` (checked with
/// Flyway 7.15). A script of only one kind is not mixed.
pub fn flyway_mixed(text: &str) -> Option<(usize, String)> {
    let (mut tx, mut non_tx) = (false, false);
    for s in crate::splitter::split(text) {
        if flyway_non_tx_statement(s.text) {
            non_tx = true;
        } else {
            tx = true;
        }
        if tx && non_tx {
            let first = s.text.lines().next().unwrap_or_default().trim().to_string();
            return Some((crate::script::line_at(text, s.offset), first));
        }
    }
    None
}

/// Flyway's per-script configuration `V1__x.sql.conf`:
/// `executeInTransaction=false`.
pub fn flyway_conf_no_tx(conf: &str) -> bool {
    conf.lines().any(|l| {
        l.split_once('=')
            .is_some_and(|(k, v)| k.trim() == "executeInTransaction" && v.trim() == "false")
    })
}

/// The checksum Flyway records for a script (`flyway_schema_history.checksum`):
/// CRC-32 over its lines' UTF-8 bytes without their line ends (Java's
/// `readLine`: `\n`, `\r` or `\r\n`), byte-order mark removed (as `text`
/// is), as a signed 32-bit number (Flyway's `ChecksumCalculator`, unchanged
/// from 7 to 11). `adopt` compares it to tell whether a repeatable script
/// is still the one Flyway applied.
pub fn flyway_checksum(text: &str) -> i32 {
    let mut crc = flate2::Crc::new();
    for line in text.split(['\r', '\n']) {
        crc.update(line.as_bytes());
    }
    // Flyway's is Java's `(int) crc32.getValue()`: the same 32 bits, signed.
    crc.sum() as i32
}

/// The Flyway callback event a script is named for (`afterMigrate.sql`,
/// `beforeEachMigrate__log.sql`), among those Flyway's `migrate` fires (it
/// validates and connects first): Flyway runs such a script around the
/// migrations, which pg-migrate never does, so the folder is refused rather
/// than run without it. Callbacks of commands pg-migrate lacks (clean,
/// info, undo, repair, baseline) are left alone, as before.
pub fn flyway_callback(name: &str) -> Option<&'static str> {
    const MIGRATE_EVENTS: [&str; 18] = [
        "beforeMigrate",
        "beforeEachMigrate",
        "beforeEachMigrateStatement",
        "afterEachMigrateStatement",
        "afterEachMigrateStatementError",
        "afterEachMigrate",
        "afterEachMigrateError",
        "beforeRepeatables",
        "afterVersioned",
        "afterMigrate",
        "afterMigrateApplied",
        "afterMigrateError",
        "afterMigrateOperationFinish",
        "beforeValidate",
        "afterValidate",
        "afterValidateError",
        "beforeConnect",
        "afterConnect",
    ];
    let stem = name.strip_suffix(".sql")?;
    let event = stem.split_once("__").map_or(stem, |(e, _)| e);
    MIGRATE_EVENTS.iter().find(|e| **e == event).copied()
}

/// diesel's `metadata.toml`: `run_in_transaction = false`.
pub fn diesel_no_tx(metadata: &str) -> bool {
    metadata.lines().any(|l| {
        let l = l.split('#').next().unwrap_or("");
        let Some((k, v)) = l.split_once('=') else {
            return false;
        };
        k.trim() == "run_in_transaction" && v.trim() == "false"
    })
}

/// A Flyway script name: (`V` or `U`, version as written, description).
/// `R__x.sql` (repeatable) is `R` with an empty version. As Flyway's
/// `ResourceNameParser` reads names: the `__` and the description may be
/// left out (`V4.sql`, `V3__.sql`, `R__.sql` are migrations Flyway runs);
/// a name it cannot read is not a migration (Flyway skips it too).
pub fn flyway_name(name: &str) -> Option<(char, &str, &str)> {
    let stem = name.strip_suffix(".sql")?;
    let prefix = stem.chars().next()?;
    if !matches!(prefix, 'V' | 'U' | 'R') {
        return None;
    }
    let rest = &stem[1..];
    let (version, description) = rest.split_once("__").unwrap_or((rest, ""));
    if prefix == 'R' {
        return version.is_empty().then_some((prefix, version, description));
    }
    let ok = !version.is_empty()
        && version
            .split(['.', '_'])
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    ok.then_some((prefix, version, description))
}

/// A refinery migration name, `.sql` or `.rs`: (`V` or `U`, version
/// digits, name, whether it is SQL). refinery's pattern is
/// `^[UV](\d+(?:\.\d+)?)__(\w+)\.(sql|rs)$` with the version read as an
/// integer (a dotted one is refused): digits here.
pub fn refinery_name(name: &str) -> Option<(char, &str, &str, bool)> {
    let (stem, sql) = match name.strip_suffix(".sql") {
        Some(s) => (s, true),
        None => (name.strip_suffix(".rs")?, false),
    };
    let prefix = stem.chars().next()?;
    if !matches!(prefix, 'V' | 'U') {
        return None;
    }
    let (version, description) = stem[1..].split_once("__")?;
    let ok = !version.is_empty()
        && version.bytes().all(|b| b.is_ascii_digit())
        && !description.is_empty()
        && description.chars().all(|c| c.is_alphanumeric() || c == '_');
    ok.then_some((prefix, version, description, sql))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn flyway_placeholders_are_found_with_their_line() {
        assert_eq!(flyway_placeholder("CREATE TABLE t (id int);\n"), None);
        assert_eq!(
            flyway_placeholder("--x\nCREATE TABLE ${schema}.t (id int);\n"),
            Some((2, "${schema}".into()))
        );
        assert_eq!(
            flyway_placeholder("SET search_path = ${flyway:defaultSchema};"),
            Some((1, "${flyway:defaultSchema}".into()))
        );
        // Not a placeholder: `${` without a closing brace or a name.
        assert_eq!(flyway_placeholder("SELECT '${';\nSELECT '${}';"), None);
    }

    #[test]
    fn dbmate_sections_keep_line_numbers() {
        let f = "-- migrate:up transaction:false\ncreate index concurrently i on t (x);\n\n-- migrate:down\ndrop index i;\n";
        let (up, no_tx) = section(f, Sections::Dbmate, Part::Up).unwrap();
        assert!(no_tx);
        assert_eq!(up, "\ncreate index concurrently i on t (x);\n\n\n\n");
        let (down, no_tx) = section(f, Sections::Dbmate, Part::Down).unwrap();
        assert!(!no_tx);
        assert_eq!(down.trim(), "drop index i;");
        assert_eq!(down.lines().position(|l| !l.is_empty()), Some(4));
        assert!(section("select 1;", Sections::Dbmate, Part::Up).is_err());
    }

    #[test]
    fn goose_sections_any_case() {
        let f = "-- +goose NO TRANSACTION\n-- +goose up\n-- +goose StatementBegin\nSELECT 1;\n-- +goose StatementEnd\n-- +goose Down\nSELECT 2;\n";
        let (up, no_tx) = section(f, Sections::Goose, Part::Up).unwrap();
        assert!(no_tx);
        assert_eq!(up.trim(), "SELECT 1;");
        let (down, _) = section(f, Sections::Goose, Part::Down).unwrap();
        assert_eq!(down.trim(), "SELECT 2;");
        assert_eq!(annotations(f), Some(Sections::Goose));
        assert_eq!(annotations("-- migrate:up\n"), Some(Sections::Dbmate));
        assert_eq!(annotations("-- a comment\nselect 1;"), None);
    }

    #[test]
    fn no_transaction_markers() {
        assert!(whole_file_no_tx(
            "--pg-migrate:   no-transaction\r\nSELECT 1"
        ));
        assert!(whole_file_no_tx(
            "-- pg-migrate: no-transaction\nCREATE INDEX;"
        ));
        assert!(whole_file_no_tx(
            "-- why: a big index\n--   pg-migrate:   no-transaction\nCREATE INDEX;"
        ));
        assert!(!whole_file_no_tx(
            "SELECT 1;\n-- pg-migrate: no-transaction\n"
        ));
        assert!(whole_file_no_tx("-- no-transaction\nCREATE INDEX;"));
        assert!(!whole_file_no_tx("-- note\n-- no-transaction\n"));
        assert!(diesel_no_tx("run_in_transaction = false\n"));
        assert!(!diesel_no_tx(
            "# run_in_transaction = false\nrun_in_transaction = true"
        ));
    }

    #[test]
    fn orders() {
        let sorted = |o: Order, v: &[&str]| {
            let mut n: Vec<String> = v.iter().map(|s| normalize_in(o, s).unwrap()).collect();
            n.sort_by(|a, b| compare_in(o, a, b));
            n
        };
        assert_eq!(
            sorted(Order::Numeric, &["10", "9", "001"]),
            ["1", "9", "10"]
        );
        // diesel: dashes out, then as strings (an 18-digit version of a
        // November day sorts before a 14-digit one of December).
        assert_eq!(
            sorted(
                Order::Text,
                &["20251201120000", "2025-11-19-091444-0000", "00000000000000"]
            ),
            ["00000000000000", "202511190914440000", "20251201120000"]
        );
        assert_eq!(
            sorted(
                Order::Dotted,
                &["1.10", "1.2", "2", "1.2.0.1", "1_1", "1.01"]
            ),
            ["1.1", "1.1", "1.2", "1.2.0.1", "1.10", "2"]
        );
        assert_eq!(normalize_in(Order::Dotted, "1.0.0"), Some("1".into()));
        assert_eq!(
            normalize_in(Order::Text, "2017-12-20-144812"),
            Some("20171220144812".into())
        );
        assert_eq!(normalize_in(Order::Numeric, "1.2"), None);
        // Repeatable scripts after every version, by description.
        assert_eq!(compare_in(Order::Dotted, "R__a", "99.9"), Ordering::Greater);
        assert_eq!(compare_in(Order::Dotted, "1", "R__a"), Ordering::Less);
        assert_eq!(compare_in(Order::Dotted, "R__a", "R__b"), Ordering::Less);
    }

    #[test]
    fn flyway_transactions() {
        assert!(flyway_non_tx(
            "CREATE TABLE t (a int);\ncreate  unique index\nconcurrently i ON t (a);"
        ));
        assert!(flyway_non_tx("-- x\nVACUUM t;"));
        assert!(flyway_non_tx("REINDEX VERBOSE DATABASE d;"));
        assert!(!flyway_non_tx("CREATE INDEX i ON t (a);\nREINDEX TABLE t;"));
        assert!(!flyway_non_tx("SELECT 'VACUUM';"));
        assert_eq!(
            flyway_mixed("CREATE TABLE t (a int);\n-- c\nVACUUM\n  t;"),
            Some((3, "VACUUM".to_string()))
        );
        assert_eq!(
            flyway_mixed("VACUUM t;\nSELECT 1;"),
            Some((2, "SELECT 1".to_string()))
        );
        assert_eq!(flyway_mixed("VACUUM a;\n-- only comments\nVACUUM b;"), None);
        assert_eq!(
            flyway_mixed("CREATE TABLE t (a int);\nSELECT 'VACUUM';"),
            None
        );
        assert!(flyway_conf_no_tx("executeInTransaction = false\n"));
        assert!(!flyway_conf_no_tx("executeInTransaction=true\n"));
    }

    #[test]
    fn refinery_names() {
        assert_eq!(
            refinery_name("V1__initial.sql"),
            Some(('V', "1", "initial", true))
        );
        assert_eq!(
            refinery_name("U20240504090301__add_cars_and_motos_table.rs"),
            Some(('U', "20240504090301", "add_cars_and_motos_table", false))
        );
        for bad in [
            "V1.2__x.sql",
            "R__x.sql",
            "V1__a-b.sql",
            "V__x.sql",
            "V1__.sql",
            "V1__x.txt",
        ] {
            assert_eq!(refinery_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn flyway_checksums_are_flyways() {
        // What Flyway 7.15 recorded for these files (tests/fixtures).
        let init = include_str!("../../tests/fixtures/migrations/flyway-spring-boot/V1__init.sql");
        assert_eq!(flyway_checksum(init), 242740677);
        let insert = include_str!(
            "../../tests/fixtures/migrations/flyway-spring-boot/V1.1.1__test_insert.sql"
        );
        assert_eq!(flyway_checksum(insert), -240784611);
        // Line ends do not count, whichever they are.
        assert_eq!(
            flyway_checksum(&init.replace('\n', "\r\n")),
            flyway_checksum(&init.replace('\n', "\r"))
        );
        assert_eq!(flyway_checksum(""), 0);
    }

    #[test]
    fn flyway_names() {
        assert_eq!(flyway_name("V1__init.sql"), Some(('V', "1", "init")));
        assert_eq!(flyway_name("V1.2_3__x.sql"), Some(('V', "1.2_3", "x")));
        assert_eq!(flyway_name("U2__undo.sql"), Some(('U', "2", "undo")));
        assert_eq!(flyway_name("R__views.sql"), Some(('R', "", "views")));
        // Flyway 7.15 runs these too (its separator and description are
        // optional).
        assert_eq!(flyway_name("V4.sql"), Some(('V', "4", "")));
        assert_eq!(flyway_name("V3__.sql"), Some(('V', "3", "")));
        assert_eq!(flyway_name("R__.sql"), Some(('R', "", "")));
        for bad in [
            "V__x.sql",
            "V1_x.sql",
            "V1.a__x.sql",
            "X1__x.sql",
            "R1__x.sql",
            "Values.sql",
            "README.sql",
            "V.sql",
        ] {
            assert_eq!(flyway_name(bad), None, "{bad}");
        }
        assert_eq!(flyway_callback("afterMigrate.sql"), Some("afterMigrate"));
        assert_eq!(
            flyway_callback("beforeEachMigrate__log.sql"),
            Some("beforeEachMigrate")
        );
        assert_eq!(flyway_callback("beforeClean.sql"), None);
        assert_eq!(flyway_callback("V1__afterMigrate.sql"), None);
    }
}
