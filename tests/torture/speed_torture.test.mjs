// Torture of the speed layer (issue 14): while simulators keep producing, `speed` is
//   - SIGKILLed at random instants (20 in the full run, 6 in the reduced one of scripts/test.sh),
//   - crashed by failpoints (LF_FAILPOINTS, src/common/failpoint.h) at the worst instants: inside
//     the metrics transaction before and after COMMIT, inside the lake's transaction before and
//     after COMMIT, and between two renames of a lake commit's files,
//   - left without PostgreSQL for 30 s (10 s reduced): `pg_ctl stop -m fast`, then a restart,
//   - and PostgreSQL is crashed (`pg_ctl stop -m immediate`) while `speed` stalls inside a
//     metrics transaction and again inside a lake transaction (failpoint sleeps),
// then a final `--exit-when-idle` run must leave `bytes`, `dead_letters` and the lake exact
// against DuckDB over everything produced. Speed must ride out both outages without exiting.
//
// LF_TORTURE=full selects the full run; LF_TEST_BROKER=kafka a real Apache Kafka.

import { test, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  Scope, sleep, randomInt, assertLakeExact, oracleWindows, readWindowTable, readDeadLetters, compareTables,
  compareDeadLetters, query, waitFor, WaitAbort,
} from '../lib/harness.mjs';
import { badMessages, unusualValidMessages, produceSpread, writeOracleLines, auditTopic } from '../lib/messages.mjs';

const FULL = process.env.LF_TORTURE === 'full';
const RANDOM_KILLS = FULL ? 20 : 6;
const OUTAGE_MS = FULL ? 30000 : 10000;
const PARTITIONS = 8;
const TOPIC = 'devices';
const START_EPOCH = Date.parse('2026-11-22T06:00:00Z') / 1000;
// Each simulator run: 40 000 events at 1500/s (reduced), about 27 s of input; another starts whenever the
// previous one has finished, 6 hours of event time later, so there is always input to commit.
// The full run produces for 8 minutes or so, hence its lower rate: the embedded broker keeps about
// 5 MB per partition.
const SIM_EVENTS = FULL ? 20000 : 40000;
const SIM_RATE = FULL ? 400 : 1500;
// The embedded broker (librdkafka's mock) keeps about the last 5 MB of message sets per partition:
// some 20 000 events each at 400/s, where every set holds one or two records, more when batches
// are fuller. Past EVENT_BUDGET events in all, input goes on at a trickle, so that none is dropped
// from the topic however long a slow machine takes over the faults (a fresh machine's reduced run
// once produced 320 000 events, a full run 160 000, and both lost the oldest).
const EVENT_BUDGET = 120000;
const TRICKLE = { events: 1500, rate: 50 };
const FAILPOINT_KILLS = [
  'flush.before_commit', 'flush.after_commit', 'lake_commit.before_commit', 'lake_commit.after_commit',
  'lake.publish.after_rename',
];

const scope = new Scope('torture_speed');
after(() => scope.cleanup());
afterEach((t) => scope.noteResult(t));

test('speed survives random kills, failpoint crashes and PostgreSQL outages, and stays exact', { timeout: 1200000 }, async (t) => {
  const tmp = scope.tmpdir();
  const storage = path.join(tmp, 'storage');
  const [pg, broker] = await Promise.all([scope.startPostgres(), scope.startBroker({ topic: TOPIC, partitions: PARTITIONS })]);
  const prov = await scope.run(['provision', '--pg', pg.uri], { timeoutMs: 60000 });
  assert.equal(prov.code, 0, `provision failed: ${prov.stderr}`);

  const bad = badMessages(START_EPOCH + 900);
  const valid = unusualValidMessages(START_EPOCH + 1800, 't');
  await produceSpread(broker.brokers, TOPIC, PARTITIONS, [...bad, ...valid], 0);

  // Input never stops until the faults are done: simulators run one after the other.
  const ndjsons = [];
  let producing = true;
  const producer = (async () => {
    let produced = 0;
    while (producing) {
      const n = ndjsons.length;
      const out = path.join(tmp, `events-${n}.ndjson`);
      ndjsons.push(out);
      const [events, rate] = produced < EVENT_BUDGET ? [SIM_EVENTS, SIM_RATE] : [TRICKLE.events, TRICKLE.rate];
      produced += events;
      const sim = scope.start(['simulate', '--brokers', broker.brokers, '--topic', TOPIC, '--events', String(events),
        '--rate', String(rate), '--interval', '2s', '--start', new Date((START_EPOCH + n * 6 * 3600) * 1000).toISOString(),
        '--seed', String(100 + n), '--out', out, '-X', 'linger.ms=100'], { name: `simulate-${n}` });
      const r = await sim.wait(600000);
      if (r.code !== 0) throw new Error(`simulate ${n} failed (${r.code}/${r.signal}): ${r.stderr.slice(-1500)}`);
    }
  })();
  producer.catch(() => {});

  const speedArgs = ['speed', '--brokers', broker.brokers, '--topic', TOPIC, '--pg', pg.uri, '--storage', storage,
    '--flush-interval', '300ms', '--lake-roll-interval', '2s'];
  const progress = async () => (await query(pg.uri,
    `SELECT (SELECT coalesce(sum(value), 0) FROM bytes)::text || '/' ||
            (SELECT coalesce(sum(rows), 0) FROM lf_lake_files)::text AS p`))[0].p;
  const waitProgress = async (p, what) => {
    const before = await progress();
    await waitFor(async () => {
      if (!p.running) throw new WaitAbort(`speed exited (${JSON.stringify(p.exitInfo)}): ${p.stderr.slice(-1500)}`);
      return (await progress()) !== before;
    }, { timeoutMs: 120000, intervalMs: 100, what });
  };
  const waitStderr = (p, text, timeoutMs = 90000) => waitFor(() => {
    if (p.stderr.includes(text)) return true;
    if (!p.running) throw new WaitAbort(`speed exited (${JSON.stringify(p.exitInfo)}) before '${text}': ${p.stderr.slice(-1500)}`);
    return false;
  }, { timeoutMs, intervalMs: 50, what: `'${text}' on speed's stderr` });
  const log = [];

  // 1. Random instants: the first kill before speed has done anything, the rest a random delay
  //    after this process committed something.
  for (let i = 0; i < RANDOM_KILLS; i++) {
    const p = scope.start(speedArgs, { name: `speed-kill-${i}` });
    if (i > 0) await waitProgress(p, `speed run ${i} to commit something`);
    const delayMs = i === 0 ? randomInt(20, 200) : randomInt(0, 1500);
    await sleep(delayMs);
    assert.ok(p.running, `speed run ${i} exited on its own: ${p.stderr.slice(-1500)}`);
    p.kill('SIGKILL');
    await p.wait(30000);
    log.push(`kill ${i} after ${delayMs} ms`);
  }

  // 2. Failpoints: the process kills itself at the Nth time it reaches the point.
  for (const point of FAILPOINT_KILLS) {
    const hit = randomInt(1, 3);
    const p = scope.start(speedArgs, { name: `speed-${point}`, env: { LF_FAILPOINTS: `${point}=kill@${hit}` } });
    const r = await p.wait(120000);
    assert.equal(r.signal, 'SIGKILL', `speed with ${point}=kill@${hit} must kill itself there (exit ${r.code}): ${r.stderr.slice(-1500)}`);
    assert.match(r.stderr, new RegExp(`failpoint ${point.replace(/\./g, '\\.')}: kill \\(hit ${hit}\\)`));
    log.push(`${point} kill@${hit}`);
  }

  // 3. PostgreSQL away for OUTAGE_MS under a running speed, then back.
  const riding = scope.start(speedArgs, { name: 'speed-outage' });
  await waitProgress(riding, 'speed to commit before the outage');
  await pg.halt('fast');
  await sleep(OUTAGE_MS);
  assert.ok(riding.running, `speed must wait out a PostgreSQL outage: ${riding.stderr.slice(-1500)}`);
  await pg.resume();
  await waitProgress(riding, 'speed to commit after PostgreSQL came back');
  log.push(`PostgreSQL stopped ${OUTAGE_MS} ms`);

  // 4. PostgreSQL crashed mid-commit: speed stalls inside a transaction (everything written, no
  //    COMMIT yet), the server is stopped with -m immediate, and comes back 3 s later.
  await riding.stop();
  for (const point of ['flush.before_commit', 'lake_commit.before_commit']) {
    const p = scope.start(speedArgs, { name: `speed-crash-pg-${point}`, env: { LF_FAILPOINTS: `${point}=sleep@2:5000` } });
    await waitStderr(p, `failpoint ${point}: sleep`);
    await pg.halt('immediate');
    await waitStderr(p, `failpoint ${point}: awake`);
    await sleep(3000);
    assert.ok(p.running, `speed must survive PostgreSQL crashing under its ${point}: ${p.stderr.slice(-1500)}`);
    await pg.resume();
    await waitProgress(p, `speed to commit after the crash under ${point}`);
    log.push(`PostgreSQL -m immediate inside ${point}`);
    const r = await p.stop(30000);
    assert.equal(r.code, 0, `speed must stop cleanly on SIGTERM after the crash under ${point} (exit ${r.code}/${r.signal})`);
  }

  producing = false;
  await producer;
  t.diagnostic(`${log.length} faults: ${log.join('; ')}`);

  writeOracleLines(path.join(tmp, 'extras.ndjson'), valid);
  const oracleFiles = [...ndjsons, path.join(tmp, 'extras.ndjson')];
  const audit = await auditTopic(broker.brokers, TOPIC, { ndjsonFiles: ndjsons, valid, bad });
  assert.deepEqual(audit.problems, [], 'the topic must hold exactly what was produced');

  const final = scope.start([...speedArgs, '--exit-when-idle', '5s'], { name: 'speed-final' });
  const r = await final.wait(600000);
  assert.equal(r.code, 0, `final speed run exited ${r.code}/${r.signal}: ${r.stderr.slice(-2000)}`);
  t.diagnostic(`final summary: ${JSON.stringify(final.lastJsonLine())}`);

  const cmp = compareTables(await oracleWindows(oracleFiles), await readWindowTable(pg.uri));
  assert.ok(cmp.ok, `bytes differs from DuckDB over everything produced: ${cmp.report}`);
  assert.deepEqual(compareDeadLetters(audit.expectedDeadLetters, await readDeadLetters(pg.uri), TOPIC), [],
    'dead_letters must hold each bad message exactly once');
  await assertLakeExact(storage, oracleFiles);
  assert.ok(!fs.readdirSync(storage, { recursive: true }).some((f) => /\.inprogress$/.test(f) && !/(^|\/)\./.test(f)),
    'no unfinished lake file is visible');
  const [{ n }] = await query(pg.uri, `SELECT count(*)::int AS n FROM lf_lake_files WHERE NOT published`);
  assert.equal(n, 0, 'every committed lake file is published');
  const simulated = ndjsons.reduce((a, f) => a + fs.readFileSync(f, 'utf8').split('\n').filter(Boolean).length, 0);
  t.diagnostic(`exact: ${simulated + valid.length} valid and ${bad.length} bad messages from ${ndjsons.length} simulator runs`);
});
