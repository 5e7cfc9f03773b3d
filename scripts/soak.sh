#!/usr/bin/env bash
# The soak: is memory flat when Wallboard runs unattended for weeks? It builds the release
# server and the dashboard, then runs the e2e binary's ignored `soak` test
# (backend/tests/e2e/soak.rs): `wallboard serve` with the simulator at a --sim-speed that
# fits SIM_DAYS simulated days into MINUTES of wall time, VIEWERS WebSocket viewers that
# come and go, and a kiosk page (?kiosk=1&rotate=ROTATE) in headless Chromium. Every SAMPLE
# seconds it records the server's RSS, the page's JS heap (after a forced GC), its wasm
# memory, its DOM nodes and the browser's RSS into OUT/soak.csv; at the end it fits a line
# to each series after the warm-up and fails when one rises beyond noise (or the page
# stopped showing numbers, or was reloaded). OUT/summary.md holds the table.
#   scripts/soak.sh [--minutes 150] [--sim-days 7] [--viewers 50] [--rotate 30] [--sample 60]
#                   [--warmup MINUTES (70, at most half the run)] [--retention-days 1]
#                   [--out target/soak] [--no-build]
# Needs Chromium and ChromeDriver (scripts/setup.sh; CHROME_BIN, CHROMEDRIVER override).
# The retention is short by default so that the server reaches its steady state (a
# retention's worth of events in memory) early: with the default 30 days it would grow,
# rightly, for all 7 simulated days. The page needs an hour of wall time to warm up (the
# rotating kiosk's trends keep the last hour, one sample a second per workflow), hence the
# 70-minute warm-up and the default of 150 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."

minutes=150 sim_days=7 viewers=50 rotate=30 sample=60 warmup="" retention=1 out="" build=1
while [ $# -gt 0 ]; do
    case "$1" in
    --minutes) minutes=$2; shift 2 ;;
    --sim-days) sim_days=$2; shift 2 ;;
    --viewers) viewers=$2; shift 2 ;;
    --rotate) rotate=$2; shift 2 ;;
    --sample) sample=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --retention-days) retention=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    *) echo "soak: unknown option $1 (see the head of $0)" >&2; exit 2 ;;
    esac
done

target_dir=${CARGO_TARGET_DIR:-target}
if [ "$build" = 1 ]; then
    cargo build --locked --release -p wallboard --bin wallboard
    scripts/build-frontend.sh
fi
[ -x "$target_dir/release/wallboard" ] || { echo "soak: no $target_dir/release/wallboard (drop --no-build)" >&2; exit 1; }
[ -f frontend/dist/index.html ] || { echo "soak: the dashboard is not built (drop --no-build)" >&2; exit 1; }

export SOAK_SERVER_BIN="$PWD/$target_dir/release/wallboard"
case "$target_dir" in /*) SOAK_SERVER_BIN="$target_dir/release/wallboard" ;; esac
export SOAK_MINUTES=$minutes SOAK_SIM_DAYS=$sim_days SOAK_VIEWERS=$viewers SOAK_ROTATE=$rotate
export SOAK_SAMPLE_SECS=$sample SOAK_RETENTION_DAYS=$retention
[ -n "$warmup" ] && export SOAK_WARMUP_MINUTES=$warmup
[ -n "$out" ] && export SOAK_OUT=$out
# The server serves a copy of the dashboard: a build during the hours of the run (a test run,
# another checkout's script) must not hand the kiosk a new bundle, which it would load.
assets="${out:-target/soak}/dist"
rm -rf "$assets" && mkdir -p "$(dirname "$assets")" && cp -r frontend/dist "$assets"
export SOAK_ASSETS_DIR=$PWD/$assets
case "$assets" in /*) SOAK_ASSETS_DIR=$assets ;; esac
echo "== soak: $minutes min, $sim_days simulated days, $viewers viewers, kiosk rotate=$rotate s"
cargo test --locked -p wallboard --test e2e soak::soak -- --ignored --exact --nocapture
