// `lambdaflow up` never leaves a process behind and always starts again: SIGKILL of `up` (as the
// OOM killer would), SIGHUP (a closed terminal) and PostgreSQL killed under it each end with no
// broker, speed layer, simulator, dashboard or PostgreSQL left running; a second `up` on the same
// storage is refused while the first runs (and does not steal its dashboard port); a restart after
// each unclean stop comes up, also over a stale postmaster.pid whose process id another process
// holds now, and resumes with the same database.

import { test, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Scope, query, waitFor, WaitAbort } from '../lib/harness.mjs';

const scope = new Scope('up_lifecycle');
after(() => scope.cleanup());
afterEach((t) => scope.noteResult(t));

// Every live descendant of `pid`: [{ pid, ppid, comm }] (zombies count as gone).
function descendants(pid) {
  const rows = execFileSync('ps', ['-eo', 'pid=,ppid=,stat=,comm='], { encoding: 'utf8' })
    .split('\n').map((l) => l.trim().split(/\s+/)).filter((r) => r.length === 4)
    .map(([p, pp, stat, comm]) => ({ pid: Number(p), ppid: Number(pp), stat, comm }));
  const out = [];
  const walk = (parent) => {
    for (const r of rows) {
      if (r.ppid === parent && !r.stat.startsWith('Z')) {
        out.push({ pid: r.pid, ppid: r.ppid, comm: r.comm });
        walk(r.pid);
      }
    }
  };
  walk(pid);
  return out;
}

function alive(pids) {
  const rows = execFileSync('ps', ['-eo', 'pid=,stat=,args='], { encoding: 'utf8' }).split('\n')
    .map((l) => l.trim()).filter((l) => l.length > 0);
  return rows.filter((l) => {
    const [p, stat] = l.split(/\s+/);
    return pids.includes(Number(p)) && !stat.startsWith('Z');
  });
}

async function startUp(storage, name) {
  const up = scope.start(['up', '--storage', storage, '--speedup', '120', '--listen', '127.0.0.1:0',
    '--batch-every', '5s'], { name });
  const dash = await up.waitForLine(/dashboard:\s+(http\S+)/, 120000);
  const pg = await up.waitForLine(/PostgreSQL:\s+(postgresql\S+)/, 10000);
  const running = () => { if (!up.running) throw new WaitAbort(`${name} exited: ${up.stderr.slice(-2000)}`); };
  await waitFor(async () => { running(); return (await query(pg[1], 'SELECT count(*)::int AS n FROM bytes'))[0].n > 0; },
    { timeoutMs: 120000, what: `${name}: window rows in bytes` });
  // Its children: PostgreSQL, broker, speed, simulate, serve.
  const kids = await waitFor(() => {
    running();
    const d = descendants(up.pid);
    const names = new Set(d.map((x) => x.comm));
    return names.has('postgres') && names.has('lambdaflow') && d.filter((x) => x.comm === 'lambdaflow').length >= 4 ? d : null;
  }, { timeoutMs: 30000, what: `${name}: its child processes` });
  return { up, dashboard: dash[1], pg: pg[1], kids };
}

async function assertAllGone(kids, what) {
  const pids = kids.map((k) => k.pid);
  await waitFor(() => alive(pids).length === 0, { timeoutMs: 90000, intervalMs: 250, what: `${what}: no process left` })
    .catch((e) => { throw new Error(`${e.message}\nstill running:\n${alive(pids).join('\n')}`); });
}

const events = async (pg) => Number((await query(pg, `SELECT coalesce(sum(events), 0)::text AS n FROM lf_offsets`))[0].n);

test('up: SIGKILL, a second up, PostgreSQL killed, a stale postmaster.pid, SIGHUP', { timeout: 900000 }, async (t) => {
  const tmp = scope.tmpdir();
  fs.chmodSync(tmp, 0o755); // so PostgreSQL (run as user postgres under root) can live inside it
  const storage = path.join(tmp, 'data');

  // 1. A second up on the same storage is refused, naming the running one; the first keeps its port.
  const a = await startUp(storage, 'up-a');
  const second = await scope.run(['up', '--storage', storage, '--listen', new URL(a.dashboard).host], { name: 'up-second', timeoutMs: 60000 });
  assert.equal(second.code, 1, `the second up must be refused: ${second.stderr.slice(-1500)}`);
  assert.match(second.stderr, new RegExp(`another \`lambdaflow up\` \\(pid ${a.up.pid}\\) is running on ${storage.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  assert.ok(a.up.running, 'the first up still runs');
  assert.equal((await fetch(new URL('/healthz', a.dashboard))).status, 200);
  // And a server never binds a port another process holds.
  const taken = await scope.run(['serve', '--pg', a.pg, '--listen', new URL(a.dashboard).host], { name: 'serve-taken', timeoutMs: 30000 });
  assert.notEqual(taken.code, 0, 'serve on a port in use must fail');
  assert.match(taken.stderr, /cannot listen on 127\.0\.0\.1:\d+/);

  // 2. SIGKILL of up: its children die with it.
  const before = await events(a.pg);
  process.kill(a.up.pid, 'SIGKILL');
  await a.up.exited;
  await assertAllGone(a.kids, 'after SIGKILL of up');
  t.diagnostic(`after SIGKILL: ${a.kids.length} children gone; ${before} events committed before`);

  // 3. It starts again and resumes; then PostgreSQL is killed under it: up stops everything.
  const b = await startUp(storage, 'up-b');
  assert.ok(await events(b.pg) >= before, 'the restarted up sees the earlier results');
  await waitFor(async () => (await events(b.pg)) > before, { timeoutMs: 60000, what: 'new events after the restart' });
  const master = descendants(b.up.pid).find((k) => k.comm === 'postgres' && k.ppid === b.up.pid);
  assert.ok(master, 'PostgreSQL runs as a child of up');
  process.kill(master.pid, 'SIGKILL');
  const rb = await b.up.wait(120000);
  assert.equal(rb.code, 1, 'up exits non-zero when its PostgreSQL dies');
  assert.match(rb.stderr, /PostgreSQL exited/);
  await assertAllGone(b.kids, 'after PostgreSQL was killed');
  const pidFile = path.join(storage, 'postgres/data/postmaster.pid');
  assert.ok(fs.existsSync(pidFile), 'the killed server left its postmaster.pid');

  // 4. A stale postmaster.pid whose process id now belongs to another live process (here: this
  // test runner), as after a power loss: up must still start the cluster.
  const lines = fs.readFileSync(pidFile, 'utf8').split('\n');
  lines[0] = String(process.pid);
  fs.writeFileSync(pidFile, lines.join('\n'));
  const c = await startUp(storage, 'up-c');
  assert.match(c.up.stderr, /removing the stale .*postmaster\.pid/);
  assert.ok(await events(c.pg) >= before, 'the database survived');

  // 5. SIGHUP (a closed terminal) stops it cleanly.
  process.kill(c.up.pid, 'SIGHUP');
  const rc = await c.up.wait(120000);
  assert.equal(rc.code, 0, `up must stop cleanly on SIGHUP: ${rc.stderr.slice(-2000)}`);
  await assertAllGone(c.kids, 'after SIGHUP');
  assert.ok(!fs.existsSync(pidFile), 'PostgreSQL shut down cleanly');
});
