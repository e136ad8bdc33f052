#!/usr/bin/env bash
# make bench: builds, runs every benchmark once (micro-benchmarks of the
# crypto and the keeper; chain throughput, join and rekey latency, a
# 50-meeting load, a 200-member meeting's control plane and an hour's
# memory soak against real parleyd processes on loopback), and prints the
# table of figures, each beside its reference from the same run.
# Raw output: build/bench/raw.txt; the table: build/bench/table.md.
set -uo pipefail
cd "$(dirname "$0")/.."
out=build/bench
mkdir -p "$out"
raw=$out/raw.txt
: >"$raw"
start=$(date +%s)
failed=0

step() {
  local what=$1
  shift
  echo "== $what ($(( $(date +%s) - start )) s)"
  "$@" 2>&1 | tee -a "$raw" | grep -E '^(Benchmark|FAIL|--- FAIL|panic|soak:)|^\s+\S+\.go:[0-9]+: (throughput|latency|load|soak|controlplane|relay30)' || true
  if [ "${PIPESTATUS[0]}" -ne 0 ]; then
    echo "   FAILED: $what (see $raw)"
    failed=1
  fi
}

step "build" make build
step "key wrap (client/keyschedule)" go test -run '^$' -bench 'SealAll|BareHPKESeal1000Parallel' -benchtime 10x ./client/keyschedule/
step "SFrame (client/sframe)" go test -run '^$' -bench . -benchtime 200000x ./client/sframe/
step "mailbox delivery (node/mailbox)" go test -run '^$' -bench MailboxDelivery -benchtime 200x ./node/mailbox/
step "meeting messages through the keeper (x/meeting/simtest)" go test -run '^$' -bench . -benchtime 20x ./x/meeting/simtest/
step "ephemeral key rotation, 200-member meeting: cost, tx size, load (x/meeting/keeper)" go test -run '^$' -bench RotateEphKey200 -benchtime 2000x ./x/meeting/keeper/
step "call CPU (client/call)" go test -run '^$' -bench MeshCPU -benchtime 1x ./client/call/
step "call set-up, direct and relayed; relay CPU against bare pion/turn (bench)" go test -tags bench -run '^$' -bench 'CallSetup|RelayCPU' -benchtime 1x -timeout 20m -v ./bench/
step "proven reads (client/verify)" go test -run '^$' -bench ProvenRead -benchtime 2000x ./client/verify/
step "light-client catch-up over 10,000 and 100,000 blocks (client/verify)" go test -run '^$' -bench LightCatchUp -benchtime 1x -timeout 30m ./client/verify/
export PARLEY_BENCH_TP_N=${PARLEY_BENCH_TP_N:-1500} # txs of each kind: enough blocks for the rate to mean something
step "chain throughput, 1 and 4 validators (bench)" go test -tags bench -run '^$' -bench Throughput -benchtime 1x -timeout 20m -v ./bench/
step "join and rekey latency, 1 and 4 validators; 50 meetings on one node (bench)" go test -tags bench -run '^$' -bench 'JoinRekeyLatency|MeetingsLoad' -benchtime 1x -timeout 30m -v ./bench/
step "frame signatures: sign, verify (client/framesig)" go test -run '^$' -bench . -benchtime 2000x ./client/framesig/
step "media relay against a bare pion forwarding loop, per down-track (node/sfu)" go test -run '^$' -bench 'RelayForward|BarePionForward|ForwardLogic' -benchtime 1x -timeout 10m ./node/sfu/
step "30-member meeting on one media relay (bench)" go test -tags bench -run '^$' -bench RelayMeeting30 -benchtime 1x -timeout 15m -v ./bench/
step "200-member control plane on 4 validators (bench)" go test -tags bench -run '^$' -bench ControlPlane200 -benchtime 1x -timeout 30m -v ./bench/
# The soak runs for PARLEY_SOAK (default 1h; e.g. PARLEY_SOAK=10m for a
# quick try). Go durations add up when written one after the other, so
# "${soak}30m" is the soak plus 30 minutes for set-up and the end.
soak=${PARLEY_SOAK:-1h}
step "soak: 10 meetings cycling joins and rekeys on one node for $soak, an idle node beside it (bench)" env PARLEY_SOAK="$soak" go test -tags bench -run '^$' -bench Soak -benchtime 1x -timeout "${soak}30m" -v ./bench/

go run ./internal/tools/benchtable <"$raw" >"$out/table.md"
echo
echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr), $(go version | cut -d' ' -f3)"
echo "Command: make bench ($(( $(date +%s) - start )) s)"
echo
sed '/<details>/,$d' "$out/table.md"
echo "(all benchmark lines: $out/table.md and $raw)"
exit "$failed"
