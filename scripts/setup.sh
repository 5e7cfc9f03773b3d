#!/usr/bin/env bash
# Installs what Wallboard's build (and, with "test", its tests) need and this machine
# lacks. Safe to re-run: every step checks first and does nothing when the tool is there.
#   scripts/setup.sh        build tools: rustfmt, clippy, wasm32 target, wasm-bindgen-cli, npm packages
#   scripts/setup.sh test   the same plus Chromium and ChromeDriver for the browser tests and
#                           PostgreSQL for the storage tests
set -euo pipefail
cd "$(dirname "$0")/.."

WASM_BINDGEN_VERSION=0.2.130

if ! command -v cargo >/dev/null 2>&1; then
    echo "setup: cargo is missing; install Rust with rustup (https://rustup.rs) first" >&2
    exit 1
fi
rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
rustup target list --installed | grep -q '^wasm32-unknown-unknown$' || rustup target add wasm32-unknown-unknown

# wasm-bindgen-cli must match the wasm-bindgen crate exactly (pinned in frontend/Cargo.toml).
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
    echo "setup: installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 2 minutes)"
    # Without --locked: its lockfile wants a crate version the registry may lack.
    cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

# wasm-opt comes from npm's binaryen (Debian's is too old and breaks the wasm).
if ! command -v npm >/dev/null 2>&1; then
    echo "setup: npm is missing; install Node.js (with npm) first" >&2
    exit 1
fi
if [ ! -x frontend/node_modules/.bin/wasm-opt ]; then
    (cd frontend && npm ci --no-audit --no-fund)
fi

if [ "${1:-}" = "test" ]; then
    # The PostgreSQL storage tests run against a throwaway cluster (scripts/with-postgres.sh).
    if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
        echo "setup: installing PostgreSQL for the storage tests"
        if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
        $SUDO apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql
    fi
    if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
        echo "setup: installing Chromium and ChromeDriver for the browser tests"
        if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
        $SUDO apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver
    fi
    # Twilio's Python helper library parses every queue, worker and workspace resource
    # against a running server (scripts/twilio-client-check.py, run by the API tests).
    if command -v python3 >/dev/null 2>&1 && ! python3 -c 'import twilio' >/dev/null 2>&1; then
        echo "setup: installing the twilio Python helper library for the client check"
        python3 -m pip install --quiet twilio
    fi
fi
