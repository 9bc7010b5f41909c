//! Property tests: the library's parsers never panic (issue 16). Arbitrary
//! input in, a value or a clean error out — the SQL statement lexer and
//! splitter, durations, DSNs/conninfo, `.pgpass` and service files. The case
//! count is bounded so the whole file runs in about a second.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use pgkit::conn::{pgpass, ConnArgs, Env, Settings};
use pgkit::{duration, statements};
use proptest::prelude::*;
use std::collections::HashMap;

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

/// Text made of the pieces that drive a SQL lexer's states, in any order:
/// quotes of every kind, comment openers and closers, dollar tags, BEGIN
/// ATOMIC bodies, multi-byte characters and stray bytes.
fn sql_like() -> impl Strategy<Value = String> {
    let pieces = vec![
        "'",
        "''",
        "E'",
        "\\'",
        "\\",
        "\"",
        "--",
        "/*",
        "*/",
        "$",
        "$$",
        "$a$",
        "$a",
        "a$",
        ";",
        "\n",
        "\r",
        " ",
        "(",
        ")",
        "BEGIN",
        "ATOMIC",
        "END",
        "CASE",
        "CREATE",
        "OR",
        "REPLACE",
        "FUNCTION",
        "PROCEDURE",
        "select 1",
        "x",
        "é",
        "ü€",
        "\u{0}",
        "U&'",
        "b'",
        "e",
        "::",
    ];
    prop::collection::vec(prop::sample::select(pieces), 0..60).prop_map(|v| v.concat())
}

fn any_text() -> impl Strategy<Value = String> {
    prop::collection::vec(any::<u8>(), 0..200)
        .prop_map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// The statements of a scan are in order, inside the text, on character
/// boundaries, and each first token lies within its statement.
fn check_statements(sql: &str, list: &[statements::Statement]) {
    let mut prev_end = 0;
    for s in list {
        assert!(s.start >= prev_end, "{sql:?}: {list:?}");
        assert!(
            s.start <= s.first_token && s.first_token <= s.end,
            "{sql:?}: {s:?}"
        );
        assert!(s.end <= sql.len(), "{sql:?}: {s:?}");
        assert!(
            sql.get(s.start..s.end).is_some(),
            "{sql:?}: not char boundaries {s:?}"
        );
        prev_end = s.end;
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn the_statement_splitter_never_panics_on_sql_like_text(sql in sql_like()) {
        let scan = statements::scan(&sql);
        check_statements(&sql, &scan.statements);
        let split = statements::split(&sql);
        check_statements(&sql, &split);
        let _ = statements::transaction_control(&sql);
        let _ = statements::first_transaction_control(&sql, &split);
        for s in &split {
            let _ = statements::controls_transaction(&sql[s.start..s.end]);
        }
        // Stopping early never panics either.
        let mut n = 0;
        let _ = statements::scan_until(&sql, &mut |_, _| { n += 1; n > 2 });
    }

    #[test]
    fn the_statement_splitter_never_panics_on_arbitrary_text(sql in any_text()) {
        let scan = statements::scan(&sql);
        check_statements(&sql, &scan.statements);
    }

    #[test]
    fn a_clean_statement_list_keeps_every_statement(
        words in prop::collection::vec("[a-z]{1,8}( [a-z0-9]{1,8}){0,3}", 1..8)
    ) {
        // Plain statements joined by `;` split back into themselves.
        let sql = words.join(";\n");
        let split = statements::split(&sql);
        let got: Vec<&str> = split.iter().map(|s| sql[s.start..s.end].trim()).collect();
        prop_assert_eq!(got, words.iter().map(String::as_str).collect::<Vec<_>>());
        prop_assert!(statements::scan(&sql).ends_clean);
    }

    #[test]
    fn durations_parse_or_fail_cleanly(s in "[0-9.]{0,25}[a-z ]{0,6}([0-9.]{0,6}[a-z]{0,5}){0,3}") {
        let _ = duration::parse(&s);
        let _ = duration::parse_ms_or_duration(&s);
    }

    #[test]
    fn durations_never_panic_on_arbitrary_text(s in any_text()) {
        let _ = duration::parse(&s);
        let _ = duration::parse_ms_or_duration(&s);
    }

    #[test]
    fn a_duration_round_trips_through_milliseconds(ms in 0u64..1_000_000_000_000) {
        let d = duration::parse(&format!("{ms}ms")).unwrap();
        prop_assert_eq!(d.as_millis() as u64, ms);
        prop_assert_eq!(duration::parse(&duration::format_ms(d)).unwrap(), d);
        prop_assert_eq!(duration::parse_ms_or_duration(&ms.to_string()).unwrap(), d);
    }

    #[test]
    fn dsns_parse_or_fail_cleanly(s in prop_oneof![
        any_text(),
        // URL-shaped: scheme, userinfo, hosts, ports, path, query, escapes.
        "postgres(ql)?://[a-z%@:\\[\\]0-9.,/?=&_-]{0,60}",
        // conninfo-shaped: key=value pairs, quotes, backslashes.
        "([a-z_]{1,10} ?= ?('[^']{0,8}'?|[a-z0-9\\\\%]{0,8}) ?){0,5}",
    ]) {
        let _ = pgkit::conn::parse_dsn(&s);
        let _ = pgkit::conn::quote_conninfo(&s);
    }

    #[test]
    fn a_quoted_conninfo_value_reads_back(v in any_text()) {
        let dsn = format!("application_name={}", pgkit::conn::quote_conninfo(&v));
        if let Ok(kw) = pgkit::conn::parse_dsn(&dsn) {
            let got = kw.iter().find(|(k, _)| k == "application_name").map(|(_, v)| v.clone());
            prop_assert_eq!(got.as_deref(), Some(v.as_str()));
        }
    }

    #[test]
    fn settings_from_arbitrary_keywords_fail_cleanly(
        pairs in prop::collection::vec((
            prop::sample::select(vec![
                "host", "hostaddr", "port", "dbname", "user", "password", "sslmode",
                "connect_timeout", "target_session_attrs", "options", "service",
                "application_name", "load_balance_hosts", "bogus",
            ]),
            any_text(),
        ), 0..6)
    ) {
        let kv: HashMap<String, String> =
            pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        let env = Env { os_user: "u".into(), ..Env::default() };
        let _ = Settings::from_keywords(&kv, "prop", &env);
    }

    #[test]
    fn pgpass_lookups_never_panic(text in any_text(), host in "[a-z:*\\\\]{0,6}") {
        let _ = pgpass::find(&text, &host, "5432", "db", "u");
        let _ = pgpass::match_host(&host);
    }

    #[test]
    fn an_escaped_pgpass_line_finds_its_password(
        host in "[a-z:\\\\*]{1,8}", db in "[a-z:\\\\]{1,8}", user in "[a-z:\\\\]{1,8}",
        pass in "[^\n\r]{0,16}",
    ) {
        let line = format!(
            "{}:5432:{}:{}:{}\n",
            pgpass::escape(&host), pgpass::escape(&db), pgpass::escape(&user), pgpass::escape(&pass)
        );
        let got = pgpass::find(&line, &host, "5432", &db, &user);
        prop_assert_eq!(got.as_deref(), Some(pass.as_str()));
    }
}

proptest! {
    // Service files are read from disk: fewer cases.
    #![proptest_config(ProptestConfig { cases: 64, ..config() })]

    #[test]
    fn service_files_parse_or_fail_cleanly(
        text in prop_oneof![
            any_text(),
            "(\\[[a-z]{0,4}\\]?\n|[a-z_]{0,8}=?[a-z0-9 =#]{0,8}\n|#[a-z]{0,4}\n|\n){0,8}",
        ],
    ) {
        let d = tempfile::tempdir().unwrap();
        let file = d.path().join("pg_service.conf");
        std::fs::write(&file, &text).unwrap();
        let mut vars = HashMap::new();
        vars.insert("PGSERVICEFILE".to_string(), file.display().to_string());
        vars.insert("PGSERVICE".to_string(), "a".to_string());
        let env = Env { vars, home: None, os_user: "u".into() };
        let _ = Settings::resolve_with(&ConnArgs::default(), "prop", &env);
    }
}
