"""The comparisons: one function each, registered with @comparison.

A comparison builds its inputs (untimed), makes one `Side` for pgkit's tool
and one per peer, calls `measure(ctx, sides)` and returns `rows_from(...)`.
Raise `Skip("why")` when it cannot run; a peer that is missing or fails
only loses its own rows (see `peer`).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

from harness import (INFO, WORK, Goal, Row, Sample, Server, Side, Skip, check,
                     last_line, measure, rows_from, run)

MB = 1024  # rss samples are KiB


@dataclass
class Comparison:
    name: str
    title: str
    goal: str
    fn: Callable


REGISTRY: list[Comparison] = []


def comparison(name: str, title: str, goal: str):
    def register(fn):
        REGISTRY.append(Comparison(name, title, goal, fn))
        return fn
    return register


def peer(name: str, argv: Callable[[], list[str]] | Callable[[], Callable], **kw) -> Side:
    """A peer's side; when the peer cannot be installed the side carries the
    reason and its rows are marked skipped."""
    try:
        return Side(name, argv(), **kw)
    except Skip as e:
        return Side(name, failure=str(e))


def fresh_dir(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def expect(cond: bool, what: str) -> None:
    """An untimed sanity check after a run: a tool that is fast because it
    did nothing must not win."""
    if not cond:
        raise Skip(f"wrong result: {what}")


# ---------------------------------------------------------------------------
# pg-wait


@comparison("wait-healthcheck", "pg-wait --healthcheck (unix socket)",
            "no slower, no more memory than pg_isready")
def wait_healthcheck(ctx):
    srv = ctx.server
    env = ctx.env(srv.socket_env())
    sides = [
        Side("pgkit", [ctx.tool("pg-wait"), "--healthcheck"], env=env),
        peer("pg_isready", lambda: [ctx.peers.system("pg_isready"), "-q"], env=env),
    ]
    measure(ctx, sides, rss=True)
    rows = rows_from(sides, [
        ("pg_isready", "wall", "pg-wait --healthcheck (login + SELECT 1, unix socket)",
         Goal("no slower", ratio=1.0)),
        ("pg_isready", "rss", "pg-wait --healthcheck peak RSS", Goal("no more", ratio=1.0)),
    ])
    # A healthy probe must leave no FATAL or ERROR line in the server log:
    # run it alone a few times and count what the log gained.
    before = srv.logfile.stat().st_size if srv.logfile.exists() else 0
    for _ in range(3):
        check([ctx.tool("pg-wait"), "--healthcheck"], env=env, what="pg-wait --healthcheck")
    with open(srv.logfile, "rb") as f:
        f.seek(before)
        added = f.read().decode(errors="replace")
    bad = sum(1 for ln in added.splitlines() if " FATAL: " in ln or " ERROR: " in ln)
    rows.append(Row("log/count", "pg-wait --healthcheck: FATAL/ERROR lines in the server log"
                    " (3 probes)", "count", Goal("0", below=0.5), pgkit=[bad]))
    return rows


@comparison("wait-latency", "pg-wait detection latency (--max-interval 100ms)",
            "median < 150 ms")
def wait_latency(ctx):
    """From the server accepting connections to pg-wait exiting 0. The
    server's ready instant is read from its own status line in
    postmaster.pid, polled every 0.2 ms by the harness; pg-wait's exit
    instant is when wait4 returns in a thread blocked on it."""
    srv = Server(ctx.bindir, "latency")
    env = ctx.env(srv.socket_env())
    argv = [ctx.tool("pg-wait"), "--max-interval", "100ms", "--timeout", "30s"]

    def sample(_i: int) -> Sample:
        done: dict = {}
        errf = open(WORK / "wait-latency.stderr", "w+b")
        proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=errf)

        def reap():
            _, status, usage = os.wait4(proc.pid, 0)
            done["t"] = time.perf_counter()
            done["rc"] = os.waitstatus_to_exitcode(status)
            done["rss"] = usage.ru_maxrss
            proc.returncode = done["rc"]

        waiter = threading.Thread(target=reap)
        waiter.start()
        try:
            time.sleep(0.5)  # pg-wait is retrying against a server that is down
            if "t" in done:  # it gave up already: report its error
                errf.seek(0)
                return Sample(0, done["rss"], done["rc"] or 1, b"", errf.read())
            srv.start(wait=False)
            deadline = time.perf_counter() + 60
            while not srv.is_ready():
                if time.perf_counter() > deadline:
                    raise Skip("the latency server did not start in 60 s")
                time.sleep(0.0002)
            ready = time.perf_counter()
            waiter.join(40)
            if "t" not in done:
                proc.kill()
                waiter.join()
                raise Skip("pg-wait did not exit 40 s after the server was ready")
            errf.seek(0)
            return Sample(done["t"] - ready, done["rss"], done["rc"], b"", errf.read())
        finally:
            if waiter.is_alive():
                proc.kill()
                waiter.join()
            errf.close()
            if srv.is_ready() or (srv.data / "postmaster.pid").exists():
                srv.stop()

    side = Side("pgkit", sampler=sample, label="pg-wait")
    try:
        measure(ctx, [side])
    finally:
        srv.destroy()
    return rows_from([side], [(None, "wall", "pg-wait detection latency after a server"
                               " start (--max-interval 100ms)",
                               Goal("median < 150 ms", below=0.150))])


# ---------------------------------------------------------------------------
# pg-migrate


def write_migrations(root: Path, n: int, sql: Callable[[int], str]) -> dict[str, Path]:
    """The same n migrations in each tool's layout."""
    dirs = {"pgkit": root / "pgkit", "dbmate": root / "dbmate", "sqlx": root / "sqlx"}
    for d in dirs.values():
        fresh_dir(d)
    for i in range(1, n + 1):
        name = f"{i:05d}_create_t_{i:05d}.sql"
        body = sql(i)
        (dirs["pgkit"] / name).write_text(body)
        (dirs["sqlx"] / name).write_text(body)
        (dirs["dbmate"] / name).write_text(f"-- migrate:up\n{body}\n-- migrate:down\n")
    return dirs


@comparison("migrate-up", "pg-migrate up: 1,000 migrations from empty",
            "≥ 2× faster than dbmate and sqlx")
def migrate_up(ctx):
    srv = ctx.server
    n = 20 if ctx.quick else 1000
    dirs = write_migrations(WORK / "migrate-up", n, lambda i: f"CREATE TABLE t_{i:05d} (id int);\n")

    def fresh(db):
        return lambda _i: srv.recreate_db(db)

    def applied(db):
        def after(_s):
            got = srv.psql("SELECT count(*) FROM pg_tables WHERE tablename LIKE 't\\_%'", db)
            expect(got == str(n), f"{db} has {got} of {n} tables")
        return after

    sides = [
        Side("pgkit", [ctx.tool("pg-migrate"), "up", "--dir", str(dirs["pgkit"])],
             env=ctx.env({"DATABASE_URL": srv.url("mig_pgkit")}),
             prepare=fresh("mig_pgkit"), after=applied("mig_pgkit")),
        peer("dbmate", lambda: [ctx.peers.dbmate(), "--url", srv.url("mig_dbmate"),
                                "--migrations-dir", str(dirs["dbmate"]),
                                "--no-dump-schema", "up"],
             env=ctx.env(), prepare=fresh("mig_dbmate"), after=applied("mig_dbmate")),
        peer("sqlx", lambda: [ctx.peers.sqlx(), "migrate", "run", "--source", str(dirs["sqlx"]),
                              "--database-url", srv.url("mig_sqlx")],
             env=ctx.env(), prepare=fresh("mig_sqlx"), after=applied("mig_sqlx")),
    ]
    measure(ctx, sides)
    title = f"pg-migrate up, {n:,} migrations from empty"
    return rows_from(sides, [
        ("dbmate", "wall", title, Goal("≥ 2× faster", ratio=2.0)),
        ("sqlx", "wall", title, Goal("≥ 2× faster", ratio=2.0)),
    ])


@comparison("migrate-noop", "pg-migrate up with nothing to do, 10,000 applied",
            "median < 50 ms")
def migrate_noop(ctx):
    srv = ctx.server
    n = 500 if ctx.quick else 10000
    d = fresh_dir(WORK / "migrate-noop")
    for i in range(1, n + 1):
        (d / f"{i:05d}_step_{i:05d}.sql").write_text(f"SELECT {i};\n")
    srv.recreate_db("mig_noop")
    env = ctx.env({"DATABASE_URL": srv.url("mig_noop")})
    argv = [ctx.tool("pg-migrate"), "up", "--dir", str(d)]
    check(argv, env=env, what=f"pg-migrate up ({n} migrations, setup)")
    side = Side("pgkit", argv, env=env)
    measure(ctx, [side], rss=True)
    return rows_from([side], [
        (None, "wall", f"pg-migrate up, nothing to do, {n:,} applied",
         Goal("median < 50 ms", below=0.050)),
        (None, "rss", f"pg-migrate up, nothing to do, {n:,} applied: peak RSS", INFO),
    ])


@comparison("migrate-diesel", "pg-migrate up: crates.io's diesel history (285 migrations)",
            "reported beside diesel migration run and its files through one psql session")
def migrate_diesel(ctx):
    """A real diesel folder as it is (tests/fixtures/migrations/diesel-cratesio:
    both version forms, seven no-transaction migrations), from empty, beside
    `diesel migration run` itself (diesel_cli from crates.io: the full run
    compiles it) and what a user without diesel would run: the up.sql files,
    in diesel's order, through one psql session with ON_ERROR_STOP (no
    bookkeeping, no transactions of its own). The issue sets no figure: the
    server's own work on these files is most of every side's time, so the
    rows report where pg-migrate stands."""
    srv = ctx.server
    src = Path(__file__).resolve().parent.parent / "tests/fixtures/migrations/diesel-cratesio"
    dirs = sorted(p for p in src.iterdir() if (p / "up.sql").is_file())
    # diesel orders by the version's digits (dashes left out) as a string.
    dirs.sort(key=lambda p: p.name.split("_", 1)[0].replace("-", ""))
    script = fresh_dir(WORK / "migrate-diesel") / "all.sql"
    script.write_text("".join((p / "up.sql").read_text() + "\n;\n" for p in dirs))
    n = len(dirs)

    def fresh(db):
        return lambda _i: srv.recreate_db(db)

    def migrated(db):
        def after(_s):
            got = srv.psql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename = 'crates'", db)
            expect(got == "1", f"{db} has no crates table")
        return after

    sides = [
        Side("pgkit", [ctx.tool("pg-migrate"), "up", "--dir", str(src), "--table", "pgkit_migrations"],
             env=ctx.env({"DATABASE_URL": srv.url("mig_diesel_pgkit")}),
             prepare=fresh("mig_diesel_pgkit"), after=migrated("mig_diesel_pgkit")),
        peer("diesel", lambda: [ctx.peers.diesel(), "migration", "run", "--migration-dir", str(src),
                                "--database-url", srv.url("mig_diesel_diesel")],
             env=ctx.env(), prepare=fresh("mig_diesel_diesel"), after=migrated("mig_diesel_diesel"),
             cwd=script.parent),
        peer("psql -f", lambda: [ctx.peers.system("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1",
                                 "-d", srv.url("mig_diesel_psql"), "-f", str(script)],
             env=ctx.env(), prepare=fresh("mig_diesel_psql"), after=migrated("mig_diesel_psql")),
    ]
    measure(ctx, sides)
    title = f"pg-migrate up, crates.io's diesel history ({n} migrations)"
    return rows_from(sides, [
        ("diesel", "wall", title, INFO),
        ("psql -f", "wall", title, INFO),
    ])


# ---------------------------------------------------------------------------
# pg-migrate over a fleet of tenant databases (issue 19)


def fleet_size(ctx, var: str, full: int) -> int:
    """Tenants in a fleet comparison: `full` in a full run, 10 with --quick;
    the environment variable overrides either (a smaller disk: each database
    costs ~7.5 MB of catalogs)."""
    if os.environ.get(var):
        return int(os.environ[var])
    return 10 if ctx.quick else full


def make_fleet(srv, prefix: str, n: int) -> list[str]:
    """n empty databases prefix_0000…, created in one psql session."""
    names = [f"{prefix}_{i:04d}" for i in range(n)]
    script = WORK / f"{prefix}-create.sql"
    script.write_text("".join(f'DROP DATABASE IF EXISTS "{d}";\nCREATE DATABASE "{d}";\n'
                              for d in names))
    check([str(srv.bindir / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", srv.url(),
           "-f", str(script)], what=f"creating {n} databases")
    return names


def drop_fleet(srv, names: list[str]) -> None:
    script = WORK / "fleet-drop.sql"
    script.write_text("".join(f'DROP DATABASE IF EXISTS "{d}";\n' for d in names))
    check([str(srv.bindir / "psql"), "-X", "-q", "-d", srv.url(), "-f", str(script)],
          what="dropping the fleet")


def fleet_sides(ctx, srv, sub: str, prefix: str, mig: Path, extra: list[str],
                prepare=None, after=None, after_loop=None) -> list[Side]:
    """pg-migrate SUB over the fleet at --jobs 1/4/8, and the loop a user
    writes today at the same parallelism: the database names from psql,
    one pg-migrate process per tenant through xargs -P (which exits 123
    when any of them fails)."""
    env = ctx.env({"DATABASE_URL": srv.url()})
    pgm = ctx.tool("pg-migrate")
    psql = ctx.peers.system("psql")
    # postgres://…/postgres?sslmode=disable → a URL per tenant.
    base, query = srv.url().rsplit("/", 1)[0], "?sslmode=disable"
    listing = (f"SELECT datname FROM pg_database WHERE datname LIKE '{prefix}\\_%'"
               " ORDER BY datname")
    sides = []
    for j in (1, 4, 8):
        sides.append(Side(f"pgkit-j{j}", [pgm, sub, "--dir", str(mig), "--all-databases",
                                          "--database-pattern", f"{prefix}_*",
                                          "--jobs", str(j), *extra],
                          env=env, prepare=prepare, after=after))
    for j in (1, 4, 8):
        loop = (f"'{psql}' -X -Atc \"{listing}\" '{srv.url()}' | "
                f"xargs -P {j} -I{{}} '{pgm}' {sub} --dir '{mig}' {' '.join(extra)} "
                f"--dsn '{base}/{{}}{query}'")
        sides.append(Side(f"xargs -P {j}", ["sh", "-c", loop], env=env,
                          prepare=prepare, after=after_loop))
    return sides


def fleet_rows(sides: list[Side], title: str, n: int, floor: Side) -> list[Row]:
    """One row per parallelism (pgkit at --jobs J vs xargs -P J, goal: no
    slower), and the per-target cost at --jobs 1 next to one bare
    connection's setup (the floor)."""
    by = {s.name: s for s in sides}
    rows = []
    for j in (1, 4, 8):
        mine, theirs = by[f"pgkit-j{j}"], by[f"xargs -P {j}"]
        sub = rows_from([mine, theirs], [(theirs.name, "wall", f"{title}, --jobs {j}",
                                         Goal("no slower", ratio=1.0))])
        for r in sub:
            r.id = f"j{j}/{r.id}"
        rows.extend(sub)
    per = Row("per-target/wall", f"{title}: per target at --jobs 1", "wall",
              INFO, pgkit=[s.wall / n for s in by["pgkit-j1"].samples],
              peer_name="one bare connection (pgbench -C)")
    if floor.failure or not floor.samples:
        per.status, per.reason = "skipped", floor.failure or "no samples"
    else:
        per.peer = [s.wall for s in floor.samples]
    rows.append(per)
    return rows


def bare_connection(ctx, srv, db: str, n: int = 200) -> Side:
    """One connection's setup and a trivial query, as pgbench -C measures it
    (a new connection per transaction): the wall time of n divided by n."""
    script = WORK / "select1.sql"
    script.write_text("SELECT 1;\n")
    try:
        pgbench = ctx.peers.system("pgbench")
    except Skip as e:
        return Side("floor", failure=str(e))
    argv = [pgbench, "-n", "-C", "-c", "1", "-t", str(n), "-f", str(script), srv.url(db)]

    def sample(_i: int) -> Sample:
        s = run(argv, env=ctx.env())
        if s.rc != 0:
            raise Skip(f"pgbench exited {s.rc}: {last_line(s.stderr)}")
        s.wall /= n
        return s
    return Side("floor", sampler=sample, label="pgbench -C")


@comparison("migrate-fleet-status", "pg-migrate status over 1,000 up-to-date databases",
            "no slower than the xargs -P loop at the same parallelism")
def migrate_fleet_status(ctx):
    srv = ctx.server
    n = fleet_size(ctx, "BENCH_FLEET_STATUS_DBS", 1000)
    mig = fresh_dir(WORK / "fleet-status")
    for i in range(1, 6):
        (mig / f"{i:03d}_t{i}.up.sql").write_text(f"CREATE TABLE t{i} (id int);\n")
    names = make_fleet(srv, "fleet_st", n)
    try:
        env = ctx.env({"DATABASE_URL": srv.url()})
        check([ctx.tool("pg-migrate"), "up", "--dir", str(mig), "--all-databases",
               "--database-pattern", "fleet_st_*", "--jobs", "8"], env=env,
              what="migrating the fleet (setup)")

        def all_current(s: Sample) -> None:
            lines = s.stdout.decode().splitlines()
            expect(len(lines) == n and all('"outcome":"ok"' in ln for ln in lines),
                   f"{len(lines)} result lines of {n}, all ok")
        sides = fleet_sides(ctx, srv, "status", "fleet_st", mig, ["--exit-code"],
                            after=all_current)
        floor = bare_connection(ctx, srv, names[0])
        measure(ctx, sides + [floor])
    finally:
        drop_fleet(srv, names)
    return fleet_rows(sides, f"pg-migrate status --exit-code over {n:,} databases", n, floor)


@comparison("migrate-fleet-up", "pg-migrate up: 5 migrations over 200 databases",
            "no slower than the xargs -P loop at the same parallelism")
def migrate_fleet_up(ctx):
    srv = ctx.server
    n = fleet_size(ctx, "BENCH_FLEET_UP_DBS", 200)
    mig = fresh_dir(WORK / "fleet-up")
    for i in range(1, 6):
        (mig / f"{i:03d}_t{i}.up.sql").write_text(
            f"CREATE TABLE t{i} (id bigint PRIMARY KEY, name text);\n"
            f"CREATE INDEX ON t{i} (name);\n")
        (mig / f"{i:03d}_t{i}.down.sql").write_text(f"DROP TABLE t{i};\n")
    names = make_fleet(srv, "fleet_up", n)
    env = ctx.env({"DATABASE_URL": srv.url()})
    pgm = ctx.tool("pg-migrate")

    def reset(_i: int) -> None:
        # Untimed: every tenant back to empty (its five migrations reverted).
        check([pgm, "down", "--dir", str(mig), "--steps", "5", "--all-databases",
               "--database-pattern", "fleet_up_*", "--jobs", "8"], env=env,
              what="reverting the fleet (untimed)")

    def migrated(_s: Sample) -> None:
        got = srv.psql("SELECT count(*) FROM schema_migrations", names[-1])
        expect(got == "5", f"{names[-1]} has {got} of 5 migrations")
    try:
        # First run: the tracking tables exist, so `down` can reset.
        check([pgm, "up", "--dir", str(mig), "--all-databases", "--database-pattern",
               "fleet_up_*", "--jobs", "8"], env=env, what="migrating the fleet (setup)")
        sides = fleet_sides(ctx, srv, "up", "fleet_up", mig, [], prepare=reset, after=migrated,
                            after_loop=migrated)
        floor = bare_connection(ctx, srv, names[0])
        measure(ctx, sides + [floor])
    finally:
        drop_fleet(srv, names)
    return fleet_rows(sides, f"pg-migrate up, 5 migrations over {n:,} databases", n, floor)


# ---------------------------------------------------------------------------
# pg-seed

SEED_DDL = ("CREATE TABLE t (id int, name text, email text, amount numeric(12,2),"
            " created_at timestamptz)")


def write_csv(path: Path, rows: int) -> None:
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    base = datetime(2025, 1, 1, tzinfo=timezone.utc)
    with open(tmp, "w") as f:
        f.write("id,name,email,amount,created_at\n")
        for i in range(1, rows + 1):
            ts = (base + timedelta(seconds=i * 37)).strftime("%Y-%m-%d %H:%M:%S+00")
            f.write(f'{i},"User {i}, the {i % 97}th",user{i}@example.com,'
                    f"{(i * 7919) % 100000 / 100:.2f},{ts}\n")
    tmp.rename(path)


@comparison("seed-csv", "pg-seed: 1,000,000-row CSV", "≥ 0.9× the throughput of psql \\copy")
def seed_csv(ctx):
    srv = ctx.server
    rows = 10_000 if ctx.quick else 1_000_000
    csv = WORK / f"seed-csv-{rows}" / "t.csv"  # pg-seed loads t.csv into table t
    write_csv(csv, rows)
    for db in ("seed_pgkit", "seed_psql"):
        srv.recreate_db(db)
        srv.psql(SEED_DDL, db)

    def loaded(db):
        def after(_s):
            got = srv.psql("SELECT count(*) FROM t", db)
            expect(got == str(rows), f"{db}.t has {got} of {rows} rows")
        return after

    sides = [
        Side("pgkit", [ctx.tool("pg-seed"), "--file", str(csv)],
             env=ctx.env({"DATABASE_URL": srv.url("seed_pgkit")}),
             prepare=lambda _i: srv.psql("TRUNCATE t; DROP TABLE IF EXISTS schema_seeds",
                                         "seed_pgkit"),
             after=loaded("seed_pgkit")),
        peer("psql \\copy", lambda: [ctx.peers.system("psql"), "-X", "-q", "-v",
                                     "ON_ERROR_STOP=1", "-d", srv.url("seed_psql"), "-c",
                                     f"\\copy t FROM '{csv}' CSV HEADER"],
             env=ctx.env(), prepare=lambda _i: srv.psql("TRUNCATE t", "seed_psql"),
             after=loaded("seed_psql")),
    ]
    measure(ctx, sides)
    return rows_from(sides, [
        ("psql \\copy", "wall", f"pg-seed --file t.csv, {rows:,} rows × 5 columns",
         Goal("≥ 0.9× throughput", ratio=0.9)),
    ])


@comparison("seed-generate", "pg-seed generate: 1,000,000 pgbench_accounts rows",
            "no slower than pgbench -i's generate step; peak RSS < 50 MB")
def seed_generate(ctx):
    """pgbench's side times only its client-side generate step: the tables
    are created untimed (`-I dt`), then `pgbench -i -I g` is timed (it
    truncates and fills pgbench_branches/tellers/accounts)."""
    srv = ctx.server
    scale = 1 if ctx.quick else 10
    rows = scale * 100_000
    pgbench = ctx.peers.system("pgbench")
    tcp = {"PGHOST": "127.0.0.1", "PGPORT": str(srv.port), "PGUSER": "postgres"}
    for db in ("gen_pgkit", "gen_pgbench"):
        srv.recreate_db(db)
        check([pgbench, "-i", "-I", "dt", "-s", str(scale)],
              env=ctx.env({**tcp, "PGDATABASE": db}), what="pgbench -i -I dt")

    def filled(db):
        def after(_s):
            got = srv.psql("SELECT count(*) FROM pgbench_accounts", db)
            expect(got == str(rows), f"{db}.pgbench_accounts has {got} of {rows} rows")
        return after

    sides = [
        Side("pgkit", [ctx.tool("pg-seed"), "generate", "--table", "pgbench_accounts",
                       "--rows", str(rows), "--seed", "1"],
             env=ctx.env({"DATABASE_URL": srv.url("gen_pgkit")}),
             prepare=lambda _i: srv.psql("TRUNCATE pgbench_accounts", "gen_pgkit"),
             after=filled("gen_pgkit")),
        Side("pgbench", [pgbench, "-i", "-I", "g", "-s", str(scale)],
             env=ctx.env({**tcp, "PGDATABASE": "gen_pgbench"}), after=filled("gen_pgbench")),
    ]
    measure(ctx, sides, rss=True)
    title = f"pg-seed generate --rows {rows:,} (pgbench_accounts)"
    return rows_from(sides, [
        ("pgbench", "wall", title, Goal("no slower", ratio=1.0)),
        ("pgbench", "rss", "pg-seed generate peak RSS", Goal("< 50 MB", below=50 * MB)),
    ])


@comparison("seed-dump", "pg-seed: a pg_dump --data-only file (pgbench tables)",
            "≥ 0.9× the throughput of psql -f")
def seed_dump(ctx):
    """The same data-only dump, loaded by pg-seed --file and by psql -f into
    empty copies of the schema (pgbench -i -I dt)."""
    srv = ctx.server
    scale = 1 if ctx.quick else 10
    rows = scale * 100_000
    pgbench = ctx.peers.system("pgbench")
    tcp = {"PGHOST": "127.0.0.1", "PGPORT": str(srv.port), "PGUSER": "postgres"}
    srv.recreate_db("dump_src")
    check([pgbench, "-i", "-s", str(scale)], env=ctx.env({**tcp, "PGDATABASE": "dump_src"}),
          what="pgbench -i")
    d = fresh_dir(WORK / "seed-dump")
    dump = d / "10_pgbench.sql"
    check([ctx.peers.system("pg_dump"), "--data-only", "-f", str(dump), srv.url("dump_src")],
          env=ctx.env(), what="pg_dump --data-only")
    for db in ("dump_pgkit", "dump_psql"):
        srv.recreate_db(db)
        check([pgbench, "-i", "-I", "dt", "-s", str(scale)],
              env=ctx.env({**tcp, "PGDATABASE": db}), what="pgbench -i -I dt")

    def empty(db):
        def prepare(_i):
            srv.psql("TRUNCATE pgbench_accounts, pgbench_branches, pgbench_tellers, "
                     "pgbench_history; DROP TABLE IF EXISTS schema_seeds", db)
        return prepare

    def loaded(db):
        def after(_s):
            got = srv.psql("SELECT count(*) FROM pgbench_accounts", db)
            expect(got == str(rows), f"{db}.pgbench_accounts has {got} of {rows} rows")
        return after

    sides = [
        Side("pgkit", [ctx.tool("pg-seed"), "--file", str(dump)],
             env=ctx.env({"DATABASE_URL": srv.url("dump_pgkit")}),
             prepare=empty("dump_pgkit"), after=loaded("dump_pgkit")),
        peer("psql -f", lambda: [ctx.peers.system("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1",
                                 "-d", srv.url("dump_psql"), "-f", str(dump)],
             env=ctx.env(), prepare=empty("dump_psql"), after=loaded("dump_psql")),
    ]
    measure(ctx, sides)
    return rows_from(sides, [
        ("psql -f", "wall", f"pg-seed --file of a data-only dump, {rows:,} pgbench rows",
         Goal("≥ 0.9× throughput", ratio=0.9)),
    ])


def sixty_tables_ddl() -> str:
    """60 tables of an application's shapes: chains and fan-outs of foreign
    keys, a junction every tenth table, a 1:1 child every seventh, CHECKs
    pg-seed reads and CHECKs the server judges, a partitioned table."""
    out = []
    for i in range(60):
        cols = ["id serial PRIMARY KEY", "name text NOT NULL CHECK (length(name) > 0)",
                "qty int NOT NULL CHECK (qty >= 0)", "price numeric(10,2)",
                "created timestamptz NOT NULL", "active bool NOT NULL", "tags text[]"]
        if i >= 1:
            cols.append(f"t{(i - 1):02d}_id int NOT NULL REFERENCES t{(i - 1):02d}")
        if i >= 5:
            cols.append(f"t{(i // 2):02d}_id int REFERENCES t{(i // 2):02d}")
        if i % 10 == 9:
            cols.append("starts date NOT NULL, ends date NOT NULL, CHECK (ends >= starts)")
        out.append(f"CREATE TABLE t{i:02d} ({', '.join(cols)});")
        if i % 10 == 5:
            out.append(f"CREATE TABLE j{i:02d} (a int REFERENCES t{i:02d}, b int REFERENCES "
                       f"t{(i - 1):02d}, PRIMARY KEY (a, b));")
        if i % 7 == 3:
            out.append(f"CREATE TABLE d{i:02d} (id int PRIMARY KEY REFERENCES t{i:02d}, "
                       "body text);")
    out.append("CREATE TABLE events (id bigserial, at timestamptz NOT NULL, kind text NOT NULL, "
               "PRIMARY KEY (id, at)) PARTITION BY RANGE (at);")
    out.append("CREATE TABLE events_a PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');")
    out.append("CREATE TABLE events_b PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');")
    return "\n".join(out)


@comparison("seed-generate-all", "pg-seed generate --all: a 60-table schema",
            "reported: rows per second overall and peak RSS")
def seed_generate_all(ctx):
    srv = ctx.server
    per = 100 if ctx.quick else 2000
    srv.recreate_db("gen_all")
    srv.psql(sixty_tables_ddl(), "gen_all")
    tables = int(srv.psql("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = "
                          "c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') "
                          "AND NOT c.relispartition", "gen_all"))

    def empty(_i):
        srv.psql("DO $$ DECLARE r record; BEGIN FOR r IN SELECT tablename FROM pg_tables "
                 "WHERE schemaname = 'public' LOOP EXECUTE format('TRUNCATE %I CASCADE', "
                 "r.tablename); END LOOP; END $$", "gen_all")

    def filled(_s):
        got = srv.psql("SELECT count(*) FROM t59", "gen_all")
        expect(int(got) >= per, f"gen_all.t59 has {got} rows, expected {per}")

    side = Side("pgkit", [ctx.tool("pg-seed"), "generate", "--all", "--rows", str(per),
                          "--seed", "1"],
                env=ctx.env({"DATABASE_URL": srv.url("gen_all")}), prepare=empty, after=filled)
    measure(ctx, [side], rss=True)
    title = f"pg-seed generate --all, {tables} tables × {per:,} rows"
    return rows_from([side], [
        (None, "wall", title, INFO),
        (None, "rss", f"{title}: peak RSS", INFO),
    ])


# ---------------------------------------------------------------------------
# pg-dotenv

def dotenv_lines(ctx) -> int:
    return 1_000 if ctx.quick else 10_000


def dotenv_text(lines: int) -> str:
    """Comments, bare, double- and single-quoted values (the keys that are
    read and written are bare: see dotenv_keys)."""
    out = []
    for i in range(lines):
        if i % 10 == 0:
            out.append(f"# section {i // 10}")
        elif i % 7 == 0:
            out.append(f'KEY_{i:05d}="double quoted {i}"')
        elif i % 13 == 0:
            out.append(f"KEY_{i:05d}='single quoted {i}'")
        else:
            out.append(f"KEY_{i:05d}=value_{i}")
    return "\n".join(out) + "\n"


def dotenv_keys(lines: int) -> tuple[str, str, str]:
    """The key `get` reads (near the end), its value, and the key `set`
    writes (in the middle): plain KEY=value lines for 1,000 and 10,000."""
    g, s = lines - 9, lines // 2 + 1
    return f"KEY_{g:05d}", f"value_{g}", f"KEY_{s:05d}"


def dotenv_sides(ctx, cmd: str) -> list[Side]:
    d = fresh_dir(WORK / f"dotenv-{cmd}")
    text = dotenv_text(dotenv_lines(ctx))
    get_key, value, set_key = dotenv_keys(dotenv_lines(ctx))
    files = {name: d / f"{name}.env" for name in ("pgkit", "python-dotenv", "dotenvx")}
    for f in files.values():
        f.write_text(text)
        os.chmod(f, 0o600)
    env = ctx.env()
    if cmd == "get":
        def got(s):
            expect(s.stdout.strip() == value.encode(),
                   f"get printed {s.stdout[:60]!r}")
        return [
            Side("pgkit", [ctx.tool("pg-dotenv"), "-f", str(files["pgkit"]), "get", get_key],
                 env=env, cwd=d, after=got),
            peer("python-dotenv", lambda: [ctx.peers.python_dotenv(), "-f",
                                           str(files["python-dotenv"]), "get", get_key],
                 env=env, cwd=d, after=got),
            peer("dotenvx", lambda: [ctx.peers.dotenvx(), "get", get_key, "-f",
                                     str(files["dotenvx"])], env=env, cwd=d, after=got),
        ]

    def setter(make: Callable[[str, str, str], list[str]], file: Path):
        return lambda i: make(str(file), set_key, f"v{i}")

    return [
        Side("pgkit", setter(lambda f, k, v: [ctx.tool("pg-dotenv"), "-f", f, "set", k, v],
                             files["pgkit"]), env=env, cwd=d),
        peer("python-dotenv", lambda: (lambda exe: setter(
            lambda f, k, v: [exe, "-f", f, "set", k, v], files["python-dotenv"]))(
                ctx.peers.python_dotenv()), env=env, cwd=d),
        peer("dotenvx", lambda: (lambda exe: setter(
            lambda f, k, v: [exe, "set", k, v, "-f", f, "--plain"], files["dotenvx"]))(
                ctx.peers.dotenvx()), env=env, cwd=d),
    ]


@comparison("dotenv-get", "pg-dotenv get, 10,000-line file",
            "median < 5 ms and ≥ 20× faster than python-dotenv")
def dotenv_get(ctx):
    sides = dotenv_sides(ctx, "get")
    measure(ctx, sides)
    title = f"pg-dotenv get, {dotenv_lines(ctx):,}-line file"
    return rows_from(sides, [
        ("python-dotenv", "wall", title, Goal("< 5 ms and ≥ 20×", ratio=20, below=0.005)),
        ("dotenvx", "wall", title, INFO),
    ])


@comparison("dotenv-set", "pg-dotenv set, 10,000-line file", "median < 10 ms")
def dotenv_set(ctx):
    sides = dotenv_sides(ctx, "set")
    measure(ctx, sides)
    title = f"pg-dotenv set, {dotenv_lines(ctx):,}-line file (with fsync)"
    return rows_from(sides, [
        ("python-dotenv", "wall", title, Goal("< 10 ms", below=0.010)),
        ("dotenvx", "wall", title, INFO),
    ])


# ---------------------------------------------------------------------------
# pg-dump-rotate


def newer_client_env(ctx) -> dict:
    """The environment in which pg-dump-rotate runs with its defaults: no
    PG_BINDIR (which would pin the server's own pg_dump), and pg-tmp's cache
    holding PostgreSQL 16's client, installed once by `pg-tmp install 16`
    when the machine has no 16+ client (zstd needs pg_dump 16; for a server
    before 17 the tool takes 16 over newer ones, which the restore of its
    dump into that server would refuse). Offline, the tool falls back to
    what is installed, and the row shows which pg_dump it took."""
    if "newer_client_env" in ctx.cache:
        return ctx.cache["newer_client_env"]
    env = {k: v for k, v in ctx.env().items() if k != "PG_BINDIR"}
    if os.environ.get("XDG_CACHE_HOME"):
        env["XDG_CACHE_HOME"] = os.environ["XDG_CACHE_HOME"]
    try:
        check([ctx.tool("pg-tmp"), "install", "16", "--log-level", "warn"], env=env,
              what="pg-tmp install 16")
    except Skip as e:
        INFO.append(f"dump: no PostgreSQL 16 client ({e}); pg-dump-rotate uses the installed pg_dump")
    ctx.cache["newer_client_env"] = env
    return env


def dump_compare(ctx, db: str, what: str) -> list[Row]:
    """pg-dump-rotate dump with its defaults vs pg_dump -Fc > file with its
    defaults (the server's own pg_dump); then the restore of each dump into
    a new database: pg-dump-rotate restore vs pg_restore --single-transaction."""
    srv = ctx.server
    pg_dump = ctx.peers.system("pg_dump")
    size = srv.psql(f"SELECT pg_size_pretty(pg_database_size('{db}'))")
    d = fresh_dir(WORK / f"dump-{db}")
    out_dir, plain = d / "pgkit", d / "plain.pgdump"
    env = newer_client_env(ctx)

    def dumped(_s):
        found = list(out_dir.glob("*/*.pgdump"))
        expect(len(found) == 1, f"{len(found)} .pgdump files in {out_dir}")

    sides = [
        Side("pgkit", [ctx.tool("pg-dump-rotate"), "dump", "--dir", str(out_dir)],
             env={**env, "DATABASE_URL": srv.url(db)},
             prepare=lambda _i: fresh_dir(out_dir) and None, after=dumped),
        Side("pg_dump -Fc", [pg_dump, "-Fc", "-d", srv.url(db)], env=ctx.env(),
             stdout_path=plain),
    ]
    measure(ctx, sides)
    mine = next(out_dir.glob("*/*.pgdump"))
    manifest = json.loads(mine.with_name(mine.name + ".json").read_text())
    my_size, peer_size = mine.stat().st_size / 2**20, plain.stat().st_size / 2**20

    def mb(v: float) -> str:
        return f"{v:,.{1 if v < 10 else 0}f} MB"

    rows = rows_from(sides, [
        ("pg_dump -Fc", "wall", f"pg-dump-rotate dump, {size} database ({what}; pgkit:"
         f" pg_dump {manifest['pgDumpVersion'].split()[0]} {manifest['compression']},"
         f" {mb(my_size)} dump; pg_dump -Fc: gzip, {mb(peer_size)})",
         # A dump larger than pg_dump's fails the goal whatever its speed.
         Goal("≥ 2× faster, no larger", ratio=2.0 if my_size <= peer_size else float("inf"))),
    ])

    # Restore: each tool's dump into a new database, in one transaction.
    def fresh(name):
        return lambda _i: srv.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)') and None

    def restored(name):
        def check_rows(_s):
            n = srv.psql("SELECT count(*) FROM pg_class WHERE relkind = 'r'"
                         " AND relnamespace = 'public'::regnamespace", name)
            expect(int(n) > 0, f"no tables restored into {name}")
        return check_rows

    srv.psql(f'DROP DATABASE IF EXISTS "{db}_rp" WITH (FORCE)')

    def peer_prepare(_i):
        srv.recreate_db(f"{db}_rp")

    restore_sides = [
        Side("pgkit", [ctx.tool("pg-dump-rotate"), "restore", str(mine), "--dsn", srv.url(),
                       "--db", f"{db}_rk", "--create-db"],
             env=env, prepare=fresh(f"{db}_rk"), after=restored(f"{db}_rk")),
        Side("pg_restore", [ctx.peers.system("pg_restore"), "--single-transaction", "--no-owner",
                            "-d", srv.url(f"{db}_rp"), str(plain)],
             env=ctx.env(), prepare=peer_prepare, after=restored(f"{db}_rp")),
    ]
    n = ctx.n
    ctx.n = min(n, 3)  # a restore of the text database takes ~20 s a side
    try:
        measure(ctx, restore_sides, warmup=0)
    finally:
        ctx.n = n
    rows += rows_from(restore_sides, [
        ("pg_restore", "wall", f"pg-dump-rotate restore of that dump vs pg_restore"
         f" --single-transaction of pg_dump's ({what})", Goal("reported")),
    ])
    for name in (f"{db}_rk", f"{db}_rp"):
        srv.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return rows


@comparison("dump", "pg-dump-rotate dump of a ~500 MB database (pgbench)",
            "≥ 2× faster than pg_dump -Fc > file, no larger")
def dump(ctx):
    """pgbench's tables: ~500 MB on disk, but a 50× compressible dump."""
    scale = 1 if ctx.quick else 35
    if ctx.cache.get("dump_scale") != scale:
        ctx.server.recreate_db("dump_src")
        check([ctx.peers.system("pgbench"), "-i", "-q", "-s", str(scale),
               ctx.server.url("dump_src")], env=ctx.env(), what="pgbench -i")
        ctx.cache["dump_scale"] = scale
    return dump_compare(ctx, "dump_src", f"pgbench -s {scale}")


@comparison("dump-text", "pg-dump-rotate dump of a ~500 MB database (text)",
            "≥ 2× faster than pg_dump -Fc > file, no larger")
def dump_text(ctx):
    """Rows of hex text that compress about 2×, so the dump is hundreds of
    MB and writing, hashing and fsyncing it is a real part of the cost."""
    rows = 40_000 if ctx.quick else 4_000_000
    if ctx.cache.get("dump_text_rows") != rows:
        ctx.server.recreate_db("dump_text")
        ctx.server.psql(
            "CREATE TABLE t AS SELECT g AS id, md5(g::text) AS a, md5((-g)::text) AS b,"
            " now() - g * interval '1 s' AS at, (g % 1000)::numeric / 7 AS n"
            f" FROM generate_series(1, {rows}) g", "dump_text")
        ctx.cache["dump_text_rows"] = rows
    return dump_compare(ctx, "dump_text", f"{rows:,} rows of md5 text")


def dump_set(ctx) -> tuple[Path, int]:
    """10,000 dumps in 100 sources (10×10 in quick mode), cloned from one
    real dump (so the sidecar and manifest are the tool's own format), or
    synthetic files when the tool cannot dump yet."""
    sources, per = (10, 10) if ctx.quick else (100, 100)
    key = ("dump_set", sources, per)
    if key in ctx.cache:
        return ctx.cache[key]
    srv = ctx.server
    tmpl_dir = fresh_dir(WORK / "dumps-template")
    srv.recreate_db("tmpl")
    stamp_re = None
    try:
        check([ctx.tool("pg-dump-rotate"), "dump", "--dir", str(tmpl_dir), "--source", "tmpl"],
              env=ctx.env({"DATABASE_URL": srv.url("tmpl")}), what="pg-dump-rotate dump")
        dump_file = next((tmpl_dir / "tmpl").glob("tmpl_*.pgdump"))
        stamp_re = dump_file.name[len("tmpl_"):-len(".pgdump")]
        body = dump_file.read_bytes()
        sha = (dump_file.parent / (dump_file.name + ".sha256")).read_text()
        manifest = (dump_file.parent / (dump_file.name + ".json")).read_text()
    except (Skip, StopIteration, OSError):
        body = b"PGDMP synthetic\n"
        sha = f"{hashlib.sha256(body).hexdigest()}  tmpl_STAMP.pgdump\n"
        manifest = ('{"source":"tmpl","database":"tmpl","file":"tmpl_STAMP.pgdump",'
                    f'"size":{len(body)},"sha256":"{hashlib.sha256(body).hexdigest()}"}}\n')
        stamp_re = "STAMP"
    root = fresh_dir(WORK / f"dumps-{sources}x{per}")
    newest = datetime(2026, 11, 1, tzinfo=timezone.utc)
    for s in range(sources):
        src = f"src{s:03d}"
        sd = root / src
        sd.mkdir()
        for k in range(per):
            stamp = (newest - timedelta(hours=7 * k + s)).strftime("%Y%m%dT%H%M%SZ")
            name = f"{src}_{stamp}.pgdump"
            (sd / name).write_bytes(body)
            (sd / (name + ".sha256")).write_text(
                sha.replace(stamp_re, stamp).replace("tmpl", src))
            (sd / (name + ".json")).write_text(
                manifest.replace(stamp_re, stamp).replace("tmpl", src))
    ctx.cache[key] = (root, sources * per)
    return root, sources * per


def count_files(root: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(root))


@comparison("dump-list", "pg-dump-rotate list over 10,000 dumps", "< 200 ms")
def dump_list(ctx):
    root, n = dump_set(ctx)

    def listed(s):
        expect(len(s.stdout.splitlines()) >= n, f"list printed {len(s.stdout.splitlines())}"
               f" lines for {n} dumps")

    side = Side("pgkit", [ctx.tool("pg-dump-rotate"), "list", "--dir", str(root)],
                env=ctx.env(), after=listed)
    measure(ctx, [side])
    return rows_from([side], [(None, "wall", f"pg-dump-rotate list, {n:,} dumps",
                               Goal("< 200 ms", below=0.200))])


@comparison("dump-purge", "pg-dump-rotate purge --dry-run over 10,000 dumps", "< 200 ms")
def dump_purge(ctx):
    root, n = dump_set(ctx)
    files = count_files(root)

    def untouched(_s):
        expect(count_files(root) == files, "purge --dry-run removed files")

    side = Side("pgkit", [ctx.tool("pg-dump-rotate"), "purge", "--dir", str(root),
                          "--keep-last", "3", "--dry-run"], env=ctx.env(), after=untouched)
    measure(ctx, [side])
    return rows_from([side], [(None, "wall", f"pg-dump-rotate purge --keep-last 3 --dry-run,"
                               f" {n:,} dumps", Goal("< 200 ms", below=0.200))])


@comparison("dump-drill", "pg-dump-rotate verify --restore of a ~500 MB database (text)",
            "reported beside pg_restore into a running server")
def dump_drill(ctx):
    """A restore drill of the md5-text database's dump (dumped once with
    --count-rows, untimed): a throwaway server started, the dump restored,
    every table counted and compared, the server removed. Beside it,
    pg_restore of the same archive into a fresh database of the already
    running server: the restore alone, without the server or the counts.
    Full size (4,000,000 rows, ~480 MB) only in the full run; --quick uses
    40,000 rows."""
    srv = ctx.server
    rows = 40_000 if ctx.quick else 4_000_000
    db = "drill_text"
    if ctx.cache.get("drill_text_rows") != rows:
        srv.recreate_db(db)
        srv.psql(
            "CREATE TABLE t AS SELECT g AS id, md5(g::text) AS a, md5((-g)::text) AS b,"
            " now() - g * interval '1 s' AS at, (g % 1000)::numeric / 7 AS n"
            f" FROM generate_series(1, {rows}) g", db)
        ctx.cache["drill_text_rows"] = rows
    size = srv.psql(f"SELECT pg_size_pretty(pg_database_size('{db}'))")
    d = fresh_dir(WORK / "dump-drill")
    check([ctx.tool("pg-dump-rotate"), "dump", "--dir", str(d), "--source", "drill",
           "--count-rows"], env=ctx.env({"DATABASE_URL": srv.url(db)}),
          what="pg-dump-rotate dump --count-rows")
    dump_file = next((d / "drill").glob("drill_*.pgdump"))

    def drilled(s):
        expect(s.stdout.strip().endswith(b": OK"), f"verify --restore printed {s.stdout[-80:]!r}")

    def restored(_s):
        n = srv.psql("SELECT count(*) FROM t", "drill_peer")
        expect(n.strip() == str(rows), f"pg_restore left {n.strip()} rows, not {rows}")

    sides = [
        Side("pgkit", [ctx.tool("pg-dump-rotate"), "verify", "--restore", str(dump_file)],
             env=ctx.env(), after=drilled),
        peer("pg_restore", lambda: [ctx.peers.system("pg_restore"), "--no-owner",
                                    "-d", srv.url("drill_peer"), str(dump_file)],
             env=ctx.env(), prepare=lambda _i: srv.recreate_db("drill_peer"), after=restored),
    ]
    measure(ctx, sides)
    return rows_from(sides, [
        ("pg_restore", "wall", f"pg-dump-rotate verify --restore, {size} database"
         f" ({rows:,} rows of md5 text; throwaway server, restore, counts)", INFO),
    ])


# ---------------------------------------------------------------------------
# pg-tmp


@comparison("tmp-run", "pg-tmp run -- true", "median < 1.5 s")
def tmp_run(ctx):
    side = Side("pgkit", [ctx.tool("pg-tmp"), "run", "--", "true"], env=ctx.env())
    measure(ctx, [side])
    return rows_from([side], [(None, "wall", "pg-tmp run -- true (initdb, start, stop, delete)",
                               Goal("< 1.5 s", below=1.5))])


@comparison("tmp-db-create", "pg-tmp db create with a warm template", "median < 100 ms")
def tmp_db_create(ctx):
    srv = ctx.server
    d = fresh_dir(WORK / "tmp-db-create")
    for i in range(1, 21):
        (d / f"{i:03d}_t{i}.sql").write_text(f"CREATE TABLE t{i} (id int primary key, v text);\n")

    def url_printed(s):
        expect(s.stdout.startswith(b"postgres"), f"db create printed {s.stdout[:60]!r}")

    side = Side("pgkit", [ctx.tool("pg-tmp"), "db", "create", "--migrations", str(d)],
                env=ctx.env({"DATABASE_URL": srv.url("postgres")}), after=url_printed)
    measure(ctx, [side], warmup=1)  # the warm-up builds the template
    return rows_from([side], [(None, "wall", "pg-tmp db create, template exists (20 migrations)",
                               Goal("< 100 ms", below=0.100))])
