#!/usr/bin/env python3
"""Medians over several `just bench --json FILE` runs, as Markdown tables for docs/performance.md.

    for i in 1 2 3; do just bench --json target/bench/run$i.json; done
    python3 scripts/bench_summary.py target/bench/run*.json
"""

import json
import statistics
import sys

ROWS = [  # (label, key, field, unit)
    ("`GET /healthz` (4 connections)", "healthz", "cpu_us", "us"),
    ("`GET /v1/account/me`, 1 grant", "me", "cpu_us", "us"),
    ("`POST /v1/authz/check`, 200 grants", "check_200", "cpu_us", "us"),
    ("`POST /v1/auth/login` (1 connection)", "login", "cpu_us", "ms"),
    ("argon2-cffi `PasswordHasher.verify`", "cffi", "cpu_ms", "ms*"),
    ("argon2 crate alone, reused blocks", "crate", "reused_ms", "ms*"),
    ("argon2 crate alone, allocating per hash", "crate", "alloc_ms", "ms*"),
    ("`GET /healthz`, 1 / 64 connections", ("healthz_c1", "healthz_c64"), "cpu_us", "us"),
    ("`GET /v1/account/me`, 1 / 64 connections", ("me_c1", "me_c64"), "cpu_us", "us"),
    ("`POST /v1/auth/login`, 2 connections", "login_c2", "cpu_us", "ms"),
    ("`GET /v1/account/me`, 200 grants", "me_200", "cpu_us", "us"),
    ("`POST /v1/authz/check`, 1 grant", "check_1", "cpu_us", "us"),
    ("`POST /v1/authz/check`, 20 grants", "check_20", "cpu_us", "us"),
    ("`POST /v1/authz/check`, 2000 grants", "check_2000", "cpu_us", "us"),
    ("`GET /healthz`, +100,000 accounts", "healthz_bulk", "cpu_us", "us"),
    ("`GET /v1/account/me`, +100,000 accounts", "me_bulk", "cpu_us", "us"),
    ("`POST /v1/authz/check` 200, +100,000 accounts", "check_200_bulk", "cpu_us", "us"),
]
SCALARS = [  # (label, function of one backend's results)
    ("login / argon2-cffi verify", lambda r: f"{r['login_ratio']:.2f}"),
    ("login / argon2 crate alone", lambda r: f"{r['login_crate_ratio']:.2f}"),
    ("me / healthz", lambda r: f"{r['me_ratio']:.2f}"),
    ("check (200 grants) / healthz", lambda r: f"{r['check_ratio']:.2f}"),
    ("minor faults per login", lambda r: f"{r['login']['minflt']:.1f}"),
    ("minor faults per login, mmap threshold pinned", lambda r: f"{r['fault_control']['server_minflt']:.1f}"),
    ("VmHWM after start-up (MiB)", lambda r: f"{r['vmhwm_start_kib'] / 1024:.1f}"),
    ("VmHWM after 64 concurrent registrations (MiB)", lambda r: f"{r['vmhwm_kib'] / 1024:.1f}"),
    ("VmHWM at the end of the run (MiB)", lambda r: f"{r['vmhwm_end_kib'] / 1024:.1f}"),
    ("registrations answered 503 first (retried)", lambda r: f"{r['registrations_retried']}"),
    ("overload: 503 answers", lambda r: f"{r['overload']['flood']['statuses'].get('503', 0)}"),
    ("overload: slowest 503 (ms)", lambda r: f"{r['overload']['flood']['latency_ms']['503']['max']:.0f}"),
    ("overload: logins served, p50 (ms)", lambda r: f"{r['overload']['flood']['latency_ms']['200']['p50']:.0f}"),
    ("overload: `GET /me` p50 / p99 (ms)",
     lambda r: f"{r['overload']['probe']['all_latency_ms']['p50']:.1f} / {r['overload']['probe']['all_latency_ms']['p99']:.0f}"),
]


def median_text(texts):
    """Median of numbers given as text; 'a / b' pairs are taken apart."""
    parts = [t.split(" / ") for t in texts]
    out = []
    for i in range(len(parts[0])):
        values = sorted(float(p[i]) for p in parts)
        m = statistics.median(values)
        decimals = len(parts[0][i].split(".")[1]) if "." in parts[0][i] else 0
        out.append(f"{m:.{decimals}f}")
    return " / ".join(out)


def fmt(value, unit):
    if unit == "us":
        return f"{value:.0f} µs" if value < 1000 else f"{value / 1000:.2f} ms"
    return f"{value / 1000:.2f} ms" if unit == "ms" else f"{value:.2f} ms"


def main(paths):
    runs = [json.load(open(p)) for p in paths]
    backends = [r["backend"] for r in runs[0]]
    by_backend = {b: [next(x for x in run if x["backend"] == b) for run in runs] for b in backends}
    print(f"Medians of {len(runs)} runs.\n")
    print("| server CPU per request | " + " | ".join(backends) + " |")
    print("|---|" + "---:|" * len(backends))
    for label, key, field, unit in ROWS:
        cells = []
        for b in backends:
            keys = key if isinstance(key, tuple) else (key,)
            cells.append(" / ".join(fmt(statistics.median(r[k][field] for r in by_backend[b]), unit) for k in keys))
        print(f"| {label} | " + " | ".join(cells) + " |")
    print("\n| figure | " + " | ".join(backends) + " |")
    print("|---|" + "---:|" * len(backends))
    for label, get in SCALARS:
        print(f"| {label} | " + " | ".join(median_text([get(r) for r in by_backend[b]]) for b in backends) + " |")


if __name__ == "__main__":
    main(sys.argv[1:] or sys.exit(__doc__))
