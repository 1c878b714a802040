// Avro orders into bronze (SPEC §6.4): an independent client, npm's
// @kafkajs/confluent-schema-registry (avsc inside), registers two versions of the order schema
// with `lambdaflow registry` and encodes orders in the Confluent wire format; kcat produces them
// with non-Avro bytes, an unknown schema id and a truncated body; `lambdaflow ingest --pipeline
// pipelines/farmia/sales_orders.yaml` (SIGKILLed once and restarted) puts every order in bronze
// exactly once with the right values, `_schema_id`, Kafka coordinates and rescued fields, and the
// three bad messages in dead_letters. DuckDB reads bronze; the truth is what the client encoded.

import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import registryClient from '@kafkajs/confluent-schema-registry';
import {
  Scope, SOURCE_DIR, query, produceRaw, withDuckDB, sleep, randomInt, waitFor,
} from '../lib/harness.mjs';

const { SchemaRegistry, SchemaType } = registryClient;
const scope = new Scope('ingest_avro');
after(() => scope.cleanup());
afterEach((t) => scope.noteResult(t));

const ORDERS = path.join(SOURCE_DIR, 'pipelines/farmia/sales_orders.yaml');
const V1 = {
  type: 'record',
  name: 'Order',
  namespace: 'farmia.sales',
  fields: [
    { name: 'order_id', type: 'string' },
    { name: 'customer_id', type: 'string' },
    { name: 'product_id', type: 'string' },
    { name: 'quantity', type: 'long' },
    { name: 'unit_price', type: 'double' },
    { name: 'currency', type: 'string' },
    { name: 'order_ts', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'channel', type: 'string' },
  ],
};
// v2 adds a field the definition does not know (it goes to _rescued_data) with a default.
const V2 = { ...V1, fields: [...V1.fields, { name: 'coupon', type: ['null', 'string'], default: null }] };
const s = {};

before(async () => {
  [s.pg, s.broker] = await Promise.all([scope.startPostgres(), scope.startBroker({ topic: 'sales_orders', partitions: 3 })]);
  s.tmp = scope.tmpdir();
  const reg = scope.start(['registry', '--pg', s.pg.uri, '--listen', '127.0.0.1:0'], { name: 'registry' });
  s.registry = reg;
  s.registryUrl = (await reg.waitForLine(/^registry: listening on (http:\/\/127\.0\.0\.1:\d+)\/$/, 30000))[1];
});

test('orders of two schema versions and three bad messages land exactly once', { timeout: 240000 }, async () => {
  const registry = new SchemaRegistry({ host: s.registryUrl });
  const v1 = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(V1) }, { subject: 'sales_orders-value' });
  const v2 = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(V2) }, { subject: 'sales_orders-value' });
  assert.notEqual(v1.id, v2.id);
  const truth = [];
  const perPartition = [[], [], []];
  const base = Date.parse('2026-11-22T09:00:00Z');
  for (let i = 0; i < 600; i += 1) {
    const order = {
      order_id: `ORD-${String(i).padStart(5, '0')}`,
      customer_id: `C${i % 37}`,
      product_id: `P${i % 11}`,
      quantity: (i % 9) + 1,
      unit_price: Math.round((i % 50) * 1.37 * 100) / 100 + 0.5,
      currency: i % 4 === 0 ? 'USD' : 'EUR',
      order_ts: base + i * 1500, // avsc encodes the long itself (no logical-type class registered)
      channel: ['web', 'app', 'store'][i % 3],
    };
    const useV2 = i % 2 === 1;
    if (useV2) order.coupon = i % 3 === 0 ? null : `SAVE${i % 7}`;
    const buf = await registry.encode(useV2 ? v2.id : v1.id, order);
    const p = i % 3;
    perPartition[p].push(buf);
    truth.push({ order, schemaId: useV2 ? v2.id : v1.id, partition: p, offset: perPartition[p].length - 1 });
  }
  // Bad messages on partition 0, after its orders: not Avro, an unknown schema id, a truncated body.
  const good = await registry.encode(v1.id, { ...truth[0].order, order_id: 'ORD-TRUNC' });
  const bad = [Buffer.from('{"order_id":"json, not avro"}'), Buffer.concat([Buffer.from([0, 0, 0, 0x7f, 0x7f]), good.subarray(5)]),
    good.subarray(0, good.length - 4)];
  for (let p = 0; p < 3; p += 1) {
    await produceRaw(s.broker.brokers, 'sales_orders', p, p === 0 ? [...perPartition[p], ...bad] : perPartition[p], { tmp: s.tmp });
  }
  const storage = path.join(s.tmp, 'storage');
  const args = ['ingest', '--pipeline', ORDERS, '--brokers', s.broker.brokers, '--schema-registry', s.registryUrl,
    '--storage', storage, '--pg', s.pg.uri];
  // A watcher killed at a random moment, then --once to finish.
  const a = scope.start([...args, '--watch'], { name: 'ingest-killed' });
  await waitFor(() => /assigned \d+ partition/.test(a.output), { timeoutMs: 60000, what: 'partitions assigned' });
  await sleep(randomInt(0, 1500));
  a.kill('SIGKILL');
  await a.wait(30000);
  const r = await scope.run([...args, '--once'], { timeoutMs: 120000, name: 'ingest-once' });
  assert.equal(r.code, 0, r.stderr.slice(-2000));

  const rows = await withDuckDB(async (conn) => (await conn.runAndReadAll(`SELECT order_id, customer_id, product_id,
      quantity, unit_price, currency, epoch_ms(order_ts) AS ts, channel, _schema_id, _topic, _partition, _offset,
      _rescued_data, _source_file, ingest_date::VARCHAR AS ingest_date
    FROM read_parquet('${storage}/bronze/sales_orders/*/*.parquet', hive_partitioning = true) ORDER BY order_id`)).getRowObjectsJS());
  assert.equal(rows.length, truth.length, 'every order once');
  const byId = new Map(rows.map((x) => [x.order_id, x]));
  assert.equal(byId.size, truth.length, 'no duplicate');
  const today = new Date().toISOString().slice(0, 10);
  for (const t of truth) {
    const got = byId.get(t.order.order_id);
    assert.ok(got, t.order.order_id);
    const want = {
      order_id: t.order.order_id, customer_id: t.order.customer_id, product_id: t.order.product_id,
      quantity: BigInt(t.order.quantity), unit_price: t.order.unit_price, currency: t.order.currency,
      ts: BigInt(t.order.order_ts), channel: t.order.channel, _schema_id: t.schemaId, _topic: 'sales_orders',
      _partition: t.partition, _offset: BigInt(t.offset), _source_file: null, ingest_date: today,
    };
    const { _rescued_data: rescued, ...rest } = got;
    assert.deepEqual(rest, want, t.order.order_id);
    if ('coupon' in t.order) assert.deepEqual(JSON.parse(rescued), { coupon: t.order.coupon }, t.order.order_id);
    else assert.equal(rescued, null, t.order.order_id);
  }
  const dead = await query(s.pg.uri, `SELECT partition, "offset"::int AS o, error FROM dead_letters
    WHERE topic = 'sales_orders' ORDER BY 1, 2`);
  const n0 = perPartition[0].length;
  assert.deepEqual(dead.map((d) => [d.partition, d.o]), [[0, n0], [0, n0 + 1], [0, n0 + 2]]);
  assert.match(dead[0].error, /Confluent/);
  assert.match(dead[1].error, /schema/i);
  assert.ok(dead[2].error.length > 0);
});

test('while the registry is away, orders wait instead of becoming dead letters', { timeout: 180000 }, async () => {
  // A second topic, whose schema ids the running ingest has not cached.
  const registry = new SchemaRegistry({ host: s.registryUrl });
  const { id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(V1) }, { subject: 'orders_away-value' });
  const orders = [];
  for (let i = 0; i < 50; i += 1) {
    orders.push(await registry.encode(id, { order_id: `AWAY-${i}`, customer_id: 'C', product_id: 'P', quantity: 1,
      unit_price: 1.5, currency: 'EUR', order_ts: Date.parse('2026-11-22T10:00:00Z') + i, channel: 'web' }));
  }
  const def = path.join(s.tmp, 'orders_away.yaml');
  fs.writeFileSync(def, fs.readFileSync(ORDERS, 'utf8').replace('name: farmia_sales_orders', 'name: orders_away')
    .replace('topic: sales_orders', 'topic: orders_away').replace('bronze/sales_orders', 'bronze/orders_away'));
  await produceRaw(s.broker.brokers, 'orders_away', 0, orders, { tmp: s.tmp });
  // The registry stops; ingest starts against its address and must wait, not refuse.
  const port = new URL(s.registryUrl).port;
  s.registry.kill('SIGTERM');
  await s.registry.wait(30000);
  const storage = path.join(s.tmp, 'storage-away');
  const ing = scope.start(['ingest', '--watch', '--pipeline', def, '--brokers', s.broker.brokers, '--schema-registry',
    s.registryUrl, '--storage', storage, '--pg', s.pg.uri], { name: 'ingest-away' });
  await waitFor(() => /retrying every second/.test(ing.output), { timeoutMs: 60000, what: 'ingest waiting for the registry' });
  s.registry = scope.start(['registry', '--pg', s.pg.uri, '--listen', `127.0.0.1:${port}`], { name: 'registry-back' });
  await waitFor(async () => (await query(s.pg.uri, `SELECT coalesce(sum(events), 0)::int AS n FROM lf_offsets
    WHERE sink = 'pg:orders_away'`))[0].n === orders.length, { timeoutMs: 60000, what: 'the 50 orders applied' });
  ing.kill('SIGTERM');
  assert.equal((await ing.wait(60000)).code, 0, ing.stderr.slice(-2000));
  const dead = await query(s.pg.uri, `SELECT count(*)::int AS n FROM dead_letters WHERE topic = 'orders_away'`);
  assert.equal(dead[0].n, 0, 'no order became a dead letter');
  const n = await withDuckDB(async (conn) => Number((await conn.runAndReadAll(`SELECT count(DISTINCT order_id) FROM
    read_parquet('${storage}/bronze/orders_away/*/*.parquet')`)).getRows()[0][0]));
  assert.equal(n, orders.length);
});
