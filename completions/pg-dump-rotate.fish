# pgkit: `restore`/`verify` complete the dump files under --dir (else $DUMP_DIR, else dbdumps).
function _pg_dump_rotate_dumps
    set -l dir dbdumps
    set -q DUMP_DIR; and set dir $DUMP_DIR
    set -l words (commandline -opc)
    for i in (seq (count $words))
        switch $words[$i]
            case --dir
                set -l j (math $i + 1)
                set -q words[$j]; and set dir $words[$j]
            case '--dir=*'
                set dir (string replace -- '--dir=' '' $words[$i])
        end
    end
    for f in $dir/*/*.pgdump $dir/*/*.sql $dir/*/*.sql.gz $dir/*/*.dir
        echo $f
    end
end

# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_pg_dump_rotate_global_optspecs
    string join \n dir= log-level= log-format= progress= h/help V/version
end

function __fish_pg_dump_rotate_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_pg_dump_rotate_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_pg_dump_rotate_using_subcommand
    set -l cmd (__fish_pg_dump_rotate_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_needs_command" -l dir -d 'The dump directory (one subdirectory per source)' -r -F
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_needs_command" -l log-level -d 'Log level: debug, info, warn, error [default: info]' -r -f -a "debug\t''
info\t''
warn\t''
error\t''"
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_needs_command" -l log-format -d 'Log format on stderr: json or text [default: json]' -r -f -a "json\t''
text\t''"
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_needs_command" -l progress -d 'Progress on stderr for long work: auto (at a terminal, not in CI, unless the log is JSON by choice), always or never [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_needs_command" -s h -l help -d 'Print help'
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_needs_command" -s V -l version -d 'Print version'
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_needs_command" -f -a "dump" -d 'Dump a database into DIR/SOURCE/, checksummed, atomically'
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_needs_command" -f -a "list" -d 'List dumps per source, newest first'
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_needs_command" -f -a "purge" -d 'Remove old dumps by retention rules'
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_needs_command" -f -a "check" -d 'Exit 1 unless each source\'s newest good dump is fresh and big enough (monitoring)'
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_needs_command" -f -a "restore" -d 'Verify a dump, then restore it with pg_restore'
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_needs_command" -f -a "verify" -d 'Recompute checksums and read whole archives'
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand dump" -s d -l dsn -d 'Connection string: a postgres:// URL or key=value conninfo [env: DATABASE_URL]' -r
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand dump" -l host -d 'Server host name, IP or unix-socket directory (overrides the DSN) [env: PGHOST]' -r
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand dump" -s p -l port -d 'Server port (overrides the DSN) [env: PGPORT]' -r
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand dump" -s U -l user -d 'User name (overrides the DSN) [env: PGUSER]' -r
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand dump" -l dbname -d 'Database name (overrides the DSN) [env: PGDATABASE]' -r
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand dump" -l sslmode -d 'TLS mode: disable, allow, prefer, require, verify-ca, verify-full [env: PGSSLMODE]' -r
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand dump" -l source -d 'Source name, the dump\'s subdirectory [default: the database name]' -r
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand dump" -l exclude-database -d 'With --all-databases: skip databases matching PATTERN (`*`, `?`, `[a-z]`; repeatable)' -r
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand dump" -l source-prefix -d 'With --all-databases: source names are PREFIX + database name (and PREFIX_globals)' -r
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand dump" -l format -d 'Dump format: custom (.pgdump), plain (.sql, .sql.gz) or directory (.dir)' -r -f -a "custom\t'`pg_dump -Fc`, one file, `.pgdump`'
plain\t'`pg_dump -Fp`, an SQL script, `.sql`'
directory\t'`pg_dump -Fd`, a directory, `.dir`'"
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand dump" -l compress -d 'Compression, passed to pg_dump --compress (e.g. 6, gzip:9, lz4, zstd:3 on 16+; plain format: gzip only, written as .sql.gz) [default: zstd:1 with pg_dump 16+, else pg_dump\'s gzip; plain: none]' -r
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand dump" -s j -l jobs -d 'Parallel pg_dump jobs (directory format only); with --all-databases, the number of databases dumped at a time' -r
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand dump" -l exclude-table-data -d 'Dump this table\'s definition but not its data (repeatable; pg_dump patterns)' -r
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand dump" -l keep-last -d 'Keep the newest N dumps' -r
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand dump" -l keep-hourly -d 'Keep the newest dump of each of the last N hours that have one' -r
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand dump" -l keep-daily -d 'Keep the newest dump of each of the last N days that have one' -r
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand dump" -l keep-weekly -d 'Keep the newest dump of each of the last N ISO weeks that have one' -r
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand dump" -l keep-monthly -d 'Keep the newest dump of each of the last N months that have one' -r
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand dump" -l keep-yearly -d 'Keep the newest dump of each of the last N years that have one' -r
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand dump" -l keep-within -d 'Keep every dump within DURATION of the newest good one, in restic\'s units: 7d, 2m (months), 1y2m3d4h' -r
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand dump" -l partial-age -d 'Remove .partial leftovers older than this (purge --remote: uploads cut short, and unfinished multipart uploads, by last write)' -r
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand dump" -l lock-wait -d 'How long to wait for another dump/purge of this source' -r
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand dump" -l remote -d 'After the dump, upload it (sidecar and manifest too) to S3-compatible storage' -r
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand dump" -l remote-part-size -d 'Part size of multipart uploads to --remote (S3 needs at least 5MiB)' -r
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand dump" -l dir -d 'The dump directory (one subdirectory per source)' -r -F
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand dump" -l log-level -d 'Log level: debug, info, warn, error [default: info]' -r -f -a "debug\t''
info\t''
warn\t''
error\t''"
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand dump" -l log-format -d 'Log format on stderr: json or text [default: json]' -r -f -a "json\t''
text\t''"
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand dump" -l progress -d 'Progress on stderr for long work: auto (at a terminal, not in CI, unless the log is JSON by choice), always or never [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand dump" -l all-databases -d 'Dump every connectable database of the server (templates never), each as its own source, and the cluster\'s roles and tablespaces as `_globals`'
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand dump" -l with-role-passwords -d 'With --all-databases: keep the roles\' password hashes in `_globals` (default: pg_dumpall --no-role-passwords)'
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand dump" -l no-owner -d 'Do not dump ownership (pg_dump --no-owner)'
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand dump" -l count-rows -d 'Record each table\'s exact row count, taken in the dump\'s own snapshot, for `verify --restore`'
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand dump" -l purge -d 'After a successful dump, apply the retention rules to this source'
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand dump" -s y -l yes -d 'Accepted for symmetry with purge: dump --purge never asks'
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand dump" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand list" -l source -d 'Only this source' -r
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand list" -l remote -d 'Act on the S3 remote instead of DIR (URL, or DUMP_REMOTE when bare)' -r
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand list" -l dir -d 'The dump directory (one subdirectory per source)' -r -F
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand list" -l log-level -d 'Log level: debug, info, warn, error [default: info]' -r -f -a "debug\t''
info\t''
warn\t''
error\t''"
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand list" -l log-format -d 'Log format on stderr: json or text [default: json]' -r -f -a "json\t''
text\t''"
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand list" -l progress -d 'Progress on stderr for long work: auto (at a terminal, not in CI, unless the log is JSON by choice), always or never [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand list" -l json -d 'JSON output (one array)'
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand list" -s h -l help -d 'Print help'
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand purge" -l keep-last -d 'Keep the newest N dumps' -r
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand purge" -l keep-hourly -d 'Keep the newest dump of each of the last N hours that have one' -r
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand purge" -l keep-daily -d 'Keep the newest dump of each of the last N days that have one' -r
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand purge" -l keep-weekly -d 'Keep the newest dump of each of the last N ISO weeks that have one' -r
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand purge" -l keep-monthly -d 'Keep the newest dump of each of the last N months that have one' -r
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand purge" -l keep-yearly -d 'Keep the newest dump of each of the last N years that have one' -r
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand purge" -l keep-within -d 'Keep every dump within DURATION of the newest good one, in restic\'s units: 7d, 2m (months), 1y2m3d4h' -r
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand purge" -l partial-age -d 'Remove .partial leftovers older than this (purge --remote: uploads cut short, and unfinished multipart uploads, by last write)' -r
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand purge" -l source -d 'Only this source' -r
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand purge" -l remote -d 'Purge the S3 remote only (its own rules), not DIR (URL, or DUMP_REMOTE when bare)' -r
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand purge" -l lock-wait -d 'How long to wait for a dump of the same source to finish' -r
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand purge" -l dir -d 'The dump directory (one subdirectory per source)' -r -F
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand purge" -l log-level -d 'Log level: debug, info, warn, error [default: info]' -r -f -a "debug\t''
info\t''
warn\t''
error\t''"
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand purge" -l log-format -d 'Log format on stderr: json or text [default: json]' -r -f -a "json\t''
text\t''"
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand purge" -l progress -d 'Progress on stderr for long work: auto (at a terminal, not in CI, unless the log is JSON by choice), always or never [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand purge" -s n -l dry-run -d 'Print what would be removed and why each dump is kept; change nothing'
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand purge" -s y -l yes -d 'Do not ask for confirmation'
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand purge" -l json -d 'With --dry-run: JSON output'
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand purge" -s h -l help -d 'Print help'
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand check" -l source -d 'Sources to check (repeatable) [default: every source in DIR]' -r
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand check" -l max-age -d 'The newest good dump must be younger than this (e.g. 26h)' -r
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand check" -l min-size -d 'The newest good dump must be at least this big (bytes; K, M, G suffixes)' -r
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand check" -l metrics-file -d 'Also write a Prometheus textfile-collector file (atomically)' -r -F
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand check" -l remote -d 'Check the S3 remote\'s committed uploads instead of DIR (URL, or DUMP_REMOTE when bare)' -r
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand check" -l dir -d 'The dump directory (one subdirectory per source)' -r -F
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand check" -l log-level -d 'Log level: debug, info, warn, error [default: info]' -r -f -a "debug\t''
info\t''
warn\t''
error\t''"
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand check" -l log-format -d 'Log format on stderr: json or text [default: json]' -r -f -a "json\t''
text\t''"
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand check" -l progress -d 'Progress on stderr for long work: auto (at a terminal, not in CI, unless the log is JSON by choice), always or never [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand check" -s h -l help -d 'Print help'
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand restore" -s d -l dsn -d 'Connection string: a postgres:// URL or key=value conninfo [env: DATABASE_URL]' -r
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand restore" -l host -d 'Server host name, IP or unix-socket directory (overrides the DSN) [env: PGHOST]' -r
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand restore" -s p -l port -d 'Server port (overrides the DSN) [env: PGPORT]' -r
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand restore" -s U -l user -d 'User name (overrides the DSN) [env: PGUSER]' -r
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand restore" -l dbname -d 'Database name (overrides the DSN) [env: PGDATABASE]' -r
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand restore" -l sslmode -d 'TLS mode: disable, allow, prefer, require, verify-ca, verify-full [env: PGSSLMODE]' -r
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand restore" -l to -d 'Target connection string (same as --dsn)' -r
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand restore" -l db -d 'Target database name on the resolved server' -r
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand restore" -s j -l jobs -d 'Parallel pg_restore jobs (then not one transaction; a plain .sql ignores it)' -r
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand restore" -l dir -d 'The dump directory (one subdirectory per source)' -r -F
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand restore" -l log-level -d 'Log level: debug, info, warn, error [default: info]' -r -f -a "debug\t''
info\t''
warn\t''
error\t''"
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand restore" -l log-format -d 'Log format on stderr: json or text [default: json]' -r -f -a "json\t''
text\t''"
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand restore" -l progress -d 'Progress on stderr for long work: auto (at a terminal, not in CI, unless the log is JSON by choice), always or never [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand restore" -l create-db -d 'Create the target database when it does not exist'
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand restore" -l force -d 'Restore into a database that already holds objects (they are dropped and replaced)'
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand restore" -l keep-owner -d 'Keep the dump\'s object owners (default: --no-owner)'
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand restore" -l with-globals -d 'First replay the cluster\'s roles and tablespaces dumped with it (`dump --all-databases` records which `_globals` dump that is)'
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand restore" -s h -l help -d 'Print help'
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand verify" -l source -d 'With --all: only this source; with --restore alone: its newest good dump' -r
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand verify" -s j -l jobs -d 'With --restore: parallel pg_restore jobs (custom and directory dumps)' -r
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand verify" -l remote -d 'Act on the S3 remote instead of DIR: FILEs are s3:// URLs or SOURCE/NAME (URL, or DUMP_REMOTE when bare)' -r
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand verify" -l dir -d 'The dump directory (one subdirectory per source)' -r -F
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand verify" -l log-level -d 'Log level: debug, info, warn, error [default: info]' -r -f -a "debug\t''
info\t''
warn\t''
error\t''"
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand verify" -l log-format -d 'Log format on stderr: json or text [default: json]' -r -f -a "json\t''
text\t''"
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand verify" -l progress -d 'Progress on stderr for long work: auto (at a terminal, not in CI, unless the log is JSON by choice), always or never [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand verify" -l all -d 'Verify every dump in DIR (or in --source)'
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand verify" -l restore -d 'Restore drill: restore into a throwaway server and compare with the tables and row counts recorded at dump time (exit 5 naming the first table that differs)'
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand verify" -s h -l help -d 'Print help'
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand help; and not __fish_seen_subcommand_from dump list purge check restore verify help" -f -a "dump" -d 'Dump a database into DIR/SOURCE/, checksummed, atomically'
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand help; and not __fish_seen_subcommand_from dump list purge check restore verify help" -f -a "list" -d 'List dumps per source, newest first'
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand help; and not __fish_seen_subcommand_from dump list purge check restore verify help" -f -a "purge" -d 'Remove old dumps by retention rules'
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand help; and not __fish_seen_subcommand_from dump list purge check restore verify help" -f -a "check" -d 'Exit 1 unless each source\'s newest good dump is fresh and big enough (monitoring)'
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand help; and not __fish_seen_subcommand_from dump list purge check restore verify help" -f -a "restore" -d 'Verify a dump, then restore it with pg_restore'
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand help; and not __fish_seen_subcommand_from dump list purge check restore verify help" -f -a "verify" -d 'Recompute checksums and read whole archives'
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand help; and not __fish_seen_subcommand_from dump list purge check restore verify help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand restore" -k -a "(_pg_dump_rotate_dumps)"
complete -c pg-dump-rotate -n "__fish_pg_dump_rotate_using_subcommand verify" -k -a "(_pg_dump_rotate_dumps)"
