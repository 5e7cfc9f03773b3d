#!/usr/bin/env bash
# Measures how long the singleton roles take to move when their node dies: three nodes
# (release build, the built-in simulator) on a throwaway PostgreSQL; ROUNDS times, the
# node holding the simulator's role is killed with SIGKILL and the others' /health is
# polled every 20 ms until one of them holds it. Prints each round and the median.
#   scripts/failover-time.sh [ROUNDS]        (default 5; needs curl and python3)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${WALLBOARD_TEST_DATABASE_URL:-}" ]; then
    exec scripts/with-postgres.sh "$0" "$@"
fi
rounds="${1:-5}"
cargo build --release -p wallboard --quiet
bin=target/release/wallboard
logs="$(mktemp -d)"
pids=(0 0 0)
ports=(18181 18182 18183)
start() {
    "$bin" serve --database-url "$WALLBOARD_TEST_DATABASE_URL" --bind "127.0.0.1:${ports[$1]}" \
        --node-name "node$1" --sim-history-hours 1 --assets-dir "$logs" >>"$logs/node$1.log" 2>&1 &
    pids[$1]=$!
}
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$logs"
}
trap cleanup EXIT
holder() {
    for i in 0 1 2; do
        if curl -sf "http://127.0.0.1:${ports[$i]}/health" 2>/dev/null | grep -q '"simulator"'; then
            echo "$i"
            return
        fi
    done
    echo -1
}
for i in 0 1 2; do start "$i"; done
for i in 0 1 2; do
    for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:${ports[$i]}/ready" >/dev/null && break; sleep 0.1; done
done
times=()
for round in $(seq 1 "$rounds"); do
    h=-1
    for _ in $(seq 1 100); do h="$(holder)"; [ "$h" != -1 ] && break; sleep 0.1; done
    [ "$h" = -1 ] && { echo "no node holds the simulator" >&2; exit 1; }
    t0="$(date +%s%N)"
    kill -9 "${pids[$h]}"
    wait "${pids[$h]}" 2>/dev/null || true
    while true; do
        n="$(holder)"
        if [ "$n" != -1 ] && [ "$n" != "$h" ]; then break; fi
        sleep 0.02
        if [ $(( ($(date +%s%N) - t0) / 1000000 )) -gt 60000 ]; then echo "no takeover in 60 s" >&2; exit 1; fi
    done
    ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    times+=("$ms")
    echo "round $round: node$h killed, node$n holds the simulator after $ms ms"
    start "$h"
    for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:${ports[$h]}/ready" >/dev/null && break; sleep 0.1; done
done
printf '%s\n' "${times[@]}" | sort -n | python3 -c 'import sys; v=[int(x) for x in sys.stdin]; print(f"median {v[len(v)//2]} ms, min {v[0]} ms, max {v[-1]} ms over {len(v)} rounds")'
