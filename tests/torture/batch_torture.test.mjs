// Torture of the batch layer (issue 14). Over a lake of eight hours:
//   - `batch` over every hour is SIGKILLed at random instants (20 in the full run, 5 reduced) and
//     crashed by failpoints inside its transaction (before and after COMMIT of a random hour);
//     after every crash each hour holds either nothing or exactly DuckDB's result (an hour is
//     never half written), and a final run makes every hour exact;
//   - a truncated lake file and one with a corrupted page are met by `batch`: it fails with an
//     error naming the file, the hour's previous rows stay exactly as they were, the failure is in
//     lf_batch_runs, and the other hours of the same range are still computed.
//
// LF_TORTURE=full selects the full run.

import { test, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Scope, sleep, randomInt, query, withDuckDB } from '../lib/harness.mjs';
import { loadTelecomEvents } from '../lib/tables.mjs';

const FULL = process.env.LF_TORTURE === 'full';
const RANDOM_KILLS = FULL ? 20 : 5;
const START = '2026-11-22T06:00:00Z';

const scope = new Scope('torture_batch');
after(() => scope.cleanup());
afterEach((t) => scope.noteResult(t));

// Expected rows per hour, by DuckDB over the NDJSON and user_metadata: Map hour → sorted lines.
async function oracle(ndjson, users) {
  return withDuckDB(async (conn) => {
    await loadTelecomEvents(conn, ndjson, users);
    const rows = await conn.runAndReadAll(`
      SELECT h, 'hourly|antenna_bytes_total|' || antenna_id || '|' || sum(bytes) FROM ev GROUP BY h, antenna_id
      UNION ALL SELECT h, 'hourly|user_bytes_total|' || id || '|' || sum(bytes) FROM ev GROUP BY h, id
      UNION ALL SELECT h, 'hourly|app_bytes_total|' || app || '|' || sum(bytes) FROM ev GROUP BY h, app
      UNION ALL SELECT h, 'hourly|user_email_bytes_total|' || u.email || '|' || sum(bytes) FROM ev JOIN users u USING (id) GROUP BY h, u.email
      UNION ALL SELECT h, 'quota|' || u.email || '|' || sum(bytes) || '|' || max(u.quota) FROM ev JOIN users u USING (id)
        GROUP BY h, u.email HAVING sum(bytes) > max(u.quota)`);
    return group(rows.getRows().map(([h, line]) => [Number(h), line]));
  });
}

function group(pairs) {
  const m = new Map();
  for (const [h, line] of pairs) {
    if (!m.has(h)) m.set(h, []);
    m.get(h).push(line);
  }
  for (const v of m.values()) v.sort();
  return m;
}

async function actual(uri) {
  const rows = await query(uri, `
    SELECT extract(epoch FROM "timestamp")::bigint AS h, 'hourly|' || type || '|' || id || '|' || value AS line FROM bytes_hourly
    UNION ALL
    SELECT extract(epoch FROM "timestamp")::bigint, 'quota|' || email || '|' || usage || '|' || quota FROM user_quota_limit`);
  return group(rows.map((r) => [Number(r.h), r.line]));
}

// Every hour holds nothing or exactly the oracle's rows; returns the hours that are complete.
function assertAtomic(expected, got, hours, label) {
  const done = [];
  for (const h of hours) {
    const g = got.get(h);
    if (!g) continue;
    assert.deepEqual(g, expected.get(h), `${label}: hour ${new Date(h * 1000).toISOString()} is half written or wrong`);
    done.push(h);
  }
  for (const h of got.keys()) assert.ok(hours.includes(h), `${label}: rows for an hour that was not run: ${h}`);
  return done;
}

// XORs 16 bytes in the middle of the file's largest column chunk (page data under a CRC).
async function corruptPage(file) {
  const [{ off, len }] = await withDuckDB(async (conn) => {
    const r = await conn.runAndReadAll(`SELECT data_page_offset::BIGINT AS off, total_compressed_size::BIGINT AS len
      FROM parquet_metadata('${file.replace(/'/g, "''")}') ORDER BY total_compressed_size DESC LIMIT 1`);
    return r.getRowObjectsJS();
  });
  const fd = fs.openSync(file, 'r+');
  const at = Number(off) + Math.floor(Number(len) / 2);
  const buf = Buffer.alloc(16);
  fs.readSync(fd, buf, 0, 16, at);
  for (let i = 0; i < 16; i++) buf[i] ^= 0x5a;
  fs.writeSync(fd, buf, 0, 16, at);
  fs.closeSync(fd);
}

test('batch killed at random and at failpoints never leaves an hour half written, and ends exact', { timeout: 1200000 }, async (t) => {
  const tmp = scope.tmpdir();
  const storage = path.join(tmp, 'lake');
  const ndjson = path.join(tmp, 'events.ndjson');
  const [pg, broker] = await Promise.all([scope.startPostgres(), scope.startBroker({ topic: 'devices', partitions: 8 })]);
  assert.equal((await scope.run(['provision', '--pg', pg.uri])).code, 0);
  // 8 hours of event time, 300 000 events of 3000 devices: a run over all hours takes long enough
  // (about a second here) for random kills to land inside it.
  const sim = await scope.run(['simulate', '--brokers', broker.brokers, '--events', '300000', '--devices', '3000',
    '--interval', '290s', '--start', START, '--seed', '21', '--out', ndjson], { timeoutMs: 300000 });
  assert.equal(sim.code, 0, sim.stderr);
  const sp = await scope.run(['speed', '--brokers', broker.brokers, '--pg', pg.uri, '--storage', storage, '--exit-when-idle', '3s'],
    { timeoutMs: 240000 });
  assert.equal(sp.code, 0, sp.stderr);

  const users = await query(pg.uri, 'SELECT id, email, quota::text AS quota FROM user_metadata');
  const expected = await oracle([ndjson], users);
  const hours = [...expected.keys()].sort((a, b) => a - b);
  assert.ok(hours.length >= 8, `eight hours of events, got ${hours.length}`);
  const iso = (h) => new Date(h * 1000).toISOString();
  const batchAll = ['batch', '--storage', storage, '--pg', pg.uri, '--from', iso(hours[0]), '--to', iso(hours.at(-1))];

  // Random instants between start-up and the end of a whole run (timed first).
  const log = [];
  const t0 = Date.now();
  const timed = await scope.run(batchAll, { timeoutMs: 300000, name: 'batch-timed' });
  assert.equal(timed.code, 0, timed.stderr);
  const runMs = Date.now() - t0;
  log.push(`a whole run takes ${runMs} ms`);
  for (let i = 0; i < RANDOM_KILLS; i++) {
    await query(pg.uri, 'TRUNCATE bytes_hourly, user_quota_limit');
    const p = scope.start(batchAll, { name: `batch-kill-${i}` });
    const delayMs = randomInt(5, runMs);
    await sleep(delayMs);
    const wasRunning = p.running;
    p.kill('SIGKILL');
    await p.wait(30000);
    const done = assertAtomic(expected, await actual(pg.uri), hours, `after kill ${i}`);
    log.push(`kill after ${delayMs} ms${wasRunning ? '' : ' (had finished)'}: ${done.length} hour(s) done`);
  }
  // Inside the transaction of a random hour (hours run in order): before COMMIT that hour is not
  // there, after COMMIT it is.
  for (const point of ['batch.before_commit', 'batch.after_commit']) {
    await query(pg.uri, 'TRUNCATE bytes_hourly, user_quota_limit');
    const hit = randomInt(1, hours.length);
    const p = scope.start(batchAll, { name: `batch-${point}`, env: { LF_FAILPOINTS: `${point}=kill@${hit}` } });
    const r = await p.wait(120000);
    assert.equal(r.signal, 'SIGKILL', `batch with ${point}=kill@${hit} must kill itself there: ${r.stderr.slice(-1500)}`);
    const done = assertAtomic(expected, await actual(pg.uri), hours, `after ${point} kill@${hit}`);
    const want = point === 'batch.after_commit' ? hit : hit - 1;
    assert.deepEqual(done, hours.slice(0, want), `${point} kill@${hit}: exactly the hours committed before the crash`);
    log.push(`${point} kill@${hit}: ${done.length} hour(s) done`);
  }
  t.diagnostic(log.join('; '));
  const final = await scope.run(batchAll, { timeoutMs: 300000 });
  assert.equal(final.code, 0, final.stderr);
  const exact = await actual(pg.uri);
  assert.deepEqual(assertAtomic(expected, exact, hours, 'after the final run'), hours, 'every hour is done');

  // Corrupt files. Hour 1: a file cut in half; hour 2: 16 bytes of a page changed.
  const hourDir = (h) => {
    const d = new Date(h * 1000);
    return path.join(storage, 'devices', `year=${d.getUTCFullYear()}`, `month=${d.getUTCMonth() + 1}`,
      `day=${d.getUTCDate()}`, `hour=${d.getUTCHours()}`);
  };
  const firstFile = (h) => {
    const files = fs.readdirSync(hourDir(h)).filter((f) => f.endsWith('.parquet') && !f.startsWith('.')).sort();
    assert.ok(files.length > 0, `hour ${iso(h)} has lake files`);
    return path.join(hourDir(h), files[0]);
  };
  const truncated = firstFile(hours[1]);
  fs.truncateSync(truncated, Math.floor(fs.statSync(truncated).size / 2));
  const corrupted = firstFile(hours[2]);
  await corruptPage(corrupted);
  // Hour 0's rows are tampered with so that the range run visibly repairs the good hours.
  await query(pg.uri, `UPDATE bytes_hourly SET value = value + 1 WHERE "timestamp" = to_timestamp(${hours[0]}) AT TIME ZONE 'UTC'`);

  for (const [h, file] of [[hours[1], truncated], [hours[2], corrupted]]) {
    const r = await scope.run(['batch', '--storage', storage, '--pg', pg.uri, '--hour', iso(h)]);
    assert.equal(r.code, 1, `batch over a damaged file must fail: ${r.stderr}`);
    assert.ok(r.stderr.includes(path.basename(file)), `the error names the file ${path.basename(file)}: ${r.stderr}`);
    assert.deepEqual((await actual(pg.uri)).get(h), expected.get(h), `hour ${iso(h)} is left as it was`);
    const [run] = await query(pg.uri, `SELECT status, error FROM lf_batch_runs
      WHERE hour = to_timestamp(${h}) AT TIME ZONE 'UTC' ORDER BY finished_at DESC NULLS LAST LIMIT 1`);
    assert.notEqual(run?.status, 'ok', `lf_batch_runs records the failure of ${iso(h)}`);
    assert.ok(String(run?.error).includes(path.basename(file)), `lf_batch_runs' error names the file: ${run?.error}`);
  }
  const range = await scope.run(batchAll, { timeoutMs: 300000 });
  assert.equal(range.code, 1, 'a range with damaged hours fails');
  assert.match(range.stderr, /2 of \d+ (hour|unit)\(s\) failed/);
  assert.deepEqual(await actual(pg.uri), exact, 'the good hours are recomputed (hour 0 repaired), the damaged ones unchanged');
});
