// The Parquet lake: DuckDB (an independent reader, with hive_partitioning) sees every valid event
// exactly once with the right year/month/day/hour values and a real timestamp type; sums per hour,
// antenna and app equal DuckDB's computation from the simulator's NDJSON; complete hours get
// _SUCCESS; a late event for a complete hour lands in a new file and marks the hour for a re-run.

import { test, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Scope, query, withDuckDB, assertLakeExact } from '../lib/harness.mjs';
import { unusualValidMessages, produceSpread, writeOracleLines } from '../lib/messages.mjs';

const START = '2026-11-22T06:00:00Z';
const START_EPOCH = Date.parse(START) / 1000;
const TOPIC = 'devices';
const PARTITIONS = 8;

const scope = new Scope('lake_exact');
after(() => scope.cleanup());
afterEach((t) => scope.noteResult(t));

const sqlList = (files) => files.map((f) => `'${f.replace(/'/g, "''")}'`).join(', ');

test('the lake holds every valid event exactly once, readable by DuckDB as a hive-partitioned dataset', { timeout: 600000 }, async () => {
  const tmp = scope.tmpdir();
  const storage = path.join(tmp, 'lake');
  const ndjson = path.join(tmp, 'events.ndjson');
  const extras = path.join(tmp, 'extras.ndjson');
  const lateFile = path.join(tmp, 'late.ndjson');
  const [pg, broker] = await Promise.all([scope.startPostgres(), scope.startBroker({ topic: TOPIC, partitions: PARTITIONS })]);
  assert.equal((await scope.run(['provision', '--pg', pg.uri])).code, 0);

  const sim = await scope.run(['simulate', '--brokers', broker.brokers, '--events', '60000', '--interval', '3s',
    '--start', START, '--seed', '5', '--out', ndjson], { timeoutMs: 180000 });
  assert.equal(sim.code, 0, sim.stderr);
  const unusual = unusualValidMessages(START_EPOCH + 1234, 'lake');
  await produceSpread(broker.brokers, TOPIC, PARTITIONS, unusual);
  writeOracleLines(extras, unusual);

  const speedArgs = ['speed', '--brokers', broker.brokers, '--pg', pg.uri, '--storage', storage, '--exit-when-idle', '3s'];
  const first = await scope.run(speedArgs, { timeoutMs: 240000 });
  assert.equal(first.code, 0, first.stderr);

  await assertLakeExact(storage, [ndjson, extras]);

  // Hours wholly below the watermark are complete; the last hour (holding the newest event) is not.
  const hours = await query(pg.uri,
    `SELECT extract(epoch FROM hour)::bigint AS h, success_at IS NOT NULL AS done, needs_rerun FROM lf_lake_hours ORDER BY 1`);
  assert.ok(hours.length >= 3, `expected several hours, got ${hours.length}`);
  const last = hours[hours.length - 1];
  for (const h of hours.slice(0, -1)) {
    assert.ok(h.done, `hour ${h.h} should be complete`);
    const dir = path.join(storage, 'devices', ...hourDir(Number(h.h)));
    assert.ok(fs.existsSync(path.join(dir, '_SUCCESS')), `${dir}/_SUCCESS missing`);
    assert.ok(fs.readdirSync(dir).filter((f) => f.endsWith('.parquet')).length <= 10, `too many files in ${dir}`);
  }
  assert.equal(last.done, false, 'the newest hour is still open');
  assert.ok(!fs.readdirSync(storage, { recursive: true }).some((f) => f.endsWith('.inprogress')), 'no temporary file left');

  // A late event for the first (complete) hour: a new file there, and the hour needs a re-run.
  const firstHour = Number(hours[0].h);
  const late = `{"bytes":4242,"timestamp":${firstHour + 61},"app":"LATE","id":"00000000-0000-0000-0000-000000000003","antenna_id":"00000000-0000-0000-0001-000000000001"}`;
  const filesBefore = fs.readdirSync(path.join(storage, 'devices', ...hourDir(firstHour))).length;
  // As if the batch layer had just re-run the hour (the unusual messages may have arrived late).
  const [{ late_rows: lateBefore }] = await query(pg.uri,
    `UPDATE lf_lake_hours SET needs_rerun = false WHERE extract(epoch FROM hour)::bigint = $1 RETURNING late_rows`, [firstHour]);
  await produceSpread(broker.brokers, TOPIC, PARTITIONS, [{ payload: Buffer.from(late), line: late, partition: 2 }]);
  fs.writeFileSync(lateFile, late + '\n');
  const second = await scope.run(speedArgs, { timeoutMs: 240000 });
  assert.equal(second.code, 0, second.stderr);
  assert.equal(JSON.parse(second.stdout.trim().split('\n').pop()).lake_events, 1, 'only the late event is new to the lake');
  const rerun = await query(pg.uri, `SELECT needs_rerun, late_rows FROM lf_lake_hours WHERE extract(epoch FROM hour)::bigint = $1`, [firstHour]);
  assert.deepEqual(rerun, [{ needs_rerun: true, late_rows: String(Number(lateBefore) + 1) }]);
  assert.equal(fs.readdirSync(path.join(storage, 'devices', ...hourDir(firstHour))).length, filesBefore + 1);
  await assertLakeExact(storage, [ndjson, extras, lateFile], 'lake after the late event');

  // `lambdaflow lake count` agrees with DuckDB's count of the NDJSON.
  const count = await scope.run(['lake', 'count', '--storage', storage]);
  assert.equal(count.code, 0, count.stderr);
  const expected = await withDuckDB(async (conn) => (await conn.runAndReadAll(
    `SELECT count(*)::VARCHAR FROM read_json([${sqlList([ndjson, extras, lateFile])}], format = 'newline_delimited', columns = {bytes: 'BIGINT'})`)).getRows()[0][0]);
  assert.equal(count.stdout.trim(), expected);
  const ls = await scope.run(['lake', 'ls', '--storage', storage]);
  assert.equal(ls.code, 0, ls.stderr);
  assert.match(ls.stdout, /_SUCCESS/);
});

function hourDir(epoch) {
  const d = new Date(epoch * 1000);
  return [`year=${d.getUTCFullYear()}`, `month=${d.getUTCMonth() + 1}`, `day=${d.getUTCDate()}`, `hour=${d.getUTCHours()}`];
}
