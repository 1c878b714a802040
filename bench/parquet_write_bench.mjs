// Compares lf::parquet's writer with DuckDB's `COPY … (FORMAT parquet, COMPRESSION zstd)` on the
// same lake events, in one run:
//   node bench/parquet_write_bench.mjs [--events N] [--build DIR] [--threads N]
// 1. build/…/src/parquet/parquet_write_bench generates the events and times our writer.
// 2. DuckDB loads exactly those events (from our file) into an in-memory table, checks they match,
//    then times its COPY of the table to Parquet with zstd.
// Each side runs `--runs` times (default 3) and the fastest run counts. Prints both rates and
// sizes and the ratios (size: ours / DuckDB's; speed: ours / DuckDB's), by wall time and by CPU
// time (the CPU time of DuckDB's COPY is measured with process.cpuUsage(), which includes its
// worker threads).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const events = Number(args.events ?? 2000000);
const buildDir = args.build ?? process.env.LF_BUILD_DIR ?? path.resolve('build/parquet');
const threads = args.threads ?? 'default';
const runs = Number(args.runs ?? 3);
const sourceDir = path.dirname(path.dirname(new URL(import.meta.url).pathname));
const require = createRequire(path.join(sourceDir, 'tests/package.json'));
const { DuckDBInstance } = await import(require.resolve('@duckdb/node-api'));

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lf-parquet-bench-'));
const ours = path.join(dir, 'ours.parquet');
const duck = path.join(dir, 'duckdb.parquet');
try {
  let o = null;
  for (let r = 0; r < runs; r++) {
    const out = JSON.parse(execFileSync(path.join(buildDir, 'src/parquet/parquet_write_bench'),
      ['--events', String(events), '--out', ours], { encoding: 'utf8' }));
    if (!o || out.seconds < o.seconds) o = { ...out, cpu_seconds: Math.min(out.cpu_seconds, o?.cpu_seconds ?? Infinity) };
    else o.cpu_seconds = Math.min(o.cpu_seconds, out.cpu_seconds);
  }

  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  if (threads !== 'default') await conn.run(`SET threads = ${Number(threads)}`);
  await conn.run(`CREATE TABLE ev AS SELECT * FROM read_parquet('${ours}')`);
  const n = Number((await conn.runAndReadAll('SELECT count(*) FROM ev')).getRows()[0][0]);
  if (n !== events) throw new Error(`DuckDB sees ${n} events in our file, expected ${events}`);
  const rawBytes = Number((await conn.runAndReadAll(
    'SELECT sum(16 + length(app) + length(id) + length(antenna_id)) FROM ev')).getRows()[0][0]);
  // A warm-up run, then the timed ones.
  await conn.run(`COPY ev TO '${duck}' (FORMAT parquet, COMPRESSION zstd)`);
  let secs = Infinity, cpu = Infinity;
  for (let r = 0; r < runs; r++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await conn.run(`COPY ev TO '${duck}' (FORMAT parquet, COMPRESSION zstd)`);
    secs = Math.min(secs, Number(process.hrtime.bigint() - t0) / 1e9);
    const c = process.cpuUsage(c0);
    cpu = Math.min(cpu, (c.user + c.system) / 1e6);
  }
  const duckBytes = fs.statSync(duck).size;
  const result = {
    events,
    ours: { seconds: o.seconds, cpu_seconds: o.cpu_seconds, events_per_s: Math.round(o.events_per_s), input_mb_per_s: o.input_mb_per_s, file_bytes: o.file_bytes },
    duckdb: { threads, seconds: +secs.toFixed(4), cpu_seconds: +cpu.toFixed(4), events_per_s: Math.round(events / secs), input_mb_per_s: +(rawBytes / secs / 1e6).toFixed(2), file_bytes: duckBytes },
    size_ratio_ours_over_duckdb: +(o.file_bytes / duckBytes).toFixed(3),
    speed_ratio_ours_over_duckdb: +(o.events_per_s / (events / secs)).toFixed(3),
    cpu_efficiency_ratio_ours_over_duckdb: +(cpu / o.cpu_seconds).toFixed(3),
  };
  console.log(JSON.stringify(result, null, 2));
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
