// `lambdaflow broker` against a real, independent client (kcat): metadata, keyed produce and
// consume, consumer groups, clean stop, and its startup errors.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { startBroker, BIN } from '../lib/broker.mjs';

const execFileP = promisify(execFile);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function kcat(args, input) {
  return new Promise((resolve, reject) => {
    const child = execFile('kcat', args, { maxBuffer: 1 << 28, timeout: 60000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`kcat ${args.join(' ')}: ${err.message}\n${stderr}`)) : resolve(stdout));
    if (input !== undefined) child.stdin.end(input);
  });
}

// N keyed lines "key:value"; keys repeat so every key has many ordered values.
function keyedLines(n) {
  const lines = [];
  for (let i = 0; i < n; i++) lines.push(`device-${i % 41}:event-${i}-${'x'.repeat(i % 50)}`);
  return lines;
}

function byKey(lines) {
  const m = new Map();
  for (const l of lines) {
    const k = l.slice(0, l.indexOf(':'));
    if (!m.has(k)) m.set(k, []);
    m.get(k).push(l);
  }
  return m;
}

test('kcat -L shows every topic with its partition count', async () => {
  const broker = await startBroker({ topics: ['devices', 'extra'], partitions: 5 });
  try {
    const md = JSON.parse(await kcat(['-b', broker.brokers, '-L', '-J']));
    const topics = Object.fromEntries(md.topics.map((t) => [t.topic, t.partitions.length]));
    assert.equal(topics.devices, 5);
    assert.equal(topics.extra, 5);
    assert.equal(md.brokers.length, 1);
  } finally {
    assert.equal(await broker.stop(), 0);
  }
});

test('comma-separated topics and the default partition count', async () => {
  const broker = await startBroker({ topics: ['a,b'], partitions: 8 });
  try {
    const md = JSON.parse(await kcat(['-b', broker.brokers, '-L', '-J']));
    const topics = Object.fromEntries(md.topics.map((t) => [t.topic, t.partitions.length]));
    assert.deepEqual(topics, { a: 8, b: 8 });
  } finally {
    assert.equal(await broker.stop('SIGINT'), 0);
  }
});

test('kcat produces N keyed messages and consumes exactly them back, in order per key', async () => {
  const broker = await startBroker({ partitions: 8 });
  try {
    const n = 20000;
    const sent = keyedLines(n);
    // Idempotence keeps the order per partition through retries (a real broker may ask for one
    // while it is still loading, and a plain retry can overtake later batches).
    await kcat(['-b', broker.brokers, '-P', '-t', 'devices', '-K', ':', '-X', 'enable.idempotence=true'],
      sent.join('\n') + '\n');
    const out = await kcat(['-b', broker.brokers, '-C', '-t', 'devices', '-o', 'beginning', '-e', '-q',
      '-f', '%p %k:%s\n']);
    const rows = out.split('\n').filter((l) => l.length > 0);
    assert.equal(rows.length, n);
    const got = rows.map((r) => r.slice(r.indexOf(' ') + 1));
    assert.deepEqual([...got].sort(), [...sent].sort());
    // One key, one partition; and within it the produce order.
    const partitionOf = new Map();
    for (const r of rows) {
      const [p, rest] = [r.slice(0, r.indexOf(' ')), r.slice(r.indexOf(' ') + 1)];
      const k = rest.slice(0, rest.indexOf(':'));
      if (partitionOf.has(k)) assert.equal(partitionOf.get(k), p, `key ${k} spans partitions`);
      partitionOf.set(k, p);
    }
    assert.ok(new Set(partitionOf.values()).size > 1, 'keys spread over several partitions');
    assert.deepEqual(byKey(got), byKey(sent));
  } finally {
    assert.equal(await broker.stop(), 0);
  }
});

test('two kcat consumers in one group split the partitions and together read everything', async () => {
  const broker = await startBroker({ partitions: 8 });
  const consumers = [];
  try {
    const sent = keyedLines(3000);
    for (let i = 0; i < 2; i++) {
      const c = { out: '', err: '' };
      c.proc = spawn('kcat', ['-u', '-b', broker.brokers, '-G', 'lf-test-group', '-X', 'auto.offset.reset=earliest',
        '-X', 'session.timeout.ms=6000', '-X', 'heartbeat.interval.ms=500',
        '-f', '%k:%s\n', 'devices'], { stdio: ['ignore', 'pipe', 'pipe'] });
      c.proc.stdout.on('data', (b) => (c.out += b));
      c.proc.stderr.on('data', (b) => (c.err += b));
      consumers.push(c);
    }
    const lines = () => consumers.flatMap((c) => c.out.split('\n').filter((l) => l.length > 0));
    const assigned = (c) => [...c.err.matchAll(/assigned: (.*)/g)].map((m) => m[1]).pop() ?? '';
    // Produce once both members hold partitions: a real broker's coordinator may hand everything to
    // the first member before the second joins, which would then find nothing left to read.
    const joinDeadline = Date.now() + 60000;
    while (Date.now() < joinDeadline && consumers.some((c) => !/devices \[\d+\]/.test(assigned(c)))) await sleep(200);
    await kcat(['-b', broker.brokers, '-P', '-t', 'devices', '-K', ':'], sent.join('\n') + '\n');
    const deadline = Date.now() + 60000;
    while (Date.now() < deadline &&
           (new Set(lines()).size < sent.length || consumers.some((c) => !/devices \[\d+\]/.test(assigned(c))))) {
      await sleep(200);
    }
    const parts = consumers.map((c) => [...assigned(c).matchAll(/devices \[(\d+)\]/g)].map((m) => Number(m[1])));
    assert.ok(parts[0].length > 0 && parts[1].length > 0, `both members assigned: ${JSON.stringify(parts)}`);
    assert.deepEqual([...parts[0], ...parts[1]].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual([...new Set(lines())].sort(), [...sent].sort());
    assert.ok(consumers.every((c) => c.out.length > 0), 'both members consumed');
  } finally {
    for (const c of consumers) c.proc.kill('SIGKILL');
    assert.equal(await broker.stop(), 0);
  }
});

test('a busy --listen port is a clear error and a non-zero exit', async () => {
  const first = await startBroker({ partitions: 1 });
  try {
    await assert.rejects(
      execFileP(BIN, ['broker', '--listen', first.brokers], { timeout: 30000 }),
      (err) => {
        assert.notEqual(err.code, 0);
        assert.match(err.stderr, /kafka: forwarder: listen 127\.0\.0\.1:\d+: Address already in use/);
        assert.equal(err.stdout, '');
        return true;
      });
  } finally {
    assert.equal(await first.stop(), 0);
  }
});

test('--help states the limits', async () => {
  const { stdout } = await execFileP(BIN, ['broker', '--help']);
  assert.match(stdout, /in memory/);
  assert.match(stdout, /5 MB/);
  assert.match(stdout, /--listen/);
  assert.match(stdout, /--partitions/);
});
