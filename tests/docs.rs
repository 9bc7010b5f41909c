//! The documentation agrees with the code: one exit-code table in the
//! library, pgkit(7) and the README; man pages generated from the current
//! clap definitions; scripts clean under shellcheck.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;
use std::path::Path;
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn library_table() -> Vec<(i32, String)> {
    pgkit::exit::TABLE
        .iter()
        .map(|(e, m)| (e.code(), m.to_string()))
        .collect()
}

#[test]
fn readme_exit_table_matches_the_library() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let begin = readme
        .find("<!-- exit-codes:begin -->")
        .expect("exit-codes markers in README");
    let end = readme.find("<!-- exit-codes:end -->").unwrap();
    let rows: Vec<(i32, String)> = readme[begin..end]
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l
                .trim()
                .trim_matches('|')
                .split('|')
                .map(str::trim)
                .collect();
            let code = cells.first()?.parse().ok()?;
            Some((code, cells.get(1)?.to_string()))
        })
        .collect();
    assert_eq!(rows, library_table());
    assert!(readme.contains(&pgkit::exit::markdown_table()));
}

#[test]
fn pgkit7_exit_table_matches_the_library() {
    let page = std::fs::read_to_string(root().join("man/pgkit.7")).unwrap();
    let section = &page[page
        .find(".SH \"EXIT STATUS\"")
        .expect("EXIT STATUS in pgkit.7")..];
    let section = &section[..section[4..]
        .find(".SH")
        .map(|i| i + 4)
        .unwrap_or(section.len())];
    // Entries are `.TP` / `.B CODE` / meaning.
    let lines: Vec<&str> = section.lines().collect();
    let rows: Vec<(i32, String)> = lines
        .windows(2)
        .filter_map(|w| {
            let code = w[0].strip_prefix(".B ")?.trim().parse().ok()?;
            Some((code, w[1].trim().to_string()))
        })
        .collect();
    assert_eq!(rows, library_table());
}

#[test]
fn man_pages_are_generated_from_the_current_flags() {
    for t in TOOLS {
        let out = cmd(t).arg("--generate-man").output().unwrap();
        assert!(out.status.success(), "{t} --generate-man failed");
        let committed = std::fs::read_to_string(root().join(format!("man/{t}.1")))
            .unwrap_or_else(|_| panic!("man/{t}.1 is missing: run scripts/gen-man"));
        assert!(
            committed == String::from_utf8_lossy(&out.stdout),
            "man/{t}.1 is stale: run scripts/gen-man and commit"
        );
        let page = String::from_utf8_lossy(&out.stdout);
        for section in [
            "NAME",
            "SYNOPSIS",
            "OPTIONS",
            "ENVIRONMENT",
            "EXAMPLES",
            "EXIT STATUS",
        ] {
            assert!(
                page.contains(&format!(".SH {section}"))
                    || page.contains(&format!(".SH \"{section}\"")),
                "{t}: no {section} section"
            );
        }
    }
}

#[test]
fn man_pages_render_without_warnings() {
    if Command::new("groff").arg("--version").output().is_err() {
        eprintln!("note: groff not installed; rendering check skipped");
        return;
    }
    let mut pages: Vec<String> = TOOLS.iter().map(|t| format!("man/{t}.1")).collect();
    pages.push("man/pgkit.7".into());
    for p in pages {
        let out = Command::new("groff")
            .args(["-k", "-man", "-t", "-Tutf8", "-ww", "-z"])
            .arg(root().join(&p))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success() && err.trim().is_empty(), "{p}: {err}");
    }
}

#[test]
fn scripts_are_clean_under_shellcheck() {
    if Command::new("shellcheck")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("note: shellcheck not installed; check skipped (CI installs it)");
        return;
    }
    for s in ["scripts/pg-provision", "scripts/demo", "scripts/gen-man"] {
        let path = root().join(s);
        if !path.exists() {
            continue;
        }
        let out = Command::new("shellcheck").arg(&path).output().unwrap();
        assert!(
            out.status.success(),
            "{s}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}
