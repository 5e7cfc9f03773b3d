#!/usr/bin/env bash
# Every check and test of Wallboard: formatting, lints (native and wasm32), the dashboard
# build with its size budget, unit, integration and browser end-to-end tests.
# Installs what is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test

echo "== cargo fmt --check"
cargo fmt --all --check
echo "== cargo clippy (native, every crate and target)"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo clippy (wasm32: dashboard and wire types)"
cargo clippy -p wallboard-frontend -p wallboard-shared --target wasm32-unknown-unknown --locked -- -D warnings
echo "== cargo clippy (wasm32: the dashboard's admin bundle, with the settings page)"
cargo clippy -p wallboard-frontend --features admin --target wasm32-unknown-unknown --locked -- -D warnings
echo "== dashboard build (default and admin bundles: wasm-release, wasm-bindgen, wasm-opt, size budgets)"
scripts/build-frontend.sh
echo "== cargo test (unit, integration, end-to-end in headless Chromium; PostgreSQL on a throwaway cluster)"
WALLBOARD_PG_FAST=1 scripts/with-postgres.sh cargo test --workspace --locked
