"""The bench harness core: running and timing commands, statistics, the
throwaway server, the peers, and the result files.

Every comparison (comparisons.py) stands on four things from here:

- `run(argv, ...)` runs one command and returns a `Sample`: wall time
  (perf_counter around spawn and `os.wait4` of exactly that child).
- `measure(ctx, sides)` runs every side once as a warm-up, then
  `ctx.n` rounds of A B C A B C ..., each side's untimed `prepare` before
  its timed run, and fills each side's samples; with `rss=True` as many
  rounds again through GNU time for peak RSS (see `Side.once`).
- `Server`: initdb + pg_ctl into a temporary directory (as the `postgres`
  user when we are root), fsync off like every throwaway server of the
  project; `PgTmpServer` is the same from `pg-tmp start`.
- `Row` and `write_results`: bench/RESULTS.md, bench/results.json,
  bench/results.svg (chart.py) and the README table.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import chart

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
WORK = BENCH / ".work"
PEERS = BENCH / ".peers"
GNU_TIME = "/usr/bin/time"

# Peer versions, pinned so that figures are comparable between runs.
DBMATE_VERSION = "2.36.0"
DOTENVX_VERSION = "2.38.2"
PYTHON_DOTENV_VERSION = "1.2.4"
SQLX_CLI_VERSION = "0.8.6"
DIESEL_CLI_VERSION = "2.3.14"


class Skip(Exception):
    """A comparison (or one side of it) cannot run; the message says why."""


def log(msg: str) -> None:
    print(f"bench: {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------
# Running commands


@dataclass
class Sample:
    wall: float  # seconds
    # Peak RSS, KiB: from GNU time in RSS rounds; from wait4 otherwise, where
    # it includes the Python parent's own peak (see Side.once).
    rss_kb: int
    rc: int
    stdout: bytes = b""
    stderr: bytes = b""


def run(
    argv: list[str],
    env: Optional[dict] = None,
    cwd: Optional[Path] = None,
    stdout_path: Optional[Path] = None,
    timeout: float = 900,
) -> Sample:
    """Runs argv once with stdin from /dev/null; measures wall time and peak
    RSS (os.wait4). stdout goes to stdout_path when given (`cmd > file`),
    else it is kept (up to what a temporary file holds) with stderr."""
    with tempfile.TemporaryFile() as err, tempfile.TemporaryFile() as out:
        sink = open(stdout_path, "wb") if stdout_path else out
        try:
            t0 = time.perf_counter()
            proc = subprocess.Popen(
                argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=sink, stderr=err
            )
            killer = threading.Timer(timeout, proc.kill)
            killer.start()
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - t0
            killer.cancel()
        finally:
            if stdout_path:
                sink.close()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Sample(wall, usage.ru_maxrss, proc.returncode, out.read(), err.read())


def check(argv: list[str], env: Optional[dict] = None, cwd: Optional[Path] = None,
          what: str = "") -> bytes:
    """Runs a setup command (untimed) that must succeed; returns stdout."""
    p = subprocess.run(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                       capture_output=True, check=False)
    if p.returncode != 0:
        raise Skip(f"{what or argv[0]} failed (exit {p.returncode}): {last_line(p.stderr)}")
    return p.stdout


def last_line(text: bytes) -> str:
    """The last non-empty line of a command's stderr, for a skip reason; the
    `error` field when it is one of our JSON log lines."""
    lines = [ln for ln in text.decode(errors="replace").splitlines() if ln.strip()]
    if not lines:
        return "(no output)"
    line = lines[-1]
    try:
        obj = json.loads(line)
        msg = obj.get("message", "")
        if obj.get("error"):
            msg = f"{msg}: {obj['error']}"
        return msg[:200]
    except (ValueError, AttributeError):
        return line[:200]


# ---------------------------------------------------------------------------
# Sides and measurement


@dataclass
class Side:
    """One contestant of a comparison: a command (or a custom sampler)."""

    name: str
    argv: list[str] | Callable[[int], list[str]] = field(default_factory=list)
    env: Optional[dict] = None
    cwd: Optional[Path] = None
    stdout_path: Optional[Path] = None
    prepare: Optional[Callable[[int], None]] = None  # untimed, before each run
    sampler: Optional[Callable[[int], Sample]] = None  # replaces argv
    after: Optional[Callable[[Sample], None]] = None  # untimed, after each run
    samples: list[Sample] = field(default_factory=list)
    failure: Optional[str] = None
    label: str = ""  # the command, for messages
    rss_samples: list[Sample] = field(default_factory=list)
    rss_failure: Optional[str] = None
    capped: bool = False  # a slow peer: SLOW_PEER_SAMPLES samples only

    def once(self, i: int, rss: bool = False) -> Sample:
        if self.prepare:
            self.prepare(i)
        if self.sampler:
            return self.sampler(i)
        argv = self.argv(i) if callable(self.argv) else self.argv
        self.label = " ".join(Path(a).name if n == 0 else a for n, a in enumerate(argv[:2]))
        if not rss:
            return run(argv, env=self.env, cwd=self.cwd, stdout_path=self.stdout_path)
        # A child forked by Python inherits Python's own peak RSS (Linux keeps
        # the high-water mark across exec), so peak RSS is taken by GNU time,
        # a small C parent that forks the command and reads its wait4 rusage.
        with tempfile.NamedTemporaryFile("r") as f:
            s = run([GNU_TIME, "-f", "%M", "-o", f.name, *argv], env=self.env, cwd=self.cwd,
                    stdout_path=self.stdout_path)
            if s.rc == 0:
                s.rss_kb = int(f.read().split()[-1])
        return s


# A peer that takes longer than this per run, and 10× pgkit's time (dotenvx
# on 10,000 lines), is sampled only SLOW_PEER_SAMPLES times: its median is
# still far from pgkit's, and the run stays short.
SLOW_PEER_SECONDS = 5.0
SLOW_PEER_SAMPLES = 3


def measure(ctx, sides: list[Side], warmup: Optional[int] = None, rss: bool = False) -> None:
    """Warm-up, then ctx.n interleaved rounds; fills each side's samples.
    With rss, as many rounds again through GNU time fill rss_samples. The
    first side is pgkit's: when it fails the comparison is skipped; a
    failing peer only loses its own rows."""
    warm = ctx.warmup if warmup is None else warmup
    rounds = [(i, False) for i in range(warm + ctx.n)]
    if rss:
        if not Path(GNU_TIME).is_file():
            for side in sides:
                side.rss_failure = f"{GNU_TIME} is missing (apt-get install time)"
        else:
            rounds += [(warm + ctx.n + i, True) for i in range(ctx.n)]
    mine = 0.0  # pgkit's time in this round
    for k, (i, with_rss) in enumerate(rounds):
        for side in sides:
            if side.failure or (side.capped and side is not sides[0]
                                and len(side.samples) >= SLOW_PEER_SAMPLES and not with_rss):
                continue
            try:
                s = side.once(i, rss=with_rss)
                if s.rc != 0:
                    raise Skip(f"{side.label or side.name} exited {s.rc}: {last_line(s.stderr)}")
                if side.after:
                    side.after(s)
            except Skip as e:
                side.failure = str(e)
            if side.failure:
                if side is sides[0]:
                    raise Skip(side.failure)
                log(f"  {side.name}: {side.failure}")
                continue
            if with_rss:
                side.rss_samples.append(s)
            elif i >= warm:
                side.samples.append(s)
            if side is sides[0]:
                mine = s.wall
            elif s.wall > max(SLOW_PEER_SECONDS, 10 * mine) and not side.capped:
                side.capped = True
                log(f"  {side.name} takes {s.wall:.1f} s a run: {SLOW_PEER_SAMPLES} samples")
        if k >= warm:
            ctx.progress(k + 1 - warm, len(rounds) - warm)


def stats(values: list[float]) -> dict:
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "n": len(values),
    }


# ---------------------------------------------------------------------------
# Results


@dataclass
class Goal:
    """What a row must show. `ratio` is peer median / pgkit median (> 1 means
    pgkit is better: faster, or less memory); `below` bounds pgkit's median."""

    text: str
    ratio: Optional[float] = None
    below: Optional[float] = None

    def met(self, mine: dict, peer: Optional[dict]) -> Optional[bool]:
        if self.ratio is None and self.below is None:
            return None
        ok = True
        if self.ratio is not None:
            if peer is None:
                return None
            ok = ok and peer["median"] / mine["median"] >= self.ratio
        if self.below is not None:
            ok = ok and mine["median"] < self.below
        return ok


INFO = Goal("—")  # a row that is context, not a goal


@dataclass
class Row:
    id: str  # stable key: "<comparison>/<peer or metric>"
    title: str
    metric: str  # "wall" (seconds) or "rss" (KiB)
    goal: Goal
    pgkit: Optional[list[float]] = None
    peer: Optional[list[float]] = None
    peer_name: Optional[str] = None
    status: str = "ok"  # ok | skipped | error
    reason: str = ""

    def to_json(self) -> dict:
        d = {
            "id": self.id, "title": self.title, "metric": self.metric,
            "goal": self.goal.text, "status": self.status, "reason": self.reason,
            "peerName": self.peer_name, "goalRatio": self.goal.ratio,
            "pgkit": self.pgkit, "peer": self.peer,
        }
        if self.status == "ok" and self.pgkit:
            mine = stats(self.pgkit)
            peer = stats(self.peer) if self.peer else None
            d["pgkitStats"] = mine
            d["peerStats"] = peer
            d["ratio"] = peer["median"] / mine["median"] if peer else None
            d["met"] = self.goal.met(mine, peer)
        return d


def rows_from(sides: list[Side], specs: list[tuple]) -> list[Row]:
    """Builds rows from measured sides: specs are (peer side name or None,
    metric, title, goal); side 0 is pgkit's."""
    mine = sides[0]
    by_name = {s.name: s for s in sides}
    rows = []

    def values(side: Side, metric: str) -> list[float]:
        if metric == "rss":
            return [s.rss_kb for s in side.rss_samples]
        return [s.wall for s in side.samples]

    for peer_name, metric, title, goal in specs:
        rid = f"{peer_name or 'pgkit'}/{metric}"
        row = Row(rid, title, metric, goal, peer_name=peer_name, pgkit=values(mine, metric))
        if metric == "rss" and (mine.rss_failure or not row.pgkit):
            row.status, row.reason = "skipped", mine.rss_failure or "no RSS samples"
        elif peer_name:
            peer = by_name.get(peer_name)
            if peer is None or peer.failure or not values(peer, metric):
                row.status = "skipped"
                row.reason = (peer.failure if peer and peer.failure
                              else f"{peer_name} not available")
            else:
                row.peer = values(peer, metric)
        rows.append(row)
    return rows


def fmt_value(v: float, metric: str) -> str:
    if metric == "count":
        return f"{v:g}"
    if metric == "rss":
        return f"{v / 1024:.1f} MB"
    if v < 1:
        return f"{v * 1000:.1f} ms"
    return f"{v:.2f} s"


def fmt_stats(values: Optional[list[float]], metric: str, n: int) -> str:
    if not values:
        return "—"
    s = stats(values)
    if s["n"] == 1:
        return fmt_value(s["median"], metric)
    fewer = f", n={s['n']}" if s["n"] != n else ""
    return (f"{fmt_value(s['median'], metric)} "
            f"({fmt_value(s['min'], metric)}–{fmt_value(s['max'], metric)}{fewer})")


def table(rows: list[dict], detailed: bool = True, n: int = 0) -> str:
    head = "| comparison | pgkit median | peer median | ratio | goal | met? |"
    lines = [head, "|---|---|---|---|---|---|"]
    for r in rows:
        title = r["title"] + (f" vs {r['peerName']}" if r.get("peerName") else "")
        if r["status"] != "ok":
            reason = r["reason"].replace("|", "\\|")
            lines.append(f"| {title} | {r['status']}: {reason} | | | {r['goal']} | — |")
            continue
        m = r["metric"]
        if detailed:
            mine, peer = fmt_stats(r["pgkit"], m, n), fmt_stats(r["peer"], m, n)
        else:
            mine = fmt_value(r["pgkitStats"]["median"], m)
            peer = fmt_value(r["peerStats"]["median"], m) if r.get("peerStats") else "—"
        ratio = r.get("ratio")
        # Near 1 a third digit says which side of the goal the medians fell.
        ratio = "—" if not ratio else f"{ratio:.3f}×" if 0.95 < ratio < 1.05 else f"{ratio:.2f}×"
        met = {True: "yes", False: "**no**", None: "—"}[r.get("met")]
        lines.append(f"| {title} | {mine} | {peer} | {ratio} | {r['goal']} | {met} |")
    return "\n".join(lines) + "\n"


def write_results(out_dir: Path, meta: dict, rows: list[dict]) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(
        json.dumps({"meta": meta, "rows": rows}, indent=1, ensure_ascii=False) + "\n")
    md = [
        "# pgkit benchmark results",
        "",
        "Generated by `bench/run` — do not edit by hand. Method: bench/README.md.",
        "",
        f"- date: {meta['date']}; commit: {meta['commit']}; mode: {meta['mode']}",
        f"- machine: {meta['machine']}",
        f"- samples per side: {meta['n']} after {meta['warmup']} warm-up round(s),"
        " interleaved; figures are median (min–max)",
        "- ratio = peer median / pgkit median: above 1 pgkit is faster (or uses"
        " less memory); absolute times on a shared 2-core machine are noise,"
        " the ratio is the figure",
        "",
        table(rows, n=meta["n"]),
    ]
    (out_dir / "RESULTS.md").write_text("\n".join(md))
    # The picture, checked as it is written (it parses, one bar per row).
    chart.write(out_dir / "results.json", out_dir / "results.svg")


README_BEGIN = "<!-- bench: section begins -->"
README_END = "<!-- bench: section ends -->"


def update_readme(results_json: Path, readme: Path) -> None:
    """Replaces the README's bench section with a table from results.json."""
    data = json.loads(results_json.read_text())
    meta = data["meta"]
    body = (
        "\n`bench/run` measures every tool side by side with what users would\n"
        "pick instead, on the same server in one run (A B A B …, median of\n"
        f"{meta['n']}). Ratio = peer median / pgkit median: above 1 pgkit is\n"
        "faster (or uses less memory). How it is measured and how to add a\n"
        "comparison: [bench/README.md](bench/README.md); every figure with\n"
        f"min–max: [bench/RESULTS.md](bench/RESULTS.md) ({meta['date']},\n"
        f"{meta['machine']}, commit {meta['commit']}).\n\n"
        "![pgkit vs its peers: one bar per comparison, the ratio labelled, the goal"
        " a dashed line](bench/results.svg)\n\n"
        + table(data["rows"], detailed=False) + "\n"
    )
    text = readme.read_text()
    a, b = text.index(README_BEGIN) + len(README_BEGIN), text.index(README_END)
    readme.write_text(text[:a] + "\n" + body + text[b:])


# ---------------------------------------------------------------------------
# The throwaway server


def find_bindir() -> Path:
    if os.environ.get("PG_BINDIR"):
        return Path(os.environ["PG_BINDIR"])
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                   key=lambda p: int(p.parent.parent.name), reverse=True)
    if not found:
        raise SystemExit("bench: no PostgreSQL server binaries (set PG_BINDIR)")
    return found[0].parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_server_user(argv: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run server commands as postgres."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *argv]
    return argv


class Server:
    """A throwaway server: initdb + pg_ctl in a temporary directory, trust
    auth, its own unix socket directory, listening on 127.0.0.1."""

    def __init__(self, bindir: Path, name: str = "main"):
        self.bindir = bindir
        self.base = Path(tempfile.mkdtemp(prefix=f"pgkit-bench-{name}-"))
        self.data = self.base / "data"
        self.sock = self.base / "sock"
        self.logfile = self.base / "server.log"
        self.port = free_port()
        self.sock.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.base, "postgres", "postgres")
            shutil.chown(self.sock, "postgres", "postgres")
            os.chmod(self.base, 0o755)
        check(as_server_user([str(bindir / "initdb"), "-D", str(self.data), "-U", "postgres",
                              "-A", "trust", "--no-sync", "-E", "UTF8", "--locale=C"]),
              what="initdb")
        conf = {
            "port": self.port, "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{self.sock}'",
            "fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",
            "max_connections": 100, "shared_buffers": "128MB",
            "log_min_messages": "warning", "log_line_prefix": "'%m [%p] %u@%d '",
        }
        with open(self.data / "postgresql.conf", "a") as f:
            f.write("\n# pgkit bench\n")
            f.writelines(f"{k} = {v}\n" for k, v in conf.items())

    def pg_ctl(self, *args: str, wait: bool = True) -> None:
        argv = [str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.logfile),
                "-w" if wait else "-W", *args]
        check(as_server_user(argv), what=f"pg_ctl {args[0]}")

    def start(self, wait: bool = True) -> None:
        self.pg_ctl("start", wait=wait)

    def stop(self) -> None:
        self.pg_ctl("stop", "-m", "fast")

    def is_ready(self) -> bool:
        """The postmaster's own status line in postmaster.pid (line 8) reads
        "ready" from the moment it accepts connections (what pg_ctl -w
        polls, at 100 ms granularity; we poll it in a tight loop)."""
        try:
            lines = (self.data / "postmaster.pid").read_text().splitlines()
        except OSError:
            return False
        return len(lines) >= 8 and lines[7].strip() == "ready"

    def destroy(self) -> None:
        try:
            self.stop()
        except Skip:
            pass
        shutil.rmtree(self.base, ignore_errors=True)

    def url(self, db: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{db}?sslmode=disable"

    def socket_env(self, db: str = "postgres") -> dict:
        return {"PGHOST": str(self.sock), "PGPORT": str(self.port),
                "PGUSER": "postgres", "PGDATABASE": db}

    def psql(self, sql: str, db: str = "postgres") -> str:
        out = check([str(self.bindir / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                     "-d", self.url(db), "-c", sql], what="psql")
        return out.decode().strip()

    def alive(self) -> bool:
        try:
            return self.psql("SELECT 1") == "1"
        except Skip:
            return False

    def recreate_db(self, db: str) -> None:
        self.psql(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        self.psql(f'CREATE DATABASE "{db}"')


class PgTmpServer(Server):
    """The benchmark's server from `pg-tmp start`: the same layout as
    `Server` (data/, sock/, server.log under one directory, trust auth), so
    every comparison works on either."""

    def __init__(self, bindir: Path, pg_tmp: str, env: dict):
        self.bindir, self.pg_tmp, self.env = bindir, pg_tmp, env
        p = subprocess.run([pg_tmp, "start", "-c", "shared_buffers=128MB"], env=env,
                           stdin=subprocess.DEVNULL, capture_output=True, check=False)
        if p.returncode != 0:
            raise Skip(f"pg-tmp start exited {p.returncode}: {last_line(p.stderr)}")
        try:
            summary = json.loads(p.stderr.decode().strip().splitlines()[-1])
            self.base, self.port = Path(summary["dir"]), int(summary["port"])
        except (ValueError, KeyError, IndexError) as e:
            raise Skip(f"pg-tmp start: no dir/port in its summary line ({e})") from e
        self.data, self.sock = self.base / "data", self.base / "sock"
        self.logfile = self.base / "server.log"

    def stop(self) -> None:
        check([self.pg_tmp, "stop", "--dir", str(self.base)], env=self.env, what="pg-tmp stop")

    def destroy(self) -> None:
        try:
            self.stop()
        except Skip as e:
            log(f"{e}")


# True: the benchmark's server comes from the pg-tmp being measured, falling
# back to initdb/pg_ctl when that fails; False: always initdb/pg_ctl. The
# environment can choose too: BENCH_SERVER=pg-tmp or BENCH_SERVER=pg_ctl.
USE_PG_TMP = os.environ.get("BENCH_SERVER", "pg-tmp") == "pg-tmp"


def start_server(ctx) -> Server:
    """The server every comparison uses (wait-latency starts its own)."""
    if USE_PG_TMP:
        try:
            return PgTmpServer(ctx.bindir, ctx.tool("pg-tmp"), ctx.env())
        except Skip as e:
            log(f"{e}; starting the server with initdb/pg_ctl instead")
    srv = Server(ctx.bindir, "main")
    srv.start()
    return srv


# ---------------------------------------------------------------------------
# Peers: installed into bench/.peers (idempotent, cached)


class Peers:
    def __init__(self, bindir: Path, allow_slow: bool):
        self.bindir = bindir
        self.allow_slow = allow_slow
        self.missing: dict[str, str] = {}

    def _npm(self) -> None:
        want = {"dbmate": DBMATE_VERSION, "@dotenvx/dotenvx": DOTENVX_VERSION}
        installed = all(
            (PEERS / "node_modules" / name / "package.json").is_file()
            and json.loads((PEERS / "node_modules" / name / "package.json").read_text())
            .get("version") == v
            for name, v in want.items())
        if installed:
            return
        if not shutil.which("npm"):
            raise Skip("npm is not installed")
        log("installing dbmate and dotenvx from npm")
        check(["npm", "install", "--prefix", str(PEERS), "--no-audit", "--no-fund",
               *(f"{n}@{v}" for n, v in want.items())], what="npm install")

    def dbmate(self) -> str:
        """dbmate's own Go binary (the npm package's `bin` is a node wrapper
        around it, which would add node's start-up to every run)."""
        return self._get("dbmate", lambda: (
            self._npm(),
            str(PEERS / "node_modules/@dbmate/linux-x64/bin/dbmate"))[1])

    def dotenvx(self) -> str:
        return self._get("dotenvx", lambda: (
            self._npm(), str(PEERS / "node_modules/.bin/dotenvx"))[1])

    def python_dotenv(self) -> str:
        def install() -> str:
            venv = PEERS / "venv"
            exe = venv / "bin" / "dotenv"
            if exe.is_file():
                return str(exe)
            log("installing python-dotenv[cli] into a venv")
            check([sys.executable, "-m", "venv", str(venv)], what="python3 -m venv")
            check([str(venv / "bin/pip"), "install", "-q",
                   f"python-dotenv[cli]=={PYTHON_DOTENV_VERSION}"], what="pip install")
            return str(exe)
        return self._get("python-dotenv", install)

    def sqlx(self) -> str:
        def install() -> str:
            exe = PEERS / "bin" / "sqlx"
            if exe.is_file():
                return str(exe)
            if not self.allow_slow:
                raise Skip("sqlx-cli not installed (compiling it takes minutes: "
                           "the full run installs it)")
            log("compiling sqlx-cli (slow; nice 19, one job)")
            check(["nice", "-n", "19", "cargo", "install", "--locked", "--root", str(PEERS),
                   "--no-default-features", "--features", "postgres",
                   "sqlx-cli", "--version", SQLX_CLI_VERSION],
                  env={**os.environ, "CARGO_BUILD_JOBS": "1"}, what="cargo install sqlx-cli")
            return str(exe)
        return self._get("sqlx", install)

    def diesel(self) -> str:
        def install() -> str:
            exe = PEERS / "diesel" / "bin" / "diesel"
            if exe.is_file():
                return str(exe)
            if not self.allow_slow:
                raise Skip("diesel_cli not installed (compiling it takes minutes: "
                           "the full run installs it)")
            log("compiling diesel_cli (slow; nice 19, one job)")
            check(["nice", "-n", "19", "cargo", "install", "--locked", "--root", str(PEERS / "diesel"),
                   "--no-default-features", "--features", "postgres",
                   "diesel_cli", "--version", DIESEL_CLI_VERSION],
                  env={**os.environ, "CARGO_BUILD_JOBS": "1"}, what="cargo install diesel_cli")
            return str(exe)
        return self._get("diesel", install)

    def system(self, prog: str) -> str:
        """pg_isready, psql, pgbench, pg_dump: the C binaries next to the
        server (Debian's /usr/bin ones are perl wrappers)."""
        exe = self.bindir / prog
        if not exe.is_file():
            raise Skip(f"{prog} not found in {self.bindir}")
        return str(exe)

    def _get(self, name: str, install: Callable[[], str]) -> str:
        if name in self.missing:
            raise Skip(self.missing[name])
        try:
            exe = install()
            if not Path(exe).is_file():
                raise Skip(f"{name}: {exe} missing after install")
            return exe
        except Skip as e:
            self.missing[name] = str(e)
            raise
