// The ingestion engine on landing files (SPEC §6.1–6.3), end to end. A seeded generator
// (tests/lib/landing.mjs) lands a few hundred CSV, NDJSON and JSON-array files over the four FarmIA
// datasets with every oddity §6 admits — BOM, CRLF and mixed line endings, quoted fields holding
// commas, doubled quotes and newlines, header columns in any order, unknown columns and members
// (nested JSON), empty optional fields, ISO-8601 (fractions, offsets, before 1970) and epoch
// timestamps, int64 beyond 2^53 — plus bad rows of each kind, files unreadable as a whole (not
// UTF-8, empty, no header, a required column missing, a duplicate column), a truncated JSON array
// and files the globs do not match, and writes its own truth. After `ingest --once`, DuckDB reads
// bronze (hive-partitioned by ingest_date) and it must equal the truth exactly: every valid row
// once with its typed values, _source_file, _source_row, _rescued_data (compared parsed), the
// _batch_id of its file's manifest row, null Kafka columns, today's UTC ingest_date, the declared
// column types; dead_letters holds exactly the bad rows (pipeline, file, row, raw text, a reason
// naming the fault); lf_ingested_files one row per file (size, sha256, mtime, status, rows,
// bad_rows, the reason of an unreadable file); every file moved to _processed/ or _error/ and the
// others left alone; the JSON summary agrees. Re-landed identical files are skipped (moved, nothing
// new); new content under a used name is a new file. Last, watchers are SIGKILLed at random moments
// three times while files keep landing (some in slow pieces, which --settle must wait for), and a
// final --once leaves every row in bronze exactly once, every dead letter and manifest row once,
// every file moved and no temporary file behind. Empty strings ("" quoted in CSV, "" in JSON) are
// values, not nulls, also as the first value of a Parquet column chunk.

import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Scope, query, withDuckDB, lastJsonLine, sleep, randomInt } from '../lib/harness.mjs';
import { DATASETS, Landing, generateLanding, writeTruth } from '../lib/landing.mjs';
import { DS, PIPELINE_ARGS, Expected, listFiles, verify, utcDate, sqlStr, sha256, canon } from '../lib/ingest_verify.mjs';

const scope = new Scope('ingest_files');
after(() => scope.cleanup());
afterEach((t) => scope.noteResult(t));

async function runIngest(args, name, timeoutMs = 120000) {
  const started = Date.now();
  const r = await scope.run(['ingest', ...PIPELINE_ARGS, ...args], { name, timeoutMs });
  const ended = Date.now();
  assert.equal(r.code, 0, `${name} exited ${r.code} (${r.signal})\n${r.stderr.slice(-3000)}`);
  const summary = lastJsonLine(r.stdout);
  assert.ok(summary, `${name}: the last stdout line must be the JSON summary, got ${JSON.stringify(r.stdout.slice(-300))}`);
  return { ...r, summary, started, ended };
}

const s = {};
before(async () => {
  s.tmp = scope.tmpdir();
  s.pg = await scope.startPostgres();
});

test('ingest --once lands every oddity of §6 exactly: bronze, dead letters, manifest, moves, summary', { timeout: 120000 }, async (t) => {
  s.landing = path.join(s.tmp, 'landing');
  s.storage = path.join(s.tmp, 'storage');
  const L = generateLanding(s.landing, {
    seed: 20261201, prefix: 'a', counts: { iot_sensors: 70, suppliers: 45, inventory: 55, weather: 55 }, rows: [0, 30],
  });
  writeTruth(L.truth, path.join(scope.artifacts, 'truth-a')); // kept when a test fails
  const truth = L.truth;
  // The generator covers every kind of bad row and file (a check of the generator itself).
  const kinds = new Set(truth.dead.map((d) => d.kind));
  for (const k of ['too_few', 'too_many', 'quote_garbage', 'required_empty', 'bad_number', 'bad_timestamp', 'unterminated',
    'malformed', 'not_object', 'missing_required', 'null_required', 'wrong_type', 'truncated']) {
    assert.ok(kinds.has(k), `the generator made no bad row of kind ${k}`);
  }
  const taken = truth.files.filter((f) => f.status !== 'ignored');
  const okFiles = taken.filter((f) => f.status === 'ok');
  const errorFiles = taken.filter((f) => f.status === 'error');
  const nRows = DS.reduce((a, d) => a + truth.rows[d].length, 0);
  t.diagnostic(`${truth.files.length} files (${okFiles.length} ok, ${errorFiles.length} unreadable), ${nRows} rows, ${truth.dead.length} bad rows`);
  assert.ok(taken.length >= 200, 'a few hundred files');

  const run = await runIngest(['--landing', s.landing, '--storage', s.storage, '--pg', s.pg.uri, '--once',
    '--settle', '200ms', '--poll', '100ms'], 'ingest-once');
  t.diagnostic(`ingest --once: ${JSON.stringify(run.summary)}`);
  s.exp = new Expected();
  s.exp.add(truth);
  s.dates = [utcDate(run.started), utcDate(run.ended)];
  s.window = [run.started, run.ended];

  // The declared types, in the declared order, then the §6.2 metadata columns (DuckDB's view).
  await withDuckDB(async (conn) => {
    const duck = { string: 'VARCHAR', timestamp: 'TIMESTAMP WITH TIME ZONE', float64: 'DOUBLE', int64: 'BIGINT' };
    for (const ds of DS) {
      const r = await conn.runAndReadAll(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM
        read_parquet(${sqlStr(path.join(s.storage, 'bronze', ds, '**', '*.parquet'))}, hive_partitioning = true))`);
      assert.deepEqual(r.getRows(), [
        ...DATASETS[ds].fields.map((f) => [f.name, duck[f.type]]),
        ['_ingested_at', 'TIMESTAMP WITH TIME ZONE'], ['_source_file', 'VARCHAR'], ['_source_row', 'BIGINT'],
        ['_topic', 'VARCHAR'], ['_partition', 'INTEGER'], ['_offset', 'BIGINT'], ['_schema_id', 'INTEGER'],
        ['_batch_id', 'VARCHAR'], ['_rescued_data', 'VARCHAR'], ['ingest_date', 'DATE'],
      ], `bronze/${ds} columns`);
      // TIMESTAMP(MICROS, UTC) in the Parquet schema itself
      const ts = await conn.runAndReadAll(`SELECT DISTINCT name, logical_type FROM parquet_schema(
        ${sqlStr(path.join(s.storage, 'bronze', ds, '**', '*.parquet'))}) WHERE converted_type = 'TIMESTAMP_MICROS' ORDER BY name`);
      const tsCols = DATASETS[ds].fields.filter((f) => f.type === 'timestamp').map((f) => f.name).concat('_ingested_at').sort();
      assert.deepEqual(ts.getRows().map((x) => x[0]), tsCols, `bronze/${ds}: timestamp columns`);
      for (const [name, logical] of ts.getRows()) assert.match(String(logical), /isAdjustedToUTC=(1|true)/, `${ds}.${name} is UTC`);
    }
  });

  const problems = await verify(s.exp, { landing: s.landing, storage: s.storage, pgUri: s.pg.uri, window: s.window, dates: s.dates });
  assert.deepEqual(problems, [], `bronze, dead letters, manifest or landing differ from the truth:\n${problems.join('\n')}`);

  const { files, error_files: errorCount, skipped, rows, bad_rows: badRows, bytes } = run.summary;
  assert.deepEqual({ files, error_files: errorCount, skipped, rows, bad_rows: badRows, bytes }, {
    files: okFiles.length, error_files: errorFiles.length, skipped: 0, rows: nRows, bad_rows: truth.dead.length,
    bytes: taken.reduce((a, f) => a + f.size, 0),
  }, 'the JSON summary');
  assert.ok(run.summary.batches >= DS.length, `batches ${run.summary.batches}`);
});

test('re-landed identical files are skipped and moved; new content under a used name is a new file', { timeout: 60000 }, async (t) => {
  assert.ok(s.exp, 'needs the first test');
  const okWithRows = s.exp.manifest.filter((f) => f.status === 'ok' && f.rows > 0);
  const picked = new Set();
  for (const ds of DS) {
    const mine = okWithRows.filter((f) => f.dataset === ds);
    picked.add(mine.find((f) => f.bad_rows > 0) ?? mine[0]); // its dead letters must not come again
    picked.add(mine.find((f) => f.bad_rows === 0 && !picked.has(f)) ?? mine.find((f) => !picked.has(f)));
  }
  const copies = [...picked];
  const errorCopy = s.exp.manifest.find((f) => f.status === 'error' && f.path.endsWith('-latin1.csv'));
  const changed = okWithRows.find((f) => f.dataset === 'iot_sensors' && !copies.includes(f));
  for (const f of copies) fs.copyFileSync(path.join(s.landing, '_processed', f.path), path.join(s.landing, f.path));
  fs.copyFileSync(path.join(s.landing, '_error', errorCopy.path), path.join(s.landing, errorCopy.path));
  // New content under the name of a taken file.
  const L2 = new Landing(s.landing, 4242);
  const fresh = L2.dataFile('iot_sensors', path.basename(changed.path), { rows: 15, badRate: 0.25, extras: ['note'] });
  assert.equal(fresh.path, changed.path);
  assert.notEqual(fresh.sha256, changed.sha256);

  const run = await runIngest(['--landing', s.landing, '--storage', s.storage, '--pg', s.pg.uri, '--once',
    '--settle', '200ms', '--poll', '100ms'], 'ingest-again');
  t.diagnostic(`ingest --once again: ${JSON.stringify(run.summary)}`);
  const { files, error_files: errorCount, skipped, rows, bad_rows: badRows, bytes } = run.summary;
  assert.deepEqual({ files, error_files: errorCount, skipped, rows, bad_rows: badRows, bytes }, {
    files: 1, error_files: 0, skipped: copies.length + 1, rows: L2.truth.rows.iot_sensors.length,
    bad_rows: L2.truth.dead.length, bytes: fresh.size,
  }, 'the JSON summary: only the changed file is new');

  // Expected: the old state, plus the changed file as a new one; copies moved next to their twins.
  const exp = new Expected();
  exp.manifest = [...s.exp.manifest];
  for (const d of DS) exp.rows[d] = [...s.exp.rows[d]];
  exp.dead = [...s.exp.dead];
  exp.landing = new Map(s.exp.landing);
  exp.add(L2.truth);
  exp.landing.set(`_processed/${fresh.path}`, changed.sha256); // add() pointed it at the new bytes
  exp.landing.set(`_processed/${fresh.path}.1`, fresh.sha256);
  for (const f of copies) exp.landing.set(`_processed/${f.path}.1`, f.sha256);
  exp.landing.set(`_error/${errorCopy.path}.1`, errorCopy.sha256);
  const window = [s.window[0], run.ended];
  const dates = [...new Set([...s.dates, utcDate(run.started), utcDate(run.ended)])];
  const problems = await verify(exp, { landing: s.landing, storage: s.storage, pgUri: s.pg.uri, window, dates });
  assert.deepEqual(problems, [], `after re-landing:\n${problems.join('\n')}`);
});

test('SIGKILLed three times while files land, then --once: every row, dead letter and manifest row exactly once', { timeout: 150000 }, async (t) => {
  await query(s.pg.uri, 'CREATE DATABASE crash');
  const pgUri = s.pg.withDatabase('crash');
  const landing = path.join(s.tmp, 'crash-landing');
  const storage = path.join(s.tmp, 'crash-storage');
  const started = Date.now();
  const exp = new Expected();
  const counts = { iot_sensors: 28, suppliers: 14, inventory: 21, weather: 21 };
  // Wave 1 lies in the landing before the first watcher; waves 2 and 3 land while one runs, the
  // files copied in from a staging directory, a few of them in pieces 50 ms apart (--settle must
  // wait for the last one).
  const w1 = generateLanding(landing, { seed: 101, prefix: 'w1', counts, rows: [0, 200], big: 6, bigRows: [2000, 4000] });
  exp.add(w1.truth);
  const staged = [2, 3].map((w) => {
    const dir = path.join(s.tmp, `staging-${w}`);
    const L = generateLanding(dir, { seed: 100 + w, prefix: `w${w}`, counts, rows: [0, 200], big: 4, bigRows: [2000, 4000], specials: w === 3 });
    return { dir, L };
  });
  const land = async ({ dir, L }) => {
    const order = [...L.truth.files];
    for (const [i, f] of order.entries()) {
      const from = path.join(dir, f.path);
      const to = path.join(landing, f.path);
      fs.mkdirSync(path.dirname(to), { recursive: true });
      const buf = fs.readFileSync(from);
      if (i % 15 === 0 && buf.length > 1000) {
        const cut = [Math.floor(buf.length / 3), Math.floor((2 * buf.length) / 3)];
        fs.writeFileSync(to, buf.subarray(0, cut[0]));
        await sleep(50);
        fs.appendFileSync(to, buf.subarray(cut[0], cut[1]));
        await sleep(50);
        fs.appendFileSync(to, buf.subarray(cut[1]));
      } else {
        fs.writeFileSync(to, buf);
      }
      f.mtimeS = Math.floor(fs.statSync(to).mtimeMs / 1000);
      if (i % 10 === 9) await sleep(20);
    }
  };
  writeTruth(w1.truth, path.join(scope.artifacts, 'truth-w1'));
  for (const [i, x] of staged.entries()) writeTruth(x.L.truth, path.join(scope.artifacts, `truth-w${i + 2}`));
  const nFiles = w1.truth.files.length + staged.reduce((a, x) => a + x.L.truth.files.length, 0);
  const nRows = DS.reduce((a, d) => a + w1.truth.rows[d].length + staged.reduce((b, x) => b + x.L.truth.rows[d].length, 0), 0);
  t.diagnostic(`${nFiles} files, ${nRows} valid rows in three waves`);

  // Each watcher is killed at a random moment while it works: once a random share (10–60%) of the
  // files still to take has moved, plus 0–60 ms, so the kill may hit decoding, writing Parquet,
  // the commit, the rename or the moves.
  const movable = (truth) => truth.files.filter((f) => f.status !== 'ignored').length;
  const moved = () => listFiles(path.join(landing, '_processed')).length + listFiles(path.join(landing, '_error')).length;
  let landed = movable(w1.truth);
  const landings = [];
  for (let k = 0; k < 3; k++) {
    const t0 = Date.now();
    const p = scope.start(['ingest', ...PIPELINE_ARGS, '--landing', landing, '--storage', storage, '--pg', pgUri, '--watch',
      '--settle', '200ms', '--poll', '200ms', '--batch-rows', '2000'], { name: `ingest-watch-${k + 1}` });
    if (k > 0) {
      landings.push(land(staged[k - 1]));
      landed += movable(staged[k - 1].L.truth);
    }
    const base = moved();
    const target = base + randomInt(Math.ceil((landed - base) * 0.1), Math.floor((landed - base) * 0.6));
    const deadline = Date.now() + 30000;
    while (p.running && moved() < target && Date.now() < deadline) await sleep(randomInt(5, 40));
    await sleep(randomInt(0, 60));
    assert.ok(p.running, `watcher ${k + 1} ended before the kill (${JSON.stringify(p.exitInfo)}):\n${p.stderr.slice(-2000)}`);
    p.kill('SIGKILL');
    await p.exited;
    t.diagnostic(`watcher ${k + 1} SIGKILLed after ${Date.now() - t0} ms; ${moved()} of ${landed} files moved (${base} before it, target ${target})`);
  }
  await Promise.all(landings);
  for (const x of staged) exp.add(x.L.truth);
  const final = await runIngest(['--landing', landing, '--storage', storage, '--pg', pgUri, '--once', '--settle', '0s'], 'ingest-final');
  t.diagnostic(`final --once: ${JSON.stringify(final.summary)}`);

  const window = [started, final.ended];
  const dates = [...new Set([utcDate(started), utcDate(final.ended)])];
  const problems = await verify(exp, { landing, storage, pgUri, window, dates });
  assert.deepEqual(problems, [], `after three SIGKILLs:\n${problems.join('\n')}`);
  // Nothing hidden or temporary anywhere under the storage root (bronze was checked file by file).
  const hidden = listFiles(storage).filter((f) => f.split('/').some((seg) => seg.startsWith('.')) || f.includes('inprogress'));
  assert.deepEqual(hidden, [], 'no temporary file left behind');
});

test('empty strings are values, not nulls, also as the first value of a Parquet column chunk', { timeout: 60000 }, async () => {
  await query(s.pg.uri, 'CREATE DATABASE empties');
  const pgUri = s.pg.withDatabase('empties');
  const landing = path.join(s.tmp, 'empties-landing');
  const storage = path.join(s.tmp, 'empties-storage');
  // A quoted empty CSV field and a JSON "" are empty strings (an empty unquoted field is null);
  // here they are the first values their string columns see.
  const L = new Landing(landing, 1);
  L.literalFile('suppliers', 'empty-strings.csv', 'supplier_id,name,country,rating\n"SUP-E1","","",\n"",x,ES,1.5\n', [
    { row: 1, values: { supplier_id: 'SUP-E1', name: '', country: '', rating: null }, rescued: null },
    { row: 2, values: { supplier_id: '', name: 'x', country: 'ES', rating: 1.5 }, rescued: null },
  ]);
  L.literalFile('weather', 'empty-strings.json', '{"station_id":"","ts":"2025-06-01T00:00:00Z","temp_c":1,"rain_mm":0,"wind_kmh":2.5,"note":""}\n', [
    { row: 1, values: { station_id: '', ts: String(Date.UTC(2025, 5, 1) * 1000), temp_c: 1, rain_mm: 0, wind_kmh: 2.5 }, rescued: { note: '' } },
  ]);
  const run = await runIngest(['--landing', landing, '--storage', storage, '--pg', pgUri, '--once', '--settle', '0s'], 'ingest-empties');
  const exp = new Expected();
  exp.add(L.truth);
  const problems = await verify(exp, { landing, storage, pgUri, window: [run.started, run.ended],
    dates: [...new Set([utcDate(run.started), utcDate(run.ended)])] });
  assert.deepEqual(problems, [], `empty strings:\n${problems.join('\n')}`);
});
