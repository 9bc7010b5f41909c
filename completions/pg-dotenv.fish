# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_pg_dotenv_global_optspecs
    string join \n f/file= no-interpolate lock-timeout= force optional= log-level= log-format= progress= h/help V/version
end

function __fish_pg_dotenv_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_pg_dotenv_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_pg_dotenv_using_subcommand
    set -l cmd (__fish_pg_dotenv_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c pg-dotenv -n "__fish_pg_dotenv_needs_command" -s f -l file -d 'The .env file; repeat for reads (later files win) [default: .env]' -r -F
complete -c pg-dotenv -n "__fish_pg_dotenv_needs_command" -l lock-timeout -d 'How long a writer waits for another writer\'s lock (a bare number is milliseconds)' -r
complete -c pg-dotenv -n "__fish_pg_dotenv_needs_command" -l optional -d 'A file that may be missing, read after the -f files (repeatable; `-f FILE?` says the same)' -r -F
complete -c pg-dotenv -n "__fish_pg_dotenv_needs_command" -l log-level -d 'Log level: debug, info, warn, error [default: info]' -r -f -a "debug\t''
info\t''
warn\t''
error\t''"
complete -c pg-dotenv -n "__fish_pg_dotenv_needs_command" -l log-format -d 'Log format on stderr: json or text [default: json]' -r -f -a "json\t''
text\t''"
complete -c pg-dotenv -n "__fish_pg_dotenv_needs_command" -l progress -d 'Progress on stderr for long work: auto (at a terminal, not in CI, unless the log is JSON by choice), always or never [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pg-dotenv -n "__fish_pg_dotenv_needs_command" -l no-interpolate -d 'Take values as written: no $VAR / ${VAR} expansion'
complete -c pg-dotenv -n "__fish_pg_dotenv_needs_command" -l force -d 'Write even a read-only (0444) file (its mode is kept)'
complete -c pg-dotenv -n "__fish_pg_dotenv_needs_command" -s h -l help -d 'Print help'
complete -c pg-dotenv -n "__fish_pg_dotenv_needs_command" -s V -l version -d 'Print version'
complete -c pg-dotenv -n "__fish_pg_dotenv_needs_command" -f -a "get" -d 'Print KEY\'s value; exit 1 when absent'
complete -c pg-dotenv -n "__fish_pg_dotenv_needs_command" -f -a "set" -d 'Set keys: KEY VALUE, KEY=VALUE, or KEY +DEFAULT (only if absent; ++X is the literal +X)'
complete -c pg-dotenv -n "__fish_pg_dotenv_needs_command" -f -a "unset" -d 'Remove keys (every occurrence)'
complete -c pg-dotenv -n "__fish_pg_dotenv_needs_command" -f -a "list" -d 'Print every key and value, in file order'
complete -c pg-dotenv -n "__fish_pg_dotenv_needs_command" -f -a "generate" -d 'Set KEY to a new random secret, only if it is absent'
complete -c pg-dotenv -n "__fish_pg_dotenv_needs_command" -f -a "pgenv" -d 'Print `export PGHOST=… PGPASSWORD=…` from DATABASE_URL or POSTGRES_* keys'
complete -c pg-dotenv -n "__fish_pg_dotenv_needs_command" -f -a "check" -d 'Compare with an example file: list missing and extra keys; exit 1 when keys are missing (CI)'
complete -c pg-dotenv -n "__fish_pg_dotenv_needs_command" -f -a "run" -d 'Run a command with the file\'s values in its environment'
complete -c pg-dotenv -n "__fish_pg_dotenv_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand get" -l default -d 'Print this instead when KEY is absent (exit 0)' -r
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand get" -s f -l file -d 'The .env file; repeat for reads (later files win) [default: .env]' -r -F
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand get" -l lock-timeout -d 'How long a writer waits for another writer\'s lock (a bare number is milliseconds)' -r
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand get" -l optional -d 'A file that may be missing, read after the -f files (repeatable; `-f FILE?` says the same)' -r -F
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand get" -l log-level -d 'Log level: debug, info, warn, error [default: info]' -r -f -a "debug\t''
info\t''
warn\t''
error\t''"
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand get" -l log-format -d 'Log format on stderr: json or text [default: json]' -r -f -a "json\t''
text\t''"
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand get" -l progress -d 'Progress on stderr for long work: auto (at a terminal, not in CI, unless the log is JSON by choice), always or never [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand get" -l no-interpolate -d 'Take values as written: no $VAR / ${VAR} expansion'
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand get" -l force -d 'Write even a read-only (0444) file (its mode is kept)'
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand get" -s h -l help -d 'Print help'
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand set" -s f -l file -d 'The .env file; repeat for reads (later files win) [default: .env]' -r -F
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand set" -l lock-timeout -d 'How long a writer waits for another writer\'s lock (a bare number is milliseconds)' -r
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand set" -l optional -d 'A file that may be missing, read after the -f files (repeatable; `-f FILE?` says the same)' -r -F
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand set" -l log-level -d 'Log level: debug, info, warn, error [default: info]' -r -f -a "debug\t''
info\t''
warn\t''
error\t''"
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand set" -l log-format -d 'Log format on stderr: json or text [default: json]' -r -f -a "json\t''
text\t''"
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand set" -l progress -d 'Progress on stderr for long work: auto (at a terminal, not in CI, unless the log is JSON by choice), always or never [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand set" -l stdin -d 'Read the value of the one KEY from stdin (keeps a secret off argv; one trailing newline is dropped)'
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand set" -l if-empty -d '+DEFAULT also fills a key that is present but empty (KEY=)'
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand set" -l no-interpolate -d 'Take values as written: no $VAR / ${VAR} expansion'
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand set" -l force -d 'Write even a read-only (0444) file (its mode is kept)'
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand set" -s h -l help -d 'Print help'
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand unset" -s f -l file -d 'The .env file; repeat for reads (later files win) [default: .env]' -r -F
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand unset" -l lock-timeout -d 'How long a writer waits for another writer\'s lock (a bare number is milliseconds)' -r
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand unset" -l optional -d 'A file that may be missing, read after the -f files (repeatable; `-f FILE?` says the same)' -r -F
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand unset" -l log-level -d 'Log level: debug, info, warn, error [default: info]' -r -f -a "debug\t''
info\t''
warn\t''
error\t''"
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand unset" -l log-format -d 'Log format on stderr: json or text [default: json]' -r -f -a "json\t''
text\t''"
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand unset" -l progress -d 'Progress on stderr for long work: auto (at a terminal, not in CI, unless the log is JSON by choice), always or never [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand unset" -l no-interpolate -d 'Take values as written: no $VAR / ${VAR} expansion'
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand unset" -l force -d 'Write even a read-only (0444) file (its mode is kept)'
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand unset" -s h -l help -d 'Print help'
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand list" -l format -d 'Output format: dotenv, shell, export (both safe to eval) or json' -r -f -a "dotenv\t'KEY=value lines, quoted as pg-dotenv writes them'
shell\t'KEY=\'value\' lines, safe to eval in sh'
export\t'export KEY=\'value\' lines, safe to eval in sh'
json\t'One JSON object, keys in file order'"
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand list" -s f -l file -d 'The .env file; repeat for reads (later files win) [default: .env]' -r -F
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand list" -l lock-timeout -d 'How long a writer waits for another writer\'s lock (a bare number is milliseconds)' -r
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand list" -l optional -d 'A file that may be missing, read after the -f files (repeatable; `-f FILE?` says the same)' -r -F
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand list" -l log-level -d 'Log level: debug, info, warn, error [default: info]' -r -f -a "debug\t''
info\t''
warn\t''
error\t''"
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand list" -l log-format -d 'Log format on stderr: json or text [default: json]' -r -f -a "json\t''
text\t''"
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand list" -l progress -d 'Progress on stderr for long work: auto (at a terminal, not in CI, unless the log is JSON by choice), always or never [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand list" -l no-interpolate -d 'Take values as written: no $VAR / ${VAR} expansion'
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand list" -l force -d 'Write even a read-only (0444) file (its mode is kept)'
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand list" -s h -l help -d 'Print help'
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand generate" -l length -d 'Number of characters' -r
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand generate" -l charset -d 'Characters to draw from: alnum, hex or base64url (A-Z a-z 0-9 - _)' -r -f -a "alnum\t'A-Z a-z 0-9'
hex\t'0-9 a-f'
base64url\t'A-Z a-z 0-9 - _ (URL- and filename-safe)'"
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand generate" -s f -l file -d 'The .env file; repeat for reads (later files win) [default: .env]' -r -F
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand generate" -l lock-timeout -d 'How long a writer waits for another writer\'s lock (a bare number is milliseconds)' -r
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand generate" -l optional -d 'A file that may be missing, read after the -f files (repeatable; `-f FILE?` says the same)' -r -F
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand generate" -l log-level -d 'Log level: debug, info, warn, error [default: info]' -r -f -a "debug\t''
info\t''
warn\t''
error\t''"
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand generate" -l log-format -d 'Log format on stderr: json or text [default: json]' -r -f -a "json\t''
text\t''"
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand generate" -l progress -d 'Progress on stderr for long work: auto (at a terminal, not in CI, unless the log is JSON by choice), always or never [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand generate" -l print -d 'Print the value (the new one, or the one already set)'
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand generate" -l if-empty -d 'Also replace a key that is present but empty (KEY= from a .env.example)'
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand generate" -l no-interpolate -d 'Take values as written: no $VAR / ${VAR} expansion'
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand generate" -l force -d 'Write even a read-only (0444) file (its mode is kept)'
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand generate" -s h -l help -d 'Print help'
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand pgenv" -l prefix -d 'Read {PREFIX}DATABASE_URL and {PREFIX}POSTGRES_* instead' -r
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand pgenv" -s f -l file -d 'The .env file; repeat for reads (later files win) [default: .env]' -r -F
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand pgenv" -l lock-timeout -d 'How long a writer waits for another writer\'s lock (a bare number is milliseconds)' -r
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand pgenv" -l optional -d 'A file that may be missing, read after the -f files (repeatable; `-f FILE?` says the same)' -r -F
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand pgenv" -l log-level -d 'Log level: debug, info, warn, error [default: info]' -r -f -a "debug\t''
info\t''
warn\t''
error\t''"
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand pgenv" -l log-format -d 'Log format on stderr: json or text [default: json]' -r -f -a "json\t''
text\t''"
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand pgenv" -l progress -d 'Progress on stderr for long work: auto (at a terminal, not in CI, unless the log is JSON by choice), always or never [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand pgenv" -l no-interpolate -d 'Take values as written: no $VAR / ${VAR} expansion'
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand pgenv" -l force -d 'Write even a read-only (0444) file (its mode is kept)'
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand pgenv" -s h -l help -d 'Print help'
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand check" -l example -d 'The example file (.env.example)' -r -F
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand check" -s f -l file -d 'The .env file; repeat for reads (later files win) [default: .env]' -r -F
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand check" -l lock-timeout -d 'How long a writer waits for another writer\'s lock (a bare number is milliseconds)' -r
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand check" -l optional -d 'A file that may be missing, read after the -f files (repeatable; `-f FILE?` says the same)' -r -F
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand check" -l log-level -d 'Log level: debug, info, warn, error [default: info]' -r -f -a "debug\t''
info\t''
warn\t''
error\t''"
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand check" -l log-format -d 'Log format on stderr: json or text [default: json]' -r -f -a "json\t''
text\t''"
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand check" -l progress -d 'Progress on stderr for long work: auto (at a terminal, not in CI, unless the log is JSON by choice), always or never [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand check" -l fix -d 'Append the missing keys with the example\'s values and comments'
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand check" -l no-interpolate -d 'Take values as written: no $VAR / ${VAR} expansion'
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand check" -l force -d 'Write even a read-only (0444) file (its mode is kept)'
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand check" -s h -l help -d 'Print help'
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand run" -s f -l file -d 'The .env file; repeat for reads (later files win) [default: .env]' -r -F
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand run" -l lock-timeout -d 'How long a writer waits for another writer\'s lock (a bare number is milliseconds)' -r
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand run" -l optional -d 'A file that may be missing, read after the -f files (repeatable; `-f FILE?` says the same)' -r -F
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand run" -l log-level -d 'Log level: debug, info, warn, error [default: info]' -r -f -a "debug\t''
info\t''
warn\t''
error\t''"
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand run" -l log-format -d 'Log format on stderr: json or text [default: json]' -r -f -a "json\t''
text\t''"
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand run" -l progress -d 'Progress on stderr for long work: auto (at a terminal, not in CI, unless the log is JSON by choice), always or never [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand run" -l override -d 'Let the file\'s values replace variables already set'
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand run" -l no-interpolate -d 'Take values as written: no $VAR / ${VAR} expansion'
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand run" -l force -d 'Write even a read-only (0444) file (its mode is kept)'
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand run" -s h -l help -d 'Print help'
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand help; and not __fish_seen_subcommand_from get set unset list generate pgenv check run help" -f -a "get" -d 'Print KEY\'s value; exit 1 when absent'
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand help; and not __fish_seen_subcommand_from get set unset list generate pgenv check run help" -f -a "set" -d 'Set keys: KEY VALUE, KEY=VALUE, or KEY +DEFAULT (only if absent; ++X is the literal +X)'
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand help; and not __fish_seen_subcommand_from get set unset list generate pgenv check run help" -f -a "unset" -d 'Remove keys (every occurrence)'
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand help; and not __fish_seen_subcommand_from get set unset list generate pgenv check run help" -f -a "list" -d 'Print every key and value, in file order'
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand help; and not __fish_seen_subcommand_from get set unset list generate pgenv check run help" -f -a "generate" -d 'Set KEY to a new random secret, only if it is absent'
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand help; and not __fish_seen_subcommand_from get set unset list generate pgenv check run help" -f -a "pgenv" -d 'Print `export PGHOST=… PGPASSWORD=…` from DATABASE_URL or POSTGRES_* keys'
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand help; and not __fish_seen_subcommand_from get set unset list generate pgenv check run help" -f -a "check" -d 'Compare with an example file: list missing and extra keys; exit 1 when keys are missing (CI)'
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand help; and not __fish_seen_subcommand_from get set unset list generate pgenv check run help" -f -a "run" -d 'Run a command with the file\'s values in its environment'
complete -c pg-dotenv -n "__fish_pg_dotenv_using_subcommand help; and not __fish_seen_subcommand_from get set unset list generate pgenv check run help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
