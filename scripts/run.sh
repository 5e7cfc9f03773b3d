#!/usr/bin/env bash
# Builds the dashboard and the server (release) and runs Wallboard. Arguments go to
# `wallboard`, e.g.  scripts/run.sh --bind 127.0.0.1:8080 --data-dir ./data
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build-frontend.sh
cargo build --release --locked -p wallboard
exec target/release/wallboard "$@"
