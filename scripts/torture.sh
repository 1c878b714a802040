#!/usr/bin/env bash
# The full torture suite (issue 14, docs/RELIABILITY.md): every tests/torture/*.test.mjs with
# LF_TORTURE=full (20 random SIGKILLs per layer, 30 s PostgreSQL outage, …), each against the
# embedded broker, and the Kafka-facing ones again against a real Apache Kafka. scripts/test.sh
# runs a reduced version (ctest label "torture"). Logs of failed cases stay in tests/artifacts/.
#
#   scripts/torture.sh              # everything (about 20 minutes here)
#   scripts/torture.sh speed_torture batch_torture
#
# Prints one line per case and a closing "torture: N passed, M failed".
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = -h ] || [ "${1:-}" = --help ]; then sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0; fi
scripts/install-deps.sh
if [ -x .tools/bin/node ]; then export PATH="$PWD/.tools/bin:$PATH"; fi
if [ ! -f build/release/build.ninja ]; then cmake --preset release -DLF_WERROR=ON >/dev/null; fi
cmake --build --preset release -- -j"$(nproc)" >/dev/null
scripts/kafka.sh jars >/dev/null
export LAMBDAFLOW_BIN=${LAMBDAFLOW_BIN:-$PWD/build/release/src/cli/lambdaflow} LF_SOURCE_DIR=$PWD LF_TORTURE=full
# The cases that talk to Kafka run against both brokers.
KAFKA_CASES=(speed_torture clock_skew)
cases=("$@")
if [ ${#cases[@]} -eq 0 ]; then
  for f in tests/torture/*.test.mjs; do cases+=("$(basename "$f" .test.mjs)"); done
fi
passed=0
failed=0
mkdir -p tests/artifacts
for c in "${cases[@]}"; do
  [ -f "tests/torture/$c.test.mjs" ] || { echo "torture: no case '$c' in tests/torture/" >&2; exit 2; }
  brokers=(embedded)
  if printf '%s\n' "${KAFKA_CASES[@]}" | grep -qx "$c"; then brokers+=(kafka); fi
  for b in "${brokers[@]}"; do
    start=$SECONDS
    log=tests/artifacts/torture-$c-$b.log
    if LF_TEST_BROKER=$b node --test --test-reporter=spec "tests/torture/$c.test.mjs" >"$log" 2>&1; then
      echo "torture: $c ($b) ok in $((SECONDS - start)) s"
      grep -E '^\s*ℹ ' "$log" | grep -vE 'ℹ (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) ' |
        sed 's/^\s*ℹ /    /' || true
      passed=$((passed + 1))
    else
      echo "torture: $c ($b) FAILED after $((SECONDS - start)) s; see $log" >&2
      failed=$((failed + 1))
    fi
  done
done
echo "torture: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
