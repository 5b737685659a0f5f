#!/usr/bin/env bash
# `just bench`: build the release binaries, make sure argon2-cffi (the reference argon2
# implementation) is installed in a private virtualenv, then run scripts/bench.py on SQLite and
# PostgreSQL. Arguments go to bench.py (e.g. `--backends sqlite`, `--json target/bench/x.json`).
# PostgreSQL: a server at 127.0.0.1:5432 where user postgres may create databases (--pg-url).
set -euo pipefail
cd "$(dirname "$0")/.."

# Separate builds: together, cargo would unify dependency features and rebuild `roster`.
cargo build --release --quiet -p roster
cargo build --release --quiet -p roster-loadgen

venv=target/bench-venv
if ! "$venv/bin/python" -c 'import argon2' 2>/dev/null; then
    echo "bench: installing argon2-cffi into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet argon2-cffi
fi

exec "$venv/bin/python" scripts/bench.py "$@"
