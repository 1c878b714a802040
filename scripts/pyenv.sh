#!/usr/bin/env bash
# The Python peers of the tests (independent readers of our Parquet), from PyPI, in a virtual
# environment under .tools/pyenv (downloads cached in .tools/pip-cache). Idempotent and quiet when
# it is there; prints the environment's python as the last line.
#   scripts/pyenv.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ENV=.tools/pyenv
PACKAGES=(pyarrow==26.0.1)
if [ -x "$ENV/bin/python" ] && "$ENV/bin/python" -c 'import pyarrow' 2>/dev/null; then
  echo "$PWD/$ENV/bin/python"
  exit 0
fi
command -v python3 >/dev/null || { echo "pyenv: python3 missing (run scripts/install-deps.sh)" >&2; exit 1; }
rm -rf "$ENV"
python3 -m venv "$ENV" || { echo "pyenv: python3 -m venv failed (Debian package python3-venv)" >&2; exit 1; }
PIP_CACHE_DIR="$PWD/.tools/pip-cache" "$ENV/bin/pip" install --quiet --disable-pip-version-check "${PACKAGES[@]}" >&2
echo "$PWD/$ENV/bin/python"
