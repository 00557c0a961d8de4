#!/usr/bin/env bash
# Runs the end-to-end tests against the real app binary ($1). Each test file starts its own
# tauri-driver (tests/e2e/harness.mjs). Expects a display (xvfb-run) and a D-Bus session with
# an unlocked keyring (scripts/with-keyring.sh).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
export RETRACT_APP="$1"
export RETRACT_SCREENSHOTS="${RETRACT_SCREENSHOTS:-$(cd "$here/../.." && pwd)/target/screenshots}"
mkdir -p "$RETRACT_SCREENSHOTS"
cd "$here"
node --test --test-concurrency=1 --test-reporter=spec ./*.test.mjs
