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
import crypto from 'node:crypto';
import { Scope, SOURCE_DIR, query, withDuckDB, lastJsonLine, sleep, randomInt } from '../lib/harness.mjs';
import { DATASETS, Landing, generateLanding, writeTruth } from '../lib/landing.mjs';

const scope = new Scope('ingest_files');
after(() => scope.cleanup());
afterEach((t) => scope.noteResult(t));

const DS = Object.keys(DATASETS);
const PIPELINE_ARGS = DS.flatMap((d) => ['--pipeline', path.join(SOURCE_DIR, `pipelines/farmia/${d}.yaml`)]);
const sqlStr = (s) => `'${String(s).replace(/'/g, "''")}'`;
const utcDate = (ms) => new Date(ms).toISOString().slice(0, 10);
const sha256 = (buf) => crypto.createHash('sha256').update(buf).digest('hex');

// Canonical text of a value with object keys sorted (rescued JSON is compared parsed).
function canon(v) {
  if (Array.isArray(v)) return '[' + v.map(canon).join(',') + ']';
  if (v !== null && typeof v === 'object') {
    return '{' + Object.keys(v).sort().map((k) => JSON.stringify(k) + ':' + canon(v[k])).join(',') + '}';
  }
  return JSON.stringify(v);
}

// What the landing, bronze, dead_letters and lf_ingested_files must hold, built from the truth.
class Expected {
  constructor() {
    this.manifest = []; // truth file entries (not the ignored ones), one per (pipeline, path, sha256)
    this.rows = Object.fromEntries(DS.map((d) => [d, []]));
    this.dead = [];
    this.landing = new Map(); // relative path under the landing root → sha256
  }

  add(truth) {
    for (const f of truth.files) {
      if (f.status === 'ignored') {
        this.landing.set(f.path, f.sha256);
        continue;
      }
      this.manifest.push(f);
      this.landing.set(`${f.status === 'ok' ? '_processed' : '_error'}/${f.path}`, f.sha256);
    }
    for (const d of DS) this.rows[d].push(...truth.rows[d]);
    this.dead.push(...truth.dead);
  }
}

function listFiles(root) {
  const out = [];
  const walk = (rel) => {
    for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else out.push(r);
    }
  };
  if (fs.existsSync(root)) walk('');
  return out.sort();
}

async function runIngest(args, name, timeoutMs = 120000) {
  const started = Date.now();
  const r = await scope.run(['ingest', ...PIPELINE_ARGS, ...args], { name, timeoutMs });
  const ended = Date.now();
  assert.equal(r.code, 0, `${name} exited ${r.code} (${r.signal})\n${r.stderr.slice(-3000)}`);
  const summary = lastJsonLine(r.stdout);
  assert.ok(summary, `${name}: the last stdout line must be the JSON summary, got ${JSON.stringify(r.stdout.slice(-300))}`);
  return { ...r, summary, started, ended };
}

async function readBronze(conn, storage, ds) {
  const dir = path.join(storage, 'bronze', ds);
  if (listFiles(dir).filter((f) => f.endsWith('.parquet')).length === 0) return [];
  const cols = DATASETS[ds].fields.map((f) => {
    if (f.type === 'timestamp') return `epoch_us("${f.name}")::VARCHAR AS "${f.name}"`;
    if (f.type === 'int64') return `"${f.name}"::VARCHAR AS "${f.name}"`;
    return `"${f.name}"`; // VARCHAR and DOUBLE come back as JS strings and numbers
  });
  const reader = await conn.runAndReadAll(`
    SELECT ${cols.join(', ')}, epoch_us(_ingested_at)::VARCHAR AS _ingested_at, _source_file,
           _source_row::VARCHAR AS _source_row, _topic, _partition, _offset::VARCHAR AS _offset, _schema_id,
           _batch_id, _rescued_data, ingest_date::VARCHAR AS ingest_date
    FROM read_parquet(${sqlStr(path.join(dir, '**', '*.parquet'))}, hive_partitioning = true)`);
  return reader.getRowObjects();
}

// Compares everything against `exp`; returns a list of problems (empty when all is exact).
// `window`: [ms, ms] within which every manifest row and bronze row of `since` must have been
// ingested; `dates`: the UTC dates ingest_date may take.
async function verify(exp, { landing, storage, pgUri, window, dates }) {
  const problems = [];
  const note = (area, list) => {
    for (const p of list.slice(0, 12)) problems.push(`${area}: ${p}`);
    if (list.length > 12) problems.push(`${area}: … ${list.length - 12} more`);
  };

  // lf_ingested_files: one row per (pipeline, path, sha256), as the truth says.
  const manifest = await query(pgUri, `SELECT pipeline, path, size::text AS size, extract(epoch FROM mtime)::bigint::text AS mtime,
    sha256, batch_id, rows::text AS rows, bad_rows::text AS bad_rows, status, error,
    (extract(epoch FROM ingested_at) * 1000)::bigint::text AS ingested_ms FROM lf_ingested_files`);
  const mkey = (pipeline, p, sha) => `${pipeline}|${p}|${sha}`;
  const batchOf = new Map();
  {
    const list = [];
    const want = new Map(exp.manifest.map((f) => [mkey(f.pipeline, f.path, f.sha256), f]));
    for (const m of manifest) {
      const k = mkey(m.pipeline, m.path, m.sha256);
      if (batchOf.has(k)) list.push(`duplicate manifest row ${k}`);
      batchOf.set(k, m.batch_id);
      const f = want.get(k);
      if (!f) {
        list.push(`unexpected manifest row ${JSON.stringify(m)}`);
        continue;
      }
      const got = { size: m.size, mtime: m.mtime, status: m.status, rows: m.rows, bad_rows: m.bad_rows };
      const wanted = { size: String(f.size), mtime: String(f.mtimeS), status: f.status, rows: String(f.rows), bad_rows: String(f.bad_rows) };
      if (canon(got) !== canon(wanted)) list.push(`${k}: ${canon(got)} != expected ${canon(wanted)}`);
      if (f.status === 'ok' && m.error !== null) list.push(`${k}: error ${JSON.stringify(m.error)} on a file taken whole`);
      if (f.status === 'error' && !(m.error && f.errorRe.test(m.error))) list.push(`${k}: error ${JSON.stringify(m.error)} does not match ${f.errorRe}`);
      if (!m.batch_id) list.push(`${k}: no batch_id`);
      const at = Number(m.ingested_ms);
      if (at < window[0] - 1000 || at > window[1] + 1000) list.push(`${k}: ingested_at ${new Date(at).toISOString()} outside the run`);
    }
    for (const [k] of want) if (!batchOf.has(k)) list.push(`missing manifest row ${k}`);
    note('lf_ingested_files', list);
  }

  // Bronze: per dataset the multiset of (file, row, batch, values, rescued) equals the truth.
  await withDuckDB(async (conn) => {
    for (const ds of DS) {
      const list = [];
      const fields = DATASETS[ds].fields.map((f) => f.name);
      const pipeline = DATASETS[ds].pipeline;
      const want = new Map();
      for (const r of exp.rows[ds]) {
        const k = `${r._source_file}#${r._source_row}`;
        const batch = batchOf.get(mkey(pipeline, r._source_file, r.file_sha256)) ?? '(no manifest row)';
        if (!want.has(k)) want.set(k, []);
        want.get(k).push(canon({ batch, values: r.values, rescued: r._rescued_data }));
      }
      const got = new Map();
      const rows = await readBronze(conn, storage, ds);
      for (const r of rows) {
        const k = `${r._source_file}#${r._source_row}`;
        let rescued = r._rescued_data;
        if (rescued !== null) {
          try {
            rescued = JSON.parse(rescued);
            if (rescued === null || typeof rescued !== 'object' || Array.isArray(rescued)) list.push(`${k}: _rescued_data ${r._rescued_data} is not a JSON object`);
          } catch {
            list.push(`${k}: _rescued_data is not JSON: ${r._rescued_data}`);
          }
        }
        const values = Object.fromEntries(fields.map((f) => [f, r[f]]));
        if (!got.has(k)) got.set(k, []);
        got.get(k).push(canon({ batch: r._batch_id, values, rescued }));
        for (const c of ['_topic', '_partition', '_offset', '_schema_id']) if (r[c] !== null) list.push(`${k}: ${c} = ${r[c]}, must be null for files`);
        const at = Number(BigInt(r._ingested_at) / 1000n);
        if (at < window[0] - 1000 || at > window[1] + 1000) list.push(`${k}: _ingested_at ${new Date(at).toISOString()} outside the run`);
        if (r.ingest_date !== utcDate(at)) list.push(`${k}: ingest_date ${r.ingest_date} is not the UTC date of _ingested_at ${new Date(at).toISOString()}`);
        if (!dates.includes(r.ingest_date)) list.push(`${k}: ingest_date ${r.ingest_date} is not today (${dates.join(' or ')})`);
      }
      for (const [k, w] of want) {
        const g = got.get(k) ?? [];
        const ws = [...w].sort();
        const gs = [...g].sort();
        if (canon(ws) === canon(gs)) continue;
        if (g.length === 0) list.push(`missing ${k}: ${ws[0]}`);
        else if (g.length > w.length) list.push(`${k} is in bronze ${g.length} times (expected ${w.length}): ${gs.join(' | ')}`);
        else list.push(`${k} differs:\n      bronze   ${gs.join(' | ')}\n      expected ${ws.join(' | ')}`);
      }
      for (const [k, g] of got) if (!want.has(k)) list.push(`unexpected row ${k} (${g.length}x): ${g[0]}`);
      const expectedCount = exp.rows[ds].length;
      if (rows.length !== expectedCount) list.unshift(`${rows.length} rows, expected ${expectedCount}`);
      note(`bronze/${ds}`, list);
    }
  });

  // Bronze layout: only ingest_date=YYYY-MM-DD/part-*.parquet, no temporary or hidden file.
  {
    const list = [];
    for (const f of listFiles(path.join(storage, 'bronze'))) {
      const m = f.match(/^([a-z_]+)\/ingest_date=(\d{4}-\d{2}-\d{2})\/part-[^/]*\.parquet$/);
      if (!m || !DS.includes(m[1])) list.push(`unexpected file bronze/${f}`);
      else if (!dates.includes(m[2])) list.push(`bronze/${f}: partition ${m[2]} is not today`);
    }
    note('bronze files', list);
  }

  // dead_letters: exactly the bad rows, each once, with the raw text and a sensible reason.
  {
    const list = [];
    const dead = await query(pgUri, `SELECT pipeline, source_file, source_row::text AS source_row, payload, error,
      topic, partition, "offset"::text AS "offset" FROM dead_letters`);
    const dkey = (p, f, r) => `${p}|${f}|${r}`;
    const want = new Map();
    for (const d of exp.dead) {
      const k = dkey(d.pipeline, d.source_file, d.source_row);
      if (!want.has(k)) want.set(k, []);
      want.get(k).push(d);
    }
    const seen = new Map();
    for (const r of dead) {
      const k = dkey(r.pipeline, r.source_file, r.source_row);
      const cands = want.get(k);
      if (!cands) {
        list.push(`unexpected dead letter ${k}: ${JSON.stringify(r.payload?.toString('utf8'))} (${r.error})`);
        continue;
      }
      const payload = r.payload ?? Buffer.alloc(0);
      const d = cands.find((c) => (c.trimmed ? payload.toString('utf8').trim() === c.payload.toString('utf8') : payload.equals(c.payload)));
      if (!d) {
        list.push(`dead letter ${k}: payload ${JSON.stringify(payload.toString('utf8'))} != expected ${cands.map((c) => JSON.stringify(c.payload.toString('utf8'))).join(' or ')}`);
        continue;
      }
      const n = (seen.get(d) ?? 0) + 1;
      seen.set(d, n);
      if (n > 1) list.push(`dead letter ${k} (${d.kind}) is there ${n} times`);
      if (!r.error || !d.reasonRe.test(r.error)) list.push(`dead letter ${k} (${d.kind}): reason ${JSON.stringify(r.error)} does not match ${d.reasonRe}`);
      if (r.topic !== null || r.partition !== null || r.offset !== null) list.push(`dead letter ${k}: Kafka columns must be null`);
    }
    for (const d of exp.dead) if (!seen.has(d)) list.push(`missing dead letter ${dkey(d.pipeline, d.source_file, d.source_row)} (${d.kind}): ${JSON.stringify(d.payload.toString('utf8'))}`);
    if (dead.length !== exp.dead.length) list.unshift(`${dead.length} dead letters, expected ${exp.dead.length}`);
    note('dead_letters', list);
  }

  // The landing: every taken file under _processed/ or _error/ (same bytes), the others untouched.
  {
    const list = [];
    const have = new Map(listFiles(landing).map((f) => [f, null]));
    for (const [p, sha] of exp.landing) {
      if (!have.has(p)) {
        list.push(`${p} missing`);
        continue;
      }
      const got = sha256(fs.readFileSync(path.join(landing, p)));
      if (got !== sha) list.push(`${p}: content changed`);
    }
    for (const [p] of have) if (!exp.landing.has(p)) list.push(`unexpected ${p}`);
    note('landing', list);
  }
  return problems;
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
