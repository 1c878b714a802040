// The Kafka project's own tools and kcat read what `lambdaflow simulate` wrote to a real Apache
// Kafka: the seeds' verification command (`kafka-console-consumer.sh --bootstrap-server … --topic
// devices`, i.e. the ConsoleConsumer class of the same jars) works as they wrote it, and a full read
// from the beginning, keys included, is exactly the simulator's NDJSON copy.

import { test, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { Scope, sleep, readLines } from '../lib/harness.mjs';
import { KAFKA_SH } from '../lib/kafka.mjs';

const execFileP = promisify(execFile);
const CONSOLE_CONSUMER = 'org.apache.kafka.tools.consumer.ConsoleConsumer';
const scope = new Scope('kafka_tools');
after(() => scope.cleanup());
afterEach((t) => scope.noteResult(t));

let broker;
let tmp;

const isEvent = (line) => {
  const e = JSON.parse(line);
  return Number.isInteger(e.bytes) && Number.isInteger(e.timestamp) && typeof e.app === 'string' &&
    /^00000000-0000-0000-0000-\d{12}$/.test(e.id) && /^00000000-0000-0000-0001-\d{12}$/.test(e.antenna_id);
};

test('the seed\'s kafka-console-consumer command sees the live stream', { timeout: 300000 }, async () => {
  tmp = scope.tmpdir();
  broker = await scope.startKafka({ topics: ['devices'], partitions: 8 });
  // As the seed wrote it (only the address differs), plus --max-messages so that it ends.
  const consumer = scope.start(['run-class', CONSOLE_CONSUMER, '--bootstrap-server', broker.brokers,
    '--topic', 'devices', '--max-messages', '500'], { cmd: KAFKA_SH, name: 'console-consumer' });
  await sleep(6000); // the consumer joins its group and starts at the end of the topic
  const live = path.join(tmp, 'live.ndjson');
  const sim = await scope.run(['simulate', '--brokers', broker.brokers, '--events', '3000', '--rate', '300',
    '--seed', '61', '--out', live], { timeoutMs: 120000 });
  assert.equal(sim.code, 0, `simulate failed: ${sim.stderr}`);
  const r = await consumer.wait(60000);
  assert.equal(r.code, 0, `console consumer exited ${r.code}: ${r.stderr.slice(-2000)}`);
  const got = r.stdout.split('\n').filter((l) => l.length > 0);
  assert.equal(got.length, 500);
  const produced = new Set(readLines(live));
  for (const line of got) {
    assert.ok(produced.has(line), `console consumer printed a line the simulator did not send: ${line}`);
    assert.ok(isEvent(line), line);
  }
});

test('ConsoleConsumer --from-beginning and kcat read exactly the NDJSON copy, keyed by device', { timeout: 300000 }, async () => {
  const out = path.join(tmp, 'all.ndjson');
  const sim = await scope.run(['simulate', '--brokers', broker.brokers, '--topic', 'seeded', '--events', '20000',
    '--start', '2026-11-22T09:00:00Z', '--seed', '62', '--out', out], { timeoutMs: 120000 });
  assert.equal(sim.code, 0, `simulate failed: ${sim.stderr}`);
  const sent = readLines(out);

  const { stdout } = await broker.kafka.runClass(CONSOLE_CONSUMER, ['--bootstrap-server', broker.brokers,
    '--topic', 'seeded', '--from-beginning', '--max-messages', '20000', '--timeout-ms', '30000',
    '--property', 'print.key=true', '--property', 'key.separator=|']);
  const lines = stdout.split('\n').filter((l) => l.length > 0);
  assert.equal(lines.length, 20000);
  const values = lines.map((l) => {
    const i = l.indexOf('|');
    const [key, value] = [l.slice(0, i), l.slice(i + 1)];
    assert.equal(key, JSON.parse(value).id, 'the key is the device id');
    return value;
  });
  assert.deepEqual(values.sort(), [...sent].sort());

  const kcat = await execFileP('kcat', ['-b', broker.brokers, '-C', '-t', 'seeded', '-o', 'beginning', '-e', '-q'],
    { maxBuffer: 1 << 28, timeout: 120000 });
  assert.deepEqual(kcat.stdout.split('\n').filter((l) => l.length > 0).sort(), [...sent].sort());
});
