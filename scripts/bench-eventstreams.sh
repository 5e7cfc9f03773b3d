#!/usr/bin/env bash
# Durable ingest through the two doors, on SQLite, with the simulator as the sender on the
# same machine: Event Streams batches (--batch-size, default 100) and signed callbacks.
# Usage: scripts/bench-eventstreams.sh [concurrency...]   (default: 16 64)
# Needs target/release/wallboard (cargo build --release -p wallboard). Port 18090.
set -euo pipefail
cd "$(dirname "$0")/.."
B=target/release/wallboard
[ -x "$B" ] || { echo "build it first: cargo build --release -p wallboard" >&2; exit 1; }
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
run() {
    local fmt=$1 c=$2
    rm -rf "$DIR/data"
    "$B" --bind 127.0.0.1:18090 --data-dir "$DIR/data" --source events \
        --account-sid AC00000000000000000000000000000001 --auth-token ingest-token-123456 >"$DIR/server.log" 2>&1 &
    local pid=$!
    for _ in $(seq 100); do curl -sf http://127.0.0.1:18090/healthz >/dev/null && break; sleep 0.1; done
    echo "== $fmt, $c connections"
    "$B" simulate --to http://127.0.0.1:18090 --auth-token ingest-token-123456 \
        --rate 100000 --duration 20s --concurrency "$c" --format "$fmt" --batch-size "${BATCH:-100}" | head -2
    kill "$pid"
    wait "$pid" 2>/dev/null || true
}
[ $# -gt 0 ] || set -- 16 64
for c in "$@"; do
    for fmt in eventstreams callbacks; do
        run "$fmt" "$c"
    done
done
