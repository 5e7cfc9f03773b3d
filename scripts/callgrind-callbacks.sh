#!/usr/bin/env bash
# User-space instructions of the server per accepted signed callback, counted by callgrind
# (deterministic, unlike CPU time on a shared machine): the release server under valgrind,
# a warm-up of about 300 events, the counters zeroed, EVENTS callbacks at 100/s from
# `wallboard simulate` (8 in flight), the counters dumped. Kernel work (TCP, fsync) is not
# counted; `simulate --server-pid` gives the CPU time with it.
#   scripts/callgrind-callbacks.sh [--bin target/release/wallboard] [--events 1500] [--out DIR]
# Prints the total and the instructions per event; DIR keeps the profile
# (`callgrind_annotate --inclusive=yes DIR/callgrind.out.*.1`).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${CARGO_TARGET_DIR:-target}/release/wallboard events=1500 out=""
while [ $# -gt 0 ]; do
    case "$1" in
    --bin) bin=$2; shift 2 ;;
    --events) events=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "callgrind-callbacks: unknown option $1 (see the head of $0)" >&2; exit 2 ;;
    esac
done
command -v valgrind >/dev/null || { echo "callgrind-callbacks: valgrind is missing" >&2; exit 1; }
[ -x "$bin" ] || { echo "callgrind-callbacks: no $bin (cargo build --release -p wallboard)" >&2; exit 1; }
out=${out:-$(mktemp -d)}
mkdir -p "$out"
token=callgrind-token-0123456789
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.out.%p" "$bin" --bind "127.0.0.1:$port" \
    --data-dir "$out/data" --source events --account-sid AC00000000000000000000000000000001 \
    --auth-token "$token" >"$out/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
send() { "$bin" simulate --to "http://127.0.0.1:$port" --auth-token "$token" --rate 100 --concurrency 8 --duration "$1"; }
for _ in $(seq 1 120); do send 1s >/dev/null 2>&1 && break; sleep 1; done
send 2s >/dev/null
callgrind_control -z "$server" >/dev/null
sent=$(send "$((events / 100))s" | grep -E '^sent')
callgrind_control -d "$server" >/dev/null
kill "$server"; wait "$server" 2>/dev/null || true
trap - EXIT
accepted=$(echo "$sent" | sed -E 's/.*: ([0-9]+) accepted.*/\1/')
total=$(callgrind_annotate "$out"/callgrind.out.*.1 2>/dev/null | grep -m1 'PROGRAM TOTALS' | awk '{gsub(",", "", $1); print $1}')
echo "$sent"
echo "server instructions (user space): $total for $accepted events: $((total / accepted)) per event"
echo "profile: $out"
