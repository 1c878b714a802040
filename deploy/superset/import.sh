#!/usr/bin/env bash
# Imports Lambdaflow's Superset dashboards (the YAML beside this script) into the Superset that
# SUPERSET_CONFIG_PATH configures, connected to the PostgreSQL that LAMBDAFLOW_PG_URI names.
#   LAMBDAFLOW_PG_URI=postgresql://USER@HOST:PORT/DB [PGPASSWORD=...] deploy/superset/import.sh [--user admin]
#   deploy/superset/import.sh --zip-only FILE    # only write the bundle, e.g. to upload it in Superset's UI
# The password goes in the URI or in PGPASSWORD, never on the command line; it is not printed. It
# does travel inside the bundle (Superset stores it encrypted with its SECRET_KEY): the bundle is
# written readable by its owner only and, unless --zip-only, removed once imported.
# Superset comes from scripts/superset-env.sh unless SUPERSET_BIN names another `superset`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
user=admin
zip_only=
while [ $# -gt 0 ]; do
  case $1 in
    --user) user=${2:?--user needs a name}; shift 2 ;;
    --zip-only) zip_only=${2:?--zip-only needs a file}; shift 2 ;;
    -h | --help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "import.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ -n "${LAMBDAFLOW_PG_URI:-}" ] || {
  echo "import.sh: set LAMBDAFLOW_PG_URI, e.g. postgresql://superset_reader@127.0.0.1:5432/lambdaflow (password in PGPASSWORD)" >&2
  exit 2
}

if [ -n "${SUPERSET_BIN:-}" ]; then
  superset=$SUPERSET_BIN
  python=$(dirname "$(command -v "$superset")")/python
else
  python=$("$root/scripts/superset-env.sh" | tail -n 1)
  superset=$(dirname "$python")/superset
fi

if [ -n "$zip_only" ]; then
  exec "$python" "$here/bundle.py" --out "$zip_only"
fi
[ -n "${SUPERSET_CONFIG_PATH:-}" ] ||
  echo "import.sh: SUPERSET_CONFIG_PATH is not set: importing into Superset's default configuration" >&2

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$python" "$here/bundle.py" --out "$tmp/lambdaflow-dashboards.zip"
"$superset" import-dashboards --path "$tmp/lambdaflow-dashboards.zip" --username "$user"
echo "import.sh: imported into Superset as user $user"
