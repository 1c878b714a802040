// Lambdaflow against the seeds' Spark jobs on one real Kafka topic, in one run (bench/spark/run.sh
// fetches what it needs and starts this):
//   node bench/spark/bench.mjs [--events N] [--partitions N] [--interval DUR] [--live S]
//                              [--probes N] [--only lambdaflow,lambdaflow-200ms,spark-seed,spark-careful]
//                              [--no-batch] [--bin PATH] [--json FILE] [--keep]
// 1. Apache Kafka (scripts/kafka.sh, one node) with topic `devices` (--partitions, default 8); a
//    private PostgreSQL (scripts/pgcluster.sh) with a password role `bench` (its password only in
//    the environment) and one database per side: `lf` and `lf2` (`lambdaflow provision`), `seed`
//    (the seeds' DDL: no keys) and `careful` (the same with unique keys); the 20 users of
//    user_metadata in each.
// 2. `lambdaflow simulate` writes N events (default 1 000 000; 20 devices, 5 antennas, from
//    2026-11-22T00:00:00Z, --interval 100ms per device) to the topic and to NDJSON.
// 3. Speed layer, one side at a time, each a fresh consumer of the whole topic:
//    `lambdaflow speed` (its default 2 s flush interval, and again with 200 ms), seed_speed.py (the
//    seeds' job) and careful_speed.py. Measured: start-up (spawn until subscribed: `assigned` in
//    the log / the queries started), drain (from then until PostgreSQL's `bytes` holds the totals
//    of all N events: per antenna window, the largest of its rows, summed, equals DuckDB's total),
//    CPU-s of the process tree (from /proc, every 100 ms) and of the Kafka broker, peak RSS of the
//    tree (short runs: /usr/bin/time's figures where larger). Then a live phase: `simulate --rate
//    20` (the seeds' 20 devices at one event per second each) for --live seconds (default 20) with
//    --probes (default 10) probe events, each with an app name of its own, sent on schedule; the
//    latency of a probe is from handing it to the producer to its
//    `app_bytes_total` row being visible in PostgreSQL (polled every 20 ms). Then, once PostgreSQL
//    holds everything produced, SIGTERM; `bytes` is compared with DuckDB's windows over every NDJSON
//    line produced so far: rows, duplicate rows (a key more than once), keys exact, keys whose
//    largest row is right, missing and wrong keys. The archive (Lambdaflow's lake, Spark's Parquet)
//    is counted with DuckDB.
// 4. Batch layer on hour 2026-11-22T00 of Lambdaflow's lake (the same files for every side), each
//    run twice: `lambdaflow batch`, seed_batch.py, careful_batch.py; wall, CPU, peak RSS, and
//    bytes_hourly / user_quota_limit for the hour against DuckDB over the NDJSON after each run.
// 5. Prints the tables (Markdown) and the ratios; --json writes every figure.
import { spawn, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const argv = process.argv.slice(2);
const args = {};
for (let i = 0; i < argv.length; i++) {
  if (!argv[i].startsWith('--')) continue;
  const next = argv[i + 1];
  if (next === undefined || next.startsWith('--')) args[argv[i].slice(2)] = true;
  else args[argv[i].slice(2)] = argv[++i];
}
const EVENTS = Number(args.events ?? 1000000);
const PARTITIONS = Number(args.partitions ?? 8);
const INTERVAL = args.interval ?? '100ms';
const LIVE_S = Number(args.live ?? 20);
const PROBES = Number(args.probes ?? 10);
const SIDES = String(args.only ?? 'lambdaflow,lambdaflow-200ms,spark-seed,spark-careful').split(',');
const START = '2026-11-22T00:00:00Z';
const HOUR = START;
const HOUR_S = Date.parse(HOUR) / 1000;
const TOPIC = 'devices';

const sourceDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const here = path.join(sourceDir, 'bench/spark');
const require = createRequire(path.join(sourceDir, 'tests/package.json'));
const { DuckDBInstance } = await import(require.resolve('@duckdb/node-api'));
const pg = require('pg');

const log = (...m) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...m);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.now() / 1000;
const fmt = (x, d = 0) => (x === null || x === undefined || Number.isNaN(x) ? '–'
  : Number(x).toFixed(d).replace(/\B(?=(\d{3})+(?!\d))/g, ' '));

const builtBin = path.resolve(args.bin ?? process.env.LAMBDAFLOW_BIN ?? path.join(sourceDir, 'build/release/src/cli/lambdaflow'));
const python = process.env.LF_PYTHON ?? execFileSync(path.join(sourceDir, 'scripts/pyenv.sh'), { encoding: 'utf8' }).trim().split('\n').pop();
const jars = process.env.SPARK_BENCH_JARS ?? execFileSync(path.join(here, 'jars.sh'), { encoding: 'utf8' }).trim().split('\n').pop();
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'lf-spark-bench-'));
fs.chmodSync(work, 0o755); // pgcluster.sh runs the server as user postgres when we are root
// A private copy of the binary: a build tree shared with others may be relinked mid-run.
const bin = path.join(work, 'lambdaflow');
fs.copyFileSync(builtBin, bin);
fs.chmodSync(bin, 0o755);

const PASSWORD = crypto.randomBytes(18).toString('base64url');
const kafkaSh = path.join(sourceDir, 'scripts/kafka.sh');
const kafkaDir = path.join(work, 'kafka');
const pgDir = path.join(work, 'pg');
const lfLake = path.join(work, 'lf-lake');
const childEnv = {
  ...process.env, TZ: 'UTC', PGPASSWORD: PASSWORD, JDBC_PASSWORD: PASSWORD, SPARK_BENCH_JARS: jars,
  SPARK_LOCAL_IP: '127.0.0.1', PYSPARK_PYTHON: python, SPARK_BENCH_LOCAL_DIR: path.join(work, 'spark-tmp'),
};
let pgPort = null;
let brokers = null;
const live = new Set();

// ---- processes and their resources ----------------------------------------------------------

// CPU (user + system) and RSS of a process and its descendants, from /proc every 100 ms. A
// process's CPU is kept after it exits (its last reading).
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));
function procTable() {
  const t = new Map();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const s = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      t.set(Number(name), { ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12])) / CLK_TCK, rss: Number(f[21]) * 4096 });
    } catch {}
  }
  return t;
}
class TreeMonitor {
  // rootPid: /usr/bin/time, itself left out of the sums.
  constructor(rootPid) {
    this.root = rootPid;
    this.cpuByPid = new Map();
    this.peakRss = 0;
    this.samples = [];
    this.sample();
    this.timer = setInterval(() => this.sample(), 100);
  }

  sample() {
    const t = procTable();
    const kids = new Map();
    for (const [pid, p] of t) {
      if (!kids.has(p.ppid)) kids.set(p.ppid, []);
      kids.get(p.ppid).push(pid);
    }
    let rss = 0;
    const todo = t.has(this.root) ? [this.root] : [];
    while (todo.length) {
      const pid = todo.pop();
      const p = t.get(pid);
      if (pid !== this.root) {
        rss += p.rss;
        this.cpuByPid.set(pid, Math.max(this.cpuByPid.get(pid) ?? 0, p.cpu));
      }
      todo.push(...(kids.get(pid) ?? []));
    }
    this.peakRss = Math.max(this.peakRss, rss);
    this.samples.push([now(), this.cpu()]);
  }

  cpu() {
    let s = 0;
    for (const v of this.cpuByPid.values()) s += v;
    return s;
  }

  // CPU seconds used up to time t (the last sample at or before it).
  cpuAt(t) {
    let c = 0;
    for (const [ts, v] of this.samples) if (ts <= t) c = v;
    return c;
  }

  stop() {
    if (this.timer) {
      this.sample();
      clearInterval(this.timer);
      this.timer = null;
    }
    return { cpu: this.cpu(), peakRssMB: this.peakRss / 1e6 };
  }
}

// A child in its own process group under /usr/bin/time (whose figures cover what it waited for:
// short runs that the 100 ms sampling would miss); its output in memory and in WORK/logs/NAME.log.
function start(name, cmd, cmdArgs, { cwd = work } = {}) {
  fs.mkdirSync(path.join(work, 'logs'), { recursive: true });
  const logFile = fs.createWriteStream(path.join(work, 'logs', `${name}.log`));
  const timeFile = path.join(work, 'logs', `${name}.time`);
  const child = spawn('/usr/bin/time', ['-o', timeFile, '-f', '%U %S %M', cmd, ...cmdArgs],
    { cwd, env: childEnv, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
  const p = { name, child, pid: child.pid, stdout: '', stderr: '', lines: [], exit: null };
  live.add(p);
  p.exited = new Promise((resolve) => child.on('close', (code, signal) => {
    p.exit = { code, signal };
    live.delete(p);
    logFile.end();
    p.monitor.sample();
    try {
      const [u, sys, kb] = fs.readFileSync(timeFile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
      p.timed = { cpu: u + sys, peakRssMB: (kb * 1024) / 1e6 };
    } catch {}
    resolve(p.exit);
  }));
  child.on('error', (e) => { p.stderr += `spawn error: ${e.message}\n`; });
  readline.createInterface({ input: child.stdout }).on('line', (l) => {
    p.stdout += `${l}\n`;
    logFile.write(`out| ${l}\n`);
    if (l.startsWith('{')) {
      try {
        p.lines.push({ ...JSON.parse(l), seen: now() });
      } catch {}
    }
  });
  child.stderr.on('data', (b) => { p.stderr += b; logFile.write(b); });
  p.monitor = new TreeMonitor(child.pid);
  p.spawned = now();
  return p;
}

async function waitFor(fn, { timeoutS = 600, intervalMs = 100, what = 'condition', proc = null } = {}) {
  const deadline = now() + timeoutS;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (proc && proc.exit) throw new Error(`${proc.name} exited (${JSON.stringify(proc.exit)}) while waiting for ${what}:\n${proc.stderr.slice(-3000)}`);
    if (now() > deadline) return null;
    await sleep(intervalMs);
  }
}

// The figures of a finished process: its tree's, or /usr/bin/time's where that saw more.
function usage(p) {
  const m = p.monitor.stop();
  return { cpu: Math.max(m.cpu, p.timed?.cpu ?? 0), peakRssMB: Math.max(m.peakRssMB, p.timed?.peakRssMB ?? 0) };
}

// Signals the process under /usr/bin/time and waits for its whole tree.
async function finish(p, { signal = 'SIGTERM', timeoutS = 180 } = {}) {
  if (!p.exit) {
    const target = [...procTable()].find(([, x]) => x.ppid === p.pid)?.[0] ?? p.pid;
    try { process.kill(target, signal); } catch {}
    const r = await Promise.race([p.exited, sleep(timeoutS * 1000).then(() => null)]);
    if (!r) {
      log(`${p.name} did not stop within ${timeoutS} s; killing it`);
      try { process.kill(-p.pid, 'SIGKILL'); } catch {}
      await p.exited;
    }
  }
  // The JVM of a PySpark driver may outlive it by a moment.
  await waitFor(() => !procTable().has(p.pid) && ![...procTable().values()].some((x) => x.ppid === p.pid), { timeoutS: 30 });
  return usage(p);
}

async function run(name, cmd, cmdArgs, opts) {
  const p = start(name, cmd, cmdArgs, opts);
  const exit = await p.exited;
  const res = usage(p);
  if (exit.code !== 0) throw new Error(`${name} exited ${JSON.stringify(exit)}:\n${p.stderr.slice(-3000)}`);
  return { ...res, wall: now() - p.spawned, stdout: p.stdout, stderr: p.stderr };
}

function kafkaPid() {
  return Number(fs.readFileSync(path.join(kafkaDir, 'node1/pid'), 'utf8'));
}
function cpuOf(pid) {
  return procTable().get(pid)?.cpu ?? NaN;
}

// ---- PostgreSQL ----------------------------------------------------------------------------------
const uri = (db) => `postgresql://bench@127.0.0.1:${pgPort}/${db}`;
const jdbc = (db) => `jdbc:postgresql://127.0.0.1:${pgPort}/${db}`;
async function withPg(db, fn) {
  const c = new pg.Client({ host: '127.0.0.1', port: pgPort, user: 'bench', password: PASSWORD, database: db });
  await c.connect();
  try { return await fn(c); } finally { await c.end(); }
}
const SEED_DDL = [
  'CREATE TABLE bytes(timestamp TIMESTAMP, id TEXT, value BIGINT, type TEXT)',
  'CREATE TABLE bytes_hourly(timestamp TIMESTAMP, id TEXT, value BIGINT, type TEXT)',
  'CREATE TABLE user_quota_limit(email TEXT, usage BIGINT, quota BIGINT, timestamp TIMESTAMP)',
  'CREATE TABLE user_metadata(id TEXT, name TEXT, email TEXT, quota BIGINT)',
];
const CAREFUL_KEYS = [
  'ALTER TABLE bytes ADD UNIQUE (timestamp, id, type)',
  'ALTER TABLE bytes_hourly ADD UNIQUE (timestamp, id, type)',
  'ALTER TABLE user_quota_limit ADD UNIQUE (timestamp, email)',
];

// ---- DuckDB oracle -------------------------------------------------------------------------------
async function duck(fn) {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try { return await fn(conn); } finally { conn.closeSync(); db.closeSync(); }
}
const ndjson = (files) => `read_json([${files.map((f) => `'${f}'`).join(', ')}], format = 'newline_delimited',
  columns = {bytes: 'BIGINT', timestamp: 'BIGINT', app: 'VARCHAR', id: 'VARCHAR', antenna_id: 'VARCHAR'})`;
// "windowStart|type|id" → BigInt, and the events' count and total bytes.
async function oracleWindows(files) {
  return duck(async (conn) => {
    const r = await conn.runAndReadAll(`WITH ev AS (SELECT bytes, app, id, antenna_id,
        timestamp - (((timestamp % 300) + 300) % 300) AS ws FROM ${ndjson(files)})
      SELECT ws, 'antenna_bytes_total', antenna_id, sum(bytes)::VARCHAR FROM ev GROUP BY ALL
      UNION ALL SELECT ws, 'user_bytes_total', id, sum(bytes)::VARCHAR FROM ev GROUP BY ALL
      UNION ALL SELECT ws, 'app_bytes_total', app, sum(bytes)::VARCHAR FROM ev GROUP BY ALL`);
    const map = new Map(r.getRows().map(([ws, type, id, v]) => [`${ws}|${type}|${id}`, BigInt(v)]));
    const [n, total, maxTs] = (await conn.runAndReadAll(
      `SELECT count(*)::VARCHAR, sum(bytes)::VARCHAR, max(timestamp)::VARCHAR FROM ${ndjson(files)}`)).getRows()[0];
    return { map, events: Number(n), total: BigInt(total), maxTs: Number(maxTs) };
  });
}

// Rows [{key, value: BigInt}] of a table against the oracle's Map.
function judge(expected, rows) {
  const byKey = new Map();
  for (const r of rows) {
    if (!byKey.has(r.key)) byKey.set(r.key, []);
    byKey.get(r.key).push(r.value);
  }
  let exact = 0, finalOk = 0, wrong = 0, missing = 0;
  for (const [k, v] of expected) {
    const got = byKey.get(k);
    if (!got) { missing += 1; continue; }
    const max = got.reduce((a, b) => (b > a ? b : a));
    if (max === v) finalOk += 1; else wrong += 1;
    if (got.length === 1 && got[0] === v) exact += 1;
  }
  const extraKeys = [...byKey.keys()].filter((k) => !expected.has(k)).length;
  return { rows: rows.length, keys: byKey.size, duplicates: rows.length - byKey.size, expected: expected.size,
    exact, finalOk, wrong, missing, extraKeys, ok: exact === expected.size && rows.length === expected.size };
}

async function readBytes(db) {
  return withPg(db, async (c) => (await c.query(`SELECT extract(epoch FROM timestamp)::bigint::text AS ts, type, id,
    value::text AS v FROM bytes`)).rows.map((r) => ({ key: `${r.ts}|${r.type}|${r.id}`, value: BigInt(r.v) })));
}

// ---- the speed layer -----------------------------------------------------------------------------
const produced = { files: [], total: 0n, events: 0 }; // every NDJSON line in the topic
let nextEventTime = 0; // seconds: event time of the next live phase
let probeProducer = null;
const results = { config: { events: EVENTS, partitions: PARTITIONS, interval: INTERVAL, live_s: LIVE_S, probes: PROBES }, speed: {}, batch: {}, archive: {} };

const SPEED = {
  lambdaflow: { db: 'lf', cmd: () => [bin, ['speed', '--brokers', brokers, '--topic', TOPIC, '--pg', uri('lf'), '--storage', lfLake,
    '--group', 'bench-lambdaflow']], ready: (p) => /assigned \d+ partition/.test(p.stderr) },
  // The same with results committed every 200 ms instead of every 2 s (the default).
  'lambdaflow-200ms': { db: 'lf2', cmd: () => [bin, ['speed', '--brokers', brokers, '--topic', TOPIC, '--pg', uri('lf2'),
    '--storage', path.join(work, 'lf-lake-200ms'), '--group', 'bench-lambdaflow-200ms', '--flush-interval', '200ms']],
  ready: (p) => /assigned \d+ partition/.test(p.stderr) },
  'spark-seed': { db: 'seed', cmd: () => [python, [path.join(here, 'seed_speed.py'), brokers, TOPIC, jdbc('seed'), 'bytes', 'bench', '-',
    path.join(work, 'spark-seed')]], ready: (p) => p.lines.some((l) => l.event === 'ready') },
  'spark-careful': { db: 'careful', cmd: () => [python, [path.join(here, 'careful_speed.py'), brokers, TOPIC, jdbc('careful'), 'bytes',
    'bench', '-', path.join(work, 'spark-careful')]], ready: (p) => p.lines.some((l) => l.event === 'ready') },
};

// The totals in PostgreSQL: per antenna window the largest row (so insert-only duplicates count once).
async function pgTotals(c) {
  const r = await c.query(`SELECT (SELECT count(*) FROM bytes)::int AS n, coalesce(sum(m), 0)::text AS s
    FROM (SELECT max(value) AS m FROM bytes WHERE type = 'antenna_bytes_total' GROUP BY timestamp, id) x`);
  return { rows: r.rows[0].n, total: BigInt(r.rows[0].s) };
}

async function speedSide(side, index) {
  const spec = SPEED[side];
  const [cmd, cmdArgs] = spec.cmd();
  log(`speed: ${side}`);
  const k0 = cpuOf(kafkaPid());
  const p = start(`speed-${side}`, cmd, cmdArgs);
  const c = new pg.Client({ host: '127.0.0.1', port: pgPort, user: 'bench', password: PASSWORD, database: spec.db });
  await c.connect();
  const r = { side };
  try {
    const ready = await waitFor(() => spec.ready(p), { timeoutS: 300, what: 'ready', proc: p });
    if (!ready) throw new Error(`${side} not ready after 300 s`);
    const tReady = now();
    r.startup_s = tReady - p.spawned;
    let tFirst = null;
    const want = produced.total;
    const done = await waitFor(async () => {
      const t = await pgTotals(c);
      if (t.rows > 0 && tFirst === null) tFirst = now();
      return t.total === want;
    }, { timeoutS: 900, what: 'all events in PostgreSQL', proc: p });
    const tDone = now();
    r.drained = Boolean(done);
    r.drain_s = tDone - tReady;
    r.first_row_s = tFirst === null ? null : tFirst - p.spawned;
    r.events_per_s = EVENTS / r.drain_s;
    r.cpu_drain = p.monitor.cpuAt(tDone) - p.monitor.cpuAt(tReady);
    r.cpu_to_drained = p.monitor.cpuAt(tDone);
    r.kafka_cpu_drain = cpuOf(kafkaPid()) - k0;
    log(`  ${side}: ready after ${r.startup_s.toFixed(1)} s, ${EVENTS} events in ${r.drain_s.toFixed(1)} s${done ? '' : ' (NOT all of them)'}`);

    // Live: the seeds' rate, probes among it.
    const liveFile = path.join(work, `live-${side}.ndjson`);
    const probeFile = path.join(work, `probes-${side}.ndjson`);
    const liveStart = nextEventTime;
    const sim = start(`live-${side}`, bin, ['simulate', '--brokers', brokers, '--topic', TOPIC, '--events', String(20 * LIVE_S),
      '--rate', '20', '--start', new Date(liveStart * 1000).toISOString().replace('.000Z', 'Z'), '--interval', '1s',
      '--seed', String(100 + index), '--out', liveFile]);
    const t0 = now();
    // Probes leave on schedule; one poller looks for every probe not yet seen.
    const pending = new Map();
    const latencies = new Map();
    let polling = true;
    const poller = (async () => {
      while (polling) {
        if (pending.size) {
          const seen = await c.query(`SELECT DISTINCT id FROM bytes WHERE type = 'app_bytes_total' AND id = ANY($1)`, [[...pending.keys()]]);
          const t = now();
          for (const { id } of seen.rows) {
            latencies.set(id, (t - pending.get(id)) * 1000);
            pending.delete(id);
          }
        }
        await sleep(20);
      }
    })();
    const probes = [];
    for (let i = 0; i < PROBES; i++) {
      await sleep(Math.max(0, (t0 + ((i + 0.5) * LIVE_S) / PROBES - now()) * 1000));
      const app = `PROBE-${side}-${i}`;
      const line = JSON.stringify({ bytes: 1000, timestamp: liveStart + Math.floor(now() - t0), app,
        id: '00000000-0000-0000-0000-000000000001', antenna_id: '00000000-0000-0000-0001-000000000001' });
      probes.push(line);
      pending.set(app, now());
      probeProducer.child.stdin.write(`${line}\n`);
    }
    await sim.exited;
    sim.monitor.stop();
    if (sim.exit.code !== 0) throw new Error(`live simulate failed: ${sim.stderr.slice(-2000)}`);
    await waitFor(() => pending.size === 0, { timeoutS: 180, what: 'the probes', proc: p });
    polling = false;
    await poller;
    fs.writeFileSync(probeFile, probes.map((l) => `${l}\n`).join(''));
    nextEventTime = liveStart + LIVE_S + 120;
    const liveOracle = await oracleWindows([liveFile, probeFile]);
    produced.files.push(liveFile, probeFile);
    produced.total += liveOracle.total;
    produced.events += liveOracle.events;
    const ok = [...latencies.values()].sort((a, b) => a - b);
    r.latency_ms = { median: ok.length ? ok[Math.floor((ok.length - 1) / 2)] : null, max: ok.length ? ok[ok.length - 1] : null,
      lost: PROBES - ok.length, all: ok };
    const caught = await waitFor(async () => (await pgTotals(c)).total === produced.total,
      { timeoutS: 120, what: 'the live events in PostgreSQL', proc: p });
    r.caught_up = Boolean(caught);
    r.spark_batches = p.lines.filter((l) => l.event === 'batch').length;
    log(`  ${side}: probe latency median ${fmt(r.latency_ms.median)} ms, max ${fmt(r.latency_ms.max)} ms`);
  } finally {
    await c.end();
    const res = await finish(p, { timeoutS: 180 });
    r.cpu_total = res.cpu;
    r.peak_rss_mb = res.peakRssMB;
    r.exit = p.exit;
  }
  // What the topic holds now, against the table.
  const oracle = await oracleWindows(produced.files);
  r.table = judge(oracle.map, await readBytes(spec.db));
  r.topic_events = oracle.events;
  log(`  ${side}: bytes ${JSON.stringify(r.table)}`);
  results.speed[side] = r;
}

// ---- the batch layer -----------------------------------------------------------------------------
const BATCH = {
  lambdaflow: { db: 'lf', cmd: () => [bin, ['batch', '--storage', lfLake, '--hour', HOUR, '--pg', uri('lf')]] },
  'spark-seed': { db: 'seed', cmd: () => [python, [path.join(here, 'seed_batch.py'), path.join(lfLake, 'devices'), HOUR, jdbc('seed'),
    'user_metadata', 'bytes_hourly', 'user_quota_limit', 'bench', '-']] },
  'spark-careful': { db: 'careful', cmd: () => [python, [path.join(here, 'careful_batch.py'), path.join(lfLake, 'devices'), HOUR,
    jdbc('careful'), 'user_metadata', 'bytes_hourly', 'user_quota_limit', 'bench', '-']] },
};

async function oracleHour(files, users) {
  return duck(async (conn) => {
    await conn.run('CREATE TABLE users (id VARCHAR, email VARCHAR, quota BIGINT)');
    await conn.run(`INSERT INTO users VALUES ${users.map((u) => `('${u.id}', '${u.email}', ${u.quota})`).join(', ')}`);
    await conn.run(`CREATE TABLE ev AS SELECT * FROM ${ndjson(files)} WHERE timestamp >= ${HOUR_S} AND timestamp < ${HOUR_S + 3600}`);
    const hourly = (await conn.runAndReadAll(`
      SELECT 'antenna_bytes_total', antenna_id, sum(bytes)::VARCHAR FROM ev GROUP BY ALL
      UNION ALL SELECT 'user_bytes_total', id, sum(bytes)::VARCHAR FROM ev GROUP BY ALL
      UNION ALL SELECT 'app_bytes_total', app, sum(bytes)::VARCHAR FROM ev GROUP BY ALL
      UNION ALL SELECT 'user_email_bytes_total', u.email, sum(bytes)::VARCHAR FROM ev JOIN users u USING (id) GROUP BY ALL`)).getRows();
    const quota = (await conn.runAndReadAll(`SELECT u.email, sum(bytes)::VARCHAR, max(u.quota)::VARCHAR FROM ev JOIN users u USING (id)
      GROUP BY u.email HAVING sum(bytes) > max(u.quota)`)).getRows();
    const n = Number((await conn.runAndReadAll('SELECT count(*) FROM ev')).getRows()[0][0]);
    return { events: n, hourly: new Map(hourly.map(([t, id, v]) => [`${t}|${id}`, BigInt(v)])),
      quotaText: new Map(quota.map(([e, u, q]) => [e, `${u}/${q}`])) };
  });
}

async function batchSide(side, round, oracle) {
  const [cmd, cmdArgs] = BATCH[side].cmd();
  const r = await run(`batch-${side}-${round}`, cmd, cmdArgs);
  const rows = await withPg(BATCH[side].db, async (c) => ({
    hourly: (await c.query(`SELECT type, id, value::text AS v FROM bytes_hourly WHERE timestamp = $1::timestamp`,
      [HOUR.replace('Z', '')])).rows,
    quota: (await c.query(`SELECT email, usage::text AS u, quota::text AS q FROM user_quota_limit WHERE timestamp = $1::timestamp`,
      [HOUR.replace('Z', '')])).rows,
  }));
  const hourly = judge(oracle.hourly, rows.hourly.map((x) => ({ key: `${x.type}|${x.id}`, value: BigInt(x.v) })));
  const quotaRows = rows.quota.map((x) => ({ key: x.email, text: `${x.u}/${x.q}` }));
  const quotaExact = quotaRows.length === oracle.quotaText.size && quotaRows.every((x) => oracle.quotaText.get(x.key) === x.text);
  const out = { round, wall_s: r.wall, cpu_s: r.cpu, peak_rss_mb: r.peakRssMB, hourly, quota: { rows: quotaRows.length,
    expected: oracle.quotaText.size, exact: quotaExact } };
  log(`batch ${side} #${round}: ${r.wall.toFixed(1)} s wall, ${r.cpu.toFixed(1)} CPU-s, bytes_hourly ${JSON.stringify(hourly)}, quota ${JSON.stringify(out.quota)}`);
  (results.batch[side] ??= []).push(out);
}

// ---- the archives ---------------------------------------------------------------------------------
async function archive(label, dir, expected) {
  if (!fs.existsSync(dir)) return;
  const files = fs.readdirSync(dir, { recursive: true }).filter((f) => String(f).endsWith('.parquet') && !/(^|\/)[._]/.test(String(f)));
  const n = await duck(async (conn) => Number((await conn.runAndReadAll(
    `SELECT count(*) FROM read_parquet('${dir}/**/*.parquet', hive_partitioning = true)`)).getRows()[0][0]));
  results.archive[label] = { files: files.length, rows: n, expected };
  log(`archive ${label}: ${n} rows (expected ${expected}) in ${files.length} files`);
}

// ---- the run ------------------------------------------------------------------------------------
async function cleanup() {
  for (const p of live) try { process.kill(-p.pid, 'SIGKILL'); } catch {}
  try { execFileSync(kafkaSh, ['stop', '--dir', kafkaDir], { stdio: 'ignore', timeout: 90000 }); } catch {}
  try { execFileSync(path.join(sourceDir, 'scripts/pgcluster.sh'), ['stop', pgDir], { stdio: 'ignore', timeout: 60000 }); } catch {}
  if (!args.keep) fs.rmSync(work, { recursive: true, force: true });
  else log(`kept ${work}`);
}
process.on('SIGINT', async () => { await cleanup(); process.exit(130); });

try {
  log(`work directory ${work}`);
  const superUri = execFileSync(path.join(sourceDir, 'scripts/pgcluster.sh'), ['start', pgDir], { encoding: 'utf8' }).trim().split('\n').pop();
  pgPort = Number(new URL(superUri).port);
  const admin = new pg.Client({ connectionString: superUri });
  await admin.connect();
  await admin.query(`CREATE ROLE bench LOGIN PASSWORD ${admin.escapeLiteral(PASSWORD)}`);
  for (const db of ['lf', 'lf2', 'seed', 'careful']) await admin.query(`CREATE DATABASE ${db} OWNER bench`);
  await admin.end();
  brokers = execFileSync(kafkaSh, ['start', '--dir', kafkaDir, '--topic', TOPIC, '--partitions', String(PARTITIONS)],
    { encoding: 'utf8', timeout: 300000 }).trim().split('\n').pop();
  log(`Kafka ${brokers}, PostgreSQL 127.0.0.1:${pgPort}`);
  await run('provision', bin, ['provision', '--pg', uri('lf')]);
  await run('provision-2', bin, ['provision', '--pg', uri('lf2')]);
  const users = await withPg('lf', async (c) => (await c.query(
    'SELECT id, name, email, quota::text AS quota FROM user_metadata WHERE id IS NOT NULL ORDER BY id')).rows);
  for (const db of ['seed', 'careful']) {
    await withPg(db, async (c) => {
      for (const s of SEED_DDL) await c.query(s);
      if (db === 'careful') for (const s of CAREFUL_KEYS) await c.query(s);
      for (const u of users) await c.query('INSERT INTO user_metadata VALUES ($1, $2, $3, $4)', [u.id, u.name, u.email, u.quota]);
    });
  }

  const events = path.join(work, 'events.ndjson');
  const sim = await run('simulate', bin, ['simulate', '--brokers', brokers, '--topic', TOPIC, '--events', String(EVENTS),
    '--start', START, '--interval', INTERVAL, '--seed', '1', '--out', events]);
  log(`simulate: ${sim.stdout.trim().split('\n').pop()}`);
  const base = await oracleWindows([events]);
  if (base.events !== EVENTS) throw new Error(`the NDJSON holds ${base.events} events, expected ${EVENTS}`);
  produced.files.push(events);
  produced.total = base.total;
  produced.events = base.events;
  // Live events go to later hours than the batch's: its hour holds the first N events only.
  nextEventTime = Math.max(base.maxTs, HOUR_S + 3600) + 300;
  results.config.event_time = `${START} … ${new Date(base.maxTs * 1000).toISOString()}`;
  probeProducer = start('probe-producer', python, [path.join(here, 'probe.py'), brokers, TOPIC]);

  for (const [i, side] of SIDES.entries()) {
    await speedSide(side, i);
    const dir = { lambdaflow: path.join(lfLake, 'devices'), 'lambdaflow-200ms': path.join(work, 'lf-lake-200ms', 'devices') }[side] ??
      path.join(work, side, 'data');
    await archive(side, dir, produced.events);
  }
  probeProducer.child.stdin.end();
  await finish(probeProducer, { timeoutS: 30 });

  if (!args['no-batch'] && fs.existsSync(path.join(lfLake, 'devices'))) {
    const oracle = await oracleHour([events], users);
    results.config.batch_hour_events = oracle.events;
    for (const round of [1, 2]) for (const side of SIDES.filter((x) => BATCH[x])) await batchSide(side, round, oracle);
  }
  printTables();
  if (args.json) fs.writeFileSync(args.json, JSON.stringify(results, (_, v) => (typeof v === 'bigint' ? v.toString() : v), 2));
} catch (e) {
  log(`FAILED: ${e.stack ?? e}`);
  process.exitCode = 1;
  args.keep = true;
} finally {
  await cleanup();
  process.exit();
}

function printTables() {
  const S = results.speed;
  const name = { lambdaflow: 'Lambdaflow', 'lambdaflow-200ms': 'Lambdaflow, `--flush-interval 200ms`',
    'spark-seed': 'Spark, the seeds\' jobs', 'spark-careful': 'Spark, careful' };
  const out = [];
  out.push(`Speed layer: ${fmt(EVENTS)} events already in the topic (${PARTITIONS} partitions), then ${LIVE_S} s live at 20 events/s with ${PROBES} probes.`);
  out.push('');
  out.push('| | start-up s | drain s | **events/s** | CPU-s per M events (drain / from spawn) | peak RSS MB | Kafka broker CPU-s (drain) | **probe latency ms** median (max) | Spark micro-batches | rows in `bytes` | duplicate rows | keys exact / expected | keys with the right largest row | missing / wrong keys |');
  out.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const side of SIDES) {
    const r = S[side];
    if (!r) continue;
    out.push(`| ${name[side]} | ${fmt(r.startup_s, 1)} | ${fmt(r.drain_s, 1)}${r.drained ? '' : ' (incomplete)'} | ${fmt(r.events_per_s)} | ` +
      `${fmt((r.cpu_drain / EVENTS) * 1e6, 1)} / ${fmt((r.cpu_to_drained / EVENTS) * 1e6, 1)} | ${fmt(r.peak_rss_mb)} | ${fmt(r.kafka_cpu_drain, 1)} | ` +
      `${fmt(r.latency_ms.median)} (${fmt(r.latency_ms.max)})${r.latency_ms.lost ? `, ${r.latency_ms.lost} never seen` : ''} | ` +
      `${side.startsWith('lambdaflow') ? '–' : r.spark_batches} | ${fmt(r.table.rows)} | ${fmt(r.table.duplicates)} | ${fmt(r.table.exact)} / ${fmt(r.table.expected)} | ` +
      `${fmt(r.table.finalOk)} | ${r.table.missing} / ${r.table.wrong} |`);
  }
  const lf = S.lambdaflow;
  if (lf) {
    out.push('');
    for (const side of SIDES.filter((x) => x.startsWith('spark') && S[x])) {
      const r = S[side];
      out.push(`Lambdaflow vs ${name[side]}: ${fmt(lf.events_per_s / r.events_per_s, 1)}× events/s, ` +
        `${fmt(r.cpu_drain / lf.cpu_drain, 1)}× less CPU per event (drain; ${fmt(r.cpu_to_drained / lf.cpu_to_drained, 1)}× from spawn), ` +
        `${fmt(r.peak_rss_mb / lf.peak_rss_mb, 1)}× less memory, ${fmt(r.latency_ms.median / lf.latency_ms.median, 1)}× lower median probe latency, ` +
        `${fmt(r.kafka_cpu_drain / lf.kafka_cpu_drain, 1)}× less broker CPU.`);
    }
  }
  if (Object.keys(results.archive).length) {
    out.push('');
    out.push('| archive | Parquet files | rows | events in the topic |');
    out.push('|---|---|---|---|');
    for (const [k, a] of Object.entries(results.archive)) out.push(`| ${name[k]} | ${fmt(a.files)} | ${fmt(a.rows)} | ${fmt(a.expected)} |`);
  }
  if (Object.keys(results.batch).length) {
    out.push('');
    out.push(`Batch layer: hour ${HOUR} of Lambdaflow's lake, ${fmt(results.config.batch_hour_events)} events; each side run twice.`);
    out.push('');
    out.push('| | run | wall s | CPU-s | peak RSS MB | `bytes_hourly` rows (expected) | duplicate rows | keys exact | `user_quota_limit` rows (expected), exact |');
    out.push('|---|---|---|---|---|---|---|---|---|');
    for (const side of SIDES) {
      for (const b of results.batch[side] ?? []) {
        out.push(`| ${name[side]} | ${b.round} | ${fmt(b.wall_s, 2)} | ${fmt(b.cpu_s, 2)} | ${fmt(b.peak_rss_mb)} | ${b.hourly.rows} (${b.hourly.expected}) | ` +
          `${b.hourly.duplicates} | ${b.hourly.exact} | ${b.quota.rows} (${b.quota.expected}), ${b.quota.exact ? 'yes' : 'no'} |`);
      }
    }
    const lb = results.batch.lambdaflow?.[0];
    if (lb) {
      for (const side of SIDES.filter((x) => x.startsWith('spark') && results.batch[x])) {
        const b = results.batch[side][0];
        out.push(`\nLambdaflow vs ${name[side]} (first runs): ${fmt(b.wall_s / lb.wall_s, 1)}× faster, ${fmt(b.cpu_s / lb.cpu_s, 1)}× less CPU, ` +
          `${fmt(b.peak_rss_mb / lb.peak_rss_mb, 1)}× less memory.`);
      }
    }
  }
  console.log(out.join('\n'));
}
