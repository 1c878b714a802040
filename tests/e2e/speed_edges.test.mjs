// The speed layer on hand-made input only (no simulator): every bad-input kind of SPEC §1.1, unusual
// but valid payloads (extra fields, field order, whitespace, escapes, window boundaries) and the
// edges of the types (0 bytes alone in a window, bytes beyond 2^53 and at the int64 maximum, event
// times at and before the epoch). `bytes` must equal DuckDB's sums, `dead_letters` the bad messages.

import { test, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  Scope, oracleWindows, readWindowTable, readDeadLetters, compareTables, compareDeadLetters,
} from '../lib/harness.mjs';
import {
  badMessages, unusualValidMessages, edgeValidMessages, produceSpread, writeOracleLines, auditTopic,
} from '../lib/messages.mjs';

const TS = Date.parse('2026-11-22T06:00:00Z') / 1000;
const PARTITIONS = 2;
const TOPIC = 'devices';

const scope = new Scope('speed_edges');
after(() => scope.cleanup());
afterEach((t) => scope.noteResult(t));

const s = {};

test('speed over hand-made messages only', { timeout: 180000 }, async (t) => {
  const tmp = scope.tmpdir();
  s.extras = path.join(tmp, 'extras.ndjson');
  const [pg, broker] = await Promise.all([scope.startPostgres(), scope.startBroker({ topic: TOPIC, partitions: PARTITIONS })]);
  s.pg = pg;
  const prov = await scope.run(['provision', '--pg', pg.uri], { timeoutMs: 60000 });
  assert.equal(prov.code, 0, `provision failed: ${prov.stderr}`);
  s.bad = badMessages(TS);
  s.unusual = unusualValidMessages(TS + 100, '1');
  s.edges = edgeValidMessages('1');
  s.valid = [...s.unusual, ...s.edges];
  await produceSpread(broker.brokers, TOPIC, PARTITIONS, [...s.bad, ...s.valid]);
  writeOracleLines(s.extras, s.valid);
  const audit = await auditTopic(broker.brokers, TOPIC, { ndjsonFiles: [], valid: s.valid, bad: s.bad });
  assert.deepEqual(audit.problems, []);
  s.expectedDeadLetters = audit.expectedDeadLetters;

  const speed = scope.start(['speed', '--brokers', broker.brokers, '--topic', TOPIC, '--pg', pg.uri,
    '--storage', path.join(tmp, 'storage'), '--exit-when-idle', '3s']);
  const r = await speed.wait(120000);
  assert.equal(r.code, 0, `speed exited ${r.code}/${r.signal}: ${r.stderr.slice(-2000)}`);
  s.summary = speed.lastJsonLine();
  t.diagnostic(`summary: ${JSON.stringify(s.summary)}`);
  assert.ok(s.summary, 'JSON summary on the last stdout line');
});

// Which hand-made valid messages are not reflected exactly (by their own keys).
async function checkRows(msgs, label) {
  assert.ok(s.summary, 'speed did not complete');
  const expected = await oracleWindows([s.extras]);
  const c = compareTables(expected, await readWindowTable(s.pg.uri));
  const bad = [];
  for (const m of msgs) {
    const obj = JSON.parse(m.line);
    const keys = [obj.antenna_id, obj.id, obj.app];
    const hits = [...c.missing, ...c.different, ...c.extra].filter((x) => keys.some((k) => x.key.endsWith(`|${k}`)));
    if (hits.length) bad.push(`${m.kind}: ${JSON.stringify(hits, (_, v) => (typeof v === 'bigint' ? v.toString() : v))}`);
  }
  assert.deepEqual(bad, [], `${label} not reflected exactly in bytes`);
}

test('unusual but valid payloads are counted exactly', async () => {
  await checkRows(s.unusual, 'unusual payloads');
});

test('edges of the types: 0 bytes alone, bytes beyond 2^53 and at int64 max, times at/before the epoch', async () => {
  await checkRows(s.edges, 'type edges');
});

test('the whole bytes table equals the oracle', async () => {
  assert.ok(s.summary, 'speed did not complete');
  const c = compareTables(await oracleWindows([s.extras]), await readWindowTable(s.pg.uri));
  assert.ok(c.ok, c.report);
});

test('dead_letters holds exactly every bad-input kind, once, byte for byte', async () => {
  assert.ok(s.summary, 'speed did not complete');
  const rows = await readDeadLetters(s.pg.uri);
  const problems = compareDeadLetters(s.expectedDeadLetters, rows, TOPIC);
  // Name the kinds, not just offsets.
  const kindOf = new Map(s.bad.map((m) => [(m.payload ?? Buffer.alloc(0)).toString('hex'), m.kind]));
  const named = problems.map((p) => {
    const [, part, off] = p.match(/(\d+)@(\d+)/) ?? [];
    const k = s.expectedDeadLetters.find((m) => String(m.partition) === part && String(m.offset) === off);
    return k ? `[${kindOf.get((k.payload ?? Buffer.alloc(0)).toString('hex'))}] ${p}` : p;
  });
  assert.deepEqual(named, []);
  assert.equal(Number(s.summary.bad), s.bad.length, 'summary.bad');
  assert.equal(Number(s.summary.events), s.valid.length, 'summary.events');
});
