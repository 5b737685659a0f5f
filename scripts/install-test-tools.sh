#!/usr/bin/env bash
# Installs the npm tools that only the tests use into target/test-tools (never shipped, never
# committed): axe-core, the accessibility checker the browser tests inject into every console
# page (crates/server/tests/browser/axe.rs). Idempotent: a second run with the same version
# installed does nothing. The browser tests find it at
# target/test-tools/node_modules/axe-core/axe.min.js (or at $ROSTER_AXE_JS).
#
# Usage: scripts/install-test-tools.sh        (needs node and npm)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
prefix="$root/target/test-tools"
# axe-core 4.x: MPL-2.0, used only inside the test browser, never linked or shipped.
axe_version="4"

if [[ -f "$prefix/node_modules/axe-core/axe.min.js" ]]; then
    installed="$(node -p "require('$prefix/node_modules/axe-core/package.json').version")"
    if [[ "$installed" == "$axe_version".* ]]; then
        echo "test tools: axe-core $installed already in $prefix"
        exit 0
    fi
fi

if ! command -v npm >/dev/null 2>&1; then
    echo "test tools: npm is not installed (apt-get install nodejs npm)" >&2
    exit 1
fi
mkdir -p "$prefix"
echo "test tools: npm install axe-core@$axe_version into $prefix"
npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error "axe-core@$axe_version"
echo "test tools: axe-core $(node -p "require('$prefix/node_modules/axe-core/package.json').version") installed"
