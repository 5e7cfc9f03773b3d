#!/usr/bin/env bash
# Tries a Wallboard cluster on this machine: a throwaway PostgreSQL, N nodes (default 3) on
# ports 8081.., and `wallboard balance` on 8080 in front of them (round-robin over the ready
# nodes); prints the dashboard link and stops everything (and removes the database) on Ctrl-C.
#   scripts/cluster.sh                 3 nodes, the built-in simulated contact center
#   scripts/cluster.sh -n 5 --source events
# Arguments after the options go to every `wallboard serve`. Kill a node (its pid is
# printed) and watch the dashboard stay live; see docs/deploy.md.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/postgres.sh

nodes=3
if [ "${1:-}" = "-n" ]; then
    nodes="$2"
    shift 2
fi
base_port="${WALLBOARD_CLUSTER_PORT:-8080}"

scripts/setup.sh
[ -d frontend/dist ] || scripts/build-frontend.sh
cargo build --release --locked -p wallboard
bin="${CARGO_TARGET_DIR:-target}/release/wallboard"

dir="$(mktemp -d "${TMPDIR:-/tmp}/wallboard-cluster.XXXXXX")"
chmod 755 "$dir" # the database runs as `postgres` when we are root
pids=()
stop() {
    trap - EXIT INT TERM
    echo
    echo "stopping the cluster"
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    pg_stop "$dir/pg"
    rm -rf "$dir"
}
trap stop EXIT
trap 'exit 130' INT TERM

pg_port="$(pg_free_port)"
pg_start "$dir/pg" "$pg_port"
url="$(pg_url "$pg_port")"
echo "PostgreSQL at $url"

public="http://127.0.0.1:$base_port"
backends=()
for i in $(seq 1 "$nodes"); do
    port=$((base_port + i))
    mkdir -p "$dir/node$i"
    "$bin" serve --bind "127.0.0.1:$port" --database-url "$url" --node-name "node$i" \
        --data-dir "$dir/node$i" --public-url "$public" "$@" >"$dir/node$i.out" 2>"$dir/node$i.log" &
    pids+=("$!")
    echo "node$i: pid $!, http://127.0.0.1:$port (log: $dir/node$i.log)"
    backends+=(--backend "127.0.0.1:$port")
    # The first node creates the schema; the others start once it is ready.
    if [ "$i" = 1 ]; then
        for _ in $(seq 1 600); do
            curl -fsS "http://127.0.0.1:$port/ready" >/dev/null 2>&1 && break
            kill -0 "${pids[0]}" 2>/dev/null || { cat "$dir/node1.log" >&2; exit 1; }
            sleep 0.1
        done
    fi
done

"$bin" balance --listen "127.0.0.1:$base_port" "${backends[@]}" >"$dir/balance.log" 2>&1 &
balance_pid="$!"
pids+=("$balance_pid")
echo "balance: pid $balance_pid, $public -> ${nodes} nodes"

for _ in $(seq 1 600); do
    grep -q "#token=" "$dir/node1.out" 2>/dev/null && break
    sleep 0.1
done
echo
grep -m1 "dashboard:" "$dir/node1.out" || echo "(no dashboard link printed: see $dir/node1.log)"
echo "health of each node: curl http://127.0.0.1:$((base_port + 1))/health"
echo "Ctrl-C stops the cluster (a node killed by hand stays down; the others carry on)."
wait "$balance_pid" || true
echo "the balancer exited; stopping" >&2
