// The batch layer against DuckDB (1 thread) on the same Parquet files of one lake hour, in one run:
//   node bench/batch_vs_duckdb.mjs [--events N] [--devices N] [--antennas N] [--files N]
//                                  [--rounds N] [--bin PATH] [--keep]
// 1. Starts a private PostgreSQL (scripts/pgcluster.sh), runs `lambdaflow provision` (20 users).
// 2. Generates N events (default 1 000 000) of the hour 2026-11-22T09 with DuckDB: device ids
//    `00000000-0000-0000-0000-%012d` (1..devices, so the first 20 are user_metadata's users),
//    antennas `00000000-0000-0000-0001-%012d`, 7 apps, bytes 0..5000, timestamps spread over the
//    hour in order; written as `--files` Parquet files (ZSTD) into the lake layout
//    `devices/year=2026/month=11/day=22/hour=9/`.
// 3. `--rounds` rounds (default 5, after one untimed warm-up of each side), the order alternating
//    per round:
//    lambdaflow: `lambdaflow batch --hour …` as a child process, wall time from spawn to exit
//                (connect, schema check, user load, read + aggregate, PostgreSQL transaction),
//                CPU time (user + sys) from /usr/bin/time, and the hour's own duration from its log;
//    duckdb:     a fresh in-memory DuckDB with `SET threads = 1` and the users of user_metadata
//                loaded into a table; timed: the query computing the four bytes_hourly metrics
//                from read_parquet() of the hour's files, materialized with CREATE TABLE … AS,
//                and the user_quota_limit rows derived from it (CREATE TABLE … AS). Also shown:
//                the same including DuckDBInstance.create + connect + SET + loading the users.
//    Every round checks that PostgreSQL's bytes_hourly and user_quota_limit rows for the hour are
//    identical to DuckDB's.
// 4. Prints a table of medians, min–max, the ratio lambdaflow / DuckDB and events/s; with --json a
//    JSON summary too.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const argv = process.argv.slice(2);
const args = {};
for (let i = 0; i < argv.length; i++) {
  if (!argv[i].startsWith('--')) continue;
  const next = argv[i + 1];
  if (next === undefined || next.startsWith('--')) args[argv[i].slice(2)] = true;
  else args[argv[i].slice(2)] = argv[++i];
}
const events = Number(args.events ?? 1000000);
const devices = Number(args.devices ?? 20);
const antennas = Number(args.antennas ?? 5);
const nfiles = Number(args.files ?? 4);
const rounds = Number(args.rounds ?? 5);
const HOUR = '2026-11-22T09:00:00Z';
const HOUR_S = Date.parse(HOUR) / 1000;

const sourceDir = path.dirname(path.dirname(new URL(import.meta.url).pathname));
const builtBin = path.resolve(args.bin ?? process.env.LF_BIN ?? path.join(sourceDir, 'build/release/src/cli/lambdaflow'));
const require = createRequire(path.join(sourceDir, 'tests/package.json'));
const { DuckDBInstance } = await import(require.resolve('@duckdb/node-api'));
const pg = require('pg');

if (!fs.existsSync(builtBin)) throw new Error(`no lambdaflow binary at ${builtBin} (--bin)`);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'lf-batch-bench-'));
fs.chmodSync(work, 0o755); // pgcluster.sh runs the server as user postgres when we are root
const storage = path.join(work, 'lake');
const hourDir = path.join(storage, 'devices/year=2026/month=11/day=22/hour=9');
const pgDir = path.join(work, 'pg');
const pgcluster = path.join(sourceDir, 'scripts/pgcluster.sh');
// A private copy of the binary: a build tree shared with others may be relinked mid-run.
const bin = path.join(work, 'lambdaflow');
for (let attempt = 1; ; attempt++) {
  try {
    fs.copyFileSync(builtBin, bin);
    fs.chmodSync(bin, 0o755);
    execFileSync(bin, ['--help'], { stdio: 'ignore' });
    break;
  } catch (e) {
    if (attempt >= 10) throw new Error(`cannot copy a working ${builtBin}: ${e.message}`);
    await new Promise((r) => setTimeout(r, 3000));
  }
}

const sec = (t0) => Number(process.hrtime.bigint() - t0) / 1e9;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmtInt = (x) => Math.round(x).toLocaleString('en-US').replace(/,/g, ' ');
const log = (...m) => console.error('[bench]', ...m);

function run(cmd, cmdArgs) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, cmdArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, seconds: sec(t0) }));
  });
}

async function withPg(uri, fn) {
  const c = new pg.Client({ connectionString: uri });
  await c.connect();
  try { return await fn(c); } finally { await c.end(); }
}

let pgUri = null;
let result = null;
try {
  pgUri = execFileSync(pgcluster, ['start', pgDir], { encoding: 'utf8' }).trim();
  log(`PostgreSQL ${pgUri}`);
  const prov = await run(bin, ['provision', '--pg', pgUri]);
  if (prov.code !== 0) throw new Error(`provision failed:\n${prov.stderr}`);
  const users = await withPg(pgUri, async (c) =>
    (await c.query('SELECT id, email, quota::text AS quota FROM user_metadata WHERE id IS NOT NULL')).rows);
  if (users.length !== 20) throw new Error(`expected 20 users, got ${users.length}`);

  // --- Generate the hour with DuckDB. ---
  fs.mkdirSync(hourDir, { recursive: true });
  const files = [];
  {
    const t0 = process.hrtime.bigint();
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    await conn.run(`SET TimeZone = 'UTC'`);
    // Deterministic pseudo-random columns from hash(i, salt); timestamps in order over the hour.
    await conn.run(`CREATE TABLE ev AS
      SELECT (hash(i, 1) % 5001)::BIGINT AS bytes,
             make_timestamp(${HOUR_S}::BIGINT * 1000000 + (i * 3600000000) // ${events})::TIMESTAMPTZ AS timestamp,
             (['SKYPE','FACEBOOK','WHATSAPP','FACETIME','TELEGRAM','INSTAGRAM','YOUTUBE'])[1 + (hash(i, 2) % 7)::BIGINT] AS app,
             printf('00000000-0000-0000-0000-%012d', 1 + hash(i, 3) % ${devices}) AS id,
             printf('00000000-0000-0000-0001-%012d', 1 + hash(i, 4) % ${antennas}) AS antenna_id,
             i
      FROM range(${events}) t(i)`);
    for (let k = 0; k < nfiles; k++) {
      const f = path.join(hourDir, `part-${String(k).padStart(5, '0')}.parquet`);
      const lo = Math.floor((k * events) / nfiles), hi = Math.floor(((k + 1) * events) / nfiles);
      await conn.run(`COPY (SELECT bytes, timestamp, app, id, antenna_id FROM ev WHERE i >= ${lo} AND i < ${hi} ORDER BY i)
        TO '${f}' (FORMAT parquet, COMPRESSION zstd)`);
      files.push(f);
    }
    const st = (await conn.runAndReadAll(`SELECT count(*)::INT, count(DISTINCT id)::INT, count(DISTINCT antenna_id)::INT,
        min(timestamp)::VARCHAR, max(timestamp)::VARCHAR FROM read_parquet([${files.map((f) => `'${f}'`).join(', ')}])`)).getRows()[0];
    conn.closeSync();
    db.closeSync();
    const bytes = files.reduce((s, f) => s + fs.statSync(f).size, 0);
    log(`generated ${st[0]} events (${st[1]} devices, ${st[2]} antennas, ${st[3]} .. ${st[4]}) in ${nfiles} files, ` +
        `${(bytes / 1e6).toFixed(1)} MB, ${sec(t0).toFixed(1)} s`);
    if (st[0] !== events) throw new Error(`generated ${st[0]} events, expected ${events}`);
  }
  const fileList = files.map((f) => `'${f}'`).join(', ');

  // --- The two sides. ---
  async function lambdaflow() {
    const r = await run('/usr/bin/time', ['-f', 'LFTIME %U %S %M', bin, 'batch', '--storage', storage, '--hour', HOUR, '--pg', pgUri]);
    if (r.code !== 0) throw new Error(`lambdaflow batch failed (${r.code}):\n${r.stderr}`);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1));
    if (out.events !== events) throw new Error(`lambdaflow read ${out.events} events, expected ${events}`);
    const t = r.stderr.match(/LFTIME (\S+) (\S+) (\d+)/);
    const hourMs = r.stderr.match(/over quota, (\d+) ms/);
    // lf_batch_runs.duration_ms is taken just before the PostgreSQL transaction starts: the
    // manifest look-up plus reading and aggregating the files.
    const runMs = await withPg(pgUri, async (c) => Number((await c.query(
      `SELECT duration_ms FROM lf_batch_runs WHERE status = 'ok' ORDER BY finished_at DESC LIMIT 1`)).rows[0].duration_ms));
    return { wall: r.seconds, cpu: Number(t[1]) + Number(t[2]), rssMB: Number(t[3]) / 1024,
             hour: hourMs ? Number(hourMs[1]) / 1000 : NaN, compute: runMs / 1000, out };
  }

  async function duckdb() {
    const t0 = process.hrtime.bigint();
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    await conn.run('SET threads = 1');
    await conn.run('CREATE TABLE users (id VARCHAR, email VARCHAR, quota BIGINT)');
    await conn.run(`INSERT INTO users VALUES ${users.map((u) => `('${u.id}', '${u.email}', ${u.quota})`).join(', ')}`);
    const tq = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    await conn.run(`CREATE TABLE hourly AS
      WITH ev AS (SELECT bytes, app, id, antenna_id FROM read_parquet([${fileList}]))
      SELECT 'antenna_bytes_total' AS type, antenna_id AS id, sum(bytes)::BIGINT AS value FROM ev GROUP BY ALL
      UNION ALL SELECT 'user_bytes_total', id, sum(bytes)::BIGINT FROM ev GROUP BY ALL
      UNION ALL SELECT 'app_bytes_total', app, sum(bytes)::BIGINT FROM ev GROUP BY ALL
      UNION ALL SELECT 'user_email_bytes_total', u.email, sum(bytes)::BIGINT FROM ev JOIN users u USING (id) GROUP BY ALL`);
    await conn.run(`CREATE TABLE quota AS
      SELECT h.id AS email, h.value AS usage, q.quota FROM hourly h
      JOIN (SELECT email, max(quota) AS quota FROM users GROUP BY email) q ON q.email = h.id
      WHERE h.type = 'user_email_bytes_total' AND h.value > q.quota`);
    const query = sec(tq);
    const c = process.cpuUsage(c0);
    const total = sec(t0);
    const hourly = (await conn.runAndReadAll('SELECT type, id, value::VARCHAR FROM hourly')).getRows();
    const quota = (await conn.runAndReadAll('SELECT email, usage::VARCHAR, quota::VARCHAR FROM quota')).getRows();
    conn.closeSync();
    db.closeSync();
    return { query, total, cpu: (c.user + c.system) / 1e6, hourly, quota };
  }

  // PostgreSQL's rows for the hour against DuckDB's.
  async function check(d) {
    const got = await withPg(pgUri, async (c) => ({
      hourly: (await c.query(`SELECT type, id, value::text AS v FROM bytes_hourly
        WHERE "timestamp" = to_timestamp($1::bigint) AT TIME ZONE 'UTC'`, [HOUR_S])).rows,
      quota: (await c.query(`SELECT email, usage::text AS s, quota::text AS q FROM user_quota_limit
        WHERE "timestamp" = to_timestamp($1::bigint) AT TIME ZONE 'UTC'`, [HOUR_S])).rows,
    }));
    const cmp = (label, want, have) => {
      const problems = [];
      if (want.size !== have.length) problems.push(`${have.length} rows in PostgreSQL, ${want.size} from DuckDB`);
      const seen = new Set();
      for (const [k, v] of have) {
        if (seen.has(k)) problems.push(`duplicate ${k}`);
        seen.add(k);
        if (want.get(k) !== v) problems.push(`${k}: DuckDB ${want.get(k)}, lambdaflow ${v}`);
      }
      if (problems.length) throw new Error(`${label} differs: ${problems.length} problems, e.g.\n${problems.slice(0, 10).join('\n')}`);
    };
    cmp('bytes_hourly', new Map(d.hourly.map(([t, id, v]) => [`${t}|${id}`, v])),
        got.hourly.map((r) => [`${r.type}|${r.id}`, r.v]));
    cmp('user_quota_limit', new Map(d.quota.map(([e, s, q]) => [e, `${s}/${q}`])),
        got.quota.map((r) => [r.email, `${r.s}/${r.q}`]));
    return { hourlyRows: got.hourly.length, quotaRows: got.quota.length };
  }

  log('warm-up (untimed): lambdaflow, duckdb');
  const w = await lambdaflow();
  const wd = await duckdb();
  const rows = await check(wd);
  log(`identical: ${rows.hourlyRows} bytes_hourly rows, ${rows.quotaRows} user_quota_limit rows; lambdaflow: ${JSON.stringify(w.out)}`);
  const L = [], D = [];
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? ['duckdb', 'lambdaflow'] : ['lambdaflow', 'duckdb'];
    let d, l;
    for (const side of order) {
      if (side === 'duckdb') d = await duckdb();
      else l = await lambdaflow();
    }
    await check(d);
    L.push(l);
    D.push(d);
    log(`round ${r + 1} (${order.join(' then ')}): lambdaflow ${l.wall.toFixed(3)} s wall, ${l.cpu.toFixed(2)} s CPU, ` +
        `hour ${l.hour.toFixed(3)} s (read+agg ${l.compute.toFixed(3)} s) | duckdb query ${d.query.toFixed(3)} s, CPU ${d.cpu.toFixed(2)} s, ` +
        `with open ${d.total.toFixed(3)} s | ratio ${(l.wall / d.query).toFixed(2)} | identical`);
  }

  const stat = (xs) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) });
  const s = {
    lf_wall: stat(L.map((x) => x.wall)), lf_hour: stat(L.map((x) => x.hour)), lf_cpu: stat(L.map((x) => x.cpu)),
    lf_compute: stat(L.map((x) => x.compute)), lf_pg: stat(L.map((x) => x.hour - x.compute)),
    dk_query: stat(D.map((x) => x.query)), dk_total: stat(D.map((x) => x.total)), dk_cpu: stat(D.map((x) => x.cpu)),
  };
  const perRound = L.map((l, i) => l.wall / D[i].query);
  // The last column compares like with like: wall times with DuckDB's query wall time, CPU times
  // with the CPU time of DuckDB's query.
  const row = (name, st, ref, rate = true) => `| ${name} | ${st.median.toFixed(3)} | ${st.min.toFixed(3)}–${st.max.toFixed(3)} | ` +
    `${rate ? fmtInt(events / st.median) : '–'} | ${ref ? (st.median / ref.median).toFixed(2) : '–'} |`;
  const load = os.loadavg().map((x) => x.toFixed(1)).join(' ');
  console.log(`\n${fmtInt(events)} events, ${devices} devices, ${antennas} antennas, ${nfiles} files, ${rounds} rounds ` +
    `(load average now ${load}); ${rows.hourlyRows} bytes_hourly rows, ${rows.quotaRows} over quota; results identical in every round\n`);
  console.log('| measure | median s | min–max s | events/s (median) | ÷ DuckDB (wall: query wall; CPU: query CPU) |');
  console.log('|---|---|---|---|---|');
  console.log(row('lambdaflow batch, wall (process start to exit)', s.lf_wall, s.dk_query));
  console.log(row('lambdaflow, the hour as logged (read+aggregate+PG)', s.lf_hour, s.dk_query));
  console.log(row('lambdaflow, read + aggregate only (lf_batch_runs)', s.lf_compute, s.dk_query));
  console.log(row('lambdaflow, PostgreSQL transaction (logged − read+agg)', s.lf_pg, s.dk_query, false));
  console.log(row('lambdaflow batch, CPU user+sys (whole process)', s.lf_cpu, s.dk_cpu));
  console.log(row('DuckDB 1 thread, query (materialized)', s.dk_query, null));
  console.log(row('DuckDB 1 thread, CPU of the query', s.dk_cpu, null));
  console.log(row('DuckDB incl. open + connect + users', s.dk_total, s.dk_query));
  console.log(`\nratio lambdaflow wall / DuckDB query: ${(s.lf_wall.median / s.dk_query.median).toFixed(2)} (ratio of medians); ` +
    `median of the per-round ratios ${median(perRound).toFixed(2)} (per round ${perRound.map((x) => x.toFixed(2)).join(', ')}); ` +
    `CPU/CPU ${(s.lf_cpu.median / s.dk_cpu.median).toFixed(2)}; ` +
    `lambdaflow peak RSS ${median(L.map((x) => x.rssMB)).toFixed(0)} MB`);
  const perRoundCompute = L.map((l, i) => l.compute / D[i].query);
  console.log(`ratio lambdaflow read+aggregate / DuckDB query: ${(s.lf_compute.median / s.dk_query.median).toFixed(2)} ` +
    `(ratio of medians); median of the per-round ratios ${median(perRoundCompute).toFixed(2)} ` +
    `(per round ${perRoundCompute.map((x) => x.toFixed(2)).join(', ')})`);
  result = { events, devices, antennas, files: nfiles, rounds, ...s, ratio_wall: s.lf_wall.median / s.dk_query.median,
             ratio_cpu: s.lf_cpu.median / s.dk_cpu.median, per_round: perRound, per_round_compute: perRoundCompute };
  if (args.json) console.log(JSON.stringify(result));
} finally {
  if (pgUri) { try { execFileSync(pgcluster, ['stop', pgDir]); } catch (e) { log(`stop PostgreSQL: ${e.message}`); } }
  if (args.keep) log(`kept ${work}`);
  else fs.rmSync(work, { recursive: true, force: true });
}
