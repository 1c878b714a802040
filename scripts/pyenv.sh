#!/usr/bin/env bash
# The Python peers of the tests and benchmarks, from PyPI, in one virtual environment under
# .tools/pyenv (downloads cached in .tools/pip-cache): pyarrow (an independent Parquet reader),
# PySpark (the seeds' engine; runs on Debian's OpenJDK 17), and the seed-004 notebooks' Kafka
# clients, confluent-kafka with its schema-registry client and fastavro. Every version is pinned,
# the transitive ones too. Idempotent and quiet when the environment matches this list; prints the
# environment's python as the last line.
#   scripts/pyenv.sh
# First install on this 2-core machine: ~70 s from PyPI (pyspark is a 450 MB source archive built
# into a wheel), ~20 s from a filled .tools/pip-cache; later calls return at once.
set -euo pipefail
cd "$(dirname "$0")/.."
ENV=.tools/pyenv
PACKAGES=(
  pyarrow==26.0.1
  # PySpark 4.2.0: the newest release whose spark-sql-kafka-0-10_2.13 connector is on Maven
  # Central (bench/spark/jars.sh fetches it).
  pyspark==4.2.0
  py4j==0.10.9.9
  'confluent-kafka[avro,schemaregistry]==2.16.1'
  fastavro==1.13.1
  # confluent-kafka's schema-registry and Avro extras.
  anyio==4.16.0 attrs==26.1.0 authlib==1.9.10 avro==1.12.2 cachetools==8.0.2
  certifi==2026.10.19.post1 cffi==2.1.1 charset_normalizer==3.5.3 cryptography==50.0.2
  h11==0.16.0 httpcore2==2.16.2 httpx2==2.16.2 idna==3.20 joserfc==1.8.0 pycparser==3.12
  requests==2.34.2 truststore==0.10.5 typing-extensions==4.16.0 urllib3==2.8.0
)
STAMP="$ENV/.lf-packages"
wanted=$(printf '%s\n' "${PACKAGES[@]}")
current() { [ -x "$ENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$wanted" ]; }
if current; then
  echo "$PWD/$ENV/bin/python"
  exit 0
fi
command -v python3 >/dev/null || { echo "pyenv: python3 missing (run scripts/install-deps.sh)" >&2; exit 1; }
# Tests call this in parallel: one installs, the others wait for it.
mkdir -p .tools
exec 9>.tools/pyenv.lock
flock 9
if ! current; then
  # An environment that runs is extended in place (another test may be using its pyarrow);
  # a broken one is made anew.
  if ! { [ -x "$ENV/bin/python" ] && "$ENV/bin/python" -c 'import sys' 2>/dev/null; }; then
    rm -rf "$ENV"
    python3 -m venv "$ENV" || { echo "pyenv: python3 -m venv failed (Debian package python3-venv)" >&2; exit 1; }
  fi
  echo "pyenv: installing ${#PACKAGES[@]} pinned packages into $ENV (pyspark takes a minute the first time)" >&2
  PIP_CACHE_DIR="$PWD/.tools/pip-cache" "$ENV/bin/pip" install --quiet --disable-pip-version-check "${PACKAGES[@]}" >&2
  printf '%s\n' "$wanted" >"$STAMP"
fi
exec 9>&-
echo "$PWD/$ENV/bin/python"
