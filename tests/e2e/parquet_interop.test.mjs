// Parquet interoperability with DuckDB as the independent oracle.
//  1. DuckDB writes files (every codec, v1 and v2 format versions, dictionary and plain pages,
//     nulls, several row groups); `parquet_tool dump` (our reader) must return exactly the values
//     DuckDB reads back from the same file.
//  2. We write files (`parquet_tool write-ndjson`, our writer) from rows generated here; DuckDB
//     must read exactly those rows, with the types we declared (timestamp as TIMESTAMP WITH TIME
//     ZONE), and accept our statistics.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

const buildDir = process.env.LF_BUILD_DIR ?? path.resolve('build/parquet');
const tool = path.join(buildDir, 'src/parquet/parquet_tool');
let dir;
let conn;

before(async () => {
  assert.ok(fs.existsSync(tool), `parquet_tool not built at ${tool}`);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lf-parquet-interop-'));
  const db = await DuckDBInstance.create(':memory:');
  conn = await db.connect();
});

after(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const toPlain = (v) => (typeof v === 'bigint' ? Number(v) : v);

async function duckRows(sql) {
  const reader = await conn.runAndReadAll(sql);
  return reader.getRowObjects().map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, toPlain(v)])));
}

function dump(file, extra = []) {
  const out = execFileSync(tool, ['dump', file, ...extra], { encoding: 'utf8', maxBuffer: 1 << 28 });
  return out.split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

function pages(file) {
  const out = execFileSync(tool, ['pages', file], { encoding: 'utf8', maxBuffer: 1 << 26 });
  return out.split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

// A table with every type we read, nulls in each nullable column, a low-cardinality string
// (dictionary pages) and a unique string (plain / delta pages once the dictionary gives up).
const SOURCE = `
  SELECT
    range::BIGINT * 7919 - 1000000 AS big,
    CASE WHEN range % 7 = 3 THEN NULL ELSE (range * 31 % 1000 - 500)::INTEGER END AS small,
    CASE WHEN range % 11 = 5 THEN NULL ELSE range / 8.0 - 123.25 END::DOUBLE AS dbl,
    (range % 13 / 4.0)::REAL AS flt,
    CASE WHEN range % 5 = 0 THEN NULL ELSE range % 3 = 0 END AS flag,
    CASE WHEN range % 9 = 2 THEN NULL ELSE 'app-' || (range % 17) END AS app,
    md5(range::VARCHAR) || CASE WHEN range % 4 = 0 THEN '-é' ELSE '' END AS uniq,
    TIMESTAMPTZ '2026-11-22 09:00:00+00' + to_microseconds(range * 997) AS ts
  FROM range(30000)`;

const COLUMNS = ['big', 'small', 'dbl', 'flt', 'flag', 'app', 'uniq', 'ts'];
const SELECT_ORACLE = `big, small, dbl, flt::DOUBLE AS flt, flag, app, uniq, epoch_us(ts) AS ts`;

const variants = [];
for (const codec of ['zstd', 'snappy', 'gzip', 'uncompressed']) {
  for (const version of ['v1', 'v2']) {
    variants.push({ codec, version, extra: '' });
  }
}
variants.push({ codec: 'zstd', version: 'v1', extra: ', DICTIONARY_SIZE_LIMIT 1', tag: 'nodict' });
variants.push({ codec: 'snappy', version: 'v2', extra: ', DICTIONARY_SIZE_LIMIT 1', tag: 'nodict' });

for (const v of variants) {
  const name = `duckdb_${v.codec}_${v.version}${v.tag ? '_' + v.tag : ''}`;
  test(`our reader returns DuckDB's values: ${name}`, async () => {
    const file = path.join(dir, `${name}.parquet`);
    await conn.run(`COPY (${SOURCE}) TO '${file}' (FORMAT parquet, COMPRESSION ${v.codec}, ` +
      `PARQUET_VERSION ${v.version}, ROW_GROUP_SIZE 10000${v.extra})`);
    const expected = await duckRows(`SELECT ${SELECT_ORACLE} FROM read_parquet('${file}')`);
    const ours = dump(file);
    assert.equal(ours.length, 30000);
    assert.equal(expected.length, 30000);
    for (let i = 0; i < expected.length; i++) {
      assert.deepEqual(ours[i], expected[i], `row ${i} of ${name}`);
    }
    // Strings read as a table of values plus indices (the batch layer's form) give the same rows.
    const indexed = dump(file, ['--indexed']);
    assert.equal(indexed.length, 30000);
    for (let i = 0; i < expected.length; i++) {
      assert.deepEqual(indexed[i], expected[i], `row ${i} of ${name}, --indexed`);
    }
    // The file really exercises what the name says.
    const meta = JSON.parse(execFileSync(tool, ['meta', file], { encoding: 'utf8' }));
    assert.ok(meta.row_groups.length >= 2, 'several row groups');
    const codecName = v.codec === 'uncompressed' ? 'UNCOMPRESSED' : v.codec.toUpperCase();
    assert.equal(meta.row_groups[0].columns[0].codec, codecName);
    // Our reading of the statistics (used for row-group skipping) agrees with DuckDB's.
    const stats = await duckRows(`SELECT row_group_id, stats_min_value, stats_max_value, stats_null_count
      FROM parquet_metadata('${file}') WHERE path_in_schema = 'big' ORDER BY row_group_id`);
    assert.equal(stats.length, meta.row_groups.length);
    for (const st of stats) {
      const ours = meta.row_groups[st.row_group_id].columns[0];
      assert.equal(ours.min, Number(st.stats_min_value));
      assert.equal(ours.max, Number(st.stats_max_value));
      assert.equal(ours.null_count, st.stats_null_count);
    }
    const encodings = new Set(pages(file).flatMap((c) => c.pages.map((p) => p.encoding).filter(Boolean)));
    if (v.tag === 'nodict') {
      assert.ok(!encodings.has('RLE_DICTIONARY') && !encodings.has('PLAIN_DICTIONARY'), [...encodings].join());
    } else {
      assert.ok(encodings.has('RLE_DICTIONARY') || encodings.has('PLAIN_DICTIONARY'), [...encodings].join());
    }
    if (v.version === 'v2') assert.ok(encodings.has('DELTA_BINARY_PACKED'), [...encodings].join());
  });
}

test('projection and a single row group', async () => {
  const file = path.join(dir, 'projection.parquet');
  await conn.run(`COPY (${SOURCE}) TO '${file}' (FORMAT parquet, ROW_GROUP_SIZE 10000)`);
  const meta = JSON.parse(execFileSync(tool, ['meta', file], { encoding: 'utf8' }));
  assert.ok(meta.row_groups.length >= 2);
  const first = meta.row_groups[0].num_rows, second = meta.row_groups[1].num_rows;
  const ours = dump(file, ['--columns', 'uniq,big', '--row-group', '1']);
  const expected = await duckRows(`SELECT uniq, big FROM read_parquet('${file}') LIMIT ${second} OFFSET ${first}`);
  assert.equal(ours.length, second);
  assert.deepEqual(ours, expected);
  assert.deepEqual(Object.keys(ours[0]), ['uniq', 'big']);
});

// Deterministic rows for the writer direction.
function makeRows(n, seed) {
  let x = seed;
  const rnd = () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x;
  };
  const apps = ['netflix', 'youtube', 'spotify', 'whatsapp', 'tiktok', 'zoom'];
  const rows = [];
  for (let i = 0; i < n; i++) {
    rows.push({
      bytes: rnd() * 1000 + (rnd() % 1000),
      timestamp: 1795338000000000 + i * 1000 + (rnd() % 1000),
      app: apps[rnd() % apps.length],
      id: `device-${rnd() % 5000}`,
      antenna_id: `antenna-${rnd() % 40}${i % 97 === 0 ? '-ü"\\' : ''}`,
    });
  }
  return rows;
}

for (const codec of ['zstd', 'snappy', 'gzip', 'none']) {
  for (const v2 of [false, true]) {
    const name = `ours_lake_${codec}${v2 ? '_v2' : ''}`;
    test(`DuckDB reads our lake file exactly: ${name}`, async () => {
      const rows = makeRows(20000, codec.length + (v2 ? 100 : 0));
      const ndjson = path.join(dir, `${name}.ndjson`);
      const file = path.join(dir, `${name}.parquet`);
      fs.writeFileSync(ndjson, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
      const args = ['write-ndjson', ndjson, file, '--codec', codec, '--row-group-rows', '7000'];
      if (v2) args.push('--v2');
      execFileSync(tool, args);
      const types = await duckRows(`DESCRIBE SELECT * FROM read_parquet('${file}')`);
      assert.deepEqual(types.map((t) => [t.column_name, t.column_type]), [
        ['bytes', 'BIGINT'], ['timestamp', 'TIMESTAMP WITH TIME ZONE'], ['app', 'VARCHAR'],
        ['id', 'VARCHAR'], ['antenna_id', 'VARCHAR']]);
      const got = await duckRows(`SELECT bytes, epoch_us("timestamp") AS "timestamp", app, id, antenna_id FROM read_parquet('${file}')`);
      assert.equal(got.length, rows.length);
      for (let i = 0; i < rows.length; i++) assert.deepEqual(got[i], rows[i], `row ${i}`);
      // DuckDB sees 3 row groups with our statistics, and they agree with the data.
      const stats = await duckRows(`SELECT row_group_id, path_in_schema, stats_min_value, stats_max_value, stats_null_count
        FROM parquet_metadata('${file}') WHERE path_in_schema = 'bytes' ORDER BY row_group_id`);
      assert.equal(stats.length, 3);
      for (const s of stats) {
        const slice = rows.slice(s.row_group_id * 7000, (s.row_group_id + 1) * 7000).map((r) => r.bytes);
        assert.equal(Number(s.stats_min_value), Math.min(...slice));
        assert.equal(Number(s.stats_max_value), Math.max(...slice));
        assert.equal(s.stats_null_count, 0);
      }
      // A filter DuckDB answers through our file equals the same filter on the source rows.
      const [{ n }] = await duckRows(`SELECT count(*) AS n FROM read_parquet('${file}') WHERE app = 'zoom' AND bytes > 1000000000`);
      assert.equal(n, rows.filter((r) => r.app === 'zoom' && r.bytes > 1000000000).length);
    });
  }
}

test('DuckDB reads our optional columns of every type exactly', async () => {
  const rows = [];
  for (let i = 0; i < 5000; i++) {
    rows.push({
      l: i % 4 === 0 ? null : i * 1000003 - 2500000000,
      n: i % 5 === 1 ? null : (i * 7) % 20000 - 10000,
      d: i % 6 === 2 ? null : i / 3 - 400.125,
      b: i % 7 === 3 ? null : i % 2 === 0,
      s: i % 8 === 4 ? null : `s-${i % 50}`,
      t: i % 9 === 5 ? null : 1700000000000000 + i,
    });
  }
  const ndjson = path.join(dir, 'optional.ndjson');
  const file = path.join(dir, 'optional.parquet');
  fs.writeFileSync(ndjson, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  execFileSync(tool, ['write-ndjson', ndjson, file, '--schema', 'l:int64?,n:int32?,d:double?,b:bool?,s:string?,t:timestamp?']);
  const types = await duckRows(`DESCRIBE SELECT * FROM read_parquet('${file}')`);
  assert.deepEqual(types.map((t) => t.column_type), ['BIGINT', 'INTEGER', 'DOUBLE', 'BOOLEAN', 'VARCHAR', 'TIMESTAMP WITH TIME ZONE']);
  const got = await duckRows(`SELECT l, n, d, b, s, epoch_us(t) AS t FROM read_parquet('${file}')`);
  assert.deepEqual(got, rows);
  // And our reader agrees with DuckDB on our own file.
  assert.deepEqual(dump(file), rows);
});

test('a broken file gives a clear error naming the file', async () => {
  const good = path.join(dir, 'good.parquet');
  await conn.run(`COPY (${SOURCE}) TO '${good}' (FORMAT parquet)`);
  const bytes = fs.readFileSync(good);
  const cases = [
    ['truncated', bytes.subarray(0, bytes.length >> 1), /bad footer magic/],
    ['garbage-footer', Buffer.concat([bytes.subarray(0, bytes.length - 8), Buffer.from([0xff, 0xff, 0xff, 0x00]), Buffer.from('PAR1')]), /footer length \d+ exceeds/],
  ];
  for (const [label, data, pattern] of cases) {
    const file = path.join(dir, `${label}.parquet`);
    fs.writeFileSync(file, data);
    const r = spawnSync(tool, ['dump', file], { encoding: 'utf8' });
    assert.notEqual(r.status, 0, label);
    assert.match(r.stderr, pattern, label);
    assert.ok(r.stderr.includes(file), `${label}: ${r.stderr}`);
  }
});
