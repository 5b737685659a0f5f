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

# The browser tests alone (headless Chromium through chromedriver; axe-core from npm).
test-browser:
    bash scripts/install-test-tools.sh
    cargo test -p roster --test browser

# Screenshots of the console's pages into docs/console/img, taken by the browser tests
# (apt-get install chromium chromium-driver; axe-core is installed into target/test-tools),
# then made about three times smaller with pngquant when it is installed.
screenshots:
    bash scripts/install-test-tools.sh
    ROSTER_SCREENSHOTS=docs/console/img cargo test -p roster --test browser
    if command -v pngquant >/dev/null; then pngquant --quality=80-95 --speed 3 --ext .png --force docs/console/img/*.png; else echo "pngquant not installed: the PNGs stay full size"; fi

# roster-client's cached middleware decision (criterion, ~20 s), then server CPU per request
# (introspection against GET /v1/account/me too), argon2 baselines, memory and overload, SQLite
# and PostgreSQL (~5 min).
bench *args:
    cargo bench -p roster-client --bench cached_decision
    bash scripts/bench.sh {{args}}

# Ten minutes of mixed traffic per database against the release binary, sampling RSS, open
# descriptors, the pool and p99 every 10 s; figures to target/soak, plot to docs/img/soak.png
# (~21 min; e.g. `just soak --backends sqlite --minutes 3` for a quick look).
soak *args:
    bash scripts/soak.sh {{args}}

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

# Mutation testing (`cargo install --locked cargo-mutants`): the delegation rules, then the use cases.
mutants: mutants-domain mutants-app

# Every viable mutant of the delegation rules must be caught by the domain's tests (~25 min).
mutants-domain *args:
    cargo mutants -p roster-domain -f crates/domain/src/delegation.rs -o target/mutants/domain {{args}}

# The use cases against the app crate's mock-port tests alone; at least 80 % of viable mutants
# caught (figure in docs/security.md, "How we test"; ~30 min). The tests themselves (tests.rs
# next to each use case, test_support.rs) are excluded: mutating them proves nothing. One job:
# the machine's two cores are shared.
mutants-app *args:
    cargo mutants -p roster-app -f 'crates/app/src/usecases/**/*.rs' -e '**/tests.rs' -e '**/test_support.rs' --test-tool cargo --jobs 1 --timeout 120 -o target/mutants/app {{args}}
