# Throwaway PostgreSQL clusters for scripts (source this file; bash).
#
#   pg_start DIR PORT [OPTIONS...]   initdb into DIR/data (once), start on 127.0.0.1:PORT with
#                                    its unix socket in DIR and trust authentication; extra
#                                    server OPTIONS such as "-c fsync=off". Returns non-zero
#                                    (the log printed) when the server does not start.
#   pg_stop DIR [MODE]               pg_ctl stop (MODE fast by default; immediate, smart)
#   pg_url PORT [DATABASE]           postgres://postgres@127.0.0.1:PORT/DATABASE (postgres)
#   pg_free_port                     a loopback port free now
#
# PostgreSQL refuses to run as root: as root, the server runs as the user `postgres`, which
# then owns DIR (its parent directories must let `postgres` through).

# The server binaries: on PATH, else Debian's versioned directories (newest first).
pg_find_bin() {
    if ! command -v initdb >/dev/null 2>&1; then
        local bin
        for bin in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV); do
            if [ -x "$bin/initdb" ]; then
                PATH="$bin:$PATH"
                break
            fi
        done
    fi
    local tool
    for tool in initdb pg_ctl postgres; do
        if ! command -v "$tool" >/dev/null 2>&1; then
            echo "postgres.sh: $tool not found; install PostgreSQL (scripts/setup.sh test does)" >&2
            return 1
        fi
    done
}

# Runs a server tool as the cluster's owner.
pg_as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

pg_free_port() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
    else
        echo $((20000 + RANDOM % 40000))
    fi
}

pg_url() {
    echo "postgres://postgres@127.0.0.1:$1/${2:-postgres}"
}

pg_start() {
    local dir="$1" port="$2"
    shift 2
    pg_find_bin || return 1
    mkdir -p "$dir"
    chmod 755 "$dir"
    if [ "$(id -u)" = 0 ]; then
        chown postgres: "$dir"
    fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        (cd "$dir" && pg_as_owner initdb -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C) \
            >"$dir/initdb.log" 2>&1 || {
            cat "$dir/initdb.log" >&2
            return 1
        }
    fi
    local options="-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$dir -c max_connections=200 $*"
    (cd "$dir" && pg_as_owner pg_ctl -D "$dir/data" -l "$dir/server.log" -w -t 60 -o "$options" start) >/dev/null || {
        echo "postgres.sh: the server did not start on port $port:" >&2
        cat "$dir/server.log" >&2 || true
        return 1
    }
}

pg_stop() {
    local dir="$1" mode="${2:-fast}"
    if [ -f "$dir/data/postmaster.pid" ]; then
        (cd "$dir" && pg_as_owner pg_ctl -D "$dir/data" -m "$mode" -w stop) >/dev/null 2>&1 || true
    fi
}
