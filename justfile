# Roster developer front door: `just --list`. README's two commands need only cargo.

# Serve on the embedded SQLite default (data/roster.db, features/_features.conf).
run:
    cargo run --release

# Every test; PostgreSQL variants run only when ROSTER_TEST_POSTGRES_URL is set.
test:
    cargo test --workspace

# Every test, including the PostgreSQL variants against the local server.
test-pg url="postgres://postgres@127.0.0.1:5432/test":
    ROSTER_TEST_POSTGRES_URL={{url}} cargo test --workspace

# Server CPU per request, argon2 baselines, memory and overload, SQLite and PostgreSQL (~4 min).
bench *args:
    bash scripts/bench.sh {{args}}

# A short fuzz run of every parser target (nightly + cargo-fuzz: `cargo install cargo-fuzz`).
fuzz seconds="20":
    bash scripts/fuzz.sh {{seconds}}

# Schemathesis against the release binary's /openapi.json with an all-powerful API key
# (installs schemathesis into target/schemathesis-venv on first use; python3 needed).
fuzz-api seconds="120" *args:
    bash scripts/fuzz-api.sh {{seconds}} {{args}}

# Advisories, licences and duplicate versions (`cargo install cargo-deny`).
deny:
    cargo deny check

# Formatting and lints, as CI runs them.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings

# Exactly what CI runs.
ci:
    bash .ci/run

# Mutation testing of the delegation rules: every viable mutant must be caught (`cargo install cargo-mutants`; ~25 min).
mutants:
    cargo mutants -p roster-domain -f crates/domain/src/delegation.rs
