//! One shape per tool (issue 16): a thin `main.rs`, the clap definitions in
//! `cli.rs`, one file per subcommand under `commands/` for tools that have
//! subcommands, and no two modules of a tool importing each other.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

mod common;
use common::TOOLS;

/// pg-wait has no subcommands; every other tool has.
const WITHOUT_SUBCOMMANDS: &[&str] = &["pg-wait"];

fn tool_dir(tool: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tools")
        .join(tool)
}

/// The tool's modules: `name` for `name.rs`, `commands::name` for
/// `commands/name.rs`, `commands` for `commands/mod.rs`.
fn modules(tool: &str) -> BTreeMap<String, PathBuf> {
    let mut m = BTreeMap::new();
    let dir = tool_dir(tool);
    for (sub, prefix) in [("", ""), ("commands", "commands::")] {
        let Ok(rd) = fs::read_dir(dir.join(sub)) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.extension().and_then(|x| x.to_str()) != Some("rs") {
                continue;
            }
            let stem = p.file_stem().unwrap().to_str().unwrap().to_string();
            let name = match (prefix, stem.as_str()) {
                ("", "main") => continue,
                ("commands::", "mod") => "commands".to_string(),
                _ => format!("{prefix}{stem}"),
            };
            m.insert(name, p);
        }
    }
    m
}

/// The modules a source file names through `crate::…` paths, braces
/// included (`use crate::{a, b::c}`, `crate::commands::{x, y}`).
fn imports(src: &str, known: &BTreeMap<String, PathBuf>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut resolve = |path: &[&str]| {
        if path.len() >= 2 && path[0] == "commands" {
            let sub = format!("commands::{}", path[1]);
            if known.contains_key(&sub) {
                out.insert(sub);
                return;
            }
        }
        if let Some(first) = path.first() {
            if known.contains_key(*first) {
                out.insert(first.to_string());
            }
        }
    };
    let mut rest = src;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        // A path up to its end, with one level of braces expanded.
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(rest.len());
        let head: Vec<&str> = rest[..end].split("::").filter(|s| !s.is_empty()).collect();
        if rest[end..].starts_with('{') {
            let close = rest[end..].find('}').map(|c| end + c).unwrap_or(rest.len());
            for item in rest[end + 1..close].split(',') {
                let item = item.trim();
                let mut path = head.clone();
                path.extend(item.split("::").map(str::trim).filter(|s| !s.is_empty()));
                if path.is_empty() {
                    continue;
                }
                resolve(&path);
            }
        } else {
            resolve(&head);
        }
    }
    out
}

#[test]
fn every_main_is_thin_and_every_tool_has_cli_rs() {
    for tool in TOOLS {
        let dir = tool_dir(tool);
        let main = fs::read_to_string(dir.join("main.rs")).unwrap();
        let n = main.lines().count();
        assert!(n < 30, "{tool}/main.rs has {n} lines (under 30 expected)");
        assert!(dir.join("cli.rs").is_file(), "{tool} has no cli.rs");
        assert!(!dir.join("args.rs").exists(), "{tool} still has args.rs");
        let has_commands = dir.join("commands").join("mod.rs").is_file();
        assert_eq!(
            has_commands,
            !WITHOUT_SUBCOMMANDS.contains(tool),
            "{tool}: commands/ expected exactly when the tool has subcommands"
        );
    }
}

#[test]
fn no_two_modules_of_a_tool_import_each_other() {
    let mut cycles = Vec::new();
    for tool in TOOLS {
        let mods = modules(tool);
        assert!(mods.len() > 2, "{tool}: modules not found");
        let graph: BTreeMap<String, BTreeSet<String>> = mods
            .iter()
            .map(|(name, path)| {
                let src = fs::read_to_string(path).unwrap();
                let mut deps = imports(&src, &mods);
                deps.remove(name);
                (name.clone(), deps)
            })
            .collect();
        for (a, deps) in &graph {
            for b in deps {
                if a < b && graph.get(b).is_some_and(|d| d.contains(a)) {
                    cycles.push(format!("{tool}: {a} <-> {b}"));
                }
            }
        }
    }
    assert!(cycles.is_empty(), "import cycles: {cycles:#?}");
}

#[test]
fn the_import_scanner_sees_braces_and_commands() {
    let known: BTreeMap<String, PathBuf> = ["a", "b", "commands", "commands::x", "commands::y"]
        .iter()
        .map(|s| (s.to_string(), PathBuf::new()))
        .collect();
    let src = "use crate::{a, b::C};\nuse crate::commands::{x, y::Z};\nfn f() { crate::commands::run(); }";
    let got: Vec<String> = imports(src, &known).into_iter().collect();
    assert_eq!(got, ["a", "b", "commands", "commands::x", "commands::y"]);
}
