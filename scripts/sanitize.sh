#!/usr/bin/env bash
# The unit tests under sanitizers (issue 14):
#   asan   every unit test (ctest label "unit") built with AddressSanitizer and
#          UndefinedBehaviorSanitizer (CMake preset `asan`);
#   tsan   the speed layer's and the schema registry's unit tests (threads: commits beside
#          consumption, the registry's request handlers) with ThreadSanitizer (preset `tsan`).
# Any report fails the run. Called by scripts/test.sh; alone:
#   scripts/sanitize.sh            # both
#   scripts/sanitize.sh asan|tsan
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = -h ] || [ "${1:-}" = --help ]; then sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0; fi
which=${1:-all}
case $which in all | asan | tsan) ;; *) echo "sanitize.sh: unknown '$which' (asan, tsan or nothing)" >&2; exit 2 ;; esac
if [ -x .tools/bin/node ]; then export PATH="$PWD/.tools/bin:$PATH"; fi
UNIT_TARGETS=(common_test json_test config_test serve_test lake_test postgres_test postgres_sink_test window_test pipeline_test
  sim_test parquet_test ingest_csv_test ingest_test kafka_test registry_test avro_test speed_test batch_test)
TSAN_TARGETS=(speed_test registry_test)

run() { # preset, ctest regex or label args, targets…
  local preset=$1 filter=$2
  shift 2
  local start=$SECONDS
  if [ ! -f "build/$preset/build.ninja" ]; then cmake --preset "$preset" -DLF_BUILD_BENCH=OFF >/dev/null; fi
  cmake --build --preset "$preset" --target "$@" -- -j"$(nproc)" >/dev/null
  local built=$((SECONDS - start))
  # halt_on_error: the first report fails the test that made it.
  ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=0 \
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
    ctest --preset "$preset" -j"$(nproc)" --timeout 600 $filter
  echo "sanitize: $preset passed (built in ${built} s, ran in $((SECONDS - start - built)) s)"
}

if [ "$which" = all ] || [ "$which" = asan ]; then run asan "-L unit" "${UNIT_TARGETS[@]}"; fi
if [ "$which" = all ] || [ "$which" = tsan ]; then
  run tsan "-R ^(SpeedJobTest|ServiceTest)[.]" "${TSAN_TARGETS[@]}"
fi
