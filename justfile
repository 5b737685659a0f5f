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

# Formatting and lints, as CI runs them.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings

# Exactly what CI runs.
ci:
    bash .ci/run
