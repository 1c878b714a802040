#!/usr/bin/env bash
# A private PostgreSQL cluster in a directory of your choice, on a free port of 127.0.0.1.
#   pgcluster.sh start DIR   initdb on first use, start; prints the connection URI on stdout
#   pgcluster.sh stop DIR [fast|immediate]   shut down (immediate: no checkpoint, like a crash)
# A restarted cluster comes back on the port it had (remembered in DIR/port), so clients that
# keep their connection string reconnect to it.
# Superuser `lambdaflow` connects from 127.0.0.1 without a password; every other role needs one
# (scram-sha-256), so password handling can be tested. Runs the server as user `postgres` when
# invoked as root (PostgreSQL refuses to run as root).
set -euo pipefail
cmd=${1:?usage: pgcluster.sh start|stop DIR}
dir=${2:?usage: pgcluster.sh start|stop DIR}
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$pgbin" ] || { echo "pgcluster: PostgreSQL server binaries not found (run scripts/install-deps.sh)" >&2; exit 1; }

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
[ "$(id -u)" = 0 ] && chown postgres "$dir"

case $cmd in
  start)
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      as_owner "$pgbin/initdb" -D "$dir/data" -U lambdaflow --auth-local=trust --auth-host=scram-sha-256 \
        -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
      {
        echo "local all all trust"
        echo "host all lambdaflow 127.0.0.1/32 trust"
        echo "host all all 127.0.0.1/32 scram-sha-256"
      } | as_owner tee "$dir/data/pg_hba.conf" >/dev/null
    fi
    if as_owner "$pgbin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
      port=$(sed -n 4p "$dir/data/postmaster.pid")
    else
      started=
      for attempt in 1 2 3 4 5 6 7 8 9 10; do
        port=$((20000 + RANDOM % 40000))
        if [ "$attempt" -le 5 ] && [ -s "$dir/port" ]; then port=$(cat "$dir/port"); fi
        if as_owner "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
          -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=200" >/dev/null 2>&1; then
          started=1
          echo "$port" >"$dir/port"
          break
        fi
      done
      [ -n "$started" ] || { echo "pgcluster: could not start PostgreSQL in $dir, see $dir/server.log" >&2; tail -n 20 "$dir/server.log" >&2; exit 1; }
      if ! "$pgbin/psql" -h 127.0.0.1 -p "$port" -U lambdaflow -d postgres -Atqc "select 1 from pg_database where datname='lambdaflow'" | grep -q 1; then
        "$pgbin/psql" -h 127.0.0.1 -p "$port" -U lambdaflow -d postgres -qc "create database lambdaflow" >/dev/null
      fi
    fi
    echo "postgresql://lambdaflow@127.0.0.1:$port/lambdaflow"
    ;;
  stop)
    mode=${3:-fast}
    case $mode in fast | immediate) ;; *) echo "pgcluster: stop mode must be fast or immediate" >&2; exit 2 ;; esac
    if [ -f "$dir/data/postmaster.pid" ]; then
      as_owner "$pgbin/pg_ctl" -D "$dir/data" -m "$mode" -w stop >/dev/null 2>&1 || true
    fi
    ;;
  *)
    echo "usage: pgcluster.sh start|stop DIR" >&2
    exit 2
    ;;
esac
