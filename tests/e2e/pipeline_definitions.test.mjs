// Pipeline definitions (SPEC §4): `pipeline validate` and `explain` on the shipped files and on
// broken ones (errors name FILE:LINE:COLUMN); `provision --pipeline` on a real PostgreSQL — the
// wide layout's tables, keys and catalog rows as the definition declares them, idempotent, and
// the derived and `_lambda` views computing what the test computes itself from the rows it
// inserted; `provision --pipeline pipelines/telecom.yaml` making exactly the telecom schema; and
// the telecom layers run from a definition that renames the topic, tables and lake dataset,
// checked against DuckDB over the simulator's NDJSON.

import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  Scope, SOURCE_DIR, query, withPg, uriWithDatabase, oracleWindows, readWindowTable, assertTableEquals,
  assertLakeExact,
} from '../lib/harness.mjs';

const scope = new Scope('pipeline_definitions');
after(() => scope.cleanup());
afterEach((t) => scope.noteResult(t));

const SHIPPED = [
  'pipelines/telecom.yaml', 'pipelines/production_line.yaml', 'pipelines/farmia/iot_sensors.yaml',
  'pipelines/farmia/inventory.yaml', 'pipelines/farmia/suppliers.yaml', 'pipelines/farmia/weather.yaml',
  'pipelines/farmia/sales_orders.yaml', 'tests/data/pipelines/shop.yaml',
].map((f) => path.join(SOURCE_DIR, f));
const SHOP = path.join(SOURCE_DIR, 'tests/data/pipelines/shop.yaml');
const PRODUCTION = path.join(SOURCE_DIR, 'pipelines/production_line.yaml');
const TELECOM = path.join(SOURCE_DIR, 'pipelines/telecom.yaml');

let pg;
let tmp;
before(async () => {
  pg = await scope.startPostgres();
  tmp = scope.tmpdir();
});

test('pipeline validate accepts every shipped definition', async () => {
  const r = await scope.run(['pipeline', 'validate', ...SHIPPED]);
  assert.equal(r.code, 0, r.stderr);
  for (const f of SHIPPED) assert.match(r.stdout, new RegExp(`${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: ok`));
});

// Each broken definition: the text, and the exact FILE:LINE:COLUMN and words its error must have.
const BROKEN = {
  unknown_key: ['name: a\nsource: {kafka: {topic: t}}\nfields: [{name: x, type: int64}]\nmetrix: []\n',
    '4:1', /unknown key 'metrix' in the definition/],
  unknown_field: ['name: a\nsource: {kafka: {topic: t}}\nfields: [{name: x, type: int64}]\nmetrics:\n  - {name: m, window: 5m, group_by: [y], aggregate: count()}\n',
    '5:38', /group_by names unknown field 'y'/],
  wrong_type: ['name: a\nsource: {kafka: {topic: t}}\nfields: [{name: x, type: int}]\n',
    '3:26', /unknown type 'int'/],
  bad_duration: ['name: a\nsource: {kafka: {topic: t}}\nfields: [{name: x, type: int64}]\nmetrics:\n  - {name: m, window: five, aggregate: count()}\n',
    '5:23', /bad duration 'five'/],
  window_not_dividing_day: ['name: a\nsource: {kafka: {topic: t}}\nfields: [{name: x, type: int64}]\nmetrics:\n  - {name: m, window: 7m, aggregate: count()}\n',
    '5:23', /'7m' does not divide a day/],
  unsafe_table: ['name: a\nsource: {kafka: {topic: t}}\nfields: [{name: x, type: int64}]\nmetrics:\n  - {name: m, window: 5m, aggregate: count(), table: "m; DROP TABLE x"}\n',
    '5:54', /table 'm; DROP TABLE x' is not a plain SQL name/],
  duplicate_metric: ['name: a\nsource: {kafka: {topic: t}}\nfields: [{name: x, type: int64}]\nmetrics:\n  - {name: m, window: 5m, aggregate: count()}\n  - {name: m, window: 1h, aggregate: count()}\n',
    '6:5', /metric 'm' is declared twice/],
  derived_mixed_windows: ['name: a\nsource: {kafka: {topic: t}}\nfields: [{name: x, type: int64}]\nmetrics:\n  - {name: m, window: 5m, aggregate: count()}\n  - {name: n, window: 1h, aggregate: count()}\nderived:\n  - {name: r, expr: m / n}\n',
    '8:21', /derived 'r': metrics 'm' \(5m by \[\]\) and 'n' \(1h by \[\]\) have different windows/],
};

for (const [kind, [text, where, message]] of Object.entries(BROKEN)) {
  test(`pipeline validate refuses a definition with ${kind.replace(/_/g, ' ')}`, async () => {
    const file = path.join(tmp, `${kind}.yaml`);
    fs.writeFileSync(file, text);
    const r = await scope.run(['pipeline', 'validate', file]);
    assert.equal(r.code, 2, `exit ${r.code}: ${r.stdout}${r.stderr}`);
    const line = r.stderr.split('\n').find((l) => l.startsWith(`${file}:${where}: `));
    assert.ok(line, `no error at ${file}:${where} in:\n${r.stderr}`);
    assert.match(line, message);
  });
}

test('pipeline explain shows the tables, keys, views and Spark SQL', async () => {
  const telecom = await scope.run(['pipeline', 'explain', TELECOM]);
  assert.equal(telecom.code, 0, telecom.stderr);
  for (const want of ['table bytes (timestamp TIMESTAMP, id TEXT, value BIGINT, type TEXT), unique key (timestamp, id, type)',
    'table bytes_hourly', 'table user_quota_limit', 'consumer group lambdaflow-telecom',
    "SELECT window.start AS window_start, `antenna_id`, SUM(`bytes`) AS value",
    "GROUP BY window(CAST(`timestamp` AS TIMESTAMP), '5 minutes'), `antenna_id`",
    '<storage>/devices/year=YYYY/month=M/day=D/hour=H/part-*.parquet']) {
    assert.ok(telecom.stdout.includes(want), `explain telecom lacks ${JSON.stringify(want)}:\n${telecom.stdout}`);
  }
  const line = await scope.run(['pipeline', 'explain', PRODUCTION]);
  assert.equal(line.code, 0, line.stderr);
  for (const want of ['CREATE UNIQUE INDEX IF NOT EXISTS "units_per_zone_key" ON "units_per_zone" (window_start, "zone_id")',
    'CREATE OR REPLACE VIEW "throughput_pct"', 'CREATE OR REPLACE VIEW "daily_production_lambda"',
    "WHERE `kind` = 'unit_collection_point'\n        AND `collection_point_id` = 'CP10'"]) {
    assert.ok(line.stdout.includes(want), `explain production_line lacks ${JSON.stringify(want)}`);
  }
});

async function provision(uri, files) {
  const r = await scope.run(['provision', '--pg', uri, ...files.flatMap((f) => ['--pipeline', f])], { timeoutMs: 60000 });
  assert.equal(r.code, 0, `provision exited ${r.code}: ${r.stderr}`);
}

// What SPEC §4 says a wide metric table holds, written out here for the test pipeline.
const SHOP_TABLES = {
  orders_per_store_1m: [['window_start', 'timestamp without time zone'], ['store', 'text'], ['value', 'bigint']],
  amount_15m: [['window_start', 'timestamp without time zone'], ['store', 'text'], ['vip', 'boolean'], ['value', 'bigint']],
  max_price_1h: [['window_start', 'timestamp without time zone'], ['region_id', 'bigint'], ['value', 'double precision']],
  min_price_1h: [['window_start', 'timestamp without time zone'], ['region_id', 'bigint'], ['value', 'double precision']],
  avg_amount_1d: [['window_start', 'timestamp without time zone'], ['store', 'text'], ['value', 'double precision']],
  customers_1d: [['window_start', 'timestamp without time zone'], ['value', 'bigint']],
  orders_1d: [['window_start', 'timestamp without time zone'], ['value', 'bigint']],
  refunds_1d: [['window_start', 'timestamp without time zone'], ['value', 'bigint']],
  amount_15m_batch: [['window_start', 'timestamp without time zone'], ['store', 'text'], ['vip', 'boolean'], ['value', 'bigint']],
};

test('provision --pipeline makes the wide tables, unique keys and catalog rows the definitions declare', async () => {
  await provision(pg.uri, [SHOP, PRODUCTION]);
  for (const [table, cols] of Object.entries(SHOP_TABLES)) {
    const rows = await query(pg.uri, `SELECT column_name, data_type FROM information_schema.columns
      WHERE table_name = $1 ORDER BY ordinal_position`, [table]);
    const got = rows.map((r) => [r.column_name, r.data_type]).filter(([c]) => cols.some(([w]) => w === c));
    assert.deepEqual(got, cols, `columns of ${table}`);
    assert.ok(rows.some((r) => r.column_name === 'updated_at'), `${table} has updated_at`);
    const key = await query(pg.uri, `SELECT array_to_string(array_agg(a.attname ORDER BY k.n), ',') AS cols
      FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, n)
      JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
      WHERE i.indrelid = $1::regclass AND i.indisunique GROUP BY i.indexrelid`, [table]);
    const groups = cols.map(([c]) => c).filter((c) => c !== 'value');
    assert.deepEqual(key.map((k) => k.cols), [groups.join(',')], `unique key of ${table}`);
  }
  const members = await query(pg.uri, `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name = 'customers_1d_members'`);
  assert.equal(members[0].n, 1, 'count_distinct keeps its members table');
  const catalog = await query(pg.uri, `SELECT pipeline, kind, name, window_s, group_by, aggregate, table_name, value_type
    FROM lf_metrics ORDER BY pipeline, position`);
  const shop = catalog.filter((r) => r.pipeline === 'shop');
  assert.deepEqual(shop.map((r) => `${r.kind}:${r.name}`), [
    'metric:orders_per_store_1m', 'metric:amount_15m', 'metric:max_price_1h', 'metric:min_price_1h', 'metric:avg_amount_1d',
    'metric:customers_1d', 'metric:orders_1d', 'metric:refunds_1d', 'derived:refund_pct_1d',
    'batch:orders_1d', 'batch:refunds_1d', 'batch:amount_15m']);
  const amount = shop.find((r) => r.name === 'amount_15m' && r.kind === 'metric');
  assert.deepEqual([amount.window_s, amount.group_by, amount.aggregate, amount.value_type], [900, ['store', 'vip'], 'sum(amount)', 'BIGINT']);
  const line = catalog.filter((r) => r.pipeline === 'production_line');
  assert.equal(line.length, 6 + 1 + 4, 'production_line: 6 metrics, 1 derived, 4 batch');
  const pipelines = await query(pg.uri, 'SELECT name, topic, layout, lake_dataset FROM lf_pipelines ORDER BY name');
  assert.deepEqual(pipelines.map((p) => [p.name, p.topic, p.layout, p.lake_dataset]),
    [['production_line', 'TFI', 'wide', 'production_line'], ['shop', 'shop_orders', 'wide', 'shop']]);
});

test('provision --pipeline is idempotent: a second run changes neither schema nor catalog', async () => {
  const snapshot = async () => {
    const cols = await query(pg.uri, `SELECT table_name, column_name, data_type FROM information_schema.columns
      WHERE table_schema = 'public' ORDER BY 1, 2`);
    const views = await query(pg.uri, `SELECT viewname, definition FROM pg_views WHERE schemaname = 'public' ORDER BY 1`);
    const idx = await query(pg.uri, `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1`);
    const cat = await query(pg.uri, 'SELECT pipeline, kind, name, position FROM lf_metrics ORDER BY 1, 2, 3');
    return JSON.stringify({ cols, views, idx, cat });
  };
  const first = await snapshot();
  await provision(pg.uri, [SHOP, PRODUCTION]);
  assert.equal(await snapshot(), first);
});

test('the derived view and the _lambda view compute what the definition says', async () => {
  const day1 = '2026-11-22 00:00:00';
  const day2 = '2026-11-23 00:00:00';
  await withPg(pg.uri, async (c) => {
    await c.query(`INSERT INTO orders_1d (window_start, value) VALUES ($1, 30), ('2026-11-24', 0)`, [day1]);
    await c.query(`INSERT INTO refunds_1d (window_start, value) VALUES ($1, 10), ($2, 4), ('2026-11-24', 0)`, [day1, day2]);
    // 15-minute speed rows over two days; the batch has run for day 1 only, with its own numbers.
    const speed = [[`${day1.slice(0, 10)} 09:00`, 'a', true, 5], [`${day1.slice(0, 10)} 09:15`, 'a', true, 7],
      [`${day1.slice(0, 10)} 09:30`, 'b', false, 1], [`${day2.slice(0, 10)} 10:45`, 'a', true, 11],
      [`${day2.slice(0, 10)} 10:00`, 'a', true, 2], [`${day2.slice(0, 10)} 11:00`, 'a', false, 3]];
    for (const [ws, store, vip, v] of speed) {
      await c.query('INSERT INTO amount_15m (window_start, store, vip, value) VALUES ($1, $2, $3, $4)', [ws, store, vip, v]);
    }
    await c.query(`INSERT INTO amount_15m_batch (window_start, store, vip, value) VALUES
      ('2026-11-22 09:00', 'a', true, 100), ('2026-11-22 09:00', 'b', false, 200)`);
    await c.query(`INSERT INTO lf_batch_units (pipeline, unit_start, unit_s, status) VALUES ('shop', $1, 86400, 'ok'),
      ('other', $2, 86400, 'ok')`, [day1, day2]);
  });
  // refund_pct_1d = 100 * refunds / (orders + refunds), a missing row counting as 0, NULL on 0/0.
  const pct = await query(pg.uri, `SELECT to_char(window_start, 'YYYY-MM-DD') AS d, value FROM refund_pct_1d ORDER BY 1`);
  assert.deepEqual(pct.map((r) => [r.d, r.value]), [['2026-11-22', 100 * 10 / 40], ['2026-11-23', 100], ['2026-11-24', null]]);
  // amount_15m_lambda: day 1 from the batch (it ran for shop), day 2 the speed rows rolled up to hours
  // (the 'ok' unit of another pipeline does not count).
  const lambda = await query(pg.uri, `SELECT to_char(window_start, 'YYYY-MM-DD HH24:MI') AS w, store, vip, value::text AS v, layer
    FROM amount_15m_lambda ORDER BY 1, 2, 3`);
  assert.deepEqual(lambda.map((r) => [r.w, r.store, r.vip, r.v, r.layer]), [
    ['2026-11-22 09:00', 'a', true, '100', 'batch'], ['2026-11-22 09:00', 'b', false, '200', 'batch'],
    ['2026-11-23 10:00', 'a', true, String(11 + 2), 'speed'], ['2026-11-23 11:00', 'a', false, '3', 'speed']]);
});

test('provision --pipeline pipelines/telecom.yaml makes exactly the telecom schema', async () => {
  const plain = uriWithDatabase(pg.uri, 'plain_telecom');
  const viaDef = uriWithDatabase(pg.uri, 'def_telecom');
  await query(pg.uri, 'CREATE DATABASE plain_telecom');
  await query(pg.uri, 'CREATE DATABASE def_telecom');
  const r = await scope.run(['provision', '--pg', plain], { timeoutMs: 60000 });
  assert.equal(r.code, 0, r.stderr);
  await provision(viaDef, [TELECOM]);
  const schema = async (uri) => JSON.stringify({
    cols: await query(uri, `SELECT table_name, column_name, data_type FROM information_schema.columns
      WHERE table_schema = 'public' AND table_name NOT IN ('lf_pipelines', 'lf_metrics', 'lf_batch_units') ORDER BY 1, 2`),
    views: await query(uri, `SELECT viewname, definition FROM pg_views WHERE schemaname = 'public' ORDER BY 1`),
    idx: await query(uri, `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'
      AND tablename NOT IN ('lf_pipelines', 'lf_metrics', 'lf_batch_units') ORDER BY 1`),
    users: await query(uri, 'SELECT id, name, email, quota::text FROM user_metadata ORDER BY id'),
  });
  assert.equal(await schema(viaDef), await schema(plain));
  const cat = await query(viaDef, `SELECT kind, name, table_name FROM lf_metrics WHERE pipeline = 'telecom' ORDER BY position`);
  assert.deepEqual(cat.map((x) => `${x.kind}:${x.name}:${x.table_name}`), [
    'metric:antenna_bytes_total:bytes', 'metric:user_bytes_total:bytes', 'metric:app_bytes_total:bytes',
    'batch:antenna_bytes_total:bytes_hourly', 'batch:user_bytes_total:bytes_hourly',
    'batch:user_email_bytes_total:bytes_hourly', 'batch:app_bytes_total:bytes_hourly']);
});

test('layers refuse a definition they cannot run yet, and say why', async () => {
  const iot = path.join(SOURCE_DIR, 'pipelines/farmia/iot_sensors.yaml');
  const r = await scope.run(['speed', '--pipeline', iot, '--pg', pg.uri, '--brokers', '127.0.0.1:1']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /speed: pipeline farmia_iot_sensors \(.*iot_sensors\.yaml\): the speed layer runs telecom-shaped definitions and wide-layout ones with Kafka JSON sources/);
  const bad = path.join(tmp, 'bad.yaml');
  fs.writeFileSync(bad, 'name: x\nwindow: 5m\n');
  const b = await scope.run(['batch', '--pipeline', bad, '--pg', pg.uri, '--storage', tmp, '--pending']);
  assert.equal(b.code, 2);
  assert.ok(b.stderr.includes(`${bad}:2:1: unknown key 'window'`), b.stderr);
});

test('the telecom layers run from a definition that renames topic, tables and dataset', { timeout: 300000 }, async () => {
  const text = fs.readFileSync(TELECOM, 'utf8')
    .replace('name: telecom', 'name: telco2')
    .replace('topic: devices', 'topic: usage_events')
    .replace('table: bytes}', 'table: usage_5m}')
    .replace('dataset: devices', 'dataset: usage')
    .replace('sink: {table: bytes_hourly}', 'sink: {table: usage_hourly}');
  const file = path.join(tmp, 'telco2.yaml');
  fs.writeFileSync(file, text);
  const db = uriWithDatabase(pg.uri, 'telco2');
  await query(pg.uri, 'CREATE DATABASE telco2');
  const broker = await scope.startBroker({ topic: 'usage_events', partitions: 4 });
  await provision(db, [file]);
  const ndjson = path.join(tmp, 'telco2.ndjson');
  const storage = path.join(tmp, 'storage');
  const sim = await scope.run(['simulate', '--pipeline', file, '--brokers', broker.brokers, '--events', '20000',
    '--start', '2026-11-22T06:00:00Z', '--interval', '10s', '--seed', '3', '--out', ndjson], { timeoutMs: 120000 });
  assert.equal(sim.code, 0, sim.stderr);
  const speed = await scope.run(['speed', '--pipeline', file, '--brokers', broker.brokers, '--pg', db, '--storage', storage,
    '--exit-when-idle', '4s'], { timeoutMs: 180000 });
  assert.equal(speed.code, 0, speed.stderr.slice(-2000));
  const expected = await oracleWindows([ndjson]);
  assertTableEquals(expected, await readWindowTable(db, 'usage_5m'), 'usage_5m');
  const offsets = await query(db, 'SELECT DISTINCT pipeline, topic FROM lf_offsets');
  assert.deepEqual(offsets.map((o) => `${o.pipeline}:${o.topic}`), ['lambdaflow-telco2:usage_events']);
  await assertLakeExact(storage, [ndjson], 'lake usage/ vs NDJSON', { dataset: 'usage' });
  assert.ok(!fs.existsSync(path.join(storage, 'devices')), 'nothing written under devices/');
  const batch = await scope.run(['batch', '--pipeline', file, '--storage', storage, '--pg', db, '--hour', '2026-11-22T06:00:00Z'],
    { timeoutMs: 120000 });
  assert.equal(batch.code, 0, batch.stderr);
  // The hour's totals per antenna, user and app equal the 5-minute oracle rolled up to the hour.
  const hour = BigInt(Date.parse('2026-11-22T06:00:00Z') / 1000);
  const want = new Map();
  for (const [k, v] of expected) {
    const [ws, type, id] = k.split('|');
    if (BigInt(ws) - (BigInt(ws) % 3600n) !== hour) continue;
    const key = `${hour}|${type}|${id}`;
    want.set(key, (want.get(key) ?? 0n) + v);
  }
  const hourly = (await readWindowTable(db, 'usage_hourly')).filter((r) => r.type !== 'user_email_bytes_total');
  assertTableEquals(want, hourly, 'usage_hourly');
});
