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

/// Escapes text for roff: backslashes, and a leading dot or quote.
pub fn roff_escape(s: &str) -> String {
    let t = s.replace('\\', "\\e").replace('-', "\\-");
    if t.starts_with('.') || t.starts_with('\'') {
        format!("\\&{t}")
    } else {
        t
    }
}
