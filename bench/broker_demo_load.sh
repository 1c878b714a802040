#!/usr/bin/env bash
# What each broker costs at the rates of `lambdaflow up`: the embedded broker and a real Apache
# Kafka (scripts/kafka.sh), one after the other, each with the simulator in real time (`up`'s
# defaults: 5 antennas, 20 devices, one event per device per second, times SPEEDUP) and the speed
# layer consuming into a private PostgreSQL, for DURATION seconds. Prints per broker: its CPU
# seconds and peak RSS over the run, the events produced, and the speed layer's lag at the end.
#
#   bench/broker_demo_load.sh                 # SPEEDUP=60 DURATION=120
# Environment: BUILD (default build/release), SPEEDUP, DURATION, BROKERS (embedded kafka).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$root/build/release}
speedup=${SPEEDUP:-60}
duration=${DURATION:-120}
lambdaflow=$build/src/cli/lambdaflow
[ -x "$lambdaflow" ] || { echo "broker_demo_load: $lambdaflow not built" >&2; exit 1; }

work=$(mktemp -d /tmp/lf-broker-load.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  "$root/scripts/kafka.sh" stop --dir "$work/kafka" >/dev/null 2>&1 || true
  "$root/scripts/pgcluster.sh" stop "$work/pg" || true
  rm -rf "$work"
}
trap cleanup EXIT

cpu_s() { # PID: user+system CPU seconds so far
  awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"
}
hwm_mb() { awk '/VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }

pg=$("$root/scripts/pgcluster.sh" start "$work/pg")
"$lambdaflow" provision --pg "$pg" >/dev/null 2>&1
echo "== $(date -u +%FT%TZ) on $(nproc) cores; simulator at --speedup $speedup for $duration s per broker"
printf '%-10s %12s %10s %12s %14s %8s\n' broker "broker CPU s" "CPU %" "peak RSS MB" "events sent" "lag"
for kind in ${BROKERS:-embedded kafka}; do
  sim_props=()
  if [ "$kind" = kafka ]; then
    brokers=$("$root/scripts/kafka.sh" start --dir "$work/kafka" --topic "load_$kind" --partitions 8 2>/dev/null | tail -n 1)
    bpid=$(cat "$work/kafka/node1/pid")
  else
    "$lambdaflow" broker --listen 127.0.0.1:0 --topic "load_$kind" --partitions 8 >"$work/broker.out" 2>/dev/null &
    bpid=$!
    pids+=("$bpid")
    until grep -q "listening on" "$work/broker.out" 2>/dev/null; do sleep 0.1; done
    brokers=$(sed -n 's/^broker: listening on \([^ ]*\).*/\1/p' "$work/broker.out")
    sim_props=(-X linger.ms=250) # as `up` runs it on the embedded broker
  fi
  "$lambdaflow" speed --brokers "$brokers" --topic "load_$kind" --pg "$pg" --group "load_$kind" \
    --table "bytes" >"$work/speed-$kind.out" 2>"$work/speed-$kind.err" &
  spid=$!
  pids+=("$spid")
  "$lambdaflow" simulate --brokers "$brokers" --topic "load_$kind" --speedup "$speedup" --out "$work/sim-$kind.ndjson" \
    "${sim_props[@]}" >/dev/null 2>"$work/sim-$kind.err" &
  simpid=$!
  pids+=("$simpid")
  cpu0=$(cpu_s "$bpid")
  sleep "$duration"
  cpu1=$(cpu_s "$bpid")
  hwm=$(hwm_mb "$bpid")
  kill -TERM "$simpid"; wait "$simpid" || true
  sleep 3
  kill -TERM "$spid"; wait "$spid" || true
  lag=$(grep -o 'lag [0-9-]*' "$work/speed-$kind.err" | tail -n 1 | cut -d' ' -f2)
  sent=$(wc -l <"$work/sim-$kind.ndjson")
  awk -v k="$kind" -v a="$cpu0" -v b="$cpu1" -v d="$duration" -v h="$hwm" -v n="$sent" -v l="${lag:-?}" \
    'BEGIN { printf "%-10s %12.2f %10.1f %12s %14s %8s\n", k, b - a, 100 * (b - a) / d, h, n, l }'
  if [ "$kind" = kafka ]; then "$root/scripts/kafka.sh" stop --dir "$work/kafka" >/dev/null 2>&1
  else kill "$bpid"; wait "$bpid" || true; fi
done
