#!/usr/bin/env bash
# Starts or stops a throw-away PostgreSQL server for the tests that need one.
#
#   postgres_server.sh start DIR PORT [ADDRESS]
#                                       makes a cluster in DIR (a fresh folder), starts it listening on a
#                                       Unix socket in DIR only (PORT names the socket; no TCP port is
#                                       taken) and writes the URL of its `postgres` database to DIR/url;
#                                       with ADDRESS, also on TCP at ADDRESS:PORT, trusting the hosts of
#                                       its subnet (simulated hosts, tests/netns/hosts.sh), and the URL
#                                       names ADDRESS
#   postgres_server.sh restart DIR      stops it (fast: its connections are cut) and starts it again
#   postgres_server.sh stop DIR         stops it and removes DIR
#
# initdb and postgres refuse to run as root, so as root the server runs as the `postgres` user. The
# cluster trades durability for speed (fsync off): it lives for one test run.
set -euo pipefail

action=${1:?start or stop}
dir=${2:?folder}

bin=""
for candidate in /usr/lib/postgresql/*/bin; do # the newest version installed
    if [[ -x "$candidate/initdb" ]] && { [[ -z "$bin" ]] || [[ "$(printf '%s\n%s\n' "$bin" "$candidate" | sort -V | tail -n 1)" == "$candidate" ]]; }; then
        bin=$candidate
    fi
done
if [[ -z "$bin" || ! -x "$bin/initdb" ]]; then
    # The tests that need the server skip, saying why, when DIR/url is missing.
    echo "postgres_server: no PostgreSQL server here (install the postgresql package)" >&2
    [[ "$action" == start ]] && rm -rf "$dir"
    exit 0
fi

as_owner() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

case "$action" in
start)
    port=${3:?port}
    if [[ -e "$dir/data/postmaster.pid" ]]; then
        as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    mkdir -p "$dir"
    [[ $(id -u) -eq 0 ]] && chown postgres: "$dir"
    as_owner "$bin/initdb" -D "$dir/data" -A trust -U tunelab -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2
        exit 1
    }
    address=${4:-}
    [[ -n "$address" ]] && echo "host all all samenet trust" >>"$dir/data/pg_hba.conf"
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
        -o "-k $dir -p $port -c listen_addresses='$address' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
        start >/dev/null || {
        cat "$dir/server.log" >&2
        exit 1
    }
    if [[ -n "$address" ]]; then
        echo "postgresql://tunelab@$address:$port/postgres" >"$dir/url"
    else
        echo "postgresql://tunelab@/postgres?host=$dir&port=$port" >"$dir/url"
    fi
    chmod a+r "$dir/url"
    echo "postgres_server: running in $dir, port $port"
    ;;
restart)
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -m fast -w -t 30 restart >/dev/null || {
        cat "$dir/server.log" >&2
        exit 1
    }
    ;;
stop)
    if [[ -e "$dir/data/postmaster.pid" ]]; then
        as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    fi
    rm -rf "$dir"
    ;;
*)
    echo "usage: postgres_server.sh start DIR PORT | restart DIR | stop DIR" >&2
    exit 2
    ;;
esac
