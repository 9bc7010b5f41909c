//! pg-wait: wait until PostgreSQL is really ready (see `man pg-wait`).

mod app;
mod cli;
mod exec;
mod report;
mod targets;

fn main() -> std::process::ExitCode {
    let healthcheck = app::healthcheck_in_args(std::env::args_os());
    if healthcheck {
        pgkit::cli::healthcheck(); // 0 or 1 only, a panic included
    }
    pgkit::cli::run("pg-wait", || {
        let result = (|| {
            let cli: cli::Cli = pgkit::cli::parse_or_man(include_str!("man.roff"))?;
            cli.log.apply()?;
            app::run(cli)
        })();
        if healthcheck {
            app::unhealthy(result)
        } else {
            result
        }
    })
}
