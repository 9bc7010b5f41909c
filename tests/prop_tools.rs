//! Property tests: the tools' own parsers never panic (issue 16) — the .env
//! parser and editor (pg-dotenv), the CSV header reader (pg-seed) and the
//! dump-name parser (pg-dump-rotate). They live in binary crates, so their
//! source files are compiled in here as modules (`#[path]`), exactly as the
//! tools compile them; their own unit tests run here once more.
#![allow(
    dead_code,
    unused_imports,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

// pg-dotenv: the reader and the editor, and what they use.
#[path = "../tools/pg-dotenv/edit.rs"]
mod edit;
#[path = "../tools/pg-dotenv/interpolate.rs"]
mod interpolate;
#[path = "../tools/pg-dotenv/parse.rs"]
mod parse;
#[path = "../tools/pg-dotenv/quote.rs"]
mod quote;

// pg-seed: the CSV reader, and what it uses.
#[path = "../tools/pg-seed/csv.rs"]
mod csv;
#[path = "../tools/pg-seed/discovery.rs"]
mod discovery;
#[path = "../tools/pg-seed/ident.rs"]
mod ident;
#[path = "../tools/pg-seed/sql.rs"]
mod sql;
/// pg-seed's statement helpers are the library's lexer.
mod statements {
    pub use pgkit::statements::*;
}

// pg-dump-rotate: dump names.
#[path = "../tools/pg-dump-rotate/layout.rs"]
mod layout;

use proptest::prelude::*;

/// 256 cases a property (PROPTEST_CASES=N for a longer hunt).
fn config() -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(256),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// .env-like text: the bytes that drive the reader's states (quotes,
/// escapes, `export`, comments, CR, form feed, `$` expansions, multi-byte
/// characters) in any order.
fn dotenv_like() -> impl Strategy<Value = String> {
    let pieces = vec![
        "A", "B", "KEY", "k_1", "=", " = ", "'", "\"", "\\", "\\'", "\\n", "#", " #", "\n", "\r\n",
        "\r", "\t", "\u{c}", "\u{b}", "export ", "$", "${A}", "${A:-x}", "$B", "`", "é",
        "\u{feff}", " ", "x", "1", ".", "-",
    ];
    prop::collection::vec(prop::sample::select(pieces), 0..50).prop_map(|v| v.concat())
}

fn any_text() -> impl Strategy<Value = String> {
    prop::collection::vec(any::<u8>(), 0..200)
        .prop_map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// Every range of every entry slices the source.
fn check_doc(src: &str, doc: &parse::Doc) {
    for e in &doc.entries {
        assert!(src.get(e.span.clone()).is_some(), "{src:?}: {e:?}");
        let _ = e.key(src);
        let _ = e.raw(src);
        let _ = e.inner(src);
    }
}

/// The last entry of `key`, if any.
fn last_of<'a>(doc: &'a parse::Doc, src: &str, key: &str) -> Option<&'a parse::Entry> {
    doc.entries.iter().rev().find(|e| e.key(src) == key)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn the_dotenv_reader_never_panics(src in prop_oneof![dotenv_like(), any_text()]) {
        if let Ok(doc) = parse::parse(&src) {
            check_doc(&src, &doc);
        }
        if let Ok(doc) = parse::parse_lenient(&src) {
            check_doc(&src, &doc);
        }
    }

    #[test]
    fn the_dotenv_editor_never_panics_and_keeps_untouched_lines(
        src in prop_oneof![dotenv_like(), any_text()],
        key in prop::sample::select(vec!["A", "B", "KEY", "NEW"]),
        value in prop_oneof![any_text(), "[a-z $#'\"\\\\]{0,12}"],
        op in 0..4u8,
    ) {
        let op = match op {
            0 => edit::Op::Set(key.to_string(), value.clone()),
            1 => edit::Op::SetIfAbsent(key.to_string(), value.clone()),
            2 => edit::Op::SetIfEmpty(key.to_string(), value.clone()),
            _ => edit::Op::Unset(key.to_string()),
        };
        let Ok(before) = parse::parse_lenient(&src) else { return Ok(()) };
        let Ok(applied) = edit::apply(&src, &op) else { return Ok(()) };
        let new = &applied.text;
        match (&op, &applied.outcome) {
            (_, edit::Outcome::Unchanged) => prop_assert_eq!(new, &src),
            (edit::Op::Unset(_), edit::Outcome::Removed(_)) => {
                // Exactly the key's statements are gone; every other byte
                // stays, in order.
                let mut kept = String::new();
                let mut at = 0;
                for e in before.entries.iter().filter(|e| e.key(&src) == key) {
                    kept.push_str(&src[at..e.span.start]);
                    at = e.span.end;
                }
                kept.push_str(&src[at..]);
                // A file without a final line ending keeps that style when
                // its last statement goes: the one line ending before it
                // goes too (only that one: blank lines above it stay).
                let styled = if src.ends_with('\n') {
                    kept.clone()
                } else {
                    let t = kept.strip_suffix('\n').unwrap_or(&kept);
                    t.strip_suffix('\r').unwrap_or(t).to_string()
                };
                prop_assert!(new == &kept || new == &styled, "{:?} -> {:?}", src, new);
            }
            (_, edit::Outcome::Changed(_)) => {
                // Only the last statement of the key changed: what is
                // before and after it is byte-identical.
                let e = last_of(&before, &src, key).expect("a changed key was there");
                prop_assert!(new.starts_with(&src[..e.span.start]), "{:?} -> {:?}", src, new);
                prop_assert!(new.ends_with(&src[e.span.end..]), "{:?} -> {:?}", src, new);
            }
            (_, edit::Outcome::Added) => {
                // Appended: the old text stays as its prefix (a missing
                // final line ending may be added first).
                let trimmed = new.len() >= src.len() && new.starts_with(src.as_str());
                prop_assert!(trimmed, "{:?} -> {:?}", src, new);
            }
            (op, outcome) => prop_assert!(false, "unexpected {:?} for {:?}", outcome, op),
        }
        // What the editor writes into a file that parses reads back, with
        // the key where it was set. (Not checked for a file with a line no
        // reader agrees on: appended after an unterminated `A='`, a new key
        // lands inside that quote — reported, pg-dotenv's to decide.)
        let clean = parse::parse(&src).is_ok();
        if clean && !matches!(op, edit::Op::Unset(_)) && applied.outcome != edit::Outcome::Unchanged {
            let after = parse::parse_lenient(new);
            prop_assert!(after.is_ok(), "{:?} -> {:?}: {:?}", src, new, after.err());
            let after = after.unwrap();
            prop_assert!(last_of(&after, new, key).is_some(), "{:?} -> {:?}", src, new);
        }
    }

    #[test]
    fn the_csv_header_reader_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(names) = csv::parse_header(&bytes) {
            prop_assert!(!names.is_empty());
            for (i, n) in names.iter().enumerate() {
                prop_assert!(!n.is_empty());
                prop_assert!(!names[..i].contains(n));
            }
        }
    }

    #[test]
    fn a_written_csv_header_reads_back(
        names in prop::collection::btree_set("[^\u{0}]{1,10}", 1..6),
        crlf in any::<bool>(),
        rest in "[a-z0-9,\n]{0,20}",
    ) {
        // Quoted as any CSV writer quotes: "" for a quote inside.
        let fields: Vec<String> =
            names.iter().map(|n| format!("\"{}\"", n.replace('"', "\"\""))).collect();
        let eol = if crlf { "\r\n" } else { "\n" };
        let text = format!("{}{eol}{rest}", fields.join(","));
        let got = csv::parse_header(text.as_bytes()).unwrap();
        prop_assert_eq!(got, names.into_iter().collect::<Vec<_>>());
    }

    #[test]
    fn dump_names_parse_or_are_ignored(
        source in "[a-z_.-]{0,6}",
        name in prop_oneof![
            any_text(),
            "[a-z_.-]{0,6}_[0-9]{8}T[0-9]{6}Z\\.(pgdump|sql|sql\\.gz|dir|tar)(\\.partial|\\.sha256|\\.json)?",
            "[a-z_.-]{0,6}_[0-9T]{0,20}Z?\\.?[a-zé]{0,8}",
        ],
    ) {
        let _ = layout::valid_source(&source);
        if let Some(p) = layout::parse_dump_name(&source, &name) {
            // A name that parses carries the time it claims.
            let stamp = p.time.format("%Y%m%dT%H%M%SZ").to_string();
            prop_assert!(name.contains(&stamp), "{} -> {:?}", name, p);
        }
    }
}

proptest! {
    // record_start_line reads a file: fewer cases.
    #![proptest_config(ProptestConfig { cases: 64, ..config() })]

    #[test]
    fn csv_line_mapping_never_panics(
        text in "[a-z,\"\n\r]{0,80}",
        end in 0u64..20,
    ) {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("t.csv");
        std::fs::write(&p, &text).unwrap();
        if let Some(line) = csv::record_start_line(&p, end) {
            prop_assert!(line >= 1);
        }
    }
}
