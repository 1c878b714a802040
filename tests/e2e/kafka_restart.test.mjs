// The broker goes away mid-stream on a real Apache Kafka while the simulator produces and the
// speed layer consumes: a single node stopped and started again, and in a 3-node cluster (replication
// factor 3, min.insync.replicas=2) the node leading half the partitions killed with SIGKILL and
// restarted. Neither process may crash; the speed layer says in its log that the broker is away,
// and afterwards `bytes` and the lake equal DuckDB's computation over what was produced.

import { test, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  Scope, sleep, waitFor, WaitAbort, query, appliedEvents, consumeAll, assertLakeExact, oracleWindows, readWindowTable,
  assertTableEquals,
} from '../lib/harness.mjs';

const execFileP = promisify(execFile);
const TOPIC = 'devices';
const PARTITIONS = 12;

const scope = new Scope('kafka_restart');
after(() => scope.cleanup());
afterEach((t) => scope.noteResult(t));

// Runs simulator and speed layer, calls `outage(broker)` once the layer has made progress, then
// waits until the layer committed every partition to its end and checks the results.
async function survivesOutage(t, { nodes, seed, outage }) {
  const tmp = scope.tmpdir();
  const ndjson = path.join(tmp, 'events.ndjson');
  const storage = path.join(tmp, 'storage');
  const [pg, broker] = await Promise.all([scope.startPostgres(),
    scope.startKafka({ topics: nodes === 1 ? [TOPIC] : [], partitions: PARTITIONS, nodes })]);
  if (nodes === 3) {
    // Node 1 is the preferred leader of half the partitions, nodes 2 and 3 of a quarter each.
    const assignment = Array.from({ length: PARTITIONS }, (_, p) =>
      (p < PARTITIONS / 2 ? [1, 2, 3] : p % 2 ? [2, 3, 1] : [3, 1, 2]).join(':'));
    await broker.kafka.topics(['--create', '--topic', TOPIC, '--replica-assignment', assignment.join(',')]);
  }
  const prov = await scope.run(['provision', '--pg', pg.uri], { timeoutMs: 60000 });
  assert.equal(prov.code, 0, `provision failed: ${prov.stderr}`);

  const sim = scope.start(['simulate', '--brokers', broker.brokers, '--topic', TOPIC, '--events', '60000',
    '--rate', '2000', '--interval', '2s', '--start', '2026-11-22T06:00:00Z', '--seed', String(seed), '--out', ndjson]);
  const speed = scope.start(['speed', '--brokers', broker.brokers, '--topic', TOPIC, '--pg', pg.uri,
    '--storage', storage, '--flush-interval', '500ms'], { name: `speed-${nodes}` });
  const applied = () => appliedEvents(pg.uri);
  await waitFor(async () => {
    if (!speed.running) throw new WaitAbort(`speed exited: ${speed.stderr.slice(-1500)}`);
    return (await applied()) > 8000;
  }, { timeoutMs: 120000, what: 'the speed layer to make progress' });

  const logBefore = speed.stderr.length;
  await outage(broker);
  const during = speed.stderr.slice(logBefore);
  assert.ok(speed.running, `speed must ride out the outage: ${speed.stderr.slice(-2000)}`);
  assert.ok(sim.running || sim.exitInfo.code === 0, `simulate must ride out the outage: ${sim.stderr.slice(-2000)}`);

  const simResult = await sim.wait(300000);
  assert.equal(simResult.code, 0, `simulate failed: ${simResult.stderr.slice(-2000)}`);
  const dump = await consumeAll(broker.brokers, TOPIC);
  assert.equal(dump.length, 60000, 'the topic holds every event once (idempotent producer)');
  const ends = new Map();
  for (const m of dump) ends.set(m.partition, Math.max(ends.get(m.partition) ?? 0, Number(m.offset) + 1));
  await waitFor(async () => {
    if (!speed.running) throw new WaitAbort(`speed exited: ${speed.stderr.slice(-1500)}`);
    const rows = await query(pg.uri, `SELECT partition, next_offset::text AS n FROM lf_offsets WHERE sink = 'pg:bytes'`);
    return rows.length === ends.size && rows.every((r) => Number(r.n) === ends.get(r.partition));
  }, { timeoutMs: 180000, what: 'the speed layer to commit every partition to its end' });
  speed.kill('SIGTERM');
  const r = await speed.wait(60000);
  assert.equal(r.code, 0, `speed must stop cleanly: ${r.stderr.slice(-2000)}`);
  t.diagnostic(`summary ${JSON.stringify(speed.lastJsonLine())}`);

  assertTableEquals(await oracleWindows([ndjson]), await readWindowTable(pg.uri));
  await assertLakeExact(storage, [ndjson]);
  return during;
}

test('a single broker stopped and started mid-stream: no crash, exact afterwards', { timeout: 600000 }, async (t) => {
  const during = await survivesOutage(t, {
    nodes: 1,
    seed: 51,
    outage: async (broker) => {
      await broker.kafka.stop();
      await sleep(8000);
      await broker.kafka.start();
    },
  });
  // What librdkafka reports while the broker is away reaches the log.
  assert.match(during, /rdkafka .*(Connection refused|brokers are down)/,
    `the log says the broker is away:\n${during.slice(-3000)}`);
});

test('3 nodes: the leader of half the partitions killed and restarted: exact afterwards', { timeout: 600000 }, async (t) => {
  let leaders;
  await survivesOutage(t, {
    nodes: 3,
    seed: 52,
    outage: async (broker) => {
      const { stdout } = await execFileP('kcat', ['-b', broker.brokers, '-L', '-J', '-t', TOPIC], { timeout: 30000 });
      leaders = new Map();
      for (const p of JSON.parse(stdout).topics[0].partitions) leaders.set(p.leader, (leaders.get(p.leader) ?? 0) + 1);
      t.diagnostic(`partitions led per node: ${JSON.stringify([...leaders])}; killing node 1`);
      await broker.kafka.nodeKill(1);
      await sleep(8000);
      await broker.kafka.nodeStart(1);
    },
  });
  assert.equal(leaders.get(1), PARTITIONS / 2, 'the killed node led half the partitions');
});

// `--exit-when-idle` must not take a broker outage for the end of the input: the layer waits for
// the broker, lets the group settle, reads the rest and only then finishes.
test('speed --exit-when-idle 3s rides out an 8 s outage and finishes with everything read', { timeout: 600000 }, async (t) => {
  const tmp = scope.tmpdir();
  const ndjson = path.join(tmp, 'events.ndjson');
  const [pg, broker] = await Promise.all([scope.startPostgres(),
    scope.startKafka({ topics: [TOPIC], partitions: PARTITIONS })]);
  const prov = await scope.run(['provision', '--pg', pg.uri], { timeoutMs: 60000 });
  assert.equal(prov.code, 0, `provision failed: ${prov.stderr}`);
  // Input keeps arriving (the simulator rides out the outage too) while speed reads it live.
  const sim = scope.start(['simulate', '--brokers', broker.brokers, '--topic', TOPIC, '--events', '60000',
    '--rate', '3000', '--interval', '2s', '--start', '2026-11-22T06:00:00Z', '--seed', '53', '--out', ndjson]);
  const speed = scope.start(['speed', '--brokers', broker.brokers, '--topic', TOPIC, '--pg', pg.uri,
    '--flush-interval', '500ms', '--exit-when-idle', '3s'], { name: 'speed-idle' });
  const applied = () => appliedEvents(pg.uri);
  await waitFor(async () => {
    if (!speed.running) throw new WaitAbort(`speed exited: ${speed.stderr.slice(-1500)}`);
    return (await applied()) > 5000;
  }, { timeoutMs: 120000, what: 'the speed layer to make progress' });
  const before = await applied();
  await broker.kafka.stop();
  await sleep(8000);
  assert.ok(speed.running, `speed must wait for the broker, not finish: ${speed.stderr.slice(-2000)}`);
  await broker.kafka.start();
  const simResult = await sim.wait(300000);
  assert.equal(simResult.code, 0, `simulate failed: ${simResult.stderr.slice(-2000)}`);
  const r = await speed.wait(300000);
  assert.equal(r.code, 0, `speed exited ${r.code}/${r.signal}: ${r.stderr.slice(-2000)}`);
  const summary = speed.lastJsonLine();
  t.diagnostic(`applied before the outage: ${before}; summary ${JSON.stringify(summary)}`);
  assert.ok(before < 60000, 'the outage came before the end of the input');
  assert.equal(summary.events, 60000);
  assert.match(speed.stderr, /waiting for the broker/);
  assertTableEquals(await oracleWindows([ndjson]), await readWindowTable(pg.uri));
});
