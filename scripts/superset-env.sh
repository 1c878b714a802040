#!/usr/bin/env bash
# Apache Superset (the seeds' dashboard) with the PostgreSQL driver, from PyPI, in a virtual
# environment under .tools/superset-venv (downloads cached in .tools/pip-cache). Every package is
# pinned by deploy/superset/constraints.txt; a changed pin rebuilds the environment. Idempotent and
# quiet when it is there; prints the environment's python as the last line (`superset` is beside it).
#   scripts/superset-env.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ENV=.tools/superset-venv
SUPERSET_VERSION=6.0.0
CONSTRAINTS=deploy/superset/constraints.txt
# Superset 6.0.0 imports rich without declaring it; the rest of the list is what the seeds' stack needs.
PACKAGES=("apache-superset==$SUPERSET_VERSION" psycopg2-binary rich)
STAMP="$ENV/.lambdaflow-stamp"
want="$SUPERSET_VERSION $(sha256sum "$CONSTRAINTS" | cut -d' ' -f1)"

if [ -x "$ENV/bin/superset" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$want" ] &&
  "$ENV/bin/python" -c 'import importlib.util as u, sys
sys.exit(0 if all(u.find_spec(m) for m in ("psycopg2", "rich", "superset")) else 1)' 2>/dev/null; then
  echo "$PWD/$ENV/bin/python"
  exit 0
fi
command -v python3 >/dev/null || { echo "superset-env: python3 missing (run scripts/install-deps.sh)" >&2; exit 1; }
python3 -c 'import sys; sys.exit(0 if (3, 10) <= sys.version_info[:2] <= (3, 12) else 1)' ||
  { echo "superset-env: Superset $SUPERSET_VERSION needs Python 3.10 to 3.12, python3 is $(python3 -V 2>&1)" >&2; exit 1; }
echo "superset-env: installing apache-superset $SUPERSET_VERSION into $ENV (a minute or two the first time)" >&2
rm -rf "$ENV"
python3 -m venv "$ENV" || { echo "superset-env: python3 -m venv failed (Debian package python3-venv)" >&2; exit 1; }
PIP_CACHE_DIR="$PWD/.tools/pip-cache" "$ENV/bin/pip" install --quiet --disable-pip-version-check \
  -c "$CONSTRAINTS" "${PACKAGES[@]}" >&2
echo "$want" >"$STAMP"
echo "$PWD/$ENV/bin/python"
