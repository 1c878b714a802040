"""The seeds' batch layer (seeds 001 and 002) in PySpark SQL, written the way they describe it.

    seed_batch.py StoragePath OffsetDateTime jdbcUri userMetadataTable bytesHourlyTable userQuotaLimitTable jdbcUser jdbcPassword

readFromStorage (the hour's partition of the Parquet archive at StoragePath) →
hourlyTotalBytesAntenna / hourlyTotalBytesUser / hourlyTotalBytesApp → writeToJdbc; then
readDataPSQL (the user metadata, and the hour's bytes per user read back from bytesHourlyTable, as
seed 001 lists it) → enrichMetadata → the bytes per user email and usersWithExceededQuota →
writeToJdbc. Every write appends (`mode("append")`), as the seeds' tables have no key: running an
hour twice doubles its rows, and the second run's read-back sees the first run's user rows too.
jdbcPassword '-' reads $JDBC_PASSWORD (the bench keeps passwords off the command line).
"""

import datetime as dt
import sys

from pyspark.sql import functions as F

from common import password, report, session


def read_from_storage(spark, storage_path, hour):
    return (spark.read.parquet(storage_path)
            .where((F.col('year') == hour.year) & (F.col('month') == hour.month) &
                   (F.col('day') == hour.day) & (F.col('hour') == hour.hour)))


def _hourly(df, column, metric, hour):
    return (df.groupBy(column).agg(F.sum('bytes').alias('value'))
            .select(F.lit(hour).cast('timestamp').alias('timestamp'), F.col(column).alias('id'),
                    'value', F.lit(metric).alias('type')))


def hourly_total_bytes_antenna(df, hour):
    return _hourly(df, 'antenna_id', 'antenna_bytes_total', hour)


def hourly_total_bytes_user(df, hour):
    return _hourly(df, 'id', 'user_bytes_total', hour)


def hourly_total_bytes_app(df, hour):
    return _hourly(df, 'app', 'app_bytes_total', hour)


def read_data_psql(spark, jdbc_uri, user, secret, table=None, query=None):
    reader = (spark.read.format('jdbc').option('driver', 'org.postgresql.Driver')
              .option('url', jdbc_uri).option('user', user).option('password', secret))
    return (reader.option('dbtable', table) if table else reader.option('query', query)).load()


def enrich_metadata(user_bytes, metadata):
    return user_bytes.join(metadata, user_bytes.id == metadata.id).select(
        metadata.email, metadata.quota, user_bytes.value, user_bytes.timestamp)


def user_email_bytes_total(enriched):
    return (enriched.groupBy('email', 'timestamp').agg(F.sum('value').alias('value'))
            .select('timestamp', F.col('email').alias('id'), 'value',
                    F.lit('user_email_bytes_total').alias('type')))


def users_with_exceeded_quota(enriched):
    return (enriched.groupBy('email', 'quota', 'timestamp').agg(F.sum('value').alias('usage'))
            .where(F.col('usage') > F.col('quota'))
            .select('email', 'usage', 'quota', 'timestamp'))


def write_to_jdbc(df, jdbc_uri, table, user, secret):
    (df.write.mode('append').format('jdbc').option('driver', 'org.postgresql.Driver')
     .option('url', jdbc_uri).option('dbtable', table)
     .option('user', user).option('password', secret).save())


def run(args):
    storage, when, jdbc_uri, metadata_table, hourly_table, quota_table, user, jdbc_password = args
    secret = password(jdbc_password)
    hour = dt.datetime.fromisoformat(when).astimezone(dt.timezone.utc).replace(tzinfo=None)
    spark = session('seed-batch-layer')
    events = read_from_storage(spark, storage, hour)
    for metric in (hourly_total_bytes_antenna, hourly_total_bytes_user, hourly_total_bytes_app):
        write_to_jdbc(metric(events, hour), jdbc_uri, hourly_table, user, secret)
    metadata = read_data_psql(spark, jdbc_uri, user, secret, table=metadata_table)
    user_bytes = read_data_psql(spark, jdbc_uri, user, secret, query=(
        f"SELECT timestamp, id, value FROM {hourly_table} "
        f"WHERE type = 'user_bytes_total' AND timestamp = '{hour.isoformat(sep=' ')}'"))
    enriched = enrich_metadata(user_bytes, metadata)
    write_to_jdbc(user_email_bytes_total(enriched), jdbc_uri, hourly_table, user, secret)
    write_to_jdbc(users_with_exceeded_quota(enriched), jdbc_uri, quota_table, user, secret)
    report('done')
    spark.stop()


if __name__ == '__main__':
    if len(sys.argv) != 9:
        sys.exit(__doc__)
    run(sys.argv[1:])
