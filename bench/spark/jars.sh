#!/usr/bin/env bash
# The jars bench/spark's PySpark jobs add to Spark's own: the Kafka source matching the pyspark
# of scripts/pyenv.sh and PostgreSQL's JDBC driver (bench/spark/pom.xml), fetched from Maven
# Central with Debian's `maven` on first use into .tools/spark-jars/<spark version>/ (Maven's
# repository in .tools/m2). Prints that directory.
#   bench/spark/jars.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
POM="$ROOT/bench/spark/pom.xml"
SPARK_VERSION=$(sed -n 's:.*<spark.version>\(.*\)</spark.version>.*:\1:p' "$POM")
DIR="$ROOT/.tools/spark-jars/$SPARK_VERSION"
if [ ! -f "$DIR/.complete" ] || [ "$POM" -nt "$DIR/.complete" ]; then
  command -v mvn >/dev/null || { echo "jars.sh: mvn not found (run scripts/install-deps.sh)" >&2; exit 1; }
  mkdir -p "$ROOT/.tools"
  exec 9>"$ROOT/.tools/spark-jars.lock"
  flock 9
  if [ ! -f "$DIR/.complete" ] || [ "$POM" -nt "$DIR/.complete" ]; then
    echo "jars.sh: fetching spark-sql-kafka-0-10 $SPARK_VERSION and the PostgreSQL JDBC driver into $DIR" >&2
    rm -rf "$DIR"
    mvn -q -B -Dstyle.color=never -f "$POM" dependency:copy-dependencies -DoutputDirectory="$DIR" \
      -DincludeScope=runtime -Dmaven.repo.local="$ROOT/.tools/m2" >&2 ||
      { echo "jars.sh: mvn could not fetch the jars" >&2; exit 1; }
    touch "$DIR/.complete"
  fi
  exec 9>&-
fi
echo "$DIR"
