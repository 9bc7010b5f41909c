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
    for s in [
        "scripts/pg-provision",
        "scripts/demo",
        "scripts/gen-man",
        "scripts/gen-completions",
    ] {
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

/// The committed file name of a tool's completion script for a shell.
fn completion_file(t: &str, shell: &str) -> String {
    match shell {
        "zsh" => format!("completions/_{t}"),
        _ => format!("completions/{t}.{shell}"),
    }
}

#[test]
fn completions_are_generated_from_the_current_flags() {
    for t in TOOLS {
        for shell in ["bash", "zsh", "fish"] {
            let out = cmd(t)
                .args(["--generate-completions", shell])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{t} --generate-completions {shell} failed"
            );
            let file = completion_file(t, shell);
            let committed = std::fs::read_to_string(root().join(&file))
                .unwrap_or_else(|_| panic!("{file} is missing: run scripts/gen-completions"));
            assert!(
                committed == String::from_utf8_lossy(&out.stdout),
                "{file} is stale: run scripts/gen-completions and commit"
            );
        }
    }
    let out = cmd("pg-wait")
        .args(["--generate-completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
}

#[test]
fn completion_scripts_parse_in_their_shells() {
    for (shell, flag) in [("bash", "-n"), ("zsh", "-n"), ("fish", "-n")] {
        if Command::new(shell).arg("-c").arg("true").output().is_err() {
            eprintln!("note: {shell} not installed; syntax check skipped");
            continue;
        }
        for t in TOOLS {
            let file = root().join(completion_file(t, shell));
            let out = Command::new(shell).arg(flag).arg(&file).output().unwrap();
            assert!(
                out.status.success(),
                "{}: {}",
                file.display(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

/// What bash offers for `words` (the last one being completed), with the
/// committed completion script of `tool`, from `dir`.
fn bash_complete(tool: &str, dir: &Path, words: &[&str]) -> Vec<String> {
    let script = root().join(completion_file(tool, "bash"));
    let quoted: Vec<String> = words
        .iter()
        .map(|w| format!("'{}'", w.replace('\'', "'\\''")))
        .collect();
    let body = format!(
        "source '{}'\nCOMP_WORDS=({})\nCOMP_CWORD=$((${{#COMP_WORDS[@]}} - 1))\n\
         COMP_LINE=\"${{COMP_WORDS[*]}}\"\nCOMP_POINT=${{#COMP_LINE}}\n\
         f=$(complete -p {tool} | sed -E 's/.* -F ([^ ]+) .*/\\1/')\n\
         \"$f\" {tool} \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        script.display(),
        quoted.join(" ")
    );
    let out = Command::new("bash")
        .arg("-c")
        .arg(body)
        .current_dir(dir)
        .env_remove("DUMP_DIR")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

#[test]
fn bash_completes_subcommands_values_and_the_dumps_under_dir() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let dumps = d.join("backups/app");
    std::fs::create_dir_all(&dumps).unwrap();
    for f in [
        "app_20250102T030405Z.pgdump",
        "app_20250102T030405Z.pgdump.sha256",
        "app_20250103T030405Z.sql.gz",
    ] {
        std::fs::write(dumps.join(f), "").unwrap();
    }
    let c = |t: &str, w: &[&str]| bash_complete(t, d, w);
    assert_eq!(c("pg-dump-rotate", &["pg-dump-rotate", "res"]), ["restore"]);
    assert_eq!(
        c("pg-migrate", &["pg-migrate", "stat"]),
        ["status"],
        "a hyphenated tool's subcommands"
    );
    // Options of a subcommand (clap-rs/clap#6421 worked around).
    assert_eq!(
        c("pg-dump-rotate", &["pg-dump-rotate", "dump", "--form"]),
        ["--format"]
    );
    assert_eq!(
        c(
            "pg-dump-rotate",
            &["pg-dump-rotate", "dump", "--format", ""]
        ),
        ["custom", "plain", "directory"]
    );
    assert_eq!(
        c("pg-dotenv", &["pg-dotenv", "list", "--format", ""]),
        ["dotenv", "shell", "export", "json"]
    );
    assert_eq!(
        c("pg-wait", &["pg-wait", "--log-format", ""]),
        ["json", "text"]
    );
    // The dumps under --dir, wherever --dir is, for restore and verify.
    let both = [
        "backups/app/app_20250102T030405Z.pgdump",
        "backups/app/app_20250103T030405Z.sql.gz",
    ];
    for words in [
        &["pg-dump-rotate", "--dir", "backups", "restore", ""][..],
        &["pg-dump-rotate", "restore", "--dir", "backups", ""],
        &["pg-dump-rotate", "verify", "--dir", "=", "backups", ""],
        &["pg-dump-rotate", "--dir", "backups", "verify", "--all", "b"],
    ] {
        assert_eq!(c("pg-dump-rotate", words), both, "{words:?}");
    }
    assert_eq!(
        c(
            "pg-dump-rotate",
            &[
                "pg-dump-rotate",
                "--dir",
                "backups",
                "restore",
                "backups/app/app_20250103"
            ]
        ),
        ["backups/app/app_20250103T030405Z.sql.gz"]
    );
    // An option's value is the option's completion, not a dump.
    let db = c(
        "pg-dump-rotate",
        &["pg-dump-rotate", "--dir", "backups", "restore", "--db", ""],
    );
    assert!(!db.iter().any(|w| w.ends_with(".pgdump")), "{db:?}");
}

#[test]
fn long_help_ends_with_examples_from_the_man_page() {
    for t in TOOLS {
        let long = cmd(t).arg("--help").output().unwrap();
        let short = cmd(t).arg("-h").output().unwrap();
        assert_eq!(long.status.code(), Some(0), "{t}");
        let long = String::from_utf8_lossy(&long.stdout).into_owned();
        let short = String::from_utf8_lossy(&short.stdout).into_owned();
        let at = long
            .find("\nExamples:\n")
            .unwrap_or_else(|| panic!("{t} --help has no examples:\n{long}"));
        assert!(!short.contains("Examples:"), "{t} -h stays short");
        // Three to five examples, each with a command naming the tool.
        let examples = &long[at..];
        let n = examples.split("\n\n").count();
        assert!((3..=5).contains(&n), "{t}: {n} examples\n{examples}");
        assert!(examples.matches(t).count() >= n, "{t}:\n{examples}");
        // Plain text: no roff escapes left.
        assert!(
            !examples.contains("\\-") && !examples.contains(".nf"),
            "{examples}"
        );
        // The one source: every command shown is in the man page.
        let page = std::fs::read_to_string(root().join(format!("man/{t}.1"))).unwrap();
        let page = pgkit::manpage::roff_unescape(&page);
        for l in examples.lines().skip(2).filter(|l| l.starts_with("    ")) {
            assert!(page.contains(l.trim()), "{t}: {l:?} is not in man/{t}.1");
        }
    }
    let up = cmd("pg-migrate").args(["up", "--help"]).output().unwrap();
    let up = String::from_utf8_lossy(&up.stdout).into_owned();
    let examples = &up[up
        .find("Examples:")
        .expect("pg-migrate up --help: examples")..];
    assert!(
        examples.contains("pg-migrate up --lock-mode lease"),
        "{examples}"
    );
    assert!(
        !examples.contains("pg-migrate status"),
        "only up's: {examples}"
    );
}
