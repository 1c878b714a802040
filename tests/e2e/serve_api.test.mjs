// `lambdaflow serve`, its HTTP surface end to end: a private PostgreSQL holding hand-made rows of
// both layers (speed windows for two hours, batch results for the first), every JSON endpoint
// compared with SQL computed here, bad parameters → 400 naming the parameter, path traversal →
// 404, /metrics parsed as Prometheus text, Server-Sent Events on NOTIFY and by polling, the
// auth token, /healthz when PostgreSQL stops, and a clean exit on SIGTERM.

import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { Scope, query, sleep, waitFor } from '../lib/harness.mjs';
import { startServe, rawRequest, parsePrometheus, openEventStream } from '../lib/serve.mjs';

const scope = new Scope('serve_api');
after(() => scope.cleanup());
afterEach((t) => scope.noteResult(t));

const s = {};
const U = (n) => `00000000-0000-0000-0000-0000000000${n}`; // provision's users: 01 andres, 03 juan, 04 fede
const RANGE = 'from=2026-11-22T09:00:00Z&to=2026-11-22T11:00:00Z';
const get = async (path, headers = {}) => {
  const res = await fetch(s.url + path, { headers, redirect: 'manual' });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: res.status, headers: res.headers, text, json };
};
const num = (v) => (v === null ? null : Number(v));

before(async () => {
  s.pg = await scope.startPostgres();
  const prov = await scope.run(['provision', '--pg', s.pg.uri], { timeoutMs: 60000 });
  assert.equal(prov.code, 0, prov.stderr);
  // Speed layer: 24 five-minute windows 09:00..10:55 for two antennas, three users, two apps.
  await query(s.pg.uri, `
    INSERT INTO bytes ("timestamp", id, value, type)
    SELECT timestamp '2026-11-22 09:00' + k * interval '5 minutes', key, base + k * step, type
    FROM generate_series(0, 23) AS k,
         (VALUES ('ant-1', 1000, 7, 'antenna_bytes_total'), ('ant-2', 2000, 3, 'antenna_bytes_total'),
                 ('${U('01')}', 9000, 1, 'user_bytes_total'), ('${U('03')}', 9000, 2, 'user_bytes_total'),
                 ('${U('04')}', 500, 1, 'user_bytes_total'),
                 ('YOUTUBE', 5000, 1, 'app_bytes_total'), ('SKYPE', 3000, 0, 'app_bytes_total'))
           AS v(key, base, step, type)`);
  // Batch layer for 09:00 only: antennas (ant-2 differs by 10), users (andres differs by 1000),
  // emails; no apps. user_quota_limit for 09:00 names fede only.
  await query(s.pg.uri, `
    INSERT INTO bytes_hourly ("timestamp", id, value, type)
    SELECT timestamp '2026-11-22 09:00', id,
           sum(value) + CASE WHEN id = 'ant-2' THEN 10 WHEN id = '${U('01')}' THEN 1000 ELSE 0 END, type
    FROM bytes WHERE "timestamp" < '2026-11-22 10:00' AND type IN ('antenna_bytes_total', 'user_bytes_total')
    GROUP BY id, type
    UNION ALL
    SELECT timestamp '2026-11-22 09:00', u.email, sum(b.value) + CASE WHEN u.email = 'andres@gmail.com' THEN 1000 ELSE 0 END,
           'user_email_bytes_total'
    FROM bytes b JOIN user_metadata u ON u.id = b.id
    WHERE b."timestamp" < '2026-11-22 10:00' AND b.type = 'user_bytes_total' GROUP BY u.email`);
  await query(s.pg.uri, `INSERT INTO user_quota_limit (email, usage, quota, "timestamp")
    VALUES ('fede@gmail.com', 7000, 5000, '2026-11-22 09:00')`);
  // Progress: watermark = min(10:58, 10:56, 10:59) - 60 s = 10:55:00, so only the 10:55 window is
  // open. The lake sink's row must not be counted twice.
  const t = (hms) => Date.parse(`2026-11-22T${hms}Z`) / 1000;
  await query(s.pg.uri, `INSERT INTO lf_offsets (pipeline, sink, topic, partition, next_offset, max_event_time_s,
      events, bad, late, lost, lag, updated_at) VALUES
    ('lambdaflow-speed', 'pg:bytes', 'devices', 0, 1001, ${t('10:58:00')}, 1000, 1, 0, 0, 3, now() - interval '20 seconds'),
    ('lambdaflow-speed', 'pg:bytes', 'devices', 1, 2000, ${t('10:56:00')}, 2000, 0, 5, 0, 0, now() - interval '10 seconds'),
    ('lambdaflow-speed', 'pg:bytes', 'devices', 2, 3009, ${t('10:59:00')}, 3000, 2, 0, 7, 11, now() - interval '30 seconds'),
    ('lambdaflow-speed', 'lake:/tmp/lake', 'devices', 0, 99999, ${t('11:30:00')}, 99999, 9, 9, 9, 0, now())`);
  await query(s.pg.uri, `INSERT INTO lf_data_loss (pipeline, topic, partition, from_offset, to_offset, lost)
    VALUES ('lambdaflow-speed', 'devices', 2, 1995, 2002, 7)`);
  await query(s.pg.uri, `INSERT INTO dead_letters (topic, partition, "offset", payload, error)
    VALUES ('devices', 0, 5, 'x', 'json: bad'), ('devices', 2, 8, '{', 'json: truncated')`);
  const serve = await startServe(scope, s.pg.uri);
  s.url = serve.url;
  s.port = serve.port;
  s.serve = serve.proc;
});

test('/healthz answers ok while PostgreSQL is up', async () => {
  const r = await get('/healthz');
  assert.equal(r.status, 200);
  assert.equal(r.text.trim(), 'ok');
});

test('/api/pipelines without a catalog (no provision --pipeline yet): an empty list, not an error', async () => {
  const r = await get('/api/pipelines');
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, []);
  const m = await get('/api/metric?pipeline=telecom&metric=antenna_bytes_total');
  assert.ok(m.status === 404 || m.status === 503, `${m.status} ${m.text}`);
  assert.ok(m.json && typeof m.json.error === 'string', m.text);
});

test('/api/windows: every 5-minute window of the range, with SQL values and open marks', async () => {
  const r = await get(`/api/windows?type=antenna_bytes_total&${RANGE}`);
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers.get('content-type'), /application\/json/);
  const want = await query(s.pg.uri, `SELECT to_char("timestamp", 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS t, id, value::text AS v
    FROM bytes WHERE type = 'antenna_bytes_total' ORDER BY id, "timestamp"`);
  assert.equal(r.json.rows.length, 48);
  assert.deepEqual(r.json.rows.map((x) => [x.t, x.id, String(x.value)]), want.map((x) => [x.t, x.id, x.v]));
  assert.equal(r.json.watermark, '2026-11-22T10:55:00Z');
  const open = r.json.rows.filter((x) => x.open).map((x) => `${x.id}@${x.t}`).sort();
  assert.deepEqual(open, ['ant-1@2026-11-22T10:55:00Z', 'ant-2@2026-11-22T10:55:00Z']);

  const one = await get(`/api/windows?type=user_bytes_total&${RANGE}&id=${U('04')}`);
  assert.equal(one.status, 200, one.text);
  assert.equal(one.json.rows.length, 24);
  assert.ok(one.json.rows.every((x) => x.id === U('04') && x.name === 'fede'));
  const [{ total }] = await query(s.pg.uri, `SELECT sum(value)::text AS total FROM bytes WHERE id = $1`, [U('04')]);
  assert.equal(String(one.json.rows.reduce((a, x) => a + x.value, 0)), total);

  // Without from/to: the 6 hours up to the newest window.
  const dflt = await get('/api/windows?type=app_bytes_total');
  assert.equal(dflt.status, 200, dflt.text);
  assert.equal(dflt.json.to, '2026-11-22T11:00:00Z');
  assert.equal(dflt.json.rows.length, 48);
});

test('/api/hourly: batch where it ran (09:00), the speed roll-up elsewhere', async () => {
  const r = await get(`/api/hourly?type=antenna_bytes_total&${RANGE}`);
  assert.equal(r.status, 200, r.text);
  const batch = await query(s.pg.uri, `SELECT id, value::text AS v FROM bytes_hourly WHERE type = 'antenna_bytes_total'`);
  const speed10 = await query(s.pg.uri, `SELECT id, sum(value)::text AS v FROM bytes
    WHERE type = 'antenna_bytes_total' AND "timestamp" >= '2026-11-22 10:00' GROUP BY id`);
  const got = new Map(r.json.rows.map((x) => [`${x.id}@${x.t}`, x]));
  assert.equal(got.size, 4);
  for (const b of batch) {
    const x = got.get(`${b.id}@2026-11-22T09:00:00Z`);
    assert.equal(x.layer, 'batch');
    assert.equal(String(x.value), b.v);
    assert.equal(x.open, false);
  }
  for (const sp of speed10) {
    const x = got.get(`${sp.id}@2026-11-22T10:00:00Z`);
    assert.equal(x.layer, 'speed');
    assert.equal(String(x.value), sp.v);
    assert.equal(x.open, true, 'the 10:00 hour ends after the watermark');
  }
  // The batch layer left apps out: 09:00 is served by the speed layer for them.
  const apps = await get(`/api/hourly?type=app_bytes_total&${RANGE}&id=YOUTUBE`);
  assert.deepEqual(apps.json.rows.map((x) => x.layer), ['speed', 'speed']);
  const [{ v }] = await query(s.pg.uri, `SELECT sum(value)::text AS v FROM bytes WHERE id = 'YOUTUBE' AND "timestamp" < '2026-11-22 10:00'`);
  assert.equal(String(apps.json.rows[0].value), v);
  // A range that is not whole hours is widened to them.
  const wide = await get('/api/hourly?type=antenna_bytes_total&from=2026-11-22T09:30:00Z&to=2026-11-22T10:10:00Z');
  assert.equal(wide.json.from, '2026-11-22T09:00:00Z');
  assert.equal(wide.json.to, '2026-11-22T11:00:00Z');
});

test('/api/top: users with name and email, apps, the lambda merge of both layers', async () => {
  const r = await get(`/api/top?kind=users&${RANGE}`);
  assert.equal(r.status, 200, r.text);
  const want = await query(s.pg.uri, `
    SELECT m.id, u.name, u.email, sum(m.v)::text AS total FROM (
      SELECT id, value AS v FROM bytes_hourly WHERE type = 'user_bytes_total' AND "timestamp" = '2026-11-22 09:00'
      UNION ALL
      SELECT id, value FROM bytes WHERE type = 'user_bytes_total' AND "timestamp" >= '2026-11-22 10:00') m
    JOIN user_metadata u ON u.id = m.id GROUP BY m.id, u.name, u.email ORDER BY sum(m.v) DESC, m.id`);
  assert.deepEqual(r.json.rows.map((x) => [x.id, x.name, x.email, String(x.total)]),
    want.map((x) => [x.id, x.name, x.email, x.total]));
  assert.equal(r.json.rows[0].name, 'andres', 'the batch correction (+1000) makes andres the top user');
  // 09:30..11:00 holds only part of 09:00: the speed layer serves all of it.
  const part = await get('/api/top?kind=users&from=2026-11-22T09:30:00Z&to=2026-11-22T11:00:00Z&limit=2');
  const wantPart = await query(s.pg.uri, `SELECT id, sum(value)::text AS total FROM bytes
    WHERE type = 'user_bytes_total' AND "timestamp" >= '2026-11-22 09:30' GROUP BY id ORDER BY sum(value) DESC, id LIMIT 2`);
  assert.deepEqual(part.json.rows.map((x) => [x.id, String(x.total)]), wantPart.map((x) => [x.id, x.total]));
  assert.deepEqual(part.json.rows[0].layers, ['speed']);

  const apps = await get(`/api/top?kind=apps&${RANGE}&limit=5`);
  const wantApps = await query(s.pg.uri, `SELECT id, sum(value)::text AS total FROM bytes
    WHERE type = 'app_bytes_total' GROUP BY id ORDER BY sum(value) DESC`);
  assert.deepEqual(apps.json.rows.map((x) => [x.id, String(x.total)]), wantApps.map((x) => [x.id, x.total]));
});

test('/api/quota: user_quota_limit for hours the batch judged, else usage vs user_metadata.quota', async () => {
  const r = await get(`/api/quota?${RANGE}`);
  assert.equal(r.status, 200, r.text);
  const at9 = r.json.rows.filter((x) => x.t === '2026-11-22T09:00:00Z');
  assert.deepEqual(at9.map((x) => [x.email, x.usage, x.quota, x.layer]), [['fede@gmail.com', 7000, 5000, 'batch']]);
  const want10 = await query(s.pg.uri, `SELECT u.email, sum(b.value)::text AS usage, u.quota::text AS quota
    FROM bytes b JOIN user_metadata u ON u.id = b.id
    WHERE b.type = 'user_bytes_total' AND b."timestamp" >= '2026-11-22 10:00'
    GROUP BY u.email, u.quota HAVING sum(b.value) > u.quota ORDER BY u.email`);
  assert.ok(want10.length >= 2, 'the fixture puts juan and fede over quota at 10:00');
  const at10 = r.json.rows.filter((x) => x.t === '2026-11-22T10:00:00Z').sort((a, b) => a.email.localeCompare(b.email));
  assert.deepEqual(at10.map((x) => [x.email, String(x.usage), String(x.quota), x.layer, x.open]),
    want10.map((x) => [x.email, x.usage, x.quota, 'speed', true]));
});

test('/api/reconciliation: speed vs batch per hour, metric and key', async () => {
  const r = await get(`/api/reconciliation?${RANGE}`);
  assert.equal(r.status, 200, r.text);
  const diffs = r.json.rows.filter((x) => x.diff !== 0).map((x) => [x.type, x.id, x.diff]).sort();
  assert.deepEqual(diffs, [['antenna_bytes_total', 'ant-2', 10], ['user_bytes_total', U('01'), 1000],
    ['user_email_bytes_total', 'andres@gmail.com', 1000]]);
  assert.ok(r.json.rows.every((x) => x.t === '2026-11-22T09:00:00Z'), 'rows only for hours the batch ran');
  const h = new Map(r.json.hours.map((x) => [`${x.t}|${x.type}`, x]));
  const ant9 = h.get('2026-11-22T09:00:00Z|antenna_bytes_total');
  const [{ sp, bt }] = await query(s.pg.uri, `SELECT
    (SELECT sum(value) FROM bytes WHERE type = 'antenna_bytes_total' AND "timestamp" < '2026-11-22 10:00')::text AS sp,
    (SELECT sum(value) FROM bytes_hourly WHERE type = 'antenna_bytes_total')::text AS bt`);
  assert.deepEqual([String(ant9.speed), String(ant9.batch), ant9.batch_ran, ant9.keys_differing], [sp, bt, true, 1]);
  const ant10 = h.get('2026-11-22T10:00:00Z|antenna_bytes_total');
  assert.equal(ant10.batch, null);
  assert.equal(ant10.batch_ran, false);
});

test('/api/health: progress, lag, watermark, counts and data loss from lf_offsets', async () => {
  const r = await get('/api/health');
  assert.equal(r.status, 200, r.text);
  const [want] = await query(s.pg.uri, `SELECT sum(events)::text AS events, sum(bad)::text AS bad, sum(late)::text AS late,
    sum(lost)::text AS lost, sum(lag)::text AS lag FROM lf_offsets WHERE sink LIKE 'pg:%'`);
  assert.deepEqual(Object.fromEntries(Object.entries(r.json.totals).map(([k, v]) => [k, String(v)])), want);
  assert.equal(r.json.watermark, '2026-11-22T10:55:00Z');
  assert.deepEqual(r.json.partitions.map((p) => [p.partition, p.lag]), [[0, 3], [1, 0], [2, 11]]);
  assert.ok(r.json.last_commit_age_seconds >= 9 && r.json.last_commit_age_seconds < 120, r.json.last_commit_age_seconds);
  assert.equal(r.json.data_loss_records, 1);
  assert.deepEqual([r.json.data_loss[0].from_offset, r.json.data_loss[0].to_offset, r.json.data_loss[0].lost], [1995, 2002, 7]);
  assert.equal(r.json.dead_letters, 2);
  assert.equal(r.json.tables.bytes, 168);
  assert.equal(r.json.batch.hours, 1);
  assert.equal(r.json.last_window, '2026-11-22T10:55:00Z');
});

test('/api/events: NOTIFY lf_speed / lf_batch and polled progress reach the stream', { timeout: 60000 }, async () => {
  const es = openEventStream(`${s.url}/api/events`);
  try {
    const res = await es.response;
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /text\/event-stream/);
    await es.next((e) => e.event === 'hello');
    await sleep(500);
    await query(s.pg.uri, `SELECT pg_notify('lf_speed', 'lambdaflow-speed')`);
    const speed = await es.next((e) => e.event === 'speed', 10000);
    assert.equal(JSON.parse(speed.data).layer, 'speed');
    assert.equal(JSON.parse(speed.data).detail, 'lambdaflow-speed');
    await query(s.pg.uri, `SELECT pg_notify('lf_batch', '2026-11-22T10:00:00Z')`);
    const batch = await es.next((e) => e.event === 'batch', 10000);
    assert.equal(JSON.parse(batch.data).detail, '2026-11-22T10:00:00Z');
    // Without a notification (e.g. through a pooler that drops them): polling notices the commit.
    const before = es.events.length;
    await query(s.pg.uri, `UPDATE lf_offsets SET events = events + 600, updated_at = now() WHERE partition = 0 AND sink = 'pg:bytes'`);
    const polled = await es.next((e, i) => e.event === 'speed' && es.events.indexOf(e) >= before, 10000);
    assert.equal(JSON.parse(polled.data).detail, 'poll');
    // Ids increase.
    const ids = es.events.filter((e) => e.id).map((e) => Number(e.id));
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
    // The server measured 600 new events over its sampling window.
    const h = await waitFor(async () => {
      const r = await get('/api/health');
      return r.json.events_per_second > 0 && r.json;
    }, { timeoutMs: 10000, what: 'events_per_second > 0' });
    assert.ok(h.events_per_second <= 600, h.events_per_second);
    // A heartbeat comment every 15 s keeps proxies from closing an idle stream.
    await waitFor(() => es.comments.some((c) => c.startsWith(': heartbeat')), { timeoutMs: 20000, what: 'heartbeat' });
  } finally {
    es.close();
  }
});

test('bad parameters: HTTP 400 with a JSON message naming the parameter', async () => {
  const cases = [
    ['/api/windows', 'type'],
    ['/api/windows?type=bogus', 'type'],
    ['/api/windows?type=antenna_bytes_total&from=yesterday', 'from'],
    ['/api/windows?type=antenna_bytes_total&from=2026-11-22T10:00:00Z&to=2026-11-22T09:00:00Z', 'to'],
    ['/api/windows?type=antenna_bytes_total&from=2026-01-01T00:00:00Z&to=2026-11-22T00:00:00Z', 'from'],
    ['/api/windows?type=antenna_bytes_total&id=', 'id'],
    ['/api/windows?type=antenna_bytes_total&foo=1', 'foo'],
    ['/api/windows?type=antenna_bytes_total&type=user_bytes_total', 'type'],
    ['/api/windows?type=antenna_bytes_total%27%3B%20DROP%20TABLE%20bytes%3B--', 'type'],
    ['/api/hourly?type=antenna_bytes_total&to=notatime', 'to'],
    ['/api/hourly?type=antenna_bytes_total&from=2026-11-22T09:00:00Z&to=2027-11-22T09:00:00Z', 'from'],
    ['/api/top', 'kind'],
    ['/api/top?kind=devices', 'kind'],
    ['/api/top?kind=users&limit=0', 'limit'],
    ['/api/top?kind=users&limit=abc', 'limit'],
    ['/api/top?kind=users&limit=1001', 'limit'],
    ['/api/quota?from=2026-13-45T00:00:00Z', 'from'],
    ['/api/quota?type=user_bytes_total', 'type'],
    ['/api/reconciliation?limit=-5', 'limit'],
    ['/api/health?verbose=1', 'verbose'],
  ];
  for (const [path, param] of cases) {
    const r = await get(path);
    assert.equal(r.status, 400, `${path}: ${r.status} ${r.text}`);
    assert.match(r.headers.get('content-type'), /application\/json/, path);
    assert.ok(r.json && typeof r.json.error === 'string', `${path}: ${r.text}`);
    assert.ok(r.json.error.includes(`'${param}'`), `${path}: error should name '${param}': ${r.json.error}`);
  }
  const ev = await get('/api/events?x=1');
  assert.equal(ev.status, 400);
  // Nothing was dropped by the injection attempt.
  const [{ n }] = await query(s.pg.uri, 'SELECT count(*)::int AS n FROM bytes');
  assert.equal(n, 168);
  const unknown = await get('/api/nothing');
  assert.equal(unknown.status, 404);
  assert.ok(unknown.json.error);
});

test('static files: the embedded page, and no request leaves the asset root', async () => {
  const index = await get('/');
  assert.equal(index.status, 200);
  assert.match(index.headers.get('content-type'), /text\/html/);
  assert.match(index.text, /<script src="\/app.js"><\/script>/);
  assert.match(index.headers.get('content-security-policy'), /default-src 'self'/);
  const js = await rawRequest(s.port, ['GET /app.js HTTP/1.1']);
  assert.equal(js.status, 200);
  assert.match(js.headers['content-type'], /javascript/);
  const attempts = [
    '/../../../../etc/passwd', '/..%2f..%2f..%2fetc%2fpasswd', '/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
    '/%2E%2E/%2E%2E/etc/passwd', '/.%2e/.%2e/etc/passwd', '/%2fetc%2fpasswd', '//etc/passwd', '/etc/passwd',
    '/..%5c..%5c..%5cetc%5cpasswd', '/app.js%00.html', '/%00', '/index.html%00', '/%252e%252e/%252e%252e/etc/passwd',
    '/./app.js', '/app.js/..', '/api/../../etc/passwd', '/proc/self/environ', '/..', '/.', '/dist/app.js',
    '/web/src/app.js', '/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd', '/CMakeLists.txt',
  ];
  for (const p of attempts) {
    const r = await rawRequest(s.port, [`GET ${p} HTTP/1.1`]);
    assert.equal(r.status, 404, `${p}: ${r.status}`);
    assert.ok(!r.body.includes('root:'), `${p} leaked a file`);
  }
  // Absolute paths and absolute-form request targets.
  for (const target of ['/etc/passwd', 'http://127.0.0.1/etc/passwd', '../etc/passwd']) {
    const r = await rawRequest(s.port, [`GET ${target} HTTP/1.1`]);
    assert.ok(r.status === 404 || r.status === 400, `${target}: ${r.status}`);
    assert.ok(!r.body.includes('root:'), `${target} leaked a file`);
  }
});

test('/metrics parses as Prometheus text and matches the tables', async () => {
  // A batch run log, as the batch layer will write it: its runs and durations become metrics.
  // (provision creates it once the batch layer exists; the columns used are status and duration_ms)
  await query(s.pg.uri, `CREATE TABLE IF NOT EXISTS lf_batch_runs (hour TIMESTAMP, status TEXT, duration_ms BIGINT);
    INSERT INTO lf_batch_runs (hour, status, duration_ms) VALUES ('2026-11-22 09:00', 'ok', 1500),
      ('2026-11-22 10:00', 'ok', 2500), ('2026-11-22 10:00', 'failed', 100)`);
  const r = await get('/metrics');
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  const { families } = parsePrometheus(r.text);
  const fam = (name, type) => {
    const f = families.get(name);
    assert.ok(f, `missing family ${name}`);
    assert.equal(f.type, type, name);
    assert.ok(f.help && f.help.length > 5, `${name} has HELP`);
    return f.samples;
  };
  const one = (name, type, labels = {}) => {
    const xs = fam(name, type).filter((x) => Object.entries(labels).every(([k, v]) => x.labels[k] === v));
    assert.equal(xs.length, 1, `${name}${JSON.stringify(labels)}: ${JSON.stringify(xs)}`);
    return xs[0].value;
  };
  const [want] = await query(s.pg.uri, `SELECT sum(events)::text AS events, sum(bad)::text AS bad,
    sum(late)::text AS late, sum(lost)::text AS lost, (min(max_event_time_s) - 60)::text AS wm,
    (SELECT count(*) FROM bytes)::text AS rows FROM lf_offsets WHERE sink LIKE 'pg:%'`);
  const p = { pipeline: 'lambdaflow-speed' };
  assert.equal(String(one('lambdaflow_events_total', 'counter', p)), want.events);
  assert.equal(String(one('lambdaflow_bad_total', 'counter', p)), want.bad);
  assert.equal(String(one('lambdaflow_late_total', 'counter', p)), want.late);
  assert.equal(String(one('lambdaflow_lost_total', 'counter', p)), want.lost);
  assert.equal(String(one('lambdaflow_watermark_seconds', 'gauge', p)), want.wm);
  assert.equal(String(one('lambdaflow_table_rows', 'gauge', { table: 'bytes' })), want.rows);
  const lag = await query(s.pg.uri, `SELECT partition::text AS p, lag::text AS lag FROM lf_offsets WHERE sink LIKE 'pg:%' ORDER BY partition`);
  for (const row of lag) assert.equal(String(one('lambdaflow_consumer_lag', 'gauge', { partition: row.p })), row.lag);
  const age = one('lambdaflow_last_commit_age_seconds', 'gauge', p);
  assert.ok(age >= 0 && age < 300, age);
  assert.equal(one('lambdaflow_dead_letters', 'gauge'), 2);
  assert.equal(one('lambdaflow_data_loss_records', 'gauge'), 1);
  assert.equal(one('lambdaflow_batch_hours', 'gauge'), 1);
  assert.equal(one('lambdaflow_batch_runs_total', 'counter', { status: 'ok' }), 2);
  assert.equal(one('lambdaflow_batch_runs_total', 'counter', { status: 'failed' }), 1);
  assert.equal(one('lambdaflow_batch_run_duration_seconds_total', 'counter', { status: 'ok' }), 4);
  // The parser itself refuses what the format forbids (so a pass above means something).
  for (const bad of ['x 1', '# TYPE x counter\nx{a="1} 2\n', '# TYPE x counter\nx -1\n', '# TYPE x gauge\nx one\n',
    '# TYPE x gauge\nx 1\nx 2\n', '# TYPE x gauge\nx{a="\\q"} 1\n', 'y 1\n']) {
    assert.throws(() => parsePrometheus(bad), undefined, JSON.stringify(bad));
  }
});

test('an ok run in lf_batch_runs makes the hour the batch layer\'s, even without rows', async () => {
  // The /metrics test above recorded ok runs for 09:00 and 10:00; bytes_hourly and user_quota_limit
  // have nothing for 10:00, so the batch layer says: no traffic, nobody over quota.
  const hourly = await get(`/api/hourly?type=antenna_bytes_total&${RANGE}`);
  assert.equal(hourly.status, 200, hourly.text);
  assert.deepEqual([...new Set(hourly.json.rows.map((x) => `${x.t} ${x.layer}`))], ['2026-11-22T09:00:00Z batch']);
  const quota = await get(`/api/quota?${RANGE}`);
  assert.deepEqual(quota.json.rows.map((x) => [x.t, x.email, x.layer]), [['2026-11-22T09:00:00Z', 'fede@gmail.com', 'batch']]);
  // A failed run alone does not count: without the ok run, 10:00 is the speed layer's again
  // (and 09:00 stays the batch layer's, which wrote no app rows).
  await query(s.pg.uri, `DELETE FROM lf_batch_runs WHERE hour = '2026-11-22 10:00' AND status = 'ok'`);
  const apps = await get(`/api/hourly?type=app_bytes_total&${RANGE}&id=SKYPE`);
  assert.deepEqual(apps.json.rows.map((x) => [x.t, x.layer]), [['2026-11-22T10:00:00Z', 'speed']]);
  const [{ v }] = await query(s.pg.uri, `SELECT sum(value)::text AS v FROM bytes WHERE id = 'SKYPE' AND "timestamp" >= '2026-11-22 10:00'`);
  assert.equal(String(apps.json.rows[0].value), v);
});

test('--auth-token: bearer or cookie required, /?token= sets the cookie, /healthz stays open', async () => {
  const authed = await startServe(scope, s.pg.uri, ['--auth-token', 's3cret-token']);
  const at = (path, headers = {}) => fetch(authed.url + path, { headers, redirect: 'manual' });
  assert.equal((await at('/api/health')).status, 401);
  assert.equal((await at('/')).status, 401);
  assert.equal((await at('/metrics')).status, 401);
  assert.equal((await at('/api/health', { Authorization: 'Bearer wrong-token!' })).status, 401);
  assert.equal((await at('/api/health', { Authorization: 'Bearer s3cret-token' })).status, 200);
  assert.equal((await at('/metrics', { Authorization: 'Bearer s3cret-token' })).status, 200);
  assert.equal((await at('/healthz')).status, 200);
  assert.equal((await at('/?token=nope')).status, 401);
  const login = await at('/?token=s3cret-token');
  assert.equal(login.status, 303);
  assert.equal(login.headers.get('location'), '/');
  const cookie = login.headers.get('set-cookie');
  assert.match(cookie, /lf_token=s3cret-token/);
  assert.match(cookie, /HttpOnly/);
  const page = await at('/', { Cookie: cookie.split(';')[0] });
  assert.equal(page.status, 200);
  assert.equal((await at('/api/health', { Cookie: 'lf_token=s3cret-tokeX' })).status, 401);
  // The token is scrubbed from the process list and never shows in the logs.
  const cmdline = fs.readFileSync(`/proc/${authed.proc.pid}/cmdline`, 'utf8');
  assert.ok(cmdline.includes('--auth-token') && !cmdline.includes('s3cret-token'), cmdline);
  await authed.proc.stop();
  assert.ok(!authed.proc.output.includes('s3cret-token'), authed.proc.output);
});

test('a database that was never provisioned: 503 naming the missing table and the fix', async () => {
  await query(s.pg.uri, 'CREATE DATABASE unprovisioned');
  const bare = await startServe(scope, s.pg.withDatabase('unprovisioned'));
  const health = await fetch(`${bare.url}/api/health`);
  assert.equal(health.status, 503);
  const body = await health.json();
  assert.match(body.error, /lf_offsets" does not exist.*lambdaflow provision/s);
  assert.equal((await fetch(`${bare.url}/healthz`)).status, 200, 'PostgreSQL itself answers');
  const metrics = await fetch(`${bare.url}/metrics`);
  assert.equal(metrics.status, 503);
  assert.equal((await metrics.text()).trim().split('\n').length, 1);
  await bare.proc.stop();
  assert.equal(bare.proc.exitInfo.code, 0);
});

test('/healthz is 503 when PostgreSQL is gone; SIGTERM ends serve cleanly with a stream open', { timeout: 60000 }, async () => {
  const es = openEventStream(`${s.url}/api/events`);
  await es.next((e) => e.event === 'hello');
  await s.pg.stop();
  const r = await get('/healthz');
  assert.equal(r.status, 503, r.text);
  assert.match(r.text, /unavailable/);
  const api = await get('/api/health');
  assert.ok(api.status >= 500, `${api.status}`);
  const started = Date.now();
  s.serve.kill('SIGTERM');
  const exit = await s.serve.wait(15000);
  assert.equal(exit.code, 0, exit.stderr);
  assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
  await es.done.catch(() => {});
  es.close();
});
