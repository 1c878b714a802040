// `lambdaflow simulate` into `lambdaflow broker`: what the broker holds is exactly the NDJSON copy,
// the stream is reproducible under a seed, event time follows --start/--interval, pacing and
// SIGTERM behave, and a failed delivery is an error.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startBroker, BIN } from '../lib/broker.mjs';

const execFileP = promisify(execFile);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lf-simulate-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const START = '2026-11-22T09:00:00Z';
const START_S = Date.parse(START) / 1000;

function simulate(args) {
  return execFileP(BIN, ['simulate', ...args], { timeout: 120000, maxBuffer: 1 << 26 });
}

// Every message of `topic` as { partition, key, value } (payloads never contain newlines).
async function consume(brokers, topic = 'devices') {
  const { stdout } = await execFileP('kcat', ['-b', brokers, '-C', '-t', topic, '-o', 'beginning', '-e', '-q',
    '-f', '%p\t%k\t%s\n'], { maxBuffer: 1 << 28, timeout: 120000 });
  return stdout.split('\n').filter((l) => l.length > 0).map((l) => {
    const [partition, key, value] = l.split('\t');
    return { partition: Number(partition), key, value };
  });
}

const lines = (file) => fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0);

test('the broker holds exactly the NDJSON payloads, keyed by device, spanning N/D seconds', async () => {
  const broker = await startBroker({ partitions: 8 });
  try {
    const out = path.join(tmp, 'f.ndjson');
    const { stdout } = await simulate(['--brokers', broker.brokers, '--events', '20000', '--seed', '1',
      '--start', START, '--out', out]);
    assert.match(stdout, /^simulate: 20000 events in [0-9.]+ s, \d+ events\/s\n$/);
    const sent = lines(out);
    assert.equal(sent.length, 20000);
    assert.ok(fs.readFileSync(out, 'utf8').endsWith('}\n'));

    const got = await consume(broker.brokers);
    assert.equal(got.length, 20000);
    assert.deepEqual(got.map((m) => m.value).sort(), [...sent].sort());

    const devices = new Set();
    const antennas = new Set();
    const lastTime = new Map();
    const partitionOf = new Map();
    let minTs = Infinity;
    let maxTs = -Infinity;
    for (const m of got) {
      const e = JSON.parse(m.value);
      assert.deepEqual(Object.keys(e), ['bytes', 'timestamp', 'app', 'id', 'antenna_id']);
      assert.equal(m.key, e.id, 'key is the device id');
      assert.ok(Number.isInteger(e.bytes) && e.bytes >= 0);
      assert.match(e.id, /^00000000-0000-0000-0000-0000000000(0[1-9]|1\d|20)$/);
      assert.match(e.antenna_id, /^00000000-0000-0000-0001-00000000000[1-5]$/);
      assert.ok(['SKYPE', 'FACEBOOK', 'WHATSAPP', 'FACETIME', 'TELEGRAM', 'INSTAGRAM', 'YOUTUBE'].includes(e.app));
      // In partition order a device's event time never goes back, and it stays in one partition.
      assert.ok((lastTime.get(e.id) ?? -Infinity) <= e.timestamp, `time goes back for ${e.id}`);
      lastTime.set(e.id, e.timestamp);
      if (partitionOf.has(e.id)) assert.equal(partitionOf.get(e.id), m.partition);
      partitionOf.set(e.id, m.partition);
      devices.add(e.id);
      antennas.add(e.antenna_id);
      minTs = Math.min(minTs, e.timestamp);
      maxTs = Math.max(maxTs, e.timestamp);
    }
    assert.equal(devices.size, 20);
    assert.equal(antennas.size, 5);
    assert.equal(minTs, START_S);
    assert.equal(maxTs, START_S + 20000 / 20 - 1); // 1000 rounds, one second apart
  } finally {
    assert.equal(await broker.stop(), 0);
  }
});

test('the same seed gives byte-identical NDJSON; another seed does not', async () => {
  const broker = await startBroker({ partitions: 4 });
  try {
    const run = async (seed, name) => {
      const file = path.join(tmp, name);
      await simulate(['--brokers', broker.brokers, '--topic', 'repro', '--events', '5000', '--seed', String(seed),
        '--start', START, '--interval', '30s', '--devices', '100', '--antennas', '7', '--out', file]);
      return fs.readFileSync(file);
    };
    const a = await run(7, 'a.ndjson');
    const b = await run(7, 'b.ndjson');
    const c = await run(8, 'c.ndjson');
    assert.ok(a.length > 0);
    assert.ok(a.equals(b), 'same seed, same bytes');
    assert.ok(!a.equals(c), 'different seed, different stream');
    // 5000 events over 100 devices 30 s apart: 50 rounds, the last at +49 × 30 s.
    const ts = lines(path.join(tmp, 'a.ndjson')).map((l) => JSON.parse(l).timestamp);
    assert.equal(Math.max(...ts) - Math.min(...ts), 49 * 30);
    assert.equal((await consume(broker.brokers, 'repro')).length, 15000);
  } finally {
    assert.equal(await broker.stop(), 0);
  }
});

test('--rate paces the run', async () => {
  const broker = await startBroker({ partitions: 2 });
  try {
    const t0 = Date.now();
    const { stdout } = await simulate(['--brokers', broker.brokers, '--events', '300', '--rate', '200',
      '--seed', '3', '--start', START]);
    const elapsed = (Date.now() - t0) / 1000;
    assert.match(stdout, /simulate: 300 events/);
    assert.ok(elapsed >= 1.4, `300 events at 200/s took only ${elapsed}s`);
    assert.ok(elapsed < 10, `300 events at 200/s took ${elapsed}s`);
  } finally {
    assert.equal(await broker.stop(), 0);
  }
});

test('without --events it runs on the wall clock until SIGTERM, then flushes and exits 0', async () => {
  const broker = await startBroker({ partitions: 8 });
  try {
    const out = path.join(tmp, 'live.ndjson');
    const before = Math.floor(Date.now() / 1000);
    const child = spawn(BIN, ['simulate', '--brokers', broker.brokers, '--devices', '200', '--out', out],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    await sleep(2500);
    child.kill('SIGTERM');
    const code = await new Promise((r) => child.on('exit', r));
    const afterS = Math.ceil(Date.now() / 1000);
    assert.equal(code, 0, stderr);
    const sent = lines(out);
    // Real time: about 200 devices × 1 event/s for ~2.5 s.
    assert.ok(sent.length >= 250 && sent.length <= 900, `${sent.length} events in 2.5 s`);
    assert.match(stdout, new RegExp(`^simulate: ${sent.length} events in`));
    for (const l of sent) {
      const t = JSON.parse(l).timestamp;
      assert.ok(t >= before && t <= afterS, `wall-clock timestamp ${t} not in [${before}, ${afterS}]`);
    }
    const got = await consume(broker.brokers);
    assert.deepEqual(got.map((m) => m.value).sort(), [...sent].sort(), 'everything written was delivered');
  } finally {
    assert.equal(await broker.stop(), 0);
  }
});

test('an undeliverable event is an error exit, never a silent loss', async () => {
  await assert.rejects(
    simulate(['--brokers', '127.0.0.1:1', '--events', '10', '--seed', '1', '-X', 'message.timeout.ms=1000']),
    (err) => {
      assert.notEqual(err.code, 0);
      assert.match(err.stderr, /kafka: deliver to devices \[-?\d+\]: Local: Message timed out/);
      assert.doesNotMatch(err.stdout, /simulate: 10 events/);
      return true;
    });
});

test('bad flags are refused with a clear error', async () => {
  await assert.rejects(simulate(['--start', 'yesterday', '--events', '1']), (err) => {
    assert.notEqual(err.code, 0);
    assert.match(err.stderr, /yesterday/);
    return true;
  });
  await assert.rejects(simulate(['--interval', '5', '--events', '1']), (err) => {
    assert.match(err.stderr, /5/);
    return true;
  });
  await assert.rejects(simulate(['--devices', '0']), (err) => {
    assert.match(err.stderr, /devices/);
    return true;
  });
});
