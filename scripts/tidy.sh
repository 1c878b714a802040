#!/usr/bin/env bash
# clang-tidy (the checks in .clang-tidy) over every C++ source under src/, with the compile
# commands of the release build (configured here when missing). Any finding fails the run.
#
#   scripts/tidy.sh                      # every file of src/, tests included (about 15 minutes on 2 cores)
#   scripts/tidy.sh src/postgres/*.cc    # some files
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = -h ] || [ "${1:-}" = --help ]; then sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0; fi
tidy=$(command -v clang-tidy-14 || command -v clang-tidy || true)
if [ -z "$tidy" ]; then
  echo "tidy.sh: installing clang-tidy-14" >&2
  if [ "$(id -u)" = 0 ]; then apt-get install -y -qq clang-tidy-14 >/dev/null; else sudo apt-get install -y -qq clang-tidy-14 >/dev/null; fi
  tidy=clang-tidy-14
fi
if [ ! -f build/release/compile_commands.json ]; then cmake --preset release -DLF_WERROR=ON >/dev/null; fi
# Generated headers (none today) would need a build first; the sources compile as they are.
if [ $# -gt 0 ]; then
  files=("$@")
else
  mapfile -t files < <(git ls-files 'src/*.cc')
fi
# GCC-only warning flags of the build are unknown to clang: not a finding. clang-tidy's count of
# the warnings it suppressed (system headers) is noise.
set +e
printf '%s\n' "${files[@]}" |
  xargs -P "$(nproc)" -n 4 "$tidy" -p build/release --quiet --extra-arg=-Wno-unknown-warning-option 2>&1 |
  grep -v ' warnings\? generated\.$'
status=${PIPESTATUS[1]}
set -e
if [ "$status" -ne 0 ]; then echo "tidy: findings above (clang-tidy exit $status)" >&2; exit 1; fi
echo "tidy: ${#files[@]} file(s) clean"
