#!/usr/bin/env bash
# The test suite: everything `go test` finds, including the in-process
# chain tests and the end-to-end test that runs the README quick start
# against real binaries, and the browser test in headless Chromium (which
# this script installs from Debian when it is missing).
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/install-chromium.sh || { echo "cannot install chromium for the browser tests"; exit 1; }
start=$(date +%s)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# The relay's end-to-end tests run a dozen call engines, a relay and a
# chain on the machine's cores and check what arrives in time: they run
# alone, after the rest, not beside the browser tests' Chromiums.
alone=github.com/parleynet/parley/e2e/relay
go test -count=1 -timeout 25m $(go list ./... | grep -vx "$alone") 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
go test -count=1 -timeout 20m "$alone" 2>&1 | tee -a "$log"
[ "${PIPESTATUS[0]}" = 0 ] || status=1
passed=$(grep -c '^ok' "$log")
failed=$(grep -cE '^FAIL\s+\S+\s' "$log")
echo "test packages: $passed passed, $failed failed in $(( $(date +%s) - start )) s"
exit "$status"
