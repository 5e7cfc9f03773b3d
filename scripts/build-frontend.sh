#!/usr/bin/env bash
# Builds the dashboard into frontend/dist/, which the server serves at `/`:
#   cargo (wasm32, profile wasm-release) → wasm-bindgen --target web → wasm-opt -Oz (npm binaryen),
#   terser for the JS glue and the boot script → index.html, wallboard-boot-<id>.js, wallboard-<id>.js,
#   wallboard-<id>_bg.wasm, wallboard-<id>.css, build-id.txt, .gz copies.
# index.html has no inline script or style (the server's Content-Security-Policy allows none):
# frontend/boot.js sets the theme before the first paint, installs the test hook and starts the app.
# The build id is a hash of the outputs: identical input gives identical files. Safe to re-run.
# It installs nothing except binaryen and terser (npm, pinned in frontend/package.json) when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

BINDGEN_VERSION=0.2.130
BINARYEN_VERSION=132
# The budget was 250 KiB until the supervisor's views (workspace header, queues wall, agent
# board) came: they cost about 58 KiB gzip (243.7 -> 301.7 KiB), loaded once per build (the
# files are immutable and cached). BENCHMARKS.md has the figures.
LIMIT_KIB=330
TARGET_DIR=${CARGO_TARGET_DIR:-target}
DIST=frontend/dist

die() {
    echo "build-frontend: $*" >&2
    exit 1
}

# --- tools -------------------------------------------------------------------------------
command -v cargo >/dev/null 2>&1 || die "cargo is missing; install Rust with rustup first"
if command -v rustup >/dev/null 2>&1 && ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    die "the wasm32-unknown-unknown target is missing: rustup target add wasm32-unknown-unknown (scripts/setup.sh does it)"
fi
command -v wasm-bindgen >/dev/null 2>&1 ||
    die "wasm-bindgen is missing: cargo install wasm-bindgen-cli --version $BINDGEN_VERSION"
have=$(wasm-bindgen --version | awk '{print $2}')
[ "$have" = "$BINDGEN_VERSION" ] ||
    die "wasm-bindgen $have found, $BINDGEN_VERSION needed (the frontend pins wasm-bindgen =$BINDGEN_VERSION): cargo install wasm-bindgen-cli --version $BINDGEN_VERSION --force"
command -v gzip >/dev/null 2>&1 || die "gzip is missing"
command -v sha256sum >/dev/null 2>&1 || die "sha256sum is missing"

WASM_OPT=frontend/node_modules/.bin/wasm-opt
TERSER=frontend/node_modules/.bin/terser
if [ ! -x "$WASM_OPT" ] || [ ! -x "$TERSER" ]; then
    command -v npm >/dev/null 2>&1 || die "npm is missing (needed once, for binaryen's wasm-opt and terser)"
    echo "== npm ci (binaryen $BINARYEN_VERSION, terser)"
    (cd frontend && npm ci --no-audit --no-fund --loglevel=error)
fi
"$WASM_OPT" --version | grep -q "version $BINARYEN_VERSION" ||
    die "$WASM_OPT is not binaryen $BINARYEN_VERSION; remove frontend/node_modules and run again"

# --- build -------------------------------------------------------------------------------
echo "== cargo build (wasm32, wasm-release)"
cargo build --locked --profile wasm-release --target wasm32-unknown-unknown -p wallboard-frontend
WASM_IN="$TARGET_DIR/wasm32-unknown-unknown/wasm-release/wallboard-frontend.wasm"
[ -f "$WASM_IN" ] || die "cargo did not produce $WASM_IN"

STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT

echo "== wasm-bindgen"
wasm-bindgen --target web --no-typescript --out-dir "$STAGE" --out-name wallboard "$WASM_IN"

echo "== wasm-opt -Oz"
"$WASM_OPT" -Oz \
    --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-reference-types --enable-multivalue \
    "$STAGE/wallboard_bg.wasm" -o "$STAGE/wallboard.opt.wasm"
echo "== terser (JS glue, boot script)"
"$TERSER" "$STAGE/wallboard.js" --module --compress --mangle -o "$STAGE/wallboard.min.js"
mv -f "$STAGE/wallboard.min.js" "$STAGE/wallboard.js"
"$TERSER" frontend/boot.js --compress --mangle -o "$STAGE/boot.js"
cp style/wallboard.css "$STAGE/wallboard.css"

ID=$(cat "$STAGE/wallboard.js" "$STAGE/wallboard.opt.wasm" "$STAGE/wallboard.css" "$STAGE/boot.js" frontend/index.html |
    sha256sum | cut -c1-12)
sed "s/{{BUILD_ID}}/$ID/g" frontend/index.html >"$STAGE/index.html"
sed -i "s/{{BUILD_ID}}/$ID/g" "$STAGE/boot.js"
grep -q "$ID" "$STAGE/boot.js" || die "the boot script does not name the build (terser changed {{BUILD_ID}}?)"

# --- dist: assets first, then index.html and build-id.txt, then old builds go -----------
mkdir -p "$DIST"
install -m 644 "$STAGE/wallboard.js" "$DIST/wallboard-$ID.js"
install -m 644 "$STAGE/wallboard.opt.wasm" "$DIST/wallboard-${ID}_bg.wasm"
install -m 644 "$STAGE/wallboard.css" "$DIST/wallboard-$ID.css"
install -m 644 "$STAGE/boot.js" "$DIST/wallboard-boot-$ID.js"
for f in "wallboard-$ID.js" "wallboard-${ID}_bg.wasm" "wallboard-$ID.css" "wallboard-boot-$ID.js"; do
    gzip -9 -n -k -f "$DIST/$f"
done
gzip -9 -n -k -f "$STAGE/index.html"
install -m 644 "$STAGE/index.html.gz" "$DIST/.index.html.gz.tmp" && mv -f "$DIST/.index.html.gz.tmp" "$DIST/index.html.gz"
install -m 644 "$STAGE/index.html" "$DIST/.index.html.tmp" && mv -f "$DIST/.index.html.tmp" "$DIST/index.html"
printf '%s\n' "$ID" >"$DIST/.build-id.tmp" && mv -f "$DIST/.build-id.tmp" "$DIST/build-id.txt"
find "$DIST" -maxdepth 1 -type f -name 'wallboard-*' ! -name "wallboard-$ID*" ! -name "wallboard-boot-$ID.*" -delete

# --- report ------------------------------------------------------------------------------
size() { stat -c %s "$1"; }
echo "== frontend/dist (build $ID)"
printf '  %-32s %10s %10s\n' file raw gzip
for f in index.html "wallboard-boot-$ID.js" "wallboard-$ID.js" "wallboard-${ID}_bg.wasm" "wallboard-$ID.css"; do
    printf '  %-32s %10s %10s\n' "$f" "$(size "$DIST/$f")" "$(size "$DIST/$f.gz")"
done
payload=$(($(size "$DIST/wallboard-boot-$ID.js.gz") + $(size "$DIST/wallboard-$ID.js.gz") + $(size "$DIST/wallboard-${ID}_bg.wasm.gz")))
printf '  wasm + js gzip: %d bytes (%d.%d KiB; limit %d KiB)\n' "$payload" $((payload / 1024)) \
    $((payload % 1024 * 10 / 1024)) "$LIMIT_KIB"
[ "$payload" -le $((LIMIT_KIB * 1024)) ] || die "wasm + js is $payload bytes gzip, over the $LIMIT_KIB KiB budget"
