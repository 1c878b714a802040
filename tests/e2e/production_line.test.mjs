// The production line (SPEC §5) end to end on the general engine: `simulate --pipeline
// pipelines/production_line.yaml` in the seed's positional form (brokers topic) for 3 000 units
// across a UTC midnight; `speed --pipeline` SIGKILLed at a random moment and restarted; every §5
// table and the throughput_pct view equal DuckDB's counts over the simulator's NDJSON, with no
// duplicate row; `batch --day` gives the same daily figures; the simulator is byte-identical for
// a seed.

import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Scope, SOURCE_DIR, sleep, randomInt, waitFor, query } from '../lib/harness.mjs';
import { readMetricTable, duckdbMap, assertSameRows } from '../lib/tables.mjs';
import { startServe } from '../lib/serve.mjs';

const scope = new Scope('production_line');
after(() => scope.cleanup());
afterEach((t) => scope.noteResult(t));

const LINE = path.join(SOURCE_DIR, 'pipelines/production_line.yaml');
const UNITS = 3000;
const START = '2026-11-22T18:00:00Z';

const s = {};
before(async () => {
  s.tmp = scope.tmpdir();
  s.ndjson = path.join(s.tmp, 'line.ndjson');
  s.storage = path.join(s.tmp, 'storage');
});

test('simulate the line in the seed\'s positional form; the same seed gives the same bytes', { timeout: 240000 }, async () => {
  const [pg, broker] = await Promise.all([scope.startPostgres(), scope.startBroker({ topic: 'TFI', partitions: 4 })]);
  s.pg = pg;
  s.broker = broker;
  const prov = await scope.run(['provision', '--pg', pg.uri, '--pipeline', LINE], { timeoutMs: 60000 });
  assert.equal(prov.code, 0, prov.stderr);
  const sim = await scope.run(['simulate', '--pipeline', LINE, '--units', String(UNITS), '--start', START,
    '--seed', '5', '--out', s.ndjson, broker.brokers, 'TFI'], { timeoutMs: 180000 });
  assert.equal(sim.code, 0, sim.stderr);
  assert.match(sim.stdout, new RegExp(`${UNITS} units produced`));
  // A second run of the same seed to a file only (another topic) is byte-identical.
  const again = path.join(s.tmp, 'again.ndjson');
  const sim2 = await scope.run(['simulate', '--pipeline', LINE, '--units', String(UNITS), '--start', START,
    '--seed', '5', '--out', again, '--brokers', broker.brokers, '--topic', 'TFI_copy'], { timeoutMs: 180000 });
  assert.equal(sim2.code, 0, sim2.stderr);
  assert.ok(fs.readFileSync(again).equals(fs.readFileSync(s.ndjson)), 'same seed, same stream');
  const lines = fs.readFileSync(s.ndjson, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const kinds = new Set(lines.map((l) => l.kind));
  assert.deepEqual([...kinds].sort(), ['concern', 'unit_collection_point']);
  const produced = new Set(lines.filter((l) => l.collection_point_id === 'CP10' && l.kind === 'unit_collection_point')
    .map((l) => l.qls_unit_id));
  assert.equal(produced.size, UNITS, 'every unit passes CP10 once');
  assert.match(lines[0].unit_collection_pt_timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
});

test('speed --pipeline SIGKILLed at a random moment, then restarted, finishes exactly', { timeout: 300000 }, async () => {
  assert.ok(s.pg, 'set-up failed');
  const args = ['speed', '--pipeline', LINE, s.broker.brokers, 'TFI', '--pg', s.pg.uri, '--storage', s.storage,
    '--exit-when-idle', '4s', '--flush-interval', '200ms'];
  const a = scope.start(args, { name: 'speed-a' });
  await waitFor(() => /assigned \d+ partition/.test(a.output), { timeoutMs: 60000, what: 'speed A assigned' });
  await sleep(randomInt(0, 600));
  a.kill('SIGKILL');
  await a.wait(30000);
  const b = await scope.run(args, { timeoutMs: 240000, name: 'speed-b' });
  assert.equal(b.code, 0, b.stderr.slice(-1500));
  s.done = true;
});

const W = (seconds) => `(floor(epoch(unit_collection_pt_timestamp::TIMESTAMPTZ))::BIGINT - floor(epoch(unit_collection_pt_timestamp::TIMESTAMPTZ))::BIGINT % ${seconds})`;
const oracle = (sql) => duckdbMap(`read_json('${s.ndjson}', format = 'newline_delimited', columns = {kind: 'VARCHAR',
  qls_unit_id: 'VARCHAR', collection_point_id: 'VARCHAR', zone_id: 'VARCHAR', concern_id: 'VARCHAR',
  zone_charged_id: 'VARCHAR', unit_collection_pt_timestamp: 'VARCHAR'})`, sql);
const table = (name, groups, valueSql) => readMetricTable(s.pg.uri, name, groups, valueSql);
const UCP = "kind = 'unit_collection_point'";

test('every §5 table and throughput_pct equal DuckDB over the NDJSON, one row per key', async () => {
  assert.ok(s.done, 'speed did not finish');
  assertSameRows(await oracle(`SELECT ${W(300)}, zone_id, count(DISTINCT qls_unit_id) FROM EVENTS WHERE ${UCP} GROUP BY ALL`),
    await table('units_per_zone', ['zone_id']), 'units_per_zone');
  assertSameRows(await oracle(`SELECT ${W(300)}, zone_charged_id, count(*) FROM EVENTS WHERE kind = 'concern' GROUP BY ALL`),
    await table('defects_per_zone', ['zone_charged_id']), 'defects_per_zone');
  assertSameRows(await oracle(`SELECT ${W(86400)}, zone_id, count(DISTINCT qls_unit_id) FROM EVENTS WHERE ${UCP} GROUP BY ALL`),
    await table('units_per_zone_daily', ['zone_id']), 'units_per_zone_daily');
  assertSameRows(await oracle(`SELECT ${W(86400)}, zone_charged_id, count(*) FROM EVENTS WHERE kind = 'concern' GROUP BY ALL`),
    await table('defects_per_zone_daily', ['zone_charged_id']), 'defects_per_zone_daily');
  assertSameRows(await oracle(`SELECT ${W(86400)}, count(DISTINCT qls_unit_id) FROM EVENTS
      WHERE ${UCP} AND collection_point_id = 'CP10' GROUP BY ALL`),
    await table('daily_production', []), 'daily_production');
  assertSameRows(await oracle(`SELECT ${W(86400)}, count(DISTINCT qls_unit_id) FROM EVENTS WHERE kind = 'concern' GROUP BY ALL`),
    await table('defective_units_daily', []), 'defective_units_daily');
  assertSameRows(await oracle(`WITH p AS (SELECT ${W(86400)} AS w, count(DISTINCT qls_unit_id) AS n FROM EVENTS
        WHERE ${UCP} AND collection_point_id = 'CP10' GROUP BY ALL),
      d AS (SELECT ${W(86400)} AS w, count(DISTINCT qls_unit_id) AS n FROM EVENTS WHERE kind = 'concern' GROUP BY ALL)
      SELECT coalesce(p.w, d.w), CASE WHEN coalesce(p.n, 0) = 0 THEN NULL
        ELSE 100.0::DOUBLE * (coalesce(p.n, 0) - coalesce(d.n, 0)) / p.n END
      FROM p FULL JOIN d ON p.w = d.w`),
    await table('throughput_pct', []), 'throughput_pct', { tolerance: 1e-9 });
  const days = await query(s.pg.uri, 'SELECT count(*)::int AS n FROM daily_production');
  assert.ok(days[0].n >= 2, 'the run crosses a UTC midnight');
});

test('batch --day recomputes the daily metrics from the lake with the same figures', async () => {
  assert.ok(s.done, 'speed did not finish');
  for (const day of ['2026-11-22', '2026-11-23']) {
    const r = await scope.run(['batch', '--pipeline', LINE, '--storage', s.storage, '--pg', s.pg.uri, '--day', day],
      { timeoutMs: 120000 });
    assert.equal(r.code, 0, r.stderr.slice(-1500));
  }
  for (const [metric, groups] of [['units_per_zone_daily', ['zone_id']], ['defects_per_zone_daily', ['zone_charged_id']],
    ['daily_production', []], ['defective_units_daily', []]]) {
    assertSameRows(await table(metric, groups), await table(`${metric}_batch`, groups), `${metric}_batch = ${metric}`);
    const lambda = await query(s.pg.uri, `SELECT DISTINCT layer FROM "${metric}_lambda"`);
    assert.deepEqual(lambda.map((r) => r.layer), ['batch'], `${metric}_lambda serves the batch rows`);
  }
});

test('serve --pipeline: /api/pipelines is the catalog and /api/metric returns the tables\' rows', async () => {
  assert.ok(s.done, 'speed did not finish');
  const srv = await startServe(scope, s.pg.uri, ['--pipeline', LINE]);
  const get = async (path) => {
    const res = await fetch(`${srv.url}/${path}`);
    return { status: res.status, body: await res.json() };
  };
  const pipelines = await get('api/pipelines');
  assert.equal(pipelines.status, 200);
  const line = pipelines.body.find((p) => p.name === 'production_line');
  assert.ok(line, JSON.stringify(pipelines.body));
  assert.deepEqual(line.metrics.filter((m) => m.kind !== 'batch').map((m) => m.name), ['units_per_zone',
    'defects_per_zone', 'units_per_zone_daily', 'defects_per_zone_daily', 'daily_production', 'defective_units_daily',
    'throughput_pct']);
  for (const [metric, groups] of [['units_per_zone', ['zone_id']], ['daily_production', []], ['throughput_pct', []]]) {
    const r = await get(`api/metric?pipeline=production_line&metric=${metric}&limit=5000`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const fromApi = new Map(r.body.rows.map((x) => [[Date.parse(x.t) / 1000, ...x.group].join('|'), String(x.value)]));
    const fromSql = await readMetricTable(s.pg.uri, metric, groups);
    assertSameRows(fromSql, fromApi, `/api/metric ${metric}`, { tolerance: metric === 'throughput_pct' ? 1e-12 : 0 });
    assert.ok(r.body.rows.every((x) => typeof x.open === 'boolean'));
  }
  const missing = await get('api/metric?pipeline=production_line&metric=nope');
  assert.equal(missing.status, 404);
  const bad = await get('api/metric?pipeline=production_line&metric=units_per_zone&limit=0');
  assert.equal(bad.status, 400);
});
