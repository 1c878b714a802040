#!/usr/bin/env bash
# A/B of the telecom speed layer between two lambdaflow binaries (OLD, NEW: default this build):
# both drain the same topic of the embedded broker into PostgreSQL (speed-pg, no lake),
# alternately, each round with its own group and database; prints wall, CPU and peak RSS.
#   OLD=/path/to/old/lambdaflow EVENTS=4000000 ROUNDS=4 bench/ab_speed.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
NEW=${NEW:-$root/build/release/src/cli/lambdaflow}
OLD=${OLD:?set OLD to the lambdaflow binary to compare with (e.g. built from an earlier commit)}
EVENTS=${EVENTS:-1000000}
ROUNDS=${ROUNDS:-3}
dir=$(mktemp -d /tmp/ab.XXXXXX); chmod 755 "$dir"
uri=$("$root/scripts/pgcluster.sh" start "$dir/pg" | tail -1)
$NEW broker --listen 127.0.0.1:0 --topic devices --partitions 16 > "$dir/broker.out" 2>&1 &
bpid=$!
for i in $(seq 50); do grep -q 'listening on' "$dir/broker.out" && break; sleep 0.2; done
brokers=$(sed -n 's/^broker: listening on //p' "$dir/broker.out")
$NEW simulate --brokers "$brokers" --events "$EVENTS" --start 2026-11-22T00:00:00Z --seed 1 -X linger.ms=1000 > /dev/null 2>&1
for r in $(seq "$ROUNDS"); do
  for who in old new; do
    bin=$OLD; [ $who = new ] && bin=$NEW
    db="ab_${who}_$r"
    psql "$uri" -qc "CREATE DATABASE $db" >/dev/null
    dburi="${uri%/*}/$db"
    $bin provision --pg "$dburi" >/dev/null 2>&1
    start=$(date +%s.%N)
    /usr/bin/time -f "%U %S %M" -o "$dir/time" $bin speed --brokers "$brokers" --pg "$dburi" --group "ab-$who-$r" --exit-when-idle 1s >/dev/null 2>&1
    end=$(date +%s.%N)
    read -r u s m < "$dir/time"
    events=$(psql "$dburi" -Atc "SELECT sum(events) FROM lf_offsets")
    echo "$who round $r: wall $(echo "$end - $start - 1" | bc) s, cpu $(echo "$u + $s" | bc) s, rss ${m} kB, events $events"
  done
done
kill $bpid
"$root/scripts/pgcluster.sh" stop "$dir/pg" >/dev/null
rm -rf "$dir"
