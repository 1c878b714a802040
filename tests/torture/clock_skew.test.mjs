// Clock skew between the processes of one consumer group (issue 14). Two `speed` processes share
// the topic's partitions; one's wall clock runs 2 hours ahead, the other's 90 minutes behind
// (LF_CLOCK_SKEW: every wall-clock reading of Lambdaflow's own code goes through common/time.h's
// WallNow(), which adds it; libfaketime cannot be used, because a process using librdkafka then
// waits on the faked clock against the kernel's real one and stalls). Input arrives in
// event-time order, so no event may be late. Whatever their clocks say:
//   - neither finalizes the other's windows early: no event counted late, and no lake hour marked
//     complete (_SUCCESS, lf_lake_hours.success_at) before the last of its files was committed;
//   - bytes and the lake end exact against DuckDB.
// The watermark comes from event times, and every "now" the group shares is PostgreSQL's.

import { test, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  Scope, TEST_BROKER, sleep, assertLakeExact, oracleWindows, readWindowTable, compareTables, query, waitFor, WaitAbort,
} from '../lib/harness.mjs';

const TOPIC = 'devices';
const scope = new Scope('torture_clock_skew');
after(() => scope.cleanup());
afterEach((t) => scope.noteResult(t));

test('two group members with skewed clocks finalize nothing early and stay exact', { timeout: 600000 }, async (t) => {
  const tmp = scope.tmpdir();
  const storage = path.join(tmp, 'storage');
  const ndjson = path.join(tmp, 'events.ndjson');
  const [pg, broker] = await Promise.all([scope.startPostgres(), scope.startBroker({ topic: TOPIC, partitions: 8 })]);
  assert.equal((await scope.run(['provision', '--pg', pg.uri])).code, 0);

  // One member's clock runs 2 hours ahead, the other's 90 minutes behind (LF_CLOCK_SKEW, the
  // seam every wall-clock reading of Lambdaflow goes through; see the header).
  const skews = { ahead: '+2h', behind: '-90m' };
  const env = (skew) => ({ LF_CLOCK_SKEW: skew });
  const speedArgs = ['speed', '--brokers', broker.brokers, '--topic', TOPIC, '--pg', pg.uri, '--storage', storage,
    '--flush-interval', '500ms', '--lake-roll-interval', '3s', '--lateness', '10m'];
  const members = Object.entries(skews).map(([name, skew]) =>
    scope.start(speedArgs, { name: `speed-${name}`, env: env(skew) }));
  // 60 000 events of 50 devices 10 s apart (3.3 hours of event time) at 1500/s, in order: event
  // time runs 300 times faster than the wall clock, so the members' lateness is 10 minutes (2 s of
  // real time) to absorb the order in which partitions' fetches arrive, which has nothing to do
  // with clocks.
  const sim = scope.start(['simulate', '--brokers', broker.brokers, '--topic', TOPIC, '--events', '60000', '--devices', '50',
    '--interval', '10s', '--rate', '1500', '--start', '2026-11-22T06:00:00Z', '--seed', '31', '--out', ndjson]);
  const simResult = await sim.wait(300000);
  assert.equal(simResult.code, 0, simResult.stderr);

  const expected = await oracleWindows([ndjson]);
  await waitFor(async () => {
    for (const m of members) if (!m.running) throw new WaitAbort(`a member exited: ${m.stderr.slice(-1500)}`);
    return compareTables(expected, await readWindowTable(pg.uri)).ok;
  }, { timeoutMs: 180000, what: 'bytes to be exact with both skewed members running' });
  // Both members took part, each with its own clock.
  for (const [i, m] of members.entries()) {
    assert.match(m.stderr, /assigned \d+ partition/, 'both members were assigned partitions');
    assert.match(m.stderr, new RegExp(`wall clock is skewed by LF_CLOCK_SKEW=\\${Object.values(skews)[i]}`));
  }
  await sleep(4000); // a lake roll after the last input
  for (const m of members) assert.equal((await m.stop(30000)).code, 0, `a member exits 0: ${m.stderr.slice(-1500)}`);
  const finals = members.map((m) => m.lastJsonLine());
  const late = finals.reduce((a, f) => a + f.late, 0);
  t.diagnostic(`late events: ${late}`);
  // Against a real Kafka the first fetches deliver the partitions' backlogs one after another,
  // and at 300 times real time that alone makes events late at start-up (see the closing note of
  // issue 14): the count is only asserted on the embedded broker, the finalization check below on both.
  if (TEST_BROKER !== 'kafka') assert.equal(late, 0, `no event is late: ${JSON.stringify(finals)}`);
  const early = await query(pg.uri, `SELECT h.hour::text AS hour, h.success_at::text AS marked, max(f.committed_at)::text AS last_file
    FROM lf_lake_hours h JOIN lf_lake_files f ON f.dataset = h.dataset AND f.hour = h.hour
    WHERE h.success_at IS NOT NULL GROUP BY h.hour, h.success_at HAVING max(f.committed_at) > h.success_at`);
  assert.deepEqual(early, [], 'no hour was marked complete before its last file was committed');
  const marked = await query(pg.uri, 'SELECT count(*)::int AS n FROM lf_lake_hours WHERE success_at IS NOT NULL');
  assert.ok(marked[0].n >= 2, `complete hours were marked (${marked[0].n})`);
  assert.ok(compareTables(expected, await readWindowTable(pg.uri)).ok, 'bytes is exact');
  await assertLakeExact(storage, [ndjson]);
  assert.ok(!fs.readdirSync(storage, { recursive: true }).some((f) => /(^|\/)[^.][^/]*\.inprogress$/.test(f)));
});
