#!/usr/bin/env bash
# make demo: a single-validator chain in a temporary home, and a call
# between alice, bob and carol with a removal and a rekey (parley demo).
# Prints the summary and a verdict; exits non-zero when a check fails.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d "${TMPDIR:-/tmp}/parley-demo.XXXXXX")
export LOCALNET_HOME="$tmp/chain" LOCALNET_PORT_BASE=${LOCALNET_PORT_BASE:-$((30000 + RANDOM % 20000))} CHAIN_ID=parley-demo
cleanup() { scripts/localnet.sh stop >/dev/null 2>&1 || true; rm -rf "$tmp"; }
trap cleanup EXIT
echo "== starting a single-validator chain in $tmp"
scripts/localnet.sh start | sed 's/^/   /'
eval "$(scripts/localnet.sh env)"
# The demo's own validator: trust its newest header (elsewhere, compare the
# printed hash out of band).
build/parley --home "$tmp/client" trust init --yes | sed 's/^/   /'
echo "== the call"
build/parley --home "$tmp/client" demo --media client/call/testdata "$@"
