#!/usr/bin/env bash
# Installs what is missing, builds (release preset, warnings as errors) and runs the whole test
# suite under ctest: unit tests, integration and end-to-end tests (private PostgreSQL, the embedded
# broker and a real Apache Kafka, DuckDB as the oracle), then the fuzz targets for a bounded time
# (scripts/fuzz.sh), and the unit tests under ASan+UBSan and TSan (scripts/sanitize.sh). Test
# artifacts land in tests/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
# Node.js 20 for the tests when the system's is older (see install-deps.sh).
if [ -x .tools/bin/node ]; then export PATH="$PWD/.tools/bin:$PATH"; fi
if [ ! -f build/release/build.ninja ]; then cmake --preset release -DLF_WERROR=ON >/dev/null; fi
cmake --build --preset release -- -j"$(nproc)"
mkdir -p tests/artifacts
# The real Apache Kafka of the kafka-labelled tests: its jars from Maven Central, cached in .tools/.
scripts/kafka.sh jars >/dev/null
# The Python peers of the interop tests (pyarrow, PySpark, confluent-kafka, fastavro), from PyPI,
# cached in .tools/.
scripts/pyenv.sh >/dev/null
# Superset for the peers_superset test, pinned, cached in .tools/superset-venv.
scripts/superset-env.sh >/dev/null
ctest --preset release -j2 --timeout 1500 "$@"
# The unit tests again under AddressSanitizer+UBSan, and the threaded ones under ThreadSanitizer.
if [ $# -eq 0 ]; then scripts/sanitize.sh; fi
# Every parser that meets outside bytes under libFuzzer with ASan/UBSan: the committed seeds
# (regression inputs included) always, then new inputs for LF_FUZZ_SECONDS each.
if [ $# -eq 0 ]; then scripts/fuzz.sh all "${LF_FUZZ_SECONDS:-30}s"; fi
