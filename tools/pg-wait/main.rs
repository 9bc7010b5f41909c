//! pg-wait: wait until PostgreSQL is really ready (see `man pg-wait`).

mod app;
mod cli;
mod exec;
mod report;
mod targets;

fn main() -> std::process::ExitCode {
    let healthcheck = app::healthcheck_in_args(std::env::args_os());
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
