#!/usr/bin/env bash
# Runs CMD... against a throwaway PostgreSQL cluster: initdb in a fresh temporary
# directory, a server on a free loopback port (its unix socket in that directory, trust
# authentication), WALLBOARD_TEST_DATABASE_URL exported for CMD; the cluster is stopped and
# the directory removed afterwards, whatever CMD did, and CMD's exit code is returned.
#   scripts/with-postgres.sh cargo test -p wallboard --lib storage::postgres
#   WALLBOARD_PG_FAST=1 scripts/with-postgres.sh CMD...   fsync and synchronous_commit off
#                                                        (tests: speed, not durability)
# PostgreSQL refuses to run as root: as root, the cluster runs as the user `postgres`.
set -euo pipefail

if [ "$#" -eq 0 ]; then
    echo "usage: scripts/with-postgres.sh CMD [ARGS...]" >&2
    exit 2
fi

# The server binaries: on PATH, else Debian's versioned directories (newest first).
if ! command -v initdb >/dev/null 2>&1; then
    for bin in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV); do
        if [ -x "$bin/initdb" ]; then
            PATH="$bin:$PATH"
            break
        fi
    done
fi
for tool in initdb pg_ctl postgres; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "with-postgres: $tool not found; install PostgreSQL (scripts/setup.sh test does)" >&2
        exit 1
    fi
done

as_owner=()
if [ "$(id -u)" = 0 ]; then
    as_owner=(runuser -u postgres --)
fi

dir="$(mktemp -d "${TMPDIR:-/tmp}/wallboard-pg.XXXXXX")"
stop() {
    "${as_owner[@]}" pg_ctl -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap stop EXIT
trap 'exit 130' INT TERM
chmod 755 "$dir"
if [ "$(id -u)" = 0 ]; then
    chown postgres: "$dir"
fi

"${as_owner[@]}" initdb -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2
    exit 1
}

options="-c listen_addresses=127.0.0.1 -c unix_socket_directories=$dir -c max_connections=200"
if [ "${WALLBOARD_PG_FAST:-}" = 1 ]; then
    options="$options -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
fi

# A free loopback port: the kernel's choice when python3 is here, else a random one;
# another process may take it before the server does, so a failed start tries again.
free_port() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
    else
        echo $((20000 + RANDOM % 40000))
    fi
}
started=""
for _ in 1 2 3 4 5; do
    port="$(free_port)"
    if "${as_owner[@]}" pg_ctl -D "$dir/data" -l "$dir/server.log" -w -t 60 -o "-p $port $options" start >/dev/null; then
        started=1
        break
    fi
done
if [ -z "$started" ]; then
    echo "with-postgres: the server did not start:" >&2
    cat "$dir/server.log" >&2 || true
    exit 1
fi

export WALLBOARD_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
echo "with-postgres: PostgreSQL $(postgres --version | awk '{print $3}') at $WALLBOARD_TEST_DATABASE_URL" >&2
set +e
"$@"
code=$?
set -e
exit "$code"
