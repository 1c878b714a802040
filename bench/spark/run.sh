#!/usr/bin/env bash
# Lambdaflow's speed and batch layers against the seeds' Spark jobs (seed_*.py) and a careful
# Spark engineer's (careful_*.py), on the same real Apache Kafka topic and data, in one run; prints
# the tables of bench/README.md's "Lambdaflow against Spark" section.
#   bench/spark/run.sh [--events 1000000] [--partitions 8] [--live 20] [--probes 10] [--only SIDES]
#                      [--no-batch] [--json FILE] [--keep]
# The binary: LAMBDAFLOW_BIN, else build/release/src/cli/lambdaflow. Needs what
# scripts/install-deps.sh installs (OpenJDK 17, Maven, PostgreSQL, node and the tests' npm
# packages); PySpark, confluent-kafka (scripts/pyenv.sh) and the Spark jars (bench/spark/jars.sh)
# are fetched on first use.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export LF_PYTHON
LF_PYTHON=$("$ROOT/scripts/pyenv.sh" | tail -n 1)
export SPARK_BENCH_JARS
SPARK_BENCH_JARS=$("$ROOT/bench/spark/jars.sh" | tail -n 1)
exec node "$ROOT/bench/spark/bench.mjs" "$@"
