//! Shell completions (bash, zsh, fish) generated from the clap definitions
//! with clap_complete.
//!
//! Every binary answers `--generate-completions SHELL` (hidden, first
//! argument) with its script; `completions/` holds that output, committed,
//! and tests/docs.rs fails when one is stale (scripts/gen-man writes both).
//!
//! Values come from the clap definitions: subcommands, and every argument
//! with possible values (a `ValueEnum`, or `value_parser([..])`) — a new flag
//! such as `--layout auto|pgkit|…` completes its values with nothing more
//! than that. Two things the definitions cannot say are added here: the
//! values of the shared `--log-level` / `--log-format` (plain strings, so
//! that a bad value from LOG_LEVEL is a 78, see `cli::LogArgs`), and the dump
//! files under `--dir` for `pg-dump-rotate restore` / `verify`, which only
//! the shell can list at completion time: a small shell function in the
//! script (clap_complete's dynamic engine would run the binary on every TAB
//! and is still unstable).

use crate::error::{Error, Result};
use crate::exit::Exit;
use clap::ValueHint;
use clap_complete::Shell;

/// Arguments whose values are dump files under the directory named by a
/// flag of the tool (its `--dir`, with its env variable and default).
struct DumpFiles {
    tool: &'static str,
    /// (subcommand, positional argument id)
    args: &'static [(&'static str, &'static str)],
    /// The flag naming the directory (long name).
    dir_flag: &'static str,
    /// The dump files, relative to the directory (shell globs).
    globs: &'static [&'static str],
}

const DUMP_FILES: &[DumpFiles] = &[DumpFiles {
    tool: "pg-dump-rotate",
    args: &[("restore", "file"), ("verify", "files")],
    dir_flag: "dir",
    // DIR/SOURCE/SOURCE_<timestamp>.<ext>, as pg-dump-rotate's layout.rs.
    globs: &["*/*.pgdump", "*/*.sql", "*/*.sql.gz", "*/*.dir"],
}];

/// A value hint none of our arguments uses: it marks the dump-file
/// arguments in the generated script, where the shell function replaces it.
const MARK: ValueHint = ValueHint::CommandName;

/// Renders `cmd`'s completion script for `shell` (bash, zsh or fish; elvish
/// and powershell work too, without the dump-file completion).
pub fn render(cmd: clap::Command, shell: &str) -> Result<String> {
    let sh: Shell = shell.parse().map_err(|_| {
        Error::usage(format!("Unknown shell {shell:?}"))
            .suggest("Give bash, zsh or fish (elvish and powershell work too)")
    })?;
    let mut cmd = with_log_values(cmd);
    let name = cmd.get_name().to_string();
    let dynamic = DUMP_FILES.iter().find(|d| d.tool == name);
    if let Some(d) = dynamic {
        for (sub, id) in d.args {
            cmd = cmd.mut_subcommand(*sub, |s| s.mut_arg(*id, |a| a.value_hint(MARK)));
        }
    }
    let mut buf: Vec<u8> = Vec::new();
    clap_complete::generate(sh, &mut cmd, &name, &mut buf);
    let mut script = String::from_utf8(buf).map_err(|e| {
        Error::new(Exit::Failure, "Cannot render the completion script").cause(e.to_string())
    })?;
    if sh == Shell::Bash {
        script = fix_bash_hyphens(&script, &name);
    }
    if let Some(d) = dynamic {
        script = with_dump_files(script, sh, &cmd, d)?;
    }
    Ok(script)
}

/// `--log-level`, `--log-format` and `--progress` complete their values.
fn with_log_values(cmd: clap::Command) -> clap::Command {
    cmd.mut_args(|a| match a.get_long() {
        Some("log-level") => a.value_parser(["debug", "info", "warn", "error"]),
        Some("log-format") => a.value_parser(["json", "text"]),
        Some("progress") => a.value_parser(["auto", "always", "never"]),
        _ => a,
    })
}

/// clap_complete 4.6 spells a hyphenated binary's subcommand states one way
/// in bash's dispatch loop (`pg__dump__rotate__subcmd__dump`) and another in
/// the case arms (`pg__subcmd__dump__subcmd__rotate__subcmd__dump`), so no
/// subcommand option ever completes (clap-rs/clap#6421). Spell the arms as
/// the loop does.
fn fix_bash_hyphens(script: &str, name: &str) -> String {
    let wrong = format!("{}__subcmd__", name.replace('-', "__subcmd__"));
    let right = format!("{}__subcmd__", name.replace('-', "__"));
    if wrong == right {
        return script.to_string();
    }
    script.replace(&wrong, &right)
}

/// The generated identifier of the tool: `pg-dump-rotate` → `pg_dump_rotate`.
fn ident(name: &str) -> String {
    name.replace('-', "_")
}

/// Plugs the dump-file function into the script where `MARK` left its trace.
fn with_dump_files(
    script: String,
    sh: Shell,
    cmd: &clap::Command,
    d: &DumpFiles,
) -> Result<String> {
    let name = cmd.get_name();
    let f = format!("_{}_dumps", ident(name));
    let dir = cmd
        .get_arguments()
        .find(|a| a.get_long() == Some(d.dir_flag))
        .ok_or_else(|| Error::new(Exit::Failure, "No --dir flag to complete dumps from"))?;
    let env = dir
        .get_env()
        .map(|e| e.to_string_lossy().into_owned())
        .unwrap_or_default();
    let default = dir
        .get_default_values()
        .first()
        .map(|v| v.to_string_lossy().into_owned())
        .unwrap_or_else(|| ".".into());
    let flag = format!("--{}", d.dir_flag);
    let subs: Vec<&str> = d.args.iter().map(|(s, _)| *s).collect();
    let missing = || {
        Error::new(
            Exit::Failure,
            "clap_complete's output changed: no place for the dump completion",
        )
    };
    let out = match sh {
        Shell::Bash => {
            // Options that take a value, so that their values are not taken
            // for a subcommand or a dump.
            let mut takes: Vec<String> = Vec::new();
            let all = std::iter::once(cmd).chain(cmd.get_subcommands());
            for c in all {
                for a in c.get_arguments().filter(|a| !a.is_positional()) {
                    if a.get_action().takes_values() {
                        takes.extend(a.get_long().map(|l| format!("--{l}")));
                        takes.extend(a.get_short().map(|s| format!("-{s}")));
                    }
                }
            }
            takes.sort();
            takes.dedup();
            let generated = format!("_{}", name.replace('-', "__"));
            let globs: Vec<String> = d.globs.iter().map(|g| format!("\"$dir\"/{g}")).collect();
            let func = format!(
                r#"
# pgkit: `{subs_words}` complete the dump files under {flag} (else ${env}, else {default}).
{f}() {{
    local cur="${{COMP_WORDS[COMP_CWORD]}}" prev="${{COMP_WORDS[COMP_CWORD-1]}}"
    local i w sub="" dir="${{{env}:-{default}}}"
    for ((i = 1; i < COMP_CWORD; i++)); do
        w="${{COMP_WORDS[i]}}"
        case "$w" in
            {flag}=*) dir="${{w#{flag}=}}" ;;
            {flag})
                if [[ ${{COMP_WORDS[i+1]}} == "=" ]]; then ((i++)); fi
                ((i + 1 < COMP_CWORD)) && dir="${{COMP_WORDS[i+1]}}"
                ((i++))
                ;;
            {takes})
                if [[ ${{COMP_WORDS[i+1]}} == "=" ]]; then ((i++)); fi
                ((i++))
                ;;
            -*) ;;
            *) [[ -z $sub ]] && sub="$w" ;;
        esac
    done
    case "$sub" in
        {subs_alt})
            if [[ $cur != -* && $prev != "=" ]] && ! [[ " {takes_words} " == *" $prev "* ]]; then
                local f
                COMPREPLY=()
                for f in {globs}; do
                    [[ -e $f && $f == "$cur"* ]] && COMPREPLY+=("$f")
                done
                if ((${{#COMPREPLY[@]}} == 0)); then
                    mapfile -t COMPREPLY < <(compgen -f -- "$cur")
                fi
                compopt -o filenames 2>/dev/null
                return 0
            fi
            ;;
    esac
    {generated} "$@"
}}
"#,
                subs_words = subs.join("`/`"),
                subs_alt = subs.join("|"),
                takes = takes.join("|"),
                takes_words = takes.join(" "),
                globs = globs.join(" "),
            );
            let register = format!("complete -F {generated} ");
            if !script.contains(&register) {
                return Err(missing());
            }
            let (head, tail) =
                split_before(&script, "if [[ \"${BASH_VERSINFO[0]}\" -eq 4").ok_or_else(missing)?;
            format!(
                "{head}{func}\n{}",
                tail.replace(&register, &format!("complete -F {f} "))
            )
        }
        Shell::Zsh => {
            let alt = d
                .globs
                .iter()
                .map(|g| format!("$dir/{g}(N)"))
                .collect::<Vec<_>>()
                .join(" ");
            let func = format!(
                r#"
# pgkit: `{subs_words}` complete the dump files under {flag} (else ${env}, else {default}).
(( $+functions[{f}] )) ||
{f}() {{
    local dir=${{{env}:-{default}}} i
    local -a w dumps
    w=(${{(z)LBUFFER}})
    for (( i = 1; i < ${{#w}}; i++ )); do
        case ${{w[i]}} in
            ({flag}) dir=${{(Q)w[i+1]}} ;;
            ({flag}=*) dir=${{(Q)w[i]#{flag}=}} ;;
        esac
    done
    dir=${{dir/#\~/$HOME}}
    dumps=( {alt} )
    compadd -a dumps && return 0
    _files
}}
"#,
                subs_words = subs.join("`/`"),
            );
            let n = script.matches(":_command_names -e'").count();
            if n != d.args.len() {
                return Err(missing());
            }
            let script = script.replace(":_command_names -e'", &format!(":{f}'"));
            // Before the `if [ "$funcstack[1]" = ...` that runs the main function.
            let (head, tail) =
                split_before(&script, "if [ \"$funcstack[1]\"").ok_or_else(missing)?;
            format!("{head}{func}\n{tail}")
        }
        Shell::Fish => {
            let globs: Vec<String> = d.globs.iter().map(|g| format!("$dir/{g}")).collect();
            let func = format!(
                r#"# pgkit: `{subs_words}` complete the dump files under {flag} (else ${env}, else {default}).
function {f}
    set -l dir {default}
    set -q {env}; and set dir ${env}
    set -l words (commandline -opc)
    for i in (seq (count $words))
        switch $words[$i]
            case {flag}
                set -l j (math $i + 1)
                set -q words[$j]; and set dir $words[$j]
            case '{flag}=*'
                set dir (string replace -- '{flag}=' '' $words[$i])
        end
    end
    for f in {globs}
        echo $f
    end
end

"#,
                subs_words = subs.join("`/`"),
                globs = globs.join(" "),
            );
            // clap_complete's fish script completes options only; the
            // positional dumps get their own lines.
            let using = format!("__fish_{}_using_subcommand", ident(name));
            if !script.contains(&format!("function {using}")) {
                return Err(missing());
            }
            let mut script = format!("{func}{script}");
            for sub in &subs {
                script.push_str(&format!(
                    "complete -c {name} -n \"{using} {sub}\" -k -a \"({f})\"\n"
                ));
            }
            script
        }
        _ => script,
    };
    Ok(out)
}

/// `s` split before the first occurrence of `at`.
fn split_before<'a>(s: &'a str, at: &str) -> Option<(&'a str, &'a str)> {
    s.find(at).map(|i| s.split_at(i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hyphenated_bash_states_agree() {
        let cmd = clap::Command::new("my-app")
            .subcommand(clap::Command::new("thunder").arg(clap::Arg::new("x").long("lightning")));
        let s = render(cmd, "bash").unwrap_or_default();
        assert!(s.contains("my__app__subcmd__thunder)"), "{s}");
        assert!(!s.contains("my__subcmd__app"), "{s}");
    }

    #[test]
    fn log_flags_complete_their_values() {
        #[derive(clap::Parser)]
        struct T {
            #[command(flatten)]
            log: crate::cli::LogArgs,
        }
        let s =
            render(<T as clap::CommandFactory>::command().name("t"), "fish").unwrap_or_default();
        assert!(
            s.contains("-l log-format") && s.contains("json") && s.contains("text"),
            "{s}"
        );
    }

    #[test]
    fn an_unknown_shell_is_a_usage_error() {
        let e = render(clap::Command::new("t"), "tcsh").err();
        assert_eq!(e.map(|e| e.code), Some(Exit::Usage));
    }
}
