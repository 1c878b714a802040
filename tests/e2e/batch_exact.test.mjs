// The batch layer over at least three hours of event time: bytes_hourly and user_quota_limit equal
// DuckDB's computation from the simulator's NDJSON (joined with the SPEC's user_metadata) exactly;
// a second run changes nothing and a re-run repairs tampered rows; the seeds' positional form gives
// the same result; late events for an hour already batched are picked up by --pending and restore
// exact equality; speed_batch_diff is zero where both layers saw the same data.

import { test, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import fs from 'node:fs';
import { Scope, query, withDuckDB } from '../lib/harness.mjs';
import { produceSpread } from '../lib/messages.mjs';
import { loadTelecomEvents } from '../lib/tables.mjs';

const START = '2026-11-22T06:00:00Z';
const START_EPOCH = Date.parse(START) / 1000;
const TOPIC = 'devices';

const scope = new Scope('batch_exact');
after(() => scope.cleanup());
afterEach((t) => scope.noteResult(t));

// Expected bytes_hourly and user_quota_limit, by DuckDB, from the NDJSON and user_metadata rows.
async function oracle(ndjson, users) {
  return withDuckDB(async (conn) => {
    await loadTelecomEvents(conn, ndjson, users);
    const hourly = await conn.runAndReadAll(`
      SELECT h, 'antenna_bytes_total', antenna_id, sum(bytes)::VARCHAR FROM ev GROUP BY ALL
      UNION ALL SELECT h, 'user_bytes_total', id, sum(bytes)::VARCHAR FROM ev GROUP BY ALL
      UNION ALL SELECT h, 'app_bytes_total', app, sum(bytes)::VARCHAR FROM ev GROUP BY ALL
      UNION ALL SELECT h, 'user_email_bytes_total', u.email, sum(bytes)::VARCHAR FROM ev JOIN users u USING (id) GROUP BY ALL`);
    const quota = await conn.runAndReadAll(`
      SELECT h, u.email, sum(bytes)::VARCHAR, max(u.quota)::VARCHAR FROM ev JOIN users u USING (id)
      GROUP BY ALL HAVING sum(bytes) > max(u.quota)`);
    return {
      hourly: new Map(hourly.getRows().map(([h, t, id, v]) => [`${h}|${t}|${id}`, v])),
      quota: new Map(quota.getRows().map(([h, e, s, q]) => [`${h}|${e}`, `${s}/${q}`])),
    };
  });
}

async function actual(uri, hours) {
  const hourly = await query(uri, `SELECT extract(epoch FROM timestamp)::bigint AS h, type, id, value::text AS v
    FROM bytes_hourly WHERE extract(epoch FROM timestamp)::bigint = ANY($1)`, [hours]);
  const quota = await query(uri, `SELECT extract(epoch FROM timestamp)::bigint AS h, email, usage::text AS s, quota::text AS q
    FROM user_quota_limit WHERE extract(epoch FROM timestamp)::bigint = ANY($1)`, [hours]);
  const hm = new Map();
  for (const r of hourly) {
    const k = `${r.h}|${r.type}|${r.id}`;
    assert.ok(!hm.has(k), `duplicate bytes_hourly row ${k}`);
    hm.set(k, r.v);
  }
  return { hourly: hm, quota: new Map(quota.map((r) => [`${r.h}|${r.email}`, `${r.s}/${r.q}`])) };
}

function assertSame(expected, got, hours, label) {
  const keep = (m) => new Map([...m].filter(([k]) => hours.includes(Number(k.split('|')[0]))));
  const e = keep(expected);
  const problems = [];
  for (const [k, v] of e) if (got.get(k) !== v) problems.push(`${k}: expected ${v}, got ${got.get(k)}`);
  for (const [k, v] of got) if (!e.has(k)) problems.push(`${k}: unexpected ${v}`);
  assert.equal(problems.length, 0, `${label}: ${problems.length} differences, e.g.\n${problems.slice(0, 10).join('\n')}`);
  assert.ok(e.size > 0, `${label}: the oracle is empty`);
}

test('batch equals DuckDB for every hour, is idempotent, and re-runs hours that late data reopened', { timeout: 900000 }, async () => {
  const tmp = scope.tmpdir();
  const storage = path.join(tmp, 'lake');
  const ndjson = path.join(tmp, 'events.ndjson');
  const lateFile = path.join(tmp, 'late.ndjson');
  const [pg, broker] = await Promise.all([scope.startPostgres(), scope.startBroker({ topic: TOPIC, partitions: 8 })]);
  assert.equal((await scope.run(['provision', '--pg', pg.uri])).code, 0);
  // 72 000 events, 20 devices, 4 s apart: 4 hours of event time, plus 2 devices without metadata.
  const sim = await scope.run(['simulate', '--brokers', broker.brokers, '--events', '72000', '--devices', '22',
    '--interval', '4s', '--start', START, '--seed', '9', '--out', ndjson], { timeoutMs: 180000 });
  assert.equal(sim.code, 0, sim.stderr);
  const speedArgs = ['speed', '--brokers', broker.brokers, '--pg', pg.uri, '--storage', storage, '--exit-when-idle', '3s'];
  assert.equal((await scope.run(speedArgs, { timeoutMs: 240000 })).code, 0);

  const users = await query(pg.uri, 'SELECT id, email, quota::text AS quota FROM user_metadata');
  assert.equal(users.length, 20);
  const complete = (await query(pg.uri,
    'SELECT extract(epoch FROM hour)::bigint AS h FROM lf_lake_hours WHERE success_at IS NOT NULL ORDER BY 1')).map((r) => Number(r.h));
  assert.ok(complete.length >= 3, `at least three complete hours, got ${complete.length}`);

  const pending = await scope.run(['batch', '--storage', storage, '--pg', pg.uri, '--pending'], { timeoutMs: 300000 });
  assert.equal(pending.code, 0, pending.stderr);
  assert.equal(pending.stdout.trim().split('\n').length, complete.length, 'one run per complete hour');
  let expected = await oracle([ndjson], users);
  const first = await actual(pg.uri, complete);
  assertSame(expected.hourly, first.hourly, complete, 'bytes_hourly');
  assertSame(expected.quota, first.quota, complete, 'user_quota_limit');
  assert.match(pending.stderr, /without user_metadata/, 'devices without metadata are reported');

  // A second run of every hour changes nothing.
  const again = await scope.run(['batch', '--storage', storage, '--pg', pg.uri, '--from', START,
    '--to', new Date((complete.at(-1)) * 1000).toISOString()], { timeoutMs: 300000 });
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(await actual(pg.uri, complete), first);

  // The hour's rows are rewritten as a diff: tampered rows of the first hour (a changed value, a
  // missing row, a stray row, a row without a key) all come back to the batch result.
  const h0 = complete[0];
  const at = `to_timestamp(${h0}) AT TIME ZONE 'UTC'`;
  await query(pg.uri, `UPDATE bytes_hourly SET value = value + 1 WHERE "timestamp" = ${at} AND type = 'app_bytes_total'`);
  await query(pg.uri, `DELETE FROM bytes_hourly WHERE ctid = (SELECT ctid FROM bytes_hourly
    WHERE "timestamp" = ${at} AND type = 'user_bytes_total' LIMIT 1)`);
  await query(pg.uri, `INSERT INTO bytes_hourly ("timestamp", id, value, type) VALUES
    (${at}, 'stray-device', 5, 'user_bytes_total'), (${at}, NULL, 6, 'user_bytes_total'), (${at}, 'x', 7, NULL)`);
  assert.notDeepEqual(await actual(pg.uri, complete), first);
  // A column gone from an internal table: batch sees the schema incomplete and provisions it.
  await query(pg.uri, 'ALTER TABLE lf_batch_runs DROP COLUMN error');
  const repair = await scope.run(['batch', '--storage', storage, '--pg', pg.uri, '--hour', new Date(h0 * 1000).toISOString()]);
  assert.equal(repair.code, 0, repair.stderr);
  assert.deepEqual(await actual(pg.uri, complete), first);
  assert.match(repair.stderr, /missing; provisioning/);
  assert.equal((await query(pg.uri, `SELECT count(*)::int AS n FROM pg_attribute
    WHERE attrelid = 'lf_batch_runs'::regclass AND attname = 'error'`))[0].n, 1);
  assert.equal((await query(pg.uri, `SELECT count(*)::int AS n FROM bytes_hourly WHERE "timestamp" = ${at}
    AND (id IS NULL OR type IS NULL)`))[0].n, 0);

  // A table without its unique key (a seeds-era table with duplicates) holding a key twice: the
  // re-run rewrites it once.
  await query(pg.uri, 'DROP INDEX bytes_hourly_window_key');
  await query(pg.uri, `INSERT INTO bytes_hourly ("timestamp", id, value, type)
    SELECT "timestamp", id, value + 1, type FROM bytes_hourly WHERE "timestamp" = ${at} AND type = 'app_bytes_total'`);
  await assert.rejects(actual(pg.uri, complete), /duplicate bytes_hourly row/);
  const dedup = await scope.run(['batch', '--storage', storage, '--pg', pg.uri, '--hour', new Date(h0 * 1000).toISOString()]);
  assert.equal(dedup.code, 0, dedup.stderr);
  assert.deepEqual(await actual(pg.uri, complete), first);
  assert.equal((await scope.run(['provision', '--pg', pg.uri])).code, 0);  // the key back
  assert.equal((await query(pg.uri, `SELECT count(*)::int AS n FROM pg_indexes WHERE indexname = 'bytes_hourly_window_key'`))[0].n, 1);

  // The seeds' positional form on a fresh pair of tables gives the same rows.
  const pos = await scope.run(['batch', storage, new Date(complete[1] * 1000).toISOString(),
    `jdbc:postgresql://127.0.0.1:${pg.port}/lambdaflow`, 'user_metadata', 'bytes_hourly_pos', 'user_quota_limit_pos',
    'lambdaflow', ''], { timeoutMs: 120000 });
  assert.equal(pos.code, 0, pos.stderr);
  const posRows = await query(pg.uri, `SELECT type, id, value::text AS v FROM bytes_hourly_pos ORDER BY 1, 2`);
  const refRows = await query(pg.uri, `SELECT type, id, value::text AS v FROM bytes_hourly
    WHERE extract(epoch FROM timestamp)::bigint = $1 ORDER BY 1, 2`, [complete[1]]);
  assert.deepEqual(posRows, refRows);

  // Both layers saw the same data: no difference between speed and batch.
  const diff = await query(pg.uri, 'SELECT * FROM speed_batch_diff WHERE diff <> 0 LIMIT 5');
  assert.deepEqual(diff, [], 'speed_batch_diff must be zero');
  const layers = await query(pg.uri, `SELECT DISTINCT extract(epoch FROM timestamp)::bigint AS h, layer FROM bytes_hourly_lambda`);
  for (const r of layers) assert.equal(r.layer, complete.includes(Number(r.h)) ? 'batch' : 'speed', `hour ${r.h}`);

  // Late events into the second hour (already batched): --pending re-runs it, and it is exact again.
  const h = complete[1];
  const late = [0, 1, 2].map((i) => {
    const line = `{"bytes":${7000 + i},"timestamp":${h + 100 + i},"app":"LATE","id":"00000000-0000-0000-0000-000000000001","antenna_id":"00000000-0000-0000-0001-000000000002"}`;
    return { payload: Buffer.from(line), line, partition: i };
  });
  await produceSpread(broker.brokers, TOPIC, 8, late);
  fs.writeFileSync(lateFile, late.map((m) => m.line + '\n').join(''));
  assert.equal((await scope.run(speedArgs, { timeoutMs: 240000 })).code, 0);
  const rerun = await scope.run(['batch', '--storage', storage, '--pg', pg.uri, '--pending'], { timeoutMs: 300000 });
  assert.equal(rerun.code, 0, rerun.stderr);
  assert.match(rerun.stdout, new RegExp(new Date(h * 1000).toISOString().replace('.000', '')));
  expected = await oracle([ndjson, lateFile], users);
  const after2 = await actual(pg.uri, complete);
  assertSame(expected.hourly, after2.hourly, complete, 'bytes_hourly after late data');
  assertSame(expected.quota, after2.quota, complete, 'user_quota_limit after late data');
  assert.equal((await query(pg.uri, 'SELECT count(*)::int AS n FROM speed_batch_diff WHERE diff <> 0'))[0].n, 0);
  const flags = await query(pg.uri, 'SELECT count(*)::int AS n FROM lf_lake_hours WHERE needs_rerun');
  assert.equal(flags[0].n, 0, 'no hour left marked for a re-run');

  // A missing hour is a clear error naming the directory; nothing is written.
  const missing = await scope.run(['batch', '--storage', storage, '--pg', pg.uri, '--hour', '2020-01-01T00:00:00Z']);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /hour=0/);
});
