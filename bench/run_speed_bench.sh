#!/usr/bin/env bash
# Runs bench/speed_vs_librdkafka_bench end to end: a private PostgreSQL, `lambdaflow broker` (or,
# with BROKER=kafka, a real Apache Kafka from scripts/kafka.sh) with a 64-partition topic on a free
# port, `lambdaflow simulate` filling it with EVENTS events, then the benchmark (which checks that
# every event is still on the broker before measuring). Cleans up.
#
#   bench/run_speed_bench.sh                       # 2 000 000 events, 3 rounds
#   EVENTS=500000 ROUNDS=5 PHASES=bare,speed-null bench/run_speed_bench.sh
#   BROKER=kafka PHASES=bare-batch,speed-pg bench/run_speed_bench.sh
#
# Environment: BROKER (embedded or kafka), BUILD (build dir with lambdaflow and the bench targets,
# default build/bench),
# EVENTS (2000000), ROUNDS (3), PARTITIONS (64), DEVICES (20), ANTENNAS (5), SEED (1),
# PHASES (bare,bare-batch,speed-pg,speed-null; see speed_vs_librdkafka.cc),
# SIM_PROPS (extra producer properties for simulate, e.g. "linger.ms=1000": the embedded broker
# returns ONE producer batch per partition per fetch, so the producer's batch size bounds what any
# consumer can read from it; see README.md), CONSUMER_PROPS (extra consumer properties for every
# phase, e.g. "queued.min.messages=20000").
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$root/build/bench}
events=${EVENTS:-2000000}
rounds=${ROUNDS:-3}
partitions=${PARTITIONS:-64}
devices=${DEVICES:-20}
antennas=${ANTENNAS:-5}
seed=${SEED:-1}
sim_props=()
for kv in ${SIM_PROPS:-}; do sim_props+=(-X "$kv"); done
consumer_props=()
for kv in ${CONSUMER_PROPS:-}; do consumer_props+=(-X "$kv"); done
phases=${PHASES:-bare,bare-batch,speed-pg,speed-null}
broker_kind=${BROKER:-embedded}
case $broker_kind in embedded|kafka) ;; *) echo "run_speed_bench: BROKER must be embedded or kafka" >&2; exit 2 ;; esac
lambdaflow=$build/src/cli/lambdaflow
bench=$build/bench/speed_vs_librdkafka_bench
for b in "$lambdaflow" "$bench"; do
  [ -x "$b" ] || { echo "run_speed_bench: $b not built; run: cmake --build $build --target lambdaflow speed_vs_librdkafka_bench" >&2; exit 1; }
done

work=$(mktemp -d /tmp/lf-speed-bench.XXXXXX)
chmod 755 "$work"  # PostgreSQL runs as user postgres when we are root
broker_pid=
cleanup() {
  if [ "$broker_kind" = kafka ]; then "$root/scripts/kafka.sh" stop --dir "$work/kafka" || true
  else [ -n "$broker_pid" ] && kill "$broker_pid" 2>/dev/null && wait "$broker_pid" 2>/dev/null || true; fi
  "$root/scripts/pgcluster.sh" stop "$work/pg" || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "== $(date -u +%FT%TZ) on $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
pg=$("$root/scripts/pgcluster.sh" start "$work/pg")
echo "postgres: $pg"

if [ "$broker_kind" = kafka ]; then
  brokers=$("$root/scripts/kafka.sh" start --dir "$work/kafka" --topic devices --partitions "$partitions" | tail -n 1)
  broker_pid=$(cat "$work/kafka/node1/pid")
else
  "$lambdaflow" broker --listen 127.0.0.1:0 --topic devices --partitions "$partitions" >"$work/broker.out" 2>"$work/broker.err" &
  broker_pid=$!
  brokers=
  for _ in $(seq 1 100); do
    brokers=$(sed -n 's/^broker: listening on \([^ ]*\).*/\1/p' "$work/broker.out" | head -n 1)
    [ -n "$brokers" ] && break
    kill -0 "$broker_pid" 2>/dev/null || { cat "$work/broker.err" >&2; exit 1; }
    sleep 0.1
  done
  [ -n "$brokers" ] || { echo "run_speed_bench: broker did not report its address" >&2; cat "$work/broker.err" >&2; exit 1; }
fi
echo "broker: $broker_kind at $brokers, topic devices, $partitions partitions"

echo "simulate: $events events, $devices devices, $antennas antennas, seed $seed ${SIM_PROPS:+(-X $SIM_PROPS)}"
"$lambdaflow" simulate --brokers "$brokers" --topic devices --events "$events" --seed "$seed" \
  --devices "$devices" --antennas "$antennas" --start 2026-11-22T00:00:00Z --progress 1h \
  ${sim_props[@]+"${sim_props[@]}"} 2>"$work/simulate.err" | tail -n 1
grep -iE "error|warn" "$work/simulate.err" >&2 || true

"$bench" --brokers "$brokers" --topic devices --events "$events" --pg "$pg" --rounds "$rounds" \
  --phases "$phases" --broker-pid "$broker_pid" ${consumer_props[@]+"${consumer_props[@]}"}
