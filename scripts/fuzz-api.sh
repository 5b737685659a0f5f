#!/usr/bin/env bash
# Fuzz the HTTP API from its own OpenAPI document with Schemathesis (`just fuzz-api`).
#
# Builds the release binary, starts it on a throw-away SQLite data dir with a bootstrap super
# admin, creates through the API a role allowing `all` and an API key holding it on `*`, and
# runs `st run --checks all` against /openapi.json with that key for SECONDS (default 120),
# but for the two stateful checks schemathesis.toml explains (`--checks all` overrides the
# file's `enabled = false`, so they are excluded here too).
# Schemathesis is installed into target/schemathesis-venv on first use (PyPI, needs python3).
#
# The per-IP rate limit on login and registration is switched off for the run: with it on,
# the fuzzer's own burst turns most valid registrations into 429s. Argon2 runs at a lower
# cost for the same reason (hashing is not what is under test here).
#
# Usage: scripts/fuzz-api.sh [SECONDS] [extra `st run` arguments...]
set -euo pipefail

seconds="${1:-120}"
shift || true
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

venv="target/schemathesis-venv"
if [[ ! -x "$venv/bin/st" ]]; then
    echo "installing schemathesis into $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet schemathesis
fi

cargo build --release --locked -p roster

work="$(mktemp -d)"
server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
admin_email="fuzz-admin@example.com"
admin_password="fuzzing the whole api with a long unusual passphrase 7"
printf 'enabledFeatures = [\n    account-registration\n]\n' > "$work/features.conf"

ROSTER__SERVER__BIND="127.0.0.1:$port" \
ROSTER__DATABASE__URL="sqlite://$work/roster.db" \
ROSTER__FEATURES__FILE="$work/features.conf" \
ROSTER__BOOTSTRAP__SUPERADMIN_EMAIL="$admin_email" \
ROSTER__BOOTSTRAP__SUPERADMIN_PASSWORD="$admin_password" \
ROSTER__RATE_LIMIT__ENABLED=false \
ROSTER__ARGON2__MEMORY_KIB=4096 \
ROSTER__ARGON2__ITERATIONS=1 \
ROSTER__ARGON2__MAX_QUEUE_WAIT=5s \
ROSTER__LOG__LEVEL=warn \
    target/release/roster > "$work/server.log" 2>&1 &
server_pid=$!

for _ in $(seq 1 100); do
    if curl -fsS "$base/readyz" > /dev/null 2>&1; then break; fi
    sleep 0.1
done
curl -fsS "$base/readyz" > /dev/null || { cat "$work/server.log" >&2; exit 1; }

json() { python3 -c "import json, sys; print(json.load(sys.stdin)$1)"; }

token="$(curl -fsS "$base/v1/auth/login" -H 'Content-Type: application/json' \
    -d "{\"email\": \"$admin_email\", \"password\": \"$admin_password\"}" | json "['token']")"
curl -fsS "$base/v1/admin/roles" -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' \
    -d '{"name": "fuzz-everything", "permissions": [{"action": "all"}]}' > /dev/null
key="$(curl -fsS "$base/v1/admin/api-keys" -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' \
    -d '{"name": "fuzz", "grants": [{"role": "fuzz-everything", "scope": "*"}]}' | json "['key']")"

status=0
"$venv/bin/st" run "$base/openapi.json" \
    --header "Authorization: Bearer $key" \
    --checks all \
    --exclude-checks use_after_free,ensure_resource_availability \
    --max-time "$seconds" \
    --report junit --report-dir "target/fuzz-api" \
    "$@" || status=$?

if grep -q "panicked" "$work/server.log"; then
    echo "the server panicked:" >&2
    grep -A5 "panicked" "$work/server.log" >&2
    status=1
fi
exit "$status"
