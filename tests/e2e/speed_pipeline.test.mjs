// The general engine end to end: `speed --pipeline tests/data/pipelines/shop.yaml` — a definition
// that is not telecom, with every aggregate, windows of 1m, 15m, 1h and 1d, group fields of
// string, int64 and bool type, `where` with equals, in and present, the Kafka key as a field and a
// derived view. Keyed messages (and bad ones) on 4 partitions of the embedded broker; two speed
// processes in one group, one of them SIGKILLed mid-stream, then a third that finishes the work.
// Every metric table and the derived view must equal DuckDB's computation over the NDJSON of the
// valid events, with no duplicate key, and dead_letters must hold exactly the bad messages.

import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  Scope, SOURCE_DIR, sleep, randomInt, waitFor, query, withDuckDB,
} from '../lib/harness.mjs';
import { readMetricTable, duckdbMap, assertSameRows } from '../lib/tables.mjs';

const execFileP = promisify(execFile);
const scope = new Scope('speed_pipeline');
after(() => scope.cleanup());
afterEach((t) => scope.noteResult(t));

const SHOP = path.join(SOURCE_DIR, 'tests/data/pipelines/shop.yaml');
const TOPIC = 'shop_orders';
const PARTITIONS = 4;
const EVENTS = 40000;
const START_MS = Date.parse('2026-11-22T20:00:00Z'); // the stream crosses a UTC midnight

// A small deterministic generator (xorshift), independent of the code under test.
function makeRandom(seed) {
  let x = BigInt(seed) || 1n;
  return (n) => {
    x ^= (x << 13n) & 0xffffffffffffffffn;
    x ^= x >> 7n;
    x ^= (x << 17n) & 0xffffffffffffffffn;
    return Number(x % BigInt(n));
  };
}

function generate() {
  const rnd = makeRandom(20261201);
  const events = [];
  for (let i = 0; i < EVENTS; i++) {
    const e = {
      order_id: `o${rnd(30000)}`,
      store: `s${rnd(7)}`,
      region_id: 1 + rnd(5),
      amount: rnd(1000),
      price: rnd(100000) / 100,
      at: START_MS + Math.floor(i * (30 * 3600 * 1000) / EVENTS) + rnd(60000),
    };
    if (rnd(4) !== 0) e.vip = rnd(2) === 0;
    if (rnd(3) === 0) e.coupon = `c${rnd(40)}`;
    const k = rnd(10);
    e.kind = k < 7 ? 'order' : k < 9 ? 'refund' : 'other';
    events.push(e);
  }
  return events;
}

// [key, payload] of messages that must become dead letters, with the field their reason names.
const BAD = [
  ['order', '{"order_id":"x","store":"s1","region_id":1,"amount":5,"price":1.5}', /missing field 'at'/],
  ['order', '{"order_id":"x","store":"s1","region_id":1,"amount":-5,"price":1.5,"at":1795370400000}', /'amount' is below its minimum 0/],
  ['order', '{"order_id":"x","store":"s1","region_id":100,"amount":5,"price":1.5,"at":1795370400000}', /'region_id' is above its maximum 99/],
  ['order', '{"order_id":"x","store":7,"region_id":1,"amount":5,"price":1.5,"at":1795370400000}', /field 'store' must be a string/],
  ['order', '{"order_id":"x","store":"s1","region_id":1,"amount":5,"price":"cheap","at":1795370400000}', /field 'price' must be a number/],
  ['order', '{"order_id":"x","store":"s1","region_id":1,"amount":5,"price":1,"at":"tomorrow"}', /'at' is not an ISO-8601 time/],
  ['order', 'not json at all', /not valid JSON/],
  ['', '{"order_id":"x","store":"s1","region_id":1,"amount":5,"price":1.5,"at":1795370400000}', /the message key \(field 'kind'\) is missing/],
];

const s = {};
before(async () => {
  s.tmp = scope.tmpdir();
  s.ndjson = path.join(s.tmp, 'valid.ndjson');
  s.storage = path.join(s.tmp, 'storage');
});

// Produces keyed messages to one partition through kcat (key and value separated by a tab).
async function produceKeyed(brokers, partition, lines) {
  const file = path.join(s.tmp, `p${partition}-${Date.now()}-${Math.random()}.txt`);
  fs.writeFileSync(file, lines.map(([k, v]) => `${k}\t${v}`).join('\n') + '\n');
  await execFileP('kcat', ['-P', '-b', brokers, '-t', TOPIC, '-p', String(partition), '-K', '\t', '-l', file,
    '-X', 'enable.idempotence=true'], { timeout: 120000 });
}

test('set-up: broker, provision --pipeline, the events and bad messages to send', { timeout: 120000 }, async () => {
  const [pg, broker] = await Promise.all([scope.startPostgres(),
    scope.startBroker({ topic: TOPIC, partitions: PARTITIONS })]);
  s.pg = pg;
  s.broker = broker;
  const prov = await scope.run(['provision', '--pg', pg.uri, '--pipeline', SHOP], { timeoutMs: 60000 });
  assert.equal(prov.code, 0, prov.stderr);
  const events = generate();
  fs.writeFileSync(s.ndjson, events.map((e) => JSON.stringify(e)).join('\n') + '\n');
  s.byPartition = Array.from({ length: PARTITIONS }, () => []);
  events.forEach((e, i) => {
    const { kind, ...body } = e;
    s.byPartition[i % PARTITIONS].push([kind, JSON.stringify(body)]);
  });
  BAD.forEach(([k, v], i) => s.byPartition[i % PARTITIONS].splice(100 * (i + 1), 0, [k, v]));
});

test('two processes in one group while the events arrive, one SIGKILLed mid-stream, a third finishes',
  { timeout: 420000 }, async (t) => {
    assert.ok(s.byPartition, 'set-up failed');
    const args = ['speed', '--pipeline', SHOP, '--brokers', s.broker.brokers, '--pg', s.pg.uri,
      '--storage', s.storage, '--exit-when-idle', '6s', '--flush-interval', '300ms',
      '--lake-roll-interval', '1s'];
    const a = scope.start(args, { name: 'speed-a' });
    const b = scope.start(args, { name: 'speed-b' });
    await waitFor(() => /assigned \d+ partition/.test(a.output), { timeoutMs: 60000, what: 'A in the group' });
    // Five rounds of events; A is killed at a random moment inside the third.
    const ROUNDS = 5;
    for (let r = 0; r < ROUNDS; r++) {
      const rounds = s.byPartition.map((lines) => lines.slice(Math.floor((r * lines.length) / ROUNDS),
        Math.floor(((r + 1) * lines.length) / ROUNDS)));
      const sending = Promise.all(rounds.map((lines, p) => produceKeyed(s.broker.brokers, p, lines)));
      if (r === 2) {
        await sleep(randomInt(100, 1200));
        a.kill('SIGKILL');
      }
      await sending;
      await sleep(700);
    }
    const rb = await b.wait(300000);
    assert.equal(rb.code, 0, `speed B: ${rb.stderr.slice(-1500)}`);
    const c = await scope.run(args, { timeoutMs: 300000, name: 'speed-c' });
    assert.equal(c.code, 0, `speed C: ${c.stderr.slice(-1500)}`);
    const applied = await query(s.pg.uri, `SELECT sum(next_offset)::text AS n FROM lf_offsets
      WHERE pipeline = 'lambdaflow-shop' AND sink = 'pg:shop'`);
    assert.equal(Number(applied[0].n), EVENTS + BAD.length, 'every message of every partition applied');
    t.diagnostic(`B: ${rb.stdout.trim().split('\n').pop()}; C: ${c.stdout.trim().split('\n').pop()}`);
  });

const table = (name, groups, valueSql) => readMetricTable(s.pg.uri, name, groups, valueSql);
const oracle = (sql) => duckdbMap(`read_json('${s.ndjson}', format = 'newline_delimited', columns = {order_id: 'VARCHAR',
  store: 'VARCHAR', region_id: 'BIGINT', vip: 'BOOLEAN', amount: 'BIGINT', price: 'DOUBLE', coupon: 'VARCHAR',
  "at": 'BIGINT', kind: 'VARCHAR'})`, sql);
const assertSame = assertSameRows;
const W = (seconds) => `(floor("at" / 1000)::BIGINT - floor("at" / 1000)::BIGINT % ${seconds})`;

test('every metric table equals DuckDB over the NDJSON', async () => {
  assert.ok(s.pg, 'set-up failed');
  assertSame(await oracle(`SELECT ${W(60)}, store, count(*) FROM EVENTS WHERE kind = 'order' GROUP BY ALL`),
    await table('orders_per_store_1m', ['store']), 'orders_per_store_1m (count, 1m, by string)');
  assertSame(await oracle(`SELECT ${W(900)}, store, vip, sum(amount) FROM EVENTS WHERE kind = 'order' AND vip IS NOT NULL GROUP BY ALL`),
    await table('amount_15m', ['store', 'vip']), 'amount_15m (sum, 15m, by string and bool)');
  assertSame(await oracle(`SELECT ${W(3600)}, region_id, max(price) FROM EVENTS GROUP BY ALL`),
    await table('max_price_1h', ['region_id']), 'max_price_1h (max float, 1h, by int64)');
  assertSame(await oracle(`SELECT ${W(3600)}, region_id, min(price) FROM EVENTS GROUP BY ALL`),
    await table('min_price_1h', ['region_id']), 'min_price_1h (min float)');
  assertSame(await oracle(`SELECT ${W(86400)}, store, avg(amount) FROM EVENTS WHERE kind IN ('order', 'refund') GROUP BY ALL`),
    await table('avg_amount_1d', ['store']), 'avg_amount_1d (avg, 1d, in)', { tolerance: 1e-9 });
  assertSame(await oracle(`SELECT ${W(86400)}, count(DISTINCT order_id) FROM EVENTS WHERE coupon IS NOT NULL GROUP BY ALL`),
    await table('customers_1d', []), 'customers_1d (count_distinct, present)');
  assertSame(await oracle(`SELECT ${W(86400)}, count(*) FROM EVENTS WHERE kind = 'order' GROUP BY ALL`),
    await table('orders_1d', []), 'orders_1d');
  assertSame(await oracle(`SELECT ${W(86400)}, count(*) FROM EVENTS WHERE kind = 'refund' GROUP BY ALL`),
    await table('refunds_1d', []), 'refunds_1d');
  assertSame(await oracle(`SELECT ${W(86400)}, 100.0::DOUBLE * count(*) FILTER (kind = 'refund') /
      (count(*) FILTER (kind = 'order') + count(*) FILTER (kind = 'refund')) FROM EVENTS
      WHERE kind IN ('order', 'refund') GROUP BY ALL`),
    await table('refund_pct_1d', []), 'refund_pct_1d (derived view)', { tolerance: 1e-9 });
  const members = await query(s.pg.uri, `SELECT count(*)::int AS n FROM customers_1d_members`);
  const distinct = await oracle(`SELECT 1, count(*) FROM (SELECT DISTINCT ${W(86400)}, order_id FROM EVENTS
    WHERE coupon IS NOT NULL)`);
  assert.equal(String(members[0].n), [...distinct.values()][0], 'each member stored once');
});

test('dead_letters holds exactly the bad messages, each with its reason', async () => {
  assert.ok(s.pg, 'set-up failed');
  const rows = await query(s.pg.uri, `SELECT convert_from(payload, 'UTF8') AS p, error FROM dead_letters WHERE topic = $1`, [TOPIC]);
  assert.equal(rows.length, BAD.length, JSON.stringify(rows));
  for (const [, payload, reason] of BAD) {
    const row = rows.find((r) => r.p === payload && reason.test(r.error));
    assert.ok(row, `no dead letter for ${payload} matching ${reason}: ${JSON.stringify(rows)}`);
  }
});

test('the lake holds every valid event once, typed, under shop/year=/month=/day=/hour=', async () => {
  assert.ok(s.pg, 'set-up failed');
  await withDuckDB(async (conn) => {
    const glob = `'${path.join(s.storage, 'shop/**/*.parquet')}'`;
    const types = await conn.runAndReadAll(
      `SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(${glob}, hive_partitioning = true))`);
    const cols = Object.fromEntries(types.getRows());
    assert.deepEqual([cols.order_id, cols.region_id, cols.vip, cols.amount, cols.price, cols.coupon, cols.kind],
      ['VARCHAR', 'BIGINT', 'BOOLEAN', 'BIGINT', 'DOUBLE', 'VARCHAR', 'VARCHAR']);
    assert.match(cols.at, /^TIMESTAMP/);
    const lake = await conn.runAndReadAll(`SELECT year, month, day, hour, count(*)::VARCHAR, sum(amount)::VARCHAR,
        count(vip)::VARCHAR, count(coupon)::VARCHAR, string_agg(DISTINCT kind, ',' ORDER BY kind)
      FROM read_parquet(${glob}, hive_partitioning = true)
      WHERE year = extract(year FROM "at") AND month = extract(month FROM "at") AND day = extract(day FROM "at")
        AND hour = extract(hour FROM "at")
      GROUP BY ALL ORDER BY ALL`);
    const truth = await conn.runAndReadAll(`WITH e AS (SELECT *, make_timestamp("at" * 1000) AS t FROM read_json('${s.ndjson}',
        format = 'newline_delimited', columns = {order_id: 'VARCHAR', store: 'VARCHAR', region_id: 'BIGINT', vip: 'BOOLEAN',
        amount: 'BIGINT', price: 'DOUBLE', coupon: 'VARCHAR', "at": 'BIGINT', kind: 'VARCHAR'}))
      SELECT year(t), month(t), day(t), hour(t), count(*)::VARCHAR, sum(amount)::VARCHAR, count(vip)::VARCHAR,
        count(coupon)::VARCHAR, string_agg(DISTINCT kind, ',' ORDER BY kind)
      FROM e GROUP BY ALL ORDER BY ALL`);
    const show = (r) => r.getRows().map((row) => row.map(String).join(' '));
    assert.ok(truth.getRows().length >= 30, 'the events span more than a day of hours');
    assert.deepEqual(show(lake), show(truth), 'per hour: rows, sum(amount), vip and coupon present, kinds');
  });
});

test('batch --pipeline --pending recomputes every complete day from the lake; the _lambda views serve it', async (t) => {
  assert.ok(s.pg, 'set-up failed');
  const run = await scope.run(['batch', '--pipeline', SHOP, '--storage', s.storage, '--pg', s.pg.uri, '--pending'],
    { timeoutMs: 120000 });
  assert.equal(run.code, 0, run.stderr.slice(-2000));
  const units = run.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  t.diagnostic(JSON.stringify(units));
  // The stream spans 2026-11-22 20:00 to 2026-11-24 02:00: two days are complete, the third is not.
  assert.deepEqual(units.map((u) => u.unit), ['2026-11-22T00:00:00Z', '2026-11-23T00:00:00Z']);
  const days = `"at" < ${Date.parse('2026-11-24T00:00:00Z')}`;
  assertSame(await oracle(`SELECT ${W(86400)}, count(*) FROM EVENTS WHERE kind = 'order' AND ${days} GROUP BY ALL`),
    await table('orders_1d_batch', []), 'orders_1d_batch');
  assertSame(await oracle(`SELECT ${W(3600)}, store, vip, sum(amount) FROM EVENTS
      WHERE kind = 'order' AND vip IS NOT NULL AND ${days} GROUP BY ALL`),
    await table('amount_15m_batch', ['store', 'vip']), 'amount_15m_batch (1h roll-up of a 15m speed metric)');
  // The lambda view: batch rows for the two days, the speed rows rolled up to hours for the third.
  const lambda = await query(s.pg.uri, `SELECT layer, count(*)::int AS n, min(window_start)::text AS lo,
      max(window_start)::text AS hi FROM amount_15m_lambda GROUP BY layer ORDER BY layer`);
  assert.deepEqual(lambda.map((r) => [r.layer, r.lo.slice(0, 10), r.hi.slice(0, 10)]),
    [['batch', '2026-11-22', '2026-11-23'], ['speed', '2026-11-24', '2026-11-24']]);
  assertSame(await oracle(`SELECT ${W(3600)}, store, vip, sum(amount) FROM EVENTS
      WHERE kind = 'order' AND vip IS NOT NULL GROUP BY ALL`),
    await table('amount_15m_lambda', ['store', 'vip']), 'amount_15m_lambda (batch where run, speed elsewhere)');
  const again = await scope.run(['batch', '--pipeline', SHOP, '--storage', s.storage, '--pg', s.pg.uri, '--pending'],
    { timeoutMs: 120000 });
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout.trim(), '', 'nothing pending after the run');
  // A day given explicitly runs again (idempotent: same rows).
  const day = await scope.run(['batch', '--pipeline', SHOP, '--storage', s.storage, '--pg', s.pg.uri,
    '--day', '2026-11-23T12:00:00Z'], { timeoutMs: 120000 });
  assert.equal(day.code, 0, day.stderr);
  assertSame(await oracle(`SELECT ${W(86400)}, count(*) FROM EVENTS WHERE kind = 'order' AND ${days} GROUP BY ALL`),
    await table('orders_1d_batch', []), 'orders_1d_batch after a re-run');
  const hour = await scope.run(['batch', '--pipeline', SHOP, '--storage', s.storage, '--pg', s.pg.uri,
    '--hour', '2026-11-23T12:00:00Z'], { timeoutMs: 60000 });
  assert.equal(hour.code, 2);
  assert.match(hour.stderr, /runs every 1d: use --day/);
});
