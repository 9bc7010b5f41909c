# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_pg_tmp_global_optspecs
    string join \n log-level= log-format= progress= h/help V/version
end

function __fish_pg_tmp_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_pg_tmp_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_pg_tmp_using_subcommand
    set -l cmd (__fish_pg_tmp_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c pg-tmp -n "__fish_pg_tmp_needs_command" -l log-level -d 'Log level: debug, info, warn, error [default: info]' -r -f -a "debug\t''
info\t''
warn\t''
error\t''"
complete -c pg-tmp -n "__fish_pg_tmp_needs_command" -l log-format -d 'Log format on stderr: json or text [default: json]' -r -f -a "json\t''
text\t''"
complete -c pg-tmp -n "__fish_pg_tmp_needs_command" -l progress -d 'Progress on stderr for long work: auto (at a terminal, not in CI, unless the log is JSON by choice), always or never [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pg-tmp -n "__fish_pg_tmp_needs_command" -s h -l help -d 'Print help'
complete -c pg-tmp -n "__fish_pg_tmp_needs_command" -s V -l version -d 'Print version'
complete -c pg-tmp -n "__fish_pg_tmp_needs_command" -f -a "start" -d 'Start a throwaway server, print its URL and leave it running'
complete -c pg-tmp -n "__fish_pg_tmp_needs_command" -f -a "stop" -d 'Stop a server that `start` made and delete its directory'
complete -c pg-tmp -n "__fish_pg_tmp_needs_command" -f -a "run" -d 'Start a server, migrate, seed, run CMD against it, stop and delete it'
complete -c pg-tmp -n "__fish_pg_tmp_needs_command" -f -a "env" -d 'Print `export PG…` lines for a URL, for `eval`'
complete -c pg-tmp -n "__fish_pg_tmp_needs_command" -f -a "prune" -d 'Stop and delete servers whose start or run was killed before it finished'
complete -c pg-tmp -n "__fish_pg_tmp_needs_command" -f -a "db" -d 'Fresh databases from a migrated template, on any server'
complete -c pg-tmp -n "__fish_pg_tmp_needs_command" -f -a "install" -d 'Find or download PostgreSQL MAJOR[.MINOR]; print its bin directory'
complete -c pg-tmp -n "__fish_pg_tmp_needs_command" -f -a "versions" -d 'List the installed and cached PostgreSQL versions'
complete -c pg-tmp -n "__fish_pg_tmp_needs_command" -f -a "__ttl-watch" -d '(internal) the --ttl watcher'
complete -c pg-tmp -n "__fish_pg_tmp_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand start" -l port -d 'TCP port on 127.0.0.1, or `auto` for a free one (never another pg-tmp server\'s)' -r
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand start" -l dir -d 'Directory for the server (data, socket, log); default: a new temporary directory' -r -F
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand start" -s c -d 'A server setting, repeatable (e.g. -c log_statement=all)' -r
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand start" -l pg-version -d 'PostgreSQL major version: installed, cached, or else downloaded (see install)' -r
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand start" -l ttl -d 'Stop and delete the server after this long without connections (e.g. 30m)' -r
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand start" -l log-level -d 'Log level: debug, info, warn, error [default: info]' -r -f -a "debug\t''
info\t''
warn\t''
error\t''"
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand start" -l log-format -d 'Log format on stderr: json or text [default: json]' -r -f -a "json\t''
text\t''"
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand start" -l progress -d 'Progress on stderr for long work: auto (at a terminal, not in CI, unless the log is JSON by choice), always or never [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand start" -l tls -d 'Enable TLS with a generated certificate; the URL gets sslmode=require'
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand start" -l password -d 'SCRAM authentication with a random password (carried in the URL)'
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand start" -l offline -d 'Never download PostgreSQL: use installed or cached binaries only [env: PGKIT_OFFLINE]'
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand start" -s h -l help -d 'Print help'
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand stop" -l dir -d 'The server\'s directory (as given to `start --dir`)' -r -F
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand stop" -l log-level -d 'Log level: debug, info, warn, error [default: info]' -r -f -a "debug\t''
info\t''
warn\t''
error\t''"
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand stop" -l log-format -d 'Log format on stderr: json or text [default: json]' -r -f -a "json\t''
text\t''"
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand stop" -l progress -d 'Progress on stderr for long work: auto (at a terminal, not in CI, unless the log is JSON by choice), always or never [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand stop" -l keep -d 'Keep the directory (data, log, and its claim on the port): stop the server only'
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand stop" -s h -l help -d 'Print help'
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand run" -l port -d 'TCP port on 127.0.0.1, or `auto` for a free one (never another pg-tmp server\'s)' -r
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand run" -l dir -d 'Directory for the server (data, socket, log); default: a new temporary directory' -r -F
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand run" -s c -d 'A server setting, repeatable (e.g. -c log_statement=all)' -r
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand run" -l pg-version -d 'PostgreSQL major version: installed, cached, or else downloaded (see install)' -r
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand run" -l migrations -d 'Apply these migrations (with pg-migrate) before running CMD [env: MIGRATIONS_DIR]' -r -F
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand run" -l seeds -d 'Load these seeds (with pg-seed) before running CMD [env: SEEDS_DIR]' -r -F
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand run" -l log-level -d 'Log level: debug, info, warn, error [default: info]' -r -f -a "debug\t''
info\t''
warn\t''
error\t''"
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand run" -l log-format -d 'Log format on stderr: json or text [default: json]' -r -f -a "json\t''
text\t''"
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand run" -l progress -d 'Progress on stderr for long work: auto (at a terminal, not in CI, unless the log is JSON by choice), always or never [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand run" -l tls -d 'Enable TLS with a generated certificate; the URL gets sslmode=require'
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand run" -l password -d 'SCRAM authentication with a random password (carried in the URL)'
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand run" -l offline -d 'Never download PostgreSQL: use installed or cached binaries only [env: PGKIT_OFFLINE]'
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand run" -s h -l help -d 'Print help'
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand env" -l log-level -d 'Log level: debug, info, warn, error [default: info]' -r -f -a "debug\t''
info\t''
warn\t''
error\t''"
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand env" -l log-format -d 'Log format on stderr: json or text [default: json]' -r -f -a "json\t''
text\t''"
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand env" -l progress -d 'Progress on stderr for long work: auto (at a terminal, not in CI, unless the log is JSON by choice), always or never [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand env" -s h -l help -d 'Print help'
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand prune" -l log-level -d 'Log level: debug, info, warn, error [default: info]' -r -f -a "debug\t''
info\t''
warn\t''
error\t''"
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand prune" -l log-format -d 'Log format on stderr: json or text [default: json]' -r -f -a "json\t''
text\t''"
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand prune" -l progress -d 'Progress on stderr for long work: auto (at a terminal, not in CI, unless the log is JSON by choice), always or never [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand prune" -l dry-run -d 'Only print the directories that would be removed'
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand prune" -s h -l help -d 'Print help'
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand db; and not __fish_seen_subcommand_from create drop prune help" -l log-level -d 'Log level: debug, info, warn, error [default: info]' -r -f -a "debug\t''
info\t''
warn\t''
error\t''"
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand db; and not __fish_seen_subcommand_from create drop prune help" -l log-format -d 'Log format on stderr: json or text [default: json]' -r -f -a "json\t''
text\t''"
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand db; and not __fish_seen_subcommand_from create drop prune help" -l progress -d 'Progress on stderr for long work: auto (at a terminal, not in CI, unless the log is JSON by choice), always or never [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand db; and not __fish_seen_subcommand_from create drop prune help" -s h -l help -d 'Print help'
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand db; and not __fish_seen_subcommand_from create drop prune help" -f -a "create" -d 'Create a fresh database from the template for these migrations; print its URL'
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand db; and not __fish_seen_subcommand_from create drop prune help" -f -a "drop" -d 'Drop a database that `db create` made (pgtmp_…)'
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand db; and not __fish_seen_subcommand_from create drop prune help" -f -a "prune" -d 'Drop old pgtmp_ databases and templates of other migrations'
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand db; and not __fish_seen_subcommand_from create drop prune help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand db; and __fish_seen_subcommand_from create" -s d -l dsn -d 'Connection string: a postgres:// URL or key=value conninfo [env: DATABASE_URL]' -r
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand db; and __fish_seen_subcommand_from create" -l host -d 'Server host name, IP or unix-socket directory (overrides the DSN) [env: PGHOST]' -r
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand db; and __fish_seen_subcommand_from create" -s p -l port -d 'Server port (overrides the DSN) [env: PGPORT]' -r
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand db; and __fish_seen_subcommand_from create" -s U -l user -d 'User name (overrides the DSN) [env: PGUSER]' -r
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand db; and __fish_seen_subcommand_from create" -l dbname -d 'Database name (overrides the DSN) [env: PGDATABASE]' -r
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand db; and __fish_seen_subcommand_from create" -l sslmode -d 'TLS mode: disable, allow, prefer, require, verify-ca, verify-full [env: PGSSLMODE]' -r
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand db; and __fish_seen_subcommand_from create" -l migrations -d 'The migrations the template is built from [env: MIGRATIONS_DIR]' -r -F
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand db; and __fish_seen_subcommand_from create" -l seeds -d 'Seeds loaded into the template after the migrations [env: SEEDS_DIR]' -r -F
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand db; and __fish_seen_subcommand_from create" -l log-level -d 'Log level: debug, info, warn, error [default: info]' -r -f -a "debug\t''
info\t''
warn\t''
error\t''"
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand db; and __fish_seen_subcommand_from create" -l log-format -d 'Log format on stderr: json or text [default: json]' -r -f -a "json\t''
text\t''"
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand db; and __fish_seen_subcommand_from create" -l progress -d 'Progress on stderr for long work: auto (at a terminal, not in CI, unless the log is JSON by choice), always or never [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand db; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help'
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand db; and __fish_seen_subcommand_from drop" -l log-level -d 'Log level: debug, info, warn, error [default: info]' -r -f -a "debug\t''
info\t''
warn\t''
error\t''"
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand db; and __fish_seen_subcommand_from drop" -l log-format -d 'Log format on stderr: json or text [default: json]' -r -f -a "json\t''
text\t''"
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand db; and __fish_seen_subcommand_from drop" -l progress -d 'Progress on stderr for long work: auto (at a terminal, not in CI, unless the log is JSON by choice), always or never [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand db; and __fish_seen_subcommand_from drop" -l force -d 'Drop even when the name does not start with pgtmp_'
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand db; and __fish_seen_subcommand_from drop" -s h -l help -d 'Print help'
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand db; and __fish_seen_subcommand_from prune" -s d -l dsn -d 'Connection string: a postgres:// URL or key=value conninfo [env: DATABASE_URL]' -r
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand db; and __fish_seen_subcommand_from prune" -l host -d 'Server host name, IP or unix-socket directory (overrides the DSN) [env: PGHOST]' -r
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand db; and __fish_seen_subcommand_from prune" -s p -l port -d 'Server port (overrides the DSN) [env: PGPORT]' -r
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand db; and __fish_seen_subcommand_from prune" -s U -l user -d 'User name (overrides the DSN) [env: PGUSER]' -r
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand db; and __fish_seen_subcommand_from prune" -l dbname -d 'Database name (overrides the DSN) [env: PGDATABASE]' -r
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand db; and __fish_seen_subcommand_from prune" -l sslmode -d 'TLS mode: disable, allow, prefer, require, verify-ca, verify-full [env: PGSSLMODE]' -r
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand db; and __fish_seen_subcommand_from prune" -l older-than -d 'Drop pgtmp_ databases created longer ago than this' -r
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand db; and __fish_seen_subcommand_from prune" -l migrations -d 'The current migrations: templates built from anything else are dropped [env: MIGRATIONS_DIR]' -r -F
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand db; and __fish_seen_subcommand_from prune" -l seeds -d 'The current seeds (with --migrations) [env: SEEDS_DIR]' -r -F
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand db; and __fish_seen_subcommand_from prune" -l log-level -d 'Log level: debug, info, warn, error [default: info]' -r -f -a "debug\t''
info\t''
warn\t''
error\t''"
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand db; and __fish_seen_subcommand_from prune" -l log-format -d 'Log format on stderr: json or text [default: json]' -r -f -a "json\t''
text\t''"
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand db; and __fish_seen_subcommand_from prune" -l progress -d 'Progress on stderr for long work: auto (at a terminal, not in CI, unless the log is JSON by choice), always or never [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand db; and __fish_seen_subcommand_from prune" -l dry-run -d 'Only list what would be dropped'
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand db; and __fish_seen_subcommand_from prune" -s h -l help -d 'Print help'
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand db; and __fish_seen_subcommand_from help" -f -a "create" -d 'Create a fresh database from the template for these migrations; print its URL'
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand db; and __fish_seen_subcommand_from help" -f -a "drop" -d 'Drop a database that `db create` made (pgtmp_…)'
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand db; and __fish_seen_subcommand_from help" -f -a "prune" -d 'Drop old pgtmp_ databases and templates of other migrations'
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand db; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand install" -l log-level -d 'Log level: debug, info, warn, error [default: info]' -r -f -a "debug\t''
info\t''
warn\t''
error\t''"
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand install" -l log-format -d 'Log format on stderr: json or text [default: json]' -r -f -a "json\t''
text\t''"
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand install" -l progress -d 'Progress on stderr for long work: auto (at a terminal, not in CI, unless the log is JSON by choice), always or never [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand install" -l offline -d 'Never download: answer only from installed or cached binaries [env: PGKIT_OFFLINE]'
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand install" -s h -l help -d 'Print help'
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand versions" -l log-level -d 'Log level: debug, info, warn, error [default: info]' -r -f -a "debug\t''
info\t''
warn\t''
error\t''"
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand versions" -l log-format -d 'Log format on stderr: json or text [default: json]' -r -f -a "json\t''
text\t''"
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand versions" -l progress -d 'Progress on stderr for long work: auto (at a terminal, not in CI, unless the log is JSON by choice), always or never [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand versions" -s h -l help -d 'Print help'
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand __ttl-watch" -l dir -r -F
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand __ttl-watch" -l ttl-ms -r
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand __ttl-watch" -l log-level -d 'Log level: debug, info, warn, error [default: info]' -r -f -a "debug\t''
info\t''
warn\t''
error\t''"
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand __ttl-watch" -l log-format -d 'Log format on stderr: json or text [default: json]' -r -f -a "json\t''
text\t''"
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand __ttl-watch" -l progress -d 'Progress on stderr for long work: auto (at a terminal, not in CI, unless the log is JSON by choice), always or never [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand __ttl-watch" -s h -l help -d 'Print help'
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand help; and not __fish_seen_subcommand_from start stop run env prune db install versions __ttl-watch help" -f -a "start" -d 'Start a throwaway server, print its URL and leave it running'
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand help; and not __fish_seen_subcommand_from start stop run env prune db install versions __ttl-watch help" -f -a "stop" -d 'Stop a server that `start` made and delete its directory'
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand help; and not __fish_seen_subcommand_from start stop run env prune db install versions __ttl-watch help" -f -a "run" -d 'Start a server, migrate, seed, run CMD against it, stop and delete it'
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand help; and not __fish_seen_subcommand_from start stop run env prune db install versions __ttl-watch help" -f -a "env" -d 'Print `export PG…` lines for a URL, for `eval`'
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand help; and not __fish_seen_subcommand_from start stop run env prune db install versions __ttl-watch help" -f -a "prune" -d 'Stop and delete servers whose start or run was killed before it finished'
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand help; and not __fish_seen_subcommand_from start stop run env prune db install versions __ttl-watch help" -f -a "db" -d 'Fresh databases from a migrated template, on any server'
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand help; and not __fish_seen_subcommand_from start stop run env prune db install versions __ttl-watch help" -f -a "install" -d 'Find or download PostgreSQL MAJOR[.MINOR]; print its bin directory'
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand help; and not __fish_seen_subcommand_from start stop run env prune db install versions __ttl-watch help" -f -a "versions" -d 'List the installed and cached PostgreSQL versions'
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand help; and not __fish_seen_subcommand_from start stop run env prune db install versions __ttl-watch help" -f -a "__ttl-watch" -d '(internal) the --ttl watcher'
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand help; and not __fish_seen_subcommand_from start stop run env prune db install versions __ttl-watch help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand help; and __fish_seen_subcommand_from db" -f -a "create" -d 'Create a fresh database from the template for these migrations; print its URL'
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand help; and __fish_seen_subcommand_from db" -f -a "drop" -d 'Drop a database that `db create` made (pgtmp_…)'
complete -c pg-tmp -n "__fish_pg_tmp_using_subcommand help; and __fish_seen_subcommand_from db" -f -a "prune" -d 'Drop old pgtmp_ databases and templates of other migrations'
