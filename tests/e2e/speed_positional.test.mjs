// The seeds' positional form (SPEC §1.7): `lambdaflow speed kafkaServer topicName jdbcUri jdbcTable
// jdbcUser jdbcPassword StorageRootPath`, as a password-protected role whose password has characters
// that need quoting; the result is exact, SIGTERM ends it with exit 0, the password is never printed.

import { test, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  Scope, oracleWindows, readWindowTable, readDeadLetters, compareTables, assertTableEquals, compareDeadLetters,
  createRoleWithPassword, waitFor,
} from '../lib/harness.mjs';
import {
  badMessages, unusualValidMessages, produceSpread, writeOracleLines, auditTopic,
} from '../lib/messages.mjs';

const START = '2026-11-22T09:00:00Z';
const START_EPOCH = Date.parse(START) / 1000;
const EVENTS = 30000;
const PARTITIONS = 8;
const TOPIC = 'devices';
const PASSWORD = "Pq8r@s:t/u v'w%x\\y";
const TOKEN = 'Pq8r';

const scope = new Scope('speed_positional');
after(() => scope.cleanup());
afterEach((t) => scope.noteResult(t));

test('positional form: exact result as a password role, password never printed', { timeout: 480000 }, async () => {
  const tmp = scope.tmpdir();
  const ndjson = path.join(tmp, 'events.ndjson');
  const extras = path.join(tmp, 'extras.ndjson');
  const [pg, broker] = await Promise.all([scope.startPostgres(), scope.startBroker({ topic: TOPIC, partitions: PARTITIONS })]);
  await createRoleWithPassword(pg.uri, 'lfpos', PASSWORD, { database: 'lfpos' });
  const roleUri = `postgresql://lfpos:${encodeURIComponent(PASSWORD)}@127.0.0.1:${pg.port}/lfpos`;
  const dbUri = pg.withDatabase('lfpos'); // superuser view of the same database, for the checks
  const prov = await scope.run(['provision', '--pg', roleUri], { timeoutMs: 60000 });
  assert.ok(!(prov.stdout + prov.stderr).includes(TOKEN), 'provision printed the password');
  assert.equal(prov.code, 0, `provision as lfpos: ${prov.stderr}`);

  const bad = badMessages(START_EPOCH + 300).filter((_, i) => i % 3 === 0);
  const valid = unusualValidMessages(START_EPOCH + 1200, '1');
  await produceSpread(broker.brokers, TOPIC, PARTITIONS, [...bad, ...valid], 0);
  const sim = await scope.run(['simulate', '--brokers', broker.brokers, '--topic', TOPIC, '--events', String(EVENTS),
    '--interval', '5s', '--start', START, '--seed', '3', '--out', ndjson], { timeoutMs: 180000 });
  assert.equal(sim.code, 0, `simulate: ${sim.stderr}`);
  writeOracleLines(extras, valid);
  const audit = await auditTopic(broker.brokers, TOPIC, { ndjsonFiles: [ndjson], valid, bad });
  assert.deepEqual(audit.problems, []);
  const expected = await oracleWindows([ndjson, extras]);

  const speed = scope.start(['speed', broker.brokers, TOPIC, `jdbc:postgresql://127.0.0.1:${pg.port}/lfpos`, 'bytes',
    'lfpos', PASSWORD, path.join(tmp, 'storage')], { name: 'speed-positional' });
  let waitError = null;
  try {
    await waitFor(async () => {
      if (!speed.running) return true; // exited early: the checks below say what is wrong
      const c = compareTables(expected, await readWindowTable(dbUri));
      const dl = await readDeadLetters(dbUri);
      return c.ok && dl.length >= bad.length;
    }, { timeoutMs: 180000, intervalMs: 1000, what: 'bytes to equal the oracle' });
  } catch (e) {
    waitError = e;
  }
  const wasRunning = speed.running;
  await speed.stop(20000);
  assert.ok(wasRunning, `speed exited on its own (${JSON.stringify(speed.exitInfo)}): ${speed.stderr.slice(-2000)}`);
  assert.equal(speed.exitInfo.code, 0, `SIGTERM must end speed with exit 0 (${JSON.stringify(speed.exitInfo)})`);
  assert.ok(!speed.output.includes(TOKEN), `speed printed the password:\n${speed.output.slice(0, 3000)}`);

  assertTableEquals(expected, await readWindowTable(dbUri));
  assert.equal(waitError, null);
  const problems = compareDeadLetters(audit.expectedDeadLetters, await readDeadLetters(dbUri), TOPIC);
  assert.deepEqual(problems, [], 'dead_letters must hold each bad message exactly once');
});
