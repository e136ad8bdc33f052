#!/usr/bin/env bash
# A single-validator Parley chain on loopback with short blocks and funded
# test accounts (alice, bob, carol, dave) in a test keyring, plus a demo
# organisation account (org) that pays devices' fees through fee grants.
#
#   scripts/localnet.sh start   initialise (first time) and start in the background
#   scripts/localnet.sh stop    stop it; state is kept, `start` resumes it
#   scripts/localnet.sh reset   stop and delete its state
#   scripts/localnet.sh env     print the exports that point parley at it
#                               (PARLEY_ORG names the demo organisation's
#                               keyring account: `parley ui` then grants its new
#                               device accounts fees itself, a demo convenience;
#                               in a real organisation an admin runs `parley org
#                               grant` and devices set PARLEY_FEE_GRANTER)
#
# Environment: LOCALNET_HOME (default build/localnet), PARLEYD (default
# build/parleyd), CHAIN_ID (default parley-local), LOCALNET_PORT_BASE
# (default 26600: RPC on +57, P2P on +56, gRPC on +90, API on +17,
# mailbox on +80),
# BLOCK_TIME (default 300ms).
set -euo pipefail
cd "$(dirname "$0")/.."
HOME_DIR=${LOCALNET_HOME:-$PWD/build/localnet}
PARLEYD=${PARLEYD:-$PWD/build/parleyd}
CHAIN_ID=${CHAIN_ID:-parley-local}
BASE=${LOCALNET_PORT_BASE:-26600}
BLOCK_TIME=${BLOCK_TIME:-300ms}
RPC_PORT=$((BASE + 57)); P2P_PORT=$((BASE + 56)); GRPC_PORT=$((BASE + 90)); API_PORT=$((BASE + 17))
MAILBOX_PORT=$((BASE + 80))
PIDFILE=$HOME_DIR/parleyd.pid
LOG=$HOME_DIR/parleyd.log
ACCOUNTS=(alice bob carol dave)
ORG=org

pd() { "$PARLEYD" --home "$HOME_DIR" "$@"; }

running() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

init_chain() {
  echo "initialising $CHAIN_ID in $HOME_DIR"
  mkdir -p "$HOME_DIR"
  pd init localnet --chain-id "$CHAIN_ID" --default-denom uparley >/dev/null 2>&1
  pd keys add validator --keyring-backend test >/dev/null 2>&1
  pd genesis add-genesis-account validator 1000000000000uparley --keyring-backend test
  for a in "${ACCOUNTS[@]}"; do
    pd keys add "$a" --keyring-backend test >/dev/null 2>&1
    pd genesis add-genesis-account "$a" 100000000000uparley --keyring-backend test
  done
  pd keys add "$ORG" --keyring-backend test >/dev/null 2>&1
  pd genesis add-genesis-account "$ORG" 100000000000uparley --keyring-backend test
  pd genesis gentx validator 100000000000uparley --chain-id "$CHAIN_ID" --keyring-backend test >/dev/null 2>&1
  pd genesis collect-gentxs >/dev/null 2>&1
  pd genesis validate >/dev/null
  local cfg=$HOME_DIR/config/config.toml app=$HOME_DIR/config/app.toml
  sed -i -e "s|^timeout_commit = .*|timeout_commit = \"$BLOCK_TIME\"|" \
    -e "s|^timeout_propose = .*|timeout_propose = \"1s\"|" \
    -e "s|^laddr = \"tcp://127.0.0.1:26657\"|laddr = \"tcp://127.0.0.1:$RPC_PORT\"|" \
    -e "s|^laddr = \"tcp://0.0.0.0:26656\"|laddr = \"tcp://127.0.0.1:$P2P_PORT\"|" \
    -e "s|^addr_book_strict = .*|addr_book_strict = false|" \
    -e "s|^allow_duplicate_ip = .*|allow_duplicate_ip = true|" \
    -e "s|^pprof_laddr = .*|pprof_laddr = \"\"|" "$cfg"
  sed -i -e "s|^address = \"localhost:9090\"|address = \"127.0.0.1:$GRPC_PORT\"|" \
    -e "s|^address = \"tcp://localhost:1317\"|address = \"tcp://127.0.0.1:$API_PORT\"|" "$app"
  sed -i -e "s|^chain-id = .*|chain-id = \"$CHAIN_ID\"|" \
    -e "s|^keyring-backend = .*|keyring-backend = \"test\"|" \
    -e "s|^node = .*|node = \"tcp://127.0.0.1:$RPC_PORT\"|" "$HOME_DIR/config/client.toml"
}

wait_for_block() {
  for _ in $(seq 1 100); do
    if h=$(pd status --node "tcp://127.0.0.1:$RPC_PORT" 2>/dev/null | sed -n 's/.*"latest_block_height":"\([0-9]*\)".*/\1/p') && [ -n "$h" ] && [ "$h" -ge 1 ]; then
      return 0
    fi
    running || { echo "parleyd exited; last log lines:"; tail -n 30 "$LOG"; return 1; }
    sleep 0.2
  done
  echo "no block after 20 s; see $LOG"; return 1
}

start() {
  if running; then echo "localnet already running (pid $(cat "$PIDFILE"))"; return 0; fi
  [ -f "$HOME_DIR/config/genesis.json" ] || init_chain
  nohup "$PARLEYD" start --home "$HOME_DIR" --mailbox.address "127.0.0.1:$MAILBOX_PORT" --media-relay.enable >>"$LOG" 2>&1 &
  echo $! >"$PIDFILE"
  wait_for_block
  ensure_org
  cat <<TXT
localnet running: chain $CHAIN_ID, pid $(cat "$PIDFILE"), log $LOG
  RPC  tcp://127.0.0.1:$RPC_PORT    gRPC 127.0.0.1:$GRPC_PORT    mailbox 127.0.0.1:$MAILBOX_PORT
  accounts (test keyring in $HOME_DIR): ${ACCOUNTS[*]}; organisation paying fees by grant: $ORG
point parley at it:  eval "\$(scripts/localnet.sh env)"
stop with: make localnet-stop
TXT
}

# ensure_org funds the demo organisation on a localnet initialised before
# it existed (new ones fund it in genesis).
ensure_org() {
  pd keys show "$ORG" --keyring-backend test >/dev/null 2>&1 && return 0
  pd keys add "$ORG" --keyring-backend test >/dev/null 2>&1
  pd tx bank send validator "$(org_address)" 100000000000uparley --keyring-backend test \
    --chain-id "$CHAIN_ID" --node "tcp://127.0.0.1:$RPC_PORT" --yes >/dev/null
  sleep 1
}

org_address() { pd keys show "$ORG" -a --keyring-backend test; }

stop() {
  if running; then
    kill "$(cat "$PIDFILE")"
    for _ in $(seq 1 50); do running || break; sleep 0.1; done
    running && kill -9 "$(cat "$PIDFILE")"
    echo "localnet stopped"
  else
    echo "localnet not running"
  fi
  rm -f "$PIDFILE"
}

env_exports() {
  cat <<TXT
export PARLEY_NODE=tcp://127.0.0.1:$RPC_PORT
export PARLEY_CHAIN_ID=$CHAIN_ID
export PARLEY_KEYRING_DIR=$HOME_DIR
export PARLEY_KEYRING_BACKEND=test
export PARLEY_MAILBOX=127.0.0.1:$MAILBOX_PORT
TXT
  # Not PARLEY_FEE_GRANTER: it would make alice's and bob's --from
  # transactions ask org for a grant they do not have.
  echo "export PARLEY_ORG=$ORG"
}

case "${1:-start}" in
  env) env_exports ;;
  start) start ;;
  stop) stop ;;
  reset) stop; rm -rf "$HOME_DIR"; echo "localnet state removed" ;;
  *) echo "usage: $0 start|stop|reset|env" >&2; exit 2 ;;
esac
