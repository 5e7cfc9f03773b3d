#!/usr/bin/env bash
# Installs what Wallboard's build and tests need and this machine lacks. Safe to re-run:
# every step checks first and does nothing when the tool is already there.
set -euo pipefail

need_rust_component() {
    rustup component list --installed 2>/dev/null | grep -q "^$1" || rustup component add "$1"
}

if ! command -v cargo >/dev/null 2>&1; then
    echo "setup: cargo is missing; install Rust with rustup (https://rustup.rs) first" >&2
    exit 1
fi
need_rust_component rustfmt
need_rust_component clippy
rustup target list --installed | grep -q '^wasm32-unknown-unknown$' || rustup target add wasm32-unknown-unknown
