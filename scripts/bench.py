#!/usr/bin/env python3
"""Server cost per request, argon2 baselines, memory and overload: `just bench`.

Starts the release binary once per backend (SQLite in a temporary directory, PostgreSQL in a
fresh database), with rate limiting off and login throttling out of the way, drives it with
`roster-loadgen http` and reads the server's CPU time (utime + stime), minor page faults and
VmHWM from /proc/<pid>. Every figure is the median of --runs measurements. The argon2id
baselines (argon2-cffi, the reference C implementation, and the Rust crate alone through
`roster-loadgen argon2`) are measured in the same run, with the server idle.

Needs: target/release/roster and target/release/roster-loadgen (built by scripts/bench.sh),
argon2-cffi, and for PostgreSQL `psql` reaching the server as a user that may create databases.
The method and the recorded figures are in docs/performance.md.
"""

import argparse
import json
import os
import resource
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOG_LEVEL = None  # the server's `log.level` when --log-level is given, else its default (info)
SERVER = ROOT / "target/release/roster"
LOADGEN = ROOT / "target/release/roster-loadgen"
TICKS = os.sysconf("SC_CLK_TCK")
PASSWORD = "correct horse battery staple orbit"
ROOT_EMAIL = "root@bench.example"
ROOT_PASSWORD = "another long and unusual passphrase"
ARGON2 = {"memory_kib": 19456, "iterations": 2, "parallelism": 1}  # the server's defaults
ARGON2_PAGES = ARGON2["memory_kib"] // 4  # pages of one hash's block buffer (4 KiB pages)
GRANT_COUNTS = (1, 20, 200, 2000)
ROLE = "bench-reader"
CHECK = {"action": "doc-read", "scope": "acme.t1.eu"}  # allowed through the grant on acme.t1
# A chain of common words in l33t spelling, 128 characters (issue 12, finding 1): zxcvbn on the
# whole of it took about a second of CPU, on an HTTP worker. Accepted as strong before and after.
CRAFTED = ("p@$$w0rd|0v3(00k!3{0ff33[h@r|!3<@|!3n+!99er7!6er5h@d0wdr@90nm0nk3y%b0%"
           "2!pp3r8@5k3+4ng3|p@$$w0rd|0v3(00k!3{0ff33[h@r|!3<@|!3n+!99")
CRAFTED_CONNECTIONS = 20


# --- /proc ------------------------------------------------------------------------------------

def proc_stat(pid):
    """(CPU seconds = utime + stime, minor faults) of the whole process, all threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # After the command name: state is field 3, minflt 10, utime 14, stime 15 (1-based).
    return (int(fields[11]) + int(fields[12])) / TICKS, int(fields[7])


def proc_status_kib(pid, key):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


# --- the server -------------------------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, backend, workdir, pg_base, extra_env=None):
        self.backend = backend
        self.workdir = workdir
        self.port = free_port()
        self.addr = f"127.0.0.1:{self.port}"
        self.pg_base = pg_base
        self.pg_db = None
        if backend == "postgres":
            self.pg_db = f"roster_bench_{os.getpid()}_{int(time.time())}"
            psql(pg_base, f"CREATE DATABASE {self.pg_db}")
            self.db_url = f"{pg_base}/{self.pg_db}"
        else:
            self.db_url = f"sqlite://{workdir}/roster.db"
        env = dict(
            os.environ,
            ROSTER__SERVER__BIND=self.addr,
            ROSTER__DATABASE__URL=self.db_url,
            ROSTER__FEATURES__FILE=f"{workdir}/_features.conf",  # absent: all defaults
            ROSTER__RATE_LIMIT__ENABLED="false",
            ROSTER__LOGIN_THROTTLE__FREE_FAILURES="1000000",
            ROSTER__BOOTSTRAP__SUPERADMIN_EMAIL=ROOT_EMAIL,
            ROSTER__BOOTSTRAP__SUPERADMIN_PASSWORD=ROOT_PASSWORD,
        )
        if LOG_LEVEL:
            env["ROSTER__LOG__LEVEL"] = LOG_LEVEL
        env.update(extra_env or {})
        env.pop("RUST_LOG", None)
        self.log = open(f"{workdir}/server.log", "wb")
        self.proc = subprocess.Popen([str(SERVER)], env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.pid = self.proc.pid
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"server exited at start-up; see {workdir}/server.log")
            try:
                if self.api("GET", "/healthz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise SystemExit("server did not answer /healthz within 60 s")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=35)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        if self.pg_db:
            psql(self.pg_base, f"DROP DATABASE IF EXISTS {self.pg_db} WITH (FORCE)")

    def api(self, method, path, body=None, token=None):
        """One request through urllib (set-up only): (status, decoded JSON or None)."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"http://{self.addr}{path}", data=data, method=method)
        if data is not None:
            request.add_header("content-type", "application/json")
        if token:
            request.add_header("authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        return status, (json.loads(raw) if raw else None)

    def must(self, expected, method, path, body=None, token=None):
        status, answer = self.api(method, path, body, token)
        if status != expected:
            raise SystemExit(f"{method} {path}: expected {expected}, got {status}: {answer}")
        return answer

    def load(self, path, *, method="GET", body=None, token=None, cookie=None, connections=4,
             requests=None, duration=None, start=1, retry_overloaded=False):
        """Runs roster-loadgen http against this server and returns its JSON report."""
        command = [str(LOADGEN), "http", "--addr", self.addr, "--method", method,
                   "--path", path, "--connections", str(connections), "--start", str(start)]
        if body is not None:
            command += ["--body", json.dumps(body)]
        if token:
            command += ["--header", f"authorization: Bearer {token}"]
        if cookie:
            command += ["--header", f"cookie: {cookie}"]
        command += ["--requests", str(requests)] if requests else ["--duration", str(duration)]
        if retry_overloaded:
            command.append("--retry-overloaded")
        return json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)

    def measure(self, expected, path, **load):
        """Server CPU and minor faults per request over one loadgen run."""
        cpu0, faults0 = proc_stat(self.pid)
        report = self.load(path, **load)
        cpu1, faults1 = proc_stat(self.pid)
        n = report["requests"]
        if report["errors"] or report["statuses"] != {str(expected): n} or n == 0:
            raise SystemExit(f"{path}: expected only {expected}, got {report}")
        return {
            "cpu_us": (cpu1 - cpu0) * 1e6 / n,
            "minflt": (faults1 - faults0) / n,
            "rps": n / report["seconds"],
            "p50_ms": report["all_latency_ms"]["p50"],
            "requests": n,
        }


def psql(base_url, sql):
    subprocess.run(["psql", f"{base_url}/postgres", "-v", "ON_ERROR_STOP=1", "-q", "-c", sql],
                   check=True, capture_output=True)


def interleaved(runs, measurements):
    """Runs every measurement (name -> function) once per round, `runs` rounds, so that the
    figures a ratio compares come from the same moments of a noisy machine. Returns
    name -> list of samples."""
    samples = {name: [] for name in measurements}
    for _ in range(runs):
        for name, measure in measurements.items():
            samples[name].append(measure())
    return samples


def medians(samples):
    """The median of every field over a list of samples."""
    return {key: statistics.median(s[key] for s in samples) for key in samples[0]}


def median_ratio(numerators, denominators, num_key, den_key, scale=1.0):
    """Median over rounds of numerator / denominator, each round with its own pair."""
    return statistics.median(n[num_key] * scale / d[den_key] for n, d in zip(numerators, denominators))


# --- argon2 baselines -------------------------------------------------------------------------

def cffi_verify(count):
    """argon2-cffi (the reference C code): CPU ms and minor faults per PasswordHasher.verify."""
    import argon2  # only here: scripts/soak.py imports this module without argon2-cffi

    hasher = argon2.PasswordHasher(time_cost=ARGON2["iterations"], memory_cost=ARGON2["memory_kib"],
                                   parallelism=ARGON2["parallelism"])
    stored = hasher.hash(PASSWORD)
    hasher.verify(stored, PASSWORD)  # warm-up
    cpu, faults = time.process_time(), resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(count):
        hasher.verify(stored, PASSWORD)
    return {"cpu_ms": (time.process_time() - cpu) * 1e3 / count,
            "minflt": (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults) / count}


def crate_hash(count):
    """The argon2 crate alone (roster-loadgen argon2): reused blocks and allocating per hash."""
    out = subprocess.run([str(LOADGEN), "argon2", "--count", str(count),
                          "--memory-kib", str(ARGON2["memory_kib"]),
                          "--iterations", str(ARGON2["iterations"]),
                          "--parallelism", str(ARGON2["parallelism"])],
                         check=True, capture_output=True, text=True).stdout
    report = json.loads(out)
    return {"reused_ms": report["reused_blocks"]["cpu_ms"],
            "reused_minflt": report["reused_blocks"]["minflt"],
            "alloc_ms": report["allocating"]["cpu_ms"],
            "alloc_minflt": report["allocating"]["minflt"]}


def fault_control(logins):
    """Minor faults per login with glibc's dynamic mmap threshold pinned to its default
    (MALLOC_MMAP_THRESHOLD_=131072): every allocation of a hash's 19 MiB then comes fresh from
    the kernel and faults each page in, so malloc cannot hide a buffer allocated per hash. The
    server (SQLite) and, as the control, the argon2 crate allocating per hash."""
    pinned = {"MALLOC_MMAP_THRESHOLD_": "131072"}
    with tempfile.TemporaryDirectory(prefix="roster-bench-faults-") as workdir:
        server = Server("sqlite", workdir, None, pinned)
        try:
            server.must(201, "POST", "/v1/account/register", {"email": "f@bench.example", "password": PASSWORD})
            login = {"email": "f@bench.example", "password": PASSWORD}
            server_faults = server.measure(200, "/v1/auth/login", method="POST", body=login,
                                           connections=2, requests=logins)["minflt"]
        finally:
            server.stop()
    out = subprocess.run([str(LOADGEN), "argon2", "--count", "10"], env=dict(os.environ, **pinned),
                         check=True, capture_output=True, text=True).stdout
    return {"server_minflt": server_faults, "crate_alloc_minflt": json.loads(out)["allocating"]["minflt"]}


# --- the workload -----------------------------------------------------------------------------

def set_up(server, grant_counts=GRANT_COUNTS):
    """A role, and one account per entry of `grant_counts` holding that many grants of it, on
    scopes acme.t1, acme.t2, ... Returns a session token per grant count."""
    root = server.must(200, "POST", "/v1/auth/login", {"email": ROOT_EMAIL, "password": ROOT_PASSWORD})["token"]
    server.must(201, "POST", "/v1/admin/roles", {
        "name": ROLE, "permissions": [{"action": "doc-read"}, {"action": "doc-write"}]}, root)
    tokens = {}
    for grants in grant_counts:
        email = f"g{grants}@bench.example"
        account = server.must(201, "POST", "/v1/account/register",
                              {"email": email, "password": PASSWORD, "name": f"Holder of {grants}"})
        report = server.load(f"/v1/admin/accounts/{account['id']}/grants", method="POST", token=root,
                             body={"role": ROLE, "scope": "acme.t{n}"}, requests=grants)
        if report["statuses"] != {"201": grants}:
            raise SystemExit(f"granting {grants}: {report}")
        tokens[grants] = server.must(200, "POST", "/v1/auth/login", {"email": email, "password": PASSWORD})["token"]
    return tokens


def add_bulk_accounts(server, count):
    """`count` more accounts, each with a live session and one grant, written straight into the
    database (registering them over HTTP would cost `count` argon2 hashes)."""
    if server.backend == "postgres":
        subprocess.run(["psql", server.db_url, "-v", "ON_ERROR_STOP=1", "-q", "-c", f"""
            INSERT INTO accounts
              SELECT gen_random_uuid()::text, 'bulk' || n || '@bulk.example', 'bulk' || n || '@bulk.example',
                     NULL, (SELECT password_hash FROM accounts LIMIT 1), 'active', false,
                     now() AT TIME ZONE 'utc', now() AT TIME ZONE 'utc'
              FROM generate_series(1, {count}) AS n;
            INSERT INTO sessions
              SELECT gen_random_uuid()::text, id, md5(random()::text) || md5(id),
                     now() AT TIME ZONE 'utc', now() AT TIME ZONE 'utc',
                     now() AT TIME ZONE 'utc' + interval '1 day', NULL
              FROM accounts WHERE email LIKE 'bulk%';
            INSERT INTO account_grants
              SELECT gen_random_uuid()::text, id, '{ROLE}', 'acme.t1', now() AT TIME ZONE 'utc', NULL
              FROM accounts WHERE email LIKE 'bulk%';
            ANALYZE;"""], check=True, capture_output=True)
        return
    db = sqlite3.connect(f"{server.workdir}/roster.db", timeout=30)
    with db:
        hash_, created = db.execute("SELECT password_hash, created_at FROM accounts LIMIT 1").fetchone()
        expires = db.execute("SELECT expires_at FROM sessions LIMIT 1").fetchone()[0]
        rows = [(str(uuid.uuid4()), f"bulk{n}@bulk.example") for n in range(count)]
        db.executemany("INSERT INTO accounts (id, email, email_canonical, name, password_hash, status, "
                       "is_superadmin, created_at, updated_at) VALUES (?, ?, ?, NULL, ?, 'active', 0, ?, ?)",
                       ((i, e, e, hash_, created, created) for i, e in rows))
        db.executemany("INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?, NULL)",
                       ((str(uuid.uuid4()), i, os.urandom(32).hex(), created, created, expires) for i, _ in rows))
        db.executemany("INSERT INTO account_grants VALUES (?, ?, ?, 'acme.t1', ?, NULL)",
                       ((str(uuid.uuid4()), i, ROLE, created) for i, _ in rows))
    db.execute("ANALYZE")
    db.close()


def overload(server, token, seconds):
    """Logins from 96 connections (beyond workers + queue capacity) while one client keeps
    calling GET /v1/account/me; the 503s and the prober's latencies."""
    login = [str(LOADGEN), "http", "--addr", server.addr, "--method", "POST", "--path", "/v1/auth/login",
             "--connections", "96", "--duration", str(seconds),
             "--body", json.dumps({"email": "g1@bench.example", "password": PASSWORD})]
    flood = subprocess.Popen(login, stdout=subprocess.PIPE, text=True)
    time.sleep(0.5)  # let the queue fill first
    probe = server.load("/v1/account/me", token=token, connections=1, duration=seconds - 1)
    flood_report = json.loads(flood.communicate()[0])
    return flood_report, probe


def crafted_passwords(server, token, seconds):
    """20 connections registering with CRAFTED and 20 changing a password to CRAFTED (from
    CRAFTED, so that every change succeeds and the next can follow), all at once, while one
    client keeps calling GET /healthz and another GET /v1/account/me (as `token`). Returns the
    loadgen reports of the four."""
    email = "crafted@bench.example"
    server.must(201, "POST", "/v1/account/register", {"email": email, "password": PASSWORD})
    changer = server.must(200, "POST", "/v1/auth/login", {"email": email, "password": PASSWORD})["token"]
    server.must(204, "PUT", "/v1/account/me/password",
                {"current_password": PASSWORD, "new_password": CRAFTED}, changer)

    def flood(path, method, body, token=None):
        command = [str(LOADGEN), "http", "--addr", server.addr, "--method", method, "--path", path,
                   "--connections", str(CRAFTED_CONNECTIONS), "--duration", str(seconds),
                   "--body", json.dumps(body)]
        if token:
            command += ["--header", f"authorization: Bearer {token}"]
        return subprocess.Popen(command, stdout=subprocess.PIPE, text=True)

    def probe(path, token=None):
        command = [str(LOADGEN), "http", "--addr", server.addr, "--path", path,
                   "--connections", "1", "--duration", str(seconds - 1)]
        if token:
            command += ["--header", f"authorization: Bearer {token}"]
        return subprocess.Popen(command, stdout=subprocess.PIPE, text=True)

    floods = {
        "register": flood("/v1/account/register", "POST",
                          {"email": "crafted{n}@bench.example", "password": CRAFTED}),
        "change": flood("/v1/account/me/password", "PUT",
                        {"current_password": CRAFTED, "new_password": CRAFTED}, changer),
    }
    time.sleep(0.5)  # let the floods build up first
    probes = {"healthz": probe("/healthz"), "me": probe("/v1/account/me", token)}
    return {name: json.loads(p.communicate()[0]) for name, p in {**floods, **probes}.items()}


def console_accounts(server, runs, duration):
    """The console's accounts page against the JSON list it shows, both 50 accounts a page, as
    the super admin (the page through its session cookie, the list through the same token as
    a bearer). Needs at least 50 accounts. Returns the samples and the median ratio."""
    root = server.must(200, "POST", "/v1/auth/login", {"email": ROOT_EMAIL, "password": ROOT_PASSWORD})["token"]
    listed = server.must(200, "GET", "/v1/admin/accounts?limit=50", token=root)
    if len(listed["items"]) != 50:
        raise SystemExit(f"the console benchmark needs 50 accounts, found {len(listed['items'])}")
    samples = interleaved(runs, {
        "accounts_json": lambda: server.measure(200, "/v1/admin/accounts?limit=50", duration=duration, token=root),
        "accounts_page": lambda: server.measure(200, "/console/admin/accounts?limit=50", duration=duration,
                                                cookie=f"roster_session={root}"),
    })
    return samples, median_ratio(samples["accounts_page"], samples["accounts_json"], "cpu_us", "cpu_us")


def introspection(server, tokens, runs, duration):
    """Issue 17: the server CPU of `POST /v1/auth/introspect` (a service's API key asking about
    a session) against `GET /v1/account/me` (the session itself), for sessions holding 1 and
    200 grants. Both read the session and its grants; introspection also reads the API key's
    and each role's rules. Returns the samples and the median ratio at 1 grant."""
    root = server.must(200, "POST", "/v1/auth/login", {"email": ROOT_EMAIL, "password": ROOT_PASSWORD})["token"]
    server.must(201, "POST", "/v1/admin/roles",
                {"name": "bench-introspector", "permissions": [{"action": "token-introspect"}]}, root)
    key = server.must(201, "POST", "/v1/admin/api-keys", {
        "name": "bench service", "grants": [{"role": "bench-introspector", "scope": "*"}]}, root)["key"]

    def ask(grants):
        return lambda: server.measure(200, "/v1/auth/introspect", method="POST", duration=duration,
                                      body={"token": tokens[grants]}, token=key)

    def me(grants):
        return lambda: server.measure(200, "/v1/account/me", duration=duration, token=tokens[grants])

    samples = interleaved(runs, {"me_1": me(1), "introspect_1": ask(1),
                                 "me_200i": me(200), "introspect_200": ask(200)})
    return samples, median_ratio(samples["introspect_1"], samples["me_1"], "cpu_us", "cpu_us")


def introspection_targets(r):
    ask, me = r["introspect_1"]["cpu_us"], r["me_1"]["cpu_us"]
    ask200, me200 = r["introspect_200"]["cpu_us"], r["me_200i"]["cpu_us"]
    return [("introspect / GET /me (1 grant)", f"{ask:.0f} / {me:.0f} us: {r['introspection_ratio']:.2f} "
             f"(200 grants: {ask200:.0f} / {me200:.0f} us)", "<= 1.0", r["introspection_ratio"] <= 1.0)]


def print_introspection(r):
    print(f"\n== {r['backend']}: introspection ==")
    return print_targets(introspection_targets(r))


def bench_introspection_only(backend, args):
    """Only the introspection scenario (`--only-introspection`)."""
    results = {"backend": backend}
    with tempfile.TemporaryDirectory(prefix=f"roster-bench-{backend}-") as workdir:
        server = Server(backend, workdir, args.pg_url)
        try:
            tokens = set_up(server, (1, 200))
            print(f"[{backend}] introspection vs GET /v1/account/me ({args.runs} rounds)", flush=True)
            samples, results["introspection_ratio"] = introspection(server, tokens, args.runs, args.duration)
            results.update({name: medians(values) for name, values in samples.items()})
        finally:
            server.stop()
    return results


def console_targets(r):
    page, listed = r["accounts_page"]["cpu_us"], r["accounts_json"]["cpu_us"]
    return [("console accounts page / JSON list (50)", f"{page:.0f} / {listed:.0f} us: {r['console_ratio']:.2f}",
             "<= 3", r["console_ratio"] <= 3)]


def print_targets(rows):
    """One PASS/FAIL line per (name, measured, limit, holds); whether all hold."""
    ok = True
    for name, measured, limit, holds in rows:
        ok &= holds
        print(f"{'PASS' if holds else 'FAIL':<6}{name:<40}{measured:<52}{limit}")
    return ok


def print_console(r):
    print(f"\n== {r['backend']}: console ==")
    return print_targets(console_targets(r))


def bench_console_only(backend, args):
    """Only the console scenario (`--only-console`): 60 accounts, then the two lists."""
    results = {"backend": backend}
    with tempfile.TemporaryDirectory(prefix=f"roster-bench-{backend}-") as workdir:
        server = Server(backend, workdir, args.pg_url)
        try:
            report = server.load("/v1/account/register", method="POST", connections=4, requests=60,
                                 body={"email": "reg{n}@bench.example", "password": PASSWORD, "name": "Bench {n}"},
                                 retry_overloaded=True)
            if report["statuses"] != {"201": 60}:
                raise SystemExit(f"registrations: {report}")
            print(f"[{backend}] console accounts page vs JSON list ({args.runs} rounds)", flush=True)
            samples, results["console_ratio"] = console_accounts(server, args.runs, args.duration)
            results.update({name: medians(values) for name, values in samples.items()})
        finally:
            server.stop()
    return results


def bench_crafted_only(backend, args):
    """Only the crafted-password scenario (`--only-crafted`), with the least set-up."""
    results = {"backend": backend}
    with tempfile.TemporaryDirectory(prefix=f"roster-bench-{backend}-") as workdir:
        server = Server(backend, workdir, args.pg_url)
        try:
            server.must(201, "POST", "/v1/account/register", {"email": "g1@bench.example", "password": PASSWORD})
            token = server.must(200, "POST", "/v1/auth/login",
                                {"email": "g1@bench.example", "password": PASSWORD})["token"]
            print(f"[{backend}] crafted passwords ({args.crafted_seconds} s)", flush=True)
            results["crafted"] = crafted_passwords(server, token, args.crafted_seconds)
        finally:
            server.stop()
    return results


def bench_backend(backend, args):
    results = {"backend": backend}
    with tempfile.TemporaryDirectory(prefix=f"roster-bench-{backend}-") as workdir:
        server = Server(backend, workdir, args.pg_url)
        try:
            results["vmhwm_start_kib"] = proc_status_kib(server.pid, "VmHWM")
            print(f"[{backend}] setting up accounts with {', '.join(map(str, GRANT_COUNTS))} grants", flush=True)
            tokens = set_up(server)
            print(f"[{backend}] 64 concurrent registrations", flush=True)
            results["rss_before_kib"] = proc_status_kib(server.pid, "VmHWM")
            report = server.load("/v1/account/register", method="POST", connections=64, requests=64,
                                 body={"email": "reg{n}@bench.example", "password": PASSWORD},
                                 retry_overloaded=True)
            results["registrations"] = report["statuses"]
            results["registrations_retried"] = report["retried"]
            results["registration_errors"] = report["errors"]
            results["vmhwm_kib"] = proc_status_kib(server.pid, "VmHWM")

            d, runs = args.duration, args.runs
            me, check = "/v1/account/me", "/v1/authz/check"

            def cost(path, **load):
                return lambda: server.measure(200, path, duration=d, **load)

            def keep(samples):
                results.update({name: medians(values) for name, values in samples.items()})
                return samples

            print(f"[{backend}] per-request cost ({runs} rounds, {d} s per figure)", flush=True)
            paired = keep(interleaved(runs, {
                "healthz": cost("/healthz"),
                "me": cost(me, token=tokens[1]),
                "check_200": cost(check, method="POST", body=CHECK, token=tokens[200]),
            }))
            results["me_ratio"] = median_ratio(paired["me"], paired["healthz"], "cpu_us", "cpu_us")
            results["check_ratio"] = median_ratio(paired["check_200"], paired["healthz"], "cpu_us", "cpu_us")
            keep(interleaved(runs, {
                **{f"check_{g}": cost(check, method="POST", body=CHECK, token=tokens[g]) for g in (1, 20, 2000)},
                "me_200": cost(me, token=tokens[200]),
                **{f"healthz_c{c}": cost("/healthz", connections=c) for c in (1, 64)},
                **{f"me_c{c}": cost(me, token=tokens[1], connections=c) for c in (1, 64)},
            }))

            print(f"[{backend}] logins and argon2 baselines ({runs} rounds)", flush=True)
            body = {"email": "g1@bench.example", "password": PASSWORD}

            def logins(connections):
                return lambda: server.measure(200, "/v1/auth/login", method="POST", body=body,
                                              connections=connections, requests=args.logins)

            paired = keep(interleaved(runs, {
                "login": logins(1),  # one hash at a time, like the baselines
                "cffi": lambda: cffi_verify(args.hashes),
                "crate": lambda: crate_hash(args.hashes),
                "login_c2": logins(2),
            }))
            results["login_ratio"] = median_ratio(paired["login"], paired["cffi"], "cpu_us", "cpu_ms", 1e-3)
            results["login_crate_ratio"] = median_ratio(paired["login"], paired["crate"], "cpu_us", "reused_ms", 1e-3)

            print(f"[{backend}] overload ({args.overload_seconds} s)", flush=True)
            flood, probe = overload(server, tokens[1], args.overload_seconds)
            results["overload"] = {"flood": flood, "probe": probe}

            print(f"[{backend}] crafted passwords ({args.crafted_seconds} s)", flush=True)
            results["crafted"] = crafted_passwords(server, tokens[1], args.crafted_seconds)

            print(f"[{backend}] console accounts page vs JSON list ({runs} rounds)", flush=True)
            samples, results["console_ratio"] = console_accounts(server, runs, d)
            keep(samples)

            print(f"[{backend}] introspection vs GET /v1/account/me ({runs} rounds)", flush=True)
            samples, results["introspection_ratio"] = introspection(server, tokens, runs, d)
            keep(samples)

            print(f"[{backend}] {args.bulk_accounts} more accounts, sessions and grants", flush=True)
            add_bulk_accounts(server, args.bulk_accounts)
            keep(interleaved(runs, {
                "healthz_bulk": cost("/healthz"),
                "me_bulk": cost(me, token=tokens[1]),
                "check_200_bulk": cost(check, method="POST", body=CHECK, token=tokens[200]),
            }))
            results["vmhwm_end_kib"] = proc_status_kib(server.pid, "VmHWM")
        finally:
            server.stop()
    return results


# --- the report -------------------------------------------------------------------------------

def crafted_targets(r):
    """The targets of issue 12, finding 1: probes p99 <= 100 ms, every crafted request
    answered (no connection error) within 2 s."""
    c = r["crafted"]
    rows = []
    for name, label in (("healthz", "GET /healthz"), ("me", "GET /v1/account/me")):
        x = c[name]
        ok = x["errors"] == 0 and set(x["statuses"]) == {"200"}
        rows.append((f"crafted: {label} meanwhile",
                     f"p50 {x['all_latency_ms']['p50']:.1f}, p99 {x['all_latency_ms']['p99']:.1f}, "
                     f"max {x['all_latency_ms']['max']:.0f} ms, {fmt_statuses(x['statuses'])}",
                     "p99 <= 100 ms, all 200", ok and x["all_latency_ms"]["p99"] <= 100))
    for name, label in (("register", "registrations"), ("change", "password changes")):
        x = c[name]
        slowest = x["all_latency_ms"]["max"] if x["requests"] else float("inf")
        rows.append((f"crafted: {label}, slowest",
                     f"{fmt_statuses(x['statuses'])}, {x['errors']} errors, max {slowest:.0f} ms",
                     "<= 2000 ms, no errors", x["errors"] == 0 and slowest <= 2000))
    return rows


def print_crafted(r):
    c = r["crafted"]
    print(f"\n== {r['backend']}: {CRAFTED_CONNECTIONS} + {CRAFTED_CONNECTIONS} connections of crafted "
          f"passwords (registration + password change) ==")
    for name in ("register", "change", "healthz", "me"):
        x = c[name]
        lat = x["all_latency_ms"]
        print(f"{name:<10}{fmt_statuses(x['statuses']):<40} errors {x['errors']:<4} "
              f"p50 {lat['p50']:.1f}, p99 {lat['p99']:.1f}, max {lat['max']:.0f} ms")
    return print_targets(crafted_targets(r))


def targets(r):
    """(name, measured, limit, holds) for every target of the issue."""
    healthz = r["healthz"]["cpu_us"]
    flood, probe = r["overload"]["flood"], r["overload"]["probe"]
    n503 = flood["statuses"].get("503", 0)
    with_retry = flood["retry_after"].get("503", 0)
    max503 = flood["latency_ms"].get("503", {}).get("max", float("inf"))
    probe_ok = probe["errors"] == 0 and set(probe["statuses"]) == {"200"}
    probe_p99 = probe["all_latency_ms"]["p99"]
    login_ms = r["login"]["cpu_us"] / 1000
    fc = r["fault_control"]
    return [
        ("login CPU / argon2-cffi verify", f"{login_ms:.2f} / {r['cffi']['cpu_ms']:.2f} ms: {r['login_ratio']:.2f}",
         "<= 1.0", r["login_ratio"] <= 1.0),
        ("minor faults per login", f"{r['login']['minflt']:.1f}; malloc pinned {fc['server_minflt']:.1f} "
         f"(alloc/hash: {fc['crate_alloc_minflt']:.0f})", f"<= {ARGON2_PAGES // 100} (1 % of {ARGON2_PAGES})",
         max(r["login"]["minflt"], fc["server_minflt"]) <= ARGON2_PAGES // 100),
        ("GET /v1/account/me / GET /healthz", f"{r['me']['cpu_us']:.0f} / {healthz:.0f} us: {r['me_ratio']:.2f}",
         "<= 3", r["me_ratio"] <= 3),
        ("authz check, 200 grants / healthz", f"{r['check_200']['cpu_us']:.0f} / {healthz:.0f} us: {r['check_ratio']:.2f}",
         "<= 4", r["check_ratio"] <= 4),
        ("VmHWM after 64 registrations", f"{r['vmhwm_kib'] / 1024:.1f} MiB ({fmt_statuses(r['registrations'])}, "
         f"{r['registrations_retried']} retried)",
         "<= 128 MiB", r["vmhwm_kib"] <= 128 * 1024 and r["registrations"] == {"201": 64}),
        ("overload: 503 + Retry-After, slowest", f"{n503} x 503, {with_retry} with Retry-After, max {max503:.0f} ms",
         "<= 2000 ms", n503 > 0 and with_retry == n503 and max503 <= 2000),
        ("overload: GET /me meanwhile", f"p50 {probe['all_latency_ms']['p50']:.1f}, p99 {probe_p99:.1f}, "
         f"max {probe['all_latency_ms']['max']:.0f} ms, {probe['requests']} ok",
         "p99 <= 250 ms, all 200", probe_ok and probe_p99 <= 250),
    ]


def fmt_statuses(statuses):
    return ", ".join(f"{n} x {s}" for s, n in sorted(statuses.items()))


def print_report(r):
    b = r["backend"]
    print(f"\n== {b}: server CPU per request (medians) ==")
    print(f"{'request':<44}{'CPU/req':>12}{'minflt/req':>12}{'req/s':>10}{'p50 ms':>9}")
    rows = [
        ("GET /healthz (4 conns)", "healthz"), ("GET /healthz (1 conn)", "healthz_c1"),
        ("GET /healthz (64 conns)", "healthz_c64"),
        ("GET /v1/account/me, 1 grant (4 conns)", "me"), ("GET /v1/account/me (1 conn)", "me_c1"),
        ("GET /v1/account/me (64 conns)", "me_c64"), ("GET /v1/account/me, 200 grants", "me_200"),
        ("POST /v1/authz/check, 1 grant", "check_1"), ("POST /v1/authz/check, 20 grants", "check_20"),
        ("POST /v1/authz/check, 200 grants", "check_200"), ("POST /v1/authz/check, 2000 grants", "check_2000"),
        ("GET /healthz, +bulk accounts", "healthz_bulk"),
        ("GET /v1/account/me, +bulk accounts", "me_bulk"),
        ("POST /v1/authz/check 200, +bulk accounts", "check_200_bulk"),
        ("POST /v1/auth/login (1 conn)", "login"),
        ("POST /v1/auth/login (2 conns)", "login_c2"),
    ]
    for label, key in rows:
        x = r[key]
        cpu = f"{x['cpu_us'] / 1000:.2f} ms" if x["cpu_us"] >= 1000 else f"{x['cpu_us']:.1f} us"
        print(f"{label:<44}{cpu:>12}{x['minflt']:>12.1f}{x['rps']:>10.0f}{x['p50_ms']:>9.2f}")
    c = r["crate"]
    print(f"{'argon2-cffi verify (reference C)':<44}{r['cffi']['cpu_ms']:>9.2f} ms{r['cffi']['minflt']:>12.1f}")
    print(f"{'argon2 crate, reused blocks (as the server)':<44}{c['reused_ms']:>9.2f} ms{c['reused_minflt']:>12.1f}")
    print(f"{'argon2 crate, allocating per hash':<44}{c['alloc_ms']:>9.2f} ms{c['alloc_minflt']:>12.1f}")
    print(f"login CPU / argon2 crate alone: {r['login_crate_ratio']:.2f} (median of per-round ratios)")
    flood = r["overload"]["flood"]
    print(f"overload logins: {fmt_statuses(flood['statuses'])}; latency ms by status: "
          + "; ".join(f"{s}: p50 {v['p50']:.0f}, max {v['max']:.0f}" for s, v in flood["latency_ms"].items()))
    print(f"VmHWM: {r['vmhwm_start_kib'] / 1024:.1f} MiB after start-up, "
          f"{r['rss_before_kib'] / 1024:.1f} MiB before the registrations, "
          f"{r['vmhwm_kib'] / 1024:.1f} MiB after, {r['vmhwm_end_kib'] / 1024:.1f} MiB at the end")
    print(f"\n== {b}: targets ==")
    return print_targets(targets(r) + crafted_targets(r) + console_targets(r) + introspection_targets(r))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432",
                        help="server URL without database; a fresh database is created and dropped")
    parser.add_argument("--runs", type=int, default=3, help="measurements per figure (median)")
    parser.add_argument("--duration", type=float, default=1.5, help="seconds per measurement")
    parser.add_argument("--logins", type=int, default=100, help="logins per measurement")
    parser.add_argument("--hashes", type=int, default=30, help="argon2 hashes per baseline measurement")
    parser.add_argument("--bulk-accounts", type=int, default=100_000)
    parser.add_argument("--overload-seconds", type=float, default=4)
    parser.add_argument("--crafted-seconds", type=float, default=6,
                        help="seconds of crafted-password floods")
    parser.add_argument("--only-crafted", action="store_true",
                        help="run only the crafted-password scenario (issue 12)")
    parser.add_argument("--only-console", action="store_true",
                        help="run only the console scenario (issue 14)")
    parser.add_argument("--only-introspection", action="store_true",
                        help="run only the introspection scenario (issue 17)")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument("--bin-dir", type=Path, default=ROOT / "target/release",
                        help="where roster and roster-loadgen are (to bench a saved build)")
    parser.add_argument("--log-level", help="the server's log.level, e.g. "
                        "info,roster_http::request_context=debug (every request line logged)")
    args = parser.parse_args()
    global SERVER, LOADGEN, LOG_LEVEL
    SERVER, LOADGEN = args.bin_dir / "roster", args.bin_dir / "roster-loadgen"
    LOG_LEVEL = args.log_level
    for binary in (SERVER, LOADGEN):
        if not binary.exists():
            raise SystemExit(f"{binary} is missing: run scripts/bench.sh (cargo build --release)")
    print(f"machine: {os.cpu_count()} CPUs; argon2id m={ARGON2['memory_kib']} KiB, "
          f"t={ARGON2['iterations']}, p={ARGON2['parallelism']}; {args.runs} runs per figure", flush=True)
    if args.only_crafted or args.only_console or args.only_introspection:
        if args.only_introspection:
            all_results = [bench_introspection_only(b, args) for b in args.backends.split(",")]
            ok = all([print_introspection(r) for r in all_results])
        elif args.only_crafted:
            all_results = [bench_crafted_only(b, args) for b in args.backends.split(",")]
            ok = all([print_crafted(r) for r in all_results])
        else:
            all_results = [bench_console_only(b, args) for b in args.backends.split(",")]
            ok = all([print_console(r) for r in all_results])
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(all_results, indent=1))
        print(f"\n{'all targets hold' if ok else 'SOME TARGETS FAILED'}")
        sys.exit(0 if ok else 1)
    all_results = [bench_backend(b, args) for b in args.backends.split(",")]
    print("[faults] logins with malloc's mmap threshold pinned", flush=True)
    faults = fault_control(args.logins)
    for r in all_results:
        r["fault_control"] = faults
    ok = all([print_report(r) for r in all_results])
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(all_results, indent=1))
    print(f"\n{'all targets hold' if ok else 'SOME TARGETS FAILED'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
