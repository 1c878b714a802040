// Torture of the ingestion engine on landing files (issue 14). Waves of generated files (every
// oddity and fault of SPEC §6, tests/lib/landing.mjs) land one after another; each wave meets an
// `ingest --watch` that is SIGKILLed at a random instant while it works (20 in the full run, 5
// reduced), or an `ingest --once` that a failpoint crashes at the worst instant: inside the
// manifest transaction before and after COMMIT, between two renames of bronze files, and after
// the commit but before the landing file is moved. A final `--once` must leave every row in bronze
// exactly once, every dead letter and manifest row once, every file moved, no temporary file.
//
// LF_TORTURE=full selects the full run.

import { test, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Scope, sleep, randomInt } from '../lib/harness.mjs';
import { generateLanding, writeTruth } from '../lib/landing.mjs';
import { PIPELINE_ARGS, Expected, listFiles, verify, utcDate } from '../lib/ingest_verify.mjs';

const FULL = process.env.LF_TORTURE === 'full';
const RANDOM_KILLS = FULL ? 20 : 5;
const FAILPOINTS = ['ingest_commit.before_commit', 'ingest_commit.after_commit', 'lake.publish.after_rename', 'ingest.before_move'];

const scope = new Scope('torture_ingest');
after(() => scope.cleanup());
afterEach((t) => scope.noteResult(t));

test('ingest survives random kills and failpoint crashes: every row, dead letter and manifest row once', { timeout: 1200000 }, async (t) => {
  const tmp = scope.tmpdir();
  const pg = await scope.startPostgres();
  const landing = path.join(tmp, 'landing');
  const storage = path.join(tmp, 'storage');
  const common = ['ingest', ...PIPELINE_ARGS, '--landing', landing, '--storage', storage, '--pg', pg.uri,
    '--settle', '0s', '--poll', '100ms', '--batch-rows', '1500'];
  const exp = new Expected();
  const started = Date.now();
  let wave = 0;
  const land = () => {
    wave += 1;
    const w = generateLanding(landing, { seed: 500 + wave, prefix: `w${wave}`, counts: { iot_sensors: 12, suppliers: 6, inventory: 9, weather: 9 },
      rows: [0, 300], big: 6, bigRows: [4000, 8000], specials: wave % 3 === 0 });
    exp.add(w.truth);
    writeTruth(w.truth, path.join(scope.artifacts, `truth-w${wave}`));
    return w.truth.files.filter((f) => f.status !== 'ignored').length;
  };
  const moved = () => listFiles(path.join(landing, '_processed')).length + listFiles(path.join(landing, '_error')).length;
  const log = [];

  // Random instants: once a random share (5–80%) of the wave has moved, plus 0–10 ms, so the kill
  // may hit decoding, writing Parquet, the commit, the renames or the moves.
  for (let i = 0; i < RANDOM_KILLS; i++) {
    const base = moved();
    const n = land();
    const target = base + randomInt(Math.ceil(n * 0.05), Math.floor(n * 0.8));
    const p = scope.start([...common, '--watch'], { name: `ingest-kill-${i}` });
    const deadline = Date.now() + 60000;
    while (p.running && moved() < target && Date.now() < deadline) await sleep(randomInt(2, 20));
    await sleep(randomInt(0, 10));
    assert.ok(p.running, `watcher ${i} ended on its own (${JSON.stringify(p.exitInfo)}): ${p.stderr.slice(-1500)}`);
    p.kill('SIGKILL');
    await p.exited;
    log.push(`kill ${i}: ${moved() - base}/${n} moved`);
  }

  // Failpoints: each one crashes a --once run the Nth time it is reached.
  for (const point of FAILPOINTS) {
    land();
    const hit = randomInt(1, 3);
    const p = scope.start([...common, '--once'], { name: `ingest-${point}`, env: { LF_FAILPOINTS: `${point}=kill@${hit}` } });
    const r = await p.wait(120000);
    assert.equal(r.signal, 'SIGKILL', `ingest with ${point}=kill@${hit} must kill itself there (exit ${r.code}): ${r.stderr.slice(-1500)}`);
    assert.match(r.stderr, new RegExp(`failpoint ${point.replace(/\./g, '\\.')}: kill \\(hit ${hit}\\)`));
    log.push(`${point} kill@${hit}`);
  }
  t.diagnostic(`${wave} waves; ${log.join('; ')}`);

  const final = await scope.run([...common, '--once'], { name: 'ingest-final', timeoutMs: 300000 });
  assert.equal(final.code, 0, `final --once exited ${final.code}/${final.signal}: ${final.stderr.slice(-2000)}`);
  const ended = Date.now();
  const problems = await verify(exp, { landing, storage, pgUri: pg.uri, window: [started, ended],
    dates: [...new Set([utcDate(started), utcDate(ended)])] });
  assert.deepEqual(problems, [], `after ${log.length} crashes:\n${problems.join('\n')}`);
  const hidden = listFiles(storage).filter((f) => f.split('/').some((seg) => seg.startsWith('.')) || f.includes('inprogress'));
  assert.deepEqual(hidden, [], 'no temporary file left behind');
});
