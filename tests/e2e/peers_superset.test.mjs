// Apache Superset as a peer (the seeds served their dashboards with it): deploy/superset's bundle
// imported by `superset import-dashboards` (Superset from scripts/superset-env.sh, its metadata on
// SQLite) over a PostgreSQL that holds the telecom pipeline (speed, batch, late data the batch has
// not re-run) and the production line across a UTC midnight (one day batched, one not). Superset
// reads PostgreSQL as a read-only role whose password only travels in PGPASSWORD. Through
// Superset's REST API, every chart's data (its saved query_context, run by Superset's chart-data
// endpoint) equals a computation this test writes in SQL against the same database, exactly; both
// dashboards exist, place every chart and draw each one in Chromium; the bundle leaves out the
// production line on a database without its tables; the password is never printed nor handed out.

import { test, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { chromium } from 'playwright-core';
import { Scope, SOURCE_DIR, query, waitFor, WaitAbort, createRoleWithPassword } from '../lib/harness.mjs';

const scope = new Scope('peers_superset');
after(() => scope.cleanup());
afterEach((t) => scope.noteResult(t));

const LINE = path.join(SOURCE_DIR, 'pipelines/production_line.yaml');
const BUNDLE = path.join(SOURCE_DIR, 'deploy/superset');
const IMPORT = path.join(BUNDLE, 'import.sh');
const READER = 'superset_reader';
const CHROMIUM = process.env.LF_CHROMIUM ?? '/usr/bin/chromium';
const s = {};

// A command run to its end with `input` on stdin (Superset's prompts), logged like scope.run's.
function runWithInput(cmd, args, { input = '', env = {}, timeoutMs = 120000, name } = {}) {
  const log = fs.createWriteStream(scope.logPath(name ?? path.basename(cmd)));
  log.write(`$ ${[cmd, ...args].join(' ')}\n`);
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: SOURCE_DIR, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => { stdout += b; log.write(b); });
    child.stderr.on('data', (b) => { stderr += b; log.write(b); });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      log.end(`[exit code=${code} signal=${signal}]\n`);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

// The bundle's source YAML as JSON, read by the Python that comes with Superset.
async function readBundle() {
  const r = await scope.run(['-c', `import json, pathlib, yaml
root = pathlib.Path(${JSON.stringify(BUNDLE)})
print(json.dumps({p.relative_to(root).as_posix(): yaml.safe_load(p.read_text()) for p in root.rglob('*.yaml')}))`],
  { cmd: s.python, name: 'read-bundle', timeoutMs: 30000 });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('scripts/superset-env.sh gives a Superset; the bundle leaves out dashboards whose tables are missing', { timeout: 1200000 }, async (t) => {
  const started = Date.now();
  const env = await scope.run([], { cmd: path.join(SOURCE_DIR, 'scripts/superset-env.sh'), name: 'superset-env', timeoutMs: 1100000 });
  assert.equal(env.code, 0, env.stderr.slice(-3000));
  s.python = env.stdout.trim().split('\n').pop();
  s.superset = path.join(path.dirname(s.python), 'superset');
  assert.ok(fs.existsSync(s.superset), `${s.superset} missing`);
  t.diagnostic(`superset-env.sh took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  s.bundle = await readBundle();

  // A database with only the telecom tables: the production line's dashboard is left out.
  s.pg = await scope.startPostgres();
  await query(s.pg.uri, 'CREATE DATABASE telecom_only');
  const telecomOnly = s.pg.withDatabase('telecom_only');
  const prov = await scope.run(['provision', '--pg', telecomOnly]);
  assert.equal(prov.code, 0, prov.stderr);
  const password = `p@ss:w/rd ${crypto.randomBytes(6).toString('hex')}`;
  await createRoleWithPassword(s.pg.uri, 'bundle_probe', password);
  const zip = path.join(scope.tmpdir(), 'bundle.zip');
  const uri = new URL(telecomOnly);
  uri.username = 'bundle_probe';
  const r = await scope.run([path.join(BUNDLE, 'bundle.py'), '--out', zip], {
    cmd: s.python, name: 'bundle-telecom-only', env: { LAMBDAFLOW_PG_URI: `jdbc:${uri}`, PGPASSWORD: password } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /leaving out dashboard Lambdaflow — production line \(no .*units_per_zone/);
  // The random tail is the same plain or URL-encoded: neither form may be printed.
  assert.ok(!(r.stdout + r.stderr).includes(password.slice(-12)), 'the password is never printed');
  assert.equal(fs.statSync(zip).mode & 0o077, 0, 'the bundle is readable by its owner only');
  const list = await scope.run(['-c', `import json, sys, zipfile
print(json.dumps(zipfile.ZipFile(sys.argv[1]).namelist()))`, zip], { cmd: s.python, name: 'zip-list' });
  const names = JSON.parse(list.stdout);
  const telecom = Object.entries(s.bundle).find(([f, c]) => f.startsWith('dashboards/') && /telecom/.test(c.dashboard_title));
  assert.ok(telecom, 'the bundle has a telecom dashboard');
  assert.ok(names.some((n) => n.endsWith(`/${telecom[0]}`)), `the telecom dashboard is in the ZIP: ${names}`);
  assert.ok(!names.some((n) => /production_line|units_per_zone/.test(n)), `no production-line file in the ZIP: ${names}`);

  // Without the URI it says what to set.
  const none = await scope.run([path.join(BUNDLE, 'bundle.py'), '--out', zip], {
    cmd: s.python, name: 'bundle-no-uri', env: { LAMBDAFLOW_PG_URI: '' } });
  assert.equal(none.code, 2);
  assert.match(none.stderr, /set LAMBDAFLOW_PG_URI/);
});

// Superset's metadata database and admin, made with Superset's own commands.
async function initSuperset() {
  s.home = scope.tmpdir('lf-superset-');
  s.config = path.join(s.home, 'superset_config.py');
  fs.writeFileSync(s.config, [
    '# Written by tests/e2e/peers_superset.test.mjs',
    `SECRET_KEY = ${JSON.stringify(crypto.randomBytes(32).toString('hex'))}`,
    `SQLALCHEMY_DATABASE_URI = ${JSON.stringify('sqlite:///' + path.join(s.home, 'superset.db'))}`,
    'TALISMAN_ENABLED = False',
    'RATELIMIT_ENABLED = False',
    '',
  ].join('\n'), { mode: 0o600 });
  s.env = { SUPERSET_CONFIG_PATH: s.config, SUPERSET_HOME: s.home };
  s.admin = crypto.randomBytes(12).toString('hex');
  const run = (args, name, input) => runWithInput(s.superset, args, { env: s.env, name, input, timeoutMs: 300000 });
  const upgrade = await run(['db', 'upgrade'], 'superset-db-upgrade');
  assert.equal(upgrade.code, 0, upgrade.stderr.slice(-3000));
  // The password answers create-admin's prompt and its confirmation on stdin, never on the command line.
  const admin = await run(['fab', 'create-admin', '--username', 'admin', '--firstname', 'Lambda', '--lastname', 'Flow',
    '--email', 'admin@example.com'], 'superset-create-admin', `${s.admin}\n${s.admin}\n`);
  assert.equal(admin.code, 0, admin.stderr.slice(-3000));
  assert.match(admin.stdout + admin.stderr, /Admin User admin created/);
  const init = await run(['init'], 'superset-init');
  assert.equal(init.code, 0, init.stderr.slice(-3000));
}

// The telecom pipeline: 40 000 events over two hours and a bit, speed, batch of the two complete
// hours, then late events for the first hour that the speed layer counts and the batch has not
// re-run (so speed and batch differ there). The production line: 300 units across a midnight,
// the first day batched.
async function loadData() {
  const broker = await scope.startBroker({ topic: 'devices', partitions: 4, extraArgs: ['--topic', 'TFI'] });
  for (const args of [['provision', '--pg', s.pg.uri], ['provision', '--pg', s.pg.uri, '--pipeline', LINE]]) {
    const r = await scope.run(args);
    assert.equal(r.code, 0, r.stderr);
  }
  s.storage = path.join(scope.tmpdir(), 'lake');
  const step = async (args, what, timeoutMs = 240000) => {
    const r = await scope.run(args, { timeoutMs });
    assert.equal(r.code, 0, `${what}: ${r.stderr.slice(-2000)}`);
    return r;
  };
  const speed = ['speed', '--brokers', broker.brokers, '--pg', s.pg.uri, '--storage', s.storage, '--exit-when-idle', '3s'];
  await step(['simulate', '--brokers', broker.brokers, '--events', '40000', '--devices', '22', '--interval', '4s',
    '--start', '2026-11-22T06:00:00Z', '--seed', '9'], 'simulate telecom');
  await step(speed, 'speed telecom');
  const batch = await step(['batch', '--storage', s.storage, '--pg', s.pg.uri, '--pending'], 'batch telecom');
  assert.ok(batch.stdout.trim().split('\n').length >= 2, `two hours batched: ${batch.stdout}`);
  await step(['simulate', '--brokers', broker.brokers, '--events', '300', '--devices', '22', '--interval', '4s',
    '--start', '2026-11-22T06:10:00Z', '--seed', '11'], 'simulate late telecom events');
  await step(speed, 'speed over the late events');

  await step(['simulate', '--pipeline', LINE, '--units', '300', '--start', '2026-11-22T23:30:00Z', '--seed', '5',
    broker.brokers, 'TFI'], 'simulate the line');
  await step(['speed', '--pipeline', LINE, broker.brokers, 'TFI', '--pg', s.pg.uri, '--storage', s.storage,
    '--exit-when-idle', '3s'], 'speed the line');
  await step(['batch', '--pipeline', LINE, '--storage', s.storage, '--pg', s.pg.uri, '--pending'], 'batch the line');

  // What the charts must show is there: otherwise an empty comparison would prove nothing.
  const [{ n: differing }] = await query(s.pg.uri, `SELECT count(*)::int AS n FROM speed_batch_diff WHERE diff <> 0`);
  assert.ok(differing > 0, 'late events make speed and batch differ for some keys');
  const days = await query(s.pg.uri, `SELECT unit_start FROM lf_batch_units WHERE pipeline = 'production_line' AND status = 'ok'`);
  assert.equal(days.length, 1, 'the first day of the line is batched');
  const [{ n: lineDays }] = await query(s.pg.uri, 'SELECT count(*)::int AS n FROM daily_production');
  assert.equal(lineDays, 2, 'the line crosses a midnight');

  // Superset's role: may read, nothing else; its password is only ever in PGPASSWORD.
  s.readerPassword = `r:e@d/er ${crypto.randomBytes(8).toString('hex')}`;
  await createRoleWithPassword(s.pg.uri, READER, s.readerPassword);
  await query(s.pg.uri, `GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${READER}`);
}

test('Superset initialised on SQLite; PostgreSQL holds the telecom pipeline and the production line', { timeout: 900000 }, async () => {
  assert.ok(s.pg, 'set-up failed');
  await Promise.all([initSuperset(), loadData()]);
});

test('deploy/superset/import.sh imports the bundle with the URI and password from the environment', { timeout: 300000 }, async () => {
  assert.ok(s.readerPassword && s.admin, 'set-up failed');
  const uri = new URL(s.pg.uri);
  uri.username = READER;
  const tmp = scope.tmpdir('lf-superset-import-');
  const r = await scope.run([], {
    cmd: IMPORT, name: 'import.sh', timeoutMs: 240000,
    env: { ...s.env, LAMBDAFLOW_PG_URI: uri.toString(), PGPASSWORD: s.readerPassword, TMPDIR: tmp },
  });
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr.slice(-3000)}`);
  assert.match(r.stdout, /2 dashboard\(s\)/);
  assert.ok(!(r.stdout + r.stderr).includes(s.readerPassword.slice(-16)), 'import.sh never prints the password');
  assert.deepEqual(fs.readdirSync(tmp), [], 'the bundle, which holds the password, is removed');

  // The web server, on the loopback interface only.
  const web = scope.start(['-w', '1', '--threads', '4', '--no-control-socket', '--timeout', '120', '-b', '127.0.0.1:0',
    'superset.app:create_app()'], { cmd: path.join(path.dirname(s.python), 'gunicorn'), name: 'superset-gunicorn', env: s.env });
  const m = await waitFor(() => {
    if (!web.running) throw new Error(`gunicorn exited: ${web.stderr.slice(-2000)}`);
    return web.stderr.match(/Listening at: http:\/\/127\.0\.0\.1:(\d+)/);
  }, { timeoutMs: 60000, what: 'gunicorn listening' });
  s.web = web;
  s.base = `http://127.0.0.1:${m[1]}`;
  await waitFor(async () => (await fetch(`${s.base}/health`)).ok, { timeoutMs: 120000, intervalMs: 500, what: 'Superset /health' });
  const login = await fetch(`${s.base}/api/v1/security/login`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: s.admin, provider: 'db', refresh: false }),
  });
  const body = await login.text();
  assert.equal(login.status, 200, body);
  s.token = JSON.parse(body).access_token;
  assert.ok(s.token, 'a JWT from /api/v1/security/login');

  // The database Superset keeps: the reader's URI, its password masked by the API.
  const dbs = await api('/api/v1/database/?q=(columns:!(id,database_name,uuid))');
  const bundleDb = Object.entries(s.bundle).find(([f]) => f.startsWith('databases/'))[1];
  const db = dbs.result.find((d) => d.uuid === bundleDb.uuid);
  assert.ok(db, `database ${bundleDb.uuid} imported: ${JSON.stringify(dbs.result)}`);
  const conn = await api(`/api/v1/database/${db.id}/connection`);
  assert.match(conn.result.sqlalchemy_uri, new RegExp(`^postgresql\\+psycopg2://${READER}:X+@127\\.0\\.0\\.1:${s.pg.port}/lambdaflow$`));
  assert.ok(!JSON.stringify(conn).includes(s.readerPassword.slice(-16)), 'the API never hands out the password');
});

async function api(p) {
  const res = await fetch(s.base + p, { headers: { Authorization: `Bearer ${s.token}` } });
  const text = await res.text();
  assert.equal(res.status, 200, `${p}: HTTP ${res.status} ${text.slice(0, 2000)}`);
  return JSON.parse(text);
}

// ---- what each chart must show, computed here in SQL ----------------------------------------

const ms = (col) => `(extract(epoch FROM ${col})::bigint * 1000)::text`;
const num = (v) => (v === null || v === undefined ? null : Number(v));
// The telecom serving layer per SPEC 1.6: bytes_hourly for the hours the batch has run, the speed
// layer's 5-minute windows rolled up to the hour elsewhere.
const LAMBDA_HOURS = `
  WITH batched AS (SELECT DISTINCT hour FROM lf_batch_runs WHERE status = 'ok'),
  merged AS (
    SELECT "timestamp" AS h, id, value FROM bytes_hourly WHERE type = $1 AND "timestamp" IN (SELECT hour FROM batched)
    UNION ALL
    SELECT date_trunc('hour', "timestamp"), id, value FROM bytes
    WHERE type = $1 AND date_trunc('hour', "timestamp") NOT IN (SELECT hour FROM batched))`;
// The production line's daily metrics: the batch table for days the batch has run, speed elsewhere.
const lineDaily = (metric, groups) => `
  WITH done AS (SELECT unit_start FROM lf_batch_units WHERE pipeline = 'production_line' AND status = 'ok')
  SELECT ${ms('window_start')} AS x, ${groups ? `${groups} AS series,` : ''} sum(value)::text AS v FROM (
    SELECT window_start, ${groups ? `${groups},` : ''} value FROM ${metric}_batch
    WHERE date_trunc('day', window_start) IN (SELECT unit_start FROM done)
    UNION ALL
    SELECT window_start, ${groups ? `${groups},` : ''} value FROM ${metric}
    WHERE date_trunc('day', window_start) NOT IN (SELECT unit_start FROM done)) m
  GROUP BY 1 ${groups ? ', 2' : ''}`;

// A pivoted time-series result ({x, series1: v, series2: v, …}, null where a series has no row)
// as sorted [x, series, value] triples.
function unpivot(rows, x) {
  const out = [];
  for (const r of rows) {
    for (const [k, v] of Object.entries(r)) if (k !== x && v !== null) out.push([num(r[x]), k, num(v)]);
  }
  return sortTuples(out);
}
const sortTuples = (xs) => xs.sort((a, b) => JSON.stringify(a) < JSON.stringify(b) ? -1 : JSON.stringify(a) > JSON.stringify(b) ? 1 : 0);
const triples = (rows, series) => sortTuples(rows.map((r) => [num(r.x), series ?? r.series, num(r.v)]));

// Each chart of the bundle by uuid (deploy/superset/charts/*.yaml): what its data rows must equal.
const CHECKS = {
  // Bytes per antenna, 5-minute windows (speed layer)
  '99b4243b-8ded-454a-ac86-0c0e7504bfc7': async (rows) => assert.deepEqual(unpivot(rows, 'timestamp'), triples(await query(s.pg.uri,
    `SELECT ${ms('"timestamp"')} AS x, id AS series, sum(value)::text AS v FROM bytes WHERE type = 'antenna_bytes_total' GROUP BY 1, 2`))),
  // Bytes per antenna per hour (batch where run, speed elsewhere)
  'f439a6cc-80b9-4049-93bf-d4c0e63a2a28': async (rows) => assert.deepEqual(unpivot(rows, 'timestamp'), triples(await query(s.pg.uri,
    `${LAMBDA_HOURS} SELECT ${ms('h')} AS x, id AS series, sum(value)::text AS v FROM merged GROUP BY 1, 2`, ['antenna_bytes_total']))),
  // Top users by bytes: the ten largest totals of the serving layer, largest first.
  'bd94050c-5ae8-4ffb-8017-2de3dbf62b80': async (rows) => {
    const all = await query(s.pg.uri, `${LAMBDA_HOURS} SELECT id, sum(value)::text AS v FROM merged GROUP BY id`, ['user_bytes_total']);
    assertTop(rows, all, 10);
  },
  // Bytes per app (pie), largest first.
  '071d3d3f-6790-4cf5-9f0f-10f4a325a542': async (rows) => {
    const all = await query(s.pg.uri, `${LAMBDA_HOURS} SELECT id, sum(value)::text AS v FROM merged GROUP BY id`, ['app_bytes_total']);
    assertTop(rows, all, 100);
    assert.equal(rows.length, all.length, 'every app');
  },
  // Users over quota per hour
  '7a57d668-507c-498a-aadf-947ab46170a5': async (rows) => assert.deepEqual(unpivot(rows, 'timestamp'), triples(await query(s.pg.uri,
    `SELECT ${ms('"timestamp"')} AS x, count(DISTINCT email)::text AS v FROM user_quota_limit GROUP BY 1`), 'users_over_quota')),
  // Users over quota (every row, newest hour first, then by usage)
  '1d680d93-0cbc-4337-8e12-a7fa7d1754c3': async (rows) => {
    const want = await query(s.pg.uri, `SELECT ${ms('"timestamp"')} AS t, email, usage::text, quota::text FROM user_quota_limit`);
    const key = (r) => [num(r.timestamp ?? r.t), r.email, num(r.usage), num(r.quota)];
    assert.deepEqual(sortTuples(rows.map(key)), sortTuples(want.map(key)));
    for (let i = 1; i < rows.length; i++) {
      const [a, b] = [rows[i - 1], rows[i]];
      assert.ok(a.timestamp > b.timestamp || (a.timestamp === b.timestamp && a.usage >= b.usage), `row ${i} out of order`);
    }
  },
  // Speed vs batch per hour: the reconciliation, computed here from bytes and bytes_hourly.
  '18d1036f-46c0-42ca-b42b-7d4e17fa4c29': async (rows) => {
    const want = await query(s.pg.uri, `
      WITH batched AS (SELECT DISTINCT hour FROM lf_batch_runs WHERE status = 'ok'),
      speed AS (SELECT date_trunc('hour', "timestamp") AS h, id, type, sum(value) AS v FROM bytes GROUP BY 1, 2, 3),
      batch AS (SELECT "timestamp" AS h, id, type, value AS v FROM bytes_hourly WHERE type <> 'user_email_bytes_total')
      SELECT ${ms('h')} AS t, type, count(*)::text AS keys,
             sum(CASE WHEN coalesce(sv, 0) <> coalesce(bv, 0) THEN 1 ELSE 0 END)::text AS differing,
             sum(abs(coalesce(sv, 0) - coalesce(bv, 0)))::text AS abs_diff
      FROM (SELECT coalesce(s.h, b.h) AS h, coalesce(s.type, b.type) AS type, s.v AS sv, b.v AS bv
            FROM (SELECT * FROM speed WHERE h IN (SELECT hour FROM batched)) s
            FULL JOIN (SELECT * FROM batch WHERE h IN (SELECT hour FROM batched)) b
              ON s.h = b.h AND s.id = b.id AND s.type = b.type) j
      GROUP BY 1, 2`);
    const key = (r) => [num(r.timestamp ?? r.t), r.type, num(r.keys), num(r.keys_differing ?? r.differing), num(r.abs_diff)];
    assert.deepEqual(sortTuples(rows.map(key)), sortTuples(want.map(key)));
    assert.ok(rows.some((r) => r.keys_differing > 0), 'the late events show as differences');
  },
  // Events applied per partition
  'a99a2033-392a-49ca-aca9-913497da899d': async (rows) => assert.deepEqual(unpivot(rows, 'partition'), triples(await query(s.pg.uri,
    `SELECT partition AS x, pipeline AS series, sum(events)::text AS v FROM lf_offsets WHERE sink LIKE 'pg:%' GROUP BY 1, 2`))),
  // Pipeline health
  '478de2d7-c0ed-4466-8499-77cc774d2b95': async (rows) => {
    const want = await query(s.pg.uri, `SELECT pipeline, sink, topic, sum(events)::text AS events_applied,
      sum(bad)::text AS bad_records, sum(late)::text AS late_records, sum(lost)::text AS lost_records, sum(lag)::text AS consumer_lag
      FROM lf_offsets GROUP BY 1, 2, 3`);
    const key = (r) => [r.pipeline, r.sink, r.topic, ...['events_applied', 'bad_records', 'late_records', 'lost_records', 'consumer_lag'].map((c) => num(r[c]))];
    assert.deepEqual(sortTuples(rows.map(key)), sortTuples(want.map(key)));
  },
  // Events applied (big number)
  'd8651ecb-0565-4370-b7da-93c9b47a730c': async (rows) => {
    const [want] = await query(s.pg.uri, `SELECT sum(events)::text AS v FROM lf_offsets WHERE sink LIKE 'pg:%'`);
    assert.deepEqual(rows.map((r) => num(r.events_applied)), [num(want.v)]);
  },
  // Units per zone, 5-minute windows
  'e7865fc6-9de6-473e-8039-6fde0abdeab2': async (rows) => assert.deepEqual(unpivot(rows, 'window_start'), triples(await query(s.pg.uri,
    `SELECT ${ms('window_start')} AS x, zone_id AS series, sum(value)::text AS v FROM units_per_zone GROUP BY 1, 2`))),
  // Defects per zone, 5-minute windows
  '614b83d3-c57b-4b2d-baa9-aa654f99db5d': async (rows) => assert.deepEqual(unpivot(rows, 'window_start'), triples(await query(s.pg.uri,
    `SELECT ${ms('window_start')} AS x, zone_charged_id AS series, sum(value)::text AS v FROM defects_per_zone GROUP BY 1, 2`))),
  // Defects per zone per day (batch where run, speed elsewhere)
  'c5de3ded-0f99-4180-8bbf-0fdfe14af712': async (rows) => assert.deepEqual(unpivot(rows, 'window_start'),
    triples(await query(s.pg.uri, lineDaily('defects_per_zone_daily', 'zone_charged_id')))),
  // Units produced per day (batch where run, speed elsewhere)
  '0a9f936c-cd2b-483d-a7e4-ed864e91e626': async (rows) => assert.deepEqual(unpivot(rows, 'window_start'),
    triples(await query(s.pg.uri, lineDaily('daily_production')), 'units_produced')),
  // Throughput: 100 × (produced − defective) / produced per day, from the two daily tables; both
  // sides divide in IEEE doubles, so equality is exact.
  '12c2996a-ac1e-4c40-bf38-764b773361a5': async (rows) => {
    const days = await query(s.pg.uri, `SELECT ${ms('coalesce(p.window_start, d.window_start)')} AS x,
      p.value::text AS p, d.value::text AS d FROM daily_production p FULL JOIN defective_units_daily d USING (window_start)`);
    const want = days.filter((r) => num(r.p)).map((r) => [num(r.x), 'throughput_pct', (100 * (num(r.p) - (num(r.d) ?? 0))) / num(r.p)]);
    assert.deepEqual(unpivot(rows, 'window_start'), sortTuples(want));
  },
};

// `rows` ({id, total_bytes}) are the `limit` largest of `all` ({id, v}) with their exact totals,
// largest first; ties at the cut may be either.
function assertTop(rows, all, limit) {
  const totals = new Map(all.map((r) => [r.id, num(r.v)]));
  assert.equal(rows.length, Math.min(limit, all.length), 'row count');
  for (const r of rows) assert.equal(num(r.total_bytes), totals.get(r.id), `total of ${r.id}`);
  for (let i = 1; i < rows.length; i++) assert.ok(rows[i - 1].total_bytes >= rows[i].total_bytes, `row ${i} out of order`);
  const shown = new Set(rows.map((r) => r.id));
  const cut = Math.min(...rows.map((r) => num(r.total_bytes)));
  for (const [id, v] of totals) if (!shown.has(id)) assert.ok(v <= cut, `${id} (${v}) belongs in the top ${limit}`);
}

// The chart's saved query asks for what its form data (params) shows: same metrics, dimensions,
// filters, time grain and row limit, on the dataset the chart is bound to.
function assertQueryMatchesParams(chart, qc) {
  const p = JSON.parse(chart.params);
  assert.deepEqual(qc.datasource, { id: chart.datasource_id, type: 'table' }, 'query_context datasource');
  const q = qc.queries[0];
  const metrics = p.metrics ?? (p.metric ? [p.metric] : []);
  assert.deepEqual(q.metrics, metrics, 'metrics');
  const dims = p.query_mode === 'raw' ? p.all_columns : [...(p.x_axis ? [p.x_axis] : []), ...(p.groupby ?? [])];
  assert.deepEqual(q.columns.map((c) => (typeof c === 'string' ? c : c.label)), dims, 'columns');
  const filters = (p.adhoc_filters ?? []).map((f) => ({ col: f.subject, op: f.operator, val: f.comparator }));
  assert.deepEqual(q.filters, filters, 'filters');
  assert.equal(q.extras?.time_grain_sqla, p.time_grain_sqla, 'time grain');
  const grain = q.columns.find((c) => typeof c === 'object')?.timeGrain;
  assert.equal(grain, p.time_grain_sqla, 'time grain of the x axis');
  assert.equal(q.row_limit, p.row_limit ?? q.row_limit, 'row limit');
}

test('every chart\'s data from Superset\'s chart-data API equals SQL on the same database', { timeout: 300000 }, async (t) => {
  assert.ok(s.token, 'Superset did not start');
  const bundleCharts = Object.entries(s.bundle).filter(([f]) => f.startsWith('charts/')).map(([, c]) => c);
  const list = await api('/api/v1/chart/?q=(page_size:100,columns:!(id,uuid,slice_name,viz_type,params,datasource_id))');
  assert.deepEqual(list.result.map((c) => c.uuid).sort(), bundleCharts.map((c) => c.uuid).sort(), 'Superset has exactly the bundle\'s charts');
  assert.deepEqual(Object.keys(CHECKS).sort(), bundleCharts.map((c) => c.uuid).sort(), 'this test checks every chart of the bundle');
  s.charts = list.result;
  const failures = [];
  for (const chart of list.result) {
    try {
      const shown = await api(`/api/v1/chart/${chart.id}`);
      assert.ok(shown.result.query_context, 'the chart carries a query_context');
      assertQueryMatchesParams(chart, JSON.parse(shown.result.query_context));
      const data = await api(`/api/v1/chart/${chart.id}/data/?format=json&type=full&force=true`);
      assert.equal(data.result.length, 1, 'one query');
      const [res] = data.result;
      assert.equal(res.status, 'success', res.error ?? '');
      assert.ok(res.data.length > 0, 'at least one row');
      await CHECKS[chart.uuid](res.data);
      t.diagnostic(`${chart.slice_name} (${chart.viz_type}): ${res.data.length} rows equal SQL`);
    } catch (e) {
      failures.push(`${chart.slice_name} (${chart.uuid}): ${e.message.slice(0, 1500)}`);
    }
  }
  assert.deepEqual(failures, []);
  assert.ok(!s.web.output.includes(s.readerPassword.slice(-16)), 'Superset\'s log never shows the password');
});

test('both dashboards exist and place every chart', { timeout: 60000 }, async () => {
  assert.ok(s.charts, 'charts not listed');
  const bundleDashboards = Object.entries(s.bundle).filter(([f]) => f.startsWith('dashboards/')).map(([, d]) => d);
  assert.equal(bundleDashboards.length, 2);
  const list = await api('/api/v1/dashboard/?q=(columns:!(id,uuid,dashboard_title,slug,published))');
  const byUuid = new Map(s.charts.map((c) => [c.uuid, c.id]));
  const placed = new Set();
  s.dashboards = [];
  for (const want of bundleDashboards) {
    const dash = list.result.find((d) => d.uuid === want.uuid);
    assert.ok(dash, `dashboard ${want.dashboard_title} imported`);
    assert.equal(dash.dashboard_title, want.dashboard_title);
    assert.equal(dash.published, true);
    const shown = (await api(`/api/v1/dashboard/${dash.id}`)).result;
    assert.equal(JSON.parse(shown.json_metadata).refresh_frequency, 10, 'refreshes every 10 s, as in the seeds');
    const charts = await api(`/api/v1/dashboard/${dash.id}/charts`);
    const layout = JSON.parse(shown.position_json);
    const inLayout = Object.values(layout).filter((n) => n?.type === 'CHART').map((n) => n.meta.chartId).sort((a, b) => a - b);
    const wanted = Object.values(want.position).filter((n) => n?.type === 'CHART').map((n) => byUuid.get(n.meta.uuid));
    assert.ok(!wanted.includes(undefined), `${want.dashboard_title} places only charts Superset has`);
    assert.deepEqual(charts.result.map((c) => c.id).sort((a, b) => a - b), [...wanted].sort((a, b) => a - b), `${want.dashboard_title}'s charts`);
    assert.deepEqual(inLayout, [...wanted].sort((a, b) => a - b), `${want.dashboard_title}'s layout points at the imported charts`);
    for (const id of wanted) placed.add(id);
    s.dashboards.push({ slug: dash.slug, title: dash.dashboard_title, chartIds: [...wanted].sort((a, b) => a - b) });
  }
  assert.deepEqual([...placed].sort((a, b) => a - b), s.charts.map((c) => c.id).sort((a, b) => a - b), 'every chart is on a dashboard');
});

// What a browser shows is drawn from each chart's form data (params), not from its saved query: so
// both dashboards are opened in Chromium, and every chart must draw (ink on its canvas, rows in its
// table, the figure of the big number) without an error.
test('both dashboards draw every chart in a browser', { timeout: 300000 }, async (t) => {
  assert.ok(s.dashboards?.length === 2, 'dashboards not checked');
  assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} missing: run scripts/install-deps.sh (Debian package chromium)`);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  scope.defer(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1600, height: 1400 } });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(`${s.base}/login/`);
  await page.fill('#username', 'admin');
  await page.fill('#password', s.admin);
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/superset\/welcome\//, { timeout: 60000 });
  const [{ v: events }] = await query(s.pg.uri, `SELECT sum(events)::text AS v FROM lf_offsets WHERE sink LIKE 'pg:%'`);
  for (const dash of s.dashboards) {
    const started = Date.now();
    await page.goto(`${s.base}/superset/dashboard/${dash.slug}/`);
    const holders = () => page.evaluate(() => [...document.querySelectorAll('.dashboard-component-chart-holder')].map((h) => {
      let ink = 0;
      for (const c of h.querySelectorAll('canvas')) {
        const px = c.getContext('2d')?.getImageData(0, 0, c.width, c.height).data ?? [];
        for (let i = 3; i < px.length; i += 4) if (px[i] > 0) ink += 1;
      }
      return {
        id: Number(h.querySelector('[data-test-chart-id]')?.getAttribute('data-test-chart-id')),
        viz: h.querySelector('[data-test-viz-type]')?.getAttribute('data-test-viz-type'),
        name: h.querySelector('[data-test-chart-name]')?.getAttribute('data-test-chart-name'),
        ink,
        rows: h.querySelectorAll('tbody tr').length,
        text: h.innerText,
        error: Boolean(h.querySelector('[data-icon="close-circle"]')) || /Data error|Unexpected error/.test(h.innerText),
      };
    }));
    const drawn = (c) => c.ink > 0 || c.rows > 0 || (c.viz === 'big_number_total' && /\d/.test(c.text));
    const shown = await waitFor(async () => {
      const cs = await holders();
      const failed = cs.filter((c) => c.error);
      if (failed.length) throw new WaitAbort(`${dash.title}: ${failed.map((c) => `${c.name}: ${c.text.replace(/\s+/g, ' ').slice(0, 300)}`).join('; ')}`);
      return cs.length === dash.chartIds.length && cs.every(drawn) && cs;
    }, { timeoutMs: 120000, intervalMs: 1000, what: `every chart of ${dash.title} drawn` }).finally(async () => {
      // Kept in tests/artifacts/ when the test fails; taken once the charts' drawing animation is over.
      await page.waitForTimeout(1500);
      await page.screenshot({ path: path.join(scope.artifacts, `${dash.slug}.png`), fullPage: true });
    });
    assert.deepEqual(shown.map((c) => c.id).sort((a, b) => a - b), dash.chartIds, `${dash.title} draws its charts`);
    for (const c of shown.filter((x) => x.viz === 'big_number_total')) {
      assert.match(c.text.replace(/\s+/g, ''), new RegExp(Number(events).toLocaleString('en-US')), `${c.name} shows the events applied`);
    }
    t.diagnostic(`${dash.title}: ${shown.length} charts drawn in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  assert.deepEqual(pageErrors, [], 'no script error in the page');
});
