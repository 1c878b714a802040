// The seeds' own engine reads what Lambdaflow writes (SPEC §1.5, §6.2, §7): a telecom lake
// (`simulate` plus hand-made unusual and edge events → `speed` with its lake), a production-line
// lake (`simulate --pipeline pipelines/production_line.yaml` → `speed --pipeline`) and bronze
// (`generate farmia --faults` files and Avro orders → `ingest --once`). Then PySpark
// (`spark.read.parquet` with partition discovery, local mode on Debian's OpenJDK 17, one session for
// every read) and pyarrow (`pyarrow.dataset` with hive partitioning), both from scripts/pyenv.sh,
// read each dataset and must see exactly DuckDB's rows — every column of every row, partition
// columns included: integers exact, doubles bit for bit, timestamps as epoch microseconds — and the
// declared types (a UTC timestamp, not Spark's timestamp_ntz; integer hive columns; a date for
// ingest_date). DuckDB's view of the telecom lake is itself checked against the simulator's NDJSON.

import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import {
  Scope, SOURCE_DIR, TEST_BROKER, withDuckDB, assertLakeExact,
} from '../lib/harness.mjs';
import { unusualValidMessages, edgeValidMessages, produceSpread, writeOracleLines } from '../lib/messages.mjs';

const execFileP = promisify(execFile);
const scope = new Scope('peers_spark_lakes');
after(() => scope.cleanup());
afterEach((t) => scope.noteResult(t));

const LINE = path.join(SOURCE_DIR, 'pipelines/production_line.yaml');
const BRONZE = ['iot_sensors', 'inventory', 'suppliers', 'weather', 'sales_orders'];
const START = '2026-11-22T06:00:00Z';
const PARTITIONS = 4;
const s = {};

// The declared types, as Spark (simpleString) and pyarrow (str(type)) name them.
const SPARK = { string: 'string', int64: 'bigint', int32: 'int', float64: 'double', timestamp: 'timestamp', date: 'date' };
const ARROW = { string: 'string', int64: 'int64', int32: 'int32', float64: 'double', timestamp: 'timestamp[us, tz=UTC]' };
const HOUR_PARTS = { year: 'int32', month: 'int32', day: 'int32', hour: 'int32' };
const BRONZE_META = { _ingested_at: 'timestamp', _source_file: 'string', _source_row: 'int64', _topic: 'string',
  _partition: 'int32', _offset: 'int64', _schema_id: 'int32', _batch_id: 'string', _rescued_data: 'string' };
const DATASETS = {
  devices: { dir: 'devices', fields: { bytes: 'int64', timestamp: 'timestamp', app: 'string', id: 'string', antenna_id: 'string' },
    parts: HOUR_PARTS, ts: 'timestamp' },
  production_line: { dir: 'production_line', fields: { kind: 'string', qls_unit_id: 'string', collection_point_id: 'string',
    zone_id: 'string', concern_id: 'string', zone_charged_id: 'string', unit_collection_pt_timestamp: 'timestamp' },
  parts: HOUR_PARTS, ts: 'unit_collection_pt_timestamp' },
  iot_sensors: { sensor_id: 'string', farm_id: 'string', ts: 'timestamp', temperature_c: 'float64', humidity_pct: 'float64',
    soil_moisture_pct: 'float64' },
  inventory: { product_id: 'string', warehouse_id: 'string', quantity: 'int64', updated_at: 'timestamp' },
  suppliers: { supplier_id: 'string', name: 'string', country: 'string', rating: 'float64' },
  weather: { station_id: 'string', ts: 'timestamp', temp_c: 'float64', rain_mm: 'float64', wind_kmh: 'float64' },
  sales_orders: { order_id: 'string', customer_id: 'string', product_id: 'string', quantity: 'int64', unit_price: 'float64',
    currency: 'string', order_ts: 'timestamp', channel: 'string' },
};
for (const d of BRONZE) {
  DATASETS[d] = { dir: `bronze/${d}`, fields: { ...DATASETS[d], ...BRONZE_META }, parts: { ingest_date: 'date' }, bronze: true };
}

before(async () => {
  s.python = execFileSync(path.join(SOURCE_DIR, 'scripts/pyenv.sh'), { encoding: 'utf8' }).trim().split('\n').pop();
  const broker = TEST_BROKER === 'kafka'
    ? scope.startKafka({ topics: ['devices', 'TFI', 'sales_orders'], partitions: PARTITIONS })
    : scope.startBroker({ topic: 'devices', partitions: PARTITIONS, extraArgs: ['--topic', 'TFI', '--topic', 'sales_orders'] });
  [s.pg, s.broker] = await Promise.all([scope.startPostgres(), broker]);
  s.tmp = scope.tmpdir();
  s.storage = path.join(s.tmp, 'storage');
  const ok = (r, what) => assert.equal(r.code, 0, `${what}: ${r.stderr.slice(-2000)}`);
  ok(await scope.run(['provision', '--pg', s.pg.uri, '--pipeline', path.join(SOURCE_DIR, 'pipelines/telecom.yaml'),
    '--pipeline', LINE]), 'provision');
  const reg = scope.start(['registry', '--pg', s.pg.uri, '--listen', '127.0.0.1:0'], { name: 'registry' });
  const registryUrl = (await reg.waitForLine(/^registry: listening on (http:\/\/127\.0\.0\.1:\d+)\/$/, 30000))[1];

  // The telecom lake: three hours of simulated events, plus unusual (UTF-8, 2^32 bytes, window
  // edges) and edge events (int64 maximum, event times at and before the Unix epoch).
  s.ndjson = path.join(s.tmp, 'devices.ndjson');
  s.extras = path.join(s.tmp, 'extras.ndjson');
  ok(await scope.run(['simulate', '--brokers', s.broker.brokers, '--events', '30000', '--interval', '6s',
    '--start', START, '--seed', '11', '--out', s.ndjson], { timeoutMs: 180000 }), 'simulate');
  const extra = [...unusualValidMessages(Date.parse(START) / 1000 + 4321, 'spark'), ...edgeValidMessages('spark')];
  await produceSpread(s.broker.brokers, 'devices', PARTITIONS, extra);
  writeOracleLines(s.extras, extra);
  const speed = scope.run(['speed', '--brokers', s.broker.brokers, '--pg', s.pg.uri, '--storage', s.storage,
    '--exit-when-idle', '3s'], { timeoutMs: 240000, name: 'speed-telecom' });

  // The production line across a UTC midnight (its key becomes the `kind` column).
  const line = (async () => {
    ok(await scope.run(['simulate', '--pipeline', LINE, '--units', '400', '--start', '2026-11-22T23:40:00Z', '--seed', '4',
      '--brokers', s.broker.brokers, '--topic', 'TFI'], { timeoutMs: 180000 }), 'simulate production line');
    ok(await scope.run(['speed', '--pipeline', LINE, '--brokers', s.broker.brokers, '--topic', 'TFI', '--pg', s.pg.uri,
      '--storage', s.storage, '--exit-when-idle', '3s'], { timeoutMs: 240000, name: 'speed-line' }), 'speed production line');
  })();

  // Bronze: every FarmIA dataset, faults included, and Avro orders through the registry.
  const bronze = (async () => {
    const landing = path.join(s.tmp, 'landing');
    ok(await scope.run(['generate', 'farmia', '--landing', landing, '--faults', '--seed', '7', '--rows', '300',
      '--brokers', s.broker.brokers, '--schema-registry', registryUrl, '--orders', '300']), 'generate farmia');
    ok(await scope.run(['ingest', '--once', '--settle', '0s', '--landing', landing, '--storage', s.storage,
      '--pg', s.pg.uri, '--brokers', s.broker.brokers, '--schema-registry', registryUrl,
      ...BRONZE.flatMap((d) => ['--pipeline', path.join(SOURCE_DIR, `pipelines/farmia/${d}.yaml`)])],
    { timeoutMs: 180000 }), 'ingest');
  })();
  ok(await speed, 'speed');
  await Promise.all([line, bronze]);

  // One Spark session (and pyarrow) reads every dataset while DuckDB reads them here.
  const jobs = Object.entries(DATASETS).map(([name, d]) => ({ name, path: path.join(s.storage, d.dir) }));
  s.out = path.join(s.tmp, 'readers');
  fs.mkdirSync(s.out);
  const t0 = Date.now();
  const { stdout, stderr } = await execFileP(s.python, ['-c', READER, JSON.stringify(jobs), s.out], {
    cwd: s.tmp, timeout: 300000, maxBuffer: 1 << 26,
    env: { ...process.env, SPARK_LOCAL_IP: '127.0.0.1', TZ: 'UTC', PYSPARK_PYTHON: s.python },
  }).catch((e) => {
    throw new Error(`the Python readers failed: ${e.message}\n${(e.stderr ?? '').slice(-4000)}`);
  });
  fs.writeFileSync(scope.logPath('python-readers'), stderr);
  s.readers = JSON.parse(stdout.trim().split('\n').pop());
  s.readersMs = Date.now() - t0;
});

// Reads every dataset of argv[1] ([{name, path}]) with Spark and pyarrow; for each reader and
// dataset writes OUT/<reader>-<name>.ndjson, one JSON array per row (columns by name), and prints
// {reader: {name: {schema: {col: type}, rows: n}}} as its last line. Values are made comparable in
// the engine itself: timestamps as epoch microseconds, dates as ISO text; doubles as their IEEE
// bits ("f:<hex>"), integers as "i:<digits>" (exact past 2^53).
const READER = String.raw`
import json, struct, sys, time
import pyarrow as pa, pyarrow.compute as pc, pyarrow.dataset as ds
from pyspark.sql import SparkSession, functions as F, types as T

jobs, out = json.loads(sys.argv[1]), sys.argv[2]

def enc(v):
    if v is None or isinstance(v, (bool, str)): return v
    if isinstance(v, int): return 'i:%d' % v
    if isinstance(v, float): return 'f:' + struct.pack('>d', v).hex()
    if hasattr(v, 'isoformat'): return v.isoformat()
    raise TypeError('unexpected value %r' % (v,))

def dump(reader, name, cols, rows):
    lines = sorted(json.dumps([enc(v) for v in r], ensure_ascii=False, separators=(',', ':')) for r in rows)
    with open('%s/%s-%s.ndjson' % (out, reader, name), 'w', encoding='utf-8') as f:
        f.write(''.join(l + '\n' for l in lines))
    return len(lines)

result = {'spark': {}, 'pyarrow': {}, 'seconds': {}}
t = time.time()
spark = (SparkSession.builder.master('local[2]').appName('lambdaflow-peers')
         .config('spark.ui.enabled', 'false')
         .config('spark.driver.host', '127.0.0.1').config('spark.driver.bindAddress', '127.0.0.1')
         .config('spark.sql.session.timeZone', 'UTC')
         .config('spark.sql.shuffle.partitions', '2')
         .config('spark.local.dir', out)
         .getOrCreate())
spark.sparkContext.setLogLevel('ERROR')
result['seconds']['spark_start'] = time.time() - t

for job in jobs:
    t = time.time()
    df = spark.read.parquet(job['path'])   # partition discovery from the directory names
    cols = sorted(df.columns)
    def value(c):
        dt = df.schema[c].dataType
        if isinstance(dt, T.TimestampType): return F.unix_micros(F.col(c))
        if isinstance(dt, T.TimestampNTZType): return F.unix_micros(F.col(c).cast('timestamp'))
        if isinstance(dt, T.DateType): return F.date_format(F.col(c), 'yyyy-MM-dd')
        return F.col(c)
    rows = df.select([value(c).alias(c) for c in cols]).collect()
    result['spark'][job['name']] = {'schema': {f.name: f.dataType.simpleString() for f in df.schema.fields},
                                    'rows': dump('spark', job['name'], cols, rows)}
    result['seconds']['spark_' + job['name']] = time.time() - t
spark.stop()

for job in jobs:
    t = time.time()
    table = ds.dataset(job['path'], format='parquet', partitioning='hive').to_table()
    cols = sorted(table.column_names)
    arrays = []
    for c in cols:
        a = table.column(c)
        if pa.types.is_timestamp(a.type): a = pc.cast(pc.cast(a, pa.timestamp('us', tz='UTC')), pa.int64())
        elif pa.types.is_dictionary(a.type): a = pc.cast(a, a.type.value_type)
        arrays.append(a.to_pylist())
    result['pyarrow'][job['name']] = {'schema': {f.name: str(f.type) for f in table.schema},
                                      'rows': dump('pyarrow', job['name'], cols, zip(*arrays))}
    result['seconds']['pyarrow_' + job['name']] = time.time() - t
print(json.dumps(result))
`;

// DuckDB's rows of a dataset in the readers' encoding, sorted, and its column names.
async function duckRows(dir) {
  return withDuckDB(async (conn) => {
    const src = `read_parquet('${dir}/**/*.parquet', hive_partitioning = true)`;
    const types = Object.fromEntries((await conn.runAndReadAll(
      `SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM ${src})`)).getRows());
    const cols = Object.keys(types).sort();
    const q = (c) => `"${c}"`;
    const expr = cols.map((c) => {
      const t = types[c];
      if (/^TIMESTAMP/.test(t)) return `'i:' || epoch_us(${q(c)})::VARCHAR`;
      if (/^(BIGINT|INTEGER|SMALLINT|TINYINT|HUGEINT|UBIGINT|UINTEGER)$/.test(t)) return `'i:' || ${q(c)}::VARCHAR`;
      if (t === 'DATE') return `${q(c)}::VARCHAR`;
      if (t === 'DOUBLE' || t === 'VARCHAR' || t === 'BOOLEAN') return q(c);
      throw new Error(`${dir}: column ${c} of unexpected DuckDB type ${t}`);
    });
    const r = await conn.runAndReadAll(`SELECT ${expr.join(', ')} FROM ${src}`);
    const bits = Buffer.alloc(8);
    const enc = (v) => {
      if (typeof v !== 'number') return v;
      bits.writeDoubleBE(v);
      return `f:${bits.toString('hex')}`;
    };
    const rows = r.getRowsJS().map((row) => JSON.stringify(row.map(enc))).sort();
    return { cols, types, rows };
  });
}

// Sorted multisets of row texts: the first few rows only one side has.
function rowDiff(expected, actual) {
  const count = new Map();
  for (const r of expected) count.set(r, (count.get(r) ?? 0) + 1);
  const extra = [];
  for (const r of actual) {
    if ((count.get(r) ?? 0) > 0) count.set(r, count.get(r) - 1);
    else extra.push(r);
  }
  const missing = [...count].filter(([, n]) => n > 0).flatMap(([r, n]) => Array(n).fill(r));
  return { missing, extra };
}

function readerRows(reader, name) {
  // Re-serialised by JavaScript so that both sides use one JSON spelling.
  return fs.readFileSync(path.join(s.out, `${reader}-${name}.ndjson`), 'utf8').split('\n').filter((l) => l)
    .map((l) => JSON.stringify(JSON.parse(l))).sort();
}

test('DuckDB\'s view of the telecom lake is every simulated and hand-made event once', { timeout: 60000 }, async (t) => {
  await assertLakeExact(s.storage, [s.ndjson, s.extras]);
  t.diagnostic(`python readers: ${(s.readersMs / 1000).toFixed(1)} s in all, the Spark session's start ` +
    `${s.readers.seconds.spark_start.toFixed(1)} s`);
});

for (const [name, d] of Object.entries(DATASETS)) {
  test(`${d.dir}: Spark and pyarrow see DuckDB's rows, every column, with the declared types`, { timeout: 120000 }, async (t) => {
    const dir = path.join(s.storage, d.dir);
    assert.ok(fs.existsSync(dir), `${dir} was not written`);
    const duck = await duckRows(dir);
    assert.ok(duck.rows.length > 0, `${d.dir}: DuckDB reads no rows`);
    const declared = { ...d.fields, ...d.parts };
    assert.deepEqual(duck.cols, Object.keys(declared).sort(), `${d.dir}: DuckDB's columns`);
    if (d.ts) {
      // The hive directories agree with the event time (a partition column the readers compare).
      const utc = `"${d.ts}" AT TIME ZONE 'UTC'`;
      const bad = await withDuckDB(async (conn) => (await conn.runAndReadAll(`SELECT count(*)::INTEGER FROM
        read_parquet('${dir}/**/*.parquet', hive_partitioning = true) WHERE year <> extract(year FROM ${utc})
        OR month <> extract(month FROM ${utc}) OR day <> extract(day FROM ${utc}) OR hour <> extract(hour FROM ${utc})`)).getRows()[0][0]);
      assert.equal(bad, 0, `${d.dir}: rows outside the directory of their event-time hour`);
    }
    for (const reader of ['spark', 'pyarrow']) {
      const got = s.readers[reader][name];
      assert.ok(got, `${reader} did not read ${d.dir}`);
      // Types: Spark's and Arrow's names of the declared ones.
      for (const [col, type] of Object.entries(declared)) {
        if (reader === 'spark') {
          assert.equal(got.schema[col], SPARK[type], `${reader}: ${d.dir}.${col}`);
        } else if (type === 'date') {
          assert.match(got.schema[col], /^(date32\[day\]|string|dictionary<values=string)/, `${reader}: ${d.dir}.${col}`);
        } else {
          assert.equal(got.schema[col], ARROW[type], `${reader}: ${d.dir}.${col}`);
        }
      }
      assert.deepEqual(Object.keys(got.schema).sort(), duck.cols, `${reader}: ${d.dir} columns`);
      // Rows: the same multiset as DuckDB's, every column.
      assert.equal(got.rows, duck.rows.length, `${reader}: ${d.dir} row count`);
      const { missing, extra } = rowDiff(duck.rows, readerRows(reader, name));
      assert.deepEqual({ missing: missing.slice(0, 5), extra: extra.slice(0, 5) }, { missing: [], extra: [] },
        `${reader}: ${d.dir}: ${missing.length} of DuckDB's rows missing, ${extra.length} rows DuckDB does not have ` +
        `(columns ${duck.cols.join(', ')})`);
    }
    t.diagnostic(`${duck.rows.length} rows; Spark ${s.readers.seconds[`spark_${name}`].toFixed(2)} s, ` +
      `pyarrow ${s.readers.seconds[`pyarrow_${name}`].toFixed(2)} s`);
  });
}
