#!/usr/bin/env bash
# Builds the libFuzzer targets (CMake preset `fuzz`: clang, AddressSanitizer and
# UndefinedBehaviorSanitizer) and runs them: first every seed of fuzz/corpus/TARGET/ (always),
# then new inputs for DURATION. A crash, leak, undefined behaviour, timeout (10 s per input) or an
# input using more than 2 GB fails the run; its input is kept in fuzz/findings/ to become a
# regression test (add it to the target's corpus once fixed).
#
#   scripts/fuzz.sh                      # every target, 60 s each
#   scripts/fuzz.sh fuzz_parquet_reader 10m
#   scripts/fuzz.sh all 30s
#   scripts/fuzz.sh --list
#
# Prints a closing line "fuzz: N passed, M failed". New coverage-increasing inputs go to a
# temporary directory; pass KEEP_CORPUS=1 to merge them into fuzz/corpus/ afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
targets=(fuzz_json_event fuzz_parquet_reader fuzz_parquet_thrift fuzz_serve_request fuzz_conninfo fuzz_time
  fuzz_pipeline_yaml fuzz_json_record fuzz_csv_reader fuzz_landing_decoder fuzz_avro fuzz_registry_request)

if [ "${1:-}" = --list ]; then printf '%s\n' "${targets[@]}"; exit 0; fi
if [ "${1:-}" = -h ] || [ "${1:-}" = --help ]; then sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0; fi
which=${1:-all}
duration=${2:-60s}
case $duration in
  *ms) seconds=1 ;;
  *h) seconds=$((${duration%h} * 3600)) ;;
  *m) seconds=$((${duration%m} * 60)) ;;
  *s) seconds=${duration%s} ;;
  *) seconds=$duration ;;
esac
[[ $seconds =~ ^[0-9]+$ ]] && [ "$seconds" -gt 0 ] || { echo "fuzz.sh: bad duration '$duration' (e.g. 30s, 10m)" >&2; exit 2; }
if [ "$which" != all ]; then
  printf '%s\n' "${targets[@]}" | grep -qx "$which" || { echo "fuzz.sh: unknown target '$which' (see --list)" >&2; exit 2; }
  targets=("$which")
fi

command -v clang++-14 >/dev/null || { echo "fuzz.sh: clang++-14 not found (run scripts/install-deps.sh)" >&2; exit 1; }
if [ ! -f build/fuzz/build.ninja ]; then cmake --preset fuzz >/dev/null; fi
cmake --build --preset fuzz -- -j"$(nproc)" >/dev/null

work=$(mktemp -d /tmp/lf-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p fuzz/findings
passed=0
failed=0
for t in "${targets[@]}"; do
  mkdir -p "$work/$t"
  log=$work/$t.log
  start=$SECONDS
  # New inputs go to the first (scratch) directory; the committed seeds are only read.
  if ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1 \
    "build/fuzz/fuzz/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="fuzz/findings/$t-" "$work/$t" "fuzz/corpus/$t" >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    echo "fuzz: $t ok: ${runs:-?} inputs in $((SECONDS - start)) s, $(ls "fuzz/corpus/$t" | wc -l) seeds replayed"
    passed=$((passed + 1))
  else
    echo "fuzz: $t FAILED after $((SECONDS - start)) s; input kept in fuzz/findings/:" >&2
    grep -E "ERROR|runtime error|SUMMARY|Test unit written" "$log" | head -n 10 >&2 || tail -n 30 "$log" >&2
    failed=$((failed + 1))
  fi
  if [ "${KEEP_CORPUS:-0}" = 1 ]; then
    "build/fuzz/fuzz/$t" -merge=1 "fuzz/corpus/$t" "$work/$t" >/dev/null 2>&1 || true
  fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" = 0 ]
