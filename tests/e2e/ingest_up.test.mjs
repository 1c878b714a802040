// `lambdaflow up` with the FarmIA pipelines: it writes sample files into STORAGE/landing
// (`generate farmia --faults`), starts the embedded broker and `lambdaflow registry`, produces
// Avro sales orders through them, and runs `ingest --watch` over both; /api/ingest equals SQL over
// the manifest and lf_offsets; the dashboard's Ingestion tab (headless Chromium) shows the same figures, and a
// file dropped into the landing afterwards reaches the open page without a reload; SIGTERM stops
// everything.

import { test, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { chromium } from 'playwright-core';
import { Scope, SOURCE_DIR, ARTIFACTS_DIR, query, waitFor, WaitAbort } from '../lib/harness.mjs';
import { overflows } from '../lib/browser.mjs';

const CHROMIUM = process.env.LF_CHROMIUM ?? '/usr/bin/chromium';
const scope = new Scope('ingest_up');
after(() => scope.cleanup());
afterEach((t) => scope.noteResult(t));

const DATASETS = ['iot_sensors', 'inventory', 'suppliers', 'weather'];

// Per pipeline from the manifest, by SQL.
const manifest = (pg) => query(pg, `SELECT pipeline, count(*) FILTER (WHERE status = 'ok')::int AS files,
  count(*) FILTER (WHERE status <> 'ok')::int AS error_files, sum(rows)::text AS rows, sum(bad_rows)::text AS bad_rows
  FROM lf_ingested_files GROUP BY pipeline ORDER BY pipeline`);

test('up runs the FarmIA landing pipelines; the Ingestion tab shows the manifest live', { timeout: 300000 }, async () => {
  assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} missing: run scripts/install-deps.sh`);
  const tmp = scope.tmpdir();
  fs.chmodSync(tmp, 0o755); // PostgreSQL (as user postgres under root) lives inside it
  const storage = path.join(tmp, 'data');
  const up = scope.start(['up', '--storage', storage, '--listen', '127.0.0.1:0',
    ...[...DATASETS, 'sales_orders'].flatMap((d) => ['--pipeline', path.join(SOURCE_DIR, `pipelines/farmia/${d}.yaml`)])],
  { name: 'up' });
  const dashboard = (await up.waitForLine(/dashboard:\s+(http\S+)/, 120000))[1].replace(/\/$/, '');
  const pg = (await up.waitForLine(/PostgreSQL:\s+(postgresql\S+)/, 10000))[1];
  assert.match(up.stdout, /broker:\s+127\.0\.0\.1:\d+ \(topic sales_orders\)/);
  assert.match(up.stdout, /registry:\s+http:\/\/127\.0\.0\.1:\d+/);
  assert.match(up.stdout, /landing:\s+\S+\/landing/);
  const alive = () => { if (!up.running) throw new WaitAbort(`up exited: ${up.stderr.slice(-2000)}`); };
  // generate farmia writes 3 files per dataset, one suppliers file, an empty and a non-UTF-8 CSV.
  await waitFor(async () => {
    alive();
    const r = await query(pg, 'SELECT count(*)::int AS n FROM lf_ingested_files').catch(() => [{ n: 0 }]);
    return r[0].n >= 12;
  }, { timeoutMs: 120000, what: 'the generated files in the manifest' });
  const want = await manifest(pg);
  assert.deepEqual(want.map((r) => r.pipeline), DATASETS.map((d) => `farmia_${d}`).sort());
  assert.equal(want.find((r) => r.pipeline === 'farmia_iot_sensors').error_files, 2, 'the empty and the non-UTF-8 file');
  const api = await (await fetch(`${dashboard}/api/ingest`)).json();
  assert.deepEqual(api.pipelines.map((p) => [p.pipeline, p.files, p.error_files, String(p.rows), String(p.bad_rows)]),
    want.map((r) => [r.pipeline, r.files, r.error_files, r.rows, r.bad_rows]));
  assert.ok(api.recent.length >= 12);
  // The Avro orders: 500 valid, a JSON message and one with an unknown schema id (--faults).
  await waitFor(async () => {
    alive();
    const r = await query(pg, `SELECT coalesce(sum(events), 0)::int AS n, coalesce(sum(bad), 0)::int AS bad
      FROM lf_offsets WHERE sink = 'pg:farmia_sales_orders'`);
    return r[0].n === 500 && r[0].bad === 2;
  }, { timeoutMs: 90000, what: '500 orders and 2 bad messages' });
  const topics = (await (await fetch(`${dashboard}/api/ingest`)).json()).topics;
  assert.deepEqual(topics.map((t) => [t.pipeline, t.topic, t.rows, t.bad_rows]), [['farmia_sales_orders', 'sales_orders', 500, 2]]);
  // Every landing file moved out of the way.
  const left = DATASETS.flatMap((d) => fs.readdirSync(path.join(storage, 'landing', d)));
  assert.deepEqual(left, []);

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
  scope.defer(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  let navigations = 0;
  page.on('framenavigated', (f) => f === page.mainFrame() && (navigations += 1));
  // No telecom data and no metric pipeline: the dashboard opens on the Ingestion tab.
  await page.goto(`${dashboard}/`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 20000 });
  assert.equal(await page.evaluate(() => document.body.dataset.page), 'ingest');
  // Landing pipelines' rows (files counted), then the topics' (rows and bad messages).
  const shown = () => page.evaluate(() => [...document.querySelectorAll('[data-testid="ingest-pipelines"] tbody tr')]
    .filter((tr) => tr.children[1].dataset.value !== undefined)
    .map((tr) => [tr.children[0].textContent, ...[1, 2, 3, 4].map((i) => tr.children[i].dataset.value)]));
  const shownTopics = () => page.evaluate(() => [...document.querySelectorAll('[data-testid="ingest-pipelines"] tbody tr')]
    .filter((tr) => tr.children[1].dataset.value === undefined)
    .map((tr) => [tr.children[0].textContent, tr.children[1].textContent, tr.children[3].dataset.value, tr.children[4].dataset.value]));
  assert.deepEqual(await shown(), want.map((r) => [r.pipeline, String(r.files), String(r.error_files), r.rows, r.bad_rows]));
  assert.deepEqual(await shownTopics(), [['farmia_sales_orders', 'topic sales_orders', '500', '2']]);
  assert.deepEqual(await overflows(page), []);
  fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS_DIR, 'ingest.png'), fullPage: true });

  // A new file in the landing: taken, and on the open page without a reload.
  const extra = path.join(storage, 'landing', 'suppliers', 'late_suppliers.csv');
  fs.writeFileSync(`${extra}.tmp`, 'supplier_id,name,country,rating\nSUPX1,"Nueva, S.A.",ES,4.5\nSUPX2,Otra,PT,\n');
  fs.renameSync(`${extra}.tmp`, extra);
  await waitFor(async () => {
    alive();
    const rows = await shown();
    return rows.find((r) => r[0] === 'farmia_suppliers')?.[3] === String(Number(want.find((r) => r.pipeline === 'farmia_suppliers').rows) + 2);
  }, { timeoutMs: 60000, what: 'the new supplier rows on the page' });
  const after2 = await manifest(pg);
  assert.deepEqual(await shown(), after2.map((r) => [r.pipeline, String(r.files), String(r.error_files), r.rows, r.bad_rows]));
  assert.equal(navigations, 1, 'no reload');
  assert.deepEqual(errors, []);

  up.kill('SIGTERM');
  const r = await up.wait(120000);
  assert.equal(r.code, 0, r.stderr.slice(-2000));
  const ps = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).split('\n')
    .filter((l) => l.includes(storage) && !l.includes('ps -eo'));
  assert.deepEqual(ps, [], 'no process left behind');
});
