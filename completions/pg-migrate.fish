# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_pg_migrate_global_optspecs
    string join \n d/dsn= host= p/port= U/user= dbname= sslmode= dir= layout= table= lock-mode= lock-wait= lease-ttl= wait wait-timeout= all-databases database-pattern= exclude-database= targets= schemas= jobs= fail-fast canary= shard= lock-timeout= statement-timeout= to= single-transaction dry-run allow-out-of-order dump-schema= pg-dump= log-level= log-format= progress= h/help V/version
end

function __fish_pg_migrate_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_pg_migrate_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_pg_migrate_using_subcommand
    set -l cmd (__fish_pg_migrate_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c pg-migrate -n "__fish_pg_migrate_needs_command" -s d -l dsn -d 'Connection string: a postgres:// URL or key=value conninfo [env: DATABASE_URL]' -r
complete -c pg-migrate -n "__fish_pg_migrate_needs_command" -l host -d 'Server host name, IP or unix-socket directory (overrides the DSN) [env: PGHOST]' -r
complete -c pg-migrate -n "__fish_pg_migrate_needs_command" -s p -l port -d 'Server port (overrides the DSN) [env: PGPORT]' -r
complete -c pg-migrate -n "__fish_pg_migrate_needs_command" -s U -l user -d 'User name (overrides the DSN) [env: PGUSER]' -r
complete -c pg-migrate -n "__fish_pg_migrate_needs_command" -l dbname -d 'Database name (overrides the DSN) [env: PGDATABASE]' -r
complete -c pg-migrate -n "__fish_pg_migrate_needs_command" -l sslmode -d 'TLS mode: disable, allow, prefer, require, verify-ca, verify-full [env: PGSSLMODE]' -r
complete -c pg-migrate -n "__fish_pg_migrate_needs_command" -l dir -d 'Directory of migration files' -r -F
complete -c pg-migrate -n "__fish_pg_migrate_needs_command" -l layout -d 'The folder\'s layout: another tool\'s folder runs as that tool runs it' -r -f -a "auto\t'Detect it from the folder'
pgkit\t''
dbmate\t''
golang-migrate\t''
goose\t''
sqlx\t''
diesel\t''
flyway\t'V1.2__x.sql, U1.2__x.sql, R__x.sql; a script mixing CREATE INDEX CONCURRENTLY (or the like) with other statements needs FLYWAY_MIXED=true or executeInTransaction=false in its .sql.conf, as in Flyway'
refinery\t''"
complete -c pg-migrate -n "__fish_pg_migrate_needs_command" -l table -d 'Tracking table, optionally schema-qualified (app.schema_migrations)' -r
complete -c pg-migrate -n "__fish_pg_migrate_needs_command" -l lock-mode -d 'How concurrent runners are kept apart' -r -f -a "advisory\t'A session advisory lock, polled with pg_try_advisory_lock'
lease\t'A lease row in a lock table, with an expiry (works through PgBouncer transaction pooling)'
none\t'No lock (a single runner by construction)'"
complete -c pg-migrate -n "__fish_pg_migrate_needs_command" -l lock-wait -d 'How long to wait for another runner\'s lock before exiting 75' -r
complete -c pg-migrate -n "__fish_pg_migrate_needs_command" -l lease-ttl -d 'Lease lifetime in lease mode (renewed while running; a crashed runner\'s lease expires)' -r
complete -c pg-migrate -n "__fish_pg_migrate_needs_command" -l wait-timeout -d 'Deadline for --wait: milliseconds or a duration' -r
complete -c pg-migrate -n "__fish_pg_migrate_needs_command" -l database-pattern -d 'With --all-databases: only databases matching GLOB (repeatable)' -r
complete -c pg-migrate -n "__fish_pg_migrate_needs_command" -l exclude-database -d 'With --all-databases: skip databases matching GLOB (repeatable)' -r
complete -c pg-migrate -n "__fish_pg_migrate_needs_command" -l targets -d 'A file of targets: one DSN or conninfo per line, \'#\' comment lines; \'-\' reads stdin' -r -F
complete -c pg-migrate -n "__fish_pg_migrate_needs_command" -l schemas -d 'Schema per tenant: every schema matching GLOB in each database is a target' -r
complete -c pg-migrate -n "__fish_pg_migrate_needs_command" -l jobs -d 'How many targets at a time, each on its own connection' -r
complete -c pg-migrate -n "__fish_pg_migrate_needs_command" -l canary -d 'Run the first N targets first; stop before the rest if any of them fails' -r
complete -c pg-migrate -n "__fish_pg_migrate_needs_command" -l shard -d 'Take only slice I (from 0) of N of the targets, by a hash of each target\'s name' -r
complete -c pg-migrate -n "__fish_pg_migrate_needs_command" -l lock-timeout -d 'SET LOCAL lock_timeout for each migration (e.g. 5s): DDL gives up instead of queueing' -r
complete -c pg-migrate -n "__fish_pg_migrate_needs_command" -l statement-timeout -d 'SET LOCAL statement_timeout for each migration' -r
complete -c pg-migrate -n "__fish_pg_migrate_needs_command" -l to -d 'Apply pending migrations up to and including this version' -r
complete -c pg-migrate -n "__fish_pg_migrate_needs_command" -l dump-schema -d 'After a successful run, write `pg_dump --schema-only` to FILE (without pg-migrate\'s own tables)' -r -F
complete -c pg-migrate -n "__fish_pg_migrate_needs_command" -l pg-dump -d 'The pg_dump program for --dump-schema' -r
complete -c pg-migrate -n "__fish_pg_migrate_needs_command" -l log-level -d 'Log level: debug, info, warn, error [default: info]' -r -f -a "debug\t''
info\t''
warn\t''
error\t''"
complete -c pg-migrate -n "__fish_pg_migrate_needs_command" -l log-format -d 'Log format on stderr: json or text [default: json]' -r -f -a "json\t''
text\t''"
complete -c pg-migrate -n "__fish_pg_migrate_needs_command" -l progress -d 'Progress on stderr for long work: auto (at a terminal, not in CI, unless the log is JSON by choice), always or never [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pg-migrate -n "__fish_pg_migrate_needs_command" -l wait -d 'Wait for the database to accept logins first (pg-wait\'s logic)'
complete -c pg-migrate -n "__fish_pg_migrate_needs_command" -l all-databases -d 'Every database of the server that accepts connections (never templates)'
complete -c pg-migrate -n "__fish_pg_migrate_needs_command" -l fail-fast -d 'Stop starting targets after the first one fails (default: go on)'
complete -c pg-migrate -n "__fish_pg_migrate_needs_command" -l single-transaction -d 'Apply all pending migrations in one transaction: all or nothing'
complete -c pg-migrate -n "__fish_pg_migrate_needs_command" -l dry-run -d 'Print the plan (pending files, one per line) and change nothing'
complete -c pg-migrate -n "__fish_pg_migrate_needs_command" -l allow-out-of-order -d 'Apply a pending migration older than the newest applied one'
complete -c pg-migrate -n "__fish_pg_migrate_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pg-migrate -n "__fish_pg_migrate_needs_command" -s V -l version -d 'Print version'
complete -c pg-migrate -n "__fish_pg_migrate_needs_command" -f -a "up" -d 'Apply pending migrations in order (the default)'
complete -c pg-migrate -n "__fish_pg_migrate_needs_command" -f -a "down" -d 'Revert applied migrations with their .down.sql files, newest first'
complete -c pg-migrate -n "__fish_pg_migrate_needs_command" -f -a "status" -d 'Show applied and pending migrations (a table, or --json)'
complete -c pg-migrate -n "__fish_pg_migrate_needs_command" -f -a "verify" -d 'Check every applied migration\'s checksum against its file'
complete -c pg-migrate -n "__fish_pg_migrate_needs_command" -f -a "new" -d 'Create a migration in the folder\'s layout (YYYYMMDDHHmmSS_description.up.sql and .down.sql for pgkit\'s); print the paths'
complete -c pg-migrate -n "__fish_pg_migrate_needs_command" -f -a "baseline" -d 'Record every migration up to VERSION as applied without running it'
complete -c pg-migrate -n "__fish_pg_migrate_needs_command" -f -a "repair" -d 'Accept a changed file\'s checksum (--filename), or clear failed rows'
complete -c pg-migrate -n "__fish_pg_migrate_needs_command" -f -a "adopt" -d 'Record another tool\'s migration history (dbmate, goose, sqlx, diesel, Flyway, ...) as applied'
complete -c pg-migrate -n "__fish_pg_migrate_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand up" -s d -l dsn -d 'Connection string: a postgres:// URL or key=value conninfo [env: DATABASE_URL]' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand up" -l host -d 'Server host name, IP or unix-socket directory (overrides the DSN) [env: PGHOST]' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand up" -s p -l port -d 'Server port (overrides the DSN) [env: PGPORT]' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand up" -s U -l user -d 'User name (overrides the DSN) [env: PGUSER]' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand up" -l dbname -d 'Database name (overrides the DSN) [env: PGDATABASE]' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand up" -l sslmode -d 'TLS mode: disable, allow, prefer, require, verify-ca, verify-full [env: PGSSLMODE]' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand up" -l dir -d 'Directory of migration files' -r -F
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand up" -l layout -d 'The folder\'s layout: another tool\'s folder runs as that tool runs it' -r -f -a "auto\t'Detect it from the folder'
pgkit\t''
dbmate\t''
golang-migrate\t''
goose\t''
sqlx\t''
diesel\t''
flyway\t'V1.2__x.sql, U1.2__x.sql, R__x.sql; a script mixing CREATE INDEX CONCURRENTLY (or the like) with other statements needs FLYWAY_MIXED=true or executeInTransaction=false in its .sql.conf, as in Flyway'
refinery\t''"
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand up" -l table -d 'Tracking table, optionally schema-qualified (app.schema_migrations)' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand up" -l lock-mode -d 'How concurrent runners are kept apart' -r -f -a "advisory\t'A session advisory lock, polled with pg_try_advisory_lock'
lease\t'A lease row in a lock table, with an expiry (works through PgBouncer transaction pooling)'
none\t'No lock (a single runner by construction)'"
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand up" -l lock-wait -d 'How long to wait for another runner\'s lock before exiting 75' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand up" -l lease-ttl -d 'Lease lifetime in lease mode (renewed while running; a crashed runner\'s lease expires)' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand up" -l wait-timeout -d 'Deadline for --wait: milliseconds or a duration' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand up" -l database-pattern -d 'With --all-databases: only databases matching GLOB (repeatable)' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand up" -l exclude-database -d 'With --all-databases: skip databases matching GLOB (repeatable)' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand up" -l targets -d 'A file of targets: one DSN or conninfo per line, \'#\' comment lines; \'-\' reads stdin' -r -F
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand up" -l schemas -d 'Schema per tenant: every schema matching GLOB in each database is a target' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand up" -l jobs -d 'How many targets at a time, each on its own connection' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand up" -l canary -d 'Run the first N targets first; stop before the rest if any of them fails' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand up" -l shard -d 'Take only slice I (from 0) of N of the targets, by a hash of each target\'s name' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand up" -l lock-timeout -d 'SET LOCAL lock_timeout for each migration (e.g. 5s): DDL gives up instead of queueing' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand up" -l statement-timeout -d 'SET LOCAL statement_timeout for each migration' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand up" -l to -d 'Apply pending migrations up to and including this version' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand up" -l dump-schema -d 'After a successful run, write `pg_dump --schema-only` to FILE (without pg-migrate\'s own tables)' -r -F
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand up" -l pg-dump -d 'The pg_dump program for --dump-schema' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand up" -l log-level -d 'Log level: debug, info, warn, error [default: info]' -r -f -a "debug\t''
info\t''
warn\t''
error\t''"
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand up" -l log-format -d 'Log format on stderr: json or text [default: json]' -r -f -a "json\t''
text\t''"
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand up" -l progress -d 'Progress on stderr for long work: auto (at a terminal, not in CI, unless the log is JSON by choice), always or never [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand up" -l wait -d 'Wait for the database to accept logins first (pg-wait\'s logic)'
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand up" -l all-databases -d 'Every database of the server that accepts connections (never templates)'
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand up" -l fail-fast -d 'Stop starting targets after the first one fails (default: go on)'
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand up" -l single-transaction -d 'Apply all pending migrations in one transaction: all or nothing'
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand up" -l dry-run -d 'Print the plan (pending files, one per line) and change nothing'
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand up" -l allow-out-of-order -d 'Apply a pending migration older than the newest applied one'
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand up" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand down" -s d -l dsn -d 'Connection string: a postgres:// URL or key=value conninfo [env: DATABASE_URL]' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand down" -l host -d 'Server host name, IP or unix-socket directory (overrides the DSN) [env: PGHOST]' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand down" -s p -l port -d 'Server port (overrides the DSN) [env: PGPORT]' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand down" -s U -l user -d 'User name (overrides the DSN) [env: PGUSER]' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand down" -l dbname -d 'Database name (overrides the DSN) [env: PGDATABASE]' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand down" -l sslmode -d 'TLS mode: disable, allow, prefer, require, verify-ca, verify-full [env: PGSSLMODE]' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand down" -l dir -d 'Directory of migration files' -r -F
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand down" -l layout -d 'The folder\'s layout: another tool\'s folder runs as that tool runs it' -r -f -a "auto\t'Detect it from the folder'
pgkit\t''
dbmate\t''
golang-migrate\t''
goose\t''
sqlx\t''
diesel\t''
flyway\t'V1.2__x.sql, U1.2__x.sql, R__x.sql; a script mixing CREATE INDEX CONCURRENTLY (or the like) with other statements needs FLYWAY_MIXED=true or executeInTransaction=false in its .sql.conf, as in Flyway'
refinery\t''"
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand down" -l table -d 'Tracking table, optionally schema-qualified (app.schema_migrations)' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand down" -l lock-mode -d 'How concurrent runners are kept apart' -r -f -a "advisory\t'A session advisory lock, polled with pg_try_advisory_lock'
lease\t'A lease row in a lock table, with an expiry (works through PgBouncer transaction pooling)'
none\t'No lock (a single runner by construction)'"
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand down" -l lock-wait -d 'How long to wait for another runner\'s lock before exiting 75' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand down" -l lease-ttl -d 'Lease lifetime in lease mode (renewed while running; a crashed runner\'s lease expires)' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand down" -l wait-timeout -d 'Deadline for --wait: milliseconds or a duration' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand down" -l database-pattern -d 'With --all-databases: only databases matching GLOB (repeatable)' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand down" -l exclude-database -d 'With --all-databases: skip databases matching GLOB (repeatable)' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand down" -l targets -d 'A file of targets: one DSN or conninfo per line, \'#\' comment lines; \'-\' reads stdin' -r -F
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand down" -l schemas -d 'Schema per tenant: every schema matching GLOB in each database is a target' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand down" -l jobs -d 'How many targets at a time, each on its own connection' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand down" -l canary -d 'Run the first N targets first; stop before the rest if any of them fails' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand down" -l shard -d 'Take only slice I (from 0) of N of the targets, by a hash of each target\'s name' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand down" -l lock-timeout -d 'SET LOCAL lock_timeout for each migration (e.g. 5s): DDL gives up instead of queueing' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand down" -l statement-timeout -d 'SET LOCAL statement_timeout for each migration' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand down" -l steps -d 'How many migrations to revert' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand down" -l to -d 'Revert every migration newer than this version' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand down" -l log-level -d 'Log level: debug, info, warn, error [default: info]' -r -f -a "debug\t''
info\t''
warn\t''
error\t''"
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand down" -l log-format -d 'Log format on stderr: json or text [default: json]' -r -f -a "json\t''
text\t''"
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand down" -l progress -d 'Progress on stderr for long work: auto (at a terminal, not in CI, unless the log is JSON by choice), always or never [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand down" -l wait -d 'Wait for the database to accept logins first (pg-wait\'s logic)'
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand down" -l all-databases -d 'Every database of the server that accepts connections (never templates)'
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand down" -l fail-fast -d 'Stop starting targets after the first one fails (default: go on)'
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand down" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand status" -s d -l dsn -d 'Connection string: a postgres:// URL or key=value conninfo [env: DATABASE_URL]' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand status" -l host -d 'Server host name, IP or unix-socket directory (overrides the DSN) [env: PGHOST]' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand status" -s p -l port -d 'Server port (overrides the DSN) [env: PGPORT]' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand status" -s U -l user -d 'User name (overrides the DSN) [env: PGUSER]' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand status" -l dbname -d 'Database name (overrides the DSN) [env: PGDATABASE]' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand status" -l sslmode -d 'TLS mode: disable, allow, prefer, require, verify-ca, verify-full [env: PGSSLMODE]' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand status" -l dir -d 'Directory of migration files' -r -F
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand status" -l layout -d 'The folder\'s layout: another tool\'s folder runs as that tool runs it' -r -f -a "auto\t'Detect it from the folder'
pgkit\t''
dbmate\t''
golang-migrate\t''
goose\t''
sqlx\t''
diesel\t''
flyway\t'V1.2__x.sql, U1.2__x.sql, R__x.sql; a script mixing CREATE INDEX CONCURRENTLY (or the like) with other statements needs FLYWAY_MIXED=true or executeInTransaction=false in its .sql.conf, as in Flyway'
refinery\t''"
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand status" -l table -d 'Tracking table, optionally schema-qualified (app.schema_migrations)' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand status" -l lock-mode -d 'How concurrent runners are kept apart' -r -f -a "advisory\t'A session advisory lock, polled with pg_try_advisory_lock'
lease\t'A lease row in a lock table, with an expiry (works through PgBouncer transaction pooling)'
none\t'No lock (a single runner by construction)'"
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand status" -l lock-wait -d 'How long to wait for another runner\'s lock before exiting 75' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand status" -l lease-ttl -d 'Lease lifetime in lease mode (renewed while running; a crashed runner\'s lease expires)' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand status" -l wait-timeout -d 'Deadline for --wait: milliseconds or a duration' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand status" -l database-pattern -d 'With --all-databases: only databases matching GLOB (repeatable)' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand status" -l exclude-database -d 'With --all-databases: skip databases matching GLOB (repeatable)' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand status" -l targets -d 'A file of targets: one DSN or conninfo per line, \'#\' comment lines; \'-\' reads stdin' -r -F
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand status" -l schemas -d 'Schema per tenant: every schema matching GLOB in each database is a target' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand status" -l jobs -d 'How many targets at a time, each on its own connection' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand status" -l canary -d 'Run the first N targets first; stop before the rest if any of them fails' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand status" -l shard -d 'Take only slice I (from 0) of N of the targets, by a hash of each target\'s name' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand status" -l log-level -d 'Log level: debug, info, warn, error [default: info]' -r -f -a "debug\t''
info\t''
warn\t''
error\t''"
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand status" -l log-format -d 'Log format on stderr: json or text [default: json]' -r -f -a "json\t''
text\t''"
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand status" -l progress -d 'Progress on stderr for long work: auto (at a terminal, not in CI, unless the log is JSON by choice), always or never [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand status" -l wait -d 'Wait for the database to accept logins first (pg-wait\'s logic)'
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand status" -l all-databases -d 'Every database of the server that accepts connections (never templates)'
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand status" -l fail-fast -d 'Stop starting targets after the first one fails (default: go on)'
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand status" -l json -d 'JSON on stdout instead of a table'
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand status" -l exit-code -d 'Exit 3 when anything is pending, drifted, missing or failed'
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand verify" -s d -l dsn -d 'Connection string: a postgres:// URL or key=value conninfo [env: DATABASE_URL]' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand verify" -l host -d 'Server host name, IP or unix-socket directory (overrides the DSN) [env: PGHOST]' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand verify" -s p -l port -d 'Server port (overrides the DSN) [env: PGPORT]' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand verify" -s U -l user -d 'User name (overrides the DSN) [env: PGUSER]' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand verify" -l dbname -d 'Database name (overrides the DSN) [env: PGDATABASE]' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand verify" -l sslmode -d 'TLS mode: disable, allow, prefer, require, verify-ca, verify-full [env: PGSSLMODE]' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand verify" -l dir -d 'Directory of migration files' -r -F
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand verify" -l layout -d 'The folder\'s layout: another tool\'s folder runs as that tool runs it' -r -f -a "auto\t'Detect it from the folder'
pgkit\t''
dbmate\t''
golang-migrate\t''
goose\t''
sqlx\t''
diesel\t''
flyway\t'V1.2__x.sql, U1.2__x.sql, R__x.sql; a script mixing CREATE INDEX CONCURRENTLY (or the like) with other statements needs FLYWAY_MIXED=true or executeInTransaction=false in its .sql.conf, as in Flyway'
refinery\t''"
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand verify" -l table -d 'Tracking table, optionally schema-qualified (app.schema_migrations)' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand verify" -l lock-mode -d 'How concurrent runners are kept apart' -r -f -a "advisory\t'A session advisory lock, polled with pg_try_advisory_lock'
lease\t'A lease row in a lock table, with an expiry (works through PgBouncer transaction pooling)'
none\t'No lock (a single runner by construction)'"
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand verify" -l lock-wait -d 'How long to wait for another runner\'s lock before exiting 75' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand verify" -l lease-ttl -d 'Lease lifetime in lease mode (renewed while running; a crashed runner\'s lease expires)' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand verify" -l wait-timeout -d 'Deadline for --wait: milliseconds or a duration' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand verify" -l database-pattern -d 'With --all-databases: only databases matching GLOB (repeatable)' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand verify" -l exclude-database -d 'With --all-databases: skip databases matching GLOB (repeatable)' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand verify" -l targets -d 'A file of targets: one DSN or conninfo per line, \'#\' comment lines; \'-\' reads stdin' -r -F
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand verify" -l schemas -d 'Schema per tenant: every schema matching GLOB in each database is a target' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand verify" -l jobs -d 'How many targets at a time, each on its own connection' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand verify" -l canary -d 'Run the first N targets first; stop before the rest if any of them fails' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand verify" -l shard -d 'Take only slice I (from 0) of N of the targets, by a hash of each target\'s name' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand verify" -l log-level -d 'Log level: debug, info, warn, error [default: info]' -r -f -a "debug\t''
info\t''
warn\t''
error\t''"
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand verify" -l log-format -d 'Log format on stderr: json or text [default: json]' -r -f -a "json\t''
text\t''"
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand verify" -l progress -d 'Progress on stderr for long work: auto (at a terminal, not in CI, unless the log is JSON by choice), always or never [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand verify" -l wait -d 'Wait for the database to accept logins first (pg-wait\'s logic)'
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand verify" -l all-databases -d 'Every database of the server that accepts connections (never templates)'
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand verify" -l fail-fast -d 'Stop starting targets after the first one fails (default: go on)'
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand verify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand new" -l dir -d 'Directory of migration files (created when missing)' -r -F
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand new" -l layout -d 'The layout to create the file in (auto: the folder\'s)' -r -f -a "auto\t'Detect it from the folder'
pgkit\t''
dbmate\t''
golang-migrate\t''
goose\t''
sqlx\t''
diesel\t''
flyway\t'V1.2__x.sql, U1.2__x.sql, R__x.sql; a script mixing CREATE INDEX CONCURRENTLY (or the like) with other statements needs FLYWAY_MIXED=true or executeInTransaction=false in its .sql.conf, as in Flyway'
refinery\t''"
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand new" -l log-level -d 'Log level: debug, info, warn, error [default: info]' -r -f -a "debug\t''
info\t''
warn\t''
error\t''"
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand new" -l log-format -d 'Log format on stderr: json or text [default: json]' -r -f -a "json\t''
text\t''"
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand new" -l progress -d 'Progress on stderr for long work: auto (at a terminal, not in CI, unless the log is JSON by choice), always or never [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand new" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand baseline" -s d -l dsn -d 'Connection string: a postgres:// URL or key=value conninfo [env: DATABASE_URL]' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand baseline" -l host -d 'Server host name, IP or unix-socket directory (overrides the DSN) [env: PGHOST]' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand baseline" -s p -l port -d 'Server port (overrides the DSN) [env: PGPORT]' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand baseline" -s U -l user -d 'User name (overrides the DSN) [env: PGUSER]' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand baseline" -l dbname -d 'Database name (overrides the DSN) [env: PGDATABASE]' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand baseline" -l sslmode -d 'TLS mode: disable, allow, prefer, require, verify-ca, verify-full [env: PGSSLMODE]' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand baseline" -l dir -d 'Directory of migration files' -r -F
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand baseline" -l layout -d 'The folder\'s layout: another tool\'s folder runs as that tool runs it' -r -f -a "auto\t'Detect it from the folder'
pgkit\t''
dbmate\t''
golang-migrate\t''
goose\t''
sqlx\t''
diesel\t''
flyway\t'V1.2__x.sql, U1.2__x.sql, R__x.sql; a script mixing CREATE INDEX CONCURRENTLY (or the like) with other statements needs FLYWAY_MIXED=true or executeInTransaction=false in its .sql.conf, as in Flyway'
refinery\t''"
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand baseline" -l table -d 'Tracking table, optionally schema-qualified (app.schema_migrations)' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand baseline" -l lock-mode -d 'How concurrent runners are kept apart' -r -f -a "advisory\t'A session advisory lock, polled with pg_try_advisory_lock'
lease\t'A lease row in a lock table, with an expiry (works through PgBouncer transaction pooling)'
none\t'No lock (a single runner by construction)'"
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand baseline" -l lock-wait -d 'How long to wait for another runner\'s lock before exiting 75' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand baseline" -l lease-ttl -d 'Lease lifetime in lease mode (renewed while running; a crashed runner\'s lease expires)' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand baseline" -l wait-timeout -d 'Deadline for --wait: milliseconds or a duration' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand baseline" -l log-level -d 'Log level: debug, info, warn, error [default: info]' -r -f -a "debug\t''
info\t''
warn\t''
error\t''"
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand baseline" -l log-format -d 'Log format on stderr: json or text [default: json]' -r -f -a "json\t''
text\t''"
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand baseline" -l progress -d 'Progress on stderr for long work: auto (at a terminal, not in CI, unless the log is JSON by choice), always or never [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand baseline" -l wait -d 'Wait for the database to accept logins first (pg-wait\'s logic)'
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand baseline" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand repair" -s d -l dsn -d 'Connection string: a postgres:// URL or key=value conninfo [env: DATABASE_URL]' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand repair" -l host -d 'Server host name, IP or unix-socket directory (overrides the DSN) [env: PGHOST]' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand repair" -s p -l port -d 'Server port (overrides the DSN) [env: PGPORT]' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand repair" -s U -l user -d 'User name (overrides the DSN) [env: PGUSER]' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand repair" -l dbname -d 'Database name (overrides the DSN) [env: PGDATABASE]' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand repair" -l sslmode -d 'TLS mode: disable, allow, prefer, require, verify-ca, verify-full [env: PGSSLMODE]' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand repair" -l dir -d 'Directory of migration files' -r -F
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand repair" -l layout -d 'The folder\'s layout: another tool\'s folder runs as that tool runs it' -r -f -a "auto\t'Detect it from the folder'
pgkit\t''
dbmate\t''
golang-migrate\t''
goose\t''
sqlx\t''
diesel\t''
flyway\t'V1.2__x.sql, U1.2__x.sql, R__x.sql; a script mixing CREATE INDEX CONCURRENTLY (or the like) with other statements needs FLYWAY_MIXED=true or executeInTransaction=false in its .sql.conf, as in Flyway'
refinery\t''"
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand repair" -l table -d 'Tracking table, optionally schema-qualified (app.schema_migrations)' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand repair" -l lock-mode -d 'How concurrent runners are kept apart' -r -f -a "advisory\t'A session advisory lock, polled with pg_try_advisory_lock'
lease\t'A lease row in a lock table, with an expiry (works through PgBouncer transaction pooling)'
none\t'No lock (a single runner by construction)'"
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand repair" -l lock-wait -d 'How long to wait for another runner\'s lock before exiting 75' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand repair" -l lease-ttl -d 'Lease lifetime in lease mode (renewed while running; a crashed runner\'s lease expires)' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand repair" -l wait-timeout -d 'Deadline for --wait: milliseconds or a duration' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand repair" -l filename -d 'The applied file whose current checksum to accept, or whose failed row to clear' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand repair" -l log-level -d 'Log level: debug, info, warn, error [default: info]' -r -f -a "debug\t''
info\t''
warn\t''
error\t''"
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand repair" -l log-format -d 'Log format on stderr: json or text [default: json]' -r -f -a "json\t''
text\t''"
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand repair" -l progress -d 'Progress on stderr for long work: auto (at a terminal, not in CI, unless the log is JSON by choice), always or never [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand repair" -l wait -d 'Wait for the database to accept logins first (pg-wait\'s logic)'
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand repair" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand adopt" -s d -l dsn -d 'Connection string: a postgres:// URL or key=value conninfo [env: DATABASE_URL]' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand adopt" -l host -d 'Server host name, IP or unix-socket directory (overrides the DSN) [env: PGHOST]' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand adopt" -s p -l port -d 'Server port (overrides the DSN) [env: PGPORT]' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand adopt" -s U -l user -d 'User name (overrides the DSN) [env: PGUSER]' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand adopt" -l dbname -d 'Database name (overrides the DSN) [env: PGDATABASE]' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand adopt" -l sslmode -d 'TLS mode: disable, allow, prefer, require, verify-ca, verify-full [env: PGSSLMODE]' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand adopt" -l dir -d 'Directory of migration files' -r -F
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand adopt" -l layout -d 'The folder\'s layout: another tool\'s folder runs as that tool runs it' -r -f -a "auto\t'Detect it from the folder'
pgkit\t''
dbmate\t''
golang-migrate\t''
goose\t''
sqlx\t''
diesel\t''
flyway\t'V1.2__x.sql, U1.2__x.sql, R__x.sql; a script mixing CREATE INDEX CONCURRENTLY (or the like) with other statements needs FLYWAY_MIXED=true or executeInTransaction=false in its .sql.conf, as in Flyway'
refinery\t''"
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand adopt" -l table -d 'Tracking table, optionally schema-qualified (app.schema_migrations)' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand adopt" -l lock-mode -d 'How concurrent runners are kept apart' -r -f -a "advisory\t'A session advisory lock, polled with pg_try_advisory_lock'
lease\t'A lease row in a lock table, with an expiry (works through PgBouncer transaction pooling)'
none\t'No lock (a single runner by construction)'"
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand adopt" -l lock-wait -d 'How long to wait for another runner\'s lock before exiting 75' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand adopt" -l lease-ttl -d 'Lease lifetime in lease mode (renewed while running; a crashed runner\'s lease expires)' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand adopt" -l wait-timeout -d 'Deadline for --wait: milliseconds or a duration' -r
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand adopt" -l from -d 'Whose history to adopt (auto: the one tool whose table is there)' -r -f -a "auto\t''
dbmate\t''
golang-migrate\t''
goose\t''
sqlx\t''
diesel\t''
flyway\t''
refinery\t''"
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand adopt" -l log-level -d 'Log level: debug, info, warn, error [default: info]' -r -f -a "debug\t''
info\t''
warn\t''
error\t''"
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand adopt" -l log-format -d 'Log format on stderr: json or text [default: json]' -r -f -a "json\t''
text\t''"
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand adopt" -l progress -d 'Progress on stderr for long work: auto (at a terminal, not in CI, unless the log is JSON by choice), always or never [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand adopt" -l wait -d 'Wait for the database to accept logins first (pg-wait\'s logic)'
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand adopt" -s n -l dry-run -d 'Print the mapping of the tool\'s versions to files; record nothing'
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand adopt" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand help; and not __fish_seen_subcommand_from up down status verify new baseline repair adopt help" -f -a "up" -d 'Apply pending migrations in order (the default)'
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand help; and not __fish_seen_subcommand_from up down status verify new baseline repair adopt help" -f -a "down" -d 'Revert applied migrations with their .down.sql files, newest first'
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand help; and not __fish_seen_subcommand_from up down status verify new baseline repair adopt help" -f -a "status" -d 'Show applied and pending migrations (a table, or --json)'
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand help; and not __fish_seen_subcommand_from up down status verify new baseline repair adopt help" -f -a "verify" -d 'Check every applied migration\'s checksum against its file'
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand help; and not __fish_seen_subcommand_from up down status verify new baseline repair adopt help" -f -a "new" -d 'Create a migration in the folder\'s layout (YYYYMMDDHHmmSS_description.up.sql and .down.sql for pgkit\'s); print the paths'
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand help; and not __fish_seen_subcommand_from up down status verify new baseline repair adopt help" -f -a "baseline" -d 'Record every migration up to VERSION as applied without running it'
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand help; and not __fish_seen_subcommand_from up down status verify new baseline repair adopt help" -f -a "repair" -d 'Accept a changed file\'s checksum (--filename), or clear failed rows'
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand help; and not __fish_seen_subcommand_from up down status verify new baseline repair adopt help" -f -a "adopt" -d 'Record another tool\'s migration history (dbmate, goose, sqlx, diesel, Flyway, ...) as applied'
complete -c pg-migrate -n "__fish_pg_migrate_using_subcommand help; and not __fish_seen_subcommand_from up down status verify new baseline repair adopt help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
