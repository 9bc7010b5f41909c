//! Man pages generated from the clap definitions (clap_mangen) plus each
//! tool's hand-written EXIT STATUS, ENVIRONMENT and EXAMPLES sections.
//!
//! Every binary answers `--generate-man` (hidden) with its page; `man/*.1`
//! are that output, committed, and a test fails when one is stale.

use crate::error::{Error, Result};
use crate::exit::{Exit, TABLE};

/// Renders a tool's man page: NAME, SYNOPSIS, DESCRIPTION, OPTIONS and
/// SUBCOMMANDS from clap, then `extra` (roff), then the shared exit-code
/// table (unless `extra` has its own EXIT STATUS), then VERSION.
pub fn render(cmd: clap::Command, extra: &str) -> Result<String> {
    // A page must not depend on the environment it was generated in.
    let mut cmd = hide_env_values(cmd);
    // A tool whose `--help` stays short keeps its longer description in
    // after_help; the page's DESCRIPTION has both.
    if cmd.get_long_about().is_none() {
        if let (Some(about), Some(after)) = (cmd.get_about(), cmd.get_after_help()) {
            let long = format!("{about}.\n\n{after}");
            cmd = cmd.long_about(long);
        }
    }
    let man = clap_mangen::Man::new(cmd.clone());
    let mut buf: Vec<u8> = Vec::new();
    let io = |e: std::io::Error| Error::new(Exit::Failure, "Cannot render the man page").cause(e);
    man.render_title(&mut buf).map_err(io)?;
    man.render_name_section(&mut buf).map_err(io)?;
    man.render_synopsis_section(&mut buf).map_err(io)?;
    man.render_description_section(&mut buf).map_err(io)?;
    man.render_options_section(&mut buf).map_err(io)?;
    let mut page = String::from_utf8_lossy(&buf).into_owned();
    // clap_mangen would list subcommands as links to pages of their own
    // (`pg-tmp-start(1)`) that we do not ship; describe each one here instead.
    if cmd.get_subcommands().any(|s| !s.is_hide_set()) {
        page.push_str(&commands_section(cmd));
    }
    page.push_str(extra.trim_end());
    page.push('\n');
    if !extra.contains(".SH \"EXIT STATUS\"") && !extra.contains(".SH EXIT STATUS") {
        page.push_str(&exit_status_section());
    }
    page.push_str(".SH \"SEE ALSO\"\npgkit(7)\n");
    Ok(page)
}

/// A COMMANDS section: every (nested) subcommand with its usage, description
/// and options, from the clap definition.
pub fn commands_section(mut cmd: clap::Command) -> String {
    cmd.build();
    let mut s = String::from(".SH COMMANDS\n");
    let name = cmd.get_name().to_string();
    for sub in cmd.get_subcommands().filter(|c| !c.is_hide_set()) {
        command(&mut s, &name, sub);
    }
    s
}

fn command(s: &mut String, parent: &str, c: &clap::Command) {
    let name = format!("{parent} {}", c.get_name());
    if c.has_subcommands() {
        for sub in c.get_subcommands().filter(|c| !c.is_hide_set()) {
            command(s, &name, sub);
        }
        return;
    }
    let mut usage = name.clone();
    for a in c.get_arguments().filter(|a| a.is_positional()) {
        let v = a
            .get_value_names()
            .and_then(|v| v.first().map(|s| s.to_string()))
            .unwrap_or_else(|| a.get_id().to_string().to_uppercase());
        if a.is_last_set() {
            usage.push_str(&format!(" -- {v} [ARGS...]"));
        } else if a.is_required_set() {
            usage.push_str(&format!(" {v}"));
        } else {
            usage.push_str(&format!(" [{v}]"));
        }
    }
    s.push_str(&format!(".SS \"{}\"\n", roff_escape(&usage)));
    if let Some(about) = c.get_long_about().or(c.get_about()) {
        s.push_str(&format!("{}\n", roff_escape(&about.to_string())));
    }
    for a in c
        .get_arguments()
        .filter(|a| !a.is_positional() && !a.is_hide_set() && !a.is_global_set())
    {
        if a.get_id().as_str() == "help" {
            continue;
        }
        let mut flags = Vec::new();
        if let Some(sh) = a.get_short() {
            flags.push(format!("\\-{sh}"));
        }
        if let Some(l) = a.get_long() {
            flags.push(format!("\\-\\-{}", roff_escape(l)));
        }
        let takes_value = a.get_num_args().is_some_and(|n| n.takes_values());
        let value = if takes_value {
            a.get_value_names()
                .and_then(|v| v.first().map(|s| format!(" {}", roff_escape(s))))
                .unwrap_or_default()
        } else {
            String::new()
        };
        s.push_str(&format!(".TP\n\\fB{}\\fR{}\n", flags.join(", "), value));
        let mut help = a.get_help().map(|h| h.to_string()).unwrap_or_default();
        let defaults: Vec<String> = a
            .get_default_values()
            .iter()
            .map(|d| d.to_string_lossy().into_owned())
            .collect();
        if takes_value && !defaults.is_empty() {
            help.push_str(&format!(" [default: {}]", defaults.join(", ")));
        }
        if let Some(env) = a.get_env() {
            help.push_str(&format!(" [env: {}]", env.to_string_lossy()));
        }
        s.push_str(&format!("{}\n", roff_escape(&help)));
    }
}

/// Shows `[env: NAME]`, never `[env: NAME=value]`, on every (nested) argument.
fn hide_env_values(cmd: clap::Command) -> clap::Command {
    let cmd = cmd.mut_args(|a| a.hide_env_values(true));
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    names
        .into_iter()
        .fold(cmd, |c, name| c.mut_subcommand(name, hide_env_values))
}

/// The shared exit-code table as a roff EXIT STATUS section.
pub fn exit_status_section() -> String {
    let mut s = String::from(".SH \"EXIT STATUS\"\n");
    for (e, m) in TABLE {
        s.push_str(&format!(".TP\n.B {}\n{}\n", e.code(), roff_escape(m)));
    }
    s
}

/// How many examples `--help` shows: enough to answer "how do I…", short
/// enough to stay a help screen (the man page has them all).
const HELP_EXAMPLES: usize = 5;

/// The examples `--help` ends with, as plain text: the first few of `extra`'s
/// EXAMPLES section (the man page stays their one source), or for a
/// subcommand's `--help` those that use it. Empty for `-h`, or when there
/// are none.
pub fn help_examples(cmd: &clap::Command, extra: &str, args: &[std::ffi::OsString]) -> String {
    let args: Vec<String> = args
        .iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .take_while(|a| a != "--")
        .collect();
    if !args.iter().any(|a| a == "--help") {
        return String::new();
    }
    // The subcommand path the help is for: `pg-tmp db create --help`.
    let mut path = vec![cmd.get_name().to_string()];
    let mut c = cmd;
    for a in args.iter().filter(|a| !a.starts_with('-')) {
        if let Some(sub) = c.find_subcommand(a) {
            path.push(sub.get_name().to_string());
            c = sub;
        }
    }
    let prefix = path.join(" ");
    let blocks: Vec<Example> = examples(extra)
        .into_iter()
        .filter(|b| path.len() == 1 || b.commands.iter().any(|l| l.contains(&prefix)))
        .take(HELP_EXAMPLES)
        .collect();
    if blocks.is_empty() {
        return String::new();
    }
    let mut s = String::from("\nExamples:\n");
    for (i, b) in blocks.iter().enumerate() {
        if i > 0 {
            s.push('\n');
        }
        for d in &b.description {
            s.push_str(&format!("  {d}\n"));
        }
        let indent = if b.description.is_empty() {
            "  "
        } else {
            "    "
        };
        for l in &b.commands {
            s.push_str(&format!("{indent}{l}\n"));
        }
    }
    s
}

/// One example of a man page's EXAMPLES section.
#[derive(Debug, Default, PartialEq)]
pub struct Example {
    /// What it does (filled text, or a `.TP` tag), one line per paragraph.
    pub description: Vec<String>,
    /// The command lines (`.nf` text or `.B` lines), comments included.
    pub commands: Vec<String>,
}

/// The examples of a roff EXAMPLES section, in order. A new example starts
/// at prose, at a `#` comment or after a blank line in a `.nf` block, once
/// the current one has a command: the shapes the tools' man.roff use.
pub fn examples(roff: &str) -> Vec<Example> {
    let mut out = Vec::new();
    let mut cur = Example::default();
    let mut in_section = false;
    let mut nf = false;
    let mut gap = false;
    // A paragraph break: the next prose line starts a new description line.
    let mut para = true;
    let next = |cur: &mut Example, out: &mut Vec<Example>| {
        if !cur.commands.is_empty() {
            out.push(std::mem::take(cur));
        }
    };
    for line in roff.lines() {
        if line.starts_with(".SH") {
            if in_section {
                break;
            }
            in_section = line.trim_end().ends_with("EXAMPLES");
            continue;
        }
        if !in_section || line.starts_with(".\\\"") {
            continue;
        }
        if let Some(req) = line.strip_prefix('.') {
            let (name, rest) = req.split_once(' ').unwrap_or((req, ""));
            match name {
                "nf" => nf = true,
                "fi" => nf = false,
                "B" | "I" | "BR" | "IR" if !rest.is_empty() => {
                    gap = false;
                    cur.commands.push(roff_unescape(rest.trim_matches('"')));
                }
                _ => para = true,
            }
            continue;
        }
        let text = roff_unescape(line);
        if nf {
            if text.trim().is_empty() {
                gap = true;
                continue;
            }
            if gap || text.trim_start().starts_with('#') {
                next(&mut cur, &mut out);
            }
            gap = false;
            cur.commands.push(text.trim_end().to_string());
        } else if !text.trim().is_empty() {
            next(&mut cur, &mut out);
            match cur.description.last_mut() {
                Some(d) if !para => {
                    d.push(' ');
                    d.push_str(text.trim());
                }
                _ => cur.description.push(text.trim().to_string()),
            }
            para = false;
        }
    }
    next(&mut cur, &mut out);
    // Commands keep their indentation relative to each other only.
    for e in &mut out {
        let strip = e
            .commands
            .iter()
            .map(|l| l.len() - l.trim_start().len())
            .min()
            .unwrap_or(0);
        for l in &mut e.commands {
            *l = l[strip..].to_string();
        }
    }
    out
}

/// Roff text as plain text: `\-` `\e` `\\` `\&` `\(aq` and font escapes.
pub fn roff_unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('e') | Some('\\') => out.push('\\'),
            Some('-') => out.push('-'),
            Some('&') | None => {}
            Some('f') => {
                chars.next();
            }
            Some('(') => {
                let name: String = chars.by_ref().take(2).collect();
                match name.as_str() {
                    "aq" => out.push('\''),
                    "dq" => out.push('"'),
                    "em" => out.push('—'),
                    _ => {}
                }
            }
            Some(other) => out.push(other),
        }
    }
    out
}

/// Escapes text for roff: backslashes, and a leading dot or quote.
pub fn roff_escape(s: &str) -> String {
    let t = s.replace('\\', "\\e").replace('-', "\\-");
    if t.starts_with('.') || t.starts_with('\'') {
        format!("\\&{t}")
    } else {
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples_of_every_shape_the_pages_use() {
        // .TP tag + .B command (pg-migrate); prose + .nf (pg-seed, pg-wait);
        // # comments and blank-line groups in one .nf block (pg-dotenv).
        let roff = ".SH OPTIONS\n.TP\nnot this\n.SH EXAMPLES\n.TP\nApply:\n.B pg\\-migrate up\n\
                    .PP\nA long\ndescription:\n.PP\n.nf\n  t \\-\\-x '\\e'\n    cont\n.fi\n\
                    .nf\n# One.\na 1\na 2\n\nb\n# Two.\nc\n.fi\n.SH \"EXIT STATUS\"\n.B no\n";
        let e = examples(roff);
        let got: Vec<(Vec<&str>, Vec<&str>)> = e
            .iter()
            .map(|e| {
                (
                    e.description.iter().map(String::as_str).collect(),
                    e.commands.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (vec!["Apply:"], vec!["pg-migrate up"]),
                (vec!["A long description:"], vec!["t --x '\\'", "  cont"]),
                (vec![], vec!["# One.", "a 1", "a 2"]),
                (vec![], vec!["b"]),
                (vec![], vec!["# Two.", "c"]),
            ]
        );
    }

    #[test]
    fn examples_show_for_long_help_only() {
        let cmd = clap::Command::new("t").subcommand(clap::Command::new("up"));
        let roff = ".SH EXAMPLES\n.TP\nA:\n.B t up\n.TP\nB:\n.B t down\n";
        let args = |a: &[&str]| -> Vec<std::ffi::OsString> { a.iter().map(Into::into).collect() };
        assert_eq!(help_examples(&cmd, roff, &args(&["t", "-h"])), "");
        let all = help_examples(&cmd, roff, &args(&["t", "--help"]));
        assert_eq!(all, "\nExamples:\n  A:\n    t up\n\n  B:\n    t down\n");
        let up = help_examples(&cmd, roff, &args(&["t", "up", "--help"]));
        assert_eq!(up, "\nExamples:\n  A:\n    t up\n");
    }
}
