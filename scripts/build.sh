#!/usr/bin/env bash
# Configures and builds Lambdaflow with a CMake preset (default: release). The binary ends up in
# build/<preset>/src/cli/lambdaflow.
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-release}
if [ ! -f "build/$preset/build.ninja" ]; then
  cmake --preset "$preset" >/dev/null
fi
cmake --build --preset "$preset" -- -j"$(nproc)"
