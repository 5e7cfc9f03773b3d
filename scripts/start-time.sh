#!/usr/bin/env bash
# How long a start takes on weeks of events, from the process's start to `GET /ready`:
# once replaying the whole log (`--no-snapshot`); once replaying it and saving the engine
# (the snapshot on, none yet), then killed (SIGKILL) and started from that snapshot; then
# stopped gracefully (SIGTERM), which writes the snapshot, and started again from it
# (BENCHMARKS.md, "Start from the engine snapshot"). The release binary, the built-in center's history imported into a
# fresh data directory, `serve --source events`.
#
#   scripts/start-time.sh [--days 27] [--seed 7] [--bin PATH (default: build target/release)]
#                         [--postgres]   the log in a throwaway PostgreSQL cluster
#                                        (scripts/with-postgres.sh), the snapshot in --data-dir
#
# 27 days of the demo center are about 1.03M events.
set -euo pipefail
cd "$(dirname "$0")/.."

days=27 seed=7 bin="" postgres=0 args=("$@")
while [ $# -gt 0 ]; do
    case "$1" in
    --days) days=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --bin) bin=$2; shift 2 ;;
    --postgres) postgres=1; shift ;;
    *) echo "start-time: unknown option $1" >&2; exit 2 ;;
    esac
done
if [ -z "$bin" ]; then
    cargo build --locked --release -p wallboard --bin wallboard
    bin=${CARGO_TARGET_DIR:-target}/release/wallboard
    args+=(--bin "$bin")
fi
database=()
if [ "$postgres" = 1 ]; then
    if [ -z "${WALLBOARD_TEST_DATABASE_URL:-}" ]; then
        exec scripts/with-postgres.sh "$0" "${args[@]}"
    fi
    database=(--database-url "$WALLBOARD_TEST_DATABASE_URL")
fi

work=$(mktemp -d)
pid=""
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

echo "== $days days of the demo center (seed $seed), imported"
"$bin" simulate --out "$work/events.ndjson" --days "$days" --seed "$seed" >/dev/null 2>&1
"$bin" import "$work/events.ndjson" --data-dir "$work/data" "${database[@]}" --quiet
rm "$work/events.ndjson"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# Starts the server with "$@", waits for /ready; sets `ready_s` to the seconds it took.
ready_s=""
# The server's log without its colours.
log() { sed 's/\x1b\[[0-9;]*m//g' "$work/serve.log"; }
start() {
    local t0 t1
    t0=$(date +%s.%N)
    "$bin" serve --source events --data-dir "$work/data" "${database[@]}" --bind "127.0.0.1:$port" "$@" \
        >>"$work/serve.log" 2>&1 &
    pid=$!
    until curl -fsS "http://127.0.0.1:$port/ready" >/dev/null 2>&1; do
        kill -0 "$pid" 2>/dev/null || { echo "start-time: the server exited" >&2; cat "$work/serve.log" >&2; exit 1; }
        sleep 0.01
    done
    t1=$(date +%s.%N)
    ready_s=$(python3 -c "print(f'{$t1 - $t0:.2f}')")
}

stop() {
    kill -TERM "$pid"
    wait "$pid" || true
    pid=""
}

start --no-snapshot
stop
echo "full replay: ready in $ready_s s ($(grep -o 'replayed the event log.*' <(log) | head -1))"
# Once more with the snapshot on: it replays in full (there is none yet), saves the engine
# before it is ready, and is killed (no snapshot at stop); the next start reads the saved one.
start
echo "full replay, the engine saved at start: ready in $ready_s s ($(grep -o 'wrote the engine snapshot (the replayed engine, at start).*' <(log) | tail -1))"
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
pid=""
start
echo "after kill -9, from the start's snapshot: ready in $ready_s s ($(grep -o 'started from the engine snapshot.*' <(log) | tail -1))"
stop
echo "stopping: $(grep -o 'wrote the engine snapshot (at stop).*' <(log) | tail -1)"
grep -i "WARN.*snapshot" <(log) || true
echo "  the file: $(stat -c %s "$work/data/engine.snapshot") bytes"
start
stop
echo "from the snapshot: ready in $ready_s s ($(grep -o 'started from the engine snapshot.*' <(log) | tail -1))"
