#!/usr/bin/env bash
# A throwaway PostgreSQL server for the ledger tests and benchmarks: loopback only, a random free port, trust
# auth, data under a temporary folder. Run as root it runs the server as user `postgres` (else `nobody`).
#
#   scripts/pg_test_server.sh start [DIR]   -> prints postgresql://postgres@127.0.0.1:PORT/postgres (DIR kept)
#   scripts/pg_test_server.sh stop DIR      -> fast shutdown (the data folder stays: start DIR again resumes)
#   scripts/pg_test_server.sh destroy DIR   -> stop and delete DIR
#
# Finds initdb/pg_ctl on PATH, else under /usr/lib/postgresql/*/bin (Debian's `postgresql` package).
set -euo pipefail

bindir() {
  if command -v initdb >/dev/null 2>&1; then dirname "$(command -v initdb)"; return; fi
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  [ -n "$d" ] && [ -x "$d/initdb" ] || { echo "pg_test_server: no initdb (apt-get install postgresql)" >&2; exit 3; }
  echo "$d"
}

BIN=$(bindir)
as_pg() {
  if [ "$(id -u)" = 0 ]; then
    local u=postgres
    id -u postgres >/dev/null 2>&1 || u=nobody
    runuser -u "$u" -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

cmd=${1:-}
dir=${2:-}
case "$cmd" in
  start)
    if [ -z "$dir" ]; then dir=$(mktemp -d /tmp/wattwise-pg.XXXXXX); fi
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then
      u=postgres; id -u postgres >/dev/null 2>&1 || u=nobody
      chown "$u" "$dir"
    fi
    chmod 700 "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      as_pg "$BIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    port=$(cat "$dir/port" 2>/dev/null || free_port)
    as_pg sh -c "echo $port > '$dir/port'"
    as_pg "$BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
      -o "-h 127.0.0.1 -p $port -k $dir -c fsync=off -c full_page_writes=off -c max_connections=200" start \
      >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    echo "postgresql://postgres@127.0.0.1:$port/postgres"
    echo "$dir" >&2
    ;;
  stop)
    [ -n "$dir" ] || { echo "usage: $0 stop DIR" >&2; exit 2; }
    as_pg "$BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    ;;
  destroy)
    [ -n "$dir" ] || { echo "usage: $0 destroy DIR" >&2; exit 2; }
    as_pg "$BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 start [DIR] | stop DIR | destroy DIR" >&2; exit 2 ;;
esac
