// Wide-layout metric tables (SPEC §4) against an oracle: both sides as Maps from
// "window_epoch|group values…" to the value's text.

import assert from 'node:assert/strict';
import { query, withDuckDB } from './harness.mjs';

// The rows of metric table (or view) `name` with group columns `groups`; asserts no key repeats.
export async function readMetricTable(uri, name, groups, valueSql = 'value::text') {
  const cols = groups.map((c) => `, "${c}"::text AS "${c}"`).join('');
  const rows = await query(uri, `SELECT extract(epoch FROM window_start)::bigint::text AS w${cols},
    ${valueSql} AS v FROM "${name}"`);
  const map = new Map();
  for (const r of rows) {
    const key = [r.w, ...groups.map((c) => r[c])].join('|');
    assert.ok(!map.has(key), `${name}: duplicate row ${key}`);
    map.set(key, r.v);
  }
  return map;
}

// Runs `sql` in DuckDB with EVENTS replaced by `source` (a table expression); the last column is
// the value, the others the key.
export async function duckdbMap(source, sql) {
  return withDuckDB(async (conn) => {
    const r = await conn.runAndReadAll(sql.replaceAll('EVENTS', source));
    return new Map(r.getRows().map((row) => [row.slice(0, -1).map(String).join('|'), String(row[row.length - 1])]));
  });
}

// Equal maps; numbers within a relative `tolerance` when given.
export function assertSameRows(expected, actual, label, { tolerance = 0 } = {}) {
  const problems = [];
  for (const [k, v] of expected) {
    if (!actual.has(k)) problems.push(`missing ${k} = ${v}`);
    else if (tolerance ? Math.abs(Number(actual.get(k)) - Number(v)) > tolerance * Math.max(1, Math.abs(Number(v)))
      : actual.get(k) !== v) problems.push(`${k}: expected ${v}, got ${actual.get(k)}`);
  }
  for (const k of actual.keys()) if (!expected.has(k)) problems.push(`extra ${k} = ${actual.get(k)}`);
  assert.ok(expected.size > 0, `${label}: the oracle is empty`);
  assert.deepEqual(problems.slice(0, 10), [], `${label}: ${problems.length} differences (${expected.size} rows expected)`);
}

const sqlList = (files) => files.map((f) => `'${f.replace(/'/g, "''")}'`).join(', ');

// Telecom oracle tables in DuckDB connection `conn`: `users` (id, email, quota) from the
// user_metadata rows given, and `ev` (bytes, h = event-time hour in Unix seconds, app, id,
// antenna_id) from the simulator's NDJSON files.
export async function loadTelecomEvents(conn, ndjsonPaths, users) {
  await conn.run('CREATE TABLE users (id VARCHAR, email VARCHAR, quota BIGINT)');
  for (const u of users) await conn.run(`INSERT INTO users VALUES ('${u.id}', '${u.email}', ${u.quota})`);
  await conn.run(`CREATE TABLE ev AS SELECT bytes, timestamp - (((timestamp % 3600) + 3600) % 3600) AS h, app, id, antenna_id
    FROM read_json([${sqlList(ndjsonPaths)}], format = 'newline_delimited',
      columns = {bytes: 'BIGINT', timestamp: 'BIGINT', app: 'VARCHAR', id: 'VARCHAR', antenna_id: 'VARCHAR'})`);
}
