"""The speed layer as a careful Spark engineer would write it; the same arguments as the seeds':

    careful_speed.py kafkaServer topicName jdbcUri jdbcTable jdbcUser jdbcPassword StorageRootPath

What changes against seed_speed.py:
- one Kafka read for the three metrics: each event becomes three (type, id) rows and one stateful
  aggregation keeps every 5-minute window, instead of three queries each consuming the topic;
- a 1-minute watermark (Lambdaflow's default lateness), so that the state of closed windows is
  dropped; events later than that are dropped by Spark (Lambdaflow still counts them);
- update output mode, written by `foreachBatch` as an upsert: the micro-batch's rows go to a
  staging table, then one `INSERT … ON CONFLICT (timestamp, id, type) DO UPDATE SET value =
  EXCLUDED.value`. The rows carry each window's running total from Spark's state, so replaying a
  micro-batch after a crash writes the same values again: one row per window and key, exactly once
  as long as the checkpoint survives. `jdbcTable` needs that unique key;
- malformed or incomplete messages are filtered out instead of becoming null rows;
- shuffle partitions sized to the machine (4, not 200), and the raw archive written every 10 s
  instead of after every micro-batch (fewer, larger files);
- checkpoints for every query under StorageRootPath.
"""

import sys

from pyspark.sql import functions as F
from pyspark.sql import types as T

from common import password, run_until_stopped, session

DEVICE_SCHEMA = T.StructType([
    T.StructField('bytes', T.LongType()),
    T.StructField('timestamp', T.LongType()),
    T.StructField('app', T.StringType()),
    T.StructField('id', T.StringType()),
    T.StructField('antenna_id', T.StringType()),
])
METRICS = (('antenna_bytes_total', 'antenna_id'), ('user_bytes_total', 'id'), ('app_bytes_total', 'app'))


def devices(spark, kafka_server, topic):
    e = (spark.readStream.format('kafka')
         .option('kafka.bootstrap.servers', kafka_server)
         .option('subscribe', topic)
         .option('startingOffsets', 'earliest')
         .load()
         .select(F.from_json(F.col('value').cast('string'), DEVICE_SCHEMA).alias('e'))
         .select('e.*'))
    valid = F.col('bytes') >= 0
    for c in DEVICE_SCHEMA.fieldNames():
        valid = valid & F.col(c).isNotNull()
    return e.where(valid).withColumn('timestamp', F.timestamp_seconds('timestamp'))


def window_totals(events):
    keys = F.array(*[F.struct(F.lit(metric).alias('type'), F.col(column).alias('key'))
                     for metric, column in METRICS])
    return (events.select('timestamp', 'bytes', F.explode(keys).alias('k'))
            .withWatermark('timestamp', '1 minute')
            .groupBy(F.window('timestamp', '5 minutes'), F.col('k.type').alias('type'),
                     F.col('k.key').alias('id'))
            .agg(F.sum('bytes').alias('value'))
            .select(F.col('window.start').alias('timestamp'), 'id', 'value', 'type'))


def upsert_to_jdbc(spark, df, jdbc_uri, jdbc_table, user, secret, checkpoint):
    stage = f'{jdbc_table}_stage'
    jvm = spark.sparkContext._jvm
    props = jvm.java.util.Properties()
    props.setProperty('user', user)
    props.setProperty('password', secret)
    merge = (f'INSERT INTO {jdbc_table} (timestamp, id, value, type) '
             f'SELECT timestamp, id, value, type FROM {stage} '
             f'ON CONFLICT (timestamp, id, type) DO UPDATE SET value = EXCLUDED.value')

    def upsert(batch, _batch_id):
        (batch.coalesce(1).write.mode('overwrite').option('truncate', 'true').format('jdbc')
         .option('driver', 'org.postgresql.Driver')
         .option('url', jdbc_uri).option('dbtable', stage)
         .option('user', user).option('password', secret)
         .save())
        conn = jvm.java.sql.DriverManager.getConnection(jdbc_uri, props)
        try:
            stmt = conn.createStatement()
            stmt.executeUpdate(merge)
            stmt.close()
        finally:
            conn.close()

    return (df.writeStream.queryName('windows').outputMode('update').foreachBatch(upsert)
            .option('checkpointLocation', checkpoint).start())


def write_to_storage(events, storage_root):
    return (events.select('id', 'antenna_id', 'bytes', 'app', 'timestamp',
                          F.year('timestamp').alias('year'), F.month('timestamp').alias('month'),
                          F.dayofmonth('timestamp').alias('day'), F.hour('timestamp').alias('hour'))
            .writeStream.queryName('storage').format('parquet')
            .partitionBy('year', 'month', 'day', 'hour')
            .trigger(processingTime='10 seconds')
            .option('path', f'{storage_root}/data')
            .option('checkpointLocation', f'{storage_root}/checkpoint/storage')
            .start())


def run(args):
    kafka_server, topic, jdbc_uri, jdbc_table, jdbc_user, jdbc_password, storage_root = args
    spark = session('careful-speed-layer', shuffle_partitions=4)
    events = devices(spark, kafka_server, topic)
    queries = [
        upsert_to_jdbc(spark, window_totals(events), jdbc_uri, jdbc_table, jdbc_user,
                       password(jdbc_password), f'{storage_root}/checkpoint/windows'),
        write_to_storage(events, storage_root),
    ]
    run_until_stopped(spark, queries)


if __name__ == '__main__':
    if len(sys.argv) != 8:
        sys.exit(__doc__)
    run(sys.argv[1:])
