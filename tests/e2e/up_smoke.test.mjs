// `lambdaflow up` on embedded defaults: events flow to PostgreSQL and the lake, a batch runs
// (hours close quickly with --speedup), the dashboard's health endpoint answers, SIGTERM exits 0
// and leaves no process behind; a second `up` resumes with the same database.

import { test, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Scope, SOURCE_DIR, query, waitFor, WaitAbort } from '../lib/harness.mjs';

const scope = new Scope('up_smoke');
after(() => scope.cleanup());
afterEach((t) => scope.noteResult(t));

function processesUsing(dir) {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.includes(dir) && !l.includes('ps -eo'));
}

async function startUp(storage) {
  const up = scope.start(['up', '--storage', storage, '--speedup', '120', '--listen', '127.0.0.1:0', '--batch-every', '5s'],
    { name: 'up' });
  const dash = await up.waitForLine(/dashboard:\s+(http\S+)/, 120000);
  const pg = await up.waitForLine(/PostgreSQL:\s+(postgresql\S+)/, 10000);
  return { up, dashboard: dash[1], pg: pg[1] };
}

test('up runs the whole pipeline and stops cleanly', { timeout: 600000 }, async () => {
  const tmp = scope.tmpdir();
  fs.chmodSync(tmp, 0o755); // so PostgreSQL (run as user postgres under root) can live inside it
  const storage = path.join(tmp, 'data');
  const { up, dashboard, pg } = await startUp(storage);
  const alive = () => { if (!up.running) throw new WaitAbort(`up exited: ${up.stderr.slice(-2000)}`); };

  await waitFor(async () => { alive(); return (await query(pg, 'SELECT count(*)::int AS n FROM bytes'))[0].n > 0; },
    { timeoutMs: 120000, what: 'window rows in bytes' });
  await waitFor(async () => { alive(); return (await query(pg, 'SELECT count(*)::int AS n FROM lf_lake_files'))[0].n > 0; },
    { timeoutMs: 180000, what: 'committed lake files' });
  await waitFor(async () => {
    alive();
    return (await query(pg, "SELECT count(*)::int AS n FROM lf_batch_runs WHERE status = 'ok'"))[0].n > 0;
  }, { timeoutMs: 240000, what: 'a successful batch run' });
  assert.ok(fs.readdirSync(path.join(storage, 'devices'), { recursive: true }).some((f) => f.endsWith('.parquet')));
  const batched = await query(pg, `SELECT count(*)::int AS n FROM bytes_hourly_lambda WHERE layer = 'batch'`);
  assert.ok(batched[0].n > 0, 'the lambda view serves batch rows for batched hours');

  const health = await fetch(new URL('/healthz', dashboard));
  assert.equal(health.status, 200);
  const status = await fetch(new URL('/api/health', dashboard));
  assert.equal(status.status, 200);

  up.kill('SIGTERM');
  const r = await up.wait(120000);
  assert.equal(r.code, 0, `up must exit 0 on SIGTERM: ${r.stderr.slice(-2000)}`);
  assert.deepEqual(processesUsing(storage), [], 'no process left behind');
  assert.ok(!fs.existsSync(path.join(storage, 'postgres/data/postmaster.pid')), 'PostgreSQL stopped');

  // Running it again resumes with the same database: earlier results are still there.
  const again = await startUp(storage);
  const rows = await query(again.pg, 'SELECT count(*)::int AS n FROM lf_batch_runs');
  assert.ok(rows[0].n > 0, 'the second run sees the first run\'s batch results');
  again.up.kill('SIGTERM');
  assert.equal((await again.up.wait(120000)).code, 0);
  assert.deepEqual(processesUsing(storage), []);
});

test('up runs the telecom pipeline and the production line side by side', { timeout: 600000 }, async () => {
  const tmp = scope.tmpdir();
  fs.chmodSync(tmp, 0o755);
  const storage = path.join(tmp, 'both');
  const up = scope.start(['up', '--storage', storage, '--speedup', '60', '--listen', '127.0.0.1:0', '--batch-every', '5s',
    '--pipeline', path.join(SOURCE_DIR, 'pipelines/telecom.yaml'),
    '--pipeline', path.join(SOURCE_DIR, 'pipelines/production_line.yaml')], { name: 'up-both' });
  const dash = (await up.waitForLine(/dashboard:\s+(http\S+)/, 120000))[1];
  const pg = (await up.waitForLine(/PostgreSQL:\s+(postgresql\S+)/, 10000))[1];
  assert.match(up.stdout, /pipelines:\s+telecom, production_line/);
  assert.match(up.stdout, /topics devices, TFI/);
  const alive = () => { if (!up.running) throw new WaitAbort(`up exited: ${up.stderr.slice(-2000)}`); };
  const count = async (table) => (await query(pg, `SELECT count(*)::int AS n FROM ${table}`))[0].n;
  await waitFor(async () => { alive(); return await count('bytes') > 0 && await count('units_per_zone') > 0; },
    { timeoutMs: 180000, what: 'rows of both pipelines' });
  const groups = await query(pg, `SELECT DISTINCT pipeline, sink FROM lf_offsets WHERE sink LIKE 'pg:%' ORDER BY 1`);
  assert.equal(groups.length, 2, JSON.stringify(groups));
  assert.ok(groups.some((g) => g.sink === 'pg:production_line'));
  const catalog = await (await fetch(new URL('/api/pipelines', dash))).json();
  assert.deepEqual(catalog.map((p) => p.name).sort(), ['production_line', 'telecom']);
  for (const f of ['speed-telecom.log', 'speed-production_line.log', 'simulate-telecom.log', 'simulate-production_line.log']) {
    assert.ok(fs.existsSync(path.join(storage, 'logs', f)), f);
  }
  up.kill('SIGTERM');
  const r = await up.wait(120000);
  assert.equal(r.code, 0, `up must exit 0 on SIGTERM: ${r.stderr.slice(-2000)}`);
  assert.deepEqual(processesUsing(storage), [], 'no process left behind');
});
