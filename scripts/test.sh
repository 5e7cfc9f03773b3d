#!/usr/bin/env bash
# Every check and test of Wallboard: formatting, lints (native and wasm32), unit,
# integration and end-to-end tests. Installs what is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

echo "== cargo fmt --check"
cargo fmt --all --check
echo "== cargo clippy (native)"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo clippy (wasm32: shared wire types)"
cargo clippy -p wallboard-shared --target wasm32-unknown-unknown --locked -- -D warnings
echo "== cargo test"
cargo test --workspace --locked
