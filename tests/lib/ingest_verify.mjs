// What the ingestion engine's file tests expect and how they check it: the truth of
// tests/lib/landing.mjs's generator against bronze (read by DuckDB), dead_letters,
// lf_ingested_files and the landing directory. Used by tests/e2e/ingest_files and
// tests/torture/ingest_torture.

import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { SOURCE_DIR, query, withDuckDB } from './harness.mjs';
import { DATASETS } from './landing.mjs';

export const DS = Object.keys(DATASETS);
export const PIPELINE_ARGS = DS.flatMap((d) => ['--pipeline', path.join(SOURCE_DIR, `pipelines/farmia/${d}.yaml`)]);
export const sqlStr = (s) => `'${String(s).replace(/'/g, "''")}'`;
export const utcDate = (ms) => new Date(ms).toISOString().slice(0, 10);
export const sha256 = (buf) => crypto.createHash('sha256').update(buf).digest('hex');

// Canonical text of a value with object keys sorted (rescued JSON is compared parsed).
export function canon(v) {
  if (Array.isArray(v)) return '[' + v.map(canon).join(',') + ']';
  if (v !== null && typeof v === 'object') {
    return '{' + Object.keys(v).sort().map((k) => JSON.stringify(k) + ':' + canon(v[k])).join(',') + '}';
  }
  return JSON.stringify(v);
}

// What the landing, bronze, dead_letters and lf_ingested_files must hold, built from the truth.
export class Expected {
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

export function listFiles(root) {
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

export async function readBronze(conn, storage, ds) {
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
export async function verify(exp, { landing, storage, pgUri, window, dates }) {
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
