// The ingestion engine against DuckDB on the same CSV file, in one run:
//   node bench/ingest_vs_duckdb.mjs [--rows N] [--rounds N] [--bin PATH] [--keep]
// 1. `lambdaflow generate farmia --files 1 --rows N` writes an IoT sensor CSV (the FarmIA shape:
//    sensor_id, farm_id, ISO ts, three doubles, one optional); a private PostgreSQL starts
//    (scripts/pgcluster.sh).
// 2. `--rounds` rounds (default 3), alternating the order:
//    lambdaflow: `lambdaflow ingest --once --settle 0s` of pipelines/farmia/iot_sensors.yaml over a
//                copy of the file (each round its own landing, lake and database): CSV → typed
//                rows + metadata columns → bronze Parquet (ZSTD) + manifest commit; wall time from
//                spawn to exit, CPU time and peak RSS from /usr/bin/time;
//    duckdb:     a fresh in-memory DuckDB, `COPY (SELECT * FROM read_csv(FILE, header = true,
//                columns = {…the same types…})) TO 'x.parquet' (FORMAT parquet, COMPRESSION zstd)`,
//                with SET threads = 1 and with the default threads (this machine's cores).
//    Every round checks that bronze holds N rows (DuckDB counts them).
// 3. Prints medians, rows/s and the ratios lambdaflow / DuckDB.
// 4. With --avro N: N Avro orders (generate farmia --orders, through `lambdaflow registry` into
//    the embedded broker's topic sales_orders, 8 partitions; the embedded broker keeps about 5 MB per
//    partition, so N up to ~300 000), then `ingest --once` of
//    pipelines/farmia/sales_orders.yaml into bronze: wall time less the 3 s of idleness that ends
//    --once, CPU and peak RSS. (DuckDB reads no Avro offline: an absolute figure.)
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const sourceDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(sourceDir, 'tests/package.json'));
const { DuckDBInstance } = await import(require.resolve('@duckdb/node-api'));

const argv = process.argv.slice(2);
const opt = (name, def) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : def;
};
const ROWS = Number(opt('rows', 2000000));
const ROUNDS = Number(opt('rounds', 3));
const BIN = opt('bin', path.join(sourceDir, 'build/release/src/cli/lambdaflow'));
const KEEP = argv.includes('--keep');
const AVRO = Number(opt('avro', 0));

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lf-ingest-bench-'));
fs.chmodSync(dir, 0o755);
const run = (args, opts = {}) => execFileSync(args[0], args.slice(1), { encoding: 'utf8', ...opts });

function timed(args) {
  return new Promise((resolve, reject) => {
    const tfile = path.join(dir, 'time.txt');
    const started = process.hrtime.bigint();
    const p = spawn('/usr/bin/time', ['-f', '%U %S %M', '-o', tfile, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('exit', (code) => {
      const wall = Number(process.hrtime.bigint() - started) / 1e9;
      if (code !== 0) return reject(new Error(`${args.join(' ')} exited ${code}: ${err.slice(-2000)}`));
      const [u, s, m] = fs.readFileSync(tfile, 'utf8').trim().split(/\s+/).map(Number);
      resolve({ wall, cpu: u + s, rssKb: m, out });
    });
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

console.log(`generating ${ROWS} rows …`);
run([BIN, 'generate', 'farmia', '--landing', path.join(dir, 'gen'), '--files', '1', '--rows', String(ROWS), '--seed', '7', '--datasets', 'iot_sensors'],
  { stdio: ['ignore', 'ignore', 'inherit'] });
const csv = path.join(dir, 'gen/iot_sensors/iot_sensors_001.csv');
const bytes = fs.statSync(csv).size;
const uri = run([path.join(sourceDir, 'scripts/pgcluster.sh'), 'start', path.join(dir, 'pg')]).trim().split('\n').pop();
const types = "{sensor_id: 'VARCHAR', farm_id: 'VARCHAR', ts: 'TIMESTAMPTZ', temperature_c: 'DOUBLE', "
  + "humidity_pct: 'DOUBLE', soil_moisture_pct: 'DOUBLE'}";

async function duck(threads, out) {
  const inst = await DuckDBInstance.create(':memory:');
  const c = await inst.connect();
  if (threads) await c.run(`SET threads = ${threads}`);
  const t0 = process.hrtime.bigint();
  await c.run(`COPY (SELECT * FROM read_csv('${csv}', header = true, columns = ${types})) TO '${out}'
    (FORMAT parquet, COMPRESSION zstd)`);
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  c.closeSync();
  inst.closeSync();
  return secs;
}

async function count(glob) {
  const inst = await DuckDBInstance.create(':memory:');
  const c = await inst.connect();
  const r = await c.runAndReadAll(`SELECT count(*)::BIGINT FROM read_parquet('${glob}')`);
  const n = Number(r.getRows()[0][0]);
  c.closeSync();
  inst.closeSync();
  return n;
}

const results = { ours: [], oursCpu: [], oursRss: [], duck1: [], duckN: [] };
try {
  for (let r = 0; r < ROUNDS; r += 1) {
    const sides = r % 2 === 0 ? ['ours', 'duck'] : ['duck', 'ours'];
    for (const side of sides) {
      if (side === 'duck') {
        results.duck1.push(await duck(1, path.join(dir, `d1-${r}.parquet`)));
        results.duckN.push(await duck(0, path.join(dir, `dn-${r}.parquet`)));
        continue;
      }
      const db = `ingest_${r}`;
      run(['psql', uri, '-qc', `CREATE DATABASE ${db}`]);
      const landing = path.join(dir, `landing-${r}`);
      fs.mkdirSync(path.join(landing, 'iot_sensors'), { recursive: true });
      fs.copyFileSync(csv, path.join(landing, 'iot_sensors/big.csv'));
      const t = await timed([BIN, 'ingest', '--once', '--settle', '0s', '--pipeline',
        path.join(sourceDir, 'pipelines/farmia/iot_sensors.yaml'), '--landing', landing,
        '--storage', path.join(dir, `lake-${r}`), '--pg', `${uri.replace(/\/[^/]*$/, '')}/${db}`]);
      const n = await count(path.join(dir, `lake-${r}/bronze/iot_sensors/*/*.parquet`));
      if (n !== ROWS) throw new Error(`bronze holds ${n} rows, not ${ROWS}`);
      results.ours.push(t.wall);
      results.oursCpu.push(t.cpu);
      results.oursRss.push(t.rssKb);
    }
  }
  const m = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, median(v)]));
  const mb = bytes / 1e6;
  console.log(`\n${ROWS} rows, ${mb.toFixed(1)} MB of CSV, ${ROUNDS} rounds (medians), ${os.cpus().length} cores`);
  console.log(`lambdaflow ingest:      ${m.ours.toFixed(2)} s wall (${(ROWS / m.ours / 1e3).toFixed(0)} k rows/s, ${(mb / m.ours).toFixed(0)} MB/s), `
    + `${m.oursCpu.toFixed(2)} s CPU, peak RSS ${(m.oursRss / 1024).toFixed(0)} MB`);
  console.log(`DuckDB, 1 thread:       ${m.duck1.toFixed(2)} s (${(ROWS / m.duck1 / 1e3).toFixed(0)} k rows/s)`);
  console.log(`DuckDB, default threads: ${m.duckN.toFixed(2)} s (${(ROWS / m.duckN / 1e3).toFixed(0)} k rows/s)`);
  console.log(`ratio lambdaflow / DuckDB 1 thread: ${(m.ours / m.duck1).toFixed(2)} (time; < 1 is faster)`);
  console.log(`ratio lambdaflow / DuckDB default:  ${(m.ours / m.duckN).toFixed(2)}`);
  if (AVRO > 0) {
    const start = (args, name) => {
      const out = path.join(dir, `${name}.out`);
      const p = spawn(BIN, args, { stdio: ['ignore', fs.openSync(out, 'w'), 'inherit'] });
      return { p, out };
    };
    const waitLine = async (file, re) => {
      for (let i = 0; i < 300; i += 1) {
        const m = fs.existsSync(file) && re.exec(fs.readFileSync(file, 'utf8'));
        if (m) return m[1];
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`no ${re} in ${file}`);
    };
    const broker = start(['broker', '--listen', '127.0.0.1:0', '--topic', 'sales_orders', '--partitions', '8'], 'broker');
    const registry = start(['registry', '--pg', uri, '--listen', '127.0.0.1:0'], 'registry');
    try {
      const brokers = await waitLine(broker.out, /broker: listening on (\S+)/);
      const url = (await waitLine(registry.out, /registry: listening on (\S+)/)).replace(/\/$/, '');
      console.log(`\nproducing ${AVRO} Avro orders …`);
      run([BIN, 'generate', 'farmia', '--brokers', brokers, '--schema-registry', url, '--orders', String(AVRO)],
        { stdio: ['ignore', 'ignore', 'inherit'] });
      run(['psql', uri, '-qc', 'CREATE DATABASE avro_bench']);
      const t = await timed([BIN, 'ingest', '--once', '--pipeline', path.join(sourceDir, 'pipelines/farmia/sales_orders.yaml'),
        '--brokers', brokers, '--schema-registry', url, '--storage', path.join(dir, 'lake-avro'),
        '--pg', `${uri.replace(/\/[^/]*$/, '')}/avro_bench`]);
      const n = await count(path.join(dir, 'lake-avro/bronze/sales_orders/*/*.parquet'));
      if (n !== AVRO) throw new Error(`bronze holds ${n} orders, not ${AVRO}`);
      const busy = t.wall - 3;
      console.log(`lambdaflow ingest, Avro: ${AVRO} orders in ${busy.toFixed(2)} s (+3 s idle to end --once): `
        + `${(AVRO / busy / 1e3).toFixed(0)} k rows/s of wall time (group join and flushes included), `
        + `${(AVRO / t.cpu / 1e3).toFixed(0)} k rows per CPU-second, peak RSS ${(t.rssKb / 1024).toFixed(0)} MB`);
    } finally {
      broker.p.kill();
      registry.p.kill();
    }
  }
} finally {
  try { run([path.join(sourceDir, 'scripts/pgcluster.sh'), 'stop', path.join(dir, 'pg')]); } catch { /* already gone */ }
  if (!KEEP) fs.rmSync(dir, { recursive: true, force: true });
}
