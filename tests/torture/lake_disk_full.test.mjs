// The lake's disk fills up under a running speed layer (issue 14). The lake root is a 128 kB
// tmpfs; 150 000 events wait in the topic. Speed must keep running, say why the lake does not
// advance (ENOSPC, naming the file), keep the metrics going (bytes complete and exact while the
// lake is stuck), commit no lake offset past rows it could not write, and — once the file system
// is grown to 256 MB — resume and finish the lake: every event exactly once (DuckDB over the
// NDJSON), no temporary file visible, exit 0 on SIGTERM. Mounting needs root (CI runs as root).

import { test, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import {
  Scope, sleep, assertLakeExact, oracleWindows, readWindowTable, compareTables, query, waitFor, WaitAbort,
} from '../lib/harness.mjs';

const EVENTS = 150000;
const scope = new Scope('torture_disk_full');
after(() => scope.cleanup());
afterEach((t) => scope.noteResult(t));

test('a full lake disk stops the lake, not the metrics; it resumes when space returns and loses nothing', { timeout: 600000 }, async (t) => {
  if (process.getuid() !== 0) {
    t.skip('mounting a tmpfs needs root');
    return;
  }
  const tmp = scope.tmpdir();
  const storage = path.join(tmp, 'storage');
  const ndjson = path.join(tmp, 'events.ndjson');
  const [pg, broker] = await Promise.all([scope.startPostgres(), scope.startBroker({ topic: 'devices', partitions: 4 })]);
  assert.equal((await scope.run(['provision', '--pg', pg.uri])).code, 0);
  const sim = await scope.run(['simulate', '--brokers', broker.brokers, '--events', String(EVENTS), '--devices', '500',
    '--interval', '60s', '--start', '2026-11-22T06:00:00Z', '--seed', '3', '--out', ndjson], { timeoutMs: 120000 });
  assert.equal(sim.code, 0, sim.stderr);

  fs.mkdirSync(storage);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=128k', 'tmpfs', storage]);
  scope.defer(() => execFileSync('umount', ['-l', storage]));

  const speed = scope.start(['speed', '--brokers', broker.brokers, '--pg', pg.uri, '--storage', storage,
    '--flush-interval', '300ms', '--lake-roll-interval', '2s'], { name: 'speed' });
  const alive = () => {
    if (!speed.running) throw new WaitAbort(`speed exited (${JSON.stringify(speed.exitInfo)}): ${speed.stderr.slice(-2000)}`);
  };
  await waitFor(() => (alive(), /lake write failed: .*\.parquet.*No space left on device/.test(speed.stderr)),
    { timeoutMs: 60000, what: 'speed to report the full disk' });

  // The metrics do not wait for the lake.
  const expected = await oracleWindows([ndjson]);
  await waitFor(async () => (alive(), compareTables(expected, await readWindowTable(pg.uri)).ok),
    { timeoutMs: 120000, what: 'bytes to be complete while the lake is stuck' });
  const lakeRows = async () => Number((await query(pg.uri, 'SELECT coalesce(sum(rows), 0)::bigint AS n FROM lf_lake_files'))[0].n);
  const stuck = await lakeRows();
  await sleep(3000);
  alive();
  const stillStuck = await lakeRows();
  assert.ok(stillStuck < EVENTS, `the lake cannot hold everything in 128 kB (it committed ${stillStuck} rows)`);
  // Never an offset past what the files hold: the lake's committed offsets cover exactly its rows.
  const [{ off }] = await query(pg.uri, `SELECT coalesce(sum(next_offset), 0)::bigint AS off FROM lf_offsets WHERE sink = 'lake'`);
  assert.equal(Number(off), stillStuck, 'lake offsets advance only with rows in committed files');
  t.diagnostic(`disk full: lake at ${stuck} then ${stillStuck} of ${EVENTS} rows; bytes complete`);

  execFileSync('mount', ['-o', 'remount,size=256m', storage]);
  await waitFor(async () => (alive(), (await lakeRows()) === EVENTS), { timeoutMs: 120000, what: 'the lake to catch up once space returned' });
  const r = await speed.stop(30000);
  assert.equal(r.code, 0, `speed exits 0 on SIGTERM: ${speed.stderr.slice(-1500)}`);

  await assertLakeExact(storage, [ndjson]);
  assert.ok(compareTables(expected, await readWindowTable(pg.uri)).ok, 'bytes stays exact');
  const leftovers = fs.readdirSync(storage, { recursive: true }).filter((f) => f.endsWith('.inprogress'));
  assert.deepEqual(leftovers, [], 'no unfinished file left after a clean stop');
});
