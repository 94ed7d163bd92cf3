#!/usr/bin/env bash
# Runs the cluster samples as separate processes on 127.0.0.1 and checks them:
# three nodes — each one kv_node (one shard of three) and one calculator_node
# — with node 1's kv_node the seed of every other process; then
# calculator_client and kv_client against them. Stops the nodes with SIGTERM
# (SIGKILL after 5 s); a trap does it on every exit path, so no process is left
# behind. Exits non-zero if a node fails to start or a client fails.
# `./build.sh demo` and ctest (tests/samples/cluster_demo_test.cmake) run it.
#
#   run_cluster_demo.sh SAMPLES_BIN_DIR [--keys N] [--port-base P] [--stats]
#
# SAMPLES_BIN_DIR holds kv/ and calculator/ (build/samples). Ports: kv_node i
# listens on P+i, calculator_node i on P+10+i (i = 1..3; P defaults to 23100).
set -euo pipefail

bin=${1:?usage: run_cluster_demo.sh SAMPLES_BIN_DIR [--keys N] [--port-base P] [--stats]}
shift
keys=5000
port_base=23100  # below the ephemeral range (32768-60999), where no outgoing connection takes it
stats=()
while [ $# -gt 0 ]; do
  case $1 in
    --keys) keys=$2; shift 2 ;;
    --port-base) port_base=$2; shift 2 ;;
    --stats) stats=(--stats); shift ;;
    *) echo "run_cluster_demo.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

logs=$(mktemp -d)
pids=()
names=()

# stop_nodes: SIGTERM to every node, wait up to 5 s, then SIGKILL the rest.
stop_nodes() {
  [ ${#pids[@]} -eq 0 ] && return 0
  kill -TERM "${pids[@]}" 2>/dev/null || true
  for _ in $(seq 50); do
    local alive=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive -eq 0 ] && break
    sleep 0.1
  done
  kill -KILL "${pids[@]}" 2>/dev/null || true
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}
trap 'stop_nodes; rm -rf "$logs"' EXIT
trap 'exit 130' INT TERM

# start_node NAME PROGRAM ARGS...: starts a node in the background, its
# output in $logs/NAME.log.
start_node() {
  local name=$1; shift
  if (echo >"/dev/tcp/127.0.0.1/${port}") 2>/dev/null; then
    echo "cluster demo: port ${port} is taken; pass another --port-base" >&2
    exit 1
  fi
  "$@" >"$logs/$name.log" 2>&1 &
  pids+=($!)
  names+=("$name")
}

# wait_ready: every node printed "ready" within 15 s, or the demo fails.
wait_ready() {
  local deadline=$((SECONDS + 15))
  for i in "${!names[@]}"; do
    local log="$logs/${names[$i]}.log"
    until grep -q "; ready" "$log"; do
      if ! kill -0 "${pids[$i]}" 2>/dev/null || [ $SECONDS -ge $deadline ]; then
        echo "cluster demo: ${names[$i]} did not get ready:" >&2
        cat "$log" >&2
        exit 1
      fi
      sleep 0.05
    done
    sed 's/^/  /' "$log"
  done
}

seed=127.0.0.1:$((port_base + 1))
echo "cluster demo: starting 3 nodes on 127.0.0.1 (seed ${seed}), each a kv shard and a calculator"
for i in 1 2 3; do
  seed_flag=()
  [ "$i" -ne 1 ] && seed_flag=(--seed "$seed")
  port=$((port_base + i))
  start_node "kv-$i" "$bin/kv/kv_node" --name "kv-$i" --listen "127.0.0.1:$port" "${seed_flag[@]}" \
    --shard-index $((i - 1)) --shard-count 3 --threads 2 "${stats[@]}"
  port=$((port_base + 10 + i))
  start_node "calc-$i" "$bin/calculator/calculator_node" --name "calc-$i" --listen "127.0.0.1:$port" \
    --seed "$seed" --threads 2 "${stats[@]}"
done
wait_ready

status=0
echo "cluster demo: calculator_client --seed ${seed}"
"$bin/calculator/calculator_client" --name calc-client --seed "$seed" "${stats[@]}" || status=1
echo "cluster demo: kv_client --seed ${seed} --shards 3 --keys ${keys}"
"$bin/kv/kv_client" --name kv-client --seed "$seed" --shards 3 --keys "$keys" "${stats[@]}" || status=1

echo "cluster demo: stopping the nodes"
stop_nodes
for name in "${names[@]}"; do
  # What each node said after its start line: its metrics and how it stopped.
  tail -n +2 "$logs/$name.log" | sed 's/^/  /'
done
if [ $status -eq 0 ]; then
  echo "cluster demo: both clients succeeded"
else
  echo "cluster demo: FAILED" >&2
fi
exit $status
