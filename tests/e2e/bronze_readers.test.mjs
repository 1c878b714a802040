// Bronze is read as it is by independent readers (SPEC §6.2, §7): `generate farmia --faults`
// files and Avro orders through `lambdaflow registry` are ingested; then pyarrow
// (`pyarrow.dataset` with hive partitioning, from PyPI in .tools/pyenv) and DuckDB
// (`read_parquet(…, hive_partitioning = true)`) read every bronze dataset and must see the same
// rows, with the declared types: the definition's fields, the metadata columns and ingest_date.

import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Scope, SOURCE_DIR, withDuckDB } from '../lib/harness.mjs';

const scope = new Scope('bronze_readers');
after(() => scope.cleanup());
afterEach((t) => scope.noteResult(t));
const s = {};
const FILES = ['iot_sensors', 'inventory', 'suppliers', 'weather'];
// SPEC §6.1's fields as Arrow types (string, int64, float64 → double, timestamp → µs UTC).
const TS = 'timestamp[us, tz=UTC]';
const FIELDS = {
  iot_sensors: { sensor_id: 'string', farm_id: 'string', ts: TS, temperature_c: 'double', humidity_pct: 'double', soil_moisture_pct: 'double' },
  inventory: { product_id: 'string', warehouse_id: 'string', quantity: 'int64', updated_at: TS },
  suppliers: { supplier_id: 'string', name: 'string', country: 'string', rating: 'double' },
  weather: { station_id: 'string', ts: TS, temp_c: 'double', rain_mm: 'double', wind_kmh: 'double' },
  sales_orders: { order_id: 'string', customer_id: 'string', product_id: 'string', quantity: 'int64', unit_price: 'double',
    currency: 'string', order_ts: TS, channel: 'string' },
};

before(async () => {
  s.python = execFileSync(path.join(SOURCE_DIR, 'scripts/pyenv.sh'), { encoding: 'utf8' }).trim().split('\n').pop();
  [s.pg, s.broker] = await Promise.all([scope.startPostgres(), scope.startBroker({ topic: 'sales_orders', partitions: 2 })]);
  s.tmp = scope.tmpdir();
  s.storage = path.join(s.tmp, 'storage');
  const landing = path.join(s.tmp, 'landing');
  const reg = scope.start(['registry', '--pg', s.pg.uri, '--listen', '127.0.0.1:0'], { name: 'registry' });
  const url = (await reg.waitForLine(/^registry: listening on (http:\/\/127\.0\.0\.1:\d+)\/$/, 30000))[1];
  const gen = await scope.run(['generate', 'farmia', '--landing', landing, '--faults', '--seed', '9', '--rows', '300',
    '--brokers', s.broker.brokers, '--schema-registry', url, '--orders', '400']);
  assert.equal(gen.code, 0, gen.stderr);
  const ing = await scope.run(['ingest', '--once', '--settle', '0s', '--landing', landing, '--storage', s.storage,
    '--pg', s.pg.uri, '--brokers', s.broker.brokers, '--schema-registry', url,
    ...[...FILES, 'sales_orders'].flatMap((d) => ['--pipeline', path.join(SOURCE_DIR, `pipelines/farmia/${d}.yaml`)])],
  { timeoutMs: 120000 });
  assert.equal(ing.code, 0, ing.stderr.slice(-2000));
});

// pyarrow's view of a dataset: its schema (name → Arrow type) and its rows as JSON text, sorted.
function pyarrowRead(dir) {
  const script = `
import json, sys, datetime
import pyarrow.dataset as ds
t = ds.dataset(sys.argv[1], format='parquet', partitioning='hive').to_table()
def val(v):
    if isinstance(v, datetime.datetime): return v.astimezone(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%fZ')
    if isinstance(v, datetime.date): return v.isoformat()
    return v
rows = sorted(json.dumps({k: val(v) for k, v in r.items()}, sort_keys=True) for r in t.to_pylist())
print(json.dumps({'schema': {f.name: str(f.type) for f in t.schema}, 'rows': rows}))
`;
  return JSON.parse(execFileSync(s.python, ['-c', script, dir], { encoding: 'utf8', maxBuffer: 1 << 28 }));
}

async function duckRead(dir) {
  return withDuckDB(async (conn) => {
    const r = await conn.runAndReadAll(`SELECT * FROM read_parquet('${dir}/*/*.parquet', hive_partitioning = true)`);
    const names = r.columnNames();
    const rows = r.getRowObjectsJS().map((row) => {
      const o = {};
      for (const n of names) {
        let v = row[n];
        if (v instanceof Date) v = `${v.toISOString().slice(0, 23)}000Z`;
        else if (typeof v === 'bigint') v = Number(v);
        o[n] = v;
      }
      return JSON.stringify(o, Object.keys(o).sort());
    });
    return { names, rows: rows.sort() };
  });
}

for (const dataset of [...FILES, 'sales_orders']) {
  test(`bronze/${dataset}: pyarrow and DuckDB read the same rows with the declared types`, { timeout: 60000 }, async () => {
    const dir = path.join(s.storage, 'bronze', dataset);
    assert.ok(fs.existsSync(dir), dir);
    const py = pyarrowRead(dir);
    const duck = await duckRead(dir);
    assert.ok(py.rows.length > 0);
    assert.equal(py.rows.length, duck.rows.length);
    // Types: the fields as declared, then the metadata columns and the partition (§6.2).
    for (const [name, type] of Object.entries(FIELDS[dataset])) assert.equal(py.schema[name], type, `${dataset}.${name}`);
    assert.equal(py.schema._ingested_at, 'timestamp[us, tz=UTC]');
    assert.equal(py.schema._source_row, 'int64');
    assert.equal(py.schema._partition, 'int32');
    assert.equal(py.schema._offset, 'int64');
    assert.equal(py.schema._schema_id, 'int32');
    assert.equal(py.schema._rescued_data, 'string');
    assert.match(py.schema.ingest_date, /^(date32\[day\]|string|dictionary)/);
    assert.deepEqual(Object.keys(py.schema).filter((k) => k !== 'ingest_date').sort(),
      duck.names.filter((k) => k !== 'ingest_date').sort());
    // Values: every column but the partition (pyarrow may type it as a string or a date);
    // timestamps to the millisecond (DuckDB's JS values are Dates).
    const iso = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})\d{3}Z$/;
    const strip = (rows) => rows.map((r) => {
      const o = JSON.parse(r);
      delete o.ingest_date;
      for (const [k, v] of Object.entries(o)) if (typeof v === 'string' && iso.test(v)) o[k] = v.replace(iso, '$1Z');
      return JSON.stringify(o, Object.keys(o).sort());
    }).sort();
    assert.deepEqual(strip(py.rows), strip(duck.rows));
  });
}
