#!/usr/bin/env bash
# `just soak`: build the release binaries, make sure matplotlib (for the plot) is installed in a
# private virtualenv, then run scripts/soak.py: 10 minutes of mixed traffic on SQLite and on
# PostgreSQL, sampled every 10 s. Arguments go to soak.py (e.g. `--backends sqlite --minutes 3`).
# PostgreSQL: a server at 127.0.0.1:5432 where user postgres may create databases (--pg-url).
set -euo pipefail
cd "$(dirname "$0")/.."

# Separate builds: together, cargo would unify dependency features and rebuild `roster`.
cargo build --release --quiet -p roster
cargo build --release --quiet -p roster-loadgen

venv=target/soak-venv
if ! "$venv/bin/python" -c 'import matplotlib' 2>/dev/null; then
    echo "soak: installing matplotlib into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet matplotlib
fi

exec "$venv/bin/python" scripts/soak.py "$@"
