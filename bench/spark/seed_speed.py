"""The seeds' speed layer (seeds 001 and 002) in PySpark, written the way they describe it.

    seed_speed.py kafkaServer topicName jdbcUri jdbcTable jdbcUser jdbcPassword StorageRootPath

readFromKafka → parserJsonData → totalBytesAntenna / totalBytesUser / totalBytesApp (5-minute
windows) → writeToJdbc into `bytes`, each metric its own streaming query, plus writeToStorage:
the raw events as Parquet partitioned by year/month/day/hour. Spark's defaults everywhere (200
shuffle partitions, a micro-batch as soon as the previous one ends).

Where the seeds leave a choice open, the choice a course solution makes:
- no watermark (the seeds name none), so Spark allows only the update or complete output mode
  for the aggregations; update mode, so that in-progress windows reach PostgreSQL (the seeds'
  Superset refreshes every 10 s);
- writeToJdbc appends each micro-batch with `DataFrame.write.mode("append")` through
  `foreachBatch`: the seeds' `bytes` table has no key, so every micro-batch that updates a window
  inserts another row for it (seed 003 saw exactly this: "el proceso de streaming a postgres es
  insert, teniendo zonas duplicadas en cada batch").
Deviations for the bench: startingOffsets=earliest (a course job starts at the latest offsets; here
the topic is filled first), a checkpoint directory per query under StorageRootPath, jdbcPassword
'-' reads $JDBC_PASSWORD, and the queries stop on SIGTERM after processing what is available.
"""

import sys

from pyspark.sql import functions as F
from pyspark.sql import types as T

from common import password, run_until_stopped, session

# The message of SPEC §1.1; `timestamp` (epoch seconds) read directly as a TimestampType.
DEVICE_SCHEMA = T.StructType([
    T.StructField('bytes', T.LongType()),
    T.StructField('timestamp', T.TimestampType()),
    T.StructField('app', T.StringType()),
    T.StructField('id', T.StringType()),
    T.StructField('antenna_id', T.StringType()),
])


def read_from_kafka(spark, kafka_server, topic):
    return (spark.readStream.format('kafka')
            .option('kafka.bootstrap.servers', kafka_server)
            .option('subscribe', topic)
            .option('startingOffsets', 'earliest')
            .load())


def parser_json_data(df):
    return (df.select(F.from_json(F.col('value').cast('string'), DEVICE_SCHEMA).alias('json'))
            .select('json.*'))


def _total_bytes(df, column, metric):
    return (df.select('timestamp', column, 'bytes')
            .groupBy(F.window('timestamp', '5 minutes'), column)
            .agg(F.sum('bytes').alias('value'))
            .select(F.col('window.start').alias('timestamp'), F.col(column).alias('id'), 'value',
                    F.lit(metric).alias('type')))


def total_bytes_antenna(df):
    return _total_bytes(df, 'antenna_id', 'antenna_bytes_total')


def total_bytes_user(df):
    return _total_bytes(df, 'id', 'user_bytes_total')


def total_bytes_app(df):
    return _total_bytes(df, 'app', 'app_bytes_total')


def write_to_jdbc(df, name, jdbc_uri, jdbc_table, user, secret, checkpoint):
    def append(batch, _batch_id):
        (batch.write.mode('append').format('jdbc')
         .option('driver', 'org.postgresql.Driver')
         .option('url', jdbc_uri).option('dbtable', jdbc_table)
         .option('user', user).option('password', secret)
         .save())
    return (df.writeStream.queryName(name).outputMode('update').foreachBatch(append)
            .option('checkpointLocation', checkpoint).start())


def write_to_storage(df, storage_root):
    return (df.select('id', 'antenna_id', 'bytes', 'app', 'timestamp',
                      F.year('timestamp').alias('year'), F.month('timestamp').alias('month'),
                      F.dayofmonth('timestamp').alias('day'), F.hour('timestamp').alias('hour'))
            .writeStream.queryName('storage').format('parquet')
            .partitionBy('year', 'month', 'day', 'hour')
            .option('path', f'{storage_root}/data')
            .option('checkpointLocation', f'{storage_root}/checkpoint/storage')
            .start())


def run(args):
    kafka_server, topic, jdbc_uri, jdbc_table, jdbc_user, jdbc_password, storage_root = args
    secret = password(jdbc_password)
    spark = session('seed-speed-layer')
    devices = parser_json_data(read_from_kafka(spark, kafka_server, topic))
    queries = [
        write_to_jdbc(metric(devices), name, jdbc_uri, jdbc_table, jdbc_user, secret,
                      f'{storage_root}/checkpoint/{name}')
        for name, metric in (('antenna', total_bytes_antenna), ('user', total_bytes_user),
                             ('app', total_bytes_app))
    ]
    queries.append(write_to_storage(devices, storage_root))
    run_until_stopped(spark, queries)


if __name__ == '__main__':
    if len(sys.argv) != 8:
        sys.exit(__doc__)
    run(sys.argv[1:])
