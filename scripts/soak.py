#!/usr/bin/env python3
"""A long run of mixed traffic against the release binary, per database: `just soak`.

For --minutes (10) per backend, windows of 10 s each run five closed-loop `roster-loadgen`
clients at once: logins (1 connection), `GET /v1/account/me` (2), `POST /v1/authz/check` (1),
self-registrations (1) and an administrator creating API keys (1). Halfway through each window,
under load, it reads the server's resident memory (VmRSS), open descriptors and threads from /proc, the
pool's connections from /metrics and the database's size; at the end, each client's p50/p99
latency over the window.

Goals (issue 18): RSS and descriptors flat (the last minute's mean within 10 % of the second
minute's), no 5xx at all, p99 steady. Writes target/soak/soak.json and the plot
docs/img/soak.png (matplotlib). Exits non-zero when a goal is missed.

Reuses scripts/bench.py's server and set-up; needs the same binaries (scripts/soak.sh builds
them) and, for PostgreSQL, `psql` reaching a server where user postgres may create databases.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402  (the server and the set-up of `just bench`)

WINDOW_SECONDS = 10
KINDS = ("login", "me", "check", "register", "admin")


def window_clients(server, token, root, window):
    """The five clients of one window, as roster-loadgen command lines."""
    def client(kind, path, connections, *, method="GET", body=None, bearer=None):
        command = [str(bench.LOADGEN), "http", "--addr", server.addr, "--method", method,
                   "--path", path, "--connections", str(connections),
                   "--duration", str(WINDOW_SECONDS), "--start", str(window * 1_000_000)]
        if body is not None:
            command += ["--body", json.dumps(body)]
        if bearer:
            command += ["--header", f"authorization: Bearer {bearer}"]
        return kind, command

    return [
        client("login", "/v1/auth/login", 1, method="POST",
               body={"email": "g1@bench.example", "password": bench.PASSWORD}),
        client("me", "/v1/account/me", 2, bearer=token),
        client("check", "/v1/authz/check", 1, method="POST", body=bench.CHECK, bearer=token),
        client("register", "/v1/account/register", 1, method="POST",
               body={"email": "soak{n}@soak.example", "password": bench.PASSWORD}),
        client("admin", "/v1/admin/api-keys", 1, method="POST",
               body={"name": "soak key {n}"}, bearer=root),
    ]


def pool(server):
    """(open, idle) connections of the database pool, from /metrics."""
    with urllib.request.urlopen(f"http://{server.addr}/metrics", timeout=10) as response:
        text = response.read().decode()
    gauges = {}
    for line in text.splitlines():
        for state in ("open", "idle"):
            if line.startswith(f'roster_db_pool_connections{{state="{state}"}}'):
                gauges[state] = int(float(line.split()[-1]))
    return gauges["open"], gauges["idle"]


def database_mib(server):
    """The database's size on disk: the SQLite file and its write-ahead log, or PostgreSQL's
    pg_database_size."""
    if server.backend == "postgres":
        out = subprocess.run(["psql", server.db_url, "-tAc", "SELECT pg_database_size(current_database())"],
                             check=True, capture_output=True, text=True).stdout
        return int(out) / 2**20
    files = (Path(server.workdir) / name for name in ("roster.db", "roster.db-wal"))
    return sum(f.stat().st_size for f in files if f.exists()) / 2**20


def sample_process(server, started):
    """The server's state now (taken under load)."""
    open_, idle = pool(server)
    return {
        "t": round(time.monotonic() - started, 1),
        "rss_mib": bench.proc_status_kib(server.pid, "VmRSS") / 1024,
        "fds": len(os.listdir(f"/proc/{server.pid}/fd")),
        "threads": bench.proc_status_kib(server.pid, "Threads"),
        "pool_open": open_,
        "pool_in_use": open_ - idle,
        "database_mib": database_mib(server),
    }


def add_reports(row, reports):
    """Each client's outcome over the window."""
    for kind, report in reports.items():
        latency = report["all_latency_ms"] or {}
        row[kind] = {
            "requests": report["requests"],
            "statuses": report["statuses"],
            "errors": report["errors"],
            "p50_ms": latency.get("p50"),
            "p99_ms": latency.get("p99"),
        }


def soak(backend, args):
    workdir = tempfile.mkdtemp(prefix=f"roster-soak-{backend}-")
    extra_env = dict(pair.split("=", 1) for pair in args.server_env)
    server = bench.Server(backend, workdir, args.pg_url, extra_env)
    try:
        token = bench.set_up(server, grant_counts=(1,))[1]
        root = server.must(200, "POST", "/v1/auth/login",
                           {"email": bench.ROOT_EMAIL, "password": bench.ROOT_PASSWORD})["token"]
        rows = []
        started = time.monotonic()
        for window in range(args.minutes * 60 // WINDOW_SECONDS):
            running = [(kind, subprocess.Popen(command, stdout=subprocess.PIPE, text=True))
                       for kind, command in window_clients(server, token, root, window)]
            time.sleep(WINDOW_SECONDS / 2)
            row = sample_process(server, started)
            reports = {}
            for kind, process in running:
                out, _ = process.communicate()
                if process.returncode != 0:
                    raise SystemExit(f"roster-loadgen ({kind}) failed")
                reports[kind] = json.loads(out)
            add_reports(row, reports)
            rows.append(row)
            print(f"[{backend}] {row['t']:6.0f} s  rss {row['rss_mib']:6.1f} MiB  fds {row['fds']:4d}  "
                  f"db {row['database_mib']:6.1f} MiB  "
                  f"pool {row['pool_in_use']}/{row['pool_open']}  "
                  + "  ".join(f"{k} p99 {row[k]['p99_ms']} ms" for k in KINDS), flush=True)
        return {"backend": backend, "minutes": args.minutes, "rows": rows}
    finally:
        server.stop()
        # The database and the request log reach hundreds of MiB in ten minutes.
        shutil.rmtree(workdir, ignore_errors=True)


def verdict(result):
    """The goals, checked: (summary lines, all held)."""
    rows = result["rows"]
    per_minute = 60 // WINDOW_SECONDS
    second, last = rows[per_minute:2 * per_minute], rows[-per_minute:]
    lines, ok = [], True

    def mean(rows_, key):
        return statistics.mean(r[key] for r in rows_)

    for key, label in (("rss_mib", "RSS MiB"), ("fds", "descriptors")):
        a, b = mean(second, key), mean(last, key)
        held = b <= a * 1.10
        ok &= held
        lines.append(f"{label}: second minute {a:.1f}, last minute {b:.1f} ({(b / a - 1) * 100:+.1f} %)"
                     f" {'ok' if held else 'GREW'}")
    lines.append(f"threads (not a goal: the blocking pool grows and shrinks): second minute "
                 f"{mean(second, 'threads'):.1f}, last minute {mean(last, 'threads'):.1f}, "
                 f"at most {max(r['threads'] for r in rows)}")
    server_errors = {k: sum(n for r in rows for s, n in r[k]["statuses"].items() if s.startswith("5"))
                     for k in KINDS}
    transport = {k: sum(r[k]["errors"] for r in rows) for k in KINDS}
    held = not any(server_errors.values()) and not any(transport.values())
    ok &= held
    lines.append(f"5xx: {server_errors}; transport errors: {transport} {'ok' if held else 'FAILED'}")
    for kind in KINDS:
        a = statistics.median(r[kind]["p99_ms"] for r in second)
        b = statistics.median(r[kind]["p99_ms"] for r in last)
        total = sum(r[kind]["requests"] for r in rows)
        lines.append(f"{kind}: {total} requests; p99 second minute {a:.1f} ms, last minute {b:.1f} ms")
    pool_max = max(r["pool_in_use"] for r in rows)
    lines.append(f"pool connections in use at the samples: at most {pool_max}; database "
                 f"{rows[0]['database_mib']:.0f} MiB at the first sample, {rows[-1]['database_mib']:.0f} MiB at the last")
    return lines, ok


def plot(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [("rss_mib", "RSS (MiB)"), ("fds", "open descriptors"),
              ("pool", "pool connections"), ("p99", "p99 latency (ms)")]
    fig, axes = plt.subplots(len(panels), len(results), figsize=(6 * len(results), 10),
                             sharex=True, squeeze=False)
    for column, result in enumerate(results):
        minutes = [r["t"] / 60 for r in result["rows"]]
        for row, (key, label) in enumerate(panels):
            ax = axes[row][column]
            if key == "pool":
                ax.plot(minutes, [r["pool_open"] for r in result["rows"]], label="open")
                ax.plot(minutes, [r["pool_in_use"] for r in result["rows"]], label="in use")
                ax.legend(fontsize="small")
            elif key == "p99":
                for kind in KINDS:
                    ax.plot(minutes, [r[kind]["p99_ms"] for r in result["rows"]], label=kind)
                ax.set_yscale("log")
                ax.legend(fontsize="small", ncol=3)
            else:
                values = [r[key] for r in result["rows"]]
                ax.plot(minutes, values)
                ax.set_ylim(0, max(values) * 1.2)
            ax.set_ylabel(label)
            ax.grid(alpha=0.3)
        axes[0][column].set_title(f"{result['backend']}: {result['minutes']} min of mixed traffic")
        axes[-1][column].set_xlabel("minutes")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432",
                        help="server URL without a database name")
    parser.add_argument("--server-env", action="append", default=[], metavar="NAME=VALUE",
                        help="an extra environment variable for the server (repeatable)")
    parser.add_argument("--json", type=Path, default=bench.ROOT / "target/soak/soak.json")
    parser.add_argument("--plot", type=Path, default=bench.ROOT / "docs/img/soak.png")
    args = parser.parse_args()
    if args.minutes < 3:
        raise SystemExit("--minutes must be at least 3 (the second and the last minute are compared)")
    print(f"machine: {os.cpu_count()} CPUs; {args.minutes} min per backend", flush=True)
    results = [soak(backend, args) for backend in args.backends.split(",")]
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=1))
    plot(results, args.plot)
    ok = True
    for result in results:
        lines, held = verdict(result)
        ok &= held
        print(f"\n{result['backend']}:\n  " + "\n  ".join(lines))
    print(f"\nraw figures: {args.json}\nplot: {args.plot}")
    print("all goals hold" if ok else "SOME GOALS MISSED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
