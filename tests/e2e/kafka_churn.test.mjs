// Consumer-group churn on a real Apache Kafka (only a real group coordinator gives this): three
// `speed` processes in one group on a 24-partition topic while the simulator produces. One is
// SIGKILLed (the coordinator notices only by its session timeout), one stops with SIGTERM, one
// starts late and finishes the topic. `bytes`, `dead_letters` and the lake must equal DuckDB's
// computation, and every partition's committed offset must be exactly its end: none applied twice,
// none skipped.

import { test, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  Scope, sleep, waitFor, WaitAbort, query, appliedEvents, assertLakeExact, oracleWindows, oracleStats, readWindowTable,
  readDeadLetters, assertTableEquals, compareDeadLetters,
} from '../lib/harness.mjs';
import { badMessages, unusualValidMessages, produceSpread, writeOracleLines, auditTopic } from '../lib/messages.mjs';

const START = '2026-11-22T06:00:00Z';
const START_EPOCH = Date.parse(START) / 1000;
const EVENTS = 120000;
const RATE = 3000; // ~40 s of production: the churn happens while input flows
const PARTITIONS = 24;
const TOPIC = 'devices';
const GROUP = 'e2e-churn';

const scope = new Scope('kafka_churn');
after(() => scope.cleanup());
afterEach((t) => scope.noteResult(t));

test('three speed processes: one SIGKILLed, one SIGTERMed, one late; exact and no offset twice', { timeout: 900000 }, async (t) => {
  const tmp = scope.tmpdir();
  const ndjson = path.join(tmp, 'events.ndjson');
  const extras = path.join(tmp, 'extras.ndjson');
  const storage = path.join(tmp, 'storage');
  const [pg, broker] = await Promise.all([scope.startPostgres(), scope.startKafka({ topics: [TOPIC], partitions: PARTITIONS })]);
  const prov = await scope.run(['provision', '--pg', pg.uri], { timeoutMs: 60000 });
  assert.equal(prov.code, 0, `provision failed: ${prov.stderr}`);

  const bad = badMessages(START_EPOCH + 700);
  const valid = unusualValidMessages(START_EPOCH + 1500, 'churn');
  await produceSpread(broker.brokers, TOPIC, PARTITIONS, [...bad, ...valid], 0);

  const speedArgs = (extra = []) => ['speed', '--brokers', broker.brokers, '--topic', TOPIC, '--pg', pg.uri,
    '--storage', storage, '--group', GROUP, '--flush-interval', '500ms', ...extra];
  const applied = () => appliedEvents(pg.uri);
  const assignedIn = (p) => [...p.stderr.matchAll(/assigned (\d+) partition/g)].map((m) => Number(m[1]));

  const sim = scope.start(['simulate', '--brokers', broker.brokers, '--topic', TOPIC, '--events', String(EVENTS),
    '--rate', String(RATE), '--interval', '2s', '--start', START, '--seed', '31', '--out', ndjson]);
  const a = scope.start(speedArgs(), { name: 'speed-a' });
  const b = scope.start(speedArgs(), { name: 'speed-b' });
  // Both members hold partitions and A has committed something before it dies.
  await waitFor(async () => {
    for (const p of [a, b]) if (!p.running) throw new WaitAbort(`${p.name} exited: ${p.stderr.slice(-1500)}`);
    return assignedIn(a).some((n) => n > 0) && assignedIn(b).some((n) => n > 0) && (await applied()) > 5000;
  }, { timeoutMs: 120000, what: 'two members with partitions and progress' });
  const beforeKill = await applied();
  a.kill('SIGKILL');
  const ra = await a.wait(30000);
  assert.equal(ra.signal, 'SIGKILL');

  // B takes A's partitions only once the coordinator gave up on A (session timeout).
  await waitFor(() => assignedIn(b).some((n) => n === PARTITIONS) || (!b.running && Promise.reject(new WaitAbort('b exited'))),
    { timeoutMs: 90000, what: 'speed-b to take over all partitions after the session timeout' });
  const c = scope.start(speedArgs(['--exit-when-idle', '10s']), { name: 'speed-c' });
  await waitFor(() => assignedIn(c).some((n) => n > 0) || (!c.running && Promise.reject(new WaitAbort('c exited'))),
    { timeoutMs: 90000, what: 'the late member to get partitions' });
  await sleep(3000);
  b.kill('SIGTERM');
  const rb = await b.wait(60000);
  assert.equal(rb.code, 0, `speed-b must stop cleanly on SIGTERM: ${rb.stderr.slice(-2000)}`);
  assert.ok(b.lastJsonLine(), 'speed-b prints its summary');

  const simResult = await sim.wait(300000);
  assert.equal(simResult.code, 0, `simulate failed: ${simResult.stderr}`);
  const rc = await c.wait(300000);
  assert.equal(rc.code, 0, `speed-c exited ${rc.code}/${rc.signal}: ${rc.stderr.slice(-2000)}`);
  t.diagnostic(`applied before the kill: ${beforeKill}; b: ${JSON.stringify(b.lastJsonLine())}; ` +
    `c: ${JSON.stringify(c.lastJsonLine())}`);

  writeOracleLines(extras, valid);
  const audit = await auditTopic(broker.brokers, TOPIC, { ndjsonFiles: [ndjson], valid, bad });
  assert.deepEqual(audit.problems, [], 'the topic must hold exactly what was produced');

  assertTableEquals(await oracleWindows([ndjson, extras]), await readWindowTable(pg.uri));
  assert.deepEqual(compareDeadLetters(audit.expectedDeadLetters, await readDeadLetters(pg.uri), TOPIC), [],
    'dead_letters must hold each bad message exactly once');
  await assertLakeExact(storage, [ndjson, extras]);

  // Every partition's committed offset is its end (none skipped), and the events counted per
  // partition add up to the valid events produced (none applied twice).
  const ends = new Map();
  for (const m of audit.dump) ends.set(m.partition, Math.max(ends.get(m.partition) ?? 0, Number(m.offset) + 1));
  for (const sink of ['pg:bytes', 'lake']) {
    const rows = await query(pg.uri, `SELECT partition, next_offset::text AS next, events::text AS events
      FROM lf_offsets WHERE sink = $1 AND topic = $2 ORDER BY partition`, [sink, TOPIC]);
    assert.equal(rows.length, PARTITIONS, `${sink}: one offset row per partition`);
    for (const r of rows) assert.equal(Number(r.next), ends.get(r.partition), `${sink}: partition ${r.partition} offset`);
    if (sink === 'pg:bytes') {
      const total = rows.reduce((s, r) => s + Number(r.events), 0);
      const stats = await oracleStats([ndjson, extras]);
      assert.equal(total, stats.events, 'events applied over all partitions = valid events produced');
    }
  }
});
