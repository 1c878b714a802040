// `lambdaflow provision`: the tables of SPEC §1.2–1.4 and dead_letters with their columns, the 20 users
// of SPEC §1.2, idempotence (a second run changes neither schema nor data), and adoption of a database
// that already has the seeds' original tables (adds what is missing, keeps every row).

import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { Scope, query, withPg, pgBinDir } from '../lib/harness.mjs';

const execFileP = promisify(execFile);

// SPEC §1.2, transcribed: ids 00000000-0000-0000-0000-0000000000NN, email <name>@gmail.com.
const SPEC_USERS = [
  [1, 'andres', 200000], [2, 'paco', 300000], [3, 'juan', 100000], [4, 'fede', 5000],
  [5, 'gorka', 200000], [6, 'luis', 200000], [7, 'eric', 300000], [8, 'carlos', 100000],
  [9, 'david', 300000], [10, 'juanchu', 300000], [11, 'charo', 300000], [12, 'delicidas', 1000000],
  [13, 'milagros', 200000], [14, 'antonio', 1000000], [15, 'sergio', 1000000], [16, 'maria', 1000000],
  [17, 'cristina', 300000], [18, 'lucia', 300000], [19, 'carlota', 200000], [20, 'emilio', 200000],
].map(([n, name, quota]) => ({
  id: `00000000-0000-0000-0000-${String(n).padStart(12, '0')}`, name, email: `${name}@gmail.com`, quota: String(quota),
}));

const COLUMNS = {
  user_metadata: [['id', 'text'], ['name', 'text'], ['email', 'text'], ['quota', 'bigint']],
  bytes: [['timestamp', 'timestamp without time zone'], ['id', 'text'], ['value', 'bigint'], ['type', 'text']],
  bytes_hourly: [['timestamp', 'timestamp without time zone'], ['id', 'text'], ['value', 'bigint'], ['type', 'text']],
  user_quota_limit: [['email', 'text'], ['usage', 'bigint'], ['quota', 'bigint'], ['timestamp', 'timestamp without time zone']],
};
const DEAD_LETTER_COLUMNS = [['received_at', 'timestamp with time zone'], ['topic', 'text'], ['partition', 'integer'],
  ['offset', 'bigint'], ['payload', 'bytea'], ['error', 'text']];

const scope = new Scope('provision_idempotent');
after(() => scope.cleanup());
afterEach((t) => scope.noteResult(t));

let pg;
before(async () => {
  pg = await scope.startPostgres();
});

async function provision(uri) {
  const r = await scope.run(['provision', '--pg', uri], { timeoutMs: 60000 });
  assert.equal(r.code, 0, `provision exited ${r.code}/${r.signal}: ${r.stdout}\n${r.stderr}`);
  return r;
}

// Schema (pg_dump --schema-only) plus every user table's rows, sorted, as one comparable text.
async function snapshot(uri) {
  const u = new URL(uri);
  const { stdout: schema } = await execFileP(path.join(pgBinDir(), 'pg_dump'), ['--schema-only', '-h', u.hostname,
    '-p', u.port, '-U', decodeURIComponent(u.username), '-d', u.pathname.slice(1)], { maxBuffer: 64 << 20 });
  const tables = await query(uri, `SELECT schemaname, tablename FROM pg_tables
    WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2`);
  const data = await withPg(uri, async (c) => {
    const parts = [];
    for (const { schemaname, tablename } of tables) {
      const name = `${c.escapeIdentifier(schemaname)}.${c.escapeIdentifier(tablename)}`;
      const rows = (await c.query(`SELECT t::text AS r FROM ${name} t`)).rows.map((r) => r.r).sort();
      parts.push(`-- ${name} (${rows.length} rows)\n${rows.join('\n')}`);
    }
    return parts.join('\n');
  });
  // pg_dump ≥ 15.14 brackets its output with \restrict <random key>: not part of the schema.
  return { schema: schema.split('\n').filter((l) => !/^\\(un)?restrict /.test(l)).join('\n'), data };
}

// Lines only before / only after, for a readable failure.
function assertSame(before, afterRun, what) {
  if (before === afterRun) return;
  const a = before.split('\n');
  const b = afterRun.split('\n');
  const gone = a.filter((l) => !b.includes(l)).slice(0, 10);
  const added = b.filter((l) => !a.includes(l)).slice(0, 10);
  assert.fail(`${what} changed on the second provision run\n  only before: ${JSON.stringify(gone)}\n  only after: ${JSON.stringify(added)}`);
}

async function columns(uri, table) {
  const rows = await query(uri, `SELECT column_name, data_type FROM information_schema.columns
    WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position`, [table]);
  return rows.map((r) => [r.column_name, r.data_type]);
}

async function uniqueKeys(uri, table) {
  const rows = await query(uri, `SELECT array_agg(a.attname::text ORDER BY a.attname) AS cols
    FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY (i.indkey)
    WHERE n.nspname = 'public' AND c.relname = $1 AND i.indisunique GROUP BY i.indexrelid`, [table]);
  return rows.map((r) => r.cols.join(','));
}

async function users(uri) {
  return query(uri, 'SELECT id, name, email, quota::text AS quota FROM user_metadata ORDER BY id, name, email, quota');
}

test('fresh database: tables, columns, keys and the 20 users of SPEC §1.2', async () => {
  await provision(pg.uri);
  for (const [table, cols] of Object.entries(COLUMNS)) {
    assert.deepEqual(await columns(pg.uri, table), cols, `columns of ${table}`);
  }
  const dl = await columns(pg.uri, 'dead_letters');
  for (const c of DEAD_LETTER_COLUMNS) assert.ok(dl.some((x) => x[0] === c[0] && x[1] === c[1]), `dead_letters lacks ${c}: ${JSON.stringify(dl)}`);
  assert.ok((await uniqueKeys(pg.uri, 'bytes')).includes('id,timestamp,type'), 'bytes must be unique on (timestamp, id, type)');
  const internal = await query(pg.uri, `SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE 'lf\\_%'`);
  assert.ok(internal.length >= 1, 'internal lf_ tables (committed offsets) exist');
  assert.deepEqual(await users(pg.uri), SPEC_USERS);
});

test('fresh database: a second provision changes nothing', async () => {
  const before = await snapshot(pg.uri);
  await provision(pg.uri);
  const afterRun = await snapshot(pg.uri);
  assertSame(before.schema, afterRun.schema, 'schema');
  assertSame(before.data, afterRun.data, 'data');
  assert.deepEqual(await users(pg.uri), SPEC_USERS);
});

test("database with the seeds' original tables: adds what is missing, keeps every row", async () => {
  await query(pg.uri, 'CREATE DATABASE legacy');
  const uri = pg.withDatabase('legacy');
  const original = {
    user_metadata: [
      ['00000000-0000-0000-0000-000000000001', 'andres', 'andres@gmail.com', 200000],
      ['00000000-0000-0000-0000-000000000004', 'fede', 'fede@gmail.com', 5000],
      ['00000000-0000-0000-0000-000000000020', 'emilio', 'emilio@gmail.com', 200000],
      ['00000000-0000-0000-0000-000000000099', 'tester', 'tester@example.com', 12345],
    ],
    bytes: [
      ['2020-09-19 20:00:00', 'SKYPE', 1234, 'app_bytes_total'],
      ['2020-09-19 20:05:00', 'SKYPE', 99, 'app_bytes_total'],
      ['2020-09-19 20:00:00', '00000000-0000-0000-0000-000000000001', 500, 'user_bytes_total'],
      ['2020-09-19 20:00:00', '00000000-0000-0000-0000-000000000000', 7, 'antenna_bytes_total'],
    ],
    bytes_hourly: [
      ['2020-09-19 20:00:00', 'andres@gmail.com', 42, 'user_email_bytes_total'],
      ['2020-09-19 20:00:00', 'FACEBOOK', 4242, 'app_bytes_total'],
    ],
    user_quota_limit: [
      ['fede@gmail.com', 9000, 5000, '2020-09-19 20:00:00'],
    ],
  };
  await withPg(uri, async (c) => {
    await c.query('CREATE TABLE user_metadata(id TEXT, name TEXT, email TEXT, quota BIGINT)');
    await c.query('CREATE TABLE bytes(timestamp TIMESTAMP, id TEXT, value BIGINT, type TEXT)');
    await c.query('CREATE TABLE bytes_hourly(timestamp TIMESTAMP, id TEXT, value BIGINT, type TEXT)');
    await c.query('CREATE TABLE user_quota_limit(email TEXT, usage BIGINT, quota BIGINT, timestamp TIMESTAMP)');
    for (const [table, rows] of Object.entries(original)) {
      for (const row of rows) await c.query(`INSERT INTO ${table} VALUES ($1, $2, $3, $4)`, row);
    }
  });
  const rowsOf = async (table) => (await query(uri, `SELECT t::text AS r FROM ${table} t`)).map((r) => r.r);
  const beforeRows = {};
  for (const table of Object.keys(original)) beforeRows[table] = await rowsOf(table);

  await provision(uri);

  for (const [table, rows] of Object.entries(beforeRows)) {
    const now = await rowsOf(table);
    for (const r of rows) assert.ok(now.includes(r), `${table} lost row ${r}`);
    if (table !== 'user_metadata') assert.equal(now.length, rows.length, `${table} row count changed`);
  }
  for (const [table, cols] of Object.entries(COLUMNS)) {
    const got = await columns(uri, table);
    assert.deepEqual(got.slice(0, cols.length), cols, `columns of ${table}`);
  }
  assert.ok((await uniqueKeys(uri, 'bytes')).includes('id,timestamp,type'), 'bytes must become unique on (timestamp, id, type)');
  assert.ok((await columns(uri, 'dead_letters')).length >= DEAD_LETTER_COLUMNS.length, 'dead_letters created');
  // All 20 users, each exactly once, and the operator's own user kept.
  const u = await users(uri);
  for (const su of SPEC_USERS) {
    assert.equal(u.filter((x) => x.id === su.id).length, 1, `user ${su.name} must appear exactly once`);
    assert.ok(u.some((x) => x.id === su.id && x.name === su.name && x.email === su.email && x.quota === su.quota), `user ${su.name}`);
  }
  assert.ok(u.some((x) => x.name === 'tester'), 'existing non-SPEC user kept');
  assert.equal(u.length, 21);

  const snap1 = await snapshot(uri);
  await provision(uri);
  const snap2 = await snapshot(uri);
  assertSame(snap1.schema, snap2.schema, 'schema');
  assertSame(snap1.data, snap2.data, 'data');
});

// Starting speed (and batch) on a complete schema does no DDL: another session's open writes on
// every table (ROW EXCLUSIVE, what a running or just-killed writer holds) must not block it. DDL
// (ALTER TABLE … ADD COLUMN IF NOT EXISTS takes ACCESS EXCLUSIVE) would wait for that session.
test('speed and batch start without DDL locks on a provisioned database', { timeout: 180000 }, async () => {
  const broker = await scope.startBroker({ topic: 'devices', partitions: 2 });
  const lake = path.join(scope.tmpdir(), 'lake');
  await withPg(pg.uri, async (c) => {
    await c.query('BEGIN');
    const tables = (await c.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`)).rows.map((r) => r.tablename);
    assert.ok(tables.includes('lf_offsets') && tables.includes('bytes'), JSON.stringify(tables));
    for (const t of tables) await c.query(`LOCK TABLE ${c.escapeIdentifier(t)} IN ROW EXCLUSIVE MODE`);
    try {
      const speed = await scope.run(['speed', '--brokers', broker.brokers, '--pg', pg.uri, '--storage', lake,
        '--exit-when-idle', '2s'], { timeoutMs: 60000 });
      assert.equal(speed.code, 0, `speed: ${speed.signal ?? ''} ${speed.stderr.slice(-1500)}`);
      const batch = await scope.run(['batch', '--storage', lake, '--pg', pg.uri, '--pending'], { timeoutMs: 60000 });
      assert.equal(batch.code, 0, `batch: ${batch.signal ?? ''} ${batch.stderr.slice(-1500)}`);
      assert.doesNotMatch(batch.stderr, /provisioning/);
    } finally {
      await c.query('ROLLBACK');
    }
  });
});
