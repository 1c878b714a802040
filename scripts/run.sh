#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole pipeline on this machine with embedded
# defaults: a private PostgreSQL (under ./lambdaflow-data/postgres, kept between runs), the
# embedded Kafka-protocol broker, the provisioner, the simulator (real time, 5 antennas, 20
# devices) and the speed layer, plus the dashboard when the binary has `serve`. Prints where to
# look; Ctrl-C stops everything. Extra arguments go to the simulator (e.g. --rate 2000).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh release >/dev/null
bin=build/release/src/cli/lambdaflow
data=${LAMBDAFLOW_DATA:-$PWD/lambdaflow-data}
mkdir -p "$data/logs" "$data/lake"

pids=()
cleanup() {
  trap - INT TERM EXIT
  echo
  echo "stopping..."
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  scripts/pgcluster.sh stop "$data/postgres"
  echo "stopped; data kept in $data (run again to resume)"
}
trap cleanup INT TERM EXIT

pg=$(scripts/pgcluster.sh start "$data/postgres")

"$bin" broker --listen 127.0.0.1:0 >"$data/logs/broker.out" 2>"$data/logs/broker.log" &
pids+=($!)
for _ in $(seq 100); do
  grep -q "listening on" "$data/logs/broker.out" 2>/dev/null && break
  sleep 0.1
done
brokers=$(sed -n 's/^broker: listening on //p' "$data/logs/broker.out")
[ -n "$brokers" ] || { echo "broker did not start; see $data/logs/broker.log" >&2; exit 1; }

"$bin" provision --pg "$pg" 2>>"$data/logs/provision.log" >/dev/null

# The broker is in memory: a new run starts a new topic, so the speed layer's progress in
# PostgreSQL from an earlier run is reset to its beginning (its results stay in `bytes`).
"$bin" simulate --brokers "$brokers" "$@" >"$data/logs/simulate.out" 2>"$data/logs/simulate.log" &
pids+=($!)
"$bin" speed --brokers "$brokers" --pg "$pg" --storage "$data/lake" \
  --group "lambdaflow-speed-$(date +%s)" >"$data/logs/speed.out" 2>"$data/logs/speed.log" &
pids+=($!)

dashboard="(not built yet: lambdaflow serve arrives with the dashboard)"
if "$bin" serve --help >/dev/null 2>&1; then
  "$bin" serve --pg "$pg" --listen 127.0.0.1:8080 >"$data/logs/serve.out" 2>"$data/logs/serve.log" &
  pids+=($!)
  for _ in $(seq 100); do
    grep -q "listening on" "$data/logs/serve.out" 2>/dev/null && break
    sleep 0.1
  done
  dashboard=$(sed -n 's/^serve: listening on //p' "$data/logs/serve.out")
fi

cat <<INFO
Lambdaflow is running.
  dashboard:   $dashboard
  PostgreSQL:  $pg        (psql "$pg" -c 'select * from bytes order by timestamp desc limit 10')
  broker:      $brokers   (topic devices, 8 partitions; kcat -b $brokers -L)
  lake:        $data/lake
  logs:        $data/logs/
Ctrl-C stops everything.
INFO
while true; do
  for pid in "${pids[@]}"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "a component exited; see $data/logs/" >&2
      exit 1
    fi
  done
  sleep 10
  psql "$pg" -Atqc "select 'status: ' || coalesce(sum(events),0) || ' events, ' || coalesce(sum(bad),0) || ' bad, ' || coalesce(sum(late),0) || ' late, lag ' || coalesce(sum(lag),0) || ', watermark ' || coalesce(to_char(to_timestamp(min(max_event_time_s) - 60) at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), 'none') from lf_offsets where pipeline like 'lambdaflow-speed-%' and updated_at > now() - interval '1 hour'" 2>/dev/null || true
done
