# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_pg_seed_global_optspecs
    string join \n dir= file= table= on-change= if-empty= skip= non-fatal dry-run d/dsn= host= p/port= U/user= dbname= sslmode= wait timeout= log-level= log-format= progress= h/help V/version
end

function __fish_pg_seed_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_pg_seed_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_pg_seed_using_subcommand
    set -l cmd (__fish_pg_seed_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c pg-seed -n "__fish_pg_seed_needs_command" -l dir -d 'Directory of *.sql and *.csv seed files, applied in lexical order' -r -F
complete -c pg-seed -n "__fish_pg_seed_needs_command" -l file -d 'Apply this file instead of the directory (repeatable)' -r -F
complete -c pg-seed -n "__fish_pg_seed_needs_command" -l table -d 'Tracking table, optionally schema-qualified' -r
complete -c pg-seed -n "__fish_pg_seed_needs_command" -l on-change -d 'An applied file whose content changed: fail (exit 4), skip or rerun' -r -f -a "fail\t''
skip\t''
rerun\t''"
complete -c pg-seed -n "__fish_pg_seed_needs_command" -l if-empty -d 'Skip all seeding when this table has rows (repeatable)' -r
complete -c pg-seed -n "__fish_pg_seed_needs_command" -l skip -d 'Skip seeding without connecting (true/false/1/0/yes/no)' -r
complete -c pg-seed -n "__fish_pg_seed_needs_command" -s d -l dsn -d 'Connection string: a postgres:// URL or key=value conninfo [env: DATABASE_URL]' -r
complete -c pg-seed -n "__fish_pg_seed_needs_command" -l host -d 'Server host name, IP or unix-socket directory (overrides the DSN) [env: PGHOST]' -r
complete -c pg-seed -n "__fish_pg_seed_needs_command" -s p -l port -d 'Server port (overrides the DSN) [env: PGPORT]' -r
complete -c pg-seed -n "__fish_pg_seed_needs_command" -s U -l user -d 'User name (overrides the DSN) [env: PGUSER]' -r
complete -c pg-seed -n "__fish_pg_seed_needs_command" -l dbname -d 'Database name (overrides the DSN) [env: PGDATABASE]' -r
complete -c pg-seed -n "__fish_pg_seed_needs_command" -l sslmode -d 'TLS mode: disable, allow, prefer, require, verify-ca, verify-full [env: PGSSLMODE]' -r
complete -c pg-seed -n "__fish_pg_seed_needs_command" -l timeout -d 'How long --wait waits (ms or with a unit: 30s, 5m)' -r
complete -c pg-seed -n "__fish_pg_seed_needs_command" -l log-level -d 'Log level: debug, info, warn, error [default: info]' -r -f -a "debug\t''
info\t''
warn\t''
error\t''"
complete -c pg-seed -n "__fish_pg_seed_needs_command" -l log-format -d 'Log format on stderr: json or text [default: json]' -r -f -a "json\t''
text\t''"
complete -c pg-seed -n "__fish_pg_seed_needs_command" -l progress -d 'Progress on stderr for long work: auto (at a terminal, not in CI, unless the log is JSON by choice), always or never [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pg-seed -n "__fish_pg_seed_needs_command" -l non-fatal -d 'Log a failed seed at warn and exit 0 (bad flags/config still fail)'
complete -c pg-seed -n "__fish_pg_seed_needs_command" -l dry-run -d 'List what would be applied, skipped or refused (exits as a run would)'
complete -c pg-seed -n "__fish_pg_seed_needs_command" -l wait -d 'Wait until the database accepts logins first'
complete -c pg-seed -n "__fish_pg_seed_needs_command" -s h -l help -d 'Print help'
complete -c pg-seed -n "__fish_pg_seed_needs_command" -s V -l version -d 'Print version'
complete -c pg-seed -n "__fish_pg_seed_needs_command" -f -a "generate" -d 'Fill a table with synthetic rows of the right types'
complete -c pg-seed -n "__fish_pg_seed_using_subcommand generate" -l table -d 'Table to fill (as in SQL: schema-qualified or on the search_path)' -r
complete -c pg-seed -n "__fish_pg_seed_using_subcommand generate" -l rows -d 'Number of rows (per table with --all) [default with --all: 100]' -r
complete -c pg-seed -n "__fish_pg_seed_using_subcommand generate" -l schema -d 'With --all: only tables of this schema (repeatable) [default: every non-system schema]' -r
complete -c pg-seed -n "__fish_pg_seed_using_subcommand generate" -l rows-per-table -d 'With --all: rows for one table, TABLE=N (repeatable)' -r
complete -c pg-seed -n "__fish_pg_seed_using_subcommand generate" -l exclude -d 'With --all: leave this table out, as schema.table or table (repeatable)' -r
complete -c pg-seed -n "__fish_pg_seed_using_subcommand generate" -l seed -d 'Random seed: the same seed, schema and N give the same rows [default: random, logged]' -r
complete -c pg-seed -n "__fish_pg_seed_using_subcommand generate" -l columns -d 'Generate exactly these columns (comma-separated; may name identity or defaulted ones)' -r
complete -c pg-seed -n "__fish_pg_seed_using_subcommand generate" -l parent-rows -d 'Rows per generated parent table [default: max(1, rows/10)]' -r
complete -c pg-seed -n "__fish_pg_seed_using_subcommand generate" -s d -l dsn -d 'Connection string: a postgres:// URL or key=value conninfo [env: DATABASE_URL]' -r
complete -c pg-seed -n "__fish_pg_seed_using_subcommand generate" -l host -d 'Server host name, IP or unix-socket directory (overrides the DSN) [env: PGHOST]' -r
complete -c pg-seed -n "__fish_pg_seed_using_subcommand generate" -s p -l port -d 'Server port (overrides the DSN) [env: PGPORT]' -r
complete -c pg-seed -n "__fish_pg_seed_using_subcommand generate" -s U -l user -d 'User name (overrides the DSN) [env: PGUSER]' -r
complete -c pg-seed -n "__fish_pg_seed_using_subcommand generate" -l dbname -d 'Database name (overrides the DSN) [env: PGDATABASE]' -r
complete -c pg-seed -n "__fish_pg_seed_using_subcommand generate" -l sslmode -d 'TLS mode: disable, allow, prefer, require, verify-ca, verify-full [env: PGSSLMODE]' -r
complete -c pg-seed -n "__fish_pg_seed_using_subcommand generate" -l timeout -d 'How long --wait waits (ms or with a unit: 30s, 5m)' -r
complete -c pg-seed -n "__fish_pg_seed_using_subcommand generate" -l log-level -d 'Log level: debug, info, warn, error [default: info]' -r -f -a "debug\t''
info\t''
warn\t''
error\t''"
complete -c pg-seed -n "__fish_pg_seed_using_subcommand generate" -l log-format -d 'Log format on stderr: json or text [default: json]' -r -f -a "json\t''
text\t''"
complete -c pg-seed -n "__fish_pg_seed_using_subcommand generate" -l progress -d 'Progress on stderr for long work: auto (at a terminal, not in CI, unless the log is JSON by choice), always or never [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pg-seed -n "__fish_pg_seed_using_subcommand generate" -l all -d 'Fill every table of the chosen schemas, in dependency order, in one transaction'
complete -c pg-seed -n "__fish_pg_seed_using_subcommand generate" -l dry-run -d 'With --all: print the plan (order, rows, columns left to the database) and change nothing'
complete -c pg-seed -n "__fish_pg_seed_using_subcommand generate" -l with-parents -d 'Generate rows in empty parent tables first, in dependency order'
complete -c pg-seed -n "__fish_pg_seed_using_subcommand generate" -l wait -d 'Wait until the database accepts logins first'
complete -c pg-seed -n "__fish_pg_seed_using_subcommand generate" -s h -l help -d 'Print help'
