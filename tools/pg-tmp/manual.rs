//! The man page's COMMANDS section: every subcommand with its arguments,
//! from the clap definition (the shared renderer lists subcommands by name
//! only), followed by the hand-written sections of `man.roff`.

use clap::CommandFactory;
use pgkit::manpage::roff_escape;

/// The roff the shared renderer appends after OPTIONS.
pub fn extra() -> String {
    let mut s = String::from(".SH COMMANDS\n");
    let mut cmd = crate::cli::Cli::command();
    cmd.build();
    for sub in cmd.get_subcommands().filter(|c| !c.is_hide_set()) {
        command(&mut s, "pg-tmp", sub);
    }
    s.push_str(include_str!("man.roff"));
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
    if let Some(about) = c.get_about() {
        s.push_str(&format!("{}\n", roff_escape(&about.to_string())));
    }
    for a in c
        .get_arguments()
        .filter(|a| !a.is_positional() && !a.is_hide_set())
    {
        if matches!(a.get_id().as_str(), "help" | "log_level" | "log_format") {
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
        s.push_str(&format!("{}\n", roff_escape(&help)));
    }
}
