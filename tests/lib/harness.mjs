// End-to-end test harness of Lambdaflow: private PostgreSQL clusters, the lambdaflow binary's
// processes (captured output, log files, process-group kills), raw Kafka production and consumption
// through kcat, and DuckDB as the independent oracle of the speed layer's results.
//
// Typical use in a test file:
//   const scope = new Scope('speed_exact');
//   after(() => scope.cleanup());
//   afterEach((t) => scope.noteResult(t));
//   const pg = await scope.startPostgres();
//   const broker = await scope.startBroker({ partitions: 8 });
//
// Everything a scope starts is stopped by cleanup(), also when a test failed; the logs of a scope
// that saw a failure stay in tests/artifacts/<name>/, those of a passing one are removed.

import assert from 'node:assert/strict';
import { spawn, execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { DuckDBInstance } from '@duckdb/node-api';
import { TEST_BROKER, startKafka } from './kafka.mjs';

export { TEST_BROKER, startKafka };

const execFileP = promisify(execFile);

export const SOURCE_DIR =
  process.env.LF_SOURCE_DIR ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN =
  process.env.LAMBDAFLOW_BIN ?? path.join(SOURCE_DIR, 'build/e2e/src/cli/lambdaflow');
export const ARTIFACTS_DIR = path.join(SOURCE_DIR, 'tests/artifacts');

// ---------------------------------------------------------------------------------------------
// Process groups of every child still running: killed on scope cleanup and, as a last resort,
// when node exits (a crashed test file must not leave brokers or PostgreSQL servers behind).
const liveGroups = new Set();
// PostgreSQL servers daemonize out of our process groups: stopped explicitly at exit.
const livePgDirs = new Set();
process.on('exit', () => {
  for (const pid of liveGroups) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {}
  }
  for (const dir of livePgDirs) {
    try {
      execFileSync(path.join(SOURCE_DIR, 'scripts/pgcluster.sh'), ['stop', dir], { timeout: 30000, stdio: 'ignore' });
      fs.rmSync(dir, { recursive: true, force: true });
    } catch {}
  }
});
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(sig, () => process.exit(128 + os.constants.signals[sig]));
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function randomInt(lo, hi) {
  return lo + Math.floor(Math.random() * (hi - lo + 1));
}

// Thrown from a waitFor callback to stop waiting at once (e.g. the process under test exited).
export class WaitAbort extends Error {}

// Polls `fn` until it returns a truthy value; throws with `what` after `timeoutMs`. Errors thrown
// by `fn` are retried, except WaitAbort.
export async function waitFor(fn, { timeoutMs = 60000, intervalMs = 250, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      if (e instanceof WaitAbort) throw e;
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${last})`);
    }
    await sleep(intervalMs);
  }
}

// A child process in its own process group, its output captured in memory and in a log file.
export class Proc {
  constructor(cmd, args, { env = {}, cwd = SOURCE_DIR, logFile, name } = {}) {
    this.cmd = cmd;
    this.args = args;
    this.name = name ?? path.basename(cmd);
    this.stdout = '';
    this.stderr = '';
    this.stdoutChunks = [];
    this.exitInfo = null;
    this.lineWaiters = [];
    this.log = logFile ? fs.createWriteStream(logFile) : null;
    this.log?.write(`$ ${[cmd, ...args].map(shellQuote).join(' ')}\n`);
    this.startedAt = Date.now();
    this.child = spawn(cmd, args, {
      cwd,
      env: { ...process.env, ...env },
      detached: true, // own process group: kill(-pid) reaches its children too
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.pid = this.child.pid;
    if (this.pid) liveGroups.add(this.pid);
    this.exited = new Promise((resolve) => {
      this.child.on('error', (err) => {
        this.stderr += `spawn error: ${err.message}\n`;
        this.log?.write(`[spawn error] ${err.message}\n`);
        liveGroups.delete(this.pid);
        this.exitInfo = { code: null, signal: null, error: err };
        this.flushWaiters();
        resolve(this.exitInfo);
      });
      this.child.on('close', (code, signal) => {
        liveGroups.delete(this.pid);
        this.exitInfo = { code, signal };
        const secs = ((Date.now() - this.startedAt) / 1000).toFixed(1);
        this.log?.end(`[exit code=${code} signal=${signal} after ${secs}s]\n`);
        this.flushWaiters();
        resolve(this.exitInfo);
      });
    });
    this.child.stdout.on('data', (buf) => {
      this.stdoutChunks.push(buf);
      this.stdout += buf.toString('utf8');
      this.log?.write(prefixLines('out| ', buf));
      this.checkWaiters();
    });
    this.child.stderr.on('data', (buf) => {
      this.stderr += buf.toString('utf8');
      this.log?.write(prefixLines('err| ', buf));
      this.checkWaiters();
    });
  }

  get output() {
    return this.stdout + this.stderr;
  }

  get running() {
    return this.exitInfo === null;
  }

  // Resolves with the match of the first stdout line matching `re`; rejects if the process exits
  // first or after `timeoutMs`.
  waitForLine(re, timeoutMs = 30000) {
    return new Promise((resolve, reject) => {
      const w = { re, resolve, reject };
      w.timer = setTimeout(() => {
        this.lineWaiters = this.lineWaiters.filter((x) => x !== w);
        reject(new Error(`${this.name}: no stdout line matching ${re} within ${timeoutMs} ms\n` +
          `stdout: ${tail(this.stdout)}\nstderr: ${tail(this.stderr)}`));
      }, timeoutMs);
      this.lineWaiters.push(w);
      this.checkWaiters();
    });
  }

  checkWaiters() {
    if (this.lineWaiters.length === 0) return;
    const lines = this.stdout.split('\n');
    for (const w of [...this.lineWaiters]) {
      for (const line of lines) {
        const m = line.match(w.re);
        if (m) {
          clearTimeout(w.timer);
          this.lineWaiters = this.lineWaiters.filter((x) => x !== w);
          w.resolve(m);
          break;
        }
      }
    }
    if (!this.running) this.flushWaiters();
  }

  flushWaiters() {
    for (const w of this.lineWaiters) {
      clearTimeout(w.timer);
      w.reject(new Error(`${this.name} exited (${JSON.stringify(this.exitInfo)}) before printing a line ` +
        `matching ${w.re}\nstdout: ${tail(this.stdout)}\nstderr: ${tail(this.stderr)}`));
    }
    this.lineWaiters = [];
  }

  // Sends `signal` to the whole process group.
  kill(signal = 'SIGTERM') {
    if (!this.running || !this.pid) return false;
    try {
      process.kill(-this.pid, signal);
      return true;
    } catch {
      return false;
    }
  }

  // Waits for the exit; after `timeoutMs` kills the group with SIGKILL and throws.
  async wait(timeoutMs = 120000) {
    let timer;
    const timeout = new Promise((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const r = await Promise.race([this.exited, timeout]);
    clearTimeout(timer);
    if (r === 'timeout') {
      this.kill('SIGKILL');
      await this.exited;
      throw new Error(`${this.name} did not exit within ${timeoutMs} ms\n` +
        `stdout: ${tail(this.stdout)}\nstderr: ${tail(this.stderr)}`);
    }
    return { ...r, stdout: this.stdout, stderr: this.stderr };
  }

  // SIGTERM, then SIGKILL if still running after `graceMs`.
  async stop(graceMs = 10000) {
    if (!this.running) return this.exitInfo;
    this.kill('SIGTERM');
    let timer;
    const r = await Promise.race([
      this.exited,
      new Promise((resolve) => {
        timer = setTimeout(() => resolve('timeout'), graceMs);
      }),
    ]);
    clearTimeout(timer);
    if (r === 'timeout') {
      this.kill('SIGKILL');
      return this.exited;
    }
    return r;
  }

  // The last non-empty stdout line parsed as JSON (the speed layer's summary), or null.
  lastJsonLine() {
    return lastJsonLine(this.stdout);
  }
}

export function lastJsonLine(text) {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  if (lines.length === 0) return null;
  try {
    return JSON.parse(lines[lines.length - 1]);
  } catch {
    return null;
  }
}

function prefixLines(prefix, buf) {
  const s = buf.toString('utf8');
  return s.replace(/^(?=.)/gm, prefix);
}

function tail(s, n = 2000) {
  return s.length > n ? '…' + s.slice(-n) : s;
}

export function shellQuote(s) {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${String(s).replace(/'/g, `'\\''`)}'`;
}

// ---------------------------------------------------------------------------------------------
// A test file's resources: temp dirs, processes, PostgreSQL clusters, and its artifacts dir.
export class Scope {
  constructor(name) {
    // The same file runs against both brokers, possibly at once: separate artifacts and temp dirs.
    this.name = TEST_BROKER === 'kafka' && !name.startsWith('kafka_') ? `${name}-kafka` : name;
    this.artifacts = path.join(ARTIFACTS_DIR, this.name);
    fs.rmSync(this.artifacts, { recursive: true, force: true });
    fs.mkdirSync(this.artifacts, { recursive: true });
    this.procs = [];
    this.cleanups = []; // run in reverse order
    this.failed = false;
    this.counter = 0;
  }

  // For afterEach: remembers whether any test of this scope failed.
  noteResult(t) {
    if (t && t.passed === false) this.failed = true;
  }

  defer(fn) {
    this.cleanups.push(fn);
  }

  tmpdir(prefix = 'lf-') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}${this.name}-`));
    this.defer(() => fs.rmSync(dir, { recursive: true, force: true }));
    return dir;
  }

  logPath(name) {
    this.counter += 1;
    const safe = name.replace(/[^\w.-]+/g, '_');
    return path.join(this.artifacts, `${String(this.counter).padStart(2, '0')}-${safe}.log`);
  }

  // Starts `lambdaflow args…` (or `opts.cmd args…`).
  start(args, { env = {}, name, cmd = BIN } = {}) {
    const sub = args.find((a) => /^(broker|provision|simulate|speed|batch|serve|up)$/.test(a));
    const label = name ?? (cmd === BIN ? sub ?? 'lambdaflow' : path.basename(cmd));
    const p = new Proc(cmd, args, { env, logFile: this.logPath(label), name: label });
    this.procs.push(p);
    return p;
  }

  // Runs to completion: { code, signal, stdout, stderr }. Kills the group after `timeoutMs`.
  async run(args, { timeoutMs = 120000, env = {}, name, cmd = BIN } = {}) {
    const p = this.start(args, { env, name, cmd });
    return p.wait(timeoutMs);
  }

  // A private PostgreSQL 15 cluster: { uri, port, dir, stop() }.
  async startPostgres() {
    // Not under a root-only 0700 parent: pgcluster.sh hands this very directory to user postgres.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `lf-pg-${this.name}-`));
    const script = path.join(SOURCE_DIR, 'scripts/pgcluster.sh');
    let stopped = false;
    livePgDirs.add(dir);
    const stop = async () => {
      if (stopped) return;
      stopped = true;
      try {
        await execFileP(script, ['stop', dir], { timeout: 60000 });
      } catch {}
      try {
        if (this.failed && fs.existsSync(path.join(dir, 'server.log'))) {
          fs.copyFileSync(path.join(dir, 'server.log'), path.join(this.artifacts, 'postgres-server.log'));
        }
      } catch {}
      fs.rmSync(dir, { recursive: true, force: true });
      livePgDirs.delete(dir);
    };
    this.defer(stop);
    const { stdout } = await execFileP(script, ['start', dir], { timeout: 120000 });
    const uri = stdout.trim().split('\n').pop();
    const port = Number(new URL(uri).port);
    // An outage: `halt(mode)` shuts the server down ('fast', or 'immediate' like a crash) and
    // `resume()` starts it again on the same port and data.
    const halt = (mode = 'fast') => execFileP(script, ['stop', dir, mode], { timeout: 60000 });
    const resume = async () => {
      const out = (await execFileP(script, ['start', dir], { timeout: 120000 })).stdout.trim().split('\n').pop();
      assert.equal(out, uri, 'PostgreSQL must come back on its port');
    };
    return { uri, port, dir, stop, halt, resume, withDatabase: (db) => uriWithDatabase(uri, db) };
  }

  // The broker of the Kafka-facing tests, as LF_TEST_BROKER says: `lambdaflow broker --listen
  // 127.0.0.1:0` (embedded, the default) or a real Apache Kafka (scripts/kafka.sh, `kafka` set to
  // its KafkaCluster). Either way { kind, brokers: 'host:port', topic, partitions, stop() }.
  async startBroker({ topic = 'devices', partitions = 8, extraArgs = [] } = {}) {
    if (TEST_BROKER === 'kafka') return this.startKafka({ topics: [topic], partitions });
    const proc = this.start(
      ['broker', '--listen', '127.0.0.1:0', '--topic', topic, '--partitions', String(partitions), ...extraArgs],
      { name: 'broker' },
    );
    const m = await proc.waitForLine(/broker: listening on (\S+)/, 60000);
    return { kind: 'embedded', brokers: m[1], topic, partitions, proc, stop: () => proc.stop() };
  }

  // A real Apache Kafka of 1 or 3 nodes with `topics` created: { kind, brokers, topic, partitions,
  // kafka: KafkaCluster, stop() }; removed on cleanup.
  async startKafka({ topics = ['devices'], partitions = 8, nodes = 1, settings = [] } = {}) {
    const kafka = await startKafka({ topics, partitions, nodes, settings, name: this.name });
    this.defer(async () => {
      if (this.failed) {
        for (let n = 1; n <= nodes; n++) {
          try {
            fs.copyFileSync(path.join(kafka.dir, `node${n}`, 'server.log'), this.logPath(`kafka-node${n}`));
          } catch {}
        }
      }
      await kafka.destroy();
    });
    return { kind: 'kafka', brokers: kafka.brokers, topic: topics[0], partitions, kafka, stop: () => kafka.stop() };
  }

  async cleanup() {
    for (const p of this.procs) {
      if (p.running) p.kill('SIGKILL');
    }
    await Promise.all(this.procs.map((p) => p.exited));
    for (const fn of this.cleanups.reverse()) {
      try {
        await fn();
      } catch (e) {
        console.error(`cleanup of ${this.name}: ${e.message}`);
      }
    }
    this.cleanups = [];
    if (!this.failed) fs.rmSync(this.artifacts, { recursive: true, force: true });
  }
}

export function uriWithDatabase(uri, db) {
  const u = new URL(uri);
  u.pathname = `/${db}`;
  return u.toString();
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL
export async function withPg(uri, fn) {
  const client = new pg.Client({ connectionString: uri });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

// Rows of one query (bigint columns come back as strings, bytea as Buffer).
export async function query(uri, sql, params = []) {
  return withPg(uri, async (c) => (await c.query(sql, params)).rows);
}

// Creates a login role with a password (scram; needed from 127.0.0.1) and, if `database` is
// given, a database it owns, so it may create tables in its public schema.
export async function createRoleWithPassword(uri, role, password, { database } = {}) {
  await withPg(uri, async (c) => {
    await c.query(`CREATE ROLE ${c.escapeIdentifier(role)} LOGIN PASSWORD ${c.escapeLiteral(password)}`);
    if (database) await c.query(`CREATE DATABASE ${c.escapeIdentifier(database)} OWNER ${c.escapeIdentifier(role)}`);
  });
}

export function pgBinDir() {
  const base = '/usr/lib/postgresql';
  const versions = fs.readdirSync(base).filter((v) => fs.existsSync(path.join(base, v, 'bin/pg_dump')));
  versions.sort((a, b) => Number(a) - Number(b));
  return path.join(base, versions[versions.length - 1], 'bin');
}

// `bytes`-like table as [{ ts: BigInt epoch seconds, type, id, value: BigInt }].
export async function readWindowTable(uri, table = 'bytes') {
  const rows = await query(
    uri,
    `SELECT extract(epoch FROM "timestamp")::bigint::text AS ts, type, id, value::text AS value FROM ${table}`,
  );
  return rows.map((r) => ({ ts: BigInt(r.ts), type: r.type, id: r.id, value: r.value === null ? null : BigInt(r.value) }));
}

// Events the speed layer's PostgreSQL sink has applied, over all partitions (lf_offsets).
export async function appliedEvents(uri) {
  const rows = await query(uri, `SELECT coalesce(sum(events), 0)::text AS n FROM lf_offsets WHERE sink = 'pg:bytes'`);
  return Number(rows[0].n);
}

export async function readDeadLetters(uri) {
  return query(
    uri,
    `SELECT topic, partition, "offset"::text AS "offset", payload, error, received_at FROM dead_letters`,
  );
}

// ---------------------------------------------------------------------------------------------
// Kafka through kcat (a real client, independent of our code).

// Produces each payload (Buffer or string; an empty Buffer is an empty message, null a message with
// a NULL value) as one message to `partition`, in order. Each message goes through its own file so
// that binary and newline-carrying payloads stay intact (kcat skips empty files, so empty and NULL
// values go through kcat's key delimiter instead).
export async function produceRaw(brokers, topic, partition, payloads, { tmp } = {}) {
  const dir = fs.mkdtempSync(path.join(tmp ?? os.tmpdir(), 'lf-kcat-'));
  // Idempotent producer with one in-flight request: the order of the files is the offset order.
  const common = ['-P', '-b', brokers, '-t', topic, '-p', String(partition),
    '-X', 'enable.idempotence=true', '-X', 'max.in.flight.requests.per.connection=1'];
  try {
    let files = [];
    const flush = async () => {
      if (files.length) await execFileP('kcat', [...common, ...files], { timeout: 60000 });
      files = [];
    };
    for (const [i, p] of payloads.entries()) {
      const buf = p === null ? null : typeof p === 'string' ? Buffer.from(p, 'utf8') : p;
      if (buf === null || buf.length === 0) {
        await flush();
        const f = path.join(dir, `k${i}`);
        fs.writeFileSync(f, 'k:\n'); // key "k", empty value (NULL with -Z)
        await execFileP('kcat', [...common, '-K', ':', ...(buf === null ? ['-Z'] : []), '-l', f], { timeout: 60000 });
        continue;
      }
      const f = path.join(dir, `m${String(i).padStart(6, '0')}`);
      fs.writeFileSync(f, buf);
      files.push(f);
    }
    await flush();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// Every message of `topic` from the beginning: [{ partition, offset, payload: Buffer|null }].
export async function consumeAll(brokers, topic, { timeoutMs = 120000 } = {}) {
  const chunks = [];
  const child = spawn('kcat', ['-C', '-b', brokers, '-t', topic, '-o', 'beginning', '-e', '-q',
    '-f', '%p %o %S\n%s\n'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stdout.on('data', (b) => chunks.push(b));
  child.stderr.on('data', (b) => (stderr += b));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise((r) => child.on('close', r));
  clearTimeout(timer);
  if (code !== 0) throw new Error(`kcat -C exited ${code}: ${stderr}`);
  const buf = Buffer.concat(chunks);
  const out = [];
  let pos = 0;
  while (pos < buf.length) {
    const nl = buf.indexOf(0x0a, pos);
    const [p, o, s] = buf.subarray(pos, nl).toString('ascii').split(' ');
    const len = Number(s);
    pos = nl + 1;
    const payload = len < 0 ? null : Buffer.from(buf.subarray(pos, pos + len));
    pos += Math.max(len, 0) + 1; // the payload and its trailing newline
    out.push({ partition: Number(p), offset: BigInt(o), payload });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// DuckDB oracle

export async function withDuckDB(fn) {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    return await fn(conn);
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

function readJsonSql(ndjsonPaths) {
  const list = ndjsonPaths.map((p) => `'${p.replace(/'/g, "''")}'`).join(', ');
  return `read_json([${list}], format = 'newline_delimited',
    columns = {bytes: 'BIGINT', timestamp: 'BIGINT', app: 'VARCHAR', id: 'VARCHAR', antenna_id: 'VARCHAR'})`;
}

// The speed layer's expected `bytes` table computed by DuckDB from the events' NDJSON:
// Map "windowStartEpoch|type|id" → BigInt total. Window start = floor(timestamp / 300) * 300.
export async function oracleWindows(ndjsonPaths) {
  return withDuckDB(async (conn) => {
    const sql = `
      WITH ev AS (
        SELECT bytes, app, id, antenna_id,
               timestamp - (((timestamp % 300) + 300) % 300) AS ws
        FROM ${readJsonSql(ndjsonPaths)})
      SELECT ws, 'antenna_bytes_total' AS type, antenna_id AS key, sum(bytes)::VARCHAR AS v FROM ev GROUP BY ALL
      UNION ALL
      SELECT ws, 'user_bytes_total', id, sum(bytes)::VARCHAR FROM ev GROUP BY ALL
      UNION ALL
      SELECT ws, 'app_bytes_total', app, sum(bytes)::VARCHAR FROM ev GROUP BY ALL`;
    const reader = await conn.runAndReadAll(sql);
    const map = new Map();
    for (const [ws, type, key, v] of reader.getRows()) map.set(`${ws}|${type}|${key}`, BigInt(v));
    return map;
  });
}

// { events, minTs, maxTs } of the NDJSON files, computed by DuckDB.
export async function oracleStats(ndjsonPaths) {
  return withDuckDB(async (conn) => {
    const reader = await conn.runAndReadAll(
      `SELECT count(*)::VARCHAR, min(timestamp)::VARCHAR, max(timestamp)::VARCHAR FROM ${readJsonSql(ndjsonPaths)}`);
    const [n, lo, hi] = reader.getRows()[0];
    return { events: Number(n), minTs: Number(lo), maxTs: Number(hi) };
  });
}

// Compares the expected Map with actual rows [{ts, type, id, value}]: missing, extra (including
// duplicate keys) and different rows.
export function compareTables(expected, actualRows) {
  const actual = new Map();
  const extra = [];
  for (const r of actualRows) {
    const key = `${r.ts}|${r.type}|${r.id}`;
    if (actual.has(key)) extra.push({ key, value: r.value, why: 'duplicate key' });
    actual.set(key, r.value);
  }
  const missing = [];
  const different = [];
  for (const [key, v] of expected) {
    if (!actual.has(key)) missing.push({ key, expected: v });
    else if (actual.get(key) !== v) different.push({ key, expected: v, actual: actual.get(key) });
  }
  for (const [key, v] of actual) if (!expected.has(key)) extra.push({ key, value: v });
  const ok = missing.length === 0 && extra.length === 0 && different.length === 0;
  const show = (xs) => xs.slice(0, 8).map((x) => JSON.stringify(x, (_, v) => (typeof v === 'bigint' ? v.toString() : v))).join('\n    ');
  const report = ok
    ? `all ${expected.size} rows equal`
    : `expected ${expected.size} rows, got ${actualRows.length}; ` +
      `${missing.length} missing, ${extra.length} extra, ${different.length} different\n` +
      (missing.length ? `  missing:\n    ${show(missing)}\n` : '') +
      (extra.length ? `  extra:\n    ${show(extra)}\n` : '') +
      (different.length ? `  different:\n    ${show(different)}\n` : '');
  return { ok, missing, extra, different, report };
}

// Throws with the first few missing/extra/different rows unless the table equals the oracle.
export function assertTableEquals(expected, actualRows, label = 'bytes') {
  const c = compareTables(expected, actualRows);
  if (!c.ok) throw new Error(`${label} differs from the DuckDB oracle: ${c.report}`);
  return c;
}

// Dead letters must be exactly `expected` = [{ partition, offset: BigInt, payload: Buffer|null }]:
// each once, with its raw bytes, topic and a non-empty reason.
export function compareDeadLetters(expected, actualRows, topic) {
  const problems = [];
  const key = (p, o) => `${p}@${o}`;
  const want = new Map(expected.map((m) => [key(m.partition, m.offset), m]));
  const seen = new Map();
  for (const r of actualRows) {
    const k = key(r.partition, BigInt(r.offset));
    if (seen.has(k)) problems.push(`duplicate dead letter ${k}`);
    seen.set(k, r);
    const m = want.get(k);
    if (!m) {
      problems.push(`unexpected dead letter ${k}: ${preview(r.payload)} (${r.error})`);
      continue;
    }
    const a = r.payload ?? Buffer.alloc(0);
    const b = m.payload ?? Buffer.alloc(0);
    if (!a.equals(b)) problems.push(`dead letter ${k}: payload ${preview(a)} != produced ${preview(b)}`);
    if (r.topic !== topic) problems.push(`dead letter ${k}: topic ${r.topic} != ${topic}`);
    if (!r.error || String(r.error).trim() === '') problems.push(`dead letter ${k}: empty error`);
  }
  for (const [k, m] of want) if (!seen.has(k)) problems.push(`missing dead letter ${k}: ${preview(m.payload)}`);
  return problems;
}

export function preview(buf) {
  if (buf === null || buf === undefined) return 'NULL';
  const s = JSON.stringify(buf.toString('latin1'));
  return (s.length > 80 ? s.slice(0, 80) + '…' : s) + ` (hex ${buf.toString('hex').slice(0, 40)})`;
}

// Reads NDJSON lines (the simulator's --out) as strings.
export function readLines(file) {
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0);
}

// ---- the Parquet lake -------------------------------------------------------------------------

const sqlFileList = (files) => files.map((f) => `'${f.replace(/'/g, "''")}'`).join(', ');


// Per (hour start, antenna, app): [count, sum(bytes)] from the NDJSON files, by DuckDB.
async function oracleHours(conn, ndjson) {
  const r = await conn.runAndReadAll(`
    SELECT (timestamp - (((timestamp % 3600) + 3600) % 3600))::VARCHAR AS h, antenna_id, app,
           count(*)::VARCHAR, sum(bytes)::VARCHAR
    FROM read_json([${sqlFileList(ndjson)}], format = 'newline_delimited',
      columns = {bytes: 'BIGINT', timestamp: 'BIGINT', app: 'VARCHAR', id: 'VARCHAR', antenna_id: 'VARCHAR'})
    GROUP BY ALL`);
  return new Map(r.getRows().map(([h, a, app, n, s]) => [`${h}|${a}|${app}`, `${n}/${s}`]));
}

// The same from the lake, plus checks that the hive columns agree with the timestamps.
async function lakeHours(conn, storage, dataset) {
  const glob = `'${path.join(storage, dataset, '**/*.parquet')}'`;
  const types = await conn.runAndReadAll(
    `SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(${glob}, hive_partitioning = true))`);
  const cols = Object.fromEntries(types.getRows());
  assert.match(cols.timestamp, /^TIMESTAMP/, `timestamp must be typed as a timestamp, got ${cols.timestamp}`);
  assert.equal(cols.bytes, 'BIGINT');
  for (const c of ['app', 'id', 'antenna_id']) assert.equal(cols[c], 'VARCHAR', c);
  for (const c of ['year', 'month', 'day', 'hour']) assert.ok(c in cols, `hive column ${c} missing`);
  const mismatch = await conn.runAndReadAll(`
    SELECT count(*)::VARCHAR FROM read_parquet(${glob}, hive_partitioning = true)
    WHERE year <> extract(year FROM timestamp AT TIME ZONE 'UTC') OR month <> extract(month FROM timestamp AT TIME ZONE 'UTC')
       OR day <> extract(day FROM timestamp AT TIME ZONE 'UTC') OR hour <> extract(hour FROM timestamp AT TIME ZONE 'UTC')`);
  assert.equal(mismatch.getRows()[0][0], '0', 'every row sits in the partition directory of its event-time hour');
  const r = await conn.runAndReadAll(`
    SELECT (epoch(timestamp)::BIGINT - (((epoch(timestamp)::BIGINT % 3600) + 3600) % 3600))::VARCHAR, antenna_id, app,
           count(*)::VARCHAR, sum(bytes)::VARCHAR
    FROM read_parquet(${glob}, hive_partitioning = true) GROUP BY ALL`);
  return new Map(r.getRows().map(([h, a, app, n, s]) => [`${h}|${a}|${app}`, `${n}/${s}`]));
}

function assertSameMaps(expected, actual, label) {
  const problems = [];
  for (const [k, v] of expected) if (actual.get(k) !== v) problems.push(`${k}: expected ${v}, got ${actual.get(k)}`);
  for (const [k, v] of actual) if (!expected.has(k)) problems.push(`${k}: unexpected ${v}`);
  assert.equal(problems.length, 0, `${label}: ${problems.length} differences, e.g.\n${problems.slice(0, 10).join('\n')}`);
}


// Asserts that the lake under `storage` holds exactly the events of `ndjsonPaths` (per hour,
// antenna and app: count and sum, by DuckDB on both sides), with hive columns matching the event
// time and a real timestamp type.
export async function assertLakeExact(storage, ndjsonPaths, label = 'lake vs NDJSON', { dataset = 'devices' } = {}) {
  await withDuckDB(async (conn) => {
    assertSameMaps(await oracleHours(conn, ndjsonPaths), await lakeHours(conn, storage, dataset), label);
  });
}
