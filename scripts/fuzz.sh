#!/usr/bin/env bash
# Runs every fuzz target for a short while (default 20 s each), starting from the committed
# seed corpus in fuzz/corpus/<target>. Needs the nightly toolchain and cargo-fuzz.
# A crash stops the run and leaves the input in fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${1:-20}"
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "fuzz: needs cargo-fuzz and a nightly toolchain: cargo install cargo-fuzz" >&2
    exit 1
fi
for target in $(cargo +nightly fuzz list); do
    echo "fuzz: $target for ${seconds}s"
    # Work on a copy of the seeds, so new corpus entries do not clutter the repository.
    work=$(mktemp -d)
    cp -r "corpus/$target/." "$work/"
    cargo +nightly fuzz run "$target" "$work" -- -max_total_time="$seconds" -max_len=4096
    rm -rf "$work"
done
echo "fuzz: every target ran ${seconds}s without a crash"
