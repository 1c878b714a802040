// The production line (SPEC §5) end to end on the general engine: `simulate --pipeline
// pipelines/production_line.yaml` in the seed's positional form (brokers topic) for 3 000 units
// across a UTC midnight; two `speed --pipeline` processes in one consumer group, one SIGKILLed at
// a random moment and restarted; every §5 table and the throughput_pct view equal DuckDB's counts
// over the simulator's NDJSON, with no duplicate key; then late `concern` messages (hours behind
// the watermark, for units long gone from the zone) correct their windows and are counted as late;
// `batch --day` gives the same daily figures, and a truncated lake file fails only its own day,
// naming the file and leaving that day's batch rows as they were; the simulator is byte-identical
// for a seed.

import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Scope, SOURCE_DIR, sleep, randomInt, waitFor, query } from '../lib/harness.mjs';
import { readMetricTable, duckdbMap, assertSameRows } from '../lib/tables.mjs';
import { startServe } from '../lib/serve.mjs';

const execFileP = promisify(execFile);
const scope = new Scope('production_line');
after(() => scope.cleanup());
afterEach((t) => scope.noteResult(t));

const LINE = path.join(SOURCE_DIR, 'pipelines/production_line.yaml');
const UNITS = 3000;
const START = '2026-11-22T18:00:00Z';
const GROUP = 'lambdaflow-production_line'; // the default group, lambdaflow-<name>

const s = {};
before(async () => {
  s.tmp = scope.tmpdir();
  s.ndjson = path.join(s.tmp, 'line.ndjson');
  s.truth = s.ndjson; // the NDJSON the tables must equal now (a copy with the late messages later)
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
  s.lines = lines;
  const kinds = new Set(lines.map((l) => l.kind));
  assert.deepEqual([...kinds].sort(), ['concern', 'unit_collection_point']);
  const produced = new Set(lines.filter((l) => l.collection_point_id === 'CP10' && l.kind === 'unit_collection_point')
    .map((l) => l.qls_unit_id));
  assert.equal(produced.size, UNITS, 'every unit passes CP10 once');
  // SPEC §5: ISO-8601 with milliseconds ("2026-11-22T09:00:01.250Z"), on every message.
  const iso = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
  const odd = lines.filter((l) => !iso.test(l.unit_collection_pt_timestamp));
  assert.deepEqual(odd.slice(0, 3).map((l) => l.unit_collection_pt_timestamp), [],
    `${odd.length} of ${lines.length} timestamps are not ISO-8601 with exactly three fractional digits`);
});

const speedArgs = () => ['speed', '--pipeline', LINE, s.broker.brokers, 'TFI', '--pg', s.pg.uri, '--storage', s.storage,
  '--exit-when-idle', '4s', '--flush-interval', '200ms'];

// Valid events the PostgreSQL sink has applied (committed with the offsets), over all partitions.
async function appliedEvents() {
  const r = await query(s.pg.uri, `SELECT coalesce(sum(events), 0)::text AS n FROM lf_offsets
    WHERE pipeline = $1 AND sink LIKE 'pg:%'`, [GROUP]);
  return Number(r[0].n);
}

test('two speed --pipeline processes in one group, one SIGKILLed at a random moment and restarted, finish exactly',
  { timeout: 300000 }, async (t) => {
    assert.ok(s.pg, 'set-up failed');
    const args = speedArgs();
    const a = scope.start(args, { name: 'speed-a' });
    const b = scope.start(args, { name: 'speed-b' });
    await waitFor(() => /assigned \d+ partition/.test(a.output), { timeoutMs: 60000, what: 'speed A assigned' });
    const killAfter = randomInt(0, 600);
    await sleep(killAfter);
    a.kill('SIGKILL');
    await a.wait(30000);
    const appliedAtKill = await appliedEvents();
    const a2 = scope.start(args, { name: 'speed-a-restarted' });
    const [rb, ra2] = await Promise.all([b.wait(240000), a2.wait(240000)]);
    assert.equal(rb.code, 0, `speed B: ${rb.stderr.slice(-1500)}`);
    assert.equal(ra2.code, 0, `speed A restarted: ${ra2.stderr.slice(-1500)}`);
    assert.equal(await appliedEvents(), s.lines.length, 'every message applied exactly once');
    t.diagnostic(`A killed ${killAfter} ms after its assignment, ${appliedAtKill} of ${s.lines.length} events applied just after the kill; ` +
      `B: ${rb.stdout.trim().split('\n').pop()}; A restarted: ${ra2.stdout.trim().split('\n').pop()}`);
    s.done = true;
  });

const W = (seconds) => `(floor(epoch(unit_collection_pt_timestamp::TIMESTAMPTZ))::BIGINT - floor(epoch(unit_collection_pt_timestamp::TIMESTAMPTZ))::BIGINT % ${seconds})`;
const oracle = (sql, file = s.truth) => duckdbMap(`read_json('${file}', format = 'newline_delimited', columns = {kind: 'VARCHAR',
  qls_unit_id: 'VARCHAR', collection_point_id: 'VARCHAR', zone_id: 'VARCHAR', concern_id: 'VARCHAR',
  zone_charged_id: 'VARCHAR', unit_collection_pt_timestamp: 'VARCHAR'})`, sql);
const table = (name, groups, valueSql) => readMetricTable(s.pg.uri, name, groups, valueSql);
const UCP = "kind = 'unit_collection_point'";

// Each §5 table (and the derived view): its group columns and DuckDB's computation over EVENTS.
const METRICS = [
  ['units_per_zone', ['zone_id'],
    `SELECT ${W(300)}, zone_id, count(DISTINCT qls_unit_id) FROM EVENTS WHERE ${UCP} GROUP BY ALL`],
  ['defects_per_zone', ['zone_charged_id'],
    `SELECT ${W(300)}, zone_charged_id, count(*) FROM EVENTS WHERE kind = 'concern' GROUP BY ALL`],
  ['units_per_zone_daily', ['zone_id'],
    `SELECT ${W(86400)}, zone_id, count(DISTINCT qls_unit_id) FROM EVENTS WHERE ${UCP} GROUP BY ALL`],
  ['defects_per_zone_daily', ['zone_charged_id'],
    `SELECT ${W(86400)}, zone_charged_id, count(*) FROM EVENTS WHERE kind = 'concern' GROUP BY ALL`],
  ['daily_production', [],
    `SELECT ${W(86400)}, count(DISTINCT qls_unit_id) FROM EVENTS WHERE ${UCP} AND collection_point_id = 'CP10' GROUP BY ALL`],
  ['defective_units_daily', [],
    `SELECT ${W(86400)}, count(DISTINCT qls_unit_id) FROM EVENTS WHERE kind = 'concern' GROUP BY ALL`],
  ['throughput_pct', [],
    `WITH p AS (SELECT ${W(86400)} AS w, count(DISTINCT qls_unit_id) AS n FROM EVENTS
        WHERE ${UCP} AND collection_point_id = 'CP10' GROUP BY ALL),
      d AS (SELECT ${W(86400)} AS w, count(DISTINCT qls_unit_id) AS n FROM EVENTS WHERE kind = 'concern' GROUP BY ALL)
      SELECT coalesce(p.w, d.w), CASE WHEN coalesce(p.n, 0) = 0 THEN NULL
        ELSE 100.0::DOUBLE * (coalesce(p.n, 0) - coalesce(d.n, 0)) / p.n END
      FROM p FULL JOIN d ON p.w = d.w`],
];
const metric = (name) => METRICS.find((m) => m[0] === name);

// `names` equal DuckDB over the current truth; and, asked of PostgreSQL itself, no key repeats.
async function assertTablesExact(names, label) {
  for (const name of names) {
    const [, groups, sql] = metric(name);
    assertSameRows(await oracle(sql), await table(name, groups), `${name} ${label}`,
      { tolerance: name === 'throughput_pct' ? 1e-9 : 0 });
    const key = ['window_start', ...groups].map((c) => `"${c}"`).join(', ');
    const dup = await query(s.pg.uri, `SELECT ${key}, count(*)::int AS n FROM "${name}" GROUP BY ${key} HAVING count(*) > 1`);
    assert.deepEqual(dup, [], `${name}: duplicate keys ${label}`);
  }
}

test('every §5 table and throughput_pct equal DuckDB over the NDJSON, one row per key', async () => {
  assert.ok(s.done, 'speed did not finish');
  await assertTablesExact(METRICS.map((m) => m[0]), 'after the run');
  const days = await query(s.pg.uri, 'SELECT count(*)::int AS n FROM daily_production');
  assert.ok(days[0].n >= 2, 'the run crosses a UTC midnight');
});

// Late concerns, chosen from the simulator's stream (not from our tables): each is for a unit at
// the last point of a zone (CP02, CP04, …) at least LATE_BY before the newest event, a unit that
// has passed later points since, charged to that zone or an earlier one in a 5-minute window that
// already holds defects of that zone, a second after the unit was there. One per hour from 19:00
// on the first day to 01:00 on the second; one more for a unit already defective that day (its
// defective_units_daily count must not grow), and one unit gets two (counted twice, once as a unit).
const LATE_BY = 2.5 * 3600 * 1000; // far past the definition's `lateness: 1m`
function lateConcerns(lines) {
  const ms = (l) => Date.parse(l.unit_collection_pt_timestamp);
  const newest = Math.max(...lines.map(ms));
  const win = (t) => Math.floor(t / 300000);
  const day = (t) => new Date(t).toISOString().slice(0, 10);
  const defectWindows = new Set(lines.filter((l) => l.kind === 'concern').map((l) => `${win(ms(l))}|${l.zone_charged_id}`));
  const defective = new Set(lines.filter((l) => l.kind === 'concern').map((l) => `${day(ms(l))}|${l.qls_unit_id}`));
  const passed = new Map(lines.filter((l) => l.kind === 'unit_collection_point')
    .map((l) => [`${l.qls_unit_id}|${l.collection_point_id}`, ms(l)]));
  const used = new Set();
  const pick = (hour, wantDefective) => {
    for (const l of lines) {
      const t = ms(l);
      const cp = Number(l.collection_point_id.slice(2));
      if (l.kind !== 'unit_collection_point' || !l.unit_collection_pt_timestamp.startsWith(hour) || cp % 2 !== 0 || cp === 10) continue;
      if (t > newest - LATE_BY || used.has(l.qls_unit_id)) continue;
      if (defective.has(`${day(t)}|${l.qls_unit_id}`) !== wantDefective) continue;
      const next = passed.get(`${l.qls_unit_id}|CP${String(cp + 1).padStart(2, '0')}`);
      if (!(next > t)) continue; // it left the zone
      const at = t + 1000;
      const zone = Number(l.zone_id.slice(1));
      for (let z = zone; z >= 1; z--) {
        if (!defectWindows.has(`${win(at)}|Z${z}`) || win(at) !== win(t)) continue;
        used.add(l.qls_unit_id);
        return { qls_unit_id: l.qls_unit_id, collection_point_id: l.collection_point_id, zone_charged_id: `Z${z}`, at };
      }
    }
    throw new Error(`no late concern candidate in ${hour}`);
  };
  const picks = ['2026-11-22T19', '2026-11-22T20', '2026-11-22T21', '2026-11-22T22', '2026-11-22T23', '2026-11-23T00',
    '2026-11-23T01'].map((h) => pick(h, false));
  picks.push(pick('2026-11-22T21', true));
  picks.push({ ...picks[5], at: picks[5].at + 250 }); // the same unit again, another concern
  return picks.map((p, i) => ({
    qls_unit_id: p.qls_unit_id, concern_id: `C${String(901 + i).padStart(3, '0')}`,
    collection_point_id: p.collection_point_id, zone_charged_id: p.zone_charged_id,
    unit_collection_pt_timestamp: new Date(p.at).toISOString(),
  }));
}

async function lateCount() {
  const r = await query(s.pg.uri, `SELECT coalesce(sum(late), 0)::text AS n FROM lf_offsets
    WHERE pipeline = $1 AND sink LIKE 'pg:%'`, [GROUP]);
  return Number(r[0].n);
}

test('late concerns (hours behind the watermark) correct their windows in every table', { timeout: 180000 }, async (t) => {
  assert.ok(s.done, 'speed did not finish');
  const late = lateConcerns(s.lines);
  s.lateBefore = await lateCount();
  // Every late message falls into a window of defects_per_zone that already holds data.
  const before = await oracle(metric('defects_per_zone')[2], s.ndjson);
  for (const c of late) {
    const key = `${Math.floor(Date.parse(c.unit_collection_pt_timestamp) / 300000) * 300}|${c.zone_charged_id}`;
    assert.ok(before.has(key), `late concern ${JSON.stringify(c)} lands in a window with data`);
  }
  // Produced by a real client, keyed like the line's stations.
  const file = path.join(s.tmp, 'late.txt');
  fs.writeFileSync(file, late.map((c) => `concern\t${JSON.stringify(c)}`).join('\n') + '\n');
  await execFileP('kcat', ['-P', '-b', s.broker.brokers, '-t', 'TFI', '-K', '\t', '-l', file,
    '-X', 'enable.idempotence=true'], { timeout: 60000 });
  s.truth = path.join(s.tmp, 'line-with-late.ndjson');
  fs.writeFileSync(s.truth, fs.readFileSync(s.ndjson, 'utf8') +
    late.map((c) => JSON.stringify({ kind: 'concern', ...c })).join('\n') + '\n');
  s.late = late;
  const r = await scope.run(speedArgs(), { timeoutMs: 120000, name: 'speed-late' });
  assert.equal(r.code, 0, r.stderr.slice(-1500));
  t.diagnostic(`${late.length} late concerns (${late.map((c) => `${c.qls_unit_id}@${c.collection_point_id}` +
    `->${c.zone_charged_id} ${c.unit_collection_pt_timestamp}`).join(', ')}); speed: ${r.stdout.trim().split('\n').pop()}`);
  s.lateDone = true;
  assert.equal(await appliedEvents(), s.lines.length + late.length, 'every message applied exactly once');
  // The tables the late concerns change, against DuckDB over the NDJSON with them appended; the
  // others are unchanged and still exact.
  await assertTablesExact(['defects_per_zone', 'defects_per_zone_daily', 'defective_units_daily', 'throughput_pct'],
    'after the late concerns');
  for (const name of ['defects_per_zone_daily', 'defective_units_daily', 'throughput_pct']) {
    const [, , sql] = metric(name);
    const was = await oracle(sql, s.ndjson);
    const now = await oracle(sql);
    assert.ok([...now].filter(([k, v]) => was.get(k) !== v).length >= 2, `${name}: the late concerns change both days`);
  }
  await assertTablesExact(['units_per_zone', 'units_per_zone_daily', 'daily_production'], 'after the late concerns');
});

test('the late concerns are counted as late in lf_offsets', async () => {
  assert.ok(s.lateDone, 'the late run did not finish');
  const rows = await query(s.pg.uri, `SELECT sink, partition, late::int, max_event_time_s::text AS max_event_time_s
    FROM lf_offsets WHERE pipeline = $1 ORDER BY sink, partition`, [GROUP]);
  assert.equal(await lateCount() - s.lateBefore, s.late.length,
    `late grew by the number of late concerns produced (was ${s.lateBefore}); lf_offsets: ${JSON.stringify(rows)}`);
});

test('batch --day recomputes the daily metrics from the lake (late concerns included) with the same figures', async () => {
  assert.ok(s.done, 'speed did not finish');
  for (const day of ['2026-11-22', '2026-11-23']) {
    const r = await scope.run(['batch', '--pipeline', LINE, '--storage', s.storage, '--pg', s.pg.uri, '--day', day],
      { timeoutMs: 120000 });
    assert.equal(r.code, 0, r.stderr.slice(-1500));
  }
  for (const name of ['units_per_zone_daily', 'defects_per_zone_daily', 'daily_production', 'defective_units_daily']) {
    const [, groups, sql] = metric(name);
    assertSameRows(await oracle(sql), await table(`${name}_batch`, groups), `${name}_batch = DuckDB`);
    assertSameRows(await table(name, groups), await table(`${name}_batch`, groups), `${name}_batch = ${name}`);
    const lambda = await query(s.pg.uri, `SELECT DISTINCT layer FROM "${name}_lambda"`);
    assert.deepEqual(lambda.map((r) => r.layer), ['batch'], `${name}_lambda serves the batch rows`);
  }
});

// Every lake file under `dir` whose path holds `part` (a partition directory such as day=23).
function lakeFiles(dir, part) {
  const out = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.parquet') && p.includes(`${path.sep}${part}${path.sep}`)) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

test('a truncated lake file fails batch --day for its day only, naming the file, and changes none of its rows', { timeout: 300000 }, async () => {
  assert.ok(s.done, 'speed did not finish');
  const daily = ['units_per_zone_daily', 'defects_per_zone_daily', 'daily_production', 'defective_units_daily'];
  const snapshot = async () => Promise.all(daily.map(async (name) => table(`${name}_batch`, metric(name)[1])));
  const unit = (day) => query(s.pg.uri, `SELECT status, coalesce(error, '') AS error FROM lf_batch_units
    WHERE pipeline = 'production_line' AND unit_start = $1::timestamp`, [day]);
  const before = await snapshot();
  const files = lakeFiles(s.storage, 'day=23');
  assert.ok(files.length > 0, `no lake file of 2026-11-23 under ${s.storage}`);
  const victim = files[Math.floor(files.length / 2)];
  const saved = fs.readFileSync(victim);
  fs.truncateSync(victim, Math.floor(saved.length / 2)); // its footer is gone
  try {
    const r = await scope.run(['batch', '--pipeline', LINE, '--storage', s.storage, '--pg', s.pg.uri, '--day', '2026-11-23'],
      { timeoutMs: 120000 });
    assert.notEqual(r.code, 0, `batch accepted a truncated file: ${r.stderr.slice(-1500)}`);
    assert.match(r.stderr, new RegExp(path.basename(victim).replace(/[.]/g, '\\.')), r.stderr.slice(-1500));
    assert.ok(!/Segmentation|Aborted|terminate called/.test(r.stderr), r.stderr.slice(-1500));
    // The day had succeeded before: it keeps that status and its rows, and the failure is noted.
    const [failed] = await unit('2026-11-23');
    assert.equal(failed?.status, 'ok', JSON.stringify(failed));
    assert.ok(failed.error.includes(path.basename(victim)), JSON.stringify(failed));
    const after = await snapshot();
    daily.forEach((name, i) => assertSameRows(before[i], after[i], `${name}_batch after the failed day`));
    // The other day does not depend on the broken file.
    const other = await scope.run(['batch', '--pipeline', LINE, '--storage', s.storage, '--pg', s.pg.uri, '--day', '2026-11-22'],
      { timeoutMs: 120000 });
    assert.equal(other.code, 0, other.stderr.slice(-1500));
  } finally {
    fs.writeFileSync(victim, saved);
  }
  const again = await scope.run(['batch', '--pipeline', LINE, '--storage', s.storage, '--pg', s.pg.uri, '--day', '2026-11-23'],
    { timeoutMs: 120000 });
  assert.equal(again.code, 0, again.stderr.slice(-1500));
  assert.deepEqual((await unit('2026-11-23'))[0], { status: 'ok', error: '' });
  const restored = await snapshot();
  daily.forEach((name, i) => assertSameRows(before[i], restored[i], `${name}_batch once the file is whole again`));
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
