#!/usr/bin/env bash
# A Parley network of several validators (four unless told otherwise) as
# processes on loopback: one genesis with a gentx per validator (equal
# stake), funded test accounts alice, bob, carol and dave in a shared test
# keyring, persistent peers between all nodes, short blocks.
#
#   localnet-4.sh start         initialise (first time) and start every node
#   localnet-4.sh stop          stop every node; state is kept, `start` resumes
#   localnet-4.sh reset         stop and delete the network's state
#   localnet-4.sh env           print the exports that point parley at it
#   localnet-4.sh status        each node: running or not, height, addresses
#   localnet-4.sh stop-node I   stop node I (0-based); the others keep going
#   localnet-4.sh start-node I  start node I again from its data directory
#   localnet-4.sh init          initialise without starting
#   localnet-4.sh init-docker   initialise homes for docker-compose.yml
#                               (hostnames node0..node3, 0.0.0.0 listeners)
#   localnet-4.sh nodes         one tab-separated line per node, for programs:
#                               index home rpc grpc mailbox p2p api log
#
# Environment, read when the network is initialised and stored in
# $NET4_HOME/net4.env (later commands use the stored values; reset to
# change them):
#   NET4_HOME         state, one directory per node (default build/localnet-4,
#                     build/localnet-4-docker for init-docker)
#   NET4_VALIDATORS   number of validators (default 4)
#   NET4_PORT_BASE    first port (default 27000); node I uses
#   NET4_PORT_STRIDE  base + I*stride (stride default 100) plus: P2P +56,
#                     RPC +57, gRPC +90, API +17, mailbox +80
#   CHAIN_ID          default parley-local-4
#   BLOCK_TIME        CometBFT timeout_commit (default 300ms)
#   TIMEOUT_PROPOSE   CometBFT timeout_propose (default 1s)
# Read on every command:
#   PARLEYD           the node binary (default build/parleyd)
#   NET4_WATCH_PID    if set, start and start-node also run a watchdog that stops the
#                     network when that process exits (tests set it)
set -euo pipefail

SELF=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CMD=${1:-start}

abspath() { case $1 in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$PWD/$1" ;; esac; }
die() { echo "localnet-4: $*" >&2; exit 1; }

if [ "$CMD" = init-docker ]; then
  NET4_HOME=$(abspath "${NET4_HOME:-$ROOT/build/localnet-4-docker}")
else
  NET4_HOME=$(abspath "${NET4_HOME:-$ROOT/build/localnet-4}")
fi
PARLEYD=$(abspath "${PARLEYD:-$ROOT/build/parleyd}")
SETTINGS=$NET4_HOME/net4.env
KEYRING=$NET4_HOME/keyring
ACCOUNTS=(alice bob carol dave)
DENOM=uparley

# Settings fixed at init. The user's values are kept apart so that a
# difference from the stored ones can be reported.
SETTING_KEYS=(NET4_MODE NET4_VALIDATORS NET4_PORT_BASE NET4_PORT_STRIDE CHAIN_ID BLOCK_TIME TIMEOUT_PROPOSE)
declare -A USER_SET=()
for k in "${SETTING_KEYS[@]}"; do USER_SET[$k]=${!k:-}; done
NET4_MODE=process
NET4_VALIDATORS=${NET4_VALIDATORS:-4}
NET4_PORT_BASE=${NET4_PORT_BASE:-27000}
NET4_PORT_STRIDE=${NET4_PORT_STRIDE:-100}
CHAIN_ID=${CHAIN_ID:-parley-local-4}
BLOCK_TIME=${BLOCK_TIME:-300ms}
TIMEOUT_PROPOSE=${TIMEOUT_PROPOSE:-1s}

load_settings() {
  [ -f "$SETTINGS" ] || return 0
  local key val
  while IFS='=' read -r key val; do
    case " ${SETTING_KEYS[*]} " in *" $key "*) ;; *) continue ;; esac
    if [ -n "${USER_SET[$key]}" ] && [ "${USER_SET[$key]}" != "$val" ]; then
      echo "localnet-4: $NET4_HOME was initialised with $key=$val (not ${USER_SET[$key]}); using it, reset to change" >&2
    fi
    printf -v "$key" '%s' "$val"
  done <"$SETTINGS"
}

save_settings() {
  local k
  for k in "${SETTING_KEYS[@]}"; do printf '%s=%s\n' "$k" "${!k}"; done >"$SETTINGS"
}

is_uint() { case $1 in '' | *[!0-9]*) return 1 ;; esac; }

check_settings() {
  is_uint "$NET4_VALIDATORS" && [ "$NET4_VALIDATORS" -ge 1 ] || die "NET4_VALIDATORS=$NET4_VALIDATORS: want a number >= 1"
  is_uint "$NET4_PORT_BASE" || die "NET4_PORT_BASE=$NET4_PORT_BASE: want a port number"
  is_uint "$NET4_PORT_STRIDE" && [ "$NET4_PORT_STRIDE" -ge 91 ] || die "NET4_PORT_STRIDE=$NET4_PORT_STRIDE: want >= 91 (the offsets reach +90)"
  [ $((NET4_PORT_BASE + (NET4_VALIDATORS - 1) * NET4_PORT_STRIDE + 90)) -le 65535 ] || die "ports run past 65535: lower NET4_PORT_BASE"
}

load_settings
check_settings
N=$NET4_VALIDATORS

# Node I's directory and host-side ports.
node_dir() { printf '%s/node%s\n' "$NET4_HOME" "$1"; }
port() { echo $((NET4_PORT_BASE + $1 * NET4_PORT_STRIDE + $2)); }
p2p_port() { port "$1" 56; }
rpc_port() { port "$1" 57; }
grpc_port() { port "$1" 90; }
api_port() { port "$1" 17; }
mailbox_port() { port "$1" 80; }

check_index() {
  is_uint "${1:-}" && [ "$1" -lt "$N" ] || die "node index ${1:-(none)}: want 0..$((N - 1))"
}

need_parleyd() { [ -x "$PARLEYD" ] || die "no parleyd at $PARLEYD: run make build or set PARLEYD"; }

# node_pid I prints node I's pid when it runs. The pid must still be a
# parleyd with this node's home, not a process that inherited the number.
node_pid() {
  local f pid
  f=$(node_dir "$1")/parleyd.pid
  [ -f "$f" ] || return 1
  pid=$(cat "$f")
  is_uint "$pid" && kill -0 "$pid" 2>/dev/null || return 1
  if [ -r "/proc/$pid/cmdline" ]; then
    tr '\0' '\n' <"/proc/$pid/cmdline" | grep -qxF -- "$(node_dir "$1")" || return 1
  fi
  echo "$pid"
}

# height PORT prints the latest block height the RPC server on PORT reports.
height() {
  local out
  if command -v curl >/dev/null; then
    out=$(curl -sf --max-time 2 "http://127.0.0.1:$1/status" 2>/dev/null) || return 1
  else
    out=$(timeout 5 "$PARLEYD" status --node "tcp://127.0.0.1:$1" 2>/dev/null) || return 1
  fi
  out=$(printf '%s' "$out" | tr -d '\n' | sed -n 's/.*"latest_block_height": *"\([0-9][0-9]*\)".*/\1/p')
  [ -n "$out" ] && echo "$out"
}

max_height() {
  local i h best=-1
  for ((i = 0; i < N; i++)); do
    if h=$(height "$(rpc_port "$i")"); then [ "$h" -gt "$best" ] && best=$h; fi
  done
  [ "$best" -ge 0 ] && echo "$best"
}

INIT_LOG=$NET4_HOME/init.log

# quiet runs a command with its output in init.log and shows it on failure.
quiet() {
  "$@" >>"$INIT_LOG" 2>&1 || {
    echo "localnet-4: failed: $*" >&2
    tail -n 20 "$INIT_LOG" >&2
    exit 1
  }
}

# init_net MODE writes the genesis and every node's configuration. MODE is
# process (loopback, distinct ports) or docker (hostnames node0..N-1,
# 0.0.0.0 listeners, the standard ports inside each container).
init_net() {
  local mode=$1 i name addr id stake=100000000000$DENOM
  if [ -f "$NET4_HOME/initialised" ]; then return 0; fi
  if [ -f "$SETTINGS" ]; then
    echo "localnet-4: an earlier init of $NET4_HOME did not finish; starting it over" >&2
    rm -rf "$NET4_HOME"/node* "$KEYRING" "$NET4_HOME/gentx" "$INIT_LOG" "$NET4_HOME/accounts.json"
  elif [ -d "$NET4_HOME" ] && [ -n "$(ls -A "$NET4_HOME")" ]; then
    die "$NET4_HOME exists and is not a network home (no net4.env): choose another NET4_HOME"
  fi
  need_parleyd
  NET4_MODE=$mode
  mkdir -p "$NET4_HOME/gentx"
  save_settings
  echo "initialising $CHAIN_ID (validators: $N, $mode) in $NET4_HOME"

  for ((i = 0; i < N; i++)); do
    quiet "$PARLEYD" init "node$i" --home "$(node_dir "$i")" --chain-id "$CHAIN_ID" --default-denom "$DENOM"
  done

  # Keys: one operator per validator, and the test accounts.
  local names=() entries=()
  for ((i = 0; i < N; i++)); do names+=("val$i"); done
  names+=("${ACCOUNTS[@]}")
  for name in "${names[@]}"; do
    addr=$("$PARLEYD" keys add "$name" --keyring-backend test --keyring-dir "$KEYRING" --output json 2>>"$INIT_LOG" |
      sed -n 's/.*"address":"\([^"]*\)".*/\1/p') || true
    [ -n "$addr" ] || die "keys add $name failed; see $INIT_LOG"
    entries+=("{\"address\":\"$addr\",\"coins\":[{\"denom\":\"$DENOM\",\"amount\":\"1000000000000\"}]}")
  done
  (IFS=,; printf '[%s]\n' "${entries[*]}") >"$NET4_HOME/accounts.json"
  local g0
  g0=$(node_dir 0)/config/genesis.json
  quiet "$PARLEYD" genesis bulk-add-genesis-account "$NET4_HOME/accounts.json" --home "$(node_dir 0)"
  # A validator that is down is jailed for downtime only after missing half
  # of a 100000-block window (hours at these block times), not in seconds.
  sed -i 's|"signed_blocks_window": "100"|"signed_blocks_window": "100000"|' "$g0"

  # One gentx per validator, equal stake, signed with the node's own
  # consensus key.
  local ids=()
  for ((i = 0; i < N; i++)); do
    [ "$i" -eq 0 ] || cp "$g0" "$(node_dir "$i")/config/genesis.json"
    local ip=127.0.0.1 p2p
    p2p=$(p2p_port "$i")
    if [ "$mode" = docker ]; then ip=node$i p2p=26656; fi
    quiet "$PARLEYD" genesis gentx "val$i" "$stake" --home "$(node_dir "$i")" --chain-id "$CHAIN_ID" \
      --keyring-backend test --keyring-dir "$KEYRING" --moniker "node$i" --ip "$ip" --p2p-port "$p2p" \
      --output-document "$NET4_HOME/gentx/node$i.json"
    id=$(sed -n 's/.*"memo":"\([0-9a-f]*\)@.*/\1/p' "$NET4_HOME/gentx/node$i.json")
    [ -n "$id" ] || die "no node ID in the memo of $NET4_HOME/gentx/node$i.json"
    ids+=("$id")
  done
  quiet "$PARLEYD" genesis collect-gentxs --home "$(node_dir 0)" --gentx-dir "$NET4_HOME/gentx"
  quiet "$PARLEYD" genesis validate --home "$(node_dir 0)"
  for ((i = 1; i < N; i++)); do cp "$g0" "$(node_dir "$i")/config/genesis.json"; done

  for ((i = 0; i < N; i++)); do configure_node "$mode" "$i" "${ids[@]}"; done
  touch "$NET4_HOME/initialised"
}

# configure_node MODE I ID... edits node I's config.toml, app.toml and
# client.toml; ID... are every node's p2p ID.
configure_node() {
  local mode=$1 i=$2 j peers="" host
  shift 2
  local ids=("$@") d
  d=$(node_dir "$i")
  local rpc_l p2p_l grpc_l api_l
  if [ "$mode" = docker ]; then
    rpc_l=0.0.0.0:26657 p2p_l=0.0.0.0:26656 grpc_l=0.0.0.0:9090 api_l=0.0.0.0:1317
  else
    rpc_l=127.0.0.1:$(rpc_port "$i") p2p_l=127.0.0.1:$(p2p_port "$i")
    grpc_l=127.0.0.1:$(grpc_port "$i") api_l=127.0.0.1:$(api_port "$i")
  fi
  for ((j = 0; j < N; j++)); do
    [ "$j" -eq "$i" ] && continue
    if [ "$mode" = docker ]; then host=node$j:26656; else host=127.0.0.1:$(p2p_port "$j"); fi
    peers+=${peers:+,}${ids[$j]}@$host
  done
  sed -i \
    -e "s|^timeout_commit = .*|timeout_commit = \"$BLOCK_TIME\"|" \
    -e "s|^timeout_propose = .*|timeout_propose = \"$TIMEOUT_PROPOSE\"|" \
    -e "s|^pprof_laddr = .*|pprof_laddr = \"\"|" \
    -e "/^\[rpc\]/,/^\[/ s|^laddr = .*|laddr = \"tcp://$rpc_l\"|" \
    -e "/^\[p2p\]/,/^\[/ s|^laddr = .*|laddr = \"tcp://$p2p_l\"|" \
    -e "s|^persistent_peers = .*|persistent_peers = \"$peers\"|" \
    -e "s|^addr_book_strict = .*|addr_book_strict = false|" \
    -e "s|^allow_duplicate_ip = .*|allow_duplicate_ip = true|" \
    -e "s|^flush_throttle_timeout = .*|flush_throttle_timeout = \"1ms\"|" \
    -e "s|^persistent_peers_max_dial_period = .*|persistent_peers_max_dial_period = \"3s\"|" \
    "$d/config/config.toml"
  sed -i \
    -e "/^\[grpc\]/,/^\[/ s|^address = .*|address = \"$grpc_l\"|" \
    -e "/^\[api\]/,/^\[/ s|^address = .*|address = \"tcp://$api_l\"|" \
    "$d/config/app.toml"
  sed -i \
    -e "s|^chain-id = .*|chain-id = \"$CHAIN_ID\"|" \
    -e "s|^keyring-backend = .*|keyring-backend = \"test\"|" \
    -e "s|^node = .*|node = \"tcp://${rpc_l/0.0.0.0/127.0.0.1}\"|" \
    "$d/config/client.toml"
  # Check the edits took: a silent sed miss would leave a node on the
  # default ports, colliding with the others.
  grep -qF "laddr = \"tcp://$rpc_l\"" "$d/config/config.toml" &&
    grep -qF "laddr = \"tcp://$p2p_l\"" "$d/config/config.toml" &&
    grep -qF "address = \"$grpc_l\"" "$d/config/app.toml" ||
    die "editing node$i's config did not take; see $d/config"
}

need_process_mode() {
  [ "$NET4_MODE" = process ] || die "$NET4_HOME was initialised for docker compose: use docker compose in networks/local"
}

start_node() {
  local i=$1 d pid
  d=$(node_dir "$i")
  if pid=$(node_pid "$i"); then
    echo "node$i already running (pid $pid)"
    return 0
  fi
  nohup "$PARLEYD" start --home "$d" --mailbox.address "127.0.0.1:$(mailbox_port "$i")" --media-relay.enable \
    </dev/null >>"$d/parleyd.log" 2>&1 &
  echo $! >"$d/parleyd.pid"
}

# wait_rpc I waits until node I's RPC server answers.
wait_rpc() {
  local i=$1 tries
  for ((tries = 0; tries < 600; tries++)); do
    height "$(rpc_port "$i")" >/dev/null && return 0
    if ! node_pid "$i" >/dev/null; then
      echo "localnet-4: node$i exited; last log lines:" >&2
      tail -n 30 "$(node_dir "$i")/parleyd.log" >&2
      return 1
    fi
    sleep 0.1
  done
  die "node$i's RPC did not answer within 60 s; see $(node_dir "$i")/parleyd.log"
}

# wait_block waits until the chain commits a block after the current one.
wait_block() {
  local h0 h tries
  h0=$(max_height) || h0=0
  for ((tries = 0; tries < 600; tries++)); do
    if h=$(max_height) && [ "$h" -gt "$h0" ]; then return 0; fi
    sleep 0.1
  done
  die "no new block within 60 s (height $h0); see the logs in $NET4_HOME/node*/parleyd.log"
}

watchdog_pid() {
  local f=$NET4_HOME/watchdog.pid pid
  [ -f "$f" ] || return 1
  pid=$(cat "$f")
  is_uint "$pid" && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

start_watchdog() {
  [ -n "${NET4_WATCH_PID:-}" ] || return 0
  is_uint "$NET4_WATCH_PID" || die "NET4_WATCH_PID=$NET4_WATCH_PID: want a pid"
  watchdog_pid >/dev/null && return 0
  NET4_HOME=$NET4_HOME nohup bash -c 'while kill -0 "$1" 2>/dev/null; do sleep 1; done; exec "$2" stop' \
    localnet-4-watchdog "$NET4_WATCH_PID" "$SELF" </dev/null >>"$NET4_HOME/watchdog.log" 2>&1 &
  echo $! >"$NET4_HOME/watchdog.pid"
}

stop_watchdog() {
  local pid
  if pid=$(watchdog_pid) && [ "$pid" != "$$" ]; then kill "$pid" 2>/dev/null || true; fi
  rm -f "$NET4_HOME/watchdog.pid"
}

# stop_nodes I... sends SIGTERM to the nodes, waits up to 15 s for them to
# exit, then kills what is left.
stop_nodes() {
  local i pid tries left
  local -A pids=()
  for i in "$@"; do
    if pid=$(node_pid "$i"); then
      kill "$pid" 2>/dev/null || true
      pids[$i]=$pid
    else
      echo "node$i not running"
      rm -f "$(node_dir "$i")/parleyd.pid"
    fi
  done
  for ((tries = 0; tries < 150; tries++)); do
    left=0
    for i in "${!pids[@]}"; do kill -0 "${pids[$i]}" 2>/dev/null && left=1; done
    [ "$left" -eq 0 ] && break
    sleep 0.1
  done
  for i in "$@"; do
    [ -n "${pids[$i]:-}" ] || continue
    if kill -0 "${pids[$i]}" 2>/dev/null; then
      echo "node$i did not stop in 15 s; killing it" >&2
      kill -9 "${pids[$i]}" 2>/dev/null || true
    fi
    rm -f "$(node_dir "$i")/parleyd.pid"
    echo "node$i stopped"
  done
}

all_nodes() { seq 0 $((N - 1)); }

start() {
  init_net process
  need_process_mode
  need_parleyd
  start_watchdog
  local i
  for i in $(all_nodes); do start_node "$i"; done
  for i in $(all_nodes); do wait_rpc "$i" || exit 1; done
  wait_block
  echo "localnet-4 running: chain $CHAIN_ID, validators: $N, state in $NET4_HOME"
  status
  cat <<TXT
accounts (test keyring in $KEYRING): ${ACCOUNTS[*]}
point parley at it:  eval "\$($SELF env)"
stop with: $SELF stop  (or make localnet-4-stop for the default home)
TXT
}

status() {
  local i pid state h log
  for i in $(all_nodes); do
    log=$(node_dir "$i")/parleyd.log
    if [ "$NET4_MODE" = docker ]; then
      state=container log="docker compose logs node$i"
    elif pid=$(node_pid "$i"); then
      state="running pid $pid"
    else
      state=stopped
    fi
    h=$(height "$(rpc_port "$i")") || h=-
    printf 'node%s  %-17s height %-8s rpc tcp://127.0.0.1:%s  grpc 127.0.0.1:%s  mailbox 127.0.0.1:%s  log %s\n' \
      "$i" "$state" "$h" "$(rpc_port "$i")" "$(grpc_port "$i")" "$(mailbox_port "$i")" "$log"
  done
}

join() { local IFS=,; echo "$*"; }

env_exports() {
  local i rpcs=() mbs=()
  for i in $(all_nodes); do
    rpcs+=("tcp://127.0.0.1:$(rpc_port "$i")")
    mbs+=("127.0.0.1:$(mailbox_port "$i")")
  done
  printf 'export PARLEY_NODE=%s\n' "$(join "${rpcs[@]}")"
  printf 'export PARLEY_MAILBOX=%s\n' "$(join "${mbs[@]}")"
  printf 'export PARLEY_CHAIN_ID=%q\n' "$CHAIN_ID"
  printf 'export PARLEY_KEYRING_DIR=%q\n' "$KEYRING"
  printf 'export PARLEY_KEYRING_BACKEND=test\n'
}

nodes() {
  local i
  for i in $(all_nodes); do
    printf '%s\t%s\ttcp://127.0.0.1:%s\t127.0.0.1:%s\t127.0.0.1:%s\t127.0.0.1:%s\t127.0.0.1:%s\t%s\n' \
      "$i" "$(node_dir "$i")" "$(rpc_port "$i")" "$(grpc_port "$i")" "$(mailbox_port "$i")" \
      "$(p2p_port "$i")" "$(api_port "$i")" "$(node_dir "$i")/parleyd.log"
  done
}

stop() {
  if [ "$NET4_MODE" = docker ]; then
    echo "$NET4_HOME runs in docker compose: stop it with docker compose down in networks/local"
    return 0
  fi
  stop_watchdog
  # shellcheck disable=SC2046 # all_nodes prints numbers
  stop_nodes $(all_nodes)
}

reset() {
  if [ ! -e "$NET4_HOME" ]; then
    echo "nothing to reset at $NET4_HOME"
    return 0
  fi
  [ -f "$SETTINGS" ] || die "$NET4_HOME has no net4.env: not a network home, not deleting it"
  stop
  rm -rf "$NET4_HOME"
  echo "localnet-4 state removed"
}

case "$CMD" in
  start) start ;;
  stop) stop ;;
  reset) reset ;;
  env) env_exports ;;
  status) status ;;
  nodes) nodes ;;
  init) init_net process ;;
  init-docker)
    [ "$NET4_VALIDATORS" -eq 4 ] && [ "$NET4_PORT_BASE" -eq 27000 ] && [ "$NET4_PORT_STRIDE" -eq 100 ] ||
      die "init-docker makes the 4 nodes docker-compose.yml runs, published on the default ports: unset NET4_VALIDATORS, NET4_PORT_BASE and NET4_PORT_STRIDE"
    init_net docker
    [ "$NET4_MODE" = docker ] || die "$NET4_HOME was initialised for processes, not docker: choose another NET4_HOME"
    echo "homes for docker compose are in $NET4_HOME; next: cd networks/local && docker compose up -d"
    ;;
  stop-node)
    check_index "${2:-}"
    need_process_mode
    stop_nodes "$2"
    ;;
  start-node)
    check_index "${2:-}"
    need_process_mode
    need_parleyd
    [ -f "$NET4_HOME/initialised" ] || die "$NET4_HOME is not initialised: run start first"
    start_watchdog
    start_node "$2"
    wait_rpc "$2" || exit 1
    echo "node$2 started"
    ;;
  *)
    echo "usage: $0 start|stop|reset|env|status|stop-node I|start-node I|init|init-docker|nodes" >&2
    exit 2
    ;;
esac
