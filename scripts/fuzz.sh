#!/usr/bin/env bash
# Fuzzes every parser the network reaches (backend/tests/fuzz/, proptest on stable): callback
# forms and Event Streams batches, query parameters, WebSocket client frames, the expression
# language, and the same generators at the real server. Release build; CASES cases per
# property (default 1,000,000: each target is several properties, so well over a million
# inputs per target), SERVER_CASES per server property (default 20,000: each is a request or
# a frame on a real socket). Prints each property's count and time. The seed is fixed
# (WALLBOARD_FUZZ_SEED, default 20261202) so a run can be repeated; change it to explore.
#   scripts/fuzz.sh [CASES [SERVER_CASES]]
#   scripts/fuzz.sh 1000000 20000 expression     # one target (a test-name filter)
set -euo pipefail
cd "$(dirname "$0")/.."
cases="${1:-1000000}"
server_cases="${2:-20000}"
filter="${3:-}"
cargo test --release --locked -p wallboard --test fuzz --no-run --quiet
start=$(date +%s)
set +e
# One property at a time, so that each one's time is its own.
WALLBOARD_FUZZ_CASES="$cases" WALLBOARD_FUZZ_SERVER_CASES="$server_cases" \
    cargo test --release --locked -p wallboard --test fuzz --quiet -- --nocapture --test-threads=1 $filter 2>&1 |
    grep --line-buffered -oE "fuzz [a-z_]+::[a-z_]+: .*|test result.*|panicked.*|FAILED.*|minimal failing.*"
status=${PIPESTATUS[0]}
set -e
echo "fuzz: $(( $(date +%s) - start )) s in all (CASES=$cases, SERVER_CASES=$server_cases, $(nproc) cores)"
exit "$status"
