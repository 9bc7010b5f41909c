//! The man page's COMMANDS section, generated from the clap definitions (so
//! every subcommand's flags, env vars and defaults stay in step), followed
//! by the hand-written sections in man.roff.

use crate::args::Cli;
use clap::CommandFactory;
use pgkit::manpage::roff_escape;

/// COMMANDS (generated) + man.roff.
pub fn extra() -> String {
    let mut s = String::from(".SH COMMANDS\n");
    let mut cmd = Cli::command();
    cmd.build();
    for sub in cmd.get_subcommands().filter(|c| c.get_name() != "help") {
        let positionals: Vec<String> = sub
            .get_positionals()
            .map(|a| {
                let name = a
                    .get_value_names()
                    .and_then(|v| v.first().map(|n| n.to_string()))
                    .unwrap_or_else(|| a.get_id().to_string().to_uppercase());
                let many = matches!(a.get_action(), clap::ArgAction::Append);
                let name = if many { format!("{name}...") } else { name };
                if a.is_required_set() {
                    name
                } else {
                    format!("[{name}]")
                }
            })
            .collect();
        s.push_str(&format!(
            ".SS \"{} [OPTIONS] {}\"\n",
            sub.get_name(),
            roff_escape(&positionals.join(" "))
        ));
        if let Some(about) = sub.get_about() {
            s.push_str(&format!("{}.\n", roff_escape(&about.to_string())));
        }
        for a in sub.get_arguments() {
            let Some(long) = a.get_long() else { continue };
            if long == "help" || a.is_global_set() || a.is_hide_set() {
                continue;
            }
            let mut flag = String::new();
            if let Some(c) = a.get_short() {
                flag.push_str(&format!("\\-{c}, "));
            }
            flag.push_str(&format!("\\-\\-{}", roff_escape(long)));
            let takes = a.get_num_args().is_some_and(|n| n.takes_values())
                && !matches!(a.get_action(), clap::ArgAction::SetTrue);
            if takes {
                let v = a
                    .get_value_names()
                    .and_then(|v| v.first().map(|n| n.to_string()))
                    .unwrap_or_else(|| a.get_id().to_string().to_uppercase());
                flag.push_str(&format!(" \\fI{}\\fR", roff_escape(&v)));
            }
            let mut help = a.get_help().map(|h| h.to_string()).unwrap_or_default();
            if let Some(env) = a.get_env() {
                help.push_str(&format!(" [env: {}]", env.to_string_lossy()));
            }
            let defaults: Vec<String> = a
                .get_default_values()
                .iter()
                .map(|d| d.to_string_lossy().into_owned())
                .collect();
            if !defaults.is_empty() {
                help.push_str(&format!(" [default: {}]", defaults.join(", ")));
            }
            let values: Vec<String> = a
                .get_possible_values()
                .iter()
                .map(|p| p.get_name().to_string())
                .collect();
            if !values.is_empty() && takes {
                help.push_str(&format!(" [possible values: {}]", values.join(", ")));
            }
            s.push_str(&format!(".TP\n.B {flag}\n{}\n", roff_escape(&help)));
        }
    }
    s.push_str(include_str!("man.roff"));
    s
}
