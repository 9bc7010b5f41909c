complete -c pg-wait -s d -l dsn -d 'A target, as the DSN arguments (repeatable)' -r
complete -c pg-wait -l host -d 'Server host name, IP or unix-socket directory, for every target [env: PGHOST]' -r
complete -c pg-wait -s p -l port -d 'Server port, for every target [env: PGPORT]' -r
complete -c pg-wait -s U -l user -d 'User name, for every target [env: PGUSER]' -r
complete -c pg-wait -l dbname -d 'Database name, for every target [env: PGDATABASE]' -r
complete -c pg-wait -l sslmode -d 'TLS mode: disable, allow, prefer, require, verify-ca, verify-full [env: PGSSLMODE]' -r
complete -c pg-wait -l check -d 'What ready means: tcp (the port accepts), ping (the server answers, as pg_isready), login (log in and SELECT 1) [default: login]' -r -f -a "tcp\t''
ping\t''
login\t''"
complete -c pg-wait -l until-sql -d 'After login, ready only when this query returns a row whose first column reads t, true or non-zero' -r
complete -c pg-wait -l interval -d 'First delay between attempts; it doubles each time' -r
complete -c pg-wait -l max-interval -d 'Longest delay between attempts' -r
complete -c pg-wait -l jitter -d 'Random extra delay, up to this fraction of the delay (0.3 or 30%)' -r
complete -c pg-wait -l max-attempts -d 'Give up after this many attempts (0: only the deadline counts)' -r
complete -c pg-wait -l timeout -d 'Give up after this long: milliseconds or a duration (180000, 3m; 0: no deadline) [env: DB_TIMEOUT] [default: 300000]' -r
complete -c pg-wait -l connect-timeout -d 'Time limit of each attempt: seconds or a duration (10, 500ms; 0: none) [env: PGCONNECT_TIMEOUT] [default: 5s]' -r
complete -c pg-wait -l database-pattern -d 'With --all-databases: only databases matching GLOB (repeatable)' -r
complete -c pg-wait -l exclude-database -d 'With --all-databases: skip databases matching GLOB (repeatable)' -r
complete -c pg-wait -l targets -d 'A file of targets, one DSN per line (\'-\': stdin)' -r -F
complete -c pg-wait -l jobs -d 'Targets probed at a time' -r
complete -c pg-wait -l log-level -d 'Log level: debug, info, warn, error [default: info]' -r -f -a "debug\t''
info\t''
warn\t''
error\t''"
complete -c pg-wait -l log-format -d 'Log format on stderr: json or text [default: json]' -r -f -a "json\t''
text\t''"
complete -c pg-wait -l progress -d 'Progress on stderr for long work: auto (at a terminal, not in CI, unless the log is JSON by choice), always or never [default: auto]' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pg-wait -l primary -d 'Ready only on a primary: a server in recovery (a standby) is not ready'
complete -c pg-wait -l all-databases -d 'Every database of the server that accepts connections (never templates)'
complete -c pg-wait -l json -d 'One JSON result per target on stdout (implied by a target set)'
complete -c pg-wait -l healthcheck -d 'One probe, no retries, silent when healthy; exit 0 (healthy) or 1 (anything else), for Docker and Kubernetes'
complete -c pg-wait -l once -d 'One probe, no retries, with the normal exit codes'
complete -c pg-wait -s h -l help -d 'Print help'
complete -c pg-wait -s V -l version -d 'Print version'
