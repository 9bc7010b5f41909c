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
        "bench/peers/build-flyway",
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

/// A small XML well-formedness check: tags balance, attributes are quoted,
/// `&` starts an entity. Enough for the SVG we write ourselves.
fn well_formed(xml: &str) -> Result<String, String> {
    let mut stack: Vec<String> = Vec::new();
    let mut root = None;
    let mut rest = xml;
    while let Some(i) = rest.find(['<', '&']) {
        let (text, tail) = rest.split_at(i);
        if stack.is_empty() && !text.trim().is_empty() {
            return Err(format!("text outside the root: {text:?}"));
        }
        if tail.starts_with('&') {
            let end = tail.find(';').ok_or("& without ;")?;
            let name = &tail[1..end];
            let known = ["amp", "lt", "gt", "quot", "apos"].contains(&name)
                || name.starts_with('#') && name.len() > 1;
            if !known {
                return Err(format!("unknown entity &{name};"));
            }
            rest = &tail[end + 1..];
            continue;
        }
        let end = tail.find('>').ok_or("< without >")?;
        let tag = &tail[1..end];
        rest = &tail[end + 1..];
        if tag.starts_with('?') || tag.starts_with("!--") {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            match stack.pop() {
                Some(open) if open == name.trim() => continue,
                other => return Err(format!("</{name}> closes {other:?}")),
            }
        }
        let self_closing = tag.ends_with('/');
        let body = tag.trim_end_matches('/');
        let name = body
            .split_whitespace()
            .next()
            .ok_or("empty tag")?
            .to_string();
        // Attributes: name="value" pairs, nothing else.
        let mut attrs = body[name.len()..].trim();
        while !attrs.is_empty() {
            let eq = attrs
                .find('=')
                .ok_or(format!("attribute without = in <{name}>"))?;
            let q = attrs[eq + 1..]
                .chars()
                .next()
                .ok_or("attribute without value")?;
            if q != '"' && q != '\'' {
                return Err(format!("unquoted attribute in <{name}>"));
            }
            let close = attrs[eq + 2..].find(q).ok_or("unterminated attribute")?;
            attrs = attrs[eq + 2 + close + 1..].trim_start();
        }
        if stack.is_empty() {
            if root.is_some() {
                return Err("two root elements".into());
            }
            root = Some(name.clone());
        }
        if !self_closing {
            stack.push(name);
        }
    }
    if !stack.is_empty() || !rest.trim().is_empty() {
        return Err(format!("unclosed: {stack:?}"));
    }
    root.ok_or_else(|| "no element".into())
}

#[test]
fn the_benchmark_picture_is_well_formed_svg_drawn_from_results_json() {
    let svg = std::fs::read_to_string(root().join("bench/results.svg"))
        .expect("bench/results.svg: run bench/run --readme");
    assert_eq!(well_formed(&svg).as_deref(), Ok("svg"));
    assert!(svg.contains("xmlns=\"http://www.w3.org/2000/svg\""));
    // One bar (with its tooltip) per measured comparison with a peer.
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("bench/results.json")).unwrap())
            .unwrap();
    let measured = results["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["peerName"].is_string() && r["ratio"].is_number())
        .count();
    assert!(measured > 0);
    assert_eq!(svg.matches("</rect>").count(), measured);
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    assert!(
        readme.contains("](bench/results.svg)"),
        "README links the picture"
    );
    // In sync with results.json, as bench/run writes it.
    let Ok(out) = Command::new("python3")
        .args(["bench/chart.py", "bench/results.json"])
        .current_dir(root())
        .output()
    else {
        eprintln!("note: python3 not installed; sync check skipped");
        return;
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stdout == svg.as_bytes(),
        "bench/results.svg is stale: run bench/run --readme and commit"
    );
}

#[test]
fn the_well_formedness_check_finds_what_breaks_xml() {
    assert_eq!(
        well_formed("<svg a=\"1\"><g><t>x &amp; y</t></g></svg>\n").as_deref(),
        Ok("svg")
    );
    for bad in [
        "<svg><g></svg>",
        "<svg>a & b</svg>",
        "<svg a=1></svg>",
        "<svg></svg><svg></svg>",
        "<svg>",
    ] {
        assert!(well_formed(bad).is_err(), "{bad}");
    }
}
