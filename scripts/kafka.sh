#!/usr/bin/env bash
# A real Apache Kafka (KRaft, no ZooKeeper) on this machine's loopback, for tests and local runs.
#
#   kafka.sh start  [--nodes 1|3] [--dir DIR] [--topic NAME]... [--partitions N] [--set KEY=VALUE]...
#       Fetches the broker's jars from Maven Central on first use (cached under .tools/), formats
#       KRaft storage in DIR and starts 1 combined broker/controller, or 3 of them (replication
#       factor 3, min.insync.replicas=2), on free ports of 127.0.0.1. Waits until every node is a
#       registered broker, creates the --topic's with --partitions each (default 8; also the count
#       of topics created on first use) and prints the bootstrap address as the last line of
#       stdout. --set adds broker properties.
#   kafka.sh stop   [--dir DIR]          controlled shutdown of every node (SIGKILL after 60 s)
#   kafka.sh status [--dir DIR]          nodes, pids and the bootstrap address; exit 1 if none runs
#   kafka.sh node-stop|node-kill|node-start N [--dir DIR]
#       stops one node cleanly (SIGTERM), kills it (SIGKILL), or starts it again on its own ports
#   kafka.sh topics [--dir DIR] -- ARGS...        kafka-topics.sh (bootstrap server filled in)
#   kafka.sh run-class CLASS ARGS...              any class of the Kafka jars (its tools)
#   kafka.sh jars                                 fetches the jars only; prints their directory
#
# DIR defaults to ./lambdaflow-data/kafka. Logs: DIR/nodeN/server.log. Needs Java 17+ and Maven
# (scripts/install-deps.sh installs both from Debian).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
KAFKA_VERSION=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$ROOT/scripts/kafka/pom.xml")
JARS="$ROOT/.tools/kafka/$KAFKA_VERSION/libs"
HEAP=${LF_KAFKA_HEAP:-512m}

die() { echo "kafka.sh: $*" >&2; exit 1; }

fetch_jars() {
  [ -f "$JARS/.complete" ] && return 0
  # One fetch at a time (tests start clusters in parallel).
  mkdir -p "$ROOT/.tools/kafka"
  exec 9>"$ROOT/.tools/kafka/.fetch.lock"
  flock 9
  [ -f "$JARS/.complete" ] && { exec 9>&-; return 0; }
  command -v java >/dev/null || die "java not found (run scripts/install-deps.sh)"
  command -v mvn >/dev/null || die "mvn not found (run scripts/install-deps.sh)"
  echo "kafka.sh: fetching Apache Kafka $KAFKA_VERSION jars from Maven Central into $JARS" >&2
  rm -rf "$JARS"
  mvn -q -B -Dstyle.color=never -f "$ROOT/scripts/kafka/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$JARS" -DincludeScope=runtime -Dmaven.repo.local="$ROOT/.tools/m2" >&2 ||
    die "mvn could not fetch the Kafka jars"
  touch "$JARS/.complete"
  exec 9>&-
}

java_cmd() { # CLASS ARGS... in the foreground, with the tools' quiet logging
  java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -Dlog4j2.configurationFile="$ROOT/scripts/kafka/log4j2-tools.properties" \
    -cp "$JARS/*" "$@"
}

# A TCP port of 127.0.0.1 that nothing listens on (a connect is refused). Below the kernel's
# ephemeral range and the one scripts/pgcluster.sh draws from; `start` retries if it was taken.
free_port() {
  local port
  for _ in $(seq 1 100); do
    port=$((10000 + RANDOM % 10000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return 0; fi
  done
  die "no free port found"
}

node_alive() { # N
  local pidf="$DIR/node$1/pid"
  [ -f "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null
}

bootstrap() { cat "$DIR/bootstrap"; }

write_config() { # N NODES
  local n=$1 nodes=$2 rf=1 isr=1 voters="" i
  if [ "$nodes" -gt 1 ]; then rf=3; isr=2; fi
  for i in $(seq 1 "$nodes"); do
    voters+="${voters:+,}$i@127.0.0.1:$(cat "$DIR/node$i/controller.port")"
  done
  cat >"$DIR/node$n/server.properties" <<EOF
process.roles=broker,controller
node.id=$n
listeners=PLAINTEXT://127.0.0.1:$(cat "$DIR/node$n/broker.port"),CONTROLLER://127.0.0.1:$(cat "$DIR/node$n/controller.port")
advertised.listeners=PLAINTEXT://127.0.0.1:$(cat "$DIR/node$n/broker.port")
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
controller.quorum.voters=$voters
log.dirs=$DIR/node$n/data
num.partitions=$PARTITIONS
default.replication.factor=$rf
min.insync.replicas=$isr
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$isr
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=$isr
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
log.retention.check.interval.ms=2000
EOF
  if [ -f "$DIR/extra.properties" ]; then cat "$DIR/extra.properties" >>"$DIR/node$n/server.properties"; fi
}

start_node() { # N
  local n=$1
  node_alive "$n" && return 0
  : >"$DIR/node$n/server.log"
  # setsid: the node outlives this script and is not in the caller's process group.
  KAFKA_LOG_DIR="$DIR/node$n" setsid java -Xms128m -Xmx"$HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -Djava.awt.headless=true -Dkafka.logs.dir="$DIR/node$n" \
    -Dlog4j2.configurationFile="$ROOT/scripts/kafka/log4j2.properties" \
    -cp "$JARS/*" kafka.Kafka "$DIR/node$n/server.properties" \
    >"$DIR/node$n/stdout.log" 2>&1 </dev/null &
  echo $! >"$DIR/node$n/pid"
}

# Waits until the nodes serve. On failure says why and returns 1; returns 2 if a port was taken.
wait_started() { # N...
  local n deadline=$((SECONDS + ${LF_KAFKA_START_TIMEOUT:-120}))
  for n in "$@"; do
    until grep -q "Kafka Server started" "$DIR/node$n/server.log" 2>/dev/null; do
      if ! node_alive "$n"; then
        if grep -q "Address already in use" "$DIR/node$n/server.log" "$DIR/node$n/stdout.log" 2>/dev/null; then
          echo "kafka.sh: node $n: a port was taken by another process" >&2
          return 2
        fi
        grep -E " (ERROR|FATAL) " "$DIR/node$n/server.log" | tail -n 5 >&2 || true
        tail -n 10 "$DIR/node$n/stdout.log" >&2 || true
        echo "kafka.sh: node $n exited while starting (logs in $DIR/node$n)" >&2
        return 1
      fi
      if [ $SECONDS -ge $deadline ]; then
        echo "kafka.sh: node $n not started after ${LF_KAFKA_START_TIMEOUT:-120} s (logs in $DIR/node$n)" >&2
        return 1
      fi
      sleep 0.2
    done
  done
}

# Fresh cluster storage: ports, configuration, formatted log directories.
format_cluster() {
  local n cluster_id bs=""
  printf '%s\n' "${SETS[@]}" | sed '/^$/d' >"$DIR/extra.properties"
  for n in $(seq 1 "$NODES"); do
    mkdir -p "$DIR/node$n"
    free_port >"$DIR/node$n/broker.port"
    free_port >"$DIR/node$n/controller.port"
  done
  for n in $(seq 1 "$NODES"); do write_config "$n" "$NODES"; done
  cluster_id=$(java_cmd kafka.tools.StorageTool random-uuid | tail -n 1)
  for n in $(seq 1 "$NODES"); do
    java_cmd kafka.tools.StorageTool format -t "$cluster_id" -c "$DIR/node$n/server.properties" \
      >"$DIR/node$n/format.log" 2>&1 || { cat "$DIR/node$n/format.log" >&2; die "formatting node $n failed"; }
  done
  echo "$NODES" >"$DIR/nodes"
  for n in $(seq 1 "$NODES"); do bs+="${bs:+,}127.0.0.1:$(cat "$DIR/node$n/broker.port")"; done
  echo "$bs" >"$DIR/bootstrap"
}

stop_node() { # N SIGNAL
  local n=$1 sig=$2 pid
  node_alive "$n" || return 0
  pid=$(cat "$DIR/node$n/pid")
  kill -"$sig" "$pid" 2>/dev/null || true
  for _ in $(seq 1 600); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  echo "kafka.sh: node $n did not stop within 60 s; killing it" >&2
  kill -KILL "$pid" 2>/dev/null || true
}

# ---- arguments
cmd=${1:-}
[ -n "$cmd" ] || { sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
case $cmd in -h|--help|help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
shift
DIR="$PWD/lambdaflow-data/kafka"
NODES=1
PARTITIONS=8
TOPICS=()
SETS=()
NODE=
PASS=()
if [ "$cmd" = run-class ]; then fetch_jars; java_cmd "$@"; exit; fi
while [ $# -gt 0 ]; do
  case $1 in
    --dir) DIR=${2:?--dir needs a directory}; shift 2 ;;
    --nodes) NODES=${2:?--nodes needs 1 or 3}; shift 2 ;;
    --topic) TOPICS+=("${2:?--topic needs a name}"); shift 2 ;;
    --partitions) PARTITIONS=${2:?--partitions needs a number}; shift 2 ;;
    --set) SETS+=("${2:?--set needs KEY=VALUE}"); shift 2 ;;
    --) shift; PASS=("$@"); break ;;
    -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    [0-9]*) NODE=$1; shift ;;
    *) die "unknown argument '$1' (see kafka.sh --help)" ;;
  esac
done
case $NODES in 1|3) ;; *) die "--nodes must be 1 or 3, not '$NODES'" ;; esac
[[ $PARTITIONS =~ ^[1-9][0-9]*$ ]] || die "--partitions must be a positive number, not '$PARTITIONS'"
for s in "${SETS[@]}"; do [[ $s =~ ^[a-z0-9._-]+=[^$'\n']*$ ]] || die "--set must be KEY=VALUE, not '$s'"; done
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)

case $cmd in
  jars)
    fetch_jars
    echo "$JARS"
    ;;
  start)
    fetch_jars
    command -v java >/dev/null || die "java not found (run scripts/install-deps.sh)"
    fresh=1
    # An existing cluster starts again as it was formatted, on its own ports.
    if [ -f "$DIR/nodes" ]; then NODES=$(cat "$DIR/nodes"); fresh=0; fi
    for attempt in 1 2 3 4 5; do
      [ $fresh = 1 ] && format_cluster
      for n in $(seq 1 "$NODES"); do start_node "$n"; done
      rc=0
      wait_started $(seq 1 "$NODES") || rc=$?
      [ $rc = 0 ] && break
      for n in $(seq 1 "$NODES"); do stop_node "$n" KILL; done
      if [ $rc = 2 ] && [ $fresh = 1 ] && [ $attempt -lt 5 ]; then
        echo "kafka.sh: starting again on other ports" >&2
        rm -rf "$DIR"/node* "$DIR/nodes" "$DIR/bootstrap"
        continue
      fi
      die "could not start the cluster in $DIR"
    done
    for t in "${TOPICS[@]}"; do
      rf=1; [ "$NODES" -gt 1 ] && rf=3
      java_cmd org.apache.kafka.tools.TopicCommand --bootstrap-server "$(bootstrap)" --create --if-not-exists \
        --topic "$t" --partitions "$PARTITIONS" --replication-factor "$rf" >&2
    done
    echo "kafka.sh: Apache Kafka $KAFKA_VERSION, $NODES node(s), data in $DIR" >&2
    bootstrap
    ;;
  stop)
    [ -f "$DIR/nodes" ] || exit 0
    # All nodes at once: a combined node that stops last would wait for a quorum that is gone.
    for n in $(seq 1 "$(cat "$DIR/nodes")"); do stop_node "$n" TERM & done
    wait
    ;;
  status)
    [ -f "$DIR/nodes" ] || die "no cluster in $DIR"
    up=0
    for n in $(seq 1 "$(cat "$DIR/nodes")"); do
      if node_alive "$n"; then echo "node $n: running, pid $(cat "$DIR/node$n/pid")"; up=$((up + 1))
      else echo "node $n: stopped"; fi
    done
    echo "bootstrap: $(bootstrap)"
    [ $up -gt 0 ]
    ;;
  node-stop|node-kill|node-start)
    [ -f "$DIR/nodes" ] || die "no cluster in $DIR"
    [[ $NODE =~ ^[1-9]$ ]] && [ "$NODE" -le "$(cat "$DIR/nodes")" ] || die "$cmd needs a node number of the cluster"
    case $cmd in
      node-stop) stop_node "$NODE" TERM ;;
      node-kill) stop_node "$NODE" KILL ;;
      node-start) fetch_jars; start_node "$NODE"; wait_started "$NODE" || die "node $NODE did not start" ;;
    esac
    ;;
  topics)
    fetch_jars
    java_cmd org.apache.kafka.tools.TopicCommand --bootstrap-server "$(bootstrap)" "${PASS[@]}"
    ;;
  *)
    die "unknown command '$cmd' (start, stop, status, node-stop, node-kill, node-start, topics, run-class, jars)"
    ;;
esac
