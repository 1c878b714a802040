"""What bench/spark's PySpark jobs share: the local Spark session and the bench's control of a
streaming job (progress lines on stdout, a clean stop on SIGTERM).

Not part of the seeds' design: the seeds ran their jobs on a cluster (Dataproc) or in a local
spark-shell. Here every job runs in local mode with two threads on this machine, its UI off and
every socket on 127.0.0.1, and the passwords come from the environment, never from the command line.
"""

import json
import os
import signal
import sys
import time

from pyspark.sql import SparkSession


def session(app, shuffle_partitions=None):
    """A local Spark session with the Kafka source and the PostgreSQL driver of jars.sh.

    shuffle_partitions: None keeps Spark's default (200), as the seeds did.
    """
    jars = os.environ.get('SPARK_BENCH_JARS')
    if not jars:
        sys.exit(f'{app}: SPARK_BENCH_JARS is not set (bench/spark/jars.sh prints the directory)')
    builder = (SparkSession.builder.master('local[2]').appName(app)
               .config('spark.ui.enabled', 'false')
               .config('spark.ui.showConsoleProgress', 'false')
               .config('spark.driver.host', '127.0.0.1')
               .config('spark.driver.bindAddress', '127.0.0.1')
               # On the system class path, so that java.sql.DriverManager finds the driver too.
               .config('spark.driver.extraClassPath', os.path.join(jars, '*'))
               .config('spark.driver.extraJavaOptions', '-Duser.timezone=UTC')
               .config('spark.sql.session.timeZone', 'UTC'))
    if shuffle_partitions is not None:
        builder = builder.config('spark.sql.shuffle.partitions', str(shuffle_partitions))
    if os.environ.get('SPARK_BENCH_LOCAL_DIR'):
        builder = builder.config('spark.local.dir', os.environ['SPARK_BENCH_LOCAL_DIR'])
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel('WARN')
    return spark


def password(arg):
    """The seeds pass jdbcPassword positionally; '-' takes it from $JDBC_PASSWORD instead."""
    return os.environ.get('JDBC_PASSWORD', '') if arg == '-' else arg


def report(event, **fields):
    """One JSON line on stdout for bench/spark/bench.mjs."""
    print(json.dumps(dict(event=event, t=time.time(), **fields)), flush=True)


def run_until_stopped(spark, queries):
    """Reports each query's micro-batches until SIGTERM or SIGINT, then lets every query process
    what is available, stops it and the session. Exits 1 if a query fails."""
    stop = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.append(True))
    report('ready', queries=[q.name for q in queries])
    seen = {}
    while not stop:
        for q in queries:
            if q.exception() is not None:
                report('failed', query=q.name, error=str(q.exception())[:2000])
                spark.stop()
                sys.exit(1)
            p = q.lastProgress
            if p and seen.get(q.name) != p['batchId']:
                seen[q.name] = p['batchId']
                report('batch', query=q.name, batch=p['batchId'], rows=p['numInputRows'],
                       ms=p['durationMs'].get('triggerExecution'))
        time.sleep(0.1)
    for q in queries:
        q.processAllAvailable()
        q.stop()
    report('stopped')
    spark.stop()
