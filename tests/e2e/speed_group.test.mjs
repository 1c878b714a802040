// Scale-out: two `speed` processes in one consumer group on a 16-partition topic, started together
// while the simulator produces, share the partitions and still leave `bytes` and `dead_letters` exact.

import { test, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  Scope, sleep, assertLakeExact, oracleWindows, readWindowTable, readDeadLetters, assertTableEquals, compareDeadLetters,
} from '../lib/harness.mjs';
import {
  badMessages, unusualValidMessages, lateMessages, produceSpread, writeOracleLines, auditTopic,
} from '../lib/messages.mjs';

const START = '2026-11-22T06:00:00Z';
const START_EPOCH = Date.parse(START) / 1000;
const EVENTS = 150000;
const RATE = 10000; // ~15 s of production
const PARTITIONS = 16;
const TOPIC = 'devices';

const scope = new Scope('speed_group');
after(() => scope.cleanup());
afterEach((t) => scope.noteResult(t));

test('two speed processes in one group give the exact result', { timeout: 600000 }, async (t) => {
  const tmp = scope.tmpdir();
  const ndjson = path.join(tmp, 'events.ndjson');
  const extras = path.join(tmp, 'extras.ndjson');
  const [pg, broker] = await Promise.all([scope.startPostgres(), scope.startBroker({ topic: TOPIC, partitions: PARTITIONS })]);
  const prov = await scope.run(['provision', '--pg', pg.uri], { timeoutMs: 60000 });
  assert.equal(prov.code, 0, `provision failed: ${prov.stderr}`);

  const bad = badMessages(START_EPOCH + 1200);
  const valid = [...unusualValidMessages(START_EPOCH + 600, '1'), ...unusualValidMessages(START_EPOCH + 3 * 3600 + 3, '2')];
  const third = Math.ceil(bad.length / 3);
  await produceSpread(broker.brokers, TOPIC, PARTITIONS, [...bad.slice(0, third), ...valid.slice(0, 10)], 0);

  const speedArgs = (i) => ['speed', '--brokers', broker.brokers, '--topic', TOPIC, '--pg', pg.uri,
    '--storage', path.join(tmp, 'storage'), '--group', 'e2e-group', '--exit-when-idle', '8s'];
  const speeds = [scope.start(speedArgs(1), { name: 'speed-1' }), scope.start(speedArgs(2), { name: 'speed-2' })];
  const sim = scope.start(['simulate', '--brokers', broker.brokers, '--topic', TOPIC, '--events', String(EVENTS),
    '--rate', String(RATE), '--interval', '2s', '--start', START, '--seed', '21', '--out', ndjson]);
  // Everything else is produced while the simulator runs, so the idle timers cannot fire in between.
  await sleep(3000);
  await produceSpread(broker.brokers, TOPIC, PARTITIONS, [...bad.slice(third, 2 * third), ...valid.slice(10)], 5);
  await sleep(4000);
  const late = lateMessages(START_EPOCH + 5, PARTITIONS);
  await produceSpread(broker.brokers, TOPIC, PARTITIONS, [...bad.slice(2 * third), ...late], 11);
  const simResult = await sim.wait(240000);
  assert.equal(simResult.code, 0, `simulate failed: ${simResult.stderr}`);

  const results = await Promise.all(speeds.map((p) => p.wait(300000)));
  results.forEach((r, i) => assert.equal(r.code, 0, `speed-${i + 1} exited ${r.code}/${r.signal}: ${r.stderr.slice(-2000)}`));
  const summaries = speeds.map((p) => p.lastJsonLine());
  t.diagnostic(`summaries: ${JSON.stringify(summaries)}`);

  const allValid = [...valid, ...late];
  writeOracleLines(extras, allValid);
  const audit = await auditTopic(broker.brokers, TOPIC, { ndjsonFiles: [ndjson], valid: allValid, bad });
  assert.deepEqual(audit.problems, [], 'the topic must hold exactly what was produced');

  const expected = await oracleWindows([ndjson, extras]);
  assertTableEquals(expected, await readWindowTable(pg.uri));
  const problems = compareDeadLetters(audit.expectedDeadLetters, await readDeadLetters(pg.uri), TOPIC);
  assert.deepEqual(problems, [], 'dead_letters must hold each bad message exactly once');
  // Both processes archive into one lake: every valid event exactly once.
  await assertLakeExact(path.join(tmp, 'storage'), [ndjson, extras]);

  // Both processes did part of the work (the group shared the partitions).
  summaries.forEach((sum, i) => {
    assert.ok(sum && Number(sum.events) > 0, `speed-${i + 1} applied no events: ${JSON.stringify(sum)}`);
  });
});
