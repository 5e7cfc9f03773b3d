#!/usr/bin/env bash
# Runs CMD... against a throwaway PostgreSQL cluster: initdb in a fresh temporary
# directory, a server on a free loopback port (its unix socket in that directory, trust
# authentication), WALLBOARD_TEST_DATABASE_URL exported for CMD; the cluster is stopped and
# the directory removed afterwards, whatever CMD did, and CMD's exit code is returned.
#   scripts/with-postgres.sh cargo test -p wallboard --lib storage::postgres
#   WALLBOARD_PG_FAST=1 scripts/with-postgres.sh CMD...   fsync and synchronous_commit off
#                                                        (tests: speed, not durability)
# PostgreSQL refuses to run as root: as root, the cluster runs as the user `postgres`
# (scripts/lib/postgres.sh).
set -euo pipefail

if [ "$#" -eq 0 ]; then
    echo "usage: scripts/with-postgres.sh CMD [ARGS...]" >&2
    exit 2
fi
source "$(dirname "$0")/lib/postgres.sh"
pg_find_bin

dir="$(mktemp -d "${TMPDIR:-/tmp}/wallboard-pg.XXXXXX")"
stop() {
    pg_stop "$dir" immediate
    rm -rf "$dir"
}
trap stop EXIT
trap 'exit 130' INT TERM

options=""
if [ "${WALLBOARD_PG_FAST:-}" = 1 ]; then
    options="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
fi
# Another process may take the free port before the server does: try a few.
started=""
for _ in 1 2 3 4 5; do
    port="$(pg_free_port)"
    # shellcheck disable=SC2086 # the options are words
    if pg_start "$dir" "$port" $options 2>"$dir/start.err"; then
        started=1
        break
    fi
done
if [ -z "$started" ]; then
    echo "with-postgres: the server did not start:" >&2
    cat "$dir/start.err" >&2 || true
    exit 1
fi

export WALLBOARD_TEST_DATABASE_URL="$(pg_url "$port")"
echo "with-postgres: PostgreSQL $(postgres --version | awk '{print $3}') at $WALLBOARD_TEST_DATABASE_URL" >&2
set +e
"$@"
code=$?
set -e
exit "$code"
