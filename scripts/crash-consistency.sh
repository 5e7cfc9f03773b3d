#!/usr/bin/env bash
# Crash consistency on SQLite (backend/tests/crash/): `wallboard serve` (release) on one data
# directory is killed with SIGKILL during a stream of signed callbacks from 4 concurrent
# senders, at a seeded moment, then restarted; after every restart each acknowledged event
# must be in the log and counted once. Every third cycle stops it gracefully instead (which
# writes the engine snapshot); a start that replayed in full saves one too, so every start
# after the first restart begins from a snapshot and the events stored since, kills included.
# Prints the totals (cycles, events acknowledged, lost: 0).
#   scripts/crash-consistency.sh [CYCLES]      (default 100; WALLBOARD_CRASH_SEED picks the moments)
set -euo pipefail
cd "$(dirname "$0")/.."
cycles="${1:-100}"
cargo test --release --locked -p wallboard --test crash --no-run --quiet
set +e
WALLBOARD_CRASH_CYCLES="$cycles" \
    cargo test --release --locked -p wallboard --test crash --quiet -- --nocapture 2>&1 |
    grep --line-buffered -oE "crash consistency: .*|test result.*|panicked.*|cycle [0-9]+: .*"
status=${PIPESTATUS[0]}
set -e
exit "$status"
