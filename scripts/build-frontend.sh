#!/usr/bin/env bash
# Builds the dashboard into frontend/dist/, which the server serves at `/`: two bundles,
#   the default one (every page but the settings) and the admin one (`--features admin`: the
#   same app with the settings page), each cargo (wasm32, profile wasm-release) →
#   wasm-bindgen --target web → wasm-opt -Oz (npm binaryen) → terser for the JS glue;
#   terser for the boot script too → index.html, wallboard-boot-<id>.js, wallboard-<id>.js,
#   wallboard-<id>_bg.wasm, wallboard-admin-<id>.js, wallboard-admin-<id>_bg.wasm,
#   wallboard-<id>.css, build-id.txt, .gz copies.
# index.html has no inline script or style (the server's Content-Security-Policy allows none):
# frontend/boot.js sets the theme before the first paint, installs the test hook and starts the
# app, loading the admin bundle for `page=settings` and the default one otherwise.
# The second cargo build differs only by the dashboard crate's feature: every dependency is
# reused, only that crate is compiled and linked again.
# The build id is a hash of all the outputs: identical input gives identical files. Safe to re-run.
# It installs nothing except binaryen and terser (npm, pinned in frontend/package.json) when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

BINDGEN_VERSION=0.2.130
BINARYEN_VERSION=132
# The budget was 250 KiB until the supervisor's views (workspace header, queues wall, agent
# board) came: they cost about 58 KiB gzip (243.7 -> 301.7 KiB), loaded once per build (the
# files are immutable and cached). BENCHMARKS.md has the figures. Raised in issue 15 (session 8):
# the trends from the server (the history frame, seeding the trend) cost 3.7 KiB, the Export
# CSV buttons (cumulative panel, agent board; the fetch with the token header and the Blob
# download) 7.0 KiB, the kiosk's burn-in and heartbeat 1.1 KiB.
LIMIT_KIB=345
# The admin bundle (the whole app and the settings page: service levels, alert rules, their
# preview), loaded only for `page=settings`: its own budget. It was the measured size
# (404.2 KiB) plus ~10 KiB; service levels per task channel on the page cost 8.9 KiB, so
# 425 KiB; the history page (issue 15), which no wall needs, is built into it only (every
# viewer may load it, for page=history) and costs it 20.5 KiB, so 440 KiB (BENCHMARKS.md
# has the figures). With the trends (2.8 KiB) and the Export buttons (6.4 KiB) of the same
# issue it measured 445.5 KiB, so 450 KiB.
ADMIN_LIMIT_KIB=450
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
WASM_IN="$TARGET_DIR/wasm32-unknown-unknown/wasm-release/wallboard-frontend.wasm"
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT

# bundle NAME [CARGO_ARGS...]: the app built with CARGO_ARGS, as $STAGE/NAME.js (minified
# glue) and $STAGE/NAME.opt.wasm. Cargo writes both builds' wasm to the same path ($WASM_IN):
# each is read before the next build.
bundle() {
    local name=$1
    shift
    echo "== cargo build (wasm32, wasm-release${*:+, $*})"
    rm -f "$WASM_IN"
    cargo build --locked --profile wasm-release --target wasm32-unknown-unknown -p wallboard-frontend "$@"
    [ -f "$WASM_IN" ] || die "cargo did not produce $WASM_IN"
    echo "== wasm-bindgen ($name)"
    wasm-bindgen --target web --no-typescript --out-dir "$STAGE" --out-name "$name" "$WASM_IN"
    echo "== wasm-opt -Oz ($name)"
    "$WASM_OPT" -Oz \
        --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
        --enable-mutable-globals --enable-reference-types --enable-multivalue \
        "$STAGE/${name}_bg.wasm" -o "$STAGE/$name.opt.wasm"
    echo "== terser ($name JS glue)"
    "$TERSER" "$STAGE/$name.js" --module --compress --mangle -o "$STAGE/$name.min.js"
    mv -f "$STAGE/$name.min.js" "$STAGE/$name.js"
}
bundle wallboard
bundle wallboard-admin --features admin
cmp -s "$STAGE/wallboard.opt.wasm" "$STAGE/wallboard-admin.opt.wasm" &&
    die "the admin bundle is the default one (did cargo build the feature?)"

echo "== terser (boot script)"
"$TERSER" frontend/boot.js --compress --mangle -o "$STAGE/boot.js"
cp style/wallboard.css "$STAGE/wallboard.css"

ID=$(cat "$STAGE/wallboard.js" "$STAGE/wallboard.opt.wasm" "$STAGE/wallboard-admin.js" "$STAGE/wallboard-admin.opt.wasm" \
    "$STAGE/wallboard.css" "$STAGE/boot.js" frontend/index.html | sha256sum | cut -c1-12)
sed "s/{{BUILD_ID}}/$ID/g" frontend/index.html >"$STAGE/index.html"
sed -i "s/{{BUILD_ID}}/$ID/g" "$STAGE/boot.js"
for name in "wallboard-$ID.js" "wallboard-${ID}_bg.wasm" "wallboard-admin-$ID.js" "wallboard-admin-${ID}_bg.wasm"; do
    grep -qF "$name" "$STAGE/boot.js" || die "the boot script does not name $name (terser changed {{BUILD_ID}}?)"
done

# --- dist: assets first, then index.html and build-id.txt, then old builds go -----------
mkdir -p "$DIST"
install -m 644 "$STAGE/wallboard.js" "$DIST/wallboard-$ID.js"
install -m 644 "$STAGE/wallboard.opt.wasm" "$DIST/wallboard-${ID}_bg.wasm"
install -m 644 "$STAGE/wallboard-admin.js" "$DIST/wallboard-admin-$ID.js"
install -m 644 "$STAGE/wallboard-admin.opt.wasm" "$DIST/wallboard-admin-${ID}_bg.wasm"
install -m 644 "$STAGE/wallboard.css" "$DIST/wallboard-$ID.css"
install -m 644 "$STAGE/boot.js" "$DIST/wallboard-boot-$ID.js"
for f in "wallboard-$ID.js" "wallboard-${ID}_bg.wasm" "wallboard-admin-$ID.js" "wallboard-admin-${ID}_bg.wasm" \
    "wallboard-$ID.css" "wallboard-boot-$ID.js"; do
    gzip -9 -n -k -f "$DIST/$f"
done
gzip -9 -n -k -f "$STAGE/index.html"
install -m 644 "$STAGE/index.html.gz" "$DIST/.index.html.gz.tmp" && mv -f "$DIST/.index.html.gz.tmp" "$DIST/index.html.gz"
install -m 644 "$STAGE/index.html" "$DIST/.index.html.tmp" && mv -f "$DIST/.index.html.tmp" "$DIST/index.html"
printf '%s\n' "$ID" >"$DIST/.build-id.tmp" && mv -f "$DIST/.build-id.tmp" "$DIST/build-id.txt"
# Every file of another build goes (their names all start with `wallboard-`), and a stray
# temporary file of an interrupted run.
find "$DIST" -maxdepth 1 -type f -name 'wallboard-*' ! -name "wallboard-$ID[._]*" ! -name "wallboard-boot-$ID.*" \
    ! -name "wallboard-admin-$ID[._]*" -delete

# --- report ------------------------------------------------------------------------------
size() { stat -c %s "$1"; }
echo "== frontend/dist (build $ID)"
printf '  %-38s %10s %10s\n' file raw gzip
for f in index.html "wallboard-boot-$ID.js" "wallboard-$ID.js" "wallboard-${ID}_bg.wasm" "wallboard-admin-$ID.js" \
    "wallboard-admin-${ID}_bg.wasm" "wallboard-$ID.css"; do
    printf '  %-38s %10s %10s\n' "$f" "$(size "$DIST/$f")" "$(size "$DIST/$f.gz")"
done
# budget NAME PREFIX LIMIT_KIB: the boot script, PREFIX-<id>.js and its wasm, gzip, within LIMIT_KIB.
budget() {
    local payload
    payload=$(($(size "$DIST/wallboard-boot-$ID.js.gz") + $(size "$DIST/$2-$ID.js.gz") + $(size "$DIST/$2-${ID}_bg.wasm.gz")))
    printf '  %s bundle, wasm + js gzip: %d bytes (%d.%d KiB; limit %d KiB)\n' "$1" "$payload" $((payload / 1024)) \
        $((payload % 1024 * 10 / 1024)) "$3"
    [ "$payload" -le $(($3 * 1024)) ] || die "the $1 bundle is $payload bytes gzip, over its $3 KiB budget"
}
budget default wallboard "$LIMIT_KIB"
budget admin wallboard-admin "$ADMIN_LIMIT_KIB"
echo "  built in ${SECONDS} s"
