"""The batch layer as a careful Spark engineer would write it; the same arguments as the seeds':

    careful_batch.py StoragePath OffsetDateTime jdbcUri userMetadataTable bytesHourlyTable userQuotaLimitTable jdbcUser jdbcPassword

What changes against seed_batch.py: the four metrics come from the hour's events in one pass (the
hour read once and cached; the per-user totals joined with the metadata directly, not read back
from PostgreSQL); the results are written to staging tables and then replace the hour's rows in
one PostgreSQL transaction (DELETE of the hour, INSERT from staging, COMMIT), so that a re-run of
an hour is idempotent and readers never see half an hour; 4 shuffle partitions instead of 200.
"""

import datetime as dt
import sys

from pyspark.sql import functions as F

from common import password, report, session

METRICS = (('antenna_bytes_total', 'antenna_id'), ('user_bytes_total', 'id'), ('app_bytes_total', 'app'))


def hourly(events, metadata, hour):
    ts = F.lit(hour).cast('timestamp').alias('timestamp')
    per_key = [events.groupBy(F.col(column).alias('id')).agg(F.sum('bytes').alias('value'))
               .select(ts, 'id', 'value', F.lit(metric).alias('type')) for metric, column in METRICS]
    per_user = events.groupBy('id').agg(F.sum('bytes').alias('usage')).join(metadata, 'id')
    per_email = (per_user.groupBy('email').agg(F.sum('usage').alias('value'))
                 .select(ts, F.col('email').alias('id'), 'value',
                         F.lit('user_email_bytes_total').alias('type')))
    quota = (per_user.groupBy('email').agg(F.sum('usage').alias('usage'), F.first('quota').alias('quota'))
             .where(F.col('usage') > F.col('quota')).select('email', 'usage', 'quota', ts))
    rows = per_key[0]
    for df in per_key[1:] + [per_email]:
        rows = rows.unionByName(df)
    return rows, quota


def replace_hour(spark, jdbc_uri, user, secret, hour, writes):
    """writes: [(table, DataFrame)]; each goes to <table>_stage, then one transaction swaps the hour."""
    for table, df in writes:
        (df.coalesce(1).write.mode('overwrite').option('truncate', 'true').format('jdbc')
         .option('driver', 'org.postgresql.Driver').option('url', jdbc_uri)
         .option('dbtable', f'{table}_stage').option('user', user).option('password', secret).save())
    jvm = spark.sparkContext._jvm
    props = jvm.java.util.Properties()
    props.setProperty('user', user)
    props.setProperty('password', secret)
    conn = jvm.java.sql.DriverManager.getConnection(jdbc_uri, props)
    try:
        conn.setAutoCommit(False)
        stmt = conn.createStatement()
        at = f"TIMESTAMP '{hour.isoformat(sep=' ')}'"
        for table, df in writes:
            cols = ', '.join(df.columns)
            stmt.executeUpdate(f'DELETE FROM {table} WHERE timestamp = {at}')
            stmt.executeUpdate(f'INSERT INTO {table} ({cols}) SELECT {cols} FROM {table}_stage')
        conn.commit()
        stmt.close()
    finally:
        conn.close()


def run(args):
    storage, when, jdbc_uri, metadata_table, hourly_table, quota_table, user, jdbc_password = args
    secret = password(jdbc_password)
    hour = dt.datetime.fromisoformat(when).astimezone(dt.timezone.utc).replace(tzinfo=None)
    spark = session('careful-batch-layer', shuffle_partitions=4)
    events = (spark.read.parquet(storage)
              .where((F.col('year') == hour.year) & (F.col('month') == hour.month) &
                     (F.col('day') == hour.day) & (F.col('hour') == hour.hour))
              .select('id', 'antenna_id', 'app', 'bytes').cache())
    metadata = (spark.read.format('jdbc').option('driver', 'org.postgresql.Driver')
                .option('url', jdbc_uri).option('dbtable', metadata_table)
                .option('user', user).option('password', secret).load().select('id', 'email', 'quota'))
    rows, quota = hourly(events, metadata, hour)
    replace_hour(spark, jdbc_uri, user, secret, hour, [(hourly_table, rows), (quota_table, quota)])
    report('done')
    spark.stop()


if __name__ == '__main__':
    if len(sys.argv) != 9:
        sys.exit(__doc__)
    run(sys.argv[1:])
