#!/usr/bin/env bash
# Installs what is missing, builds, and runs `lambdaflow up`: the whole pipeline on this machine
# with embedded defaults (embedded broker, a private PostgreSQL under ./lambdaflow-data/postgres,
# simulator, speed layer, batch runs, dashboard). It prints the dashboard URL and where everything
# is; Ctrl-C stops it all, and running it again resumes with the same database and lake.
# Extra arguments go to `lambdaflow up` (e.g. --speedup 60 so hours close every minute).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh release >/dev/null
exec build/release/src/cli/lambdaflow up --storage "${LAMBDAFLOW_DATA:-$PWD/lambdaflow-data}" "$@"
