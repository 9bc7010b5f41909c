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
    let man = clap_mangen::Man::new(cmd.clone());
    let mut buf: Vec<u8> = Vec::new();
    let io = |e: std::io::Error| Error::new(Exit::Failure, "Cannot render the man page").cause(e);
    man.render_title(&mut buf).map_err(io)?;
    man.render_name_section(&mut buf).map_err(io)?;
    man.render_synopsis_section(&mut buf).map_err(io)?;
    man.render_description_section(&mut buf).map_err(io)?;
    man.render_options_section(&mut buf).map_err(io)?;
    if cmd.get_subcommands().any(|s| !s.is_hide_set()) {
        man.render_subcommands_section(&mut buf).map_err(io)?;
    }
    let mut page = String::from_utf8_lossy(&buf).into_owned();
    page.push_str(extra.trim_end());
    page.push('\n');
    if !extra.contains(".SH \"EXIT STATUS\"") && !extra.contains(".SH EXIT STATUS") {
        page.push_str(&exit_status_section());
    }
    page.push_str(".SH \"SEE ALSO\"\npgkit(7)\n");
    Ok(page)
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
