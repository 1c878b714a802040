// Data loss by retention on a real Apache Kafka: the speed layer consumes a first batch and stops;
// a second batch arrives while it is down and the broker's retention (tiny segments, retention.ms)
// deletes it before the layer comes back. The restarted layer must record exactly the range the
// broker no longer has in lf_data_loss (the count the broker's own GetOffsetShell reports), count
// it as lost, and leave `bytes` and the lake exact over everything else.

import { test, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  Scope, waitFor, query, consumeAll, assertLakeExact, oracleWindows, readWindowTable, assertTableEquals,
} from '../lib/harness.mjs';

const TOPIC = 'devices';
const PARTITIONS = 4;

const scope = new Scope('kafka_retention');
after(() => scope.cleanup());
afterEach((t) => scope.noteResult(t));

// Per partition, the earliest (-2) or latest (-1) offset as the broker reports it.
async function offsets(kafka, time) {
  const { stdout } = await kafka.runClass('org.apache.kafka.tools.GetOffsetShell',
    ['--bootstrap-server', kafka.brokers, '--topic', TOPIC, '--time', String(time)]);
  const m = new Map();
  for (const line of stdout.trim().split('\n')) {
    const [, p, o] = line.match(/^devices:(\d+):(\d+)$/) ?? assert.fail(`GetOffsetShell printed ${line}`);
    m.set(Number(p), Number(o));
  }
  assert.equal(m.size, PARTITIONS);
  return m;
}

const topicConfig = (kafka, args) => kafka.runClass('kafka.admin.ConfigCommand',
  ['--bootstrap-server', kafka.brokers, '--alter', '--entity-type', 'topics', '--entity-name', TOPIC, ...args]);

test('retention deletes unread input: the exact range is recorded as lost, the rest is exact', { timeout: 600000 }, async (t) => {
  const tmp = scope.tmpdir();
  const storage = path.join(tmp, 'storage');
  const [pg, broker] = await Promise.all([scope.startPostgres(), scope.startKafka({ topics: [], partitions: PARTITIONS })]);
  const { kafka } = broker;
  await kafka.createTopic(TOPIC, PARTITIONS, { 'segment.ms': 1000 });
  const prov = await scope.run(['provision', '--pg', pg.uri], { timeoutMs: 60000 });
  assert.equal(prov.code, 0, `provision failed: ${prov.stderr}`);

  const simulate = async (start, seed, events) => {
    const r = await scope.run(['simulate', '--brokers', broker.brokers, '--topic', TOPIC, '--events', String(events),
      '--start', start, '--seed', String(seed), '--out', path.join(tmp, `sim-${seed}.ndjson`)], { timeoutMs: 120000 });
    assert.equal(r.code, 0, `simulate failed: ${r.stderr}`);
  };
  const speed = async (name) => {
    const r = await scope.run(['speed', '--brokers', broker.brokers, '--topic', TOPIC, '--pg', pg.uri,
      '--storage', storage, '--exit-when-idle', '3s'], { name, timeoutMs: 180000 });
    assert.equal(r.code, 0, `${name} exited ${r.code}/${r.signal}: ${r.stderr.slice(-2000)}`);
    return { summary: JSON.parse(r.stdout.trim().split('\n').pop()), stderr: r.stderr };
  };

  // 1. A first batch, consumed entirely.
  await simulate('2026-11-22T06:00:00Z', 41, 20000);
  await speed('speed-1');
  const committed = new Map((await query(pg.uri, `SELECT partition, next_offset::text AS n FROM lf_offsets
    WHERE sink = 'pg:bytes' AND topic = $1`, [TOPIC])).map((r) => [r.partition, Number(r.n)]));
  const firstEnds = await offsets(kafka, -1);
  assert.deepEqual(committed, firstEnds, 'the first run committed every partition to its end');
  const read = (await consumeAll(broker.brokers, TOPIC)).filter((m) => Number(m.offset) < committed.get(m.partition));

  // 2. A second batch while the layer is down, then retention deletes every segment.
  await simulate('2026-11-22T08:00:00Z', 42, 20000);
  const secondEnds = await offsets(kafka, -1);
  await topicConfig(kafka, ['--add-config', 'retention.ms=1000']);
  const low = await waitFor(async () => {
    const earliest = await offsets(kafka, -2);
    return [...earliest].every(([p, o]) => o > committed.get(p)) ? earliest : null;
  }, { timeoutMs: 120000, intervalMs: 1000, what: 'the broker to delete the unread segments by retention' });
  await topicConfig(kafka, ['--delete-config', 'retention.ms']);
  t.diagnostic(`committed ${JSON.stringify([...committed])}, second batch ended at ${JSON.stringify([...secondEnds])}, ` +
    `log start now ${JSON.stringify([...low])}`);

  // 3. A third batch; the restarted layer meets the gap.
  await simulate('2026-11-22T10:00:00Z', 43, 10000);
  const { summary, stderr } = await speed('speed-2');
  assert.match(stderr, /DATA LOSS on devices\[\d+\]/, 'the loss is logged loudly');

  const expectedLost = [...low].map(([p, o]) => [p, o - committed.get(p)]);
  const totalLost = expectedLost.reduce((s, [, n]) => s + n, 0);
  assert.equal(summary.lost, totalLost, `summary: ${JSON.stringify(summary)}`);
  const losses = await query(pg.uri, `SELECT topic, partition, from_offset::text AS f, to_offset::text AS t,
    lost::text AS n FROM lf_data_loss ORDER BY partition`);
  assert.deepEqual(losses.map((r) => [r.topic, r.partition, Number(r.f), Number(r.t), Number(r.n)]),
    [...low].sort((x, y) => x[0] - y[0]).map(([p, o]) => [TOPIC, p, committed.get(p), o, o - committed.get(p)]),
    'one lf_data_loss row per partition: from the committed offset to the broker\'s log start');
  const lostColumn = await query(pg.uri, `SELECT coalesce(sum(lost), 0)::text AS n FROM lf_offsets WHERE sink = 'pg:bytes'`);
  assert.equal(Number(lostColumn[0].n), totalLost, 'lf_offsets.lost');

  // Nothing else is missing: the results equal DuckDB over what was read before the gap plus what
  // the broker still holds.
  const kept = [...read, ...(await consumeAll(broker.brokers, TOPIC))];
  const keptFile = path.join(tmp, 'kept.ndjson');
  fs.writeFileSync(keptFile, kept.map((m) => m.payload.toString('utf8') + '\n').join(''));
  assertTableEquals(await oracleWindows([keptFile]), await readWindowTable(pg.uri));
  await assertLakeExact(storage, [keptFile]);
});
